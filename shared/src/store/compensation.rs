//! Naming the compensation of a completed operation, once.

use redis::{FromRedisValue, ParsingError, Script, ScriptInvocation, Value};

use crate::ids::{OperationId, TenantId};

use super::lua::{self, Call};
use super::{Store, StoreError};
use crate::contract::OperationStatus;
use crate::names::Names;

/// Whether a compensation may start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompensationStart {
    /// The given id is now the original's compensation: create it.
    New,
    /// The original already has this compensation.
    Existing(OperationId),
    /// The original is not completed (it is in this status).
    NotCompleted(OperationStatus),
    /// Unknown, or another tenant's.
    NotFound,
}

impl Store {
    /// Names `compensation` as the compensation of the completed `original` of `tenant`,
    /// unless one was named before.
    pub async fn begin_compensation(
        &self,
        tenant: TenantId,
        original: OperationId,
        compensation: OperationId,
    ) -> Result<CompensationStart, StoreError> {
        let call = NameCompensation {
            tenant,
            original,
            compensation,
        };
        self.call(&call).await
    }
}

/// `lua/compensate.lua`.
struct NameCompensation {
    tenant: TenantId,
    original: OperationId,
    compensation: OperationId,
}

impl Call for NameCompensation {
    type Reply = CompensationStart;

    fn script(&self) -> &'static Script {
        &lua::COMPENSATE
    }

    fn bind(&self, names: &Names, invocation: &mut ScriptInvocation<'_>) {
        invocation
            .key(names.operation_key(self.original))
            .arg(self.tenant.to_string())
            .arg(self.compensation.to_string());
    }
}

impl FromRedisValue for CompensationStart {
    fn from_redis_value(value: Value) -> Result<Self, ParsingError> {
        let (outcome, value): (String, String) = FromRedisValue::from_redis_value(value)?;
        Ok(match outcome.as_str() {
            "new" => Self::New,
            "existing" => Self::Existing(
                value
                    .parse()
                    .map_err(|_| ParsingError::from(format!("compensate: id {value}")))?,
            ),
            "conflict" => Self::NotCompleted(
                OperationStatus::parse(&value)
                    .ok_or_else(|| ParsingError::from(format!("compensate: status {value}")))?,
            ),
            "missing" => Self::NotFound,
            other => return Err(lua::unknown("compensate", other)),
        })
    }
}
