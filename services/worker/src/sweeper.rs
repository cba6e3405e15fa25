//! No operation stays `accepted` forever. If the intake dies between writing an
//! operation's record and the PubAck of its `accepted` event (its job), no worker will
//! ever get the job; the sweeper, run by one worker at a time, finds operations accepted
//! longer than `Jobs__SweepAfter` (in the pending set, written before the record), asks
//! the events stream whether each one's `accepted` event is there and still ahead of the
//! workers' consumer, and republishes the missing ones (the event id is derived from the
//! operation, so the stream's duplicate window and the claim's owner check make a needless
//! republish harmless), listing the operation in its tenant's index again in case the
//! intake died before that. An operation accepted longer than `Jobs__MaxQueueTime` is
//! failed. A pending entry whose record never came (the intake died after the first write
//! of the creation) is forgotten.

use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::consumer::PullConsumer;
use async_nats::jetstream::stream::{LastRawMessageErrorKind, Stream};
use shared::clock;
use shared::contract::{OperationStatus, Problem};
use shared::event::EventKind;
use shared::ids::OperationId;
use shared::job;
use shared::operation::Operation;
use tokio_util::sync::CancellationToken;

use crate::context::Context;
use crate::ending;

/// Operations looked at per sweep.
const SWEEP_BATCH: usize = 500;

/// Sweeps every half `Jobs__SweepAfter` (between 1 s and 30 s) until `shutdown`.
pub async fn run(ctx: Arc<Context>, shutdown: CancellationToken) {
    let every =
        (ctx.settings.jobs.sweep_after / 2).clamp(Duration::from_secs(1), Duration::from_secs(30));
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(every) => {}
        }
        if let Err(error) = sweep(&ctx, every).await {
            tracing::warn!(
                error = format!("{error:#}"),
                "sweep failed; next one in {every:?}"
            );
        }
    }
}

async fn sweep(ctx: &Context, every: Duration) -> anyhow::Result<()> {
    let store = &ctx.deps.store;
    if !store
        .try_lock(&ctx.deps.names.sweeper_lock_key(), every)
        .await?
    {
        return Ok(());
    }
    let now = clock::now_millis();
    let due_before = now - millis(ctx.settings.jobs.sweep_after);
    let due = store.pending(due_before, SWEEP_BATCH).await?;
    let ids: Vec<OperationId> = due.iter().map(|(operation, _)| *operation).collect();
    let records = store.records(&ids).await?;
    let queue = Queue::now(ctx).await?;
    // An entry is written before its record: without one, a creation may still be under way
    // until the creation bound has passed; after it, the creation died after its first write.
    let stray_before = now - millis(store.creation_bound());
    let mut settled = Vec::new();
    for ((operation, created), record) in due.into_iter().zip(records) {
        let settle = match record {
            Some(record) if record.status == OperationStatus::Accepted => {
                sweep_one(ctx, &queue, record, now).await?
            }
            Some(_) => true,
            None if created < stray_before => {
                tracing::info!(%operation, "the creation died before writing the record; forgetting it");
                true
            }
            None => false,
        };
        if settle {
            settled.push(operation);
        }
    }
    store.forget_pending(&settled).await?;
    Ok(())
}

/// Mends one operation still accepted; true when it needs no more looking at.
async fn sweep_one(
    ctx: &Context,
    queue: &Queue,
    record: Operation,
    now: i64,
) -> anyhow::Result<bool> {
    let operation = record.id;
    if now - record.created_millis > millis(ctx.settings.jobs.max_queue_time) {
        tracing::error!(%operation, "accepted too long without starting; failing it");
        give_up(ctx, operation).await?;
        return Ok(true);
    }
    if queue.holds(ctx, &record).await? {
        return Ok(false);
    }
    tracing::warn!(%operation, "accepted operation has no job in the stream; republishing it");
    // Its intake died before publishing, so maybe before listing it too (on a Valkey
    // Cluster the tenant's index is written after the record).
    ctx.deps
        .store
        .list_operation(record.tenant, operation, record.created_millis)
        .await?;
    job::send(&ctx.events, &record).await?.await?;
    Ok(false)
}

/// The events stream and how far the workers' consumer has got in it, as of this sweep.
struct Queue {
    events: Stream<()>,
    /// The stream sequence up to which the consumer has every job acknowledged.
    ack_floor: u64,
}

impl Queue {
    async fn now(ctx: &Context) -> anyhow::Result<Self> {
        let names = &ctx.deps.names;
        let events = ctx
            .deps
            .jetstream
            .get_stream_no_info(names.events_stream())
            .await?;
        let mut consumer: PullConsumer = events
            .get_consumer(&names.workers_consumer())
            .await
            .map_err(|e| anyhow::anyhow!(e))?;
        let ack_floor = consumer.info().await?.ack_floor.stream_sequence;
        Ok(Self { events, ack_floor })
    }

    /// Is the operation's job waiting for a worker, or in one's hands: its `accepted`
    /// event stored, past what the consumer has acknowledged? (An event the consumer
    /// never saw, because it was re-created after it, is at or below its floor.)
    async fn holds(&self, ctx: &Context, operation: &Operation) -> anyhow::Result<bool> {
        let subject = ctx.deps.names.event_subject(
            operation.tenant,
            operation.id,
            EventKind::Accepted.as_str(),
        );
        match self.events.get_last_raw_message_by_subject(&subject).await {
            Ok(message) => Ok(message.sequence > self.ack_floor),
            Err(error) if error.kind() == LastRawMessageErrorKind::NoMessageFound => Ok(false),
            Err(error) => Err(error.into()),
        }
    }
}

async fn give_up(ctx: &Context, operation: OperationId) -> anyhow::Result<()> {
    let problem = Problem::new(
        500,
        "never-started",
        "Operation failed",
        "No worker started the operation within the longest queue time allowed.",
    );
    ending::fail(ctx, operation, 0, &problem).await
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}
