//! The operation record: one Valkey hash per operation, read back into an [`Operation`].

use super::StoreError;
use crate::contract::{
    CallbackState, CompensationRef, ItemError, OperationResult, OperationStatus, Problem, Progress,
    Workflow,
};
use crate::delivery::Delivery;
use crate::ids::OperationId;
use crate::kind::OperationKind;
use crate::operation::Operation;

use field::At;

/// Field names of the operation hash: the one table that the Rust side (these constants)
/// and the Lua scripts (which write `F.` and the lower-case constant name, `F.status`,
/// `F.current`..., spelled out from [`ALL`] by [`lua`](super::lua)) both read.
pub mod field {
    macro_rules! fields {
        ($($(#[$doc:meta])* $name:ident = $value:literal),* $(,)?) => {
            $($(#[$doc])* pub const $name: &str = $value;)*
            /// Every field, as (name in Lua, field in the hash).
            pub const ALL: &[(&str, &str)] = &[$((stringify!($name), $name)),*];
            /// Each field's place in [`ALL`], and so in [`in_order`](super::in_order)'s shape.
            #[allow(
                non_camel_case_types,
                clippy::upper_case_acronyms,
                reason = "named as the field's constant"
            )]
            #[derive(Clone, Copy)]
            pub enum At {
                $($name),*
            }
            /// The place in [`ALL`] of the hash field `name`.
            pub fn position(name: &str) -> Option<usize> {
                match name {
                    $($value => Some(At::$name as usize),)*
                    _ => None,
                }
            }
        };
    }

    fields! {
        TENANT = "tenant",
        KIND = "kind",
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

/// `HGETALL` of an operation's hash: how the store reads a whole record. Valkey keeps a
/// small hash as one list of fields and values, which `HGETALL` walks once, whereas an
/// `HMGET` of every field walks it once per field (and to its end for each absent one).
pub fn read_all(key: &str) -> redis::Cmd {
    let mut read = redis::cmd("HGETALL");
    read.arg(key);
    read
}

/// A hash's fields and values, as [`read_all`] answers them.
pub type Hash = Vec<(String, String)>;

/// A hash's fields and values, as [`read_all`] answers them, in [`field::ALL`]'s order (the
/// shape [`parse`] reads); a field the table does not know is left out.
pub fn in_order<N: AsRef<str>, V: Into<String>>(
    pairs: impl IntoIterator<Item = (N, V)>,
) -> Vec<Option<String>> {
    let mut fields = vec![None; field::ALL.len()];
    for (name, value) in pairs {
        if let Some(index) = field::position(name.as_ref()) {
            fields[index] = Some(value.into());
        }
    }
    fields
}

/// Whether `fields`, in [`in_order`]'s shape, are of no record at all (`HGETALL` answers
/// nothing for a key that does not exist).
pub fn is_absent(fields: &[Option<String>]) -> bool {
    fields.iter().all(Option::is_none)
}

/// Reads `operation` back from its hash, in [`in_order`]'s shape, and its per-item errors
/// (JSON lines); the live status of its compensation is filled in by the caller that reads
/// it.
pub fn parse(
    operation: OperationId,
    fields: &[Option<String>],
    errors: &[String],
) -> Result<Operation, StoreError> {
    let get = |at: At| fields.get(at as usize)?.as_ref();
    let text = |at: At| get(at).filter(|v| !v.is_empty()).cloned();
    let number = |at: At| -> u64 { get(at).and_then(|v| v.parse().ok()).unwrap_or(0) };
    let millis = |at: At| -> Option<i64> { get(at).and_then(|v| v.parse().ok()) };
    let corrupt = |what: &str| StoreError::Unexpected(format!("operation {operation}: {what}"));

    let status = get(At::STATUS)
        .and_then(|s| OperationStatus::parse(s))
        .ok_or_else(|| corrupt("no valid status"))?;
    let tenant = get(At::TENANT)
        .and_then(|t| t.parse().ok())
        .ok_or_else(|| corrupt("no valid tenant"))?;
    let kind = get(At::KIND)
        .and_then(|k| OperationKind::parse(k))
        .ok_or_else(|| corrupt("no known kind"))?;
    let current = number(At::CURRENT);
    let counts = Counts {
        processed: current,
        succeeded: number(At::SUCCEEDED),
        failed: number(At::FAILED),
    };
    let failed_whole = get(At::ERROR).is_some();
    let result = result_of(operation, status, failed_whole, counts, errors)?;
    let error = get(At::ERROR)
        .map(|e| serde_json::from_str::<Problem>(e))
        .transpose()
        .map_err(|e| corrupt(&format!("error: {e}")))?;
    Ok(Operation {
        id: operation,
        tenant,
        kind,
        status,
        cancel_requested: get(At::CANCEL).is_some_and(|c| c == "1"),
        progress: Progress::new(current, number(At::TOTAL)),
        result,
        error,
        workflow: Workflow {
            id: text(At::WORKFLOW_ID),
            step: text(At::WORKFLOW_STEP),
            name: text(At::WORKFLOW_NAME),
        },
        org: text(At::ORG),
        actor: text(At::ACTOR),
        correlation: text(At::CORRELATION).unwrap_or_default(),
        attempt: number(At::ATTEMPT),
        created_millis: millis(At::CREATED).unwrap_or_default(),
        started_millis: millis(At::STARTED),
        updated_millis: millis(At::UPDATED).unwrap_or_default(),
        completed_millis: millis(At::COMPLETED),
        callback: text(At::CALLBACK_STATUS).map(|status| CallbackState {
            status,
            attempts: number(At::CALLBACK_ATTEMPTS),
            last_error: text(At::CALLBACK_ERROR),
        }),
        compensates: text(At::COMPENSATES).and_then(|id| id.parse().ok()),
        compensation: text(At::COMPENSATION)
            .and_then(|id| id.parse().ok())
            .map(|operation_id| CompensationRef {
                operation_id,
                status: OperationStatus::Accepted,
            }),
        revision: number(At::REVISION),
        traceparent: text(At::TRACEPARENT),
        owner: text(At::OWNER).and_then(|owner| {
            let (sequence, attempt) = owner.split_once(':')?;
            Some(Delivery {
                stream_sequence: sequence.parse().ok()?,
                attempt: attempt.parse().ok()?,
            })
        }),
    })
}

/// The [`CHECKPOINTED`] or [`CLAIMED`] fields as a checkpoint or a claim answers with them:
/// joined by commas into one reply value (each value costs the reply parser about as much
/// as a whole short string), an absent field as nothing. None of them can hold a comma:
/// they are a status, counts, times in milliseconds and a flag.
pub fn unjoin(joined: &str) -> Vec<Option<String>> {
    joined
        .split(',')
        .map(|value| (!value.is_empty()).then(|| value.to_owned()))
        .collect()
}

/// The hash fields that a checkpoint answers with (those it writes, and the cancel flag a
/// request may have changed meanwhile), in the order [`advance`] reads them.
pub const CHECKPOINTED: [&str; 8] = [
    field::STATUS,
    field::CURRENT,
    field::SUCCEEDED,
    field::FAILED,
    field::UPDATED,
    field::COMPLETED,
    field::REVISION,
    field::CANCEL,
];

/// `record` after a checkpoint, from the [`CHECKPOINTED`] fields as the checkpoint left
/// them and, once it has ended, its per-item errors: the same operation that [`parse`]
/// would read back from the whole hash, without sending the whole hash.
pub fn advance(
    mut record: Operation,
    changed: &[Option<String>],
    errors: &[String],
) -> Result<Operation, StoreError> {
    let operation = record.id;
    let corrupt = |what: &str| StoreError::Unexpected(format!("operation {operation}: {what}"));
    let value = |name: &str| {
        let index = CHECKPOINTED.iter().position(|field| *field == name)?;
        changed.get(index)?.as_deref()
    };
    let number = |name: &str| -> u64 { value(name).and_then(|v| v.parse().ok()).unwrap_or(0) };
    let millis = |name: &str| -> Option<i64> { value(name).and_then(|v| v.parse().ok()) };
    record.status = value(field::STATUS)
        .and_then(OperationStatus::parse)
        .ok_or_else(|| corrupt("no valid status"))?;
    let counts = Counts {
        processed: number(field::CURRENT),
        succeeded: number(field::SUCCEEDED),
        failed: number(field::FAILED),
    };
    record.progress = Progress::new(counts.processed, record.progress.total);
    record.updated_millis = millis(field::UPDATED).unwrap_or(record.updated_millis);
    record.completed_millis = millis(field::COMPLETED);
    record.revision = number(field::REVISION);
    record.cancel_requested = value(field::CANCEL) == Some("1");
    record.result = result_of(operation, record.status, false, counts, errors)?;
    Ok(record)
}

/// The hash fields that a claim answers with: the [`CHECKPOINTED`] ones (a redelivery
/// resumes from a checkpoint; a cancel may have been requested), then the one that only a
/// claim writes, `started`. (The attempt it writes is the owner's.)
pub const CLAIMED: [&str; CHECKPOINTED.len() + 1] = {
    let mut claimed = [field::STARTED; CHECKPOINTED.len() + 1];
    let mut at = 0;
    while at < CHECKPOINTED.len() {
        claimed[at] = CHECKPOINTED[at];
        at += 1;
    }
    claimed
};

/// The operation running under `owner` after its claim: `accepted`, the operation as its
/// `accepted` event describes it, brought up to date from the [`CLAIMED`] fields as the
/// claim left them. What an operation's hash adds to its `accepted` event is only ever
/// written by the claim, a checkpoint, a cancel request or once it has ended, so this is
/// the operation that [`parse`] would read back from the whole hash, without sending it.
pub fn claimed(
    accepted: Operation,
    owner: Delivery,
    changed: &[Option<String>],
) -> Result<Operation, StoreError> {
    let mut record = advance(accepted, changed, &[])?;
    record.started_millis = changed
        .get(CLAIMED.len() - 1)
        .and_then(|started| started.as_deref()?.parse().ok());
    record.attempt = owner.attempt;
    record.owner = Some(owner);
    Ok(record)
}

/// How many items an operation has been through, and how they fared.
#[derive(Clone, Copy)]
struct Counts {
    processed: u64,
    succeeded: u64,
    failed: u64,
}

/// The `result` of an operation in `status`: once it has ended, unless it failed as a
/// whole.
fn result_of(
    operation: OperationId,
    status: OperationStatus,
    failed_whole: bool,
    counts: Counts,
    errors: &[String],
) -> Result<Option<OperationResult>, StoreError> {
    if !status.is_terminal() || failed_whole {
        return Ok(None);
    }
    let errors = errors
        .iter()
        .map(|e| serde_json::from_str::<ItemError>(e))
        .collect::<Result<_, _>>()
        .map_err(|e| StoreError::Unexpected(format!("operation {operation}: item error: {e}")))?;
    Ok(Some(OperationResult {
        processed: counts.processed,
        succeeded: counts.succeeded,
        failed: counts.failed,
        errors,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `pairs` with `changes` written over them, as `HSET` would.
    fn written<'a>(
        pairs: &[(&'a str, &'a str)],
        changes: &[(&'a str, &'a str)],
    ) -> Vec<(&'a str, &'a str)> {
        let mut hash: Vec<(&str, &str)> = pairs
            .iter()
            .filter(|(name, _)| !changes.iter().any(|(changed, _)| changed == name))
            .copied()
            .collect();
        hash.extend_from_slice(changes);
        hash
    }

    #[test]
    fn every_field_is_found_at_its_place_in_the_table() {
        for (at, (_, name)) in field::ALL.iter().enumerate() {
            assert_eq!(field::position(name), Some(at), "{name}");
        }
        assert_eq!(field::position(field::STATUS), Some(At::STATUS as usize));
        assert_eq!(field::position("no-such-field"), None);
    }

    #[test]
    fn joined_fields_come_apart_with_the_absent_ones_as_none() {
        assert_eq!(
            unjoin("running,10,,1771236300123"),
            [
                Some("running".to_owned()),
                Some("10".to_owned()),
                None,
                Some("1771236300123".to_owned())
            ]
        );
    }

    #[test]
    fn a_claimed_operation_is_what_its_whole_hash_reads_back_as() {
        let id = OperationId(uuid::Uuid::from_u128(1));
        let tenant = uuid::Uuid::from_u128(2).to_string();
        let created = [
            (field::TENANT, tenant.as_str()),
            (field::KIND, OperationKind::BulkImport.name()),
            (field::STATUS, "accepted"),
            (field::CANCEL, "0"),
            (field::CURRENT, "0"),
            (field::TOTAL, "10"),
            (field::SUCCEEDED, "0"),
            (field::FAILED, "0"),
            (field::CORRELATION, "c-1"),
            (field::ATTEMPT, "0"),
            (field::CREATED, "1771236300123"),
            (field::UPDATED, "1771236300123"),
            (field::REVISION, "1"),
            (field::WORKFLOW_ID, "wf"),
            (field::ORG, "org"),
        ];
        let accepted = parse(id, &in_order(created), &[]).expect("a record");
        let accepted = Operation::from_document(accepted.document()).expect("a document");
        // A redelivery resuming at 4 of 10, with a cancel requested meanwhile.
        let hash = written(
            &created,
            &[
                (field::STATUS, "running"),
                (field::CURRENT, "4"),
                (field::SUCCEEDED, "3"),
                (field::FAILED, "1"),
                (field::UPDATED, "1771236301000"),
                (field::STARTED, "1771236300500"),
                (field::REVISION, "6"),
                (field::CANCEL, "1"),
                (field::ATTEMPT, "2"),
                (field::OWNER, "7:2"),
            ],
        );
        let read = in_order(hash.iter().copied());
        let changed: Vec<Option<String>> = CLAIMED
            .iter()
            .map(|name| read[field::position(name)?].clone())
            .collect();
        let owner = Delivery {
            stream_sequence: 7,
            attempt: 2,
        };

        let claimed = claimed(accepted, owner, &changed).expect("claimed");
        let whole = parse(id, &read, &[]).expect("a record");
        assert_eq!(claimed.document(), whole.document());
        assert_eq!(
            (claimed.revision, claimed.owner),
            (whole.revision, whole.owner)
        );
    }
}
