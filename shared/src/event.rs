//! Operation events: every state change, published to
//! `<prefix>.events.<tenant>.<operation>.<event>` and kept in the events stream.

use async_nats::HeaderMap;
use async_nats::jetstream::context::{Context, PublishAckFuture, PublishError, PublishErrorKind};
use async_nats::jetstream::message::PublishMessage;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::clock;
use crate::contract::{OperationStatus, StatusDocument, headers};
use crate::names::Names;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EventKind {
    Accepted,
    Running,
    Progress,
    Completed,
    Failed,
    Cancelled,
    /// Published on the original operation's subject when its compensation completes.
    Compensated,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Accepted => "accepted",
            Self::Running => "running",
            Self::Progress => "progress",
            Self::Completed => "completed",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
            Self::Compensated => "compensated",
        }
    }

    /// The event that ends an operation in `status`; `None` while it has not ended.
    pub fn ending(status: OperationStatus) -> Option<Self> {
        match status {
            OperationStatus::Completed => Some(Self::Completed),
            OperationStatus::Failed => Some(Self::Failed),
            OperationStatus::Cancelled => Some(Self::Cancelled),
            OperationStatus::Accepted | OperationStatus::Running => None,
        }
    }
}

/// The event payload: `{"event", "eventId", "occurredAt", "operation"}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    pub event: EventKind,
    pub event_id: Uuid,
    pub occurred_at: String,
    pub operation: StatusDocument,
}

impl Event {
    /// An event whose id is derived from what it reports (kind, attempt, progress), so that
    /// a worker repeating a step after a crash publishes the same id and the stream's
    /// duplicate window drops the copy.
    pub fn of(kind: EventKind, operation: StatusDocument) -> Self {
        let name = format!(
            "{}:{}:{}",
            kind.as_str(),
            operation.attempt,
            operation.progress.current
        );
        Self {
            event: kind,
            event_id: Uuid::new_v5(&operation.operation_id.0, name.as_bytes()),
            occurred_at: clock::rfc3339(clock::now_millis()),
            operation,
        }
    }
}

/// Publishes events to JetStream.
#[derive(Clone)]
pub struct EventPublisher {
    jetstream: Context,
    names: Names,
}

impl EventPublisher {
    pub fn new(jetstream: Context, names: Names) -> Self {
        Self { jetstream, names }
    }

    /// Sends the event and waits until JetStream has stored it (the context's deadline
    /// bounds the wait).
    pub async fn publish(&self, event: &Event) -> Result<(), PublishError> {
        self.send(event).await?.await?;
        Ok(())
    }

    /// Sends the event and returns the future of its PubAck, so that a caller can send
    /// several in order and await their acks together.
    pub async fn send(&self, event: &Event) -> Result<PublishAckFuture, PublishError> {
        self.send_with_headers(event, HeaderMap::new()).await
    }

    /// [`Self::send`], with `header_map` beside the event's own headers.
    pub async fn send_with_headers(
        &self,
        event: &Event,
        mut header_map: HeaderMap,
    ) -> Result<PublishAckFuture, PublishError> {
        let doc = &event.operation;
        let subject =
            self.names
                .event_subject(doc.tenant_id, doc.operation_id, event.event.as_str());
        header_map.insert(headers::NATS_MSG_ID, event.event_id.to_string().as_str());
        header_map.insert(headers::NATS_CORRELATION_ID, doc.correlation_id.as_str());
        let payload = serde_json::to_vec(event)
            .map_err(|e| PublishError::with_source(PublishErrorKind::Other, e))?;
        self.jetstream
            .send_publish(
                subject,
                PublishMessage::build()
                    .payload(payload.into())
                    .headers(header_map),
            )
            .await
    }
}
