//! `GET /api/operations/{id}/result`: the view for pollers that follow `Location` while the
//! answer is `202` and take the first other answer as the outcome (Durable Functions'
//! `CallHttpAsync`, Logic Apps, Power Automate, ARM `Location` polling; contract §3a).

use axum::extract::{OriginalUri, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use shared::contract::{OperationStatus, Problem, StatusDocument};

use crate::accept::absolute_url;
use crate::context::RequestContext;
use crate::problem::ApiError;
use crate::routes::docs::TenantHeader;
use crate::routes::operations::{document_response, find};
use crate::state::AppState;

/// Not ended: `202` pointing back here. Completed: `200` with the document. Failed or
/// cancelled: a `424` problem carrying the document in `operation`.
#[utoipa::path(
    get,
    path = "/api/operations/{id}/result",
    tag = "operations",
    params(TenantHeader, ("id" = String, Path, description = "Operation id")),
    responses(
        (status = 200, description = "Completed: the status document", body = StatusDocument),
        (status = 202, description = "Not ended: the status document, with `Location` (this view) and `Retry-After`", body = StatusDocument),
        (status = 404, description = "Unknown, or another tenant's", content_type = "application/problem+json", body = Problem),
        (status = 424, description = "Failed (`operation-failed`) or cancelled (`operation-cancelled`); the document is in `operation`", content_type = "application/problem+json", body = Problem),
    )
)]
pub async fn result(
    State(state): State<AppState>,
    ctx: RequestContext,
    Path(id): Path<String>,
    OriginalUri(uri): OriginalUri,
    request_headers: HeaderMap,
) -> Result<Response, ApiError> {
    let record = find(&state, ctx.tenant, &id).await?;
    let document = &record.document();
    match document.status {
        OperationStatus::Completed => Ok(document_response(StatusCode::OK, &record)),
        OperationStatus::Failed => Err(ended_without_result(
            "operation-failed",
            document.error.as_ref().map_or_else(
                || "The operation failed.".to_owned(),
                |problem| format!("The operation failed: {}", problem.detail),
            ),
            document,
        )),
        OperationStatus::Cancelled => Err(ended_without_result(
            "operation-cancelled",
            "The operation was cancelled.".to_owned(),
            document,
        )),
        OperationStatus::Accepted | OperationStatus::Running => {
            let mut response = document_response(StatusCode::ACCEPTED, &record);
            let here = absolute_url(&request_headers, &state, uri.path());
            if let Ok(location) = HeaderValue::from_str(&here) {
                response.headers_mut().insert(header::LOCATION, location);
            }
            Ok(response)
        }
    }
}

fn ended_without_result(code: &str, detail: String, document: &StatusDocument) -> ApiError {
    ApiError::new(StatusCode::FAILED_DEPENDENCY, code, detail).with_operation(document)
}
