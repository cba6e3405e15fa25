//! While a job runs: tell JetStream it is in progress (so the ack wait does not lapse) and
//! advance `updatedAt` in Valkey (so a poller can tell stuck from slow). The heartbeat is
//! a future that the job polls beside its batches, not a task of its own, so a job that
//! ends before its first beat costs one timer and nothing more.

use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::{self, AckKind};
use shared::clock;
use shared::delivery::Delivery;
use shared::ids::OperationId;
use shared::store::Store;

/// Beats at least this often; more often when the ack wait is short.
const MAX_INTERVAL: Duration = Duration::from_secs(2);

/// Beats for `delivery` of `operation` until the record says a later delivery owns the
/// running operation; then it resolves, and the job stops.
pub async fn until_superseded(
    store: Store,
    message: Arc<jetstream::Message>,
    operation: OperationId,
    delivery: Delivery,
    ack_wait: Duration,
) {
    let interval = (ack_wait / 3).min(MAX_INTERVAL);
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
    loop {
        ticks.tick().await;
        if let Err(error) = message.ack_with(AckKind::Progress).await {
            tracing::warn!(%error, "in-progress ack not sent");
        }
        match store
            .heartbeat(operation, delivery, clock::now_millis())
            .await
        {
            Ok(true) => {}
            Ok(false) => return,
            Err(error) => tracing::warn!(%error, "heartbeat not recorded"),
        }
    }
}
