//! The NATS service protocol: every process registers as the micro service `participant`
//! (metadata: prefix and role), so `nats micro ls`, `$SRV.PING`, `$SRV.INFO` and
//! `$SRV.STATS` find it, with one endpoint, `<prefix>.svc.ready`, that answers whether the
//! process reaches its dependencies.

use std::collections::HashMap;

use async_nats::service::ServiceExt;
use futures::StreamExt;
use serde_json::json;
use tokio_util::sync::CancellationToken;

use crate::connect::Deps;

/// The service name every process of every deployment shares.
pub const NAME: &str = "participant";

/// Serves the service protocol until `shutdown`.
pub async fn serve(deps: Deps, role: &str, shutdown: CancellationToken) {
    let metadata = HashMap::from([
        ("prefix".to_owned(), deps.names.prefix().to_owned()),
        ("role".to_owned(), role.to_owned()),
    ]);
    let service = deps
        .nats
        .service_builder()
        .description("Event-driven participant: HTTP intake, JetStream workers, webhooks")
        .metadata(metadata)
        .start(NAME, env!("CARGO_PKG_VERSION"))
        .await;
    let service = match service {
        Ok(service) => service,
        Err(error) => {
            tracing::warn!(%error, "not registered as a NATS service");
            return;
        }
    };
    let endpoint = service
        .group(format!("{}.svc", deps.names.prefix()))
        .endpoint("ready")
        .await;
    let mut requests = match endpoint {
        Ok(endpoint) => endpoint,
        Err(error) => {
            tracing::warn!(%error, "no NATS service endpoint");
            return;
        }
    };
    loop {
        let request = tokio::select! {
            () = shutdown.cancelled() => break,
            request = requests.next() => request,
        };
        let Some(request) = request else { break };
        let valkey = deps.store.ping().await;
        let answer = json!({
            "role": role,
            "status": if valkey.is_ok() { "ready" } else { "not_ready" },
            "checks": {
                "nats": "ok",
                "valkey": valkey.map_or_else(|e| e.to_string(), |()| "ok".to_owned()),
            },
        });
        if let Err(error) = request.respond(Ok(answer.to_string().into())).await {
            tracing::warn!(%error, "service request not answered");
        }
    }
    if let Err(error) = service.stop().await {
        tracing::warn!(%error, "NATS service not stopped cleanly");
    }
}
