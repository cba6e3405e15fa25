//! The one message runner, shared by the worker (jobs) and the dispatcher (callbacks). It
//! pulls only for free slots ([`pull`](crate::pull)), runs each message in its handler's
//! span, counts deliveries, and settles the message by the handler's [`Outcome`]: `Ack`
//! when done, `Nak` with a delay (the handler's, or the runner's [`Backoff`]) when it
//! failed for now, and, when it can never be done (a permanent failure, or one delivery
//! more than allowed), the handler's `give_up` (dead letter, and the end of what the
//! message was for) and then `Term`, so it is never delivered again.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::{self, AckKind, consumer::PullConsumer};
use tokio::sync::OwnedSemaphorePermit;
use tokio_util::sync::CancellationToken;
use tracing::Instrument as _;

use crate::backoff::Backoff;
use crate::delivery::Delivery;
use crate::pull;

/// How a delivery ended, and so how its message is settled.
#[derive(Debug)]
pub enum Outcome {
    /// Done with the message: `Ack`.
    Done,
    /// Failed for now: `Nak`, delivered again after `after` (or the runner's backoff).
    Retry {
        error: anyhow::Error,
        after: Option<Duration>,
    },
    /// Can never succeed: give up now, with no more deliveries.
    Permanent(Failure),
    /// Another delivery owns the work now: leave the message alone.
    Superseded,
    /// Stopped at a checkpoint because the process shuts down: `Nak`, for another process
    /// at once.
    HandBack,
}

impl Outcome {
    /// A transient error, retried after the runner's backoff.
    pub fn retry(error: impl Into<anyhow::Error>) -> Self {
        Self::Retry {
            error: error.into(),
            after: None,
        }
    }
}

/// Why a message is given up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// A short machine reason, as the dead letter's `Participant-Reason` states it.
    pub reason: &'static str,
    /// For people.
    pub detail: String,
    /// Deliveries (or attempts) it had.
    pub deliveries: u64,
}

/// What a kind of message needs of the runner.
pub trait Handler: Send + Sync + 'static {
    /// The span one delivery runs in; fields known only later are recorded by `handle`.
    fn span(&self, message: &jetstream::Message, delivery: Delivery) -> tracing::Span;

    /// Deliveries allowed before the runner gives a message up; `None` when the handler
    /// counts attempts itself.
    fn max_deliveries(&self) -> Option<u64>;

    fn handle(
        &self,
        message: Arc<jetstream::Message>,
        delivery: Delivery,
    ) -> impl Future<Output = Outcome> + Send;

    /// Dead-letters the message and ends what it was for (the operation, the webhook).
    /// Safe to repeat: a failure here is retried on a later delivery.
    fn give_up(
        &self,
        message: &jetstream::Message,
        delivery: Delivery,
        failure: &Failure,
    ) -> impl Future<Output = anyhow::Result<()>> + Send;
}

/// How the runner pulls and retries.
#[derive(Clone, Copy, Debug)]
pub struct Pace {
    /// Messages handled at once.
    pub slots: usize,
    /// On shutdown, how long messages in hand may take to settle.
    pub grace: Duration,
    /// Delays before a message that failed for now is delivered again.
    pub backoff: Backoff,
}

/// Runs `handler` on the messages of `consumer` until `shutdown`.
pub async fn run<H: Handler>(
    consumer: &PullConsumer,
    pace: Pace,
    shutdown: &CancellationToken,
    handler: Arc<H>,
) {
    pull::for_free_slots(
        consumer,
        pace.slots,
        shutdown,
        pace.grace,
        |message, slot| deliver(handler.clone(), pace.backoff, message, slot),
    )
    .await;
}

/// One delivery, holding its slot until its message is settled.
async fn deliver<H: Handler>(
    handler: Arc<H>,
    backoff: Backoff,
    message: jetstream::Message,
    _slot: OwnedSemaphorePermit,
) {
    let Some(delivery) = Delivery::of(&message) else {
        tracing::error!(subject = %message.subject, "a message without delivery metadata; leaving it");
        return;
    };
    let span = handler.span(&message, delivery);
    async move {
        let message = Arc::new(message);
        let outcome = match handler.max_deliveries() {
            Some(most) if delivery.attempt > most => Outcome::Permanent(Failure {
                reason: "max-deliveries-exceeded",
                detail: format!(
                    "The job was delivered {} times without finishing, the most allowed",
                    delivery.attempt - 1
                ),
                deliveries: delivery.attempt - 1,
            }),
            _ => handler.handle(message.clone(), delivery).await,
        };
        let kind = match outcome {
            Outcome::Done => AckKind::Ack,
            Outcome::Superseded => {
                tracing::info!(
                    outcome = "superseded",
                    "a later delivery owns the operation; leaving it"
                );
                return;
            }
            Outcome::HandBack => {
                tracing::info!(
                    outcome = "handed-back",
                    "stopped at a checkpoint; handing the job back"
                );
                AckKind::Nak(None)
            }
            Outcome::Retry { error, after } => {
                let delay = after.unwrap_or_else(|| backoff.delay(delivery.attempt));
                tracing::warn!(outcome = "retry", error = format!("{error:#}"), retry_in = ?delay, "job failed for now");
                AckKind::Nak(Some(delay))
            }
            Outcome::Permanent(failure) => {
                tracing::error!(reason = failure.reason, detail = %failure.detail, "giving up");
                match handler.give_up(&message, delivery, &failure).await {
                    Ok(()) => AckKind::Term,
                    Err(error) => {
                        let delay = backoff.delay(delivery.attempt);
                        tracing::warn!(error = format!("{error:#}"), retry_in = ?delay, "not given up yet");
                        AckKind::Nak(Some(delay))
                    }
                }
            }
        };
        if let Err(error) = message.ack_with(kind).await {
            tracing::warn!(%error, ?kind, "acknowledgement not sent; JetStream will redeliver");
        }
    }
    .instrument(span)
    .await;
}
