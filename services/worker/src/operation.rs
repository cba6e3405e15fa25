//! Running one operation for one delivery, whatever its kind: claim it, then work through
//! it batch by batch from its checkpoint, recording each batch's outcome and the progress
//! and reading the next batch in one step, with a heartbeat meanwhile, until it completes,
//! is cancelled, or this delivery loses it. A crash loses at most the batch in hand.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_nats::jetstream::{self, context::PublishAckFuture};
use shared::clock;
use shared::delivery::Delivery;
use shared::event::{Event, EventKind};
use shared::operation::Operation;
use shared::runner::{Failure, Outcome};
use shared::store::{Checkpoint, CheckpointOutcome, Claim, InputItems};
use tokio_util::sync::CancellationToken;

use crate::context::Context;
use crate::ending;
use crate::heartbeat;
use crate::kind::{Batch, BatchOutcome, JobError, Kind};

/// Least time between two progress events of one operation.
const PROGRESS_EVERY: Duration = Duration::from_millis(250);

/// Runs the operation `accepted` (as its `accepted` event describes it), of kind `kind`,
/// for `delivery`; the outcome settles the message.
pub async fn run<K: Kind>(
    ctx: &Context,
    message: Arc<jetstream::Message>,
    accepted: Operation,
    delivery: Delivery,
    kind: &K,
) -> Outcome {
    match work(ctx, message, accepted, delivery, kind).await {
        Ok(outcome) => outcome,
        Err(JobError::Transient(error)) => Outcome::retry(error),
        Err(JobError::Permanent(failure)) => Outcome::Permanent(failure),
    }
}

async fn work<K: Kind>(
    ctx: &Context,
    message: Arc<jetstream::Message>,
    accepted: Operation,
    delivery: Delivery,
    kind: &K,
) -> Result<Outcome, JobError> {
    let store = &ctx.deps.store;
    let operation = accepted.id;
    let cancel = ctx.cancels.register(operation);
    let claim = store
        .claim(accepted, delivery, K::INPUT_BATCH, clock::now_millis())
        .await?;
    let (record, items) = match claim {
        Claim::Run { record, items } => (*record, items),
        Claim::Ended(record) => {
            ending::republish_terminal(ctx, *record).await?;
            return Ok(Outcome::Done);
        }
        Claim::Superseded => return Ok(Outcome::Superseded),
        Claim::Duplicate => {
            tracing::debug!("another message for this operation is running it; dropping this one");
            return Ok(Outcome::Done);
        }
        Claim::Missing => {
            tracing::warn!("no record for this job; dropping it");
            return Ok(Outcome::Done);
        }
    };
    tracing::debug!(
        from = record.progress.current,
        total = record.progress.total,
        "operation running"
    );
    ctx.deps.metrics.operation("running");
    let acks = vec![
        ctx.events
            .send(&Event::of(EventKind::Running, record.document()))
            .await?,
    ];

    let heartbeat = heartbeat::until_superseded(
        store.clone(),
        message,
        operation,
        delivery,
        ctx.settings.jobs.ack_wait,
    );
    let running = Running {
        ctx,
        kind,
        delivery,
        cancelled: &cancel.token,
    };
    tokio::select! {
        biased;
        outcome = running.batches(record, items, acks) => outcome,
        () = heartbeat => Ok(Outcome::Superseded),
    }
}

/// An operation claimed by one delivery, and what its batches need (the heartbeat runs
/// beside them).
struct Running<'a, K> {
    ctx: &'a Context,
    kind: &'a K,
    delivery: Delivery,
    cancelled: &'a CancellationToken,
}

impl<K: Kind> Running<'_, K> {
    /// Works through the operation batch by batch from `record`'s checkpoint, `input`
    /// being the first batch's items and `acks` the events sent so far, until it ends or
    /// this delivery loses it.
    async fn batches(
        self,
        mut record: Operation,
        mut input: InputItems,
        mut acks: Vec<PublishAckFuture>,
    ) -> Result<Outcome, JobError> {
        let Self {
            ctx,
            kind,
            delivery,
            cancelled,
        } = self;
        let store = &ctx.deps.store;
        let operation = record.id;
        let total = record.progress.total;
        let mut cursor = record.progress.current;
        let mut last_progress = Instant::now();
        loop {
            if ctx.shutdown.is_cancelled() && !cancelled.is_cancelled() {
                await_acks(acks).await?;
                return Ok(Outcome::HandBack);
            }
            let outcome = if cancelled.is_cancelled() {
                BatchOutcome {
                    processed: 0,
                    succeeded: 0,
                    errors: Vec::new(),
                }
            } else {
                let items = input.items()?;
                if K::INPUT_BATCH > 0 && items.is_empty() {
                    return Err(JobError::Permanent(Failure {
                        reason: "items-missing",
                        detail: format!(
                            "The operation's input items are missing from Valkey at {cursor} of {total}"
                        ),
                        deliveries: delivery.attempt,
                    }));
                }
                let batch = Batch {
                    operation,
                    start: cursor,
                    total,
                    items: &items,
                    cancelled,
                };
                kind.run_batch(ctx, batch).await?
            };
            let count = outcome.processed;
            let checkpoint = Checkpoint {
                delivery,
                start: cursor,
                count,
                succeeded: outcome.succeeded,
                failed: outcome.errors.len() as u64,
                errors: &outcome.errors,
                last: cursor + count >= total,
                next: K::INPUT_BATCH,
                now_millis: clock::now_millis(),
            };
            record = match store.checkpoint(record, &checkpoint).await? {
                CheckpointOutcome::Recorded {
                    record: advanced,
                    items: next,
                } => {
                    input = next;
                    *advanced
                }
                CheckpointOutcome::Refused => return Ok(Outcome::Superseded),
            };
            cursor += count;
            if let Some(ended) = EventKind::ending(record.status) {
                tracing::debug!(
                    status = ended.as_str(),
                    processed = cursor,
                    "operation ended"
                );
                ctx.deps.metrics.operation(ended.as_str());
                acks.push(
                    ctx.events
                        .send(&Event::of(ended, record.document()))
                        .await?,
                );
                if ended == EventKind::Completed {
                    acks.extend(kind.completed(ctx).await?);
                }
                await_acks(acks).await?;
                return Ok(Outcome::Done);
            }
            if last_progress.elapsed() >= PROGRESS_EVERY {
                last_progress = Instant::now();
                acks.push(
                    ctx.events
                        .send(&Event::of(EventKind::Progress, record.document()))
                        .await?,
                );
            }
        }
    }
}

/// Waits until JetStream has stored every event sent for this delivery.
async fn await_acks(acks: Vec<PublishAckFuture>) -> Result<(), JobError> {
    let acks = acks.into_iter().map(std::future::IntoFuture::into_future);
    for ack in futures::future::join_all(acks).await {
        ack?;
    }
    Ok(())
}
