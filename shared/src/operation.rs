//! The operation as the service knows it: what the store returns and the roles work with.
//! Its status document, the wire form of the contract, is built from it only at the edges
//! that send one (HTTP answers, events, webhooks).

use crate::clock;
use crate::contract::{
    CallbackState, CompensationRef, OperationResult, OperationStatus, Problem, Progress,
    StatusDocument, Workflow,
};
use crate::delivery::Delivery;
use crate::ids::{OperationId, TenantId};
use crate::kind::OperationKind;

/// One long-running operation.
#[derive(Clone, Debug, PartialEq)]
pub struct Operation {
    pub id: OperationId,
    pub tenant: TenantId,
    pub kind: OperationKind,
    pub status: OperationStatus,
    pub cancel_requested: bool,
    pub progress: Progress,
    /// Once it has ended without failing as a whole.
    pub result: Option<OperationResult>,
    /// When it failed as a whole.
    pub error: Option<Problem>,
    pub workflow: Workflow,
    pub org: Option<String>,
    pub actor: Option<String>,
    pub correlation: String,
    /// The delivery count of its last claim (0: never claimed).
    pub attempt: u64,
    /// Unix milliseconds.
    pub created_millis: i64,
    pub started_millis: Option<i64>,
    pub updated_millis: i64,
    pub completed_millis: Option<i64>,
    pub callback: Option<CallbackState>,
    /// On a compensation: the operation it undoes.
    pub compensates: Option<OperationId>,
    /// On a compensated operation: its compensation, with the compensation's live status
    /// when the store read it.
    pub compensation: Option<CompensationRef>,
    /// Changes with every write; the `ETag`.
    pub revision: u64,
    /// The W3C `traceparent` of the request that started it.
    pub traceparent: Option<String>,
    /// The delivery that owns it while it runs (and the last one, once it ended).
    pub owner: Option<Delivery>,
}

impl Operation {
    /// Its status document (contract §3).
    pub fn document(&self) -> StatusDocument {
        StatusDocument {
            operation_id: self.id,
            kind: self.kind.name().to_owned(),
            status: self.status,
            cancel_requested: self.cancel_requested,
            progress: self.progress.clone(),
            result: self.result.clone(),
            error: self.error.clone(),
            workflow: (!self.workflow.is_empty()).then(|| self.workflow.clone()),
            tenant_id: self.tenant,
            org_id: self.org.clone(),
            actor_id: self.actor.clone(),
            correlation_id: self.correlation.clone(),
            attempt: self.attempt,
            created_at: clock::rfc3339(self.created_millis),
            started_at: self.started_millis.map(clock::rfc3339),
            updated_at: clock::rfc3339(self.updated_millis),
            completed_at: self.completed_millis.map(clock::rfc3339),
            callback: self.callback.clone(),
            compensates: self.compensates,
            compensation: self.compensation.clone(),
        }
    }

    /// The operation that a status document describes, as far as the document tells:
    /// what it does not carry (the revision, the `traceparent`, the owning delivery) is
    /// left empty. `None` when its kind is unknown or a timestamp is unreadable.
    pub fn from_document(document: StatusDocument) -> Option<Self> {
        Some(Self {
            id: document.operation_id,
            tenant: document.tenant_id,
            kind: OperationKind::parse(&document.kind)?,
            status: document.status,
            cancel_requested: document.cancel_requested,
            progress: document.progress,
            result: document.result,
            error: document.error,
            workflow: document.workflow.unwrap_or_default(),
            org: document.org_id,
            actor: document.actor_id,
            correlation: document.correlation_id,
            attempt: document.attempt,
            created_millis: clock::parse_rfc3339(&document.created_at)?,
            started_millis: optional_millis(document.started_at.as_deref())?,
            updated_millis: clock::parse_rfc3339(&document.updated_at)?,
            completed_millis: optional_millis(document.completed_at.as_deref())?,
            callback: document.callback,
            compensates: document.compensates,
            compensation: document.compensation,
            revision: 0,
            traceparent: None,
            owner: None,
        })
    }
}

/// An optional timestamp: `Some(None)` when absent, `None` when unreadable.
fn optional_millis(text: Option<&str>) -> Option<Option<i64>> {
    text.map_or(Some(None), |text| clock::parse_rfc3339(text).map(Some))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::CallbackState;

    #[test]
    fn an_operation_reads_back_from_its_document_but_for_what_the_document_omits() {
        let operation = Operation {
            id: OperationId(uuid::Uuid::from_u128(1)),
            tenant: TenantId(uuid::Uuid::from_u128(2)),
            kind: OperationKind::BulkImport,
            status: OperationStatus::Accepted,
            cancel_requested: false,
            progress: Progress::new(0, 10),
            result: None,
            error: None,
            workflow: Workflow {
                id: Some("wf".into()),
                step: None,
                name: Some("nightly".into()),
            },
            org: Some("org".into()),
            actor: None,
            correlation: "c-1".into(),
            attempt: 0,
            created_millis: 1_771_236_300_123,
            started_millis: None,
            updated_millis: 1_771_236_300_124,
            completed_millis: None,
            callback: Some(CallbackState {
                status: "pending".into(),
                attempts: 0,
                last_error: None,
            }),
            compensates: None,
            compensation: None,
            revision: 0,
            traceparent: None,
            owner: None,
        };
        assert_eq!(
            Operation::from_document(operation.document()),
            Some(operation.clone())
        );
        let mut unknown = operation.document();
        unknown.kind = "reindex".into();
        assert_eq!(Operation::from_document(unknown), None);
        let mut unreadable = operation.document();
        unreadable.started_at = Some("soon".into());
        assert_eq!(Operation::from_document(unreadable), None);
    }
}
