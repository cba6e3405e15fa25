//! Registration in InfraSoT, the platform's service registry (a proposed API, documented in
//! the README): `POST {url}/api/services` at start, `PUT {url}/api/services/{id}/heartbeat`
//! on an interval (registering again if the registry forgot the service), and
//! `DELETE {url}/api/services/{id}` on graceful shutdown. A registry that is down never
//! stops the service: calls are retried with backoff and logged.

use std::time::Duration;

use reqwest::StatusCode;
use serde::Serialize;
use shared::backoff::Backoff;
use shared::config::Settings;
use tokio_util::sync::CancellationToken;
use url::Url;

use crate::routes::health::{API_VERSIONS, CAPABILITIES};

/// What the registry is told about this instance.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Registration<'a> {
    service_id: &'a str,
    name: &'static str,
    version: &'static str,
    address: String,
    health_url: String,
    capabilities: &'static [&'static str],
    api_versions: &'static [&'static str],
}

/// Keeps the intake registered until `shutdown`, then deregisters it.
pub async fn keep_registered(settings: Settings, registry: Url, shutdown: CancellationToken) {
    let discovery = &settings.discovery;
    let service_id = discovery
        .service_id
        .clone()
        .unwrap_or_else(|| format!("participant-{}", host_name()));
    let address = discovery.advertise_url.as_ref().map_or_else(
        || format!("{}://{}", settings.tls.scheme(), settings.http.listen),
        |u| u.as_str().trim_end_matches('/').to_owned(),
    );
    let registration = Registration {
        service_id: &service_id,
        name: "participant",
        version: env!("CARGO_PKG_VERSION"),
        health_url: format!("{address}/health/ready"),
        address,
        capabilities: CAPABILITIES,
        api_versions: API_VERSIONS,
    };
    let client = reqwest::Client::new();
    let base = registry.as_str().trim_end_matches('/').to_owned();
    let services = format!("{base}/api/services");
    let this = format!("{services}/{service_id}");
    let mut registered = false;
    let schedule = Backoff::new(Duration::from_secs(1), discovery.renew_every);
    let mut failures = schedule.delays();
    loop {
        let call = if registered {
            client.put(format!("{this}/heartbeat")).json(&registration)
        } else {
            client.post(&services).json(&registration)
        };
        let outcome = call.timeout(Duration::from_secs(5)).send().await;
        let wait = match outcome {
            Ok(response) if response.status().is_success() => {
                if !registered {
                    tracing::info!(%service_id, "registered in InfraSoT");
                }
                registered = true;
                failures = schedule.delays();
                discovery.renew_every
            }
            Ok(response) if response.status() == StatusCode::NOT_FOUND && registered => {
                tracing::warn!(%service_id, "InfraSoT forgot this service; registering again");
                registered = false;
                Duration::ZERO
            }
            failure => {
                let why = failure.map_or_else(|e| e.to_string(), |r| r.status().to_string());
                let wait = failures.next().unwrap_or(discovery.renew_every);
                tracing::warn!(%service_id, error = %why, retry_in = ?wait, "InfraSoT did not take the registration");
                wait
            }
        };
        tokio::select! {
            () = shutdown.cancelled() => break,
            () = tokio::time::sleep(wait) => {}
        }
    }
    if registered {
        match client
            .delete(&this)
            .timeout(Duration::from_secs(5))
            .send()
            .await
        {
            Ok(_) => tracing::info!(%service_id, "deregistered from InfraSoT"),
            Err(error) => tracing::warn!(%service_id, %error, "not deregistered from InfraSoT"),
        }
    }
}

/// The machine's host name, or `unknown`.
fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown".to_owned())
}
