//! The worker's side of an operation's lifecycle: claim it for a delivery, checkpoint
//! progress, keep it alive, end it. Each is one script, fenced by the owning delivery
//! (`<stream sequence>:<delivery count>`): a worker whose delivery has been superseded is
//! refused, atomically.

use std::collections::HashMap;

use uuid::Uuid;

use super::record::{self, Record};
use super::scripts;
use super::{Store, StoreError};
use crate::contract::Problem;
use crate::delivery::Delivery;

pub(super) type Reply = (String, HashMap<String, String>, Vec<String>);

/// The outcome of claiming an operation for a delivery.
#[derive(Debug)]
pub enum Claim {
    /// Running under this delivery; `items` are the next items from the checkpoint.
    Run {
        record: Box<Record>,
        items: Vec<String>,
    },
    /// It already ended; its record, to re-send the terminal event.
    Ended(Box<Record>),
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
        record: Box<Record>,
        items: Vec<String>,
    },
    /// Another delivery owns the operation, or it is no longer running.
    Refused,
}

#[derive(Debug)]
pub enum FailOutcome {
    Failed(Box<Record>),
    /// Already ended, superseded or missing: nothing changed.
    Unchanged,
}

impl Store {
    /// Claims `operation` for `delivery`, returning up to `batch` items from its checkpoint.
    /// A worker that holds the job proves it was queued, so the operation also leaves the
    /// sweeper's pending set, in the same round trip (the two commands share the
    /// connection's pipeline).
    pub async fn claim(
        &self,
        operation: Uuid,
        delivery: Delivery,
        batch: usize,
        now_millis: i64,
    ) -> Result<Claim, StoreError> {
        let names = &self.names;
        let mut invocation = scripts::START.prepare_invoke();
        invocation
            .key(names.operation_key(operation))
            .key(names.items_key(operation))
            .key(names.errors_key(operation))
            .arg(delivery.stream_sequence)
            .arg(delivery.attempt)
            .arg(now_millis)
            .arg(batch);
        let mut forget = redis::cmd("ZREM");
        forget.arg(names.pending_key()).arg(operation.to_string());
        let (mut claim_conn, mut forget_conn) = (self.conn(), self.conn());
        let (reply, forgotten) = tokio::join!(
            self.bounded(invocation.invoke_async::<Reply>(&mut claim_conn)),
            self.bounded(forget.query_async::<()>(&mut forget_conn)),
        );
        forgotten?;
        let (outcome, hash, list) = reply?;
        Ok(match outcome.as_str() {
            "run" => Claim::Run {
                record: Box::new(record::parse(operation, &hash, &[])?),
                items: list,
            },
            "terminal" => Claim::Ended(Box::new(record::parse(operation, &hash, &list)?)),
            "stale" => Claim::Superseded,
            "duplicate" => Claim::Duplicate,
            "missing" => Claim::Missing,
            other => return Err(StoreError::Unexpected(format!("claim: {other}"))),
        })
    }

    /// Records a checkpoint and reads the next items; on the last items the operation
    /// completes in the same step.
    pub async fn checkpoint(
        &self,
        operation: Uuid,
        checkpoint: &Checkpoint<'_>,
    ) -> Result<CheckpointOutcome, StoreError> {
        let names = &self.names;
        let mut invocation = scripts::CHECKPOINT.prepare_invoke();
        invocation
            .key(names.operation_key(operation))
            .key(names.errors_key(operation))
            .key(names.items_key(operation))
            .arg(checkpoint.delivery.owner())
            .arg(checkpoint.start)
            .arg(checkpoint.count)
            .arg(checkpoint.succeeded)
            .arg(checkpoint.failed)
            .arg(checkpoint.now_millis)
            .arg(if checkpoint.last { "1" } else { "0" })
            .arg(self.retention_secs())
            .arg(checkpoint.next);
        for error in checkpoint.errors {
            invocation.arg(error);
        }
        let mut conn = self.conn();
        let (outcome, hash, list): Reply = self.bounded(invocation.invoke_async(&mut conn)).await?;
        Ok(match outcome.as_str() {
            "ok" => {
                let record = record::parse(operation, &hash, &list)?;
                let items = if record.document.status.is_terminal() {
                    Vec::new()
                } else {
                    list
                };
                CheckpointOutcome::Recorded {
                    record: Box::new(record),
                    items,
                }
            }
            "stale" | "not_running" | "out_of_step" => CheckpointOutcome::Refused,
            other => return Err(StoreError::Unexpected(format!("checkpoint: {other}"))),
        })
    }

    /// Advances `updatedAt` while `delivery` owns the running operation; false once it
    /// does not.
    pub async fn heartbeat(
        &self,
        operation: Uuid,
        delivery: Delivery,
        now_millis: i64,
    ) -> Result<bool, StoreError> {
        let mut invocation = scripts::HEARTBEAT.prepare_invoke();
        invocation
            .key(self.names.operation_key(operation))
            .arg(delivery.owner())
            .arg(now_millis);
        let mut conn = self.conn();
        let owned: i64 = self.bounded(invocation.invoke_async(&mut conn)).await?;
        Ok(owned == 1)
    }

    /// Ends an operation as failed with `problem`, as attempt `attempt` (0: no delivery,
    /// the intake or the sweeper). Returns the outcome and, when it failed now, its record.
    pub async fn fail_operation(
        &self,
        operation: Uuid,
        attempt: u64,
        problem: &Problem,
        now_millis: i64,
    ) -> Result<FailOutcome, StoreError> {
        let problem_json = serde_json::to_string(problem)
            .map_err(|e| StoreError::Unexpected(format!("problem: {e}")))?;
        let names = &self.names;
        let mut invocation = scripts::FAIL.prepare_invoke();
        invocation
            .key(names.operation_key(operation))
            .key(names.items_key(operation))
            .key(names.errors_key(operation))
            .arg(attempt)
            .arg(now_millis)
            .arg(problem_json)
            .arg(self.retention_secs());
        let mut conn = self.conn();
        let (outcome, hash, errors): Reply =
            self.bounded(invocation.invoke_async(&mut conn)).await?;
        Ok(match outcome.as_str() {
            "ok" => FailOutcome::Failed(Box::new(record::parse(operation, &hash, &errors)?)),
            "missing" | "terminal" | "stale" => FailOutcome::Unchanged,
            other => return Err(StoreError::Unexpected(format!("fail: {other}"))),
        })
    }
}
