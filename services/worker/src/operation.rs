//! Running one operation for one delivery, whatever its kind: claim it, then work through
//! it batch by batch from its checkpoint, recording each batch's outcome and the progress and
//! reading the next batch in one step, with a heartbeat meanwhile, until it completes, is
//! cancelled, or this delivery loses it. A crash loses at most the batch in hand.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use async_nats::jetstream::{self, context::PublishAckFuture};
use shared::clock;
use shared::event::{Event, EventKind};
use shared::store::{Checkpoint, CheckpointOutcome, Claim, Delivery};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::heartbeat::Heartbeat;
use crate::job::{self, Context, Outcome};
use crate::{bulk_import, compensation};

/// Items (or entities) per checkpoint.
pub const BATCH: usize = 250;
/// Least time between two progress events of one operation.
const PROGRESS_EVERY: Duration = Duration::from_millis(250);

/// The kind of work an operation does.
#[derive(Clone, Copy, Debug)]
pub enum Work {
    /// Import its stored items into the tenant's entities.
    Import { tenant: Uuid },
    /// Delete the entities that the import `original` created.
    Compensate { tenant: Uuid, original: Uuid },
}

/// What one batch came to.
pub struct BatchOutcome {
    pub succeeded: u64,
    /// Per-item errors, as JSON, in index order.
    pub errors: Vec<String>,
}

pub async fn run(
    ctx: &Context,
    message: Arc<jetstream::Message>,
    operation: Uuid,
    work: Work,
    delivery: Delivery,
) -> anyhow::Result<Outcome> {
    let store = &ctx.deps.store;
    let cancel = ctx.cancels.register(operation);
    let claim = store
        .claim(operation, delivery, BATCH, clock::now_millis())
        .await
        .context("claiming the operation")?;
    let (record, mut items) = match claim {
        Claim::Run { record, items } => (record, items),
        Claim::Ended(record) => return job::republish_terminal(ctx, *record).await,
        Claim::Superseded => return Ok(Outcome::Superseded),
        Claim::Duplicate => {
            tracing::info!("another message for this operation is running it; dropping this one");
            return Ok(Outcome::Finished);
        }
        Claim::Missing => {
            tracing::warn!("no record for this job; dropping it");
            return Ok(Outcome::Finished);
        }
    };
    let total = record.document.progress.total;
    let mut cursor = record.document.progress.current;
    tracing::info!(from = cursor, total, "operation running");
    ctx.deps.metrics.operation("running");
    let mut acks = vec![
        ctx.events
            .send(&Event::of(EventKind::Running, record.document))
            .await?,
    ];

    let superseded = CancellationToken::new();
    let _heartbeat = Heartbeat::start(
        store.clone(),
        message,
        operation,
        delivery,
        ctx.settings.jobs.ack_wait,
        superseded.clone(),
    );
    let mut last_progress = Instant::now();
    loop {
        if superseded.is_cancelled() {
            return Ok(Outcome::Superseded);
        }
        if ctx.shutdown.is_cancelled() && !cancel.token.is_cancelled() {
            await_acks(acks).await?;
            return Ok(Outcome::Interrupted);
        }
        if cancel.token.is_cancelled() {
            items.clear();
        } else if matches!(work, Work::Import { .. }) && items.is_empty() {
            // Only a Valkey that lost data gets here; failing the delivery lets the
            // redeliveries run out into a dead letter instead of spinning.
            anyhow::bail!("the operation's items are missing from Valkey at {cursor} of {total}");
        }
        let (outcome, count) = match work {
            Work::Import { tenant } => {
                let outcome = bulk_import::import_batch(
                    ctx,
                    operation,
                    tenant,
                    cursor,
                    &items,
                    &cancel.token,
                )
                .await?;
                (outcome, items.len() as u64)
            }
            Work::Compensate { tenant, original } => {
                let count = if cancel.token.is_cancelled() {
                    0
                } else {
                    (total - cursor).min(BATCH as u64)
                };
                let outcome =
                    compensation::undo_batch(ctx, tenant, original, cursor, count).await?;
                (outcome, count)
            }
        };
        let last = cursor + count >= total;
        let checkpoint = Checkpoint {
            delivery,
            start: cursor,
            count,
            succeeded: outcome.succeeded,
            failed: outcome.errors.len() as u64,
            errors: &outcome.errors,
            last,
            next: match work {
                Work::Import { .. } => BATCH,
                Work::Compensate { .. } => 0,
            },
            now_millis: clock::now_millis(),
        };
        let record = match store.checkpoint(operation, &checkpoint).await? {
            CheckpointOutcome::Recorded {
                record,
                items: next,
            } => {
                items = next;
                record
            }
            CheckpointOutcome::Refused => return Ok(Outcome::Superseded),
        };
        cursor += count;
        if let Some(kind) = EventKind::ending(record.document.status) {
            tracing::info!(
                status = kind.as_str(),
                processed = cursor,
                "operation ended"
            );
            ctx.deps.metrics.operation(kind.as_str());
            acks.push(ctx.events.send(&Event::of(kind, record.document)).await?);
            if let (Work::Compensate { original, .. }, EventKind::Completed) = (work, kind) {
                acks.push(compensation::announce(ctx, original).await?);
            }
            await_acks(acks).await?;
            return Ok(Outcome::Finished);
        }
        if last_progress.elapsed() >= PROGRESS_EVERY {
            last_progress = Instant::now();
            acks.push(
                ctx.events
                    .send(&Event::of(EventKind::Progress, record.document))
                    .await?,
            );
        }
    }
}

/// Waits until JetStream has stored every event sent for this delivery.
async fn await_acks(acks: Vec<PublishAckFuture>) -> anyhow::Result<()> {
    let acks = acks.into_iter().map(std::future::IntoFuture::into_future);
    for ack in futures::future::join_all(acks).await {
        ack.context("an event was not stored")?;
    }
    Ok(())
}
