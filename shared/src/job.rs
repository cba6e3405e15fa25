//! The kinds of operation, and their job messages on the jobs stream. Versioned by `type`,
//! so jobs published by an older intake still parse after a deploy. A job stays small: the items live in Valkey, so an
//! import up to the body limit fits the default 1 MiB NATS message size.

use async_nats::HeaderMap;
use async_nats::jetstream::context::{Context, PublishAckFuture, PublishError};
use async_nats::jetstream::message::PublishMessage;
use serde::{Deserialize, Serialize};

use crate::contract::headers;
use crate::ids::{OperationId, TenantId};
use crate::kind::OperationKind;
use crate::names::Names;
use crate::operation::Operation;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all_fields = "camelCase")]
pub enum Job {
    /// Import the items stored under the operation into the tenant's sample entities.
    BulkImportV1 {
        operation_id: OperationId,
        tenant_id: TenantId,
    },
    /// Delete the entities that the bulk import `compensates` created.
    CompensationV1 {
        operation_id: OperationId,
        tenant_id: TenantId,
        compensates: OperationId,
    },
}

impl Job {
    pub fn kind(&self) -> OperationKind {
        match self {
            Self::BulkImportV1 { .. } => OperationKind::BulkImport,
            Self::CompensationV1 { .. } => OperationKind::Compensation,
        }
    }

    pub fn operation_id(&self) -> OperationId {
        match self {
            Self::BulkImportV1 { operation_id, .. } | Self::CompensationV1 { operation_id, .. } => {
                *operation_id
            }
        }
    }

    pub fn tenant_id(&self) -> TenantId {
        match self {
            Self::BulkImportV1 { tenant_id, .. } | Self::CompensationV1 { tenant_id, .. } => {
                *tenant_id
            }
        }
    }

    /// On a compensation: the operation it undoes.
    pub fn compensates(&self) -> Option<OperationId> {
        match self {
            Self::BulkImportV1 { .. } => None,
            Self::CompensationV1 { compensates, .. } => Some(*compensates),
        }
    }

    /// The job's wire form: what is published, and kept with the operation so that the
    /// sweeper can publish the same bytes again.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// Sends the job of `operation` (its wire form as kept with it, see [`Job::to_json`]) to
/// `<prefix>.jobs.<kind>.<operation>` with `Nats-Msg-Id` = the operation id (so the
/// stream's duplicate window drops a re-publication) and the headers that carry the
/// request's context into the worker's logs: tenant, correlation id, workflow and W3C
/// `traceparent`. Returns the future of its PubAck.
pub async fn send(
    jetstream: &Context,
    names: &Names,
    operation: &Operation,
) -> Result<PublishAckFuture, PublishError> {
    let mut job_headers = HeaderMap::new();
    job_headers.insert(headers::NATS_MSG_ID, operation.id.to_string().as_str());
    job_headers.insert(headers::NATS_CORRELATION_ID, operation.correlation.as_str());
    job_headers.insert(
        headers::NATS_TENANT_ID,
        operation.tenant.to_string().as_str(),
    );
    let workflow = &operation.workflow;
    for (name, value) in [
        (headers::NATS_WORKFLOW_ID, &workflow.id),
        (headers::NATS_WORKFLOW_STEP, &workflow.step),
        (headers::NATS_WORKFLOW_NAME, &workflow.name),
    ] {
        if let Some(value) = value {
            job_headers.insert(name, value.as_str());
        }
    }
    if let Some(traceparent) = &operation.traceparent {
        job_headers.insert(headers::TRACEPARENT, traceparent.as_str());
    }
    let payload = operation.job.clone().unwrap_or_default();
    jetstream
        .send_publish(
            names.job_subject(operation.kind.subject_token(), operation.id),
            PublishMessage::build()
                .payload(payload.into())
                .headers(job_headers),
        )
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_form_is_tagged_and_camel_case() {
        let job = Job::BulkImportV1 {
            operation_id: OperationId(uuid::Uuid::nil()),
            tenant_id: TenantId(uuid::Uuid::nil()),
        };
        let json = serde_json::to_value(&job).unwrap();
        assert_eq!(json["type"], "BulkImportV1");
        assert_eq!(json["operationId"], uuid::Uuid::nil().to_string());
        assert_eq!(serde_json::from_value::<Job>(json).unwrap(), job);
    }
}
