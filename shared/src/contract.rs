//! Wire types of the HTTP contract: header names, the status document and problems.

use crate::ids::{OperationId, TenantId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Header names of the contract (lower case, as HTTP/2 and NATS tooling show them).
pub mod headers {
    pub const TENANT_ID: &str = "x-tenant-id";
    pub const ORG_ID: &str = "x-org-id";
    pub const ACTOR_ID: &str = "x-actor-id";
    pub const CORRELATION_ID: &str = "x-correlation-id";
    pub const WORKFLOW_ID: &str = "x-workflow-id";
    pub const WORKFLOW_STEP: &str = "x-workflow-step";
    pub const WORKFLOW_NAME: &str = "x-workflow-name";
    pub const OPERATION_LOCATION: &str = "operation-location";
    pub const AZURE_ASYNC_OPERATION: &str = "azure-asyncoperation";
    /// RFC 7240 preferences, and the one this service honours.
    pub const PREFER: &str = "prefer";
    pub const PREFERENCE_APPLIED: &str = "preference-applied";
    pub const CALLBACK_URL: &str = "x-callback-url";
    pub const CALLBACK_EVENTS: &str = "x-callback-events";
    /// JetStream's de-duplication header.
    pub const NATS_MSG_ID: &str = "Nats-Msg-Id";
    /// Carried on job messages so a worker can log the tenant before it parses the payload.
    pub const NATS_TENANT_ID: &str = "X-Tenant-Id";
    pub const NATS_CORRELATION_ID: &str = "X-Correlation-Id";
    pub const NATS_WORKFLOW_ID: &str = "X-Workflow-Id";
    pub const NATS_WORKFLOW_STEP: &str = "X-Workflow-Step";
    pub const NATS_WORKFLOW_NAME: &str = "X-Workflow-Name";
    /// W3C trace context, carried as received.
    pub const TRACEPARENT: &str = "traceparent";
    /// On a dead letter: why the job or callback was given up.
    pub const DEAD_LETTER_REASON: &str = "Participant-Reason";
    /// On a dead letter: how many deliveries (or callback attempts) it had.
    pub const DEAD_LETTER_DELIVERIES: &str = "Participant-Deliveries";
    /// On a dead callback: the last attempt's error.
    pub const DEAD_LETTER_LAST_ERROR: &str = "Participant-Last-Error";
}

/// The kind of a bulk import operation.
pub const KIND_BULK_IMPORT: &str = "sampleentities.bulk-import";
/// The kind of an operation that undoes another (saga rollback).
pub const KIND_COMPENSATION: &str = "compensation";

/// Lifecycle of an operation: `accepted` → `running` → one terminal state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum OperationStatus {
    Accepted,
    Running,
    Completed,
    Failed,
    Cancelled,
}

impl OperationStatus {
    pub const ALL: [OperationStatus; 5] = [
        Self::Accepted,
        Self::Running,
        Self::Completed,
        Self::Failed,
        Self::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Accepted => "accepted",
            Self::Running => "running",
            Self::Completed => "completed",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == value)
    }

    /// Terminal states never change again.
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Completed | Self::Failed | Self::Cancelled)
    }
}

/// `workflow` of the status document, from the `X-Workflow-*` headers.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Workflow {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub step: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl Workflow {
    pub fn is_empty(&self) -> bool {
        self.id.is_none() && self.step.is_none() && self.name.is_none()
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Progress {
    pub current: u64,
    pub total: u64,
    pub percentage: u8,
}

impl Progress {
    pub fn new(current: u64, total: u64) -> Self {
        let percentage = (current.min(total) * 100)
            .checked_div(total)
            .map_or(100, |p| u8::try_from(p).unwrap_or(100));
        Self {
            current,
            total,
            percentage,
        }
    }
}

/// One item that could not be imported, by its index in the request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ItemError {
    pub index: u64,
    pub error: String,
}

/// `result` of a terminal operation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OperationResult {
    pub processed: u64,
    pub succeeded: u64,
    pub failed: u64,
    pub errors: Vec<ItemError>,
}

/// The status document (`GET /api/operations/{id}`, events, webhooks).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StatusDocument {
    pub operation_id: OperationId,
    pub kind: String,
    pub status: OperationStatus,
    pub cancel_requested: bool,
    pub progress: Progress,
    pub result: Option<OperationResult>,
    pub error: Option<Problem>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workflow: Option<Workflow>,
    pub tenant_id: TenantId,
    pub org_id: Option<String>,
    pub actor_id: Option<String>,
    pub correlation_id: String,
    pub attempt: u64,
    pub created_at: String,
    pub started_at: Option<String>,
    pub updated_at: String,
    pub completed_at: Option<String>,
    /// How the webhook of an operation started with `X-Callback-Url` is faring.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback: Option<CallbackState>,
    /// On a compensation: the operation it undoes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compensates: Option<OperationId>,
    /// On a compensated operation: the compensation and where it stands.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compensation: Option<CompensationRef>,
}

/// `compensation` of the status document.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CompensationRef {
    pub operation_id: OperationId,
    pub status: OperationStatus,
}

/// `callback` of the status document.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CallbackState {
    /// `retrying`, `delivered` or `failed`.
    pub status: String,
    pub attempts: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
}

/// One invalid field of a request, by JSON pointer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FieldError {
    pub pointer: String,
    pub detail: String,
}

/// An RFC 9457 problem, with the contract's extension members.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Problem {
    #[serde(rename = "type")]
    pub problem_type: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correlation_id: Option<String>,
    pub code: String,
    pub retryable: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// On the `424` of an operation's `result` view: its status document.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub operation: Option<Box<serde_json::Value>>,
}

impl Problem {
    /// A problem whose `type` is derived from its code.
    pub fn new(status: u16, code: &str, title: &str, detail: impl Into<String>) -> Self {
        Self {
            problem_type: format!("https://participant.dev/problems/{code}"),
            title: title.to_owned(),
            status,
            detail: detail.into(),
            instance: None,
            correlation_id: None,
            code: code.to_owned(),
            retryable: false,
            errors: Vec::new(),
            operation: None,
        }
    }

    pub fn retryable(mut self) -> Self {
        self.retryable = true;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_percentage_is_floored_and_bounded() {
        assert_eq!(Progress::new(450, 1000).percentage, 45);
        assert_eq!(Progress::new(999, 1000).percentage, 99);
        assert_eq!(Progress::new(5, 5).percentage, 100);
    }

    #[test]
    fn status_names_round_trip() {
        for status in OperationStatus::ALL {
            assert_eq!(OperationStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(OperationStatus::parse("done"), None);
    }
}
