//! Operation events as server-sent events (contract §7a), read from the events stream in
//! JetStream through an ordered consumer of this stream's own, so that every message's `id`
//! is its stream sequence and a client that reconnects with `Last-Event-ID` resumes
//! exactly after it: no gap, no repeat, whichever intake it reaches.
//!
//! A stream holds a permit of the intake's bounded pool and a consumer on the server; both
//! are released when the client leaves, the stream ends, or the intake shuts down.

use std::convert::Infallible;
use std::time::Duration;

use async_nats::jetstream::consumer::DeliverPolicy;
use async_nats::jetstream::consumer::pull::{Ordered, OrderedConfig};
use axum::http::StatusCode;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::StreamExt as _;
use shared::connect::DEADLINE;
use shared::event::EventKind;
use shared::ids::{OperationId, TenantId};
use tokio::sync::OwnedSemaphorePermit;
use uuid::Uuid;

use crate::problem::ApiError;
use crate::state::AppState;

/// Where in the events stream to begin.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Start {
    /// From the first stored event.
    All,
    /// From the next event published.
    New,
    /// Right after the event with this cursor.
    After(u64),
}

/// The operation whose terminal event ends a stream.
#[derive(Clone, Copy, Debug)]
pub struct Ending {
    pub tenant: TenantId,
    pub operation: OperationId,
}

/// How long an operation-events stream waits for the terminal event of an operation whose
/// record has ended before it decides that the event is gone (never published, or expired
/// from the stream) and ends itself.
const TERMINAL_EVENT_GRACE: Duration = Duration::from_secs(5);

/// Opens a stream of the events under `filter`, from `start`; with `ending`, it ends after
/// that operation's terminal event. `503` when the intake serves its most streams already,
/// or JetStream does not answer.
pub async fn open(
    state: &AppState,
    filter: String,
    start: Start,
    ending: Option<Ending>,
) -> Result<Response, ApiError> {
    let permit = state
        .event_stream_permits()
        .clone()
        .try_acquire_owned()
        .map_err(|_| {
            let mut error = ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "too-many-event-streams",
                "This intake serves as many event streams as it may; retry later.",
            );
            error.set_retryable();
            error
        })?;
    let deps = state.deps();
    let name = format!("{}_sse_{}", deps.names.prefix(), Uuid::new_v4().simple());
    let messages = tokio::time::timeout(DEADLINE, subscribe(state, &name, filter, start))
        .await
        .map_err(|_| ApiError::unavailable("The event stream", "no answer within the deadline"))?
        .map_err(|cause| ApiError::unavailable("The event stream", cause))?;
    let held = Held::new(state.clone(), name, permit);
    let reader = Reader {
        state: state.clone(),
        messages,
        ending,
        ended_seen: false,
        done: false,
        _held: held,
    };
    let events = futures::stream::unfold(reader, Reader::next)
        .take_until(state.shutdown().clone().cancelled_owned());
    let keep_alive = KeepAlive::new().interval(state.settings().event_streams.keep_alive);
    Ok(Sse::new(events).keep_alive(keep_alive).into_response())
}

async fn subscribe(
    state: &AppState,
    name: &str,
    filter: String,
    start: Start,
) -> Result<Ordered, async_nats::Error> {
    let deps = state.deps();
    let stream = deps
        .jetstream
        .get_stream_no_info(deps.names.events_stream())
        .await?;
    let deliver_policy = match start {
        Start::All => DeliverPolicy::All,
        Start::New => DeliverPolicy::New,
        Start::After(cursor) => DeliverPolicy::ByStartSequence {
            start_sequence: cursor.saturating_add(1),
        },
    };
    let consumer = stream
        .create_consumer(OrderedConfig {
            name: Some(name.to_owned()),
            filter_subject: filter,
            deliver_policy,
            ..Default::default()
        })
        .await?;
    Ok(consumer.messages().await?)
}

/// Turns stored events into server-sent events.
struct Reader {
    state: AppState,
    messages: Ordered,
    ending: Option<Ending>,
    /// The ending operation's record was seen terminal while its terminal event was not.
    ended_seen: bool,
    done: bool,
    _held: Held,
}

impl Reader {
    async fn next(mut self) -> Option<(Result<SseEvent, Infallible>, Self)> {
        loop {
            if self.done {
                return None;
            }
            let waited = match self.ending {
                Some(_) => tokio::time::timeout(TERMINAL_EVENT_GRACE, self.messages.next()).await,
                None => Ok(self.messages.next().await),
            };
            match waited {
                Ok(Some(Ok(message))) => {
                    let Ok(info) = message.info() else { continue };
                    let sequence = info.stream_sequence;
                    let name = message
                        .subject
                        .rsplit('.')
                        .next()
                        .unwrap_or_default()
                        .to_owned();
                    self.done = self.ending.is_some() && is_terminal(&name);
                    let event = SseEvent::default()
                        .id(sequence.to_string())
                        .event(name)
                        .data(String::from_utf8_lossy(&message.payload));
                    return Some((Ok(event), self));
                }
                Ok(Some(Err(error))) => {
                    tracing::info!(%error, "event stream ended by JetStream; the client may resume");
                    return None;
                }
                Ok(None) => return None,
                Err(_) => {
                    if self.terminal_event_is_gone().await {
                        return None;
                    }
                }
            }
        }
    }

    /// True on the second quiet spell in a row in which the operation's record is terminal.
    async fn terminal_event_is_gone(&mut self) -> bool {
        let Some(ending) = self.ending else {
            return false;
        };
        let ended = matches!(
            self.state.deps().store.operation(ending.tenant, ending.operation).await,
            Ok(Some(record)) if record.status.is_terminal()
        );
        let gone = ended && self.ended_seen;
        self.ended_seen = ended;
        gone
    }
}

fn is_terminal(event: &str) -> bool {
    [
        EventKind::Completed,
        EventKind::Failed,
        EventKind::Cancelled,
    ]
    .iter()
    .any(|kind| kind.as_str() == event)
}

/// What an open stream holds: a permit of the intake's pool (counted in the open-streams
/// gauge) and its consumer, deleted on drop.
struct Held {
    state: AppState,
    consumer: String,
    _permit: OwnedSemaphorePermit,
}

impl Held {
    fn new(state: AppState, consumer: String, permit: OwnedSemaphorePermit) -> Self {
        state.deps().metrics.event_streams_open.inc();
        Self {
            state,
            consumer,
            _permit: permit,
        }
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        self.state.deps().metrics.event_streams_open.dec();
        let deps = self.state.deps().clone();
        let consumer = std::mem::take(&mut self.consumer);
        self.state.tasks().spawn(async move {
            let deleted = tokio::time::timeout(
                DEADLINE,
                deps.jetstream
                    .delete_consumer_from_stream(&consumer, deps.names.events_stream()),
            )
            .await;
            if !matches!(deleted, Ok(Ok(_))) {
                tracing::debug!(%consumer, "event stream consumer left to expire on the server");
            }
        });
    }
}
