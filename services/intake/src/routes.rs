//! The one route table.

mod bulk_import;
mod cancel;
mod entities;
pub mod health;
mod metrics;
mod operations;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware::{from_fn, from_fn_with_state};
use axum::routing::{get, post};

use crate::idempotency::idempotency;
use crate::middleware::{finish, negotiate, tag_route};
use crate::problem::ApiError;
use crate::state::AppState;

/// Every route the intake serves, and what runs around them.
pub fn router(state: AppState) -> Router {
    let body_limit = usize::try_from(state.settings().http.max_body_bytes).unwrap_or(usize::MAX);
    let idempotent = from_fn_with_state(state.clone(), idempotency);
    Router::new()
        .route(
            "/api/sampleentities",
            post(entities::create).route_layer(idempotent.clone()),
        )
        .route("/api/sampleentities/{id}", get(entities::show))
        .route(
            "/api/sampleentities/bulk-import",
            post(bulk_import::submit).route_layer(idempotent),
        )
        .route("/api/operations", get(operations::list))
        .route(
            "/api/operations/{id}",
            get(operations::show).delete(cancel::cancel),
        )
        .route("/health/live", get(health::live))
        .route("/health/ready", get(health::ready))
        .route("/metrics", get(metrics::render))
        .route_layer(from_fn(tag_route))
        .fallback(|| async { ApiError::not_found("resource") })
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(from_fn(negotiate))
        .layer(from_fn_with_state(state.clone(), finish))
        .with_state(state)
}
