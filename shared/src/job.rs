//! What a worker is asked to do, and how it is asked. There is no separate job message: an
//! operation's `accepted` event is its job. The workers' consumer reads the `accepted`
//! subjects of the events stream, so one stored write both tells subscribers that the
//! operation was accepted and queues it, and the event's document names everything a
//! worker needs (the operation, its tenant, its kind, what a compensation undoes). The
//! items stay in Valkey, so an import up to the body limit fits a 1 MiB NATS message.

use async_nats::HeaderMap;
use async_nats::jetstream::context::{PublishAckFuture, PublishError};
use serde::Deserialize;

use crate::contract::{StatusDocument, headers};
use crate::event::{Event, EventKind, EventPublisher};
use crate::ids::{OperationId, TenantId};
use crate::kind::OperationKind;
use crate::operation::Operation;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Job {
    /// Import the items stored under the operation into the tenant's sample entities.
    BulkImport {
        operation_id: OperationId,
        tenant_id: TenantId,
    },
    /// Delete the entities that the bulk import `compensates` created.
    Compensation {
        operation_id: OperationId,
        tenant_id: TenantId,
        compensates: OperationId,
    },
}

/// Why an `accepted` event does not make a job.
#[derive(Debug, thiserror::Error)]
pub enum UnreadableJob {
    #[error("not an accepted event: {0}")]
    Malformed(#[from] serde_json::Error),
    #[error("no worker runs operations of kind {0:?}")]
    UnknownKind(String),
    #[error("a compensation that names no operation to undo")]
    NothingToUndo,
    #[error("a timestamp that is not RFC 3339")]
    Timestamp,
}

/// The part of an `accepted` event that a worker reads (serde skips the rest unparsed).
#[derive(Deserialize)]
struct Accepted {
    operation: StatusDocument,
}

impl Job {
    /// The job that an `accepted` event's payload stands for, and the operation as it was
    /// accepted (which a claim brings up to date, so that the worker need not read the
    /// whole record back).
    pub fn from_accepted(payload: &[u8]) -> Result<(Self, Operation), UnreadableJob> {
        let Accepted { operation } = serde_json::from_slice(payload)?;
        let (operation_id, tenant_id) = (operation.operation_id, operation.tenant_id);
        let job = match OperationKind::parse(&operation.kind) {
            Some(OperationKind::BulkImport) => Self::BulkImport {
                operation_id,
                tenant_id,
            },
            Some(OperationKind::Compensation) => Self::Compensation {
                operation_id,
                tenant_id,
                compensates: operation.compensates.ok_or(UnreadableJob::NothingToUndo)?,
            },
            None => return Err(UnreadableJob::UnknownKind(operation.kind)),
        };
        let accepted = Operation::from_document(operation).ok_or(UnreadableJob::Timestamp)?;
        Ok((job, accepted))
    }

    pub fn kind(&self) -> OperationKind {
        match self {
            Self::BulkImport { .. } => OperationKind::BulkImport,
            Self::Compensation { .. } => OperationKind::Compensation,
        }
    }

    pub fn operation_id(&self) -> OperationId {
        match self {
            Self::BulkImport { operation_id, .. } | Self::Compensation { operation_id, .. } => {
                *operation_id
            }
        }
    }

    pub fn tenant_id(&self) -> TenantId {
        match self {
            Self::BulkImport { tenant_id, .. } | Self::Compensation { tenant_id, .. } => *tenant_id,
        }
    }

