//! The callback dispatcher: pushes `completed`, `failed` and `cancelled` events to the URL
//! an operation was started with, signed per Standard Webhooks, with durable retries.
//!
//! Each terminal event kind has a durable consumer on the events stream that every
//! dispatcher shares (`consumers`). `dispatch` handles one event: it looks the operation's
//! callback up in Valkey, makes one attempt (`delivery`, through a client whose resolver
//! refuses forbidden addresses, `resolver`), and tells the shared runner
//! (`shared::runner`) how to settle the message: ack when delivered, `Nak` with the next
//! delay of the schedule, or give up into the dead-letter stream. The attempts are counted
//! in the operation's record and the wait is JetStream's, so a dispatcher killed
//! mid-schedule loses nothing.

mod consumers;
mod delivery;
mod dispatch;
mod resolver;

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use shared::backoff::Backoff;
use shared::config::Settings;
use shared::connect::Deps;
use shared::runner::{self, Pace};
use tokio_util::sync::CancellationToken;

/// Runs one dispatcher until `shutdown`; deliveries in flight finish first (each is bounded
/// by the callback timeout).
pub async fn run(
    settings: Settings,
    deps: Deps,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    settings.callbacks.secrets()?;
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = delivery::client(&settings.callbacks).context("building the HTTP client")?;
    let Some(consumers) = consumers::when_ready(&settings, &deps, &shutdown).await? else {
        return Ok(());
    };
    let pace = Pace {
        slots: usize::from(settings.callbacks.concurrency),
        grace: settings.callbacks.timeout + Duration::from_secs(1),
        backoff: Backoff::new(Duration::from_secs(1), Duration::from_secs(60)),
    };
    let callbacks = Arc::new(dispatch::Callbacks {
        ctx: Arc::new(dispatch::Context::new(settings, deps, client)),
    });
    tracing::info!(
        concurrency_per_event_kind = pace.slots,
        "dispatcher pulling terminal events"
    );
    let loops = consumers
        .iter()
        .map(|consumer| runner::run(consumer, pace, &shutdown, callbacks.clone()));
    futures::future::join_all(loops).await;
    tracing::info!("dispatcher stopped");
    Ok(())
}
