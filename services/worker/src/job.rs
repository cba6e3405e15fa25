//! One delivery of one job: parse it, run it, and acknowledge it by outcome. The ack comes
//! only after Valkey holds the result and the events are stored.

use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::{self, AckKind};
use shared::config::Settings;
use shared::connect::Deps;
use shared::contract::headers;
use shared::event::{Event, EventKind, EventPublisher};
use shared::job::Job;
use shared::store::{Delivery, Record};
use tokio::sync::OwnedSemaphorePermit;
use tokio_util::sync::CancellationToken;
use tracing::{Instrument, field};
use uuid::Uuid;

use crate::cancels::Cancels;
use crate::dead_letter;
use crate::operation::{self, Work};

/// What every job of one worker shares.
pub struct Context {
    pub settings: Settings,
    pub deps: Deps,
    pub events: EventPublisher,
    pub cancels: Arc<Cancels>,
    pub shutdown: CancellationToken,
}

impl Context {
    pub fn new(settings: Settings, deps: Deps, shutdown: CancellationToken) -> Self {
        let events = EventPublisher::new(deps.jetstream.clone(), deps.names.clone());
        Self {
            settings,
            deps,
            events,
            cancels: Arc::new(Cancels::default()),
            shutdown,
        }
    }
}

/// How one delivery ended, and so how it is acknowledged.
#[derive(Debug)]
pub enum Outcome {
    /// The operation is terminal in Valkey and its events are stored, or the job is a
    /// duplicate of one another delivery runs: `Ack`.
    Finished,
    /// A later delivery of this job owns the operation: leave this one alone.
    Superseded,
    /// Stopped at a checkpoint because the worker is shutting down: `Nak` for another.
    Interrupted,
}

/// Runs one delivery, holding its slot until it is acknowledged.
pub async fn handle(ctx: Arc<Context>, message: jetstream::Message, _slot: OwnedSemaphorePermit) {
    let delivery = match message.info() {
        Ok(info) => Delivery {
            stream_sequence: info.stream_sequence,
            attempt: u64::try_from(info.delivered).unwrap_or(1),
        },
        Err(error) => {
            tracing::error!(%error, "a job without delivery metadata; leaving it");
            return;
        }
    };
    let header = |name: &str| {
        message
            .headers
            .as_ref()
            .and_then(|h| h.get(name))
            .map(|v| v.as_str().to_owned())
    };
    let correlation = header(headers::NATS_CORRELATION_ID).unwrap_or_default();
    let operation: Option<Uuid> = message
        .subject
        .rsplit('.')
        .next()
        .and_then(|id| id.parse().ok());
    let span = tracing::info_span!(
        "job",
        operation = field::Empty,
        tenant = field::Empty,
        correlation = %correlation,
        attempt = delivery.attempt,
        workflow_id = header(headers::NATS_WORKFLOW_ID).as_deref(),
        workflow_step = header(headers::NATS_WORKFLOW_STEP).as_deref(),
        workflow_name = header(headers::NATS_WORKFLOW_NAME).as_deref(),
        traceparent = header(headers::TRACEPARENT).as_deref(),
    );
    if let Some(operation) = operation {
        span.record("operation", field::display(operation));
    }
    let metrics = ctx.deps.metrics.clone();
    metrics.jobs_in_flight.inc();
    async move {
        let job = match serde_json::from_slice::<Job>(&message.payload) {
            Ok(job) => job,
            Err(error) => {
                tracing::error!(%error, "job payload cannot be parsed");
                let dead = dead_letter::unreadable(&ctx, &message, operation, delivery).await;
                settle(&message, dead.map(|()| Outcome::Finished), delivery).await;
                return;
            }
        };
        let message = Arc::new(message);
        let outcome = if delivery.attempt > ctx.settings.jobs.max_deliver {
            dead_letter::exhausted(&ctx, &message, &job, delivery)
                .await
                .map(|()| Outcome::Finished)
        } else {
            let (work, tenant) = match &job {
                Job::BulkImportV1 { tenant_id, .. } => {
                    (Work::Import { tenant: *tenant_id }, tenant_id)
                }
                Job::CompensationV1 {
                    tenant_id,
                    compensates,
                    ..
                } => (
                    Work::Compensate {
                        tenant: *tenant_id,
                        original: *compensates,
                    },
                    tenant_id,
                ),
            };
            tracing::Span::current().record("tenant", field::display(tenant));
            operation::run(&ctx, message.clone(), job.operation_id(), work, delivery).await
        };
        settle(&message, outcome, delivery).await;
    }
    .instrument(span)
    .await;
    metrics.jobs_in_flight.dec();
}

/// Acknowledges a delivery by its outcome.
async fn settle(
    message: &jetstream::Message,
    outcome: anyhow::Result<Outcome>,
    delivery: Delivery,
) {
    let kind = match outcome {
        Ok(Outcome::Finished) => AckKind::Ack,
        Ok(Outcome::Superseded) => {
            tracing::info!("a later delivery owns the operation; leaving it");
            return;
        }
        Ok(Outcome::Interrupted) => {
            tracing::info!("stopped at a checkpoint; handing the job back");
            AckKind::Nak(None)
        }
        Err(error) => {
            let delay = retry_delay(delivery.attempt);
            tracing::warn!(error = format!("{error:#}"), retry_in = ?delay, "job failed for now");
            AckKind::Nak(Some(delay))
        }
    };
    if let Err(error) = message.ack_with(kind).await {
        tracing::warn!(%error, ?kind, "acknowledgement not sent; JetStream will redeliver");
    }
}

/// Publishes the terminal event of an operation that already ended (a redelivery after a
/// crash between the result and the ack, or a job cancelled before it started); its id is
/// the one first used, so the events stream drops it if it was stored before.
pub async fn republish_terminal(ctx: &Context, record: Record) -> anyhow::Result<Outcome> {
    let kind = EventKind::ending(record.document.status).unwrap_or(EventKind::Cancelled);
    ctx.events
        .publish(&Event::of(kind, record.document))
        .await?;
    Ok(Outcome::Finished)
}

/// Exponential, jittered delay before a job that failed for now is delivered again.
fn retry_delay(attempt: u64) -> Duration {
    let exponent = u32::try_from(attempt.saturating_sub(1))
        .unwrap_or(u32::MAX)
        .min(6);
    let base = Duration::from_millis(500) * 2u32.pow(exponent);
    base.mul_f64(0.8 + fastrand::f64() * 0.4)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_delay_grows_with_jitter_and_a_ceiling() {
        let first = retry_delay(1);
        assert!(first >= Duration::from_millis(400) && first <= Duration::from_millis(600));
        let late = retry_delay(50);
        assert!(late <= Duration::from_millis(500 * 64 * 12 / 10));
        assert!(retry_delay(3) > retry_delay(1));
    }
}
