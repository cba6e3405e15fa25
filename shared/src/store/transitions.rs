//! The worker's side of an operation's lifecycle: claim it for a delivery, checkpoint
//! progress, keep it alive, end it. Each is one script, fenced by the owning delivery
//! (`<stream sequence>:<delivery count>`): a worker whose delivery has been superseded is
//! refused, atomically.

use redis::{FromRedisValue, ParsingError, Script, ScriptInvocation, Value};

use crate::ids::OperationId;

use super::lua::{self, Call, Tagged};
use super::record::{self, field};
use super::{Store, StoreError};
use crate::contract::{OperationStatus, Problem};
use crate::delivery::Delivery;
use crate::names::Names;
use crate::operation::Operation;

/// The outcome of claiming an operation for a delivery.
#[derive(Debug)]
pub enum Claim {
    /// Running under this delivery; `items` are the next items from the checkpoint.
    Run {
        record: Box<Operation>,
        items: Vec<String>,
    },
    /// It already ended; its record, to re-send the terminal event.
    Ended(Box<Operation>),
    /// A later delivery of the same message owns it.
    Superseded,
    /// Another message for the same operation owns it (a republished duplicate).
    Duplicate,
    /// No record: expired, or never written.
    Missing,
}

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
        items: Vec<String>,
    },
    /// Another delivery owns the operation, or it is no longer running.
    Refused,
}

#[derive(Debug)]
pub enum FailOutcome {
    Failed(Box<Operation>),
    /// Already ended, superseded or missing: nothing changed.
    Unchanged,
}

/// `lua/start.lua`.
struct Start {
    operation: OperationId,
    delivery: Delivery,
    now_millis: i64,
    items: usize,
}

enum Started {
    Run(Tagged),
    Terminal(Tagged),
    Stale,
    Duplicate,
    Missing,
}

impl Call for Start {
    type Reply = Started;

    fn script(&self) -> &'static Script {
        &lua::START
    }

    fn bind(&self, names: &Names, invocation: &mut ScriptInvocation<'_>) {
        invocation
            .key(names.operation_key(self.operation))
            .key(names.items_key(self.operation))
            .key(names.errors_key(self.operation))
            .arg(self.delivery.stream_sequence)
            .arg(self.delivery.attempt)
            .arg(self.now_millis)
            .arg(self.items);
    }
}

impl FromRedisValue for Started {
    fn from_redis_value(value: Value) -> Result<Self, ParsingError> {
        let reply = Tagged::from_redis_value(value)?;
        Ok(match reply.outcome.as_str() {
            "run" => Self::Run(reply),
            "terminal" => Self::Terminal(reply),
            "stale" => Self::Stale,
            "duplicate" => Self::Duplicate,
            "missing" => Self::Missing,
            other => return Err(lua::unknown("start", other)),
        })
    }
}

/// `lua/checkpoint.lua`.
struct RecordCheckpoint<'a> {
    operation: OperationId,
    checkpoint: &'a Checkpoint<'a>,
    retention_secs: u64,
}

enum Recorded {
    Ok(Tagged),
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
        let reply = Tagged::from_redis_value(value)?;
        Ok(match reply.outcome.as_str() {
            "ok" => Self::Ok(reply),
            "stale" | "not_running" | "out_of_step" => Self::Refused,
            other => return Err(lua::unknown("checkpoint", other)),
        })
    }
}

/// `lua/heartbeat.lua`: 1 while the delivery owns the running operation.
struct Beat {
    operation: OperationId,
    delivery: Delivery,
    now_millis: i64,
}

impl Call for Beat {
    type Reply = i64;

    fn script(&self) -> &'static Script {
        &lua::HEARTBEAT
    }

    fn bind(&self, names: &Names, invocation: &mut ScriptInvocation<'_>) {
        invocation
            .key(names.operation_key(self.operation))
            .arg(self.delivery.owner())
            .arg(self.now_millis);
    }
}

/// `lua/fail.lua`.
struct Fail<'a> {
    operation: OperationId,
    attempt: u64,
    now_millis: i64,
    problem_json: &'a str,
    retention_secs: u64,
}

enum Failed {
    Ok(Tagged),
    Unchanged,
}

