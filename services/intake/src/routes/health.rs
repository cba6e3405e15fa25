//! `/health/live` and `/health/ready`.

use std::collections::BTreeMap;

use async_nats::jetstream::consumer::pull;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::json;
use shared::connect::DEADLINE;
use utoipa::ToSchema;

use crate::state::AppState;

/// What this intake offers, for clients that detect features.
pub const CAPABILITIES: &[&str] = &[
    "operations",
    "cancellation",
    "compensation",
    "webhooks",
    "idempotency",
    "long-poll",
    "azure-monitor",
    "location-polling",
    "event-stream",
];
pub const API_VERSIONS: &[&str] = &["v1"];

#[utoipa::path(get, path = "/health/live", tag = "health", responses((status = 200, description = "The process runs", body = serde_json::Value)))]
pub async fn live() -> Json<serde_json::Value> {
    Json(json!({"status": "live"}))
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Readiness {
    /// `ready` or `not_ready`.
    status: &'static str,
    /// `ok`, or why a dependency does not answer.
    checks: BTreeMap<String, String>,
    capabilities: &'static [&'static str],
    api_versions: &'static [&'static str],
}

/// `200` when NATS, the JetStream streams and the workers' consumer, and Valkey answer
/// within the deadline, else
/// `503`; the body says which check failed.
#[utoipa::path(
    get,
    path = "/health/ready",
    tag = "health",
    responses(
        (status = 200, description = "NATS, the streams and Valkey answer", body = Readiness),
        (status = 503, description = "A dependency does not answer within 2 s", body = Readiness),
    )
)]
pub async fn ready(State(state): State<AppState>) -> Response {
    let (nats, valkey) = tokio::join!(check_nats(&state), check_valkey(&state));
    let ready = nats.is_ok() && valkey.is_ok();
    let mut checks = BTreeMap::new();
    checks.insert("nats".to_owned(), nats.err().unwrap_or_else(|| "ok".into()));
    checks.insert(
        "valkey".to_owned(),
        valkey.err().unwrap_or_else(|| "ok".into()),
    );
    let body = Readiness {
        status: if ready { "ready" } else { "not_ready" },
        checks,
        capabilities: CAPABILITIES,
        api_versions: API_VERSIONS,
    };
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(body)).into_response()
}

pub async fn check_nats(state: &AppState) -> Result<(), String> {
    let deps = state.deps();
    if deps.nats.connection_state() != async_nats::connection::State::Connected {
        return Err("not connected".into());
    }
    let streams = async {
        let names = &deps.names;
        for name in [names.events_stream(), names.deadletter_stream()] {
            deps.jetstream
                .get_stream(&name)
                .await
                .map_err(|e| format!("stream {name}: {e}"))?;
        }
        let consumer = names.workers_consumer();
        deps.jetstream
            .get_consumer_from_stream::<pull::Config, _, _>(&consumer, names.events_stream())
            .await
            .map_err(|e| format!("consumer {consumer}: {e}"))?;
        Ok(())
    };
    tokio::time::timeout(DEADLINE, streams)
        .await
        .unwrap_or_else(|_| Err("no answer within 2s".into()))
}

pub async fn check_valkey(state: &AppState) -> Result<(), String> {
    state.deps().store.ping().await.map_err(|e| e.to_string())
}
