//! One terminal event: find the operation's callback, make one attempt, and say how the
//! message is to be settled; give the webhook up into the dead-letter stream when it is
//! gone or out of attempts.

use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream;
use serde::Serialize;
use shared::callback::AddressPolicy;
use shared::config::Settings;
use shared::connect::Deps;
use shared::contract::StatusDocument;
use shared::dead_letter::{self, Letter};
use shared::delivery::Delivery;
use shared::event::Event;
use shared::ids::OperationId;
use shared::metrics::OutcomeLabels;
use shared::runner::{Failure, Handler, Outcome};
use shared::store::CallbackProgress;
use tracing::field::{self, Empty};

use crate::delivery::{self, Attempt, Webhook};

/// Longest pause a receiver's `Retry-After` may ask for.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);
/// Pause before trying again when Valkey or NATS failed us (not the receiver).
const ON_OUR_ERROR: Duration = Duration::from_secs(5);

pub struct Context {
    settings: Settings,
    deps: Deps,
    client: reqwest::Client,
    policy: AddressPolicy,
}

impl Context {
    pub fn new(settings: Settings, deps: Deps, client: reqwest::Client) -> Self {
        let policy = settings.callbacks.address_policy();
        Self {
            settings,
            deps,
            client,
            policy,
        }
    }
}

/// The webhook body: `{"type": "operation.<event>", "timestamp", "data": <document>}`.
#[derive(Serialize)]
struct Body<'a> {
    #[serde(rename = "type")]
    kind: String,
    timestamp: &'a str,
    data: &'a StatusDocument,
}

/// The dispatcher's handler of terminal events for the shared runner. It counts attempts
/// in the operation's record and schedules retries itself (`Callbacks__RetrySchedule`),
/// so the runner sets no limit of deliveries.
pub struct Callbacks {
    pub ctx: Arc<Context>,
}

impl Handler for Callbacks {
    fn span(&self, _message: &jetstream::Message, delivery: Delivery) -> tracing::Span {
        tracing::info_span!(
            "callback",
            operation = Empty,
            tenant = Empty,
            correlation = Empty,
            workflow_id = Empty,
            workflow_step = Empty,
            workflow_name = Empty,
            event = Empty,
            traceparent = Empty,
            delivery = delivery.attempt,
        )
    }

    fn max_deliveries(&self) -> Option<u64> {
        None
    }

    async fn handle(&self, message: Arc<jetstream::Message>, delivery: Delivery) -> Outcome {
        let Ok(event) = serde_json::from_slice::<Event>(&message.payload) else {
            return Outcome::Permanent(Failure {
                reason: "unreadable-event",
                detail: "the event payload cannot be parsed".into(),
                deliveries: delivery.attempt,
            });
        };
        record_span_fields(&event);
        match dispatch(&self.ctx, &event).await {
            Ok(outcome) => outcome,
            Err(error) => Outcome::Retry {
                error,
                after: Some(ON_OUR_ERROR),
            },
        }
    }

    /// Sends the event to `<prefix>.deadletter.callbacks.<operation>` and records the
    /// webhook as failed.
    async fn give_up(
        &self,
        message: &jetstream::Message,
        delivery: Delivery,
        failure: &Failure,
    ) -> anyhow::Result<()> {
        let ctx = &self.ctx;
        let event = serde_json::from_slice::<Event>(&message.payload).ok();
        let Some(operation) = event
            .as_ref()
            .map(|e| e.operation.operation_id)
            .or_else(|| operation_of(message))
        else {
            tracing::error!("an unreadable event of no operation; dropping it");
            return Ok(());
        };
        let id = event.as_ref().map_or_else(
            || format!("deadletter-callback-seq-{}", delivery.stream_sequence),
            |e| format!("deadletter-callback-{}", e.event_id),
        );
        let letter = Letter {
            subject: ctx.deps.names.deadletter_callback_subject(operation),
            id,
            reason: failure.reason,
            deliveries: failure.deliveries,
            last_error: Some(&failure.detail),
        };
        dead_letter::publish(&ctx.deps.jetstream, message, &letter)
            .await
            .map_err(|e| anyhow::anyhow!(e))?;
        if event.is_some() {
            ctx.deps
                .store
                .record_callback(
                    operation,
                    &CallbackProgress::Failed {
                        attempts: failure.deliveries,
                        last_error: failure.detail.clone(),
                    },
                )
                .await?;
        }
        Ok(())
    }
}

