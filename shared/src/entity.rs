//! The sample domain's rules, shared by the intake (one entity) and the worker (imports).

use serde_json::{Map, Value};
use uuid::Uuid;

use crate::ids::OperationId;

use crate::clock;

/// Per-item error for a missing, empty or non-string `name`.
pub const NAME_REQUIRED: &str = "Validation failed: name required";
/// Per-item error for a name the tenant already has.
pub const DUPLICATE: &str = "Duplicate entry";

/// The item's `name`, when it is a non-empty string.
pub fn valid_name(fields: &Map<String, Value>) -> Option<&str> {
    fields
        .get("name")
        .and_then(Value::as_str)
        .filter(|n| !n.trim().is_empty())
}

/// The stored entity: the caller's fields, with the server's `id` and `createdAt`.
pub fn entity_json(mut fields: Map<String, Value>, id: Uuid, created_millis: i64) -> Value {
    fields.insert("id".into(), Value::String(id.to_string()));
    fields.insert(
        "createdAt".into(),
        Value::String(clock::rfc3339(created_millis)),
    );
    Value::Object(fields)
}

/// The id of the entity imported from item `index` of `operation`: the same on every run,
/// so a re-run after a crash recognises its own entity.
pub fn imported_id(operation: OperationId, index: u64) -> Uuid {
    Uuid::new_v5(&operation.0, &index.to_be_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn name_must_be_a_non_empty_string() {
        let fields = |v: Value| v.as_object().cloned().unwrap();
        assert_eq!(valid_name(&fields(json!({"name": "a"}))), Some("a"));
        assert_eq!(valid_name(&fields(json!({"name": ""}))), None);
        assert_eq!(valid_name(&fields(json!({"name": "  "}))), None);
        assert_eq!(valid_name(&fields(json!({"name": 3}))), None);
        assert_eq!(valid_name(&fields(json!({}))), None);
    }

    #[test]
    fn imported_ids_are_stable_per_item() {
        let op = OperationId::generate();
        assert_eq!(imported_id(op, 7), imported_id(op, 7));
        assert_ne!(imported_id(op, 7), imported_id(op, 8));
    }
}
