//! Ending an operation from outside its batch loop: re-sending the terminal event of one
//! that already ended, and failing one with a problem.

use shared::clock;
use shared::contract::Problem;
use shared::event::{Event, EventKind};
use shared::ids::OperationId;
use shared::operation::Operation;
use shared::store::FailOutcome;

use crate::context::Context;

/// Publishes the terminal event of an operation that already ended (a redelivery after a
/// crash between the result and the ack, or a job cancelled before it started); its id is
/// the one first used, so the events stream drops it if it was stored before.
pub async fn republish_terminal(ctx: &Context, record: Operation) -> anyhow::Result<()> {
    let kind = EventKind::ending(record.status).unwrap_or(EventKind::Cancelled);
    ctx.events
        .publish(&Event::of(kind, record.document()))
        .await?;
    Ok(())
}

/// Ends the operation as failed with `problem` and publishes the event; `attempt` is the
/// delivery that fails it (0: none).
pub async fn fail(
    ctx: &Context,
    operation: OperationId,
    attempt: u64,
    problem: &Problem,
) -> anyhow::Result<()> {
    let outcome = ctx
        .deps
        .store
        .fail_operation(operation, attempt, problem, clock::now_millis())
        .await?;
    if let FailOutcome::Failed(record) = outcome {
        ctx.deps.metrics.operation("failed");
        ctx.events
            .publish(&Event::of(EventKind::Failed, record.document()))
            .await?;
    }
    Ok(())
}
