//! The sample domain: a tenant's entities, unique by name within the tenant.

use redis::{Script, ScriptInvocation};
use uuid::Uuid;

use crate::ids::TenantId;

use super::lua::{self, Call};
use super::{Store, StoreError};
use crate::names::Names;

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
        tenant: TenantId,
        entities: &[(String, Uuid, String)],
    ) -> Result<Vec<EntityCreated>, StoreError> {
        if entities.is_empty() {
            return Ok(Vec::new());
        }
        let flags = self.call(&Import { tenant, entities }).await?;
        Ok(flags
            .bytes()
            .map(|flag| {
                if flag == b'1' {
                    EntityCreated::Created
                } else {
                    EntityCreated::NameTaken
                }
            })
            .collect())
    }

    /// Deletes the tenant's entities of these ids (and their names); returns how many
    /// existed.
    pub async fn delete_entities(&self, tenant: TenantId, ids: &[Uuid]) -> Result<u64, StoreError> {
        if ids.is_empty() {
            return Ok(0);
        }
        self.call(&Uncreate { tenant, ids }).await
    }

    /// One entity of the tenant, as stored JSON.
    pub async fn entity(&self, tenant: TenantId, id: Uuid) -> Result<Option<String>, StoreError> {
        let mut get = redis::cmd("HGET");
        get.arg(self.names.entities_key(tenant)).arg(id.to_string());
        self.query(&get).await
    }
}

/// `lua/import.lua`: one flag per entity, `1` when created (now or by an earlier run), in
/// one string.
struct Import<'a> {
    tenant: TenantId,
    entities: &'a [(String, Uuid, String)],
}

impl Call for Import<'_> {
    type Reply = String;

    fn script(&self) -> &'static Script {
        &lua::IMPORT
    }

    fn bind(&self, names: &Names, invocation: &mut ScriptInvocation<'_>) {
        invocation
            .key(names.entity_names_key(self.tenant))
            .key(names.entities_key(self.tenant));
        for (name, id, json) in self.entities {
            invocation.arg(name).arg(id.to_string()).arg(json);
        }
    }
}

/// `lua/uncreate.lua`: how many entities were deleted now.
struct Uncreate<'a> {
    tenant: TenantId,
    ids: &'a [Uuid],
}

impl Call for Uncreate<'_> {
    type Reply = u64;

    fn script(&self) -> &'static Script {
        &lua::UNCREATE
    }

    fn bind(&self, names: &Names, invocation: &mut ScriptInvocation<'_>) {
        invocation
            .key(names.entity_names_key(self.tenant))
            .key(names.entities_key(self.tenant));
        for id in self.ids {
            invocation.arg(id.to_string());
        }
    }
}