    /// On a compensation: the operation it undoes.
    pub fn compensates(&self) -> Option<OperationId> {
        match self {
            Self::BulkImport { .. } => None,
            Self::Compensation { compensates, .. } => Some(*compensates),
        }
    }
}

/// Queues `operation`: sends its `accepted` event, whose id is derived from the operation
/// (so the stream's duplicate window drops a re-publication by a repeated request or the
/// sweeper), with headers that carry the request's context into the worker's logs
/// besides the event's own: tenant, workflow and W3C `traceparent`. Returns the future of
/// its PubAck: once that resolves, the job is stored.
pub async fn send(
    events: &EventPublisher,
    operation: &Operation,
) -> Result<PublishAckFuture, PublishError> {
    let mut job_headers = HeaderMap::new();
    job_headers.insert(
        headers::NATS_TENANT_ID,
        operation.tenant.to_string().as_str(),
    );
    let workflow = &operation.workflow;
    for (name, value) in [
        (headers::NATS_WORKFLOW_ID, &workflow.id),
        (headers::NATS_WORKFLOW_STEP, &workflow.step),
        (headers::NATS_WORKFLOW_NAME, &workflow.name),
        (headers::TRACEPARENT, &operation.traceparent),
    ] {
        if let Some(value) = value {
            job_headers.insert(name, value.as_str());
        }
    }
    let event = Event::of(EventKind::Accepted, operation.document());
    events.send_with_headers(&event, job_headers).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// An `accepted` event of an operation document with `named` in it.
    fn accepted(named: serde_json::Value) -> Vec<u8> {
        let mut operation = json!({
            "status": "accepted", "cancelRequested": false,
            "progress": {"current": 0, "total": 1, "percentage": 0},
            "result": null, "error": null, "orgId": null, "actorId": null,
            "correlationId": "c", "attempt": 0, "createdAt": "2026-02-16T10:05:00.123Z",
            "startedAt": null, "updatedAt": "2026-02-16T10:05:00.123Z", "completedAt": null,
        });
        for (name, value) in named.as_object().unwrap() {
            operation[name] = value.clone();
        }
        json!({"event": "accepted", "eventId": uuid::Uuid::nil(), "operation": operation})
            .to_string()
            .into_bytes()
    }

    #[test]
    fn an_accepted_event_names_its_job() {
        let (id, tenant, original) = (
            uuid::Uuid::from_u128(1),
            uuid::Uuid::from_u128(2),
            uuid::Uuid::from_u128(3),
        );
        let import = accepted(
            json!({"operationId": id, "tenantId": tenant, "kind": crate::contract::KIND_BULK_IMPORT, "status": "accepted"}),
        );
        let (job, operation) = Job::from_accepted(&import).unwrap();
        assert_eq!(
            job,
            Job::BulkImport {
                operation_id: OperationId(id),
                tenant_id: TenantId(tenant)
            }
        );
        assert_eq!(operation.created_millis, 1_771_236_300_123);
        let undo = accepted(
            json!({"operationId": id, "tenantId": tenant, "kind": "compensation", "compensates": original}),
        );
        assert_eq!(
            Job::from_accepted(&undo).unwrap().0.compensates(),
            Some(OperationId(original))
        );
    }

    #[test]
    fn what_is_not_a_job_says_why() {
        let (id, tenant) = (uuid::Uuid::from_u128(1), uuid::Uuid::from_u128(2));
        let unknown = accepted(json!({"operationId": id, "tenantId": tenant, "kind": "reindex"}));
        assert!(
            matches!(Job::from_accepted(&unknown), Err(UnreadableJob::UnknownKind(k)) if k == "reindex")
        );
        let undo = accepted(json!({"operationId": id, "tenantId": tenant, "kind": "compensation"}));
        assert!(matches!(
            Job::from_accepted(&undo),
            Err(UnreadableJob::NothingToUndo)
        ));
        assert!(matches!(
            Job::from_accepted(b"{not json"),
            Err(UnreadableJob::Malformed(_))
        ));
        let late = accepted(
            json!({"operationId": id, "tenantId": tenant, "kind": crate::contract::KIND_BULK_IMPORT, "createdAt": "soon"}),
        );
        assert!(matches!(
            Job::from_accepted(&late),
            Err(UnreadableJob::Timestamp)
        ));
    }
}
