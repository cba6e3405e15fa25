//! Job messages on the jobs stream. Versioned by `type`, so jobs published by an older
//! intake still parse after a deploy. A job stays small: the items live in Valkey, so an
//! import up to the body limit fits the default 1 MiB NATS message size.

use async_nats::HeaderMap;
use async_nats::jetstream::context::{Context, PublishAckFuture, PublishError, PublishErrorKind};
use async_nats::jetstream::message::PublishMessage;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::contract::{StatusDocument, headers};
use crate::names::Names;

/// Subject token of bulk-import jobs.
pub const BULK_IMPORT_SUBJECT: &str = "bulk-import";
/// Subject token of compensation jobs.
pub const COMPENSATION_SUBJECT: &str = "compensation";

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all_fields = "camelCase")]
pub enum Job {
    /// Import the items stored under the operation into the tenant's sample entities.
    BulkImportV1 { operation_id: Uuid, tenant_id: Uuid },
    /// Delete the entities that the bulk import `compensates` created.
    CompensationV1 {
        operation_id: Uuid,
        tenant_id: Uuid,
        compensates: Uuid,
    },
}

impl Job {
    pub fn operation_id(&self) -> Uuid {
        match self {
            Self::BulkImportV1 { operation_id, .. } | Self::CompensationV1 { operation_id, .. } => {
                *operation_id
            }
        }
    }

    /// The kind's token in the job subject.
    pub fn subject_token(&self) -> &'static str {
        match self {
            Self::BulkImportV1 { .. } => BULK_IMPORT_SUBJECT,
            Self::CompensationV1 { .. } => COMPENSATION_SUBJECT,
        }
    }
}

/// Sends a job to `<prefix>.jobs.<kind>.<operation>` with `Nats-Msg-Id` = the operation id
/// (so the stream's duplicate window drops a re-publication) and the headers that carry
/// the request's context into the worker's logs: tenant, correlation id, workflow and W3C
/// `traceparent`. Returns the future of its PubAck.
pub async fn send(
    jetstream: &Context,
    names: &Names,
    job: &Job,
    operation: &StatusDocument,
    traceparent: Option<&str>,
) -> Result<PublishAckFuture, PublishError> {
    let mut job_headers = HeaderMap::new();
    job_headers.insert(
        headers::NATS_MSG_ID,
        job.operation_id().to_string().as_str(),
    );
    job_headers.insert(
        headers::NATS_CORRELATION_ID,
        operation.correlation_id.as_str(),
    );
    job_headers.insert(
        headers::NATS_TENANT_ID,
        operation.tenant_id.to_string().as_str(),
    );
    let workflow = operation.workflow.clone().unwrap_or_default();
    for (name, value) in [
        (headers::NATS_WORKFLOW_ID, &workflow.id),
        (headers::NATS_WORKFLOW_STEP, &workflow.step),
        (headers::NATS_WORKFLOW_NAME, &workflow.name),
    ] {
        if let Some(value) = value {
            job_headers.insert(name, value.as_str());
        }
    }
    if let Some(traceparent) = traceparent {
        job_headers.insert(headers::TRACEPARENT, traceparent);
    }
    let payload = serde_json::to_vec(job)
        .map_err(|e| PublishError::with_source(PublishErrorKind::Other, e))?;
    jetstream
        .send_publish(
            names.job_subject(job.subject_token(), job.operation_id()),
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
            operation_id: Uuid::nil(),
            tenant_id: Uuid::nil(),
        };
        let json = serde_json::to_value(&job).unwrap();
        assert_eq!(json["type"], "BulkImportV1");
        assert_eq!(json["operationId"], Uuid::nil().to_string());
        assert_eq!(serde_json::from_value::<Job>(json).unwrap(), job);
    }
}
