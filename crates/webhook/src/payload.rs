//! What 2X's webhook bodies share, read leniently and losslessly.
//!
//! A body is read as the JSON object 2X sent ([`parse_object`], whatever its `Content-Type` says, repaired where
//! another library wrote it oddly) and kept so ([`Fields`]), every field with whatever JSON it carries, and stored
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

/// Reads a body as the JSON object 2X sent, whatever its `Content-Type` says.
///
/// JSON that serde_json refuses only for the way another library wrote it is still the JSON 2X meant, and read
/// as such: a `\u` escape of a lone UTF-16 surrogate (half an emoji, as JavaScript can produce) and bytes that
/// are not UTF-8 each become U+FFFD, the replacement character; a number too large for a double (`1E400`) becomes
/// a string of its digits as written. Everything else is kept as sent.
pub fn parse_object(body: &[u8]) -> Result<Fields, WebhookError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(WebhookError::Malformed { message: "the request body is empty".into(), field: None });
    }
    let first = match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(value) => return into_object(value),
        Err(error) => error,
    };
    let repaired = repair(body).ok_or_else(|| not_json(&first))?;
    into_object(serde_json::from_slice(&repaired).map_err(|error| not_json(&error))?)
}

fn not_json(error: &serde_json::Error) -> WebhookError {
    WebhookError::Malformed { message: format!("the request body is not valid JSON: {error}"), field: None }
}

fn into_object(value: serde_json::Value) -> Result<Fields, WebhookError> {
    match value {
        serde_json::Value::Object(fields) => Ok(fields),
        _ => Err(WebhookError::Malformed { message: "the request body is not a JSON object".into(), field: None }),
    }
}

/// The replacement character, as a JSON escape.
const REPLACEMENT: &[u8] = br"\uFFFD";

/// `body` with every byte sequence that is not UTF-8 and every `\u` escape of a surrogate that is not half of a
/// pair replaced by U+FFFD, and every number too large for a double quoted as a string; `None` when there is
/// none of these (the body is refused for another reason).
fn repair(body: &[u8]) -> Option<Vec<u8>> {
    let text: Cow<'_, str> = String::from_utf8_lossy(body);
    let bytes = text.as_bytes();
    let mut repaired = Vec::with_capacity(bytes.len() + 16);
    let mut changed = matches!(text, Cow::Owned(_));
    let (mut at, mut in_string) = (0, false);
    let unit = |from: usize| -> Option<u16> {
        let escape = bytes.get(from..from + 6)?;
        let hex = std::str::from_utf8(escape.strip_prefix(br"\u")?).ok()?;
        u16::from_str_radix(hex, 16).ok()
    };
    while let Some(&byte) = bytes.get(at) {
        let end = match (in_string, byte) {
            (true, b'\\') => match unit(at) {
                Some(0xD800..=0xDBFF) if unit(at + 6).is_some_and(|low| (0xDC00..=0xDFFF).contains(&low)) => at + 12,
                Some(0xD800..=0xDFFF) => {
                    repaired.extend_from_slice(REPLACEMENT);
                    changed = true;
                    at += 6;
                    continue;
                }
                _ => (at + 2).min(bytes.len()),
            },
            (_, b'"') => {
                in_string = !in_string;
                at + 1
            }
            (false, b'-' | b'0'..=b'9') => {
                let length = bytes[at..].iter().take_while(|b| b"0123456789+-.eE".contains(b)).count();
                let literal = &bytes[at..at + length];
                if too_large_for_a_double(literal) {
                    repaired.push(b'"');
                    repaired.extend_from_slice(literal);
                    repaired.push(b'"');
                    changed = true;
                    at += length;
                    continue;
                }
                at + length
            }
            _ => at + 1,
        };
        repaired.extend_from_slice(&bytes[at..end]);
        at = end;
    }
    changed.then_some(repaired)
}

