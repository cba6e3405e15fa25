//! Every name the participant uses in NATS and Valkey, derived from one prefix so that
//! deployments (and tests) can share one NATS and one Valkey. Valkey keys of one operation
//! share the hash tag `{<operation id>}`, keys of one tenant's domain data `{<tenant id>}`,
//! so a Valkey cluster keeps each on one slot and the scripts stay single-slot.

use uuid::Uuid;

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

    /// A name of one operation or tenant: the prefix, then `text`, then what the builder
    /// adds. These are made on every use of an operation, so without `format!`, which costs
    /// about ten times as much for them.
    fn name(&self, text: &str) -> Name {
        let mut name = String::with_capacity(self.prefix.len() + text.len() + 96);
        name.push_str(&self.prefix);
        name.push_str(text);
        Name(name)
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
        self.name(".events.")
            .id(tenant.0)
            .text(".")
            .id(operation.0)
            .text(".")
            .text(event)
            .0
    }

    /// Every event of one operation.
    pub fn operation_events(&self, tenant: TenantId, operation: OperationId) -> String {
        self.name(".events.")
            .id(tenant.0)
            .text(".")
            .id(operation.0)
            .text(".*")
            .0
    }

    /// Every event of one tenant.
    pub fn tenant_events(&self, tenant: TenantId) -> String {
        self.name(".events.").id(tenant.0).text(".>").0
    }

    /// Wildcard over every event.
    pub fn events_wildcard(&self) -> String {
        format!("{}.events.>", self.prefix)
    }

    /// Core NATS subject telling the worker that owns an operation to stop at its next
    /// checkpoint.
    pub fn cancel_subject(&self, operation: OperationId) -> String {
        self.name(".cancel.").id(operation.0).0
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
        self.name(".deadletter.jobs.").id(operation.0).0
    }

    /// `<prefix>.deadletter.callbacks.<operationId>`.
    pub fn deadletter_callback_subject(&self, operation: OperationId) -> String {
        self.name(".deadletter.callbacks.").id(operation.0).0
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
        self.name(":tenant:")
            .tag(tenant.0)
            .text(":idem:")
            .text(scope)
            .0
    }

    /// Hash holding an operation's record.
    pub fn operation_key(&self, operation: OperationId) -> String {
        self.name(":op:").tag(operation.0).0
    }

    /// List of an operation's input items, kept until it ends.
    pub fn items_key(&self, operation: OperationId) -> String {
        self.name(":op:").tag(operation.0).text(":items").0
    }

    /// List of an operation's per-item errors, in index order.
    pub fn errors_key(&self, operation: OperationId) -> String {
        self.name(":op:").tag(operation.0).text(":errors").0
    }

    /// Sorted set of a tenant's operation ids (UUIDv7, so lexical order is creation order).
    pub fn tenant_operations_key(&self, tenant: TenantId) -> String {
        self.name(":tenant:").tag(tenant.0).text(":ops").0
    }

    /// Hash of a tenant's sample entities, id to JSON.
    pub fn entities_key(&self, tenant: TenantId) -> String {
        self.name(":tenant:").tag(tenant.0).text(":entities").0
    }

    /// Hash of a tenant's entity names, name to entity id.
    pub fn entity_names_key(&self, tenant: TenantId) -> String {
        self.name(":tenant:").tag(tenant.0).text(":names").0
    }
}

/// A name being built by [`Names::name`].
struct Name(String);

impl Name {
    fn text(mut self, text: &str) -> Self {
        self.0.push_str(text);
        self
    }

    /// `id` in its hyphenated form.
    fn id(mut self, id: Uuid) -> Self {
        self.0
            .push_str(id.hyphenated().encode_lower(&mut Uuid::encode_buffer()));
        self
    }

    /// `id` as a Valkey hash tag, `{<id>}`.
    fn tag(self, id: Uuid) -> Self {
        self.text("{").id(id).text("}")
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

    #[test]
    fn names_of_an_operation_and_its_tenant() {
        let names = Names::new("t1");
        let id = OperationId("0192f1c4-7b3a-7cde-8f00-0123456789ab".parse().expect("id"));
        let tenant = TenantId("00000000-0000-0000-0000-00000000000a".parse().expect("id"));
        assert_eq!(
            names.event_subject(tenant, id, "running"),
            format!("t1.events.{tenant}.{id}.running")
        );
        assert_eq!(
            names.operation_events(tenant, id),
            format!("t1.events.{tenant}.{id}.*")
        );
        assert_eq!(names.tenant_events(tenant), format!("t1.events.{tenant}.>"));
        assert_eq!(names.cancel_subject(id), format!("t1.cancel.{id}"));
        assert_eq!(
            names.deadletter_job_subject(id),
            format!("t1.deadletter.jobs.{id}")
        );
        assert_eq!(
            names.deadletter_callback_subject(id),
            format!("t1.deadletter.callbacks.{id}")
        );
        assert_eq!(names.operation_key(id), format!("t1:op:{{{id}}}"));
        assert_eq!(names.items_key(id), format!("t1:op:{{{id}}}:items"));
        assert_eq!(names.errors_key(id), format!("t1:op:{{{id}}}:errors"));
        assert_eq!(
            names.idempotency_key(tenant, "ab12"),
            format!("t1:tenant:{{{tenant}}}:idem:ab12")
        );
        assert_eq!(
            names.tenant_operations_key(tenant),
            format!("t1:tenant:{{{tenant}}}:ops")
        );
        assert_eq!(
            names.entities_key(tenant),
            format!("t1:tenant:{{{tenant}}}:entities")
        );
        assert_eq!(
            names.entity_names_key(tenant),
            format!("t1:tenant:{{{tenant}}}:names")
        );
    }
}
