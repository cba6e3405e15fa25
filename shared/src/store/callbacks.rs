//! The dispatcher's side of an operation: where its webhooks go, and how they fare.

use crate::ids::OperationId;

use super::create::CallbackTarget;
use super::record::field;
use redis::{Script, ScriptInvocation};

use super::lua::{self, Call};
use super::{Store, StoreError};
use crate::callback;
use crate::names::Names;

/// How the webhook of one operation stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CallbackProgress {
    /// Failed attempts so far; more will follow.
    Retrying {
        attempts: u64,
        last_error: String,
    },
    Delivered {
        attempts: u64,
    },
    /// Given up: the last attempt failed, or the receiver answered `410 Gone`.
    Failed {
        attempts: u64,
        last_error: String,
    },
}

/// An operation's callback target and how far its webhook has come.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallbackStanding {
    pub target: CallbackTarget,
    /// Delivered or given up: nothing more to send.
    pub settled: bool,
    /// Attempts made so far.
    pub attempts: u64,
    /// The W3C `traceparent` of the request that started the operation.
    pub traceparent: Option<String>,
}

impl Store {
    /// The operation's callback and how it stands; `None` when it has no callback (or is
    /// gone).
    pub async fn callback_standing(
        &self,
        operation: OperationId,
    ) -> Result<Option<CallbackStanding>, StoreError> {
        let mut fields = redis::cmd("HMGET");
        fields
            .arg(self.names.operation_key(operation))
            .arg(field::CALLBACK_URL)
            .arg(field::CALLBACK_EVENTS)
            .arg(field::CALLBACK_STATUS)
            .arg(field::CALLBACK_ATTEMPTS)
            .arg(field::TRACEPARENT);
        let [url, events, status, attempts, traceparent]: [Option<String>; 5] =
            self.query(&fields).await?;
        let Some(url) = url else { return Ok(None) };
        let events = callback::parse_events(events.as_deref().unwrap_or_default())
            .map_err(StoreError::Unexpected)?;
        Ok(Some(CallbackStanding {
            target: CallbackTarget { url, events },
            settled: matches!(status.as_deref(), Some("delivered" | "failed")),
            attempts: attempts.and_then(|a| a.parse().ok()).unwrap_or(0),
            traceparent,
        }))
    }

    /// Records how the webhook stands, unless it is already settled; true when recorded.
    pub async fn record_callback(
        &self,
        operation: OperationId,
        progress: &CallbackProgress,
    ) -> Result<bool, StoreError> {
        let (status, attempts, last_error) = match progress {
            CallbackProgress::Retrying {
                attempts,
                last_error,
            } => ("retrying", *attempts, last_error.as_str()),
            CallbackProgress::Delivered { attempts } => ("delivered", *attempts, ""),
            CallbackProgress::Failed {
                attempts,
                last_error,
            } => ("failed", *attempts, last_error.as_str()),
        };
        let call = RecordCallback {
            operation,
            status,
            attempts,
            last_error,
        };
        Ok(self.call(&call).await? == 1)
    }
}

/// `lua/callback.lua`: 1 when recorded.
struct RecordCallback<'a> {
    operation: OperationId,
    status: &'static str,
    attempts: u64,
    last_error: &'a str,
}

impl Call for RecordCallback<'_> {
    type Reply = i64;

    fn script(&self) -> &'static Script {
        &lua::CALLBACK
    }

    fn bind(&self, names: &Names, invocation: &mut ScriptInvocation<'_>) {
        invocation
            .key(names.operation_key(self.operation))
            .arg(self.status)
            .arg(self.attempts)
            .arg(self.last_error);
    }
}
