//! The one route table.

mod bulk_import;
mod entities;
mod health;
mod operations;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware::from_fn;
use axum::routing::{get, post};

use crate::middleware::{finish, negotiate};
use crate::problem::ApiError;
use crate::state::AppState;

/// Every route the intake serves, and what runs around them.
pub fn router(state: AppState) -> Router {
    let body_limit = usize::try_from(state.settings().http.max_body_bytes).unwrap_or(usize::MAX);
    Router::new()
        .route("/api/sampleentities", post(entities::create))
        .route("/api/sampleentities/{id}", get(entities::show))
        .route("/api/sampleentities/bulk-import", post(bulk_import::submit))
        .route("/api/operations", get(operations::list))
        .route("/api/operations/{id}", get(operations::show))
        .route("/health/live", get(health::live))
        .route("/health/ready", get(health::ready))
        .fallback(|| async { ApiError::not_found("resource") })
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(from_fn(negotiate))
        .layer(from_fn(finish))
        .with_state(state)
}
