//! The operation record: one Valkey hash per operation, read back into a status document.

use std::collections::HashMap;

use crate::ids::OperationId;

use super::StoreError;
use crate::clock;
use crate::contract::{
    CallbackState, ItemError, OperationResult, OperationStatus, Problem, Progress, StatusDocument,
    Workflow,
};
use crate::delivery::Delivery;

/// Field names of the operation hash: the one table that the Rust side (these constants)
/// and the Lua scripts (the table `F` that [`lua`](super::lua) generates from [`ALL`],
/// keyed by the lower-case constant name: `F.status`, `F.current`...) both read.
pub mod field {
    macro_rules! fields {
        ($($(#[$doc:meta])* $name:ident = $value:literal),* $(,)?) => {
            $($(#[$doc])* pub const $name: &str = $value;)*
            /// Every field, as (name in Lua, field in the hash).
            pub const ALL: &[(&str, &str)] = &[$((stringify!($name), $value)),*];
        };
    }

    fields! {
        TENANT = "tenant",
        KIND = "kind",
        /// The job's wire form, as first published.
        JOB = "job",
        STATUS = "status",
        CANCEL = "cancel",
        CURRENT = "cur",
        TOTAL = "total",
        SUCCEEDED = "succ",
        FAILED = "fail",
        ERROR = "error",
        WORKFLOW_ID = "wf_id",
        WORKFLOW_STEP = "wf_step",
        WORKFLOW_NAME = "wf_name",
        ORG = "org",
        ACTOR = "actor",
        CORRELATION = "corr",
        /// The delivery count of the owning delivery.
        ATTEMPT = "attempt",
        /// `<stream sequence>:<delivery count>` of the owning delivery (fencing).
        OWNER = "owner",
        CREATED = "created",
        STARTED = "started",
        UPDATED = "updated",
        COMPLETED = "completed",
        REVISION = "rev",
        CALLBACK_URL = "cb_url",
        CALLBACK_EVENTS = "cb_events",
        CALLBACK_STATUS = "cb_status",
        CALLBACK_ATTEMPTS = "cb_attempts",
        CALLBACK_ERROR = "cb_error",
        TRACEPARENT = "traceparent",
        COMPENSATES = "compensates",
        COMPENSATION = "comp_id",
    }
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
    pub compensation_id: Option<OperationId>,
    /// Its job's wire form, as first published.
    pub job: Option<String>,
    /// The delivery that owns it while it runs (and the last one, once it ended).
    pub owner: Option<Delivery>,
}

/// Builds the record of `operation` from its hash and its per-item errors (JSON lines).
pub fn parse(
    operation: OperationId,
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
        owner: text(field::OWNER).and_then(|owner| {
            let (sequence, attempt) = owner.split_once(':')?;
            Some(Delivery {
                stream_sequence: sequence.parse().ok()?,
                attempt: attempt.parse().ok()?,
            })
        }),
    })
}
