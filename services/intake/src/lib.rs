//! The HTTP intake: the API of the contract over axum.
//!
//! A request goes `routes` (the one route table) → a handler in `routes/` → `accept` (the
//! path of a long-running operation: Valkey record, then JetStream) or the `Store` → an
//! answer. Around every route, `middleware` sets the correlation id, checks `Accept`, logs
//! one line, and renders every error as an RFC 9457 problem (`problem`); around every
//! `POST`, `idempotency` reserves and replays `Idempotency-Key`s.

mod accept;
mod body;
mod callback_target;
mod context;
#[cfg(feature = "fail-points")]
mod fail_point;
mod idempotency;
mod long_poll;
mod middleware;
mod problem;
mod registration;
mod routes;
mod state;

use anyhow::Context as _;
use shared::config::Settings;
use shared::connect::{self, Deps};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub use routes::router;
pub use state::AppState;

/// Serves the API on `listener` until `shutdown` is cancelled, then finishes in-flight
/// requests. Declares the JetStream topology in the background, retrying while NATS is
/// down; until then, operation-starting requests answer 503.
pub async fn run(
    settings: Settings,
    deps: Deps,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let tasks = TaskTracker::new();
    tasks.spawn(declare_until_done(
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
    let app = router(AppState::new(settings, deps));
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown.clone().cancelled_owned())
        .await
        .context("HTTP server failed");
    shutdown.cancel();
    tasks.close();
    tasks.wait().await;
    served
}

async fn declare_until_done(settings: Settings, deps: Deps, shutdown: CancellationToken) {
    let mut delay = std::time::Duration::from_millis(200);
    loop {
        match connect::declare_topology(
            &deps.jetstream,
            &deps.names,
            &settings.jobs,
            &settings.retention,
        )
        .await
        {
            Ok(()) => return,
            Err(error) => {
                tracing::warn!(%error, retry_in = ?delay, "cannot declare JetStream streams yet")
            }
        }
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(delay) => {}
        }
        delay = (delay * 2).min(std::time::Duration::from_secs(5));
    }
}
