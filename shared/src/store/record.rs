//! The operation record: one Valkey hash per operation, read back into a status document.

use std::collections::HashMap;

use uuid::Uuid;

use super::StoreError;
use crate::clock;
use crate::contract::{
    CallbackState, ItemError, OperationResult, OperationStatus, Problem, Progress, StatusDocument,
    Workflow,
};

/// Field names of the operation hash.
pub mod field {
    pub const TENANT: &str = "tenant";
    pub const KIND: &str = "kind";
    /// The job's wire form, as first published.
    pub const JOB: &str = "job";
    pub const STATUS: &str = "status";
    pub const CANCEL: &str = "cancel";
    pub const CURRENT: &str = "cur";
    pub const TOTAL: &str = "total";
    pub const SUCCEEDED: &str = "succ";
    pub const FAILED: &str = "fail";
    pub const ERROR: &str = "error";
    pub const WORKFLOW_ID: &str = "wf_id";
    pub const WORKFLOW_STEP: &str = "wf_step";
    pub const WORKFLOW_NAME: &str = "wf_name";
    pub const ORG: &str = "org";
    pub const ACTOR: &str = "actor";
    pub const CORRELATION: &str = "corr";
    pub const ATTEMPT: &str = "attempt";
    pub const CREATED: &str = "created";
    pub const STARTED: &str = "started";
    pub const UPDATED: &str = "updated";
    pub const COMPLETED: &str = "completed";
    pub const REVISION: &str = "rev";
    pub const CALLBACK_URL: &str = "cb_url";
    pub const CALLBACK_EVENTS: &str = "cb_events";
    pub const CALLBACK_STATUS: &str = "cb_status";
    pub const CALLBACK_ATTEMPTS: &str = "cb_attempts";
    pub const CALLBACK_ERROR: &str = "cb_error";
    pub const TRACEPARENT: &str = "traceparent";
    pub const COMPENSATES: &str = "compensates";
    pub const COMPENSATION: &str = "comp_id";
}

/// An operation as stored: its status document and its revision, which changes with
/// every write and serves as the `ETag`.
#[derive(Clone, Debug, PartialEq)]
pub struct Record {
    pub document: StatusDocument,
    pub revision: u64,
    /// When it was accepted, in unix milliseconds.
    pub created_millis: i64,
    /// The W3C `traceparent` of the request that started it.
    pub traceparent: Option<String>,
    /// The compensation started for it, if any (its status is read with the record).
    pub compensation_id: Option<Uuid>,
    /// Its job's wire form, as first published.
    pub job: Option<String>,
}

/// Builds the record of `operation` from its hash and its per-item errors (JSON lines).
pub fn parse(
    operation: Uuid,
    hash: &HashMap<String, String>,
    errors: &[String],
) -> Result<Record, StoreError> {
    let text = |name: &str| hash.get(name).filter(|v| !v.is_empty()).cloned();
    let number = |name: &str| -> u64 { hash.get(name).and_then(|v| v.parse().ok()).unwrap_or(0) };
    let time = |name: &str| -> Option<String> {
        hash.get(name)
            .and_then(|v| v.parse::<i64>().ok())
            .map(clock::rfc3339)
    };
    let corrupt = |what: &str| StoreError::Unexpected(format!("operation {operation}: {what}"));

    let status = hash
        .get(field::STATUS)
        .and_then(|s| OperationStatus::parse(s))
        .ok_or_else(|| corrupt("no valid status"))?;
    let tenant_id = hash
        .get(field::TENANT)
        .and_then(|t| t.parse().ok())
        .ok_or_else(|| corrupt("no valid tenant"))?;
    let current = number(field::CURRENT);
    let result = (status.is_terminal() && hash.get(field::ERROR).is_none())
        .then(|| -> Result<OperationResult, StoreError> {
            Ok(OperationResult {
                processed: current,
                succeeded: number(field::SUCCEEDED),
                failed: number(field::FAILED),
                errors: errors
                    .iter()
                    .map(|e| serde_json::from_str::<ItemError>(e))
                    .collect::<Result<_, _>>()
                    .map_err(|e| corrupt(&format!("item error: {e}")))?,
            })
        })
        .transpose()?;
    let error = hash
        .get(field::ERROR)
        .map(|e| serde_json::from_str::<Problem>(e))
        .transpose()
        .map_err(|e| corrupt(&format!("error: {e}")))?;
    let workflow = Workflow {
        id: text(field::WORKFLOW_ID),
        step: text(field::WORKFLOW_STEP),
        name: text(field::WORKFLOW_NAME),
    };

    let document = StatusDocument {
        operation_id: operation,
        kind: text(field::KIND).unwrap_or_default(),
        status,
        cancel_requested: hash.get(field::CANCEL).is_some_and(|c| c == "1"),
        progress: Progress::new(current, number(field::TOTAL)),
        result,
        error,
        workflow: (!workflow.is_empty()).then_some(workflow),
        tenant_id,
        org_id: text(field::ORG),
        actor_id: text(field::ACTOR),
        correlation_id: text(field::CORRELATION).unwrap_or_default(),
        attempt: number(field::ATTEMPT),
        created_at: time(field::CREATED).unwrap_or_default(),
        started_at: time(field::STARTED),
        updated_at: time(field::UPDATED).unwrap_or_default(),
        completed_at: time(field::COMPLETED),
        callback: text(field::CALLBACK_STATUS).map(|status| CallbackState {
            status,
            attempts: number(field::CALLBACK_ATTEMPTS),
            last_error: text(field::CALLBACK_ERROR),
        }),
        compensates: text(field::COMPENSATES).and_then(|id| id.parse().ok()),
        compensation: None,
    };
    Ok(Record {
        document,
        revision: number(field::REVISION),
        created_millis: hash
            .get(field::CREATED)
            .and_then(|v| v.parse().ok())
            .unwrap_or_default(),
        traceparent: text(field::TRACEPARENT),
        compensation_id: text(field::COMPENSATION).and_then(|id| id.parse().ok()),
        job: text(field::JOB),
    })
}
