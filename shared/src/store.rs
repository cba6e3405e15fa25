//! The operation store in Valkey: operation records, their items and errors, the tenant's
//! index of operations, and the sample entities. Every status transition is one Lua script
//! (`store/lua/`), so a worker, a stale worker and the intake can never both win.
//!
//! Every call has a deadline: a Valkey that is down or frozen is an error within
//! the deadline given to [`Store::connect`], never a hang. Every call goes through one of
//! four helpers that apply the connection and the deadline (`query`, `query_pipeline`,
//! `call`, and `call_after`: a script call behind other commands, in one round trip); a
//! script call is a type with named keys and arguments and a decoded reply (`lua::Call`),
//! beside the store method that makes it.
//!
//! By idea: `create`, `read` and `list` (operations as the intake sees them), `cancel`,
//! `compensation`, `pending` (the sweeper's work list), the worker's `claim`, `checkpoint` and
//! `transitions` (heartbeat and failure), `callbacks`, `idempotency`, `entities`; `record`
//! holds the field table and reads a hash back, `lua` the scripts.

mod callbacks;
mod cancel;
mod checkpoint;
mod claim;
mod compensation;
mod connection;
mod create;
mod entities;
mod idempotency;
mod input;
mod list;
mod lua;
mod pending;
mod read;
mod record;
mod transitions;

use std::future::Future;
use std::time::Duration;

use redis::{ErrorKind, FromRedisValue, ServerErrorKind};

use self::lua::Call;

use crate::config::ConnectionConfig;
use crate::names::Names;

pub use callbacks::{CallbackProgress, CallbackStanding};
pub use cancel::CancelOutcome;
pub use checkpoint::{Checkpoint, CheckpointOutcome};
pub use claim::Claim;
pub use compensation::CompensationStart;
pub use connection::Connection;
pub use create::{CallbackTarget, NewOperation};
pub use entities::EntityCreated;
pub use idempotency::{RESERVATION_LEASE, Reservation, StoredAnswer};
pub use input::InputItems;
pub use list::OperationPage;
pub use transitions::FailOutcome;

/// Errors of the store. None of them is the caller's fault; all may pass.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("Valkey did not answer within {0:?}")]
    Timeout(Duration),
    #[error("Valkey: {0}")]
    Valkey(#[from] redis::RedisError),
    #[error("Valkey answered something unexpected: {0}")]
    Unexpected(String),
    #[error("a write reached {acknowledged} of the {wanted} Valkey replicas asked for in time")]
    NotReplicated { acknowledged: i64, wanted: u8 },
}

impl From<redis::ParsingError> for StoreError {
    fn from(e: redis::ParsingError) -> Self {
        Self::Unexpected(e.to_string())
    }
}

/// A handle to the store; cheap to clone.
#[derive(Clone)]
pub struct Store {
    conn: Connection,
    names: Names,
    deadline: Duration,
    retention: Duration,
    /// `Valkey__WaitReplicas` and `Valkey__WaitTimeout`, on a Valkey Cluster only.
    wait: Option<Wait>,
}

/// How many replicas must have a script's writes, and how long to wait for them.
#[derive(Clone, Copy)]
struct Wait {
    replicas: u8,
    timeout: Duration,
}

impl Store {
    /// Prepares a connection to Valkey (one server, or a cluster through its seeds); it
    /// connects on first use and reconnects by itself after Valkey restarts, so a role can
    /// start while Valkey is still down.
    pub fn connect(
        config: &ConnectionConfig,
        names: Names,
        deadline: Duration,
        retention: Duration,
    ) -> Result<Self, StoreError> {
        let wait = (config.valkey_cluster && config.valkey_wait_replicas > 0).then_some(Wait {
            replicas: config.valkey_wait_replicas,
            timeout: config.valkey_wait_timeout,
        });
        Ok(Self {
            conn: Connection::open(config, deadline)?,
            names,
            deadline,
            retention,
            wait,
        })
    }

