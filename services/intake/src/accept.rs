//! Accepting a long-running operation: the record goes to Valkey first (so a `GET` right
//! after the `202` finds it), then the `accepted` event and the job go to JetStream, and
//! the caller answers `202` only once JetStream has acknowledged the job.
//!
//! The event is sent before the job on the same connection, so it is stored before any
//! worker can receive the job and publish `running`.

use serde_json::value::RawValue;
use shared::clock;
use shared::connect::DEADLINE;
use shared::contract::Problem;
use shared::event::{Event, EventKind};
use shared::job::{self, Job};
use shared::store::{CallbackTarget, FailOutcome, NewOperation, Record};
use uuid::Uuid;

use crate::context::RequestContext;
use crate::problem::ApiError;
use crate::state::AppState;

/// Records the operation, publishes its job and `accepted` event, and returns its record.
pub async fn accept(
    state: &AppState,
    ctx: &RequestContext,
    kind: &str,
    items: &[Box<RawValue>],
    callback: Option<CallbackTarget>,
) -> Result<Record, ApiError> {
    let deps = state.deps();
    let new = NewOperation {
        id: Uuid::now_v7(),
        tenant: ctx.tenant,
        kind: kind.to_owned(),
        org: ctx.org.clone(),
        actor: ctx.actor.clone(),
        correlation: ctx.correlation.clone(),
        workflow: ctx.workflow.clone(),
        created_millis: clock::now_millis(),
        callback,
        traceparent: ctx.traceparent.clone(),
    };
    let record = deps.store.create_operation(&new, items).await?;
    #[cfg(feature = "fail-points")]
    crate::fail_point::reached("intake-after-record");
    let job = Job::BulkImportV1 {
        operation_id: new.id,
        tenant_id: new.tenant,
    };
    if let Err(cause) = publish(state, &record, &job).await {
        give_up(state, new.id).await;
        return Err(ApiError::unavailable("The job queue", cause));
    }
    deps.metrics.operation("accepted");
    Ok(record)
}

/// Sends the `accepted` event and the job, then awaits both PubAcks within the deadline.
async fn publish(state: &AppState, record: &Record, job: &Job) -> Result<(), async_nats::Error> {
    let deps = state.deps();
    let doc = &record.document;
    let event = Event::of(EventKind::Accepted, doc.clone());
    let acks = async {
        let event_ack = state.events().send(&event).await?;
        let job_ack = job::send(
            &deps.jetstream,
            &deps.names,
            job,
            doc,
            record.traceparent.as_deref(),
        )
        .await?;
        let (event_ack, job_ack) = tokio::join!(event_ack, job_ack);
        event_ack?;
        job_ack?;
        Ok::<_, async_nats::Error>(())
    };
    tokio::time::timeout(DEADLINE * 2, acks)
        .await
        .map_err(|_| "no PubAck within the deadline")?
}

/// The job may not be queued: end the operation as failed, so that nothing waits on it.
/// If the job did reach JetStream after all, its worker finds the operation ended and
/// drops it.
async fn give_up(state: &AppState, operation: Uuid) {
    let deps = state.deps();
    let mut problem = Problem::new(
        503,
        "not-queued",
        "Service Unavailable",
        "The job could not be queued; the request was answered 503 and may be retried.",
    );
    problem.retryable = true;
    let problem_json = serde_json::to_string(&problem).unwrap_or_default();
    match deps
        .store
        .fail_operation(operation, 0, &problem_json, clock::now_millis())
        .await
    {
        Ok(FailOutcome::Failed(record)) => {
            let event = Event::of(EventKind::Failed, record.document);
            if let Err(error) = state.events().send(&event).await {
                tracing::warn!(%operation, %error, "failed event not published");
            }
        }
        Ok(FailOutcome::Unchanged) => {}
        Err(error) => tracing::warn!(%operation, %error, "operation left accepted"),
    }
}
