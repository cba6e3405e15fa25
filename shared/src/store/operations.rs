//! Writing and reading operation records: what the intake does.

use std::collections::HashMap;

use serde_json::value::RawValue;
use uuid::Uuid;

use super::record::{self, Record, field};
use super::{Store, StoreError};
use crate::contract::{CompensationRef, OperationStatus, Workflow};
use crate::event::EventKind;
use crate::job::Job;

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

/// Whether a compensation may start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompensationStart {
    /// The given id is now the original's compensation: create it.
    New,
    /// The original already has this compensation.
    Existing(Uuid),
    /// The original is not completed (it is in this status).
    NotCompleted(OperationStatus),
    /// Unknown, or another tenant's.
    NotFound,
}

/// The outcome of a cancel request.
#[derive(Debug)]
pub enum CancelOutcome {
    /// It had not started: cancelled now.
    Cancelled(Box<Record>),
    /// It is running: its worker will stop at the next checkpoint.
    Requested(Box<Record>),
    AlreadyCancelled(Box<Record>),
    /// Completed or failed: too late.
    AlreadyEnded(Box<Record>),
    NotFound,
}

/// One page of a tenant's operations, newest first.
#[derive(Clone, Debug)]
pub struct OperationPage {
    pub operations: Vec<Record>,
    /// The last id examined, when more may follow.
    pub next_after: Option<Uuid>,
}

/// Items pushed per `RPUSH`, so one command stays a reasonable size.
const ITEMS_PER_PUSH: usize = 10_000;
/// Ids read from the tenant index per round trip while paging.
const INDEX_BATCH: usize = 100;
/// Most ids examined for one page, so a rare status filter cannot make one request scan
/// everything; the cursor carries on where it stopped.
const MAX_EXAMINED: usize = 1_000;

