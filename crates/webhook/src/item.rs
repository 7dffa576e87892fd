//! What every stored record shares, and the DynamoDB item built from it. A record carries timestamps, the TTL
//! attribute, and a sender's fields set aside when their names are attributes we write, or names DynamoDB refuses
//! at the top of an item ([`set_aside`]). Its item ([`Item`]) is built once: whatever DynamoDB would refuse in it
//! is kept in a form it takes, the item is measured by DynamoDB's own size rules, then handed whole to the adapter
//! that writes it.

use crate::config::Retention;
use crate::error::UnstorableValue;
use aws_sdk_dynamodb::types::AttributeValue;
use base64::Engine;
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::time::Duration;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// DynamoDB refuses items over 400 KB.
pub const DYNAMODB_ITEM_LIMIT: usize = 400 * 1024;

/// DynamoDB's deepest nesting: a top-level attribute counts as level 1, so 31 lists or maps inside each other.
const MAX_NESTED_CONTAINERS: usize = 31;

/// DynamoDB's longest attribute name, in UTF-8 bytes (64 KB).
pub const MAX_NAME_BYTES: usize = 65_535;

/// The attribute listing the paths (`name.name[index]`) of the sender's values DynamoDB cannot hold as they are
/// (a map with an empty or over-long field name, nesting past 32 levels, a number outside DynamoDB's range): each
/// is stored at its place as its JSON text, a string, instead of being refused.
pub const STORED_AS_JSON: &str = "stored_as_json";

/// Whether DynamoDB takes `name` as an attribute name (at the top or nested).
pub fn storable_name(name: &str) -> bool {
    !name.is_empty() && name.len() <= MAX_NAME_BYTES
}

/// An item DynamoDB accepts, and its size. Only [`Item::new`] makes one.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    attributes: HashMap<String, AttributeValue>,
    size: usize,
}

impl Item {
    /// Builds `record`'s item as serde_dynamo writes it, with each value DynamoDB would refuse stored as its JSON
    /// text and its path listed in [`STORED_AS_JSON`]. Refused only for a record that is not a map of fields with
    /// names DynamoDB takes at the top (records set such a sender's field aside: `record::set_aside`).
    pub fn new(record: &(impl Serialize + ?Sized)) -> Result<Self, UnstorableValue> {
        let mut attributes: HashMap<String, AttributeValue> = serde_dynamo::aws_sdk_dynamodb_1::to_item(record)
            .map_err(|_| UnstorableValue { field: String::new(), problem: "a record that is not a map of fields" })?;
        if let Some(name) = attributes.keys().find(|name| !storable_name(name)) {
            return Err(UnstorableValue { field: name.clone(), problem: "a field name DynamoDB refuses" });
        }
        // Measuring allocates nothing; the paths are only spelt out when something must be stored as JSON.
        if let Some(size) = fields_size(attributes.iter(), 0) {
            return Ok(Self { attributes, size });
        }
        let mut stored_as_json = Vec::new();
        for (name, value) in &mut attributes {
            make_storable(value, 0, name.clone(), &mut stored_as_json);
        }
        stored_as_json.sort_unstable();
        let paths = stored_as_json.into_iter().map(AttributeValue::S).collect();
        attributes.insert(STORED_AS_JSON.to_owned(), AttributeValue::L(paths));
        let size = fields_size(attributes.iter(), 0)
            .ok_or(UnstorableValue { field: String::new(), problem: "a value DynamoDB refuses" })?;
        Ok(Self { attributes, size })
    }

    /// The size DynamoDB counts (the 400 KB limit, the capacity billed), by AWS's published rules: attribute
    /// names and values in UTF-8 bytes, numbers about one byte per two digits plus one, 1 byte for booleans and
    /// nulls, 3 bytes per list or map plus 1 per element.
    pub fn size(&self) -> usize {
        self.size
    }

    pub fn attributes(&self) -> &HashMap<String, AttributeValue> {
        &self.attributes
    }

    pub fn into_attributes(self) -> HashMap<String, AttributeValue> {
        self.attributes
    }

    /// The item with its attribute `from` (when present) named `to` instead, and measured so.
    pub fn renamed(mut self, from: &str, to: &str) -> Self {
        if let Some(value) = self.attributes.remove(from) {
            self.size = self.size - from.len() + to.len();
            self.attributes.insert(to.to_owned(), value);
        }
        self
    }
}

