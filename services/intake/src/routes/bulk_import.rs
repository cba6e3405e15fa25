//! `POST /api/sampleentities/bulk-import`: long-running; `202 Accepted` once the job is in
//! JetStream.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use shared::clock;
use shared::contract::{FieldError, KIND_BULK_IMPORT, OperationStatus, headers};
use uuid::Uuid;

use shared::contract::Problem;
use utoipa::ToSchema;

use crate::body::JsonBody;
use crate::context::RequestContext;
use crate::problem::ApiError;
use crate::routes::docs::{CallbackHeaders, IdempotencyHeader, TenantHeader};
use crate::state::AppState;
use crate::{accept, callback_target};

/// Most items one import may carry.
pub const MAX_ITEMS: usize = 100_000;
/// Seconds a client should wait between polls of a running operation.
pub const POLL_AFTER_SECS: u64 = 1;

#[derive(Deserialize)]
pub struct BulkImportRequest {
    items: Option<Box<RawValue>>,
}

/// The `202` body (contract §3).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Accepted {
    operation_id: Uuid,
    status: OperationStatus,
    status_url: String,
    estimated_completion_time: String,
}

/// Starts an import: `202` once its job is durably queued.
#[utoipa::path(
    post,
    path = "/api/sampleentities/bulk-import",
    tag = "operations",
    params(TenantHeader, IdempotencyHeader, CallbackHeaders),
    request_body(content = serde_json::Value, description = "`{\"items\": [{\"name\": ...}, ...]}`, 1 to 100000 objects"),
    responses(
        (status = 202, description = "Accepted; `Location` and `Operation-Location` give the status URL", body = Accepted),
        (status = 400, description = "Not an envelope of 1..=100000 objects, or a refused callback", content_type = "application/problem+json", body = Problem),
        (status = 409, description = "A request with this Idempotency-Key is in flight", content_type = "application/problem+json", body = Problem),
        (status = 413, description = "Over the body limit", content_type = "application/problem+json", body = Problem),
        (status = 415, description = "Not JSON", content_type = "application/problem+json", body = Problem),
        (status = 422, description = "Idempotency-Key used for another request", content_type = "application/problem+json", body = Problem),
        (status = 503, description = "NATS or Valkey unavailable; see Retry-After", content_type = "application/problem+json", body = Problem),
    )
)]
pub async fn submit(
    State(state): State<AppState>,
    ctx: RequestContext,
    request_headers: HeaderMap,
    JsonBody(request): JsonBody<BulkImportRequest>,
) -> Result<Response, ApiError> {
    let items = envelope_items(request)?;
    let policy = state.settings().callbacks.address_policy();
    let callback = callback_target::from_headers(&request_headers, &policy).await?;
    let count = items.len() as u64;
    let record = accept::accept(&state, &ctx, KIND_BULK_IMPORT, &items, callback).await?;
    let id = record.document.operation_id;

    let status_url = format!("/api/operations/{id}");
    let absolute = absolute_url(&request_headers, &state, &status_url);
    let created = clock::now_millis();
    let body = Accepted {
        operation_id: id,
        status: OperationStatus::Accepted,
        status_url,
        estimated_completion_time: clock::rfc3339(created + estimate_millis(count)),
    };
    let mut response = (StatusCode::ACCEPTED, Json(body)).into_response();
    let response_headers = response.headers_mut();
    if let Ok(location) = HeaderValue::from_str(&absolute) {
        response_headers.insert(header::LOCATION, location.clone());
        response_headers.insert(headers::OPERATION_LOCATION, location);
    }
    response_headers.insert(header::RETRY_AFTER, HeaderValue::from(POLL_AFTER_SECS));
    Ok(response)
}

/// The envelope check (§3): `items` is an array of 1..=100000 JSON objects. Each item's
/// own fields are the worker's to judge.
fn envelope_items(request: BulkImportRequest) -> Result<Vec<Box<RawValue>>, ApiError> {
    let invalid = |pointer: &str, detail: &str| {
        ApiError::validation(vec![FieldError {
            pointer: pointer.into(),
            detail: detail.into(),
        }])
    };
    let raw = request
        .items
        .ok_or_else(|| invalid("/items", "items is required"))?;
    let items: Vec<Box<RawValue>> = serde_json::from_str(raw.get())
        .map_err(|_| invalid("/items", "items must be an array of objects"))?;
    if items.is_empty() || items.len() > MAX_ITEMS {
        return Err(invalid(
            "/items",
            &format!("items must hold 1 to {MAX_ITEMS} objects"),
        ));
    }
    let not_objects: Vec<FieldError> = items
        .iter()
        .enumerate()
        .filter(|(_, item)| !item.get().starts_with('{'))
        .take(100)
        .map(|(index, _)| FieldError {
            pointer: format!("/items/{index}"),
            detail: "each item must be a JSON object".into(),
        })
        .collect();
    if !not_objects.is_empty() {
        return Err(ApiError::validation(not_objects));
    }
    Ok(items)
}

/// A rough guess for `estimatedCompletionTime`: a second, plus time per item.
fn estimate_millis(items: u64) -> i64 {
    i64::try_from(1_000 + items / 10).unwrap_or(i64::MAX)
}

/// The absolute URL of `path` on this intake, as the client addressed it.
fn absolute_url(request_headers: &HeaderMap, state: &AppState, path: &str) -> String {
    let host = request_headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map_or_else(|| state.settings().http.listen.to_string(), str::to_owned);
    let scheme = if state.settings().tls.cert.is_some() {
        "https"
    } else {
        "http"
    };
    format!("{scheme}://{host}{path}")
}
