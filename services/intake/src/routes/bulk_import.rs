//! `POST /api/sampleentities/bulk-import`: long-running; `202 Accepted` once the job is in
//! JetStream.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use serde::Deserialize;
use serde_json::value::RawValue;
use shared::contract::{FieldError, Problem};
use shared::ids::OperationId;
use shared::job::Job;

use crate::accept::{self, Accepted, Plan};
use crate::body::JsonBody;
use crate::callback_target;
use crate::context::RequestContext;
use crate::problem::ApiError;
use crate::routes::docs::{CallbackHeaders, IdempotencyHeader, PreferHeader, TenantHeader};
use crate::state::AppState;

/// Most items one import may carry.
pub const MAX_ITEMS: usize = 100_000;

#[derive(Deserialize)]
pub struct BulkImportRequest {
    items: Option<Box<RawValue>>,
}

/// Starts an import: `202` once its job is durably queued.
#[utoipa::path(
    post,
    path = "/api/sampleentities/bulk-import",
    tag = "operations",
    params(TenantHeader, IdempotencyHeader, CallbackHeaders, PreferHeader),
    request_body(content = serde_json::Value, description = "`{\"items\": [{\"name\": ...}, ...]}`, 1 to 100000 objects"),
    responses(
        (status = 202, description = "Accepted, after the JetStream PubAck", body = Accepted, headers(
            ("Location" = String, description = "The absolute URL of the status document; of `/api/operations/{id}/result` under `Prefer: poll=location`"),
            ("Operation-Location" = String, description = "The absolute URL of the Azure status monitor, `/api/operations/{id}/monitor`"),
            ("Azure-AsyncOperation" = String, description = "The same as `Operation-Location`"),
            ("Retry-After" = u64, description = "Seconds before the first poll"),
            ("Preference-Applied" = String, description = "`poll=location` when that preference was applied"),
        )),
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
    let items = envelope_items(&request)?;
    let callback = callback_target::from_headers(&request_headers, state.callback_policy()).await?;
    let plan = Plan {
        job: Job::BulkImport {
            operation_id: OperationId::generate(),
            tenant_id: ctx.tenant,
        },
        items: &items,
        total: items.len() as u64,
        callback,
    };
    let record = accept::accept(&state, &ctx, plan).await?;
    Ok(accept::accepted_response(&state, &request_headers, &record))
}

/// The envelope check (§3): `items` is an array of 1..=100000 JSON objects. Each item's
/// own fields are the worker's to judge. The items borrow the request's text.
fn envelope_items(request: &BulkImportRequest) -> Result<Vec<&RawValue>, ApiError> {
    let invalid = |pointer: &str, detail: &str| {
        ApiError::validation(vec![FieldError {
            pointer: pointer.into(),
            detail: detail.into(),
        }])
    };
    let raw = request
        .items
        .as_deref()
        .ok_or_else(|| invalid("/items", "items is required"))?;
    let items: Vec<&RawValue> = serde_json::from_str(raw.get())
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
