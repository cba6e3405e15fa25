//! The callback dispatcher: pushes `completed`, `failed` and `cancelled` events to the URL
//! an operation was started with, signed per Standard Webhooks, with durable retries.
//!
//! Each terminal event kind has a durable consumer on the events stream that every
//! dispatcher shares (`consumers`). `dispatch` handles one event: it looks the operation's
//! callback up in Valkey, makes one attempt (`delivery`, through a client whose resolver
//! refuses forbidden addresses, `resolver`), and settles the message: ack when delivered or
//! given up, `Nak` with the next delay of the schedule otherwise. The retry state is the
//! message's delivery count in JetStream, so a dispatcher killed mid-schedule loses nothing.

mod consumers;
mod delivery;
mod dispatch;
mod resolver;

use std::sync::Arc;

use anyhow::Context as _;
use shared::config::Settings;
use shared::connect::Deps;
use shared::pull;
use tokio_util::sync::CancellationToken;

/// Runs one dispatcher until `shutdown`; deliveries in flight finish first (each is bounded
/// by the callback timeout).
pub async fn run(
    settings: Settings,
    deps: Deps,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    anyhow::ensure!(
        !settings.callbacks.signing_secrets.is_empty(),
        "the dispatcher needs at least one Callbacks__SigningSecrets"
    );
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = delivery::client(&settings.callbacks).context("building the HTTP client")?;
    let Some(consumers) = consumers::when_ready(&settings, &deps, &shutdown).await else {
        return Ok(());
    };
    let slots = usize::from(settings.callbacks.concurrency);
    let grace = settings.callbacks.timeout + std::time::Duration::from_secs(1);
    let ctx = Arc::new(dispatch::Context::new(settings, deps, client));
    tracing::info!(
        concurrency_per_event_kind = slots,
        "dispatcher pulling terminal events"
    );
    let loops = consumers.iter().map(|consumer| {
        let ctx = ctx.clone();
        let shutdown = shutdown.clone();
        async move {
            pull::for_free_slots(consumer, slots, &shutdown, grace, |message, slot| {
                dispatch::handle(ctx.clone(), message, slot)
            })
            .await;
        }
    });
    futures::future::join_all(loops).await;
    tracing::info!("dispatcher stopped");
    Ok(())
}
