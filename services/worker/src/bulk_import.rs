//! The bulk import: each batch's items are validated and their entities created in one
//! round trip. Re-running a batch after a crash writes nothing twice: an item's entity id
//! is derived from its index, so the re-run finds its own entity.

use serde_json::value::RawValue;
use shared::clock;
use shared::contract::ItemError;
use shared::entity::{self, DUPLICATE, Fields, NAME_REQUIRED};
use shared::ids::TenantId;
use shared::store::EntityCreated;

use crate::context::Context;
use crate::kind::{BATCH, Batch, BatchOutcome, JobError, Kind};

/// Imports the operation's stored items into `tenant`'s sample entities.
pub struct BulkImport {
    pub tenant: TenantId,
}

impl Kind for BulkImport {
    const INPUT_BATCH: usize = BATCH;

    /// Validates the batch's items and creates the entities of the valid ones, in one
    /// round trip.
    async fn run_batch(&self, ctx: &Context, batch: Batch<'_>) -> Result<BatchOutcome, JobError> {
        let created_at = clock::rfc3339(clock::now_millis());
        let mut entities = Vec::with_capacity(batch.items.len());
        let mut judged: Vec<Result<usize, &'static str>> = Vec::with_capacity(batch.items.len());
        for (offset, raw) in batch.items.iter().enumerate() {
            let index = batch.start + offset as u64;
            let fields: Fields<&RawValue> = serde_json::from_str(raw.get()).unwrap_or_default();
            match entity::valid_name(&fields) {
                Some(name) => {
                    let id = entity::imported_id(batch.operation, index);
                    let json = entity::entity_json(&fields, id, &created_at);
                    judged.push(Ok(entities.len()));
                    entities.push((name, id, json));
                }
                None => judged.push(Err(NAME_REQUIRED)),
            }
        }
        let created = ctx
            .deps
            .store
            .import_entities(self.tenant, &entities)
            .await?;
        simulate_io(ctx, &batch).await;

        let mut outcome = BatchOutcome {
            processed: batch.items.len() as u64,
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
                index: batch.start + offset as u64,
                error: error.to_owned(),
            };
            outcome.errors.push(serde_json::to_string(&item_error)?);
        }
        Ok(outcome)
    }
}

/// `Worker__SimulatedItemLatency` per item (tests and benchmarks), cut short by a cancel.
async fn simulate_io(ctx: &Context, batch: &Batch<'_>) {
    let latency = ctx.settings.worker.simulated_item_latency;
    if latency.is_zero() {
        return;
    }
    let simulated = latency * u32::try_from(batch.items.len()).unwrap_or(u32::MAX);
    tokio::select! {
        () = batch.cancelled.cancelled() => {}
        () = tokio::time::sleep(simulated) => {}
    }
}
