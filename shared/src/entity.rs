//! The sample domain's rules, shared by the intake (one entity) and the worker (imports).

use std::borrow::Borrow;
use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::value::RawValue;
use uuid::Uuid;

use crate::ids::OperationId;

/// Per-item error for a missing, empty or non-string `name`.
pub const NAME_REQUIRED: &str = "Validation failed: name required";
/// Per-item error for a name the tenant already has.
pub const DUPLICATE: &str = "Duplicate entry";

/// An item's top-level fields, each value the JSON text it was sent as (borrowed from the
/// item, or owned): an entity is stored as sent, with no tree of values built for it.
pub type Fields<V> = BTreeMap<String, V>;

/// The item's `name`, when it is a non-empty string.
pub fn valid_name<V: Borrow<RawValue>>(fields: &Fields<V>) -> Option<String> {
    let name: String = serde_json::from_str(fields.get("name")?.borrow().get()).ok()?;
    (!name.trim().is_empty()).then_some(name)
}

/// The stored entity: the caller's fields, with the server's `id` and `createdAt` (an
/// RFC 3339 time) in their place, as a JSON object with its keys in order.
pub fn entity_json<V: Borrow<RawValue>>(fields: &Fields<V>, id: Uuid, created_at: &str) -> String {
    let id = id.to_string();
    let mut entity: BTreeMap<&str, Part<'_>> = fields
        .iter()
        .map(|(name, value)| (name.as_str(), Part::Sent(value.borrow())))
        .collect();
    entity.insert("id", Part::Text(&id));
    entity.insert("createdAt", Part::Text(created_at));
    serde_json::to_string(&entity).expect("an object of JSON texts and strings serialises")
}

/// One value of a stored entity.
#[derive(Serialize)]
#[serde(untagged)]
enum Part<'a> {
    Sent(&'a RawValue),
    Text(&'a str),
}

/// The id of the entity imported from item `index` of `operation`: the same on every run,
/// so a re-run after a crash recognises its own entity.
pub fn imported_id(operation: OperationId, index: u64) -> Uuid {
    Uuid::new_v5(&operation.0, &index.to_be_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(json: &str) -> Fields<&RawValue> {
        serde_json::from_str(json).expect("an object")
    }

    #[test]
    fn name_must_be_a_non_empty_string() {
        assert_eq!(
            valid_name(&fields(r#"{"name": "a"}"#)).as_deref(),
            Some("a")
        );
        assert_eq!(
            valid_name(&fields(r#"{"name": "\u0062"}"#)).as_deref(),
            Some("b")
        );
        assert_eq!(valid_name(&fields(r#"{"name": ""}"#)), None);
        assert_eq!(valid_name(&fields(r#"{"name": "  "}"#)), None);
        assert_eq!(valid_name(&fields(r#"{"name": 3}"#)), None);
        assert_eq!(valid_name(&fields("{}")), None);
    }

    #[test]
    fn an_entity_is_its_fields_as_sent_with_the_servers_id_and_time() {
        let id = Uuid::from_u128(7);
        let sent = fields(r#"{"name": "a\"b", "id": 1, "tags": [1, {"x": null}], "createdAt": 2}"#);
        let entity = entity_json(&sent, id, "2026-12-02T08:00:00.000Z");
        assert_eq!(
            entity,
            format!(
                r#"{{"createdAt":"2026-12-02T08:00:00.000Z","id":"{id}","name":"a\"b","tags":[1, {{"x": null}}]}}"#
            )
        );
        let parsed: serde_json::Value = serde_json::from_str(&entity).expect("JSON");
        assert_eq!(parsed["name"], "a\"b");
    }

    #[test]
    fn imported_ids_are_stable_per_item() {
        let op = OperationId::generate();
        assert_eq!(imported_id(op, 7), imported_id(op, 7));
        assert_ne!(imported_id(op, 7), imported_id(op, 8));
    }
}
