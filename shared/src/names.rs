//! Every name the participant uses in NATS and Valkey, derived from one prefix so that
//! deployments (and tests) can share one NATS and one Valkey. Valkey keys of one operation
//! share the hash tag `{<operation id>}`, keys of one tenant's domain data `{<tenant id>}`,
//! so a Valkey cluster keeps each on one slot and the scripts stay single-slot.

use crate::ids::{OperationId, TenantId};

/// Names under one prefix.
#[derive(Clone, Debug)]
pub struct Names {
    prefix: String,
}

impl Names {
    pub fn new(prefix: impl Into<String>) -> Self {
        Self {
            prefix: prefix.into(),
        }
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The durable pull consumer that every worker process shares: the `accepted` events,
    /// which are the jobs.
    pub fn workers_consumer(&self) -> String {
        format!("{}_workers", self.prefix)
    }

    /// Limits-retention stream keeping every operation event.
    pub fn events_stream(&self) -> String {
        format!("{}_EVENTS", self.prefix)
    }

    /// `<prefix>.events.<tenantId>.<operationId>.<event>`.
    pub fn event_subject(&self, tenant: TenantId, operation: OperationId, event: &str) -> String {
        format!("{}.events.{tenant}.{operation}.{event}", self.prefix)
    }

    /// Every event of one operation.
    pub fn operation_events(&self, tenant: TenantId, operation: OperationId) -> String {
        format!("{}.events.{tenant}.{operation}.*", self.prefix)
    }

    /// Every event of one tenant.
    pub fn tenant_events(&self, tenant: TenantId) -> String {
        format!("{}.events.{tenant}.>", self.prefix)
    }

    /// Wildcard over every event.
    pub fn events_wildcard(&self) -> String {
        format!("{}.events.>", self.prefix)
    }

    /// Core NATS subject telling the worker that owns an operation to stop at its next
    /// checkpoint.
    pub fn cancel_subject(&self, operation: OperationId) -> String {
        format!("{}.cancel.{operation}", self.prefix)
    }

    /// Wildcard over every cancel notice.
    pub fn cancel_wildcard(&self) -> String {
        format!("{}.cancel.*", self.prefix)
    }

    /// Stream keeping dead letters: exhausted jobs (and undeliverable callbacks).
    pub fn deadletter_stream(&self) -> String {
        format!("{}_DEADLETTER", self.prefix)
    }

    /// `<prefix>.deadletter.jobs.<operationId>`.
    pub fn deadletter_job_subject(&self, operation: OperationId) -> String {
        format!("{}.deadletter.jobs.{operation}", self.prefix)
    }

    /// `<prefix>.deadletter.callbacks.<operationId>`.
    pub fn deadletter_callback_subject(&self, operation: OperationId) -> String {
        format!("{}.deadletter.callbacks.{operation}", self.prefix)
    }

    /// The durable consumer of one terminal event (`completed`, `failed`, `cancelled`)
    /// that every dispatcher shares.
    pub fn dispatch_consumer(&self, event: &str) -> String {
        format!("{}_dispatch_{event}", self.prefix)
    }

    /// Every event of one kind, of every operation.
    pub fn events_of_kind(&self, event: &str) -> String {
        format!("{}.events.*.*.{event}", self.prefix)
    }

    /// The jobs: every operation's `accepted` event, what the workers' consumer reads.
    pub fn jobs_filter(&self) -> String {
        self.events_of_kind("accepted")
    }

    /// Wildcard over every dead letter.
    pub fn deadletter_wildcard(&self) -> String {
        format!("{}.deadletter.>", self.prefix)
    }

    /// Wildcard over the dead-lettered jobs.
    pub fn deadletter_jobs_wildcard(&self) -> String {
        format!("{}.deadletter.jobs.>", self.prefix)
    }

    /// Wildcard over the dead-lettered callbacks.
    pub fn deadletter_callbacks_wildcard(&self) -> String {
        format!("{}.deadletter.callbacks.>", self.prefix)
    }

    /// Sorted set of operations accepted but maybe not yet started, by creation time: the
    /// sweeper's work list.
    pub fn pending_key(&self) -> String {
        format!("{}:pending", self.prefix)
    }

    /// Lock held by the one sweeper that runs at a time.
    pub fn sweeper_lock_key(&self) -> String {
        format!("{}:sweeper", self.prefix)
    }

    /// An idempotency record: `scope` is a digest of method, path and key.
    pub fn idempotency_key(&self, tenant: TenantId, scope: &str) -> String {
        format!("{}:tenant:{{{tenant}}}:idem:{scope}", self.prefix)
    }

    /// Hash holding an operation's record.
    pub fn operation_key(&self, operation: OperationId) -> String {
        format!("{}:op:{{{operation}}}", self.prefix)
    }

    /// List of an operation's input items, kept until it ends.
    pub fn items_key(&self, operation: OperationId) -> String {
        format!("{}:op:{{{operation}}}:items", self.prefix)
    }

    /// List of an operation's per-item errors, in index order.
    pub fn errors_key(&self, operation: OperationId) -> String {
        format!("{}:op:{{{operation}}}:errors", self.prefix)
    }

    /// Sorted set of a tenant's operation ids (UUIDv7, so lexical order is creation order).
    pub fn tenant_operations_key(&self, tenant: TenantId) -> String {
        format!("{}:tenant:{{{tenant}}}:ops", self.prefix)
    }

    /// Hash of a tenant's sample entities, id to JSON.
    pub fn entities_key(&self, tenant: TenantId) -> String {
        format!("{}:tenant:{{{tenant}}}:entities", self.prefix)
    }

    /// Hash of a tenant's entity names, name to entity id.
    pub fn entity_names_key(&self, tenant: TenantId) -> String {
        format!("{}:tenant:{{{tenant}}}:names", self.prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_of_one_operation_share_a_hash_tag() {
        let names = Names::new("t1");
        let id = OperationId(uuid::Uuid::nil());
        let tag = format!("{{{id}}}");
        assert!(names.operation_key(id).contains(&tag));
        assert!(names.items_key(id).contains(&tag));
        assert!(names.errors_key(id).contains(&tag));
        assert_eq!(names.jobs_filter(), "t1.events.*.*.accepted");
    }
}
