//! Compensation (saga rollback) of a bulk import: delete the entities it created. Their
//! ids are derived from the import's id and each item's index, so the compensation walks
//! the indices batch by batch; deleting an entity already gone is a no-op, so a batch
//! re-run after a crash is safe. When it completes, the original operation's subject gets
//! a `compensated` event.

use async_nats::jetstream::context::PublishAckFuture;
use shared::entity;
use shared::event::{Event, EventKind};
use uuid::Uuid;

use crate::job::Context;
use crate::operation::BatchOutcome;

/// Deletes the entities that items `start .. start + count` of `original` created.
pub async fn undo_batch(
    ctx: &Context,
    tenant: Uuid,
    original: Uuid,
    start: u64,
    count: u64,
) -> anyhow::Result<BatchOutcome> {
    let ids: Vec<Uuid> = (start..start + count)
        .map(|index| entity::imported_id(original, index))
        .collect();
    let deleted = ctx.deps.store.delete_entities(tenant, &ids).await?;
    Ok(BatchOutcome {
        succeeded: deleted,
        errors: Vec::new(),
    })
}

/// Sends the `compensated` event of `original`, showing its completed compensation.
pub async fn announce(ctx: &Context, original: Uuid) -> anyhow::Result<PublishAckFuture> {
    let record = ctx
        .deps
        .store
        .record(original)
        .await?
        .ok_or_else(|| anyhow::anyhow!("the compensated operation {original} is gone"))?;
    Ok(ctx
        .events
        .send(&Event::of(EventKind::Compensated, record.document))
        .await?)
}
