//! Checkpoints: the outcome of a batch and the progress recorded in one step, refused
//! unless the caller's delivery owns the running operation and the batch is the next one;
//! the last batch (or a requested cancel) ends the operation in the same step.

use redis::{FromRedisValue, ParsingError, Script, ScriptInvocation, Value};

use super::input::InputItems;
use super::lua::{self, Call};
use super::record;
use super::{Store, StoreError};
use crate::contract::OperationStatus;
use crate::delivery::Delivery;
use crate::ids::OperationId;
use crate::names::Names;
use crate::operation::Operation;

/// One checkpoint: the outcome of items `start .. start + count`.
#[derive(Debug)]
pub struct Checkpoint<'a> {
    pub delivery: Delivery,
    pub start: u64,
    pub count: u64,
    pub succeeded: u64,
    pub failed: u64,
    /// Per-item errors, as JSON.
    pub errors: &'a [String],
    /// True for the last items: the operation completes in the same step. (A requested
    /// cancel also ends it, as cancelled.)
    pub last: bool,
    /// How many of the following items to return while the operation goes on (0: none).
    pub next: usize,
    pub now_millis: i64,
}

#[derive(Debug)]
pub enum CheckpointOutcome {
    /// Recorded; the record says whether the operation is still running or has ended.
    /// While it runs, `items` are the next ones from the new checkpoint.
    Recorded {
        record: Box<Operation>,
        items: InputItems,
    },
    /// Another delivery owns the operation, or it is no longer running.
    Refused,
}

/// `lua/checkpoint.lua`.
struct RecordCheckpoint<'a> {
    operation: OperationId,
    checkpoint: &'a Checkpoint<'a>,
    retention_secs: u64,
}

enum Recorded {
    /// The [`record::CHECKPOINTED`] fields, and the errors (ended: a list) or the next
    /// items (one JSON array).
    Ok {
        fields: Vec<Option<String>>,
        list: Value,
    },
    Refused,
}

impl Call for RecordCheckpoint<'_> {
    type Reply = Recorded;

    fn script(&self) -> &'static Script {
        &lua::CHECKPOINT
    }

    fn bind(&self, names: &Names, invocation: &mut ScriptInvocation<'_>) {
        let checkpoint = self.checkpoint;
        invocation
            .key(names.operation_key(self.operation))
            .key(names.errors_key(self.operation))
            .key(names.items_key(self.operation))
            .arg(checkpoint.delivery.owner())
            .arg(checkpoint.start)
            .arg(checkpoint.count)
            .arg(checkpoint.succeeded)
            .arg(checkpoint.failed)
            .arg(checkpoint.now_millis)
            .arg(if checkpoint.last { "1" } else { "0" })
            .arg(self.retention_secs)
            .arg(checkpoint.next);
        for error in checkpoint.errors {
            invocation.arg(error);
        }
    }
}

impl FromRedisValue for Recorded {
    fn from_redis_value(value: Value) -> Result<Self, ParsingError> {
        let (outcome, fields, list): (String, Value, Value) =
            FromRedisValue::from_redis_value(value)?;
        Ok(match outcome.as_str() {
            "ok" => Self::Ok {
                fields: record::unjoin(&String::from_redis_value(fields)?),
                list,
            },
            "stale" | "not_running" | "out_of_step" => Self::Refused,
            other => return Err(lua::unknown("checkpoint", other)),
        })
    }
}

impl Store {
    /// Records a checkpoint of `record` (the operation as its owner last had it) and reads
    /// the next items; on the last items the operation completes in the same step. The
    /// script returns only the fields it changed, and the record is brought up to date
    /// from them.
    pub async fn checkpoint(
        &self,
        record: Operation,
        checkpoint: &Checkpoint<'_>,
    ) -> Result<CheckpointOutcome, StoreError> {
        let call = RecordCheckpoint {
            operation: record.id,
            checkpoint,
            retention_secs: self.retention_secs(),
        };
        let Recorded::Ok { fields, list } = self.call(&call).await? else {
            return Ok(CheckpointOutcome::Refused);
        };
        let ended = fields
            .first()
            .and_then(Option::as_deref)
            .and_then(OperationStatus::parse)
            .is_some_and(OperationStatus::is_terminal);
        let (errors, items) = if ended {
            (Vec::from_redis_value(list)?, InputItems::default())
        } else {
            (
                Vec::new(),
                InputItems::joined(String::from_redis_value(list)?),
            )
        };
        Ok(CheckpointOutcome::Recorded {
            record: Box::new(record::advance(record, &fields, &errors)?),
            items,
        })
    }
}