impl Store {
    /// Stores a new operation with its items, in one transaction, and adds it to the
    /// tenant's index. Returns its record as stored.
    pub async fn create_operation(
        &self,
        new: &NewOperation,
        items: &[&RawValue],
    ) -> Result<Record, StoreError> {
        let names = &self.names;
        let (id, job) = (new.job.operation_id(), new.job.to_json());
        let created = new.created_millis.to_string();
        let total = new.total.to_string();
        let compensates = new.job.compensates().map(|id| id.to_string());
        let tenant = new.job.tenant_id().to_string();
        let mut fields: Vec<(&str, &str)> = vec![
            (field::TENANT, &tenant),
            (field::KIND, new.job.kind().name()),
            (field::JOB, &job),
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

        let mut pipe = redis::pipe();
        pipe.atomic();
        let items_key = names.items_key(id);
        for chunk in items.chunks(ITEMS_PER_PUSH) {
            pipe.cmd("RPUSH")
                .arg(&items_key)
                .arg(chunk.iter().map(|i| i.get()).collect::<Vec<_>>())
                .ignore();
        }
        pipe.cmd("HSET")
            .arg(names.operation_key(id))
            .arg(&fields)
            .ignore();
        let index = names.tenant_operations_key(new.job.tenant_id());
        pipe.cmd("ZADD")
            .arg(&index)
            .arg(0)
            .arg(id.to_string())
            .ignore();
        pipe.cmd("ZREMRANGEBYLEX")
            .arg(&index)
            .arg("-")
            .arg(format!("({}", self.expired_before(new.created_millis)))
            .ignore();
        pipe.cmd("ZADD")
            .arg(names.pending_key())
            .arg(new.created_millis)
            .arg(id.to_string())
            .ignore();
        let mut conn = self.conn();
        self.bounded(pipe.query_async::<()>(&mut conn)).await?;

        let hash: HashMap<String, String> = fields
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        record::parse(id, &hash, &[])
    }

    /// The record of an operation of `tenant`; `None` when unknown or another tenant's.
    pub async fn operation(
        &self,
        tenant: Uuid,
        operation: Uuid,
    ) -> Result<Option<Record>, StoreError> {
        let mut records = self.records(&[operation]).await?;
        Ok(records
            .pop()
            .flatten()
            .filter(|r| r.document.tenant_id == tenant))
    }

    /// The record of an operation, whoever's it is (for the worker's own bookkeeping).
    pub async fn record(&self, operation: Uuid) -> Result<Option<Record>, StoreError> {
        Ok(self.records(&[operation]).await?.pop().flatten())
    }

    /// Cancels an operation of `tenant` (contract §2 `DELETE`).
    pub async fn cancel(
        &self,
        tenant: Uuid,
        operation: Uuid,
        now_millis: i64,
    ) -> Result<CancelOutcome, StoreError> {
        let names = &self.names;
        let mut invocation = super::scripts::CANCEL.prepare_invoke();
        invocation
            .key(names.operation_key(operation))
            .key(names.items_key(operation))
            .key(names.errors_key(operation))
            .arg(tenant.to_string())
            .arg(now_millis)
            .arg(self.retention_secs());
        let mut conn = self.conn();
        let (outcome, hash, errors): super::transitions::Reply =
            self.bounded(invocation.invoke_async(&mut conn)).await?;
        let record = || record::parse(operation, &hash, &errors).map(Box::new);
        Ok(match outcome.as_str() {
            "cancelled" => CancelOutcome::Cancelled(record()?),
            "requested" => CancelOutcome::Requested(record()?),
            "already" => CancelOutcome::AlreadyCancelled(record()?),
            "conflict" => CancelOutcome::AlreadyEnded(record()?),
            "missing" => CancelOutcome::NotFound,
            other => return Err(StoreError::Unexpected(format!("cancel: {other}"))),
        })
    }

    /// Operations accepted before `created_before_millis` that may still wait for a worker,
    /// oldest first.
    pub async fn pending(
        &self,
        created_before_millis: i64,
        limit: usize,
    ) -> Result<Vec<Uuid>, StoreError> {
        let mut conn = self.conn();
        let ids: Vec<String> = self
            .bounded(
                redis::cmd("ZRANGEBYSCORE")
                    .arg(self.names.pending_key())
                    .arg("-inf")
                    .arg(format!("({created_before_millis}"))
                    .arg("LIMIT")
                    .arg(0)
                    .arg(limit)
                    .query_async(&mut conn),
            )
            .await?;
        Ok(ids.iter().filter_map(|id| id.parse().ok()).collect())
    }

    /// Takes operations off the sweeper's work list.
    pub async fn forget_pending(&self, operations: &[Uuid]) -> Result<(), StoreError> {
        self.remove_members(&self.names.pending_key(), operations)
            .await
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

    /// A page of the tenant's operations, newest first, optionally of one status, after
    /// the id `after` (exclusive).
    pub async fn operations(
        &self,
        tenant: Uuid,
        status: Option<OperationStatus>,
        limit: usize,
        after: Option<Uuid>,
    ) -> Result<OperationPage, StoreError> {
        let index = self.names.tenant_operations_key(tenant);
        let mut found = Vec::new();
        let mut cursor = after;
        let mut examined = 0;
        loop {
            let max = cursor.map_or_else(|| "+".to_owned(), |id| format!("({id}"));
            let mut conn = self.conn();
            let ids: Vec<String> = self
                .bounded(
                    redis::cmd("ZREVRANGEBYLEX")
                        .arg(&index)
                        .arg(&max)
                        .arg("-")
                        .arg("LIMIT")
                        .arg(0)
                        .arg(INDEX_BATCH)
                        .query_async(&mut conn),
                )
                .await?;
            let ids: Vec<Uuid> = ids.iter().filter_map(|id| id.parse().ok()).collect();
            let batch_len = ids.len();
            let records = self.records(&ids).await?;
            let mut expired = Vec::new();
            let mut full = false;
            for (position, (id, record)) in ids.iter().zip(records).enumerate() {
                examined += 1;
                cursor = Some(*id);
                match record {
                    None => expired.push(*id),
                    Some(r) if status.is_none_or(|s| r.document.status == s) => {
                        found.push(r);
                        if found.len() == limit {
                            full = position + 1 < batch_len || batch_len == INDEX_BATCH;
                            break;
                        }
                    }
                    Some(_) => {}
                }
            }
            self.remove_members(&index, &expired).await?;
            let more = if found.len() == limit {
                full
            } else {
                batch_len == INDEX_BATCH
            };
            if !more || found.len() == limit || examined >= MAX_EXAMINED {
                return Ok(OperationPage {
                    operations: found,
                    next_after: cursor.filter(|_| more),
                });
            }
        }
    }

    /// Records (hash and errors) of several operations in one round trip, in order.
    pub async fn records(&self, ids: &[Uuid]) -> Result<Vec<Option<Record>>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut pipe = redis::pipe();
        for id in ids {
            pipe.cmd("HGETALL").arg(self.names.operation_key(*id));
            pipe.cmd("LRANGE")
                .arg(self.names.errors_key(*id))
                .arg(0)
                .arg(-1);
        }
        let mut conn = self.conn();
        let replies: Vec<(HashMap<String, String>, Vec<String>)> = {
            let flat: Vec<redis::Value> = self.bounded(pipe.query_async(&mut conn)).await?;
            flat.chunks(2)
                .map(|pair| -> Result<_, StoreError> {
                    Ok((
                        redis::from_redis_value_ref(&pair[0])?,
                        redis::from_redis_value_ref(&pair[1])?,
                    ))
                })
                .collect::<Result<_, _>>()?
        };
        let mut records = ids
            .iter()
            .zip(replies)
            .map(|(id, (hash, errors))| {
                if hash.is_empty() {
                    Ok(None)
                } else {
                    record::parse(*id, &hash, &errors).map(Some)
                }
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        self.add_compensations(&mut records).await?;
        Ok(records)
    }

    /// Fills in `compensation` (id and live status) of records that have one, in one more
    /// round trip, only when there are any.
    async fn add_compensations(&self, records: &mut [Option<Record>]) -> Result<(), StoreError> {
        let compensated: Vec<&mut Record> = records
            .iter_mut()
            .flatten()
            .filter(|r| r.compensation_id.is_some())
            .collect();
        if compensated.is_empty() {
            return Ok(());
        }
        let mut pipe = redis::pipe();
        for record in &compensated {
            if let Some(id) = record.compensation_id {
                pipe.cmd("HGET")
                    .arg(self.names.operation_key(id))
                    .arg(field::STATUS);
            }
        }
        let mut conn = self.conn();
        let statuses: Vec<Option<String>> = self.bounded(pipe.query_async(&mut conn)).await?;
        for (record, status) in compensated.into_iter().zip(statuses) {
            let status = status
                .as_deref()
                .and_then(OperationStatus::parse)
                .unwrap_or(OperationStatus::Accepted);
            record.document.compensation =
                record.compensation_id.map(|operation_id| CompensationRef {
                    operation_id,
                    status,
                });
        }
        Ok(())
    }

    /// Names `compensation` as the compensation of the completed `original` of `tenant`,
    /// unless one was named before.
    pub async fn begin_compensation(
        &self,
        tenant: Uuid,
        original: Uuid,
        compensation: Uuid,
    ) -> Result<CompensationStart, StoreError> {
        let mut invocation = super::scripts::COMPENSATE.prepare_invoke();
        invocation
            .key(self.names.operation_key(original))
            .arg(tenant.to_string())
            .arg(compensation.to_string());
        let mut conn = self.conn();
        let (outcome, value): (String, String) =
            self.bounded(invocation.invoke_async(&mut conn)).await?;
        Ok(match outcome.as_str() {
            "new" => CompensationStart::New,
            "existing" => CompensationStart::Existing(
                value
                    .parse()
                    .map_err(|_| StoreError::Unexpected(format!("compensation id {value}")))?,
            ),
            "conflict" => CompensationStart::NotCompleted(
                OperationStatus::parse(&value).unwrap_or(OperationStatus::Accepted),
            ),
            "missing" => CompensationStart::NotFound,
            other => return Err(StoreError::Unexpected(format!("compensate: {other}"))),
        })
    }

    /// Removes `members` from the sorted set `key`, in one command.
    async fn remove_members(&self, key: &str, members: &[Uuid]) -> Result<(), StoreError> {
        if members.is_empty() {
            return Ok(());
        }
        let members: Vec<String> = members.iter().map(Uuid::to_string).collect();
        let mut conn = self.conn();
        self.bounded(
            redis::cmd("ZREM")
                .arg(key)
                .arg(members)
                .query_async::<()>(&mut conn),
        )
        .await
    }
}
