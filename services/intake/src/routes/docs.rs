//! The OpenAPI document: generated from the handlers' `#[utoipa::path]` attributes as the
//! router is built, so every API route served is documented and nothing else is (the
//! console under `/ui` is a page for people, not part of the API).

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use utoipa::{IntoParams, OpenApi};
use uuid::Uuid;

use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "participant",
        description = "An event-driven participant: long work is accepted with 202, run by JetStream workers and followed at /api/operations/{id}."
    ),
    tags(
        (name = "operations", description = "Long-running operations"),
        (name = "sample entities", description = "The sample domain"),
        (name = "health", description = "Health, metrics and this document"),
    )
)]
pub struct ApiDoc;

/// Headers every `/api` request carries.
#[derive(IntoParams)]
#[into_params(parameter_in = Header)]
#[expect(
    dead_code,
    reason = "describes headers for the OpenAPI document; never built"
)]
pub struct TenantHeader {
    /// The tenant (a UUID); another tenant's resources are `404`.
    #[param(rename = "X-Tenant-Id")]
    x_tenant_id: Uuid,
    /// Echoed on the answer and carried into jobs, events and webhooks; generated if absent.
    #[param(rename = "X-Correlation-Id")]
    x_correlation_id: Option<String>,
}

#[derive(IntoParams)]
#[into_params(parameter_in = Header)]
#[expect(
    dead_code,
    reason = "describes headers for the OpenAPI document; never built"
)]
pub struct IdempotencyHeader {
    /// 1 to 255 printable ASCII characters; the first answer is replayed for a repeat.
    #[param(rename = "Idempotency-Key")]
    idempotency_key: Option<String>,
}

#[derive(IntoParams)]
#[into_params(parameter_in = Header)]
#[expect(
    dead_code,
    reason = "describes headers for the OpenAPI document; never built"
)]
pub struct CallbackHeaders {
    /// Where to push lifecycle webhooks (https; public addresses only).
    #[param(rename = "X-Callback-Url")]
    x_callback_url: Option<String>,
    /// Comma list of `completed`, `failed`, `cancelled`; default `completed,failed`.
    #[param(rename = "X-Callback-Events")]
    x_callback_events: Option<String>,
}

#[derive(IntoParams)]
#[into_params(parameter_in = Header)]
#[expect(
    dead_code,
    reason = "describes headers for the OpenAPI document; never built"
)]
pub struct PreferHeader {
    /// RFC 7240 preferences; `poll=location` points the `202`'s `Location` at the
    /// operation's `result` view, for pollers that follow `Location` while `202`.
    #[param(rename = "Prefer")]
    prefer: Option<String>,
}

#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "health",
    responses((status = 200, description = "This document (OpenAPI 3.1)", body = serde_json::Value))
)]
pub async fn openapi(State(state): State<AppState>) -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        state.openapi_json().to_owned(),
    )
        .into_response()
}
