//! Creating an operation: its record, its input items, its place in the tenant's index and
//! in the sweeper's pending set.

use redis::{FromRedisValue, ParsingError, Script, ScriptInvocation, Value};
use serde_json::value::RawValue;
use uuid::Uuid;

use super::lua::{self, Call};
use super::record::{self, field};
use super::{Store, StoreError};
use crate::clock;
use crate::contract::{OperationStatus, Workflow};
use crate::event::EventKind;
use crate::ids::{OperationId, TenantId};
use crate::job::Job;
use crate::names::Names;
use crate::operation::Operation;

/// What the intake knows of an operation when it accepts it.
#[derive(Clone, Debug)]
pub struct NewOperation {
    /// What to do; the operation's id, tenant, kind and (for a compensation) original come
    /// from it, and its wire form is kept with the operation.
    pub job: Job,
    pub org: Option<String>,
    pub actor: Option<String>,
    pub correlation: String,
    pub workflow: Workflow,
    pub created_millis: i64,
    /// Where to push lifecycle webhooks, and for which events.
    pub callback: Option<CallbackTarget>,
    /// The W3C `traceparent` of the request.
    pub traceparent: Option<String>,
    /// Units of work: items to import, or entities to look for.
    pub total: u64,
}

/// An operation's webhook target, checked when it was accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallbackTarget {
    pub url: String,
    pub events: Vec<EventKind>,
}

/// A crash between the first write and the next (tests only).
#[cfg(feature = "fail-points")]
const AFTER_PENDING: &str = "store-after-pending";
/// A crash after the record is written, before the tenant's index (tests only; on a single
/// server both are one step, and the crash comes after it).
#[cfg(feature = "fail-points")]
const AFTER_RECORD: &str = "store-after-record";

impl Store {
    /// Stores a new operation: first its entry in the sweeper's pending set, then its record
    /// and items, then its place in the tenant's index. On a single server the three go in
    /// one round trip (the record and the index in one script); on a Valkey Cluster, where
    /// they are three slots, one after the other. A crash between two leaves a prefix, and
    /// no prefix lies (see the README). Returns the record as stored, or `None` when an
    /// operation with its id exists already (then only a missing pending entry or index
    /// entry is added).
    pub async fn create_operation(
        &self,
        new: &NewOperation,
        items: &[&RawValue],
    ) -> Result<Option<Operation>, StoreError> {
        let id = new.job.operation_id();
        let created = new.created_millis.to_string();
        let total = new.total.to_string();
        let compensates = new.job.compensates().map(|id| id.to_string());
        let tenant = new.job.tenant_id().to_string();
        // Valkey keeps a small hash as one list and finds a field by walking it from the
        // front: the fields the scripts read and write on every step come first, those
        // only a whole-record read wants last.
        let mut fields: Vec<(&str, &str)> = vec![
            (field::STATUS, OperationStatus::Accepted.as_str()),
            (field::CURRENT, "0"),
            (field::CANCEL, "0"),
            (field::ATTEMPT, "0"),
            (field::UPDATED, &created),
            (field::REVISION, "1"),
            (field::SUCCEEDED, "0"),
            (field::FAILED, "0"),
            (field::TOTAL, &total),
            (field::TENANT, &tenant),
            (field::KIND, new.job.kind().name()),
            (field::CORRELATION, &new.correlation),
            (field::CREATED, &created),
        ];
        let callback_events = new.callback.as_ref().map(|c| {
            c.events
                .iter()
                .map(|e| e.as_str())
                .collect::<Vec<_>>()
                .join(",")
        });
        let callback_url = new.callback.as_ref().map(|c| c.url.clone());
        let optional = [
            (field::CALLBACK_URL, &callback_url),
            (field::TRACEPARENT, &new.traceparent),
            (field::COMPENSATES, &compensates),
            (field::CALLBACK_EVENTS, &callback_events),
            (field::ORG, &new.org),
            (field::ACTOR, &new.actor),
            (field::WORKFLOW_ID, &new.workflow.id),
            (field::WORKFLOW_STEP, &new.workflow.step),
            (field::WORKFLOW_NAME, &new.workflow.name),
        ];
        fields.extend(
            optional
                .iter()
                .filter_map(|(name, value)| value.as_deref().map(|v| (*name, v))),
        );

        // The writes, in the order that leaves no lie when the process dies between two
        // (no transaction may span slots in a Valkey Cluster):
        // 1. the sweeper's pending entry: alone, it is a stray the sweeper removes once due
        //    (it finds no record); `NX`, so a repeated creation does not push back an
        //    operation the sweeper awaits;
        let mut pending = redis::pipe();
        pending
            .cmd("ZADD")
            .arg(self.names.pending_key())
            .arg("NX")
            .arg(new.created_millis)
            .arg(id.to_string())
            .ignore();
        // 2. the record and its items: from here on the sweeper sees to it that the
        //    operation runs (or fails), whatever happens to this process;
        // 3. the tenant's index: before it, the list does not show the operation yet, but it
        //    never shows one that does not exist. A repeated creation, or the sweeper when
        //    it republishes the job, adds it.
        let single = !self.conn.is_cluster();
        let create = Create {
            operation: id,
            fields: &fields,
            items,
            index: single.then(|| self.index_entry(new.job.tenant_id(), id, new.created_millis)),
            deadline_millis: clock::now_millis()
                + i64::try_from(self.deadline.as_millis()).unwrap_or(i64::MAX),
        };
        let created = if single {
            #[cfg(feature = "fail-points")]
            if crate::fail_point::armed(AFTER_PENDING) {
                // What a crash while the pipeline is being sent may leave: its first command.
                self.query_pipeline::<()>(&pending).await?;
                crate::fail_point::reached(AFTER_PENDING);
            }
            let created = self.call_after(&pending, &create).await?;
            #[cfg(feature = "fail-points")]
            crate::fail_point::reached(AFTER_RECORD);
            created
        } else {
            self.query_pipeline::<()>(&pending).await?;
            #[cfg(feature = "fail-points")]
            crate::fail_point::reached(AFTER_PENDING);
            let (created, replicated) = self.call_replicated(&create).await?;
            if let Err(not_replicated) = replicated {
                // A failover could lose it: no `202` for it, and nothing left to run.
                if created == Created::New {
                    self.uncreate_operation(id).await?;
                }
                return Err(not_replicated);
            }
            if created == Created::TooLate {
                return Err(StoreError::Timeout(self.deadline));
            }
            #[cfg(feature = "fail-points")]
            crate::fail_point::reached(AFTER_RECORD);
            // The operation is accepted now, and runs whatever the index says: a failure here
            // is no `503`, which would make the client submit it again while it runs.
            if let Err(error) = self
                .list_operation(new.job.tenant_id(), id, new.created_millis)
                .await
            {
                tracing::warn!(operation = %id, %error, "created, but not listed in the tenant's index");
            }
            created
        };
        match created {
            Created::New => {}
            Created::Existed => return Ok(None),
            Created::TooLate => return Err(StoreError::Timeout(self.deadline)),
        }

        record::parse(id, &record::in_order(fields.iter().copied()), &[]).map(Some)
    }

