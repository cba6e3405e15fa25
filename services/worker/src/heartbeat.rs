//! While a job runs: tell JetStream it is in progress (so the ack wait does not lapse) and
//! advance `updatedAt` in Valkey (so a poller can tell stuck from slow). If the record says
//! a later attempt owns the operation, the heartbeat cancels this attempt.

use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::{self, AckKind};
use shared::clock;
use shared::delivery::Delivery;
use shared::ids::OperationId;
use shared::store::Store;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

/// Beats at least this often; more often when the ack wait is short.
const MAX_INTERVAL: Duration = Duration::from_secs(2);

/// A running heartbeat; stops when dropped.
pub struct Heartbeat {
    task: JoinHandle<()>,
}

impl Drop for Heartbeat {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Heartbeat {
    /// Starts beating for `delivery` of `operation`; cancels `superseded` when it learns
    /// the delivery no longer owns the running operation.
    pub fn start(
        store: Store,
        message: Arc<jetstream::Message>,
        operation: OperationId,
        delivery: Delivery,
        ack_wait: Duration,
        superseded: CancellationToken,
    ) -> Self {
        let interval = (ack_wait / 3).min(MAX_INTERVAL);
        let task = tokio::spawn(
            async move {
                let mut ticks = tokio::time::interval(interval);
                ticks.tick().await;
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
                        Ok(false) => {
                            superseded.cancel();
                            return;
                        }
                        Err(error) => tracing::warn!(%error, "heartbeat not recorded"),
                    }
                }
            }
            .in_current_span(),
        );
        Self { task }
    }
}
