//! The sweeper's work list: operations accepted but maybe not yet started, by creation
//! time.

use crate::ids::OperationId;

use super::{Store, StoreError};

impl Store {
    /// Operations accepted before `created_before_millis` that may still wait for a worker,
    /// oldest first, each with the time its creation began. The entry is written before the
    /// record: one whose record does not exist is a creation still under way, or one that
    /// died after its first write (a stray, once older than [`Store::creation_bound`]).
    pub async fn pending(
        &self,
        created_before_millis: i64,
        limit: usize,
    ) -> Result<Vec<(OperationId, i64)>, StoreError> {
        let mut range = redis::cmd("ZRANGEBYSCORE");
        range
            .arg(self.names.pending_key())
            .arg("-inf")
            .arg(format!("({created_before_millis}"))
            .arg("WITHSCORES")
            .arg("LIMIT")
            .arg(0)
            .arg(limit);
        let entries: Vec<(String, f64)> = self.query(&range).await?;
        Ok(entries
            .iter()
            .filter_map(|(id, created)| Some((id.parse().ok()?, *created as i64)))
            .collect())
    }

    /// The longest a creation's writes can take (each is bounded by the deadline, and there
    /// are at most three round trips), so the longest a pending entry can be ahead of the
    /// record it announces.
    pub fn creation_bound(&self) -> std::time::Duration {
        self.deadline * 3
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
