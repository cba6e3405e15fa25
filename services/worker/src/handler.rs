//! The worker's handler of jobs (`accepted` events) for the shared runner: a span with the
//! job's context from its headers, the job read from the event and handed to its kind,
//! and, for a job that can never be done, a dead letter and a failed operation.

use std::sync::Arc;

use async_nats::jetstream;
use shared::contract::headers;
use shared::delivery::Delivery;
use shared::ids::OperationId;
use shared::job::Job;
use shared::runner::{Failure, Handler, Outcome};
use tracing::field;

use crate::context::Context;
use crate::{dead_letter, kinds};

pub struct Jobs {
    pub ctx: Arc<Context>,
}

impl Handler for Jobs {
    fn span(&self, message: &jetstream::Message, delivery: Delivery) -> tracing::Span {
        let header = |name: &str| {
            message
                .headers
                .as_ref()
                .and_then(|h| h.get(name))
                .map(|v| v.as_str().to_owned())
        };
        tracing::info_span!(
            "job",
            operation = operation_of(message).map(field::display),
            tenant = header(headers::NATS_TENANT_ID).as_deref(),
            correlation = header(headers::NATS_CORRELATION_ID).as_deref(),
            attempt = delivery.attempt,
            workflow_id = header(headers::NATS_WORKFLOW_ID).as_deref(),
            workflow_step = header(headers::NATS_WORKFLOW_STEP).as_deref(),
            workflow_name = header(headers::NATS_WORKFLOW_NAME).as_deref(),
            traceparent = header(headers::TRACEPARENT).as_deref(),
        )
    }

    fn max_deliveries(&self) -> Option<u64> {
        Some(self.ctx.settings.jobs.max_deliver)
    }

    async fn handle(&self, message: Arc<jetstream::Message>, delivery: Delivery) -> Outcome {
        let (job, accepted) = match Job::from_accepted(&message.payload) {
            Ok(read) => read,
            Err(error) => {
                tracing::warn!(%error, "unreadable job");
                return Outcome::Permanent(Failure {
                    reason: dead_letter::UNREADABLE,
                    detail: "The job could not be read".into(),
                    deliveries: delivery.attempt,
                });
            }
        };
        let metrics = &self.ctx.deps.metrics;
        metrics.jobs_in_flight.inc();
        let outcome = kinds::run(&self.ctx, message, &job, accepted, delivery).await;
        metrics.jobs_in_flight.dec();
        outcome
    }

    async fn give_up(
        &self,
        message: &jetstream::Message,
        delivery: Delivery,
        failure: &Failure,
    ) -> anyhow::Result<()> {
        let Some(operation) = operation_of(message) else {
            tracing::error!("a job with no operation id in its subject; dropping it");
            return Ok(());
        };
        dead_letter::give_up(&self.ctx, message, operation, delivery, failure).await
    }
}

/// The operation a job is for, from its subject
/// `<prefix>.events.<tenant>.<operation>.accepted`.
fn operation_of(message: &jetstream::Message) -> Option<OperationId> {
    message.subject.rsplit('.').nth(1)?.parse().ok()
}