/// `value`, at `path` inside `containers` lists or maps, in a form DynamoDB takes: each smallest part it would
/// refuse (the number, the map with a bad name, the list or map nested too deep) replaced by its JSON text.
fn make_storable(value: &mut AttributeValue, containers: usize, path: String, stored_as_json: &mut Vec<String>) {
    let refused_here = match &*value {
        AttributeValue::N(number) => number_size(number).is_none(),
        AttributeValue::L(_) | AttributeValue::M(_) if containers >= MAX_NESTED_CONTAINERS => true,
        AttributeValue::M(map) => !map.keys().all(|name| storable_name(name)),
        _ => false,
    };
    if refused_here {
        *value = AttributeValue::S(json_of(value).to_string());
        stored_as_json.push(path);
        return;
    }
    match value {
        AttributeValue::L(list) => {
            for (index, element) in list.iter_mut().enumerate() {
                if value_size(element, containers + 1).is_none() {
                    make_storable(element, containers + 1, format!("{path}[{index}]"), stored_as_json);
                }
            }
        }
        AttributeValue::M(map) => {
            for (name, element) in map.iter_mut() {
                if value_size(element, containers + 1).is_none() {
                    make_storable(element, containers + 1, format!("{path}.{name}"), stored_as_json);
                }
            }
        }
        _ => {}
    }
}

/// A DynamoDB value as the JSON it was made from (serde_dynamo's numbers are JSON numbers; a binary value, which
/// no sender's field becomes, as base64).
pub fn json_of(value: &AttributeValue) -> Value {
    let base64 = |bytes: &[u8]| Value::from(base64::engine::general_purpose::STANDARD.encode(bytes));
    match value {
        AttributeValue::S(text) => text.as_str().into(),
        AttributeValue::N(text) => number(text),
        AttributeValue::B(blob) => base64(blob.as_ref()),
        AttributeValue::Bool(flag) => (*flag).into(),
        AttributeValue::L(list) => list.iter().map(json_of).collect(),
        AttributeValue::M(map) => {
            // A map's field order is lost in a DynamoDB item: written in name order, the same text every time.
            let mut fields: Vec<(&String, &AttributeValue)> = map.iter().collect();
            fields.sort_unstable_by_key(|(name, _)| *name);
            Value::Object(fields.into_iter().map(|(name, value)| (name.clone(), json_of(value))).collect())
        }
        AttributeValue::Ss(texts) => texts.iter().map(|text| Value::from(text.as_str())).collect(),
        AttributeValue::Ns(numbers) => numbers.iter().map(|text| number(text)).collect(),
        AttributeValue::Bs(blobs) => blobs.iter().map(|blob| base64(blob.as_ref())).collect(),
        _ => Value::Null,
    }
}

/// A DynamoDB number's text as a JSON number: exactly, when it is a whole number a 64-bit integer holds, else the
/// nearest double (Rust reads a long decimal such as a double's 309 digits exactly; serde_json may not).
fn number(text: &str) -> Value {
    let whole = text.parse::<u64>().map(Value::from).or_else(|_| text.parse::<i64>().map(Value::from));
    let double = || text.parse::<f64>().ok().and_then(serde_json::Number::from_f64).map(Value::Number);
    whole.ok().or_else(double).unwrap_or_else(|| Value::from(text))
}

/// Its size as DynamoDB counts it; `None` when DynamoDB would refuse something in it.
fn value_size(value: &AttributeValue, containers: usize) -> Option<usize> {
    if matches!(value, AttributeValue::L(_) | AttributeValue::M(_)) && containers >= MAX_NESTED_CONTAINERS {
        return None;
    }
    Some(match value {
        AttributeValue::S(text) => text.len(),
        AttributeValue::N(number) => number_size(number)?,
        AttributeValue::B(bytes) => bytes.as_ref().len(),
        AttributeValue::Bool(_) | AttributeValue::Null(_) => 1,
        AttributeValue::L(list) => {
            let mut size = 3;
            for element in list {
                size += value_size(element, containers + 1)? + 1;
            }
            size
        }
        AttributeValue::M(map) => 3 + fields_size(map.iter(), containers + 1)?,
        AttributeValue::Ss(texts) => texts.iter().map(String::len).sum(),
        AttributeValue::Ns(numbers) => numbers.iter().map(|n| number_size(n)).sum::<Option<usize>>()?,
        AttributeValue::Bs(blobs) => blobs.iter().map(|blob| blob.as_ref().len()).sum(),
        // serde_dynamo writes none other; a future SDK variant is refused rather than mis-measured.
        _ => return None,
    })
}

fn fields_size<'a>(fields: impl Iterator<Item = (&'a String, &'a AttributeValue)>, containers: usize) -> Option<usize> {
    let mut size = 0;
    for (name, value) in fields {
        if !storable_name(name) {
            return None;
        }
        size += name.len() + value_size(value, containers)? + usize::from(containers > 0);
    }
    Some(size)
}

