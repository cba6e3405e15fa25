//! The bulk import: items are read from Valkey in batches from the checkpoint, turned into
//! entities, and each batch's outcome is checkpointed in one step with the progress. A
//! crash loses at most the batch in hand, and re-running it writes nothing twice: an
//! item's entity id is derived from its index, so the re-run finds its own entity.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use async_nats::jetstream::{self, context::PublishAckFuture};
use serde_json::{Map, Value};
use shared::clock;
use shared::contract::ItemError;
use shared::contract::OperationStatus;
use shared::entity::{self, DUPLICATE, NAME_REQUIRED};
use shared::event::{Event, EventKind};
use shared::store::{Checkpoint, CheckpointOutcome, Claim, Delivery, EntityCreated};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::heartbeat::Heartbeat;
use crate::job::{self, Context, Outcome};

/// Items per checkpoint.
const BATCH: usize = 250;
/// Least time between two progress events of one operation.
const PROGRESS_EVERY: Duration = Duration::from_millis(250);

pub async fn run(
    ctx: &Context,
    message: Arc<jetstream::Message>,
    operation: Uuid,
    tenant: Uuid,
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
    tracing::info!(from = cursor, total, "import running");
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
        }
        let outcome = import_batch(ctx, operation, tenant, cursor, &items, &cancel.token).await?;
        let count = items.len() as u64;
        let last = cursor + count >= total;
        let checkpoint = Checkpoint {
            delivery,
            start: cursor,
            count,
            succeeded: outcome.succeeded,
            failed: outcome.errors.len() as u64,
            errors: &outcome.errors,
            last,
            now_millis: clock::now_millis(),
        };
        let record = match store.checkpoint(operation, &checkpoint).await? {
            CheckpointOutcome::Recorded(record) => record,
            CheckpointOutcome::Refused => return Ok(Outcome::Superseded),
        };
        cursor += count;
        let ended = match record.document.status {
            OperationStatus::Completed => Some(EventKind::Completed),
            OperationStatus::Cancelled => Some(EventKind::Cancelled),
            _ => None,
        };
        if let Some(kind) = ended {
            tracing::info!(status = kind.as_str(), processed = cursor, "import ended");
            ctx.deps.metrics.operation(kind.as_str());
            acks.push(ctx.events.send(&Event::of(kind, record.document)).await?);
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
        items = store.items(operation, cursor, BATCH).await?;
    }
}

/// What one batch of items came to.
struct BatchOutcome {
    succeeded: u64,
    /// Per-item errors, as JSON, in index order.
    errors: Vec<String>,
}

/// Validates the items starting at index `start` and creates the entities of the valid
/// ones, in one round trip.
async fn import_batch(
    ctx: &Context,
    operation: Uuid,
    tenant: Uuid,
    start: u64,
    items: &[String],
    cancelled: &CancellationToken,
) -> anyhow::Result<BatchOutcome> {
    let now = clock::now_millis();
    let mut entities = Vec::with_capacity(items.len());
    let mut judged: Vec<Result<usize, &'static str>> = Vec::with_capacity(items.len());
    for (offset, raw) in items.iter().enumerate() {
        let index = start + offset as u64;
        let fields = serde_json::from_str::<Map<String, Value>>(raw).unwrap_or_default();
        match entity::valid_name(&fields) {
            Some(name) => {
                let name = name.to_owned();
                let id = entity::imported_id(operation, index);
                let json = entity::entity_json(fields, id, now).to_string();
                judged.push(Ok(entities.len()));
                entities.push((name, id, json));
            }
            None => judged.push(Err(NAME_REQUIRED)),
        }
    }
    let created = ctx.deps.store.import_entities(tenant, &entities).await?;
    let latency = ctx.settings.worker.simulated_item_latency;
    if !latency.is_zero() {
        let simulated = latency * u32::try_from(items.len()).unwrap_or(u32::MAX);
        tokio::select! {
            () = cancelled.cancelled() => {}
            () = tokio::time::sleep(simulated) => {}
        }
    }

    let mut outcome = BatchOutcome {
        succeeded: 0,
        errors: Vec::new(),
    };
    for (offset, verdict) in judged.into_iter().enumerate() {
        let error = match verdict {
            Ok(slot) if created.get(slot) == Some(&EntityCreated::Created) => {
                outcome.succeeded += 1;
                continue;
            }
            Ok(_) => DUPLICATE,
            Err(error) => error,
        };
        let item_error = ItemError {
            index: start + offset as u64,
            error: error.to_owned(),
        };
        outcome.errors.push(serde_json::to_string(&item_error)?);
    }
    Ok(outcome)
}

/// Waits until JetStream has stored every event sent for this delivery.
async fn await_acks(acks: Vec<PublishAckFuture>) -> anyhow::Result<()> {
    let acks = acks.into_iter().map(std::future::IntoFuture::into_future);
    for ack in futures::future::join_all(acks).await {
        ack.context("an event was not stored")?;
    }
    Ok(())
}
