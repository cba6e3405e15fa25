//! Job messages on the jobs stream. Versioned by `type`, so jobs published by an older
//! intake still parse after a deploy. A job stays small: the items live in Valkey, so an
//! import up to the body limit fits the default 1 MiB NATS message size.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Subject token of bulk-import jobs.
pub const BULK_IMPORT_SUBJECT: &str = "bulk-import";

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all_fields = "camelCase")]
pub enum Job {
    /// Import the items stored under the operation into the tenant's sample entities.
    BulkImportV1 { operation_id: Uuid, tenant_id: Uuid },
}

impl Job {
    pub fn operation_id(&self) -> Uuid {
        match self {
            Self::BulkImportV1 { operation_id, .. } => *operation_id,
        }
    }

    pub fn subject_token(&self) -> &'static str {
        match self {
            Self::BulkImportV1 { .. } => BULK_IMPORT_SUBJECT,
        }
    }
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
