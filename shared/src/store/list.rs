//! The tenant's operations, newest first, paged by id (UUIDv7 ids sort by creation).

use crate::ids::{OperationId, TenantId};

use super::{Store, StoreError};
use crate::contract::OperationStatus;
use crate::operation::Operation;

/// One page of a tenant's operations, newest first.
#[derive(Clone, Debug)]
pub struct OperationPage {
    pub operations: Vec<Operation>,
    /// The last id examined, when more may follow.
    pub next_after: Option<OperationId>,
}

/// Ids read from the tenant index per round trip while paging.
const INDEX_BATCH: usize = 100;
/// Most ids examined for one page, so a rare status filter cannot make one request scan
/// everything; the cursor carries on where it stopped.
const MAX_EXAMINED: usize = 1_000;

impl Store {
    /// A page of the tenant's operations, newest first, optionally of one status, after
    /// the id `after` (exclusive).
    pub async fn operations(
        &self,
        tenant: TenantId,
        status: Option<OperationStatus>,
        limit: usize,
        after: Option<OperationId>,
    ) -> Result<OperationPage, StoreError> {
        let index = self.names.tenant_operations_key(tenant);
        let mut found = Vec::new();
        let mut cursor = after;
        let mut examined = 0;
        loop {
            let max = cursor.map_or_else(|| "+".to_owned(), |id| format!("({id}"));
            let mut range = redis::cmd("ZREVRANGEBYLEX");
            range
                .arg(&index)
                .arg(&max)
                .arg("-")
                .arg("LIMIT")
                .arg(0)
                .arg(INDEX_BATCH);
            let ids: Vec<String> = self.query(&range).await?;
            let ids: Vec<OperationId> = ids.iter().filter_map(|id| id.parse().ok()).collect();
            let batch_len = ids.len();
            let records = self.records(&ids).await?;
            let mut expired = Vec::new();
            let mut full = false;
            for (position, (id, record)) in ids.iter().zip(records).enumerate() {
                examined += 1;
                cursor = Some(*id);
                match record {
                    None => expired.push(*id),
                    Some(r) if status.is_none_or(|s| r.status == s) => {
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
}
