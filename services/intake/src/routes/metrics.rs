//! `GET /metrics`: Prometheus text, with the workers' backlog and the dependencies' health
//! read fresh at each scrape.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};

use crate::backlog;
use crate::routes::health::{check_nats, check_valkey};
use crate::state::AppState;

const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[utoipa::path(get, path = "/metrics", tag = "health", responses((status = 200, description = "Prometheus text format", body = String, content_type = "application/openmetrics-text")))]
pub async fn render(State(state): State<AppState>) -> Response {
    let deps = state.deps();
    let (nats, valkey, backlog) = tokio::join!(
        check_nats(&state),
        check_valkey(&state),
        backlog::jobs(deps)
    );
    deps.metrics.dependency("nats", nats.is_ok());
    deps.metrics.dependency("valkey", valkey.is_ok());
    if let Ok(backlog) = backlog {
        deps.metrics
            .jobs_pending
            .set(i64::try_from(backlog.pending).unwrap_or(i64::MAX));
        deps.metrics
            .jobs_ack_pending
            .set(i64::try_from(backlog.ack_pending).unwrap_or(i64::MAX));
    }
    ([(header::CONTENT_TYPE, OPENMETRICS)], deps.metrics.render()).into_response()
}
