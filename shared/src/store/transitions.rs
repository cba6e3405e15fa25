//! The worker's side of an operation's lifecycle: claim it for a delivery attempt,
//! checkpoint progress, keep it alive, end it. Each is one script, fenced by the attempt:
//! a worker whose attempt has been superseded is refused, atomically.

use std::collections::HashMap;

use uuid::Uuid;

use super::record::{self, Record};
use super::scripts;
use super::{Store, StoreError};

pub(super) type Reply = (String, HashMap<String, String>, Vec<String>);

/// The outcome of claiming an operation for a delivery attempt.
#[derive(Debug)]
pub enum Claim {
    /// Running under this attempt; `items` are the next items from the checkpoint.
    Run { record: Record, items: Vec<String> },
    /// It already ended; its record, to re-send the terminal event.
    Ended(Record),
    /// A later attempt owns it.
    Superseded,
    /// No record: expired, or never written.
    Missing,
}

/// One checkpoint: the outcome of items `start .. start + count`.
#[derive(Debug)]
pub struct Checkpoint<'a> {
    pub attempt: u64,
    pub start: u64,
    pub count: u64,
    pub succeeded: u64,
    pub failed: u64,
    /// Per-item errors, as JSON.
    pub errors: &'a [String],
    /// True for the last items: the operation completes in the same step.
    pub last: bool,
    pub now_millis: i64,
}

#[derive(Debug)]
pub enum CheckpointOutcome {
    Recorded(Box<Record>),
    /// Another attempt owns the operation, or it is no longer running.
    Refused,
}

#[derive(Debug)]
pub enum FailOutcome {
    Failed(Box<Record>),
    /// Already ended, superseded or missing: nothing changed.
    Unchanged,
}

impl Store {
    /// Claims `operation` for delivery `attempt`, returning up to `batch` items from its
    /// checkpoint.
    pub async fn claim(
        &self,
        operation: Uuid,
        attempt: u64,
        batch: usize,
        now_millis: i64,
    ) -> Result<Claim, StoreError> {
        let names = &self.names;
        let mut invocation = scripts::START.prepare_invoke();
        invocation
            .key(names.operation_key(operation))
            .key(names.items_key(operation))
            .key(names.errors_key(operation))
            .arg(attempt)
            .arg(now_millis)
            .arg(batch);
        let mut conn = self.conn();
        let (outcome, hash, list): Reply = self.bounded(invocation.invoke_async(&mut conn)).await?;
        Ok(match outcome.as_str() {
            "run" => Claim::Run {
                record: record::parse(operation, &hash, &[])?,
                items: list,
            },
            "terminal" => Claim::Ended(record::parse(operation, &hash, &list)?),
            "stale" => Claim::Superseded,
            "missing" => Claim::Missing,
            other => return Err(StoreError::Unexpected(format!("claim: {other}"))),
        })
    }

    /// Up to `count` items of `operation` from index `start`.
    pub async fn items(
        &self,
        operation: Uuid,
        start: u64,
        count: usize,
    ) -> Result<Vec<String>, StoreError> {
        let mut conn = self.conn();
        let end = start + count as u64 - 1;
        self.bounded(
            redis::cmd("LRANGE")
                .arg(self.names.items_key(operation))
                .arg(start)
                .arg(end)
                .query_async(&mut conn),
        )
        .await
    }

    /// Records a checkpoint; on the last items the operation completes in the same step.
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
            .arg(checkpoint.attempt)
            .arg(checkpoint.start)
            .arg(checkpoint.count)
            .arg(checkpoint.succeeded)
            .arg(checkpoint.failed)
            .arg(checkpoint.now_millis)
            .arg(if checkpoint.last { "1" } else { "0" })
            .arg(self.retention_secs());
        for error in checkpoint.errors {
            invocation.arg(error);
        }
        let mut conn = self.conn();
        let (outcome, hash, errors): Reply =
            self.bounded(invocation.invoke_async(&mut conn)).await?;
        Ok(match outcome.as_str() {
            "ok" => {
                CheckpointOutcome::Recorded(Box::new(record::parse(operation, &hash, &errors)?))
            }
            "stale" | "not_running" | "out_of_step" => CheckpointOutcome::Refused,
            other => return Err(StoreError::Unexpected(format!("checkpoint: {other}"))),
        })
    }

    /// Advances `updatedAt` while `attempt` owns the running operation; false once it
    /// does not.
    pub async fn heartbeat(
        &self,
        operation: Uuid,
        attempt: u64,
        now_millis: i64,
    ) -> Result<bool, StoreError> {
        let mut invocation = scripts::HEARTBEAT.prepare_invoke();
        invocation
            .key(self.names.operation_key(operation))
            .arg(attempt)
            .arg(now_millis);
        let mut conn = self.conn();
        let owned: i64 = self.bounded(invocation.invoke_async(&mut conn)).await?;
        Ok(owned == 1)
    }
}

pub(super) fn fail_outcome(operation: Uuid, reply: Reply) -> Result<FailOutcome, StoreError> {
    let (outcome, hash, errors) = reply;
    Ok(match outcome.as_str() {
        "ok" => FailOutcome::Failed(Box::new(record::parse(operation, &hash, &errors)?)),
        "missing" | "terminal" | "stale" => FailOutcome::Unchanged,
        other => return Err(StoreError::Unexpected(format!("fail: {other}"))),
    })
}
