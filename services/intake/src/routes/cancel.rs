//! `DELETE /api/operations/{id}`: best-effort cancellation (contract §2).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use shared::clock;
use shared::event::{Event, EventKind};
use shared::store::CancelOutcome;

use shared::contract::{Problem, StatusDocument};

use crate::context::{RequestContext, id_in_path};
use crate::problem::ApiError;
use crate::routes::docs::TenantHeader;
use crate::routes::operations::document_response;
use crate::state::AppState;

/// Not started: `cancelled` at once (`200`). Running: `202` with `cancelRequested`, and a
/// notice on NATS so the owning worker stops at its next checkpoint at once rather than
/// when it next reads the flag. Already cancelled: `200`. Completed or failed: `409`.
#[utoipa::path(
    delete,
    path = "/api/operations/{id}",
    tag = "operations",
    params(TenantHeader, ("id" = String, Path, description = "Operation id")),
    responses(
        (status = 200, description = "Cancelled (now, or before)", body = StatusDocument),
        (status = 202, description = "Running: the cancel was requested", body = StatusDocument),
        (status = 404, description = "Unknown, or another tenant's", content_type = "application/problem+json", body = Problem),
        (status = 409, description = "Already completed or failed", content_type = "application/problem+json", body = Problem),
    )
)]
pub async fn cancel(
    State(state): State<AppState>,
    ctx: RequestContext,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = id_in_path(&id, "operation")?;
    let deps = state.deps();
    match deps
        .store
        .cancel(ctx.tenant, id, clock::now_millis())
        .await?
    {
        CancelOutcome::Cancelled(record) => {
            deps.metrics.operation("cancelled");
            let event = Event::of(EventKind::Cancelled, record.document());
            if let Err(error) = state.events().publish(&event).await {
                tracing::warn!(%error, operation = %id, "cancelled event not stored yet; the worker that receives the job will publish it");
            }
            Ok(document_response(StatusCode::OK, &record))
        }
        CancelOutcome::Requested(record) => {
            if let Err(error) = deps
                .nats
                .publish(deps.names.cancel_subject(id), bytes::Bytes::new())
                .await
            {
                tracing::warn!(%error, operation = %id, "cancel notice not sent; the worker sees the flag at its next checkpoint");
            }
            Ok(document_response(StatusCode::ACCEPTED, &record))
        }
        CancelOutcome::AlreadyCancelled(record) => Ok(document_response(StatusCode::OK, &record)),
        CancelOutcome::AlreadyEnded(record) => Err(ApiError::conflict(
            "operation-ended",
            format!(
                "The operation is already {}; it cannot be cancelled.",
                record.status.as_str()
            ),
        )),
        CancelOutcome::NotFound => Err(ApiError::not_found("operation")),
    }
}