impl Call for Fail<'_> {
    type Reply = Failed;

    fn script(&self) -> &'static Script {
        &lua::FAIL
    }

    fn bind(&self, names: &Names, invocation: &mut ScriptInvocation<'_>) {
        invocation
            .key(names.operation_key(self.operation))
            .key(names.items_key(self.operation))
            .key(names.errors_key(self.operation))
            .arg(self.attempt)
            .arg(self.now_millis)
            .arg(self.problem_json)
            .arg(self.retention_secs);
    }
}

impl FromRedisValue for Failed {
    fn from_redis_value(value: Value) -> Result<Self, ParsingError> {
        let reply = Tagged::from_redis_value(value)?;
        Ok(match reply.outcome.as_str() {
            "ok" => Self::Ok(reply),
            "missing" | "terminal" | "stale" => Self::Unchanged,
            other => return Err(lua::unknown("fail", other)),
        })
    }
}

impl Store {
    /// Claims `operation` for `delivery`, returning up to `batch` items from its checkpoint.
    /// A worker that holds the job proves it was queued, so the operation also leaves the
    /// sweeper's pending set, sent at the same time (the two commands share the
    /// connection's pipeline).
    pub async fn claim(
        &self,
        operation: OperationId,
        delivery: Delivery,
        batch: usize,
        now_millis: i64,
    ) -> Result<Claim, StoreError> {
        let start = Start {
            operation,
            delivery,
            now_millis,
            items: batch,
        };
        let claimed = [operation];
        let (started, forgotten) = tokio::join!(self.call(&start), self.forget_pending(&claimed));
        forgotten?;
        Ok(match started? {
            Started::Run(reply) => Claim::Run {
                record: Box::new(record::parse(operation, &reply.hash, &[])?),
                items: reply.list,
            },
            Started::Terminal(reply) => Claim::Ended(Box::new(record::parse(
                operation,
                &reply.hash,
                &reply.list,
            )?)),
            Started::Stale => Claim::Superseded,
            Started::Duplicate => Claim::Duplicate,
            Started::Missing => Claim::Missing,
        })
    }

    /// Records a checkpoint and reads the next items; on the last items the operation
    /// completes in the same step.
    pub async fn checkpoint(
        &self,
        operation: OperationId,
        checkpoint: &Checkpoint<'_>,
    ) -> Result<CheckpointOutcome, StoreError> {
        let call = RecordCheckpoint {
            operation,
            checkpoint,
            retention_secs: self.retention_secs(),
        };
        let Recorded::Ok(reply) = self.call(&call).await? else {
            return Ok(CheckpointOutcome::Refused);
        };
        let ended = reply
            .hash
            .get(field::STATUS)
            .and_then(|status| OperationStatus::parse(status))
            .is_some_and(OperationStatus::is_terminal);
        let (errors, items) = if ended {
            (reply.list, Vec::new())
        } else {
            (Vec::new(), reply.list)
        };
        Ok(CheckpointOutcome::Recorded {
            record: Box::new(record::parse(operation, &reply.hash, &errors)?),
            items,
        })
    }

    /// Advances `updatedAt` while `delivery` owns the running operation; false once it
    /// does not.
    pub async fn heartbeat(
        &self,
        operation: OperationId,
        delivery: Delivery,
        now_millis: i64,
    ) -> Result<bool, StoreError> {
        let beat = Beat {
            operation,
            delivery,
            now_millis,
        };
        Ok(self.call(&beat).await? == 1)
    }

    /// Ends an operation as failed with `problem`, as attempt `attempt` (0: no delivery,
    /// the intake or the sweeper). Returns the outcome and, when it failed now, its record.
    pub async fn fail_operation(
        &self,
        operation: OperationId,
        attempt: u64,
        problem: &Problem,
        now_millis: i64,
    ) -> Result<FailOutcome, StoreError> {
        let problem_json = serde_json::to_string(problem)
            .map_err(|e| StoreError::Unexpected(format!("problem: {e}")))?;
        let fail = Fail {
            operation,
            attempt,
            now_millis,
            problem_json: &problem_json,
            retention_secs: self.retention_secs(),
        };
        Ok(match self.call(&fail).await? {
            Failed::Ok(reply) => FailOutcome::Failed(Box::new(record::parse(
                operation,
                &reply.hash,
                &reply.list,
            )?)),
            Failed::Unchanged => FailOutcome::Unchanged,
        })
    }
}
