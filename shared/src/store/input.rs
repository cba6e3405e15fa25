//! A batch of an operation's input items as the claim and a checkpoint answer it: the
//! scripts join the items' stored JSON texts into one JSON array, so that the reply carries
//! one value, not one per item (the reply parser spends about as much on a value as on a
//! short string, whatever its length).

use serde_json::value::RawValue;

/// The joined items of one batch.
#[derive(Debug, Default)]
pub struct InputItems(String);

impl InputItems {
    pub(super) fn joined(array: String) -> Self {
        Self(array)
    }

    /// The items, borrowed from the batch's text (none for an empty batch).
    ///
    /// # Errors
    /// When the text is not a JSON array: the scripts write nothing else, so its items
    /// were stored by something other than the intake.
    pub fn items(&self) -> Result<Vec<&RawValue>, serde_json::Error> {
        if self.0.is_empty() {
            return Ok(Vec::new());
        }
        serde_json::from_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joined_items_come_apart_as_the_texts_stored() {
        let batch = InputItems::joined(r#"[{"name":"a"},{"name":"b, c","tags":[1,2]}]"#.into());
        let items: Vec<&str> = batch
            .items()
            .expect("an array")
            .iter()
            .map(|i| i.get())
            .collect();
        assert_eq!(
            items,
            [r#"{"name":"a"}"#, r#"{"name":"b, c","tags":[1,2]}"#]
        );
        assert!(
            InputItems::joined("[]".into())
                .items()
                .expect("an array")
                .is_empty()
        );
        assert!(InputItems::default().items().expect("none").is_empty());
        assert!(InputItems::joined("{".into()).items().is_err());
    }
}
