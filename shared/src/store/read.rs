//! Reading operation records: one, or several in one round trip, with the live status of
//! their compensations.

use std::collections::HashMap;

use crate::ids::{OperationId, TenantId};

use super::record::{self, Record, field};
use super::{Store, StoreError};
use crate::contract::{CompensationRef, OperationStatus};

impl Store {
    /// The record of an operation of `tenant`; `None` when unknown or another tenant's.
    pub async fn operation(
        &self,
        tenant: TenantId,
        operation: OperationId,
    ) -> Result<Option<Record>, StoreError> {
        let mut records = self.records(&[operation]).await?;
        Ok(records
            .pop()
            .flatten()
            .filter(|r| r.document.tenant_id == tenant))
    }

    /// The record of an operation, whoever's it is (for the worker's own bookkeeping).
    pub async fn record(&self, operation: OperationId) -> Result<Option<Record>, StoreError> {
        Ok(self.records(&[operation]).await?.pop().flatten())
    }

    /// Records (hash and errors) of several operations in one round trip, in order.
    pub async fn records(&self, ids: &[OperationId]) -> Result<Vec<Option<Record>>, StoreError> {
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
        let replies: Vec<(HashMap<String, String>, Vec<String>)> = {
            let flat: Vec<redis::Value> = self.query_pipeline(&pipe).await?;
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
        let statuses: Vec<Option<String>> = self.query_pipeline(&pipe).await?;
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
}
