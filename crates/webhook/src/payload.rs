//! What 2X's webhook bodies share, read leniently and losslessly.
//!
//! A body is kept as the JSON object 2X sent ([`Fields`]), every field with whatever JSON it carries, and stored
//! so. Only what a function cannot work without is required, and read strictly ([`required_id`],
//! [`required_phone`], [`required_text`]); a documented field a function reads besides (an end reason, a text's
//! type) is read when it has a usable form and otherwise left as sent ([`text_of`]). 2X's documents contradict
//! themselves (`../shared/seeds/README.md`), and a body from another JSON library types a field its own way
//! (`"workflow_day": "1"`, `"meta": []`): none of that may cost a call record or an opt-out.

use crate::error::WebhookError;
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::fmt;

/// A webhook body: every field as 2X sent it.
pub type Fields = Map<String, Value>;

/// The webhook's `id`: 2X's reference for the text or call, our idempotency key. Stored as a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct WebhookId(u64);

/// Whole numbers a JSON number written with a fraction (`1234.0`) still holds exactly, as a double.
const EXACT_IN_A_DOUBLE: f64 = 9_007_199_254_740_992.0;

impl WebhookId {
    pub const fn new(value: u64) -> Self {
        Self(value)
    }

    pub const fn get(self) -> u64 {
        self.0
    }

    /// Reads 2X's id as any sender writes a non-negative whole number: `1234`, `1234.0`, `"1234"`, `" 1234 "`.
    pub fn read(value: &Value) -> Option<Self> {
        match value {
            Value::Number(number) => whole_number(number),
            Value::String(text) => digits(text.trim()),
            _ => None,
        }
        .map(Self)
    }
}

/// A non-negative whole number as any JSON library writes one: `1234`, or `1234.0` (a double holds whole numbers
/// exactly up to 2^53).
fn whole_number(number: &serde_json::Number) -> Option<u64> {
    number.as_u64().or_else(|| {
        let float = number.as_f64()?;
        // `as` is exact here: a whole number within the range a double holds exactly.
        (float.fract() == 0.0 && (0.0..=EXACT_IN_A_DOUBLE).contains(&float)).then_some(float as u64)
    })
}

/// A non-empty string of ASCII digits as a number (no sign, no other character).
fn digits(text: &str) -> Option<u64> {
    (!text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())).then(|| text.parse().ok()).flatten()
}

impl fmt::Display for WebhookId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl Serialize for WebhookId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u64(self.0)
    }
}

/// As stored and queued: a number (a string of digits is read too).
impl<'de> Deserialize<'de> for WebhookId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct IdVisitor;

        impl Visitor<'_> for IdVisitor {
            type Value = WebhookId;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a non-negative integer or a string of digits")
            }

            fn visit_u64<E: de::Error>(self, value: u64) -> Result<WebhookId, E> {
                Ok(WebhookId(value))
            }

            fn visit_i64<E: de::Error>(self, value: i64) -> Result<WebhookId, E> {
                u64::try_from(value).map(WebhookId).map_err(|_| E::invalid_value(de::Unexpected::Signed(value), &self))
            }

            fn visit_str<E: de::Error>(self, value: &str) -> Result<WebhookId, E> {
                digits(value).map(WebhookId).ok_or_else(|| E::invalid_value(de::Unexpected::Str(value), &self))
            }
        }

        deserializer.deserialize_any(IdVisitor)
    }
}

/// A body without a field a function cannot work without, or with one it cannot use: 400 naming the field.
fn unusable(name: &str, value: Option<&Value>, expected: &str) -> WebhookError {
    let problem = match value {
        None => format!("missing field `{name}`"),
        Some(value) => format!("`{name}` must be {expected}, not {}", kind_of(value)),
    };
    WebhookError::Malformed {
        message: format!("the request body does not have the expected shape: {problem}"),
        field: Some(name.to_owned()),
    }
}

/// What a JSON value is, for a message (never the value itself).
fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "this number",
        Value::String(_) => "this string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The body's `id`, which a post-call or a text cannot be kept without.
pub fn required_id(fields: &Fields) -> Result<WebhookId, WebhookError> {
    let value = fields.get("id");
    value
        .and_then(WebhookId::read)
        .ok_or_else(|| unusable("id", value, "a non-negative whole number or a string of digits"))
}

/// A phone number as 2X sends one: a string (`"+1…"`, `"2025550143"`), or the digits as a JSON number (what a
/// sender that stores numbers as integers writes, `2025550143.0` included). Not yet checked as a phone number.
pub fn phone_text(value: &Value) -> Option<Cow<'_, str>> {
    match value {
        Value::String(text) => Some(Cow::Borrowed(text)),
        Value::Number(number) => whole_number(number).map(|digits| Cow::Owned(digits.to_string())),
        _ => None,
    }
}

