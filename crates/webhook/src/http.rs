//! Request bodies in, JSON responses out.

use crate::error::WebhookError;
use crate::payload::Fields;
use lambda_http::http::{StatusCode, header};
use lambda_http::{Body, Response};
use std::borrow::Cow;

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

pub fn json_response(status: StatusCode, body: String) -> Response<Body> {
    let mut response = Response::new(Body::Text(body));
    *response.status_mut() = status;
    response.headers_mut().insert(header::CONTENT_TYPE, header::HeaderValue::from_static("application/json"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

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
