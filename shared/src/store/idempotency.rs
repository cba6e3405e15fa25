//! Idempotency records (contract §4): a key is reserved atomically (`SET NX`), so of any
//! number of concurrent requests with one key exactly one executes; its answer is then
//! stored for the retention and replayed byte for byte. (`SET ... NX GET` needs Redis 7
//! or Valkey 7.2.)

use std::time::Duration;

use redis::{Script, ScriptInvocation};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::ids::TenantId;

use super::lua::{self, Call};
use super::{Store, StoreError};
use crate::names::Names;

/// How long a reservation holds unless its request renews it: a key whose request could
/// not release it (the intake died, or Valkey was away when it tried) is free again this
/// long after the last renewal at most.
pub const RESERVATION_LEASE: Duration = Duration::from_secs(10);

/// A finished answer, as stored and replayed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredAnswer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

/// What a key holds when a request arrives with it.
#[derive(Debug)]
pub enum Reservation {
    /// Free: reserved now for this request; release or complete it with `token`.
    Reserved { token: String },
    /// Another request with this key is in flight.
    InFlight { fingerprint: String },
    /// A request with this key finished; its answer.
    Done {
        fingerprint: String,
        answer: StoredAnswer,
    },
}

#[derive(Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "lowercase")]
enum Entry {
    InFlight {
        fingerprint: String,
        token: String,
    },
    Done {
        fingerprint: String,
        answer: StoredAnswer,
    },
}

impl Store {
    /// Reserves `scope` (a digest of method, path and key) for a request with
    /// `fingerprint`, or says what holds it.
    pub async fn reserve_idempotency_key(
        &self,
        tenant: TenantId,
        scope: &str,
        fingerprint: &str,
    ) -> Result<Reservation, StoreError> {
        let key = self.names.idempotency_key(tenant, scope);
        let token = Uuid::new_v4().to_string();
        let entry = in_flight(fingerprint, &token)?;
        let mut set = redis::cmd("SET");
        set.arg(&key)
            .arg(&entry)
            .arg("NX")
            .arg("PX")
            .arg(lease_millis())
            .arg("GET");
        let previous: Option<String> = self.query(&set).await?;
        let Some(current) = previous else {
            return Ok(Reservation::Reserved { token });
        };
        match serde_json::from_str::<Entry>(&current)
            .map_err(|e| StoreError::Unexpected(format!("idempotency record: {e}")))?
        {
            Entry::InFlight { fingerprint, .. } => Ok(Reservation::InFlight { fingerprint }),
            Entry::Done {
                fingerprint,
                answer,
            } => Ok(Reservation::Done {
                fingerprint,
                answer,
            }),
        }
    }

    /// Stores the answer of the request that reserved the key with `token`, for
    /// `retention`; false when the key is another request's now (this one's reservation
    /// lapsed and another request reserved it), whose answer is kept instead.
    pub async fn complete_idempotency_key(
        &self,
        tenant: TenantId,
        scope: &str,
        fingerprint: &str,
        token: &str,
        answer: StoredAnswer,
        retention: Duration,
    ) -> Result<bool, StoreError> {
        let answer = serde_json::to_string(&Entry::Done {
            fingerprint: fingerprint.to_owned(),
            answer,
        })
        .map_err(|e| StoreError::Unexpected(e.to_string()))?;
        let complete = CompleteKey {
            key: self.names.idempotency_key(tenant, scope),
            entry: in_flight(fingerprint, token)?,
            answer,
            retention_secs: retention.as_secs().max(1),
        };
        Ok(self.call(&complete).await? == 1)
    }

    /// Extends the reservation by another lease while its request runs; false when it is
    /// no longer this request's (it lapsed).
    pub async fn renew_idempotency_key(
        &self,
        tenant: TenantId,
        scope: &str,
        fingerprint: &str,
        token: &str,
    ) -> Result<bool, StoreError> {
        let renew = RenewKey {
            key: self.names.idempotency_key(tenant, scope),
            entry: in_flight(fingerprint, token)?,
        };
        self.call(&renew).await.map(|renewed| renewed == 1)
    }

    /// Frees a reservation whose request's answer is not to be kept, so the client may
    /// retry with the same key.
    pub async fn release_idempotency_key(
        &self,
        tenant: TenantId,
        scope: &str,
        fingerprint: &str,
        token: &str,
    ) -> Result<(), StoreError> {
        let release = ReleaseKey {
            key: self.names.idempotency_key(tenant, scope),
            entry: in_flight(fingerprint, token)?,
        };
        self.call(&release).await.map(drop)
    }
}

/// The value of a reservation: what only its own request can renew or release.
fn in_flight(fingerprint: &str, token: &str) -> Result<String, StoreError> {
    serde_json::to_string(&Entry::InFlight {
        fingerprint: fingerprint.to_owned(),
        token: token.to_owned(),
    })
    .map_err(|e| StoreError::Unexpected(e.to_string()))
}

fn lease_millis() -> u64 {
    u64::try_from(RESERVATION_LEASE.as_millis()).unwrap_or(u64::MAX)
}

/// `lua/complete_key.lua`: 1 when stored.
struct CompleteKey {
    key: String,
    entry: String,
    answer: String,
    retention_secs: u64,
}

impl Call for CompleteKey {
    type Reply = i64;

    fn script(&self) -> &'static Script {
        &lua::COMPLETE_KEY
    }

    fn bind(&self, _names: &Names, invocation: &mut ScriptInvocation<'_>) {
        invocation
            .key(&self.key)
            .arg(&self.entry)
            .arg(&self.answer)
            .arg(self.retention_secs);
    }
}

/// `lua/release_key.lua`: 1 when released.
struct ReleaseKey {
    key: String,
    entry: String,
}

impl Call for ReleaseKey {
    type Reply = i64;

    fn script(&self) -> &'static Script {
        &lua::RELEASE_KEY
    }

    fn bind(&self, _names: &Names, invocation: &mut ScriptInvocation<'_>) {
        invocation.key(&self.key).arg(&self.entry);
    }
}

/// `lua/renew_key.lua`: 1 when extended by another lease.
struct RenewKey {
    key: String,
    entry: String,
}

impl Call for RenewKey {
    type Reply = i64;

    fn script(&self) -> &'static Script {
        &lua::RENEW_KEY
    }

    fn bind(&self, _names: &Names, invocation: &mut ScriptInvocation<'_>) {
        invocation
            .key(&self.key)
            .arg(&self.entry)
            .arg(lease_millis());
    }
}