/// The body's `record_phone_number`, which a text or an opt-out cannot do without.
pub fn required_phone(fields: &Fields) -> Result<Cow<'_, str>, WebhookError> {
    let value = fields.get("record_phone_number");
    value.and_then(phone_text).ok_or_else(|| unusable("record_phone_number", value, "a string or a whole number"))
}

/// The body's string field `name` (a text's `message`), which a function cannot do without.
pub fn required_text<'a>(fields: &'a Fields, name: &str) -> Result<&'a str, WebhookError> {
    let value = fields.get(name);
    value.and_then(Value::as_str).ok_or_else(|| unusable(name, value, "a string"))
}

/// A documented field read for its words (an end reason, a text's type): its text, trimmed, when it is a
/// non-empty string; `None` for any other JSON, which is kept as sent and read as absent.
pub fn text_of(value: Option<&Value>) -> Option<&str> {
    value.and_then(Value::as_str).map(str::trim).filter(|text| !text.is_empty())
}

/// 2X's fields about a lead ("record information") and its workflow position, as every webhook sends them.
pub const LEAD_FIELDS: [&str; 11] = [
    "record_phone_number",
    "record_first_name",
    "record_last_name",
    "record_zip_code",
    "record_timezone",
    "meta",
    "agent_key",
    "workflow_key",
    "workflow_day",
    "workflow_call",
    "workflow_end",
];

/// The lead's fields of a body, as sent.
pub fn lead_fields(fields: &Fields) -> Fields {
    LEAD_FIELDS.iter().filter_map(|name| fields.get_key_value(*name)).map(|(k, v)| (k.clone(), v.clone())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fields(value: Value) -> Fields {
        value.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn an_id_is_read_as_any_sender_writes_a_whole_number() {
        for (value, expected) in [
            (json!(1234), Some(1234)),
            (json!(1234.0), Some(1234)),
            (json!("1234"), Some(1234)),
            (json!(" 1234 "), Some(1234)),
            (json!(u64::MAX), Some(u64::MAX)),
            (json!(0), Some(0)),
            (json!(-1), None),
            (json!(1.5), None),
            (json!(1e300), None),
            (json!("12a"), None),
            (json!("-1"), None),
            (json!(""), None),
            (json!(true), None),
            (json!(null), None),
            (json!([1]), None),
        ] {
            assert_eq!(WebhookId::read(&value).map(WebhookId::get), expected, "{value}");
        }
    }

    #[test]
    fn a_missing_or_unusable_required_field_is_named() {
        let missing = required_id(&fields(json!({"message": "hi"}))).unwrap_err();
        assert!(matches!(&missing, WebhookError::Malformed { field: Some(f), message } if f == "id"
            && message.contains("missing field `id`")));
        let wrong = required_phone(&fields(json!({"record_phone_number": ["2025550143"]}))).unwrap_err();
        assert!(matches!(&wrong, WebhookError::Malformed { field: Some(f), message } if f == "record_phone_number"
            && message.ends_with("`record_phone_number` must be a string or a whole number, not an array")));
        let message = required_text(&fields(json!({"message": 5})), "message").unwrap_err();
        assert!(matches!(message, WebhookError::Malformed { field: Some(f), .. } if f == "message"));
    }

    #[test]
    fn a_phone_number_may_come_as_a_string_or_as_its_digits() {
        let read =
            |value: Value| required_phone(&fields(json!({ "record_phone_number": value }))).ok().map(Cow::into_owned);
        assert_eq!(read(json!("+12025550143")).as_deref(), Some("+12025550143"));
        assert_eq!(read(json!(2025550143u64)).as_deref(), Some("2025550143"));
        assert_eq!(read(json!(2025550143.0)).as_deref(), Some("2025550143"));
        assert_eq!(read(json!(-2025550143i64)), None);
        assert_eq!(read(json!(2025550143.5)), None);
    }

    #[test]
    fn words_are_read_only_from_non_empty_strings() {
        assert_eq!(text_of(Some(&json!(" do_not_call "))), Some("do_not_call"));
        for other in [json!(""), json!("  "), json!(1), json!(["do_not_call"]), json!(null)] {
            assert_eq!(text_of(Some(&other)), None, "{other}");
        }
        assert_eq!(text_of(None), None);
    }

    #[test]
    fn the_lead_fields_are_taken_as_sent() {
        let body = fields(json!({"id": 1, "meta": [], "workflow_day": "1", "call": {}, "record_zip_code": 98765}));
        assert_eq!(
            Value::Object(lead_fields(&body)),
            json!({"meta": [], "workflow_day": "1", "record_zip_code": 98765})
        );
    }

    #[test]
    fn a_stored_or_queued_id_reads_back() {
        assert_eq!(serde_json::from_value::<WebhookId>(json!(7)).unwrap(), WebhookId::new(7));
        assert_eq!(serde_json::from_value::<WebhookId>(json!("7")).unwrap(), WebhookId::new(7));
        assert!(serde_json::from_value::<WebhookId>(json!(-7)).is_err());
        assert_eq!(serde_json::to_value(WebhookId::new(7)).unwrap(), json!(7));
    }
}