/// A JSON number literal (`-? int frac? exp?`) whose value no double holds.
fn too_large_for_a_double(literal: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(literal) else { return false };
    let unsigned = text.strip_prefix('-').unwrap_or(text);
    let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
        Some(at) => (&unsigned[..at], Some(&unsigned[at + 1..])),
        None => (unsigned, None),
    };
    let (integer, fraction) = match mantissa.split_once('.') {
        Some((integer, fraction)) => (integer, Some(fraction)),
        None => (mantissa, None),
    };
    let digits = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
    let json = digits(integer)
        && (integer == "0" || !integer.starts_with('0'))
        && fraction.is_none_or(digits)
        && exponent.is_none_or(|exponent| digits(exponent.strip_prefix(['+', '-']).unwrap_or(exponent)));
    json && text.parse::<f64>().is_ok_and(f64::is_infinite)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

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

    fn malformed(body: &[u8]) -> String {
        match parse_object(body) {
            Err(WebhookError::Malformed { message, field: None }) => message,
            other => panic!("expected Malformed without a field, got {other:?}"),
        }
    }

    #[test]
    fn a_body_is_read_as_the_object_sent() {
        let fields = parse_object(br#"{"id": 1, "meta": [], "workflow_day": "1"}"#).unwrap();
        assert_eq!(Value::Object(fields), json!({"id": 1, "meta": [], "workflow_day": "1"}));
    }

    #[test]
    fn what_is_not_a_json_object_is_refused_saying_why() {
        assert!(malformed(br#"{"id": 1,"#).starts_with("the request body is not valid JSON"));
        assert!(malformed(br#"{"id":1} trailing"#).starts_with("the request body is not valid JSON"));
        assert_eq!(malformed(b"  "), "the request body is empty");
        assert_eq!(malformed(b"[1, 2]"), "the request body is not a JSON object");
        assert_eq!(malformed(b"\"text\""), "the request body is not a JSON object");
    }

    #[test]
    fn lone_surrogate_escapes_become_the_replacement_character() {
        let fields =
            parse_object(br#"{"a": "x\ud83d", "b": "\udc4dy", "c": "\ud83d\ud83d\udc4d", "d": "\ud83d\udc4d"}"#);
        assert_eq!(
            Value::Object(fields.unwrap()),
            json!({"a": "x\u{FFFD}", "b": "\u{FFFD}y", "c": "\u{FFFD}👍", "d": "👍"})
        );
        // An escaped backslash before `u` is text, not an escape: kept as sent.
        let fields = parse_object(br#"{"path": "C:\\ud800", "lone": "\ud800"}"#).unwrap();
        assert_eq!(Value::Object(fields), json!({"path": "C:\\ud800", "lone": "\u{FFFD}"}));
    }

    #[test]
    fn bytes_that_are_not_utf8_become_the_replacement_character() {
        let fields = parse_object(b"{\"name\": \"Jos\xe9\", \"id\": 1}").unwrap();
        assert_eq!(Value::Object(fields), json!({"name": "Jos\u{FFFD}", "id": 1}));
    }

    #[test]
    fn a_number_too_large_for_a_double_is_kept_as_its_digits() {
        let fields = parse_object(br#"{"id": 1, "duration": 1E400, "list": [-2e999, 1.5], "text": "1e400"}"#);
        assert_eq!(
            Value::Object(fields.unwrap()),
            json!({"id": 1, "duration": "1E400", "list": ["-2e999", 1.5], "text": "1e400"})
        );
        for literal in ["1e400", "-1E+400", "1.5e309", "123456789e305"] {
            assert!(too_large_for_a_double(literal.as_bytes()), "{literal}");
        }
        for literal in ["1e308", "01e400", "1.e400", "1e", "-", "1e-400", "1ee400"] {
            assert!(!too_large_for_a_double(literal.as_bytes()), "{literal}");
        }
    }

    #[test]
    fn a_repair_does_not_rescue_json_broken_otherwise() {
        assert!(malformed(br#"{"a": 01e400}"#).starts_with("the request body is not valid JSON"));
        assert!(malformed(br#"{"a": "\ud800""#).starts_with("the request body is not valid JSON"));
        assert!(malformed(br#"{"a": "\x"}"#).starts_with("the request body is not valid JSON"));
    }
}
