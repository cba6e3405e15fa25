//! Creating an operation: its record, its input items, its place in the tenant's index and
//! in the sweeper's pending set.

use std::collections::HashMap;

use serde_json::value::RawValue;
use uuid::Uuid;

use super::record::{self, field};
use super::{Store, StoreError};
use crate::contract::{OperationStatus, Workflow};
use crate::event::EventKind;
use crate::job::Job;
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

/// `lua/create.lua`, sent as `EVAL` (the one script not run as a `redis::Script`).
const CREATE: &str = include_str!("lua/create.lua");

impl Store {
    /// Stores a new operation with its items, then puts it in the sweeper's pending set,
    /// then in the tenant's index (each step one slot; see the README for what a crash
    /// between them leaves). Returns its record as stored, or `None` when an operation with its
    /// id exists already (then nothing is changed).
    pub async fn create_operation(
        &self,
        new: &NewOperation,
        items: &[&RawValue],
    ) -> Result<Option<Operation>, StoreError> {
        let names = &self.names;
        let id = new.job.operation_id();
        let created = new.created_millis.to_string();
        let total = new.total.to_string();
        let compensates = new.job.compensates().map(|id| id.to_string());
        let tenant = new.job.tenant_id().to_string();
        let mut fields: Vec<(&str, &str)> = vec![
            (field::TENANT, &tenant),
            (field::KIND, new.job.kind().name()),
            (field::STATUS, OperationStatus::Accepted.as_str()),
            (field::CANCEL, "0"),
            (field::CURRENT, "0"),
            (field::TOTAL, &total),
            (field::SUCCEEDED, "0"),
            (field::FAILED, "0"),
            (field::CORRELATION, &new.correlation),
            (field::ATTEMPT, "0"),
            (field::CREATED, &created),
            (field::UPDATED, &created),
            (field::REVISION, "1"),
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

        // Three single-slot writes, in an order that leaves no lie if the process dies
        // between two (no transaction may span slots in a Valkey Cluster):
        // 1. the record and its items (the operation's slot);
        let mut create = redis::cmd("EVAL");
        create
            .arg(CREATE)
            .arg(2)
            .arg(names.operation_key(id))
            .arg(names.items_key(id))
            .arg(fields.len() * 2)
            .arg(&fields)
            .arg(items.iter().map(|i| i.get()).collect::<Vec<_>>());
        let created: i64 = self.query(&create).await?;
        // 2. the sweeper's pending entry, so a record whose job never gets published is
        //    mended or failed, never left accepted with nobody to run it; `NX`: a repeated
        //    creation must not push back an operation the sweeper awaits;
        let mut pending = redis::cmd("ZADD");
        pending
            .arg(names.pending_key())
            .arg("NX")
            .arg(new.created_millis)
            .arg(id.to_string());
        self.query::<()>(&pending).await?;
        // 3. last, the tenant's index: before it the list does not show the operation yet,
        //    but it never shows one that does not exist. A repeated creation repairs it.
        let index = names.tenant_operations_key(new.job.tenant_id());
        let mut listed = redis::pipe();
        listed
            .cmd("ZADD")
            .arg(&index)
            .arg(0)
            .arg(id.to_string())
            .ignore();
        listed
            .cmd("ZREMRANGEBYLEX")
            .arg(&index)
            .arg("-")
            .arg(format!("({}", self.expired_before(new.created_millis)))
            .ignore();
        self.query_pipeline::<()>(&listed).await?;
        if created == 0 {
            return Ok(None);
        }

        let hash: HashMap<String, String> = fields
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        record::parse(id, &hash, &[]).map(Some)
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
