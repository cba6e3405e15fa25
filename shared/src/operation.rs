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
}