/// `None` when DynamoDB refuses the number. serde_dynamo writes plain decimals, never exponents.
fn number_size(number: &str) -> Option<usize> {
    let unsigned = number.trim_start_matches('-');
    let (integer, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    let integer = integer.trim_start_matches('0');
    let fraction_kept = fraction.trim_end_matches('0');
    // Digits from the first non-zero one to the last non-zero one.
    let significant = match (integer.is_empty(), fraction_kept.is_empty()) {
        (_, true) => integer.trim_end_matches('0').len(),
        (true, false) => fraction_kept.trim_start_matches('0').len(),
        (false, false) => integer.len() + fraction_kept.len(),
    };
    let magnitude_ok = match integer.is_empty() {
        true => significant == 0 || fraction.len() - fraction.trim_start_matches('0').len() < 130,
        false => integer.len() <= 126,
    };
    (magnitude_ok && significant <= 38).then(|| significant.div_ceil(2) + 1)
}

pub fn rfc3339(at: OffsetDateTime) -> String {
    // Formatting a UTC OffsetDateTime as RFC 3339 only fails for years outside 0..=9999.
    at.format(&Rfc3339).unwrap_or_else(|_| at.unix_timestamp().to_string())
}

/// Epoch seconds `after` past `at`.
pub fn epoch_after(at: OffsetDateTime, after: Duration) -> i64 {
    at.unix_timestamp().saturating_add(i64::try_from(after.as_secs()).unwrap_or(i64::MAX))
}

/// The TTL attribute's value (`expires_at`, epoch seconds) when retention is configured.
pub fn expires_at(at: OffsetDateTime, retention: Option<Retention>) -> Option<i64> {
    retention.map(|retention| epoch_after(at, retention.duration()))
}

/// A sender's top-level fields whose names are attributes we write ourselves, or names DynamoDB refuses for an
/// attribute (empty, over 64 KB), kept under [`SHADOWED_FIELDS`] exactly as sent. Unknown fields are stored next
/// to ours, so without this a body could set the TTL (`expires_at`), an index key (`phone_e164`) or a sent text's
/// state, or have its whole record refused; and dropping them would lose what 2X sent.
pub type ShadowedFields = Map<String, Value>;

/// The map attribute holding a sender's fields that carry one of our attribute names (its own name included).
pub const SHADOWED_FIELDS: &str = "shadowed_fields";

/// Moves every field of `fields` named in `ours`, or with a name DynamoDB refuses, into the returned map (absent
/// when there is none). A name DynamoDB refuses there too makes that map stored as its JSON text
/// ([`STORED_AS_JSON`]).
pub fn set_aside(fields: &mut Map<String, Value>, ours: &[&str]) -> Option<ShadowedFields> {
    let mut shadowed: ShadowedFields = ours.iter().filter_map(|name| fields.remove_entry(*name)).collect();
    if !fields.keys().all(|name| storable_name(name)) {
        let refused: Vec<String> = fields.keys().filter(|name| !storable_name(name)).cloned().collect();
        shadowed.extend(refused.into_iter().filter_map(|name| fields.remove_entry(&name)));
    }
    (!shadowed.is_empty()).then_some(shadowed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn size(record: serde_json::Value) -> Result<usize, UnstorableValue> {
        Item::new(&record).map(|item| item.size())
    }

    #[test]
    fn item_size_follows_dynamodbs_rules() {
        // "id" (2) + 1 digit (2); "name" (4) + "Ann" (3); "ok" (2) + 1.
        assert_eq!(size(json!({"id": 7, "name": "Ann", "ok": true})), Ok(2 + 2 + 4 + 3 + 2 + 1));
        // "id" (2) + 20 significant digits (11).
        assert_eq!(size(json!({"id": 12345678901234567890u64})), Ok(2 + 11));
        // "t" (1) + list: 3 + one map (3 + "role" 4 + "User" 4 + 1) + 1.
        assert_eq!(size(json!({"t": [{"role": "User"}]})), Ok(1 + 3 + (3 + 4 + 4 + 1) + 1));
        // "n" (1) + null (1); "b" (1) + 4 bytes.
        assert_eq!(size(json!({"n": null})), Ok(2));
        #[derive(Serialize)]
        struct Blob {
            b: serde_bytes::ByteBuf,
        }
        assert_eq!(
            Item::new(&Blob { b: serde_bytes::ByteBuf::from(vec![1, 2, 3, 4]) }).map(|item| item.size()),
            Ok(1 + 4)
        );
        assert!(size(json!("not an item")).is_err());
    }

    #[test]
    fn the_built_item_is_the_one_serde_dynamo_writes() {
        let record = json!({"id": 7, "call": {"answered": true}, "turns": [{"role": "User"}]});
        let item = Item::new(&record).unwrap();
        let expected: HashMap<String, AttributeValue> = serde_dynamo::aws_sdk_dynamodb_1::to_item(&record).unwrap();
        assert_eq!(item.attributes(), &expected);
        assert_eq!(item.into_attributes()["id"], AttributeValue::N("7".into()));
    }

    /// Each would be a ValidationException from DynamoDB on every delivery: stored as its JSON text instead, the
    /// smallest part that needs it, and its path listed.
    #[test]
    fn values_dynamodb_refuses_are_stored_as_their_json_text() {
        let nested = |depth: usize| (0..depth).fold(json!(1), |inner, _| json!({ "a": inner }));
        let item =
            |record: serde_json::Value| json_of(&AttributeValue::M(Item::new(&record).unwrap().into_attributes()));
        assert_eq!(
            item(json!({"id": 1, "meta": nested(31)}))["meta"],
            nested(31),
            "31 maps inside each other are fine"
        );
        let deep = item(json!({"id": 1, "meta": nested(32)}));
        assert_eq!(deep[STORED_AS_JSON], json!([format!("meta{}", ".a".repeat(31))]));
        let mut inner = &deep["meta"];
        for _ in 0..31 {
            inner = &inner["a"];
        }
        assert_eq!(inner, &json!(r#"{"a":1}"#), "the 32nd map is kept as its JSON text");

        let lists = |depth: usize| (0..depth).fold(json!(1), |inner, _| json!([inner]));
        assert!(item(json!({ "v": lists(31) })).get(STORED_AS_JSON).is_none());
        assert_eq!(item(json!({ "v": lists(50) }))[STORED_AS_JSON], json!([format!("v{}", "[0]".repeat(31))]));

        let empty_name = item(json!({"id": 1, "meta": {"": 1, "kept": 2}, "q": [{"x": {"": []}}]}));
        assert_eq!(empty_name["meta"], json!(r#"{"":1,"kept":2}"#));
        assert_eq!(empty_name["q"], json!([{"x": "{\"\":[]}"}]));
        assert_eq!(empty_name[STORED_AS_JSON], json!(["meta", "q[0].x"]));

        for fine in [json!(0), json!(-1.5), json!(1e125), json!(1.5e-129), json!(u64::MAX), json!(i64::MIN), json!(0.1)]
        {
            assert!(item(json!({ "n": fine })).get(STORED_AS_JSON).is_none(), "{fine}");
        }
        for huge in [json!(1e126), json!(-1e300), json!(1e-131), json!(5e-324), json!(f64::MAX)] {
            let stored = item(json!({ "call": { "duration": huge, "answered": true } }));
            assert_eq!(stored[STORED_AS_JSON], json!(["call.duration"]), "{huge}");
            let text = stored["call"]["duration"].as_str().unwrap().to_owned();
            assert_eq!(serde_json::from_str::<serde_json::Value>(&text).unwrap(), huge, "the number reads back");
            assert_eq!(stored["call"]["answered"], true);
        }
    }

    #[test]
    fn a_top_level_name_dynamodb_refuses_is_refused() {
        assert_eq!(Item::new(&json!({"id": 1, "": 1})).unwrap_err().problem, "a field name DynamoDB refuses");
        assert!(Item::new(&json!("not an item")).is_err());
    }

    #[test]
    fn only_the_named_fields_are_set_aside_as_sent() {
        let mut fields = json!({"status": {"x": 1}, "kept": 2, "shadowed_fields": 3}).as_object().unwrap().clone();
        let shadowed = set_aside(&mut fields, &["status", "absent", SHADOWED_FIELDS]).unwrap();
        assert_eq!(Value::Object(shadowed), json!({"status": {"x": 1}, "shadowed_fields": 3}));
        assert_eq!(Value::Object(fields.clone()), json!({"kept": 2}));
        assert_eq!(set_aside(&mut fields, &["status"]), None);

        let mut fields = json!({"": 1, "kept": 2}).as_object().unwrap().clone();
        assert_eq!(set_aside(&mut fields, &[]).map(Value::Object), Some(json!({"": 1})), "a name DynamoDB refuses");
        assert_eq!(Value::Object(fields), json!({"kept": 2}));
    }

    #[test]
    fn the_ttl_is_the_retention_after_the_time_given() {
        let at = OffsetDateTime::UNIX_EPOCH;
        assert_eq!(expires_at(at, Some(Retention::days(2))), Some(172_800));
        assert_eq!(expires_at(at, None), None);
        assert_eq!(rfc3339(at), "1970-01-01T00:00:00Z");
    }
}
