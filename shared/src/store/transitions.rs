//! The rest of the worker's side of an operation's lifecycle: keeping it alive while it
//! runs, and failing it. Each is one script, fenced by the owning delivery.

use redis::{FromRedisValue, ParsingError, Script, ScriptInvocation, Value};

use super::lua::{self, Call, Tagged};
use super::record;
use super::{Store, StoreError};
use crate::contract::Problem;
use crate::delivery::Delivery;
use crate::ids::OperationId;
use crate::names::Names;
use crate::operation::Operation;

#[derive(Debug)]
pub enum FailOutcome {
    Failed(Box<Operation>),
    /// Already ended, superseded or missing: nothing changed.
    Unchanged,
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
                &reply.fields,
                &reply.list,
            )?)),
            Failed::Unchanged => FailOutcome::Unchanged,
        })
    }
}
