//! Jobs that can never be done: delivered more than `Jobs__MaxDeliver` times (their worker
//! crashing or failing each time), unreadable, or failed for good. The job is copied to
//! `<prefix>.deadletter.jobs.<operation>` with the reason and the number of deliveries,
//! and its operation ends `failed` with a problem that says so; the runner then
//! terminates the message, so the workers' consumer never delivers it again. Each step is
//! safe to repeat, so a crash in the middle is mended by the next delivery.

use async_nats::jetstream;
use shared::contract::Problem;
use shared::dead_letter::{self, Letter};
use shared::delivery::Delivery;
use shared::ids::OperationId;
use shared::runner::Failure;

use crate::context::Context;
use crate::ending;

/// The reason of a job whose payload cannot be parsed.
pub const UNREADABLE: &str = "unreadable-payload";

/// Dead-letters the job of `operation` and fails the operation, unless it already ended
/// (then its terminal event is re-sent).
pub async fn give_up(
    ctx: &Context,
    message: &jetstream::Message,
    operation: OperationId,
    delivery: Delivery,
    failure: &Failure,
) -> anyhow::Result<()> {
    if let Some(record) = ctx.deps.store.record(operation).await?
        && record.status.is_terminal()
    {
        return ending::republish_terminal(ctx, record).await;
    }
    let letter = Letter {
        subject: ctx.deps.names.deadletter_job_subject(operation),
        id: format!("deadletter-job-{operation}"),
        reason: failure.reason,
        deliveries: failure.deliveries,
        last_error: None,
    };
    dead_letter::publish(&ctx.deps.jetstream, message, &letter)
        .await
        .map_err(|e| anyhow::anyhow!(e))?;
    let problem = Problem::new(
        500,
        code(failure.reason),
        "Operation failed",
        detail(failure),
    );
    ending::fail(ctx, operation, delivery.attempt, &problem).await
}

/// The problem's code for a reason.
fn code(reason: &'static str) -> &'static str {
    if reason == UNREADABLE {
        "unreadable-job"
    } else {
        reason
    }
}

fn detail(failure: &Failure) -> String {
    format!(
        "{}; it was moved to the dead-letter stream.",
        failure.detail
    )
}
