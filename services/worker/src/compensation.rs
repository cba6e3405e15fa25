//! Compensation (saga rollback) of a bulk import: delete the entities it created. Their
//! ids are derived from the import's id and each item's index, so the compensation walks
//! the indices batch by batch; deleting an entity already gone is a no-op, so a batch
//! re-run after a crash is safe. When it completes, the original operation's subject gets
//! a `compensated` event.

use async_nats::jetstream::context::PublishAckFuture;
use shared::entity;
use shared::event::{Event, EventKind};
use shared::ids::{OperationId, TenantId};
use shared::runner::Failure;
use uuid::Uuid;

use crate::context::Context;
use crate::kind::{BATCH, Batch, BatchOutcome, JobError, Kind};

/// Deletes the entities that the import `original` of `tenant` created.
pub struct Compensation {
    pub tenant: TenantId,
    pub original: OperationId,
}

impl Kind for Compensation {
    const INPUT_BATCH: usize = 0;

    async fn run_batch(&self, ctx: &Context, batch: Batch<'_>) -> Result<BatchOutcome, JobError> {
        let count = (batch.total - batch.start).min(BATCH as u64);
        let ids: Vec<Uuid> = (batch.start..batch.start + count)
            .map(|index| entity::imported_id(self.original, index))
            .collect();
        let deleted = ctx.deps.store.delete_entities(self.tenant, &ids).await?;
        Ok(BatchOutcome {
            processed: count,
            succeeded: deleted,
            errors: Vec::new(),
        })
    }

    /// The `compensated` event of the original, showing its completed compensation.
    async fn completed(&self, ctx: &Context) -> Result<Vec<PublishAckFuture>, JobError> {
        let Some(record) = ctx.deps.store.record(self.original).await? else {
            return Err(JobError::Permanent(Failure {
                reason: "original-gone",
                detail: format!("the compensated operation {} is gone", self.original),
                deliveries: 0,
            }));
        };
        let event = Event::of(EventKind::Compensated, record.document());
        Ok(vec![ctx.events.send(&event).await?])
    }
}
