//! The operator's console under `/ui`: the page of every view, its files, and the one
//! answer it needs that the API does not give, the queue counts of `GET /ui/api/service`.
//! None of it is part of the API contract, so none of it is in the OpenAPI document.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderName, HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};
use serde::Serialize;

use crate::backlog::{self, DeadLetters, JobsBacklog};
use crate::console_files::{self, CONTENT_SECURITY_POLICY};
use crate::problem::ApiError;
use crate::state::AppState;

/// The page; its modules read the view from the address.
pub async fn page() -> Response {
    with_console_headers(Html(console_files::PAGE).into_response())
}

/// `/ui/assets/{name}`: a stylesheet or a JavaScript module of the page.
pub async fn asset(Path(name): Path<String>) -> Result<Response, ApiError> {
    let asset = console_files::asset(&name).ok_or_else(|| ApiError::not_found("console file"))?;
    let response = ([(header::CONTENT_TYPE, asset.content_type)], asset.body).into_response();
    Ok(with_console_headers(response))
}

/// What the service view shows beside readiness.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceCounts {
    jobs: JobsBacklog,
    dead_letters: DeadLetters,
}

/// `/ui/api/service`: the workers' backlog and the dead letters, read from JetStream now;
/// `503` when it does not answer.
pub async fn service(State(state): State<AppState>) -> Result<Json<ServiceCounts>, ApiError> {
    let deps = state.deps();
    let (jobs, dead_letters) = tokio::join!(backlog::jobs(deps), backlog::dead_letters(deps));
    let unavailable = |cause| ApiError::unavailable("JetStream", cause);
    Ok(Json(ServiceCounts {
        jobs: jobs.map_err(unavailable)?,
        dead_letters: dead_letters.map_err(unavailable)?,
    }))
}

/// The console's files change with the binary, so they are revalidated on every load; the
/// policy keeps the page to its own files and its own origin.
fn with_console_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    let set = [
        (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::CACHE_CONTROL, "no-cache"),
    ];
    for (name, value) in set {
        headers.insert::<HeaderName>(name, HeaderValue::from_static(value));
    }
    response
}