    /// `PING`, for readiness.
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.query::<String>(&redis::cmd("PING")).await.map(drop)
    }

    /// Takes the lock `key` for `ttl` unless someone holds it; true when taken.
    pub async fn try_lock(&self, key: &str, ttl: Duration) -> Result<bool, StoreError> {
        let mut set = redis::cmd("SET");
        set.arg(key)
            .arg("1")
            .arg("NX")
            .arg("PX")
            .arg(u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX));
        let taken: Option<String> = self.query(&set).await?;
        Ok(taken.is_some())
    }

    /// Runs one command, within the deadline.
    async fn query<T: FromRedisValue>(&self, command: &redis::Cmd) -> Result<T, StoreError> {
        let mut conn = self.conn.clone();
        self.bounded(command.query_async(&mut conn)).await
    }

    /// Runs a pipeline in one round trip, within the deadline.
    async fn query_pipeline<T: FromRedisValue>(
        &self,
        pipeline: &redis::Pipeline,
    ) -> Result<T, StoreError> {
        let mut conn = self.conn.clone();
        self.bounded(pipeline.query_async(&mut conn)).await
    }

    /// Runs one script call, within the deadline. With `Valkey__WaitReplicas`, its writes
    /// count only once that many replicas have them: see [`Store::call_replicated`].
    async fn call<C: Call>(&self, call: &C) -> Result<C::Reply, StoreError> {
        match self.call_replicated(call).await? {
            (reply, Ok(())) => Ok(reply),
            (_, Err(not_replicated)) => Err(not_replicated),
        }
    }

    /// Runs one script call, within the deadline, and says whether its writes reached the
    /// replicas `Valkey__WaitReplicas` asks for (always, when it asks for none). The call
    /// and a `WAIT` go in one pipeline, so on one connection to the master that ran the
    /// script, even if the cluster fails over meanwhile (a `WAIT` on another connection
    /// would vouch for nothing); the `WAIT` covers every earlier write on that connection.
    async fn call_replicated<C: Call>(
        &self,
        call: &C,
    ) -> Result<(C::Reply, Result<(), StoreError>), StoreError> {
        let mut invocation = call.script().prepare_invoke();
        call.bind(&self.names, &mut invocation);
        let Some(wait) = self.wait else {
            let mut conn = self.conn.clone();
            let reply = self.bounded(invocation.invoke_async(&mut conn)).await?;
            return Ok((reply, Ok(())));
        };
        let mut pipeline = redis::pipe();
        pipeline
            .invoke_script(&invocation)
            .cmd("WAIT")
            .arg(wait.replicas)
            .arg(u64::try_from(wait.timeout.as_millis()).unwrap_or(u64::MAX));
        let (reply, acknowledged): (C::Reply, i64) =
            self.with_script(&pipeline, call.script()).await?;
        let replicated = if acknowledged >= i64::from(wait.replicas) {
            Ok(())
        } else {
            Err(StoreError::NotReplicated {
                acknowledged,
                wanted: wait.replicas,
            })
        };
        Ok((reply, replicated))
    }

    /// Runs `before` (commands whose replies are ignored, each one harmless to repeat),
    /// then one script call, in one round trip, within the deadline. Nothing may follow the
    /// call in the pipeline: it would run even when the call was refused (see
    /// [`Store::with_script`]). Not for a Valkey Cluster, which routes a pipeline by its
    /// first key.
    async fn call_after<C: Call>(
        &self,
        before: &redis::Pipeline,
        call: &C,
    ) -> Result<C::Reply, StoreError> {
        let mut invocation = call.script().prepare_invoke();
        call.bind(&self.names, &mut invocation);
        let mut pipeline = before.clone();
        pipeline.invoke_script(&invocation);
        let (reply,) = self.with_script(&pipeline, call.script()).await?;
        Ok(reply)
    }

    /// Runs a pipeline that calls `script`, within the deadline. A pipeline sends a
    /// script's bare `EVALSHA` and, unlike a lone script call, does not load a script the
    /// server lacks (a restarted Valkey, or one failed over): then the server runs the
    /// rest of the pipeline and refuses the call with `NOSCRIPT`, and the script is loaded
    /// and the whole pipeline sent again.
    async fn with_script<T: FromRedisValue>(
        &self,
        pipeline: &redis::Pipeline,
        script: &redis::Script,
    ) -> Result<T, StoreError> {
        let mut conn = self.conn.clone();
        match self.bounded(pipeline.query_async::<T>(&mut conn)).await {
            Err(StoreError::Valkey(e))
                if e.kind() == ErrorKind::Server(ServerErrorKind::NoScript) =>
            {
                self.bounded(script.load_async(&mut conn)).await?;
                self.bounded(pipeline.query_async(&mut conn)).await
            }
            answer => answer,
        }
    }

    async fn bounded<T>(
        &self,
        call: impl Future<Output = Result<T, redis::RedisError>>,
    ) -> Result<T, StoreError> {
        match tokio::time::timeout(self.deadline, call).await {
            Ok(result) => Ok(result?),
            Err(_) => Err(StoreError::Timeout(self.deadline)),
        }
    }

    fn retention_secs(&self) -> u64 {
        self.retention.as_secs()
    }
}
