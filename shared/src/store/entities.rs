//! The sample domain: a tenant's entities, unique by name within the tenant.

use uuid::Uuid;

use super::scripts;
use super::{Store, StoreError};

/// The outcome of creating one entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntityCreated {
    Created,
    /// The tenant already has an entity of that name.
    NameTaken,
}

impl Store {
    /// Creates entities given as `(name, id, JSON)`, each only if the tenant has no entity of
    /// that name, or has it under the same id (the same item, re-run after a crash).
    pub async fn import_entities(
        &self,
        tenant: Uuid,
        entities: &[(String, Uuid, String)],
    ) -> Result<Vec<EntityCreated>, StoreError> {
        if entities.is_empty() {
            return Ok(Vec::new());
        }
        let mut invocation = scripts::IMPORT.prepare_invoke();
        invocation
            .key(self.names.entity_names_key(tenant))
            .key(self.names.entities_key(tenant));
        for (name, id, json) in entities {
            invocation.arg(name).arg(id.to_string()).arg(json);
        }
        let mut conn = self.conn();
        let flags: Vec<i64> = self.bounded(invocation.invoke_async(&mut conn)).await?;
        Ok(flags
            .into_iter()
            .map(|f| {
                if f == 1 {
                    EntityCreated::Created
                } else {
                    EntityCreated::NameTaken
                }
            })
            .collect())
    }

    /// Deletes the tenant's entities of these ids (and their names); returns how many
    /// existed.
    pub async fn delete_entities(&self, tenant: Uuid, ids: &[Uuid]) -> Result<u64, StoreError> {
        if ids.is_empty() {
            return Ok(0);
        }
        let mut invocation = scripts::UNCREATE.prepare_invoke();
        invocation
            .key(self.names.entity_names_key(tenant))
            .key(self.names.entities_key(tenant));
        for id in ids {
            invocation.arg(id.to_string());
        }
        let mut conn = self.conn();
        self.bounded(invocation.invoke_async(&mut conn)).await
    }

    /// One entity of the tenant, as stored JSON.
    pub async fn entity(&self, tenant: Uuid, id: Uuid) -> Result<Option<String>, StoreError> {
        let mut conn = self.conn();
        self.bounded(
            redis::cmd("HGET")
                .arg(self.names.entities_key(tenant))
                .arg(id.to_string())
                .query_async(&mut conn),
        )
        .await
    }
}
