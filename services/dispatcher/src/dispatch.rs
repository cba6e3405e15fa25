//! One terminal event: find the operation's callback, make one attempt, settle the message.

use std::sync::Arc;
use std::time::Duration;

use async_nats::HeaderMap;
use async_nats::jetstream::{self, AckKind, message::PublishMessage};
use serde::Serialize;
use shared::callback::AddressPolicy;
use shared::config::Settings;
use shared::connect::Deps;
use shared::contract::{StatusDocument, headers};
use shared::event::Event;
use shared::metrics::OutcomeLabels;
use shared::store::CallbackProgress;
use tokio::sync::OwnedSemaphorePermit;
use tracing::Instrument;

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

/// How a message is settled.
#[derive(Debug)]
enum Settle {
    Ack,
    RetryIn(Duration),
}

/// The webhook body: `{"type": "operation.<event>", "timestamp", "data": <document>}`.
#[derive(Serialize)]
struct Body<'a> {
    #[serde(rename = "type")]
    kind: String,
    timestamp: &'a str,
    data: &'a StatusDocument,
}

pub async fn handle(ctx: Arc<Context>, message: jetstream::Message, _slot: OwnedSemaphorePermit) {
    let event: Event = match serde_json::from_slice(&message.payload) {
        Ok(event) => event,
        Err(error) => {
            tracing::error!(%error, subject = %message.subject, "unreadable event; skipping it");
            settle(&message, Settle::Ack).await;
            return;
        }
    };
    let doc = &event.operation;
    let span = tracing::info_span!(
        "callback",
        operation = %doc.operation_id,
        tenant = %doc.tenant_id,
        correlation = %doc.correlation_id,
        workflow_id = doc.workflow.as_ref().and_then(|w| w.id.as_deref()),
        workflow_step = doc.workflow.as_ref().and_then(|w| w.step.as_deref()),
        workflow_name = doc.workflow.as_ref().and_then(|w| w.name.as_deref()),
        event = %event.event_id,
        traceparent = tracing::field::Empty,
    );
    async {
        let settled = match dispatch(&ctx, &message, &event).await {
            Ok(settle) => settle,
            Err(error) => {
                tracing::warn!(
                    error = format!("{error:#}"),
                    "callback not settled; retrying"
                );
                Settle::RetryIn(ON_OUR_ERROR)
            }
        };
        settle(&message, settled).await;
    }
    .instrument(span)
    .await;
}

async fn dispatch(
    ctx: &Context,
    message: &jetstream::Message,
    event: &Event,
) -> anyhow::Result<Settle> {
    let store = &ctx.deps.store;
    let operation = event.operation.operation_id;
    let Some(standing) = store.callback_standing(operation).await? else {
        return Ok(Settle::Ack);
    };
    if standing.settled || !standing.target.events.contains(&event.event) {
        return Ok(Settle::Ack);
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
    tracing::info!(attempt, ?outcome, "callback attempt");
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
    match outcome {
        Attempt::Delivered => {
            store
                .record_callback(
                    operation,
                    &CallbackProgress::Delivered { attempts: attempt },
                )
                .await?;
            Ok(Settle::Ack)
        }
        Attempt::Gone => {
            give_up(
                ctx,
                message,
                event,
                attempt,
                "gone",
                "the receiver answered 410 Gone",
            )
            .await
        }
        Attempt::Failed { error, retry_after } => {
            match callbacks.retry_schedule.delay_after(attempt) {
                None => give_up(ctx, message, event, attempt, "attempts-exhausted", &error).await,
                Some(delay) => {
                    store
                        .record_callback(
                            operation,
                            &CallbackProgress::Retrying {
                                attempts: attempt,
                                last_error: error,
                            },
                        )
                        .await?;
                    let asked = retry_after.map_or(Duration::ZERO, |d| d.min(MAX_RETRY_AFTER));
                    Ok(Settle::RetryIn(jittered(delay).max(asked)))
                }
            }
        }
    }
}

/// Sends the event to `<prefix>.deadletter.callbacks.<operation>` and records the webhook
/// as failed.
async fn give_up(
    ctx: &Context,
    message: &jetstream::Message,
    event: &Event,
    attempts: u64,
    reason: &str,
    last_error: &str,
) -> anyhow::Result<Settle> {
    let operation = event.operation.operation_id;
    tracing::warn!(attempts, reason, "callback given up; dead-lettering it");
    let mut letter = HeaderMap::new();
    letter.insert(
        headers::NATS_MSG_ID,
        format!("deadletter-callback-{}", event.event_id).as_str(),
    );
    letter.insert(headers::DEAD_LETTER_REASON, reason);
    letter.insert(
        headers::DEAD_LETTER_DELIVERIES,
        attempts.to_string().as_str(),
    );
    letter.insert(headers::DEAD_LETTER_LAST_ERROR, last_error);
    letter.insert(
        headers::NATS_CORRELATION_ID,
        event.operation.correlation_id.as_str(),
    );
    ctx.deps
        .jetstream
        .send_publish(
            ctx.deps.names.deadletter_callback_subject(operation),
            PublishMessage::build()
                .payload(message.payload.clone())
                .headers(letter),
        )
        .await?
        .await?;
    ctx.deps
        .store
        .record_callback(
            operation,
            &CallbackProgress::Failed {
                attempts,
                last_error: last_error.to_owned(),
            },
        )
        .await?;
    Ok(Settle::Ack)
}

/// ±20 %.
fn jittered(delay: Duration) -> Duration {
    delay.mul_f64(0.8 + fastrand::f64() * 0.4)
}

async fn settle(message: &jetstream::Message, settle: Settle) {
    let kind = match settle {
        Settle::Ack => AckKind::Ack,
        Settle::RetryIn(delay) => AckKind::Nak(Some(delay)),
    };
    if let Err(error) = message.ack_with(kind).await {
        tracing::warn!(%error, "acknowledgement not sent; JetStream will redeliver");
    }
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
