//! Cancelling an operation (contract §2 `DELETE`): one script decides by its status.

use redis::{FromRedisValue, ParsingError, Script, ScriptInvocation, Value};

use crate::ids::{OperationId, TenantId};

use super::lua::{self, Call, Tagged};
use super::record;
use super::{Store, StoreError};
use crate::names::Names;
use crate::operation::Operation;

/// The outcome of a cancel request.
#[derive(Debug)]
pub enum CancelOutcome {
    /// It had not started: cancelled now.
    Cancelled(Box<Operation>),
    /// It is running: its worker will stop at the next checkpoint.
    Requested(Box<Operation>),
    AlreadyCancelled(Box<Operation>),
    /// Completed or failed: too late.
    AlreadyEnded(Box<Operation>),
    NotFound,
}

impl Store {
    /// Cancels an operation of `tenant` (contract §2 `DELETE`).
    pub async fn cancel(
        &self,
        tenant: TenantId,
        operation: OperationId,
        now_millis: i64,
    ) -> Result<CancelOutcome, StoreError> {
        let call = Cancel {
            tenant,
            operation,
            now_millis,
            retention_secs: self.retention_secs(),
        };
        let CancelReply(outcome, reply) = self.call(&call).await?;
        let record = || record::parse(operation, &reply.fields, &reply.list).map(Box::new);
        Ok(match outcome {
            Cancelled::Now => CancelOutcome::Cancelled(record()?),
            Cancelled::Requested => CancelOutcome::Requested(record()?),
            Cancelled::Before => CancelOutcome::AlreadyCancelled(record()?),
            Cancelled::Refused => CancelOutcome::AlreadyEnded(record()?),
            Cancelled::Missing => return Ok(CancelOutcome::NotFound),
        })
    }
}

/// `lua/cancel.lua`.
struct Cancel {
    tenant: TenantId,
    operation: OperationId,
    now_millis: i64,
    retention_secs: u64,
}

enum Cancelled {
    Now,
    Requested,
    Before,
    Refused,
    Missing,
}

impl Call for Cancel {
    type Reply = CancelReply;

    fn script(&self) -> &'static Script {
        &lua::CANCEL
    }

    fn bind(&self, names: &Names, invocation: &mut ScriptInvocation<'_>) {
        invocation
            .key(names.operation_key(self.operation))
            .key(names.items_key(self.operation))
            .key(names.errors_key(self.operation))
            .arg(self.tenant.to_string())
            .arg(self.now_millis)
            .arg(self.retention_secs);
    }
}

/// What the script decided, and the record it returned.
struct CancelReply(Cancelled, Tagged);

impl FromRedisValue for CancelReply {
    fn from_redis_value(value: Value) -> Result<Self, ParsingError> {
        let reply = Tagged::from_redis_value(value)?;
        let outcome = match reply.outcome.as_str() {
            "cancelled" => Cancelled::Now,
            "requested" => Cancelled::Requested,
            "already" => Cancelled::Before,
            "conflict" => Cancelled::Refused,
            "missing" => Cancelled::Missing,
            other => return Err(lua::unknown("cancel", other)),
        };
        Ok(Self(outcome, reply))
    }
}