fn record_span_fields(event: &Event) {
    let doc = &event.operation;
    let span = tracing::Span::current();
    span.record("operation", field::display(doc.operation_id));
    span.record("tenant", field::display(doc.tenant_id));
    span.record("correlation", doc.correlation_id.as_str());
    span.record("event", field::display(event.event_id));
    if let Some(workflow) = &doc.workflow {
        span.record("workflow_id", workflow.id.as_deref());
        span.record("workflow_step", workflow.step.as_deref());
        span.record("workflow_name", workflow.name.as_deref());
    }
}

/// The operation an event is for: `<prefix>.events.<tenant>.<operation>.<event>`.
fn operation_of(message: &jetstream::Message) -> Option<OperationId> {
    message.subject.rsplit('.').nth(1)?.parse().ok()
}

/// One attempt for one event, unless its webhook is settled or does not want it.
async fn dispatch(ctx: &Context, event: &Event) -> anyhow::Result<Outcome> {
    let store = &ctx.deps.store;
    let operation = event.operation.operation_id;
    let Some(standing) = store.callback_standing(operation).await? else {
        return Ok(Outcome::Done);
    };
    if standing.settled || !standing.target.events.contains(&event.event) {
        return Ok(Outcome::Done);
    }
    if let Some(traceparent) = &standing.traceparent {
        tracing::Span::current().record("traceparent", traceparent.as_str());
    }
    let attempt = standing.attempts + 1;
    let doc = &event.operation;
    let body = serde_json::to_vec(&Body {
        kind: format!("operation.{}", event.event.as_str()),
        timestamp: &event.occurred_at,
        data: doc,
    })?;
    let webhook = Webhook {
        url: &standing.target.url,
        id: event.event_id.to_string(),
        body: body.into(),
        correlation: &doc.correlation_id,
        tenant: doc.tenant_id.to_string(),
        workflow_id: doc.workflow.as_ref().and_then(|w| w.id.as_deref()),
        traceparent: standing.traceparent.as_deref(),
    };
    let callbacks = &ctx.settings.callbacks;
    let outcome = delivery::attempt(
        &ctx.client,
        &ctx.policy,
        &callbacks.signing_secrets,
        &webhook,
    )
    .await;
    tracing::debug!(attempt, ?outcome, "callback attempt");
    let label = match &outcome {
        Attempt::Delivered => "delivered",
        Attempt::Gone => "gone",
        Attempt::Failed { .. } => "failed",
    };
    ctx.deps
        .metrics
        .webhook_attempts
        .get_or_create(&OutcomeLabels {
            outcome: label.to_owned(),
        })
        .inc();
    let give_up = |reason: &'static str, detail: &str| {
        Outcome::Permanent(Failure {
            reason,
            detail: detail.to_owned(),
            deliveries: attempt,
        })
    };
    Ok(match outcome {
        Attempt::Delivered => {
            store
                .record_callback(
                    operation,
                    &CallbackProgress::Delivered { attempts: attempt },
                )
                .await?;
            Outcome::Done
        }
        Attempt::Gone => give_up("gone", "the receiver answered 410 Gone"),
        Attempt::Failed { error, retry_after } => {
            match callbacks.retry_schedule.delay_after(attempt) {
                None => give_up("attempts-exhausted", &error),
                Some(delay) => {
                    store
                        .record_callback(
                            operation,
                            &CallbackProgress::Retrying {
                                attempts: attempt,
                                last_error: error.clone(),
                            },
                        )
                        .await?;
                    let asked = retry_after.map_or(Duration::ZERO, |d| d.min(MAX_RETRY_AFTER));
                    Outcome::Retry {
                        error: anyhow::anyhow!(error),
                        after: Some(jittered(delay).max(asked)),
                    }
                }
            }
        }
    })
}

/// ±20 %.
fn jittered(delay: Duration) -> Duration {
    delay.mul_f64(0.8 + fastrand::f64() * 0.4)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_stays_within_twenty_percent() {
        for _ in 0..1000 {
            let d = jittered(Duration::from_secs(10));
            assert!(d >= Duration::from_secs(8) && d <= Duration::from_secs(12));
        }
    }
}
