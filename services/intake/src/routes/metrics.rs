//! `GET /metrics`: Prometheus text, with the workers' backlog and the dependencies' health
//! read fresh at each scrape.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use shared::connect::DEADLINE;

use crate::routes::health::{check_nats, check_valkey};
use crate::state::AppState;

const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[utoipa::path(get, path = "/metrics", tag = "health", responses((status = 200, description = "Prometheus text format", body = String, content_type = "application/openmetrics-text")))]
pub async fn render(State(state): State<AppState>) -> Response {
    let deps = state.deps();
    let (nats, valkey, backlog) = tokio::join!(check_nats(&state), check_valkey(&state), async {
        let consumer = deps
            .jetstream
            .get_consumer_from_stream::<async_nats::jetstream::consumer::pull::Config, _, _>(
                deps.names.workers_consumer(),
                deps.names.jobs_stream(),
            );
        tokio::time::timeout(DEADLINE, consumer).await.ok()?.ok()
    });
    deps.metrics.dependency("nats", nats.is_ok());
    deps.metrics.dependency("valkey", valkey.is_ok());
    if let Some(consumer) = backlog {
        let info = consumer.cached_info();
        deps.metrics
            .jobs_pending
            .set(i64::try_from(info.num_pending).unwrap_or(i64::MAX));
        deps.metrics
            .jobs_ack_pending
            .set(i64::try_from(info.num_ack_pending).unwrap_or(i64::MAX));
    }
    ([(header::CONTENT_TYPE, OPENMETRICS)], deps.metrics.render()).into_response()
}
