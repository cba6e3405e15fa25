//! Claiming an operation for one delivery of its job: the owner is the delivery
//! (`<stream sequence>:<delivery count>`), so a later delivery of the same message takes
//! over and fences the earlier one out, and a republished duplicate never does.

use redis::{FromRedisValue, ParsingError, Script, ScriptInvocation, Value};

use super::input::InputItems;
use super::lua::{self, Call, Tagged};
use super::record;
use super::{Store, StoreError};
use crate::delivery::Delivery;
use crate::ids::OperationId;
use crate::names::Names;
use crate::operation::Operation;

/// The outcome of claiming an operation for a delivery.
#[derive(Debug)]
pub enum Claim {
    /// Running under this delivery; `items` are the next items from the checkpoint.
    Run {
        record: Box<Operation>,
        items: InputItems,
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

/// `lua/start.lua`.
struct Start {
    operation: OperationId,
    delivery: Delivery,
    now_millis: i64,
    items: usize,
}

enum Started {
    /// The [`record::CLAIMED`] fields and the items from the checkpoint.
    Run {
        fields: Vec<Option<String>>,
        items: InputItems,
    },
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
        let (outcome, record, list): (String, Value, Value) =
            FromRedisValue::from_redis_value(value)?;
        Ok(match outcome.as_str() {
            "run" => Self::Run {
                fields: record::unjoin(&String::from_redis_value(record)?),
                items: InputItems::joined(String::from_redis_value(list)?),
            },
            "terminal" => Self::Terminal(Tagged {
                outcome,
                fields: record::in_order(record::Hash::from_redis_value(record)?),
                list: Vec::from_redis_value(list)?,
            }),
            "stale" => Self::Stale,
            "duplicate" => Self::Duplicate,
            "missing" => Self::Missing,
            other => return Err(lua::unknown("start", other)),
        })
    }
}

impl Store {
    /// Claims `accepted` (the operation as its `accepted` event describes it) for
    /// `delivery`, returning the running operation and up to `batch` items from its
    /// checkpoint. A worker that holds the job proves it was queued, so the operation also
    /// leaves the sweeper's pending set, sent at the same time (the two commands share the
    /// connection's pipeline).
    pub async fn claim(
        &self,
        accepted: Operation,
        delivery: Delivery,
        batch: usize,
        now_millis: i64,
    ) -> Result<Claim, StoreError> {
        let operation = accepted.id;
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
            Started::Run { fields, items } => Claim::Run {
                record: Box::new(record::claimed(accepted, delivery, &fields)?),
                items,
            },
            Started::Terminal(reply) => Claim::Ended(Box::new(record::parse(
                operation,
                &reply.fields,
                &reply.list,
            )?)),
            Started::Stale => Claim::Superseded,
            Started::Duplicate => Claim::Duplicate,
            Started::Missing => Claim::Missing,
        })
    }
}
