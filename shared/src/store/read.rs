//! Reading operation records: one, or several in one round trip, with the live status of
//! their compensations.

use futures::future::try_join_all;

use crate::ids::{OperationId, TenantId};

use super::record::{self, field};
use super::{Store, StoreError};
use crate::contract::{CompensationRef, OperationStatus};
use crate::operation::Operation;

impl Store {
    /// The record of an operation of `tenant`; `None` when unknown or another tenant's.
    pub async fn operation(
        &self,
        tenant: TenantId,
        operation: OperationId,
    ) -> Result<Option<Operation>, StoreError> {
        let mut records = self.records(&[operation]).await?;
        Ok(records.pop().flatten().filter(|r| r.tenant == tenant))
    }

    /// The record of an operation, whoever's it is (for the worker's own bookkeeping).
    pub async fn record(&self, operation: OperationId) -> Result<Option<Operation>, StoreError> {
        Ok(self.records(&[operation]).await?.pop().flatten())
    }

    /// Records (hash and errors) of several operations, in order: one pipeline per
    /// operation (its keys share a slot; in a cluster, different operations' keys live
    /// on different nodes), all sent at once.
    pub async fn records(&self, ids: &[OperationId]) -> Result<Vec<Option<Operation>>, StoreError> {
        let replies: Vec<(record::Hash, Vec<String>)> = try_join_all(ids.iter().map(|id| {
            let mut pipe = redis::pipe();
            pipe.add_command(record::read_all(&self.names.operation_key(*id)));
            pipe.cmd("LRANGE")
                .arg(self.names.errors_key(*id))
                .arg(0)
                .arg(-1);
            async move { self.query_pipeline(&pipe).await }
        }))
        .await?;
        let mut records = ids
            .iter()
            .zip(replies)
            .map(|(id, (hash, errors))| {
                let fields = record::in_order(hash);
                if record::is_absent(&fields) {
                    Ok(None)
                } else {
                    record::parse(*id, &fields, &errors).map(Some)
                }
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        self.add_compensations(&mut records).await?;
        Ok(records)
    }

    /// Fills in `compensation` (id and live status) of records that have one, in one more
    /// round trip (one command per compensation, all sent at once), only when there are any.
    async fn add_compensations(&self, records: &mut [Option<Operation>]) -> Result<(), StoreError> {
        let compensated: Vec<&mut CompensationRef> = records
            .iter_mut()
            .flatten()
            .filter_map(|r| r.compensation.as_mut())
            .collect();
        if compensated.is_empty() {
            return Ok(());
        }
        let statuses: Vec<Option<String>> = try_join_all(compensated.iter().map(|compensation| {
            let mut status = redis::cmd("HGET");
            status
                .arg(self.names.operation_key(compensation.operation_id))
                .arg(field::STATUS);
            async move { self.query(&status).await }
        }))
        .await?;
        for (compensation, status) in compensated.into_iter().zip(statuses) {
            compensation.status = status
                .as_deref()
                .and_then(OperationStatus::parse)
                .unwrap_or(OperationStatus::Accepted);
        }
        Ok(())
    }
}
