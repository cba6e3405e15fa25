//! The sweeper's work list: operations accepted but maybe not yet started, by creation
//! time.

use crate::ids::OperationId;

use super::{Store, StoreError};

impl Store {
    /// Operations accepted before `created_before_millis` that may still wait for a worker,
    /// oldest first.
    pub async fn pending(
        &self,
        created_before_millis: i64,
        limit: usize,
    ) -> Result<Vec<OperationId>, StoreError> {
        let mut range = redis::cmd("ZRANGEBYSCORE");
        range
            .arg(self.names.pending_key())
            .arg("-inf")
            .arg(format!("({created_before_millis}"))
            .arg("LIMIT")
            .arg(0)
            .arg(limit);
        let ids: Vec<String> = self.query(&range).await?;
        Ok(ids.iter().filter_map(|id| id.parse().ok()).collect())
    }

    /// Takes operations off the sweeper's work list.
    pub async fn forget_pending(&self, operations: &[OperationId]) -> Result<(), StoreError> {
        self.remove_members(&self.names.pending_key(), operations)
            .await
    }

    /// Removes `members` from the sorted set `key`, in one command.
    pub(super) async fn remove_members(
        &self,
        key: &str,
        members: &[OperationId],
    ) -> Result<(), StoreError> {
        if members.is_empty() {
            return Ok(());
        }
        let members: Vec<String> = members.iter().map(OperationId::to_string).collect();
        let mut remove = redis::cmd("ZREM");
        remove.arg(key).arg(members);
        self.query(&remove).await
    }
}
