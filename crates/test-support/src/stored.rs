//! What a stored item says 2X sent: the item read back into the body's fields, undoing what storing did (values
//! kept as their JSON text where DynamoDB refuses them as they are, fields set aside under `shadowed_fields`, a
//! transcript compressed), and JSON compared as DynamoDB keeps it (numbers by value: a DynamoDB number is a
//! decimal, so `1.0` reads back as `1`).

use base64::Engine;
use flate2::read::GzDecoder;
use serde_json::{Map, Value};
use std::collections::HashSet;
use webhook::item::{SHADOWED_FIELDS, STORED_AS_JSON};

/// The fields 2X sent, as `item` (an item as JSON, [`webhook::fakes::item_json`]) stores them: without `id` (the key)
/// and the attributes of ours named in `ours`.
pub fn stored_as_sent(item: &Value, ours: &[&str]) -> Value {
    let mut fields = fields_as_sent(item, ours);
    if let Some(fields) = fields.as_object_mut() {
        fields.remove("id");
    }
    fields
}

/// [`stored_as_sent`] of an item whose `id` is no key but a field as sent (a lead event's).
pub fn fields_as_sent(item: &Value, ours: &[&str]) -> Value {
    let paths: HashSet<&str> =
        item[STORED_AS_JSON].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
    let mut fields = Map::new();
    for (name, value) in item.as_object().into_iter().flatten() {
        fields.insert(name.clone(), restored(value, name, &paths));
    }
    let shadowed = fields.remove(SHADOWED_FIELDS);
    let gzip = fields.remove("transcript_gzip");
    fields.retain(|name, _| !ours.contains(&name.as_str()));
    if let Some(Value::Object(shadowed)) = shadowed {
        fields.extend(shadowed);
    }
    if let Some(transcript) = gzip.as_ref().and_then(Value::as_str).and_then(gunzip_json) {
        fields.insert("transcript".into(), transcript);
    }
    Value::Object(fields)
}

/// `value` at `path`, with each value kept as its JSON text (its path listed in `paths`) parsed back.
fn restored(value: &Value, path: &str, paths: &HashSet<&str>) -> Value {
    if let (true, Some(text)) = (paths.contains(path), value.as_str()) {
        return serde_json::from_str(text).unwrap_or_else(|_| value.clone());
    }
    match value {
        Value::Array(items) => {
            items.iter().enumerate().map(|(index, item)| restored(item, &format!("{path}[{index}]"), paths)).collect()
        }
        Value::Object(fields) => Value::Object(
            fields
                .iter()
                .map(|(name, field)| (name.clone(), restored(field, &format!("{path}.{name}"), paths)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// A Binary attribute as [`webhook::fakes::item_json`] shows it (base64) holding gzipped JSON.
fn gunzip_json(base64: &str) -> Option<Value> {
    let gzip = base64::engine::general_purpose::STANDARD.decode(base64).ok()?;
    serde_json::from_reader(GzDecoder::new(gzip.as_slice())).ok()
}

/// Whether `stored` holds what `sent` held, numbers compared by value.
pub fn same_json(sent: &Value, stored: &Value) -> bool {
    match (sent, stored) {
        (Value::Number(sent), Value::Number(stored)) => match (sent.as_u64(), stored.as_u64()) {
            (Some(sent), Some(stored)) => sent == stored,
            _ => sent.as_f64() == stored.as_f64(),
        },
        (Value::Array(sent), Value::Array(stored)) => {
            sent.len() == stored.len() && sent.iter().zip(stored).all(|(sent, stored)| same_json(sent, stored))
        }
        (Value::Object(sent), Value::Object(stored)) => {
            sent.len() == stored.len()
                && sent.iter().all(|(name, sent)| stored.get(name).is_some_and(|stored| same_json(sent, stored)))
        }
        (sent, stored) => sent == stored,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn storing_is_undone() {
        let item = json!({"id": 7, "received_at": "t", "meta": "{\"\":1}", "call": {"duration": "1e400"},
            "stored_as_json": ["meta", "call.duration"], "shadowed_fields": {"received_at": "theirs"}});
        assert_eq!(
            stored_as_sent(&item, &["received_at", "stored_as_json"]),
            json!({"meta": {"": 1}, "call": {"duration": "1e400"}, "received_at": "theirs"}),
            "a string that does not parse stays as it is"
        );
    }

    #[test]
    fn numbers_are_compared_by_value() {
        assert!(same_json(&json!({"a": [1.0, -0.0]}), &json!({"a": [1, 0]})));
        assert!(!same_json(&json!({"a": 1}), &json!({"a": "1"})));
        assert!(!same_json(&json!({"a": 1}), &json!({"a": 1, "b": 2})));
        assert!(!same_json(&json!(u64::MAX), &json!(u64::MAX - 1)));
    }
}
