//! The HTTP intake: the API of the contract over axum.
//!
//! A request goes `routes` (the one route table) → a handler in `routes/` → `accept` (the
//! path of a long-running operation: Valkey record, then JetStream) or the `Store` → an
//! answer. Around every route, `middleware` sets the correlation id, checks `Accept`, logs
//! one line, and renders every error as an RFC 9457 problem (`problem`); around every
//! `POST`, `idempotency` reserves and replays `Idempotency-Key`s. `event_stream` serves the
//! stored events of JetStream as server-sent events. `console_files` holds the operator's
//! console served under `/ui`, and `backlog` the JetStream counts it and `/metrics` show.
//! Before all of it, `edge` accepts connections (HTTP or HTTPS) and holds every client to
//! its deadlines and limits.

mod accept;
mod backlog;
mod body;
mod callback_target;
mod console_files;
mod context;
mod edge;
mod event_stream;
#[cfg(feature = "fail-points")]
mod fail_point;
mod header_names;
mod idempotency;
mod long_poll;
mod middleware;
mod problem;
mod registration;
mod routes;
mod state;
mod tls;

use std::sync::Arc;

use anyhow::Context as _;
use shared::config::Settings;
use shared::connect::{self, Deps};
use shared::metrics::Metrics;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub use routes::router;
pub use state::AppState;

/// Serves the API on `listener` (HTTPS when a certificate is configured, with mutual TLS
/// when asked) until `shutdown` is cancelled, then finishes in-flight requests. Declares the JetStream topology in the background, retrying while NATS is
/// down; until then, operation-starting requests answer 503.
pub async fn run(
    settings: Settings,
    deps: Deps,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let tasks = TaskTracker::new();
    let declared = tasks.spawn(declare_until_done(
        settings.clone(),
        deps.clone(),
        shutdown.clone(),
    ));
    if settings.discovery.enabled
        && let Some(registry) = settings.discovery.url.clone()
    {
        tasks.spawn(registration::keep_registered(
            settings.clone(),
            registry,
            shutdown.clone(),
        ));
    }
    let tls = settings
        .tls
        .cert
        .is_some()
        .then(|| tls::Reloadable::load(&settings.tls))
        .transpose()
        .context("loading the TLS configuration")?;
    let state = AppState::new(settings, deps, shutdown.clone());
    let app = router(state.clone());
    if let Some(tls) = &tls {
        tasks.spawn(reload_on_sighup(
            tls.clone(),
            state.deps().metrics.clone(),
            shutdown.clone(),
        ));
    }
    let edge_settings = state.settings().http.edge.clone();
    let metrics = state.deps().metrics.clone();
    let served = edge::serve(listener, app, tls, edge_settings, metrics, shutdown.clone()).await;
    shutdown.cancel();
    state.tasks().close();
    state.tasks().wait().await;
    tasks.close();
    tasks.wait().await;
    declared
        .await
        .context("declaring the JetStream streams")??;
    served
}

/// Reloads certificate and key on each SIGHUP until `shutdown`, counting the outcomes.
async fn reload_on_sighup(
    tls: tls::Reloadable,
    metrics: Arc<Metrics>,
    shutdown: CancellationToken,
) {
    let Ok(mut hangups) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
    else {
        tracing::warn!("cannot listen for SIGHUP; certificates will not be reloaded");
        return;
    };
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            _ = hangups.recv() => {}
        }
        match tls.reload() {
            Ok(()) => {
                metrics.tls_reload("reloaded");
                tracing::info!("TLS certificate reloaded");
            }
            Err(error) => {
                metrics.tls_reload("failed");
                tracing::error!(
                    error = format!("{error:#}"),
                    "TLS reload failed; keeping the old certificate"
                );
            }
        }
    }
}

/// Declares the topology, retrying while NATS is unavailable; a topology the servers cannot
/// place stops the intake.
async fn declare_until_done(
    settings: Settings,
    deps: Deps,
    shutdown: CancellationToken,
) -> Result<(), connect::Unplaceable> {
    let declared = connect::until_ready("declare the JetStream streams", &shutdown, || {
        connect::declare_topology(&deps, &settings)
    })
    .await;
    if declared.is_err() {
        shutdown.cancel();
    }
    declared.map(drop)
}
