//! The bulk import's work on one batch: items are validated and their entities created in
//! one round trip. Re-running a batch after a crash writes nothing twice: an item's entity
//! id is derived from its index, so the re-run finds its own entity.

use serde_json::{Map, Value};
use shared::clock;
use shared::contract::ItemError;
use shared::entity::{self, DUPLICATE, NAME_REQUIRED};
use shared::store::EntityCreated;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::job::Context;
use crate::operation::BatchOutcome;

/// Validates the items starting at index `start` and creates the entities of the valid
/// ones, in one round trip.
pub async fn import_batch(
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
