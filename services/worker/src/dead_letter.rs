//! Jobs that cannot be done: delivered more than `Jobs__MaxDeliver` times (their worker
//! crashing or failing each time), or unreadable. The job is copied to
//! `<prefix>.deadletter.jobs.<operation>` with the reason and the number of deliveries,
//! its operation ends `failed` with a problem that says so, and the caller then acks the
//! job, which removes it from the work queue. Each step is safe to repeat, so a crash in
//! the middle is mended by the next delivery.

use async_nats::HeaderMap;
use async_nats::jetstream::{self, message::PublishMessage};
use shared::clock;
use shared::contract::{Problem, headers};
use shared::event::{Event, EventKind};
use shared::job::Job;
use shared::store::{Delivery, FailOutcome};
use uuid::Uuid;

use crate::job::{self, Context};

/// A job delivered more often than allowed.
pub async fn exhausted(
    ctx: &Context,
    message: &jetstream::Message,
    job: &Job,
    delivery: Delivery,
) -> anyhow::Result<()> {
    let operation = job.operation_id();
    if let Some(record) = ctx.deps.store.record(operation).await?
        && record.document.status.is_terminal()
    {
        job::republish_terminal(ctx, record).await?;
        return Ok(());
    }
    let runs = delivery.attempt - 1;
    tracing::error!(runs, "job delivered too often; dead-lettering it");
    copy(ctx, message, operation, "max-deliveries-exceeded", runs).await?;
    let problem = Problem::new(
        500,
        "max-deliveries-exceeded",
        "Operation failed",
        format!(
            "The job was delivered {runs} times without finishing, the most allowed; it was moved to the dead-letter stream."
        ),
    );
    fail(ctx, operation, delivery.attempt, &problem).await
}

/// A job whose payload cannot be parsed: it would fail the same way on every delivery.
pub async fn unreadable(
    ctx: &Context,
    message: &jetstream::Message,
    operation: Option<Uuid>,
    delivery: Delivery,
) -> anyhow::Result<()> {
    let Some(operation) = operation else {
        tracing::error!("an unreadable job with no operation id; dropping it");
        return Ok(());
    };
    copy(
        ctx,
        message,
        operation,
        "unreadable-payload",
        delivery.attempt,
    )
    .await?;
    let problem = Problem::new(
        500,
        "unreadable-job",
        "Operation failed",
        "The job could not be read; it was moved to the dead-letter stream.",
    );
    fail(ctx, operation, delivery.attempt, &problem).await
}

/// Copies the job to the dead-letter stream; the message id makes a repeat a no-op.
async fn copy(
    ctx: &Context,
    message: &jetstream::Message,
    operation: Uuid,
    reason: &str,
    deliveries: u64,
) -> anyhow::Result<()> {
    let mut letter_headers = HeaderMap::new();
    for (name, values) in message.headers.iter().flat_map(|h| h.iter()) {
        if AsRef::<str>::as_ref(name) != headers::NATS_MSG_ID {
            for value in values {
                letter_headers.append(name.clone(), value.clone());
            }
        }
    }
    letter_headers.insert(
        headers::NATS_MSG_ID,
        format!("deadletter-job-{operation}").as_str(),
    );
    letter_headers.insert(headers::DEAD_LETTER_REASON, reason);
    letter_headers.insert(
        headers::DEAD_LETTER_DELIVERIES,
        deliveries.to_string().as_str(),
    );
    ctx.deps
        .jetstream
        .send_publish(
            ctx.deps.names.deadletter_job_subject(operation),
            PublishMessage::build()
                .payload(message.payload.clone())
                .headers(letter_headers),
        )
        .await?
        .await?;
    Ok(())
}

/// Ends the operation as failed with `problem` and publishes the event; `attempt` is the
/// delivery that fails it (0: none).
pub(crate) async fn fail(
    ctx: &Context,
    operation: Uuid,
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
            .publish(&Event::of(EventKind::Failed, record.document))
            .await?;
    }
    Ok(())
}