    /// Deletes the record and items of an operation just created whose creation is refused
    /// (its replicas did not have it in time); its pending entry is a stray the sweeper
    /// forgets.
    async fn uncreate_operation(&self, operation: OperationId) -> Result<(), StoreError> {
        let mut delete = redis::cmd("DEL");
        delete
            .arg(self.names.operation_key(operation))
            .arg(self.names.items_key(operation));
        self.query(&delete).await
    }

    /// Puts an operation of `tenant` created at `created_millis` in the tenant's index
    /// (again), and drops the index's expired members. For a creation on a Valkey Cluster,
    /// and for the sweeper, which repairs a creation that died before this step.
    pub async fn list_operation(
        &self,
        tenant: TenantId,
        operation: OperationId,
        created_millis: i64,
    ) -> Result<(), StoreError> {
        let IndexEntry { key, member, bound } = self.index_entry(tenant, operation, created_millis);
        let mut listed = redis::pipe();
        listed.cmd("ZADD").arg(&key).arg(0).arg(&member).ignore();
        listed
            .cmd("ZREMRANGEBYLEX")
            .arg(&key)
            .arg("-")
            .arg(&bound)
            .ignore();
        self.query_pipeline(&listed).await
    }

    fn index_entry(
        &self,
        tenant: TenantId,
        operation: OperationId,
        created_millis: i64,
    ) -> IndexEntry {
        IndexEntry {
            key: self.names.tenant_operations_key(tenant),
            member: operation.to_string(),
            bound: format!("({}", self.expired_before(created_millis)),
        }
    }

    /// The smallest operation id created at `created_millis` less the retention: every id
    /// below it belongs to an operation that has expired.
    fn expired_before(&self, created_millis: i64) -> Uuid {
        let retention = i64::try_from(self.retention.as_millis()).unwrap_or(i64::MAX);
        let cutoff = u64::try_from(created_millis.saturating_sub(retention)).unwrap_or(0);
        let mut bytes = [0u8; 16];
        bytes[..6].copy_from_slice(&cutoff.to_be_bytes()[2..]);
        bytes[6] = 0x70;
        bytes[8] = 0x80;
        Uuid::from_bytes(bytes)
    }
}

/// An operation's place in its tenant's index: a member of the sorted set `key`, which
/// drops its members below `bound` (an exclusive `ZRANGEBYLEX` bound) as they expire.
struct IndexEntry {
    key: String,
    member: String,
    bound: String,
}

/// `lua/create.lua`.
struct Create<'a> {
    operation: OperationId,
    fields: &'a [(&'a str, &'a str)],
    items: &'a [&'a RawValue],
    /// On a single server, the index entry written in the same step.
    index: Option<IndexEntry>,
    /// Unix milliseconds after which the creation writes nothing (its caller has given up).
    deadline_millis: i64,
}

/// What the create script did.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Created {
    New,
    Existed,
    /// It ran after its deadline and wrote nothing.
    TooLate,
}

impl FromRedisValue for Created {
    fn from_redis_value(value: Value) -> Result<Self, ParsingError> {
        match i64::from_redis_value(value)? {
            1 => Ok(Self::New),
            0 => Ok(Self::Existed),
            -1 => Ok(Self::TooLate),
            other => Err(lua::unknown("create", &other.to_string())),
        }
    }
}

impl Call for Create<'_> {
    type Reply = Created;

    fn script(&self) -> &'static Script {
        &lua::CREATE
    }

    fn bind(&self, names: &Names, invocation: &mut ScriptInvocation<'_>) {
        invocation
            .key(names.operation_key(self.operation))
            .key(names.items_key(self.operation));
        if let Some(index) = &self.index {
            invocation.key(&index.key);
        }
        invocation
            .arg(self.operation.to_string())
            .arg(self.index.as_ref().map_or("", |index| &index.bound))
            .arg(self.deadline_millis)
            .arg(self.fields.len() * 2)
            .arg(self.fields)
            .arg(self.items.iter().map(|i| i.get()).collect::<Vec<_>>());
    }
}
