//! The kinds this worker runs: each job names its kind, and here is where a kind is
//! registered (one match arm).

use std::sync::Arc;

use async_nats::jetstream;
use shared::delivery::Delivery;
use shared::job::Job;
use shared::operation::Operation;
use shared::runner::Outcome;

use crate::bulk_import::BulkImport;
use crate::compensation::Compensation;
use crate::context::Context;
use crate::operation;

/// Runs the operation of `job`, `accepted` as its `accepted` event describes it, for this
/// delivery.
pub async fn run(
    ctx: &Context,
    message: Arc<jetstream::Message>,
    job: &Job,
    accepted: Operation,
    delivery: Delivery,
) -> Outcome {
    match *job {
        Job::BulkImport { tenant_id, .. } => {
            let kind = BulkImport { tenant: tenant_id };
            operation::run(ctx, message, accepted, delivery, &kind).await
        }
        Job::Compensation {
            tenant_id,
            compensates,
            ..
        } => {
            let kind = Compensation {
                tenant: tenant_id,
                original: compensates,
            };
            operation::run(ctx, message, accepted, delivery, &kind).await
        }
    }
}
