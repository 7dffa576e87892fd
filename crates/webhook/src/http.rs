//! Request bodies in, JSON responses out.

use crate::error::WebhookError;
use lambda_http::http::{StatusCode, header};
use lambda_http::{Body, Response};
use serde::de::DeserializeOwned;
use serde_json::error::Category;

/// Parses a JSON body whatever its `Content-Type` says, reporting where it went wrong.
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, WebhookError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(WebhookError::Malformed { message: "the request body is empty".into(), field: None });
    }
    // Most bodies are valid: parse them at full speed, and again with path tracking only to explain a failure.
    serde_json::from_slice(body).or_else(|_| parse_json_explained(body))
}

/// [`parse_json`] keeping the path to the offending field.
fn parse_json_explained<T: DeserializeOwned>(body: &[u8]) -> Result<T, WebhookError> {
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let path = error.path().to_string();
        malformed(error.into_inner(), &path)
    })?;
    deserializer.end().map_err(|error| malformed(error, "."))?;
    Ok(value)
}

fn malformed(error: serde_json::Error, path: &str) -> WebhookError {
    match error.classify() {
        Category::Syntax | Category::Eof | Category::Io => {
            WebhookError::Malformed { message: format!("the request body is not valid JSON: {error}"), field: None }
        }
        Category::Data => {
            let message = format!("the request body does not have the expected shape: {error}");
            WebhookError::Malformed { field: field_path(path, &message), message }
        }
    }
}

/// The JSON path of the offending field: serde names the parent of a missing field, so append its name. serde
/// reports that name only in its message (`missing field `x``), with no structured form, so it is read from there.
fn field_path(path: &str, message: &str) -> Option<String> {
    // serde_path_to_error writes the root as "." and an unknown position as "?".
    let parent = (path != "." && path != "?").then_some(path);
    let missing = message.split("missing field `").nth(1).and_then(|rest| rest.split('`').next());
    match (parent, missing) {
        (Some(parent), Some(field)) => Some(format!("{parent}.{field}")),
        (None, Some(field)) => Some(field.to_owned()),
        (parent, None) => parent.map(str::to_owned),
    }
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
    use crate::payload::WebhookId;

    // Shaped like the webhooks' bodies; their fields are only read by the parser under test.
    #[allow(dead_code)]
    #[derive(Debug, serde::Deserialize)]
    struct SendText {
        id: WebhookId,
        record_phone_number: String,
        message: String,
    }

    #[allow(dead_code)]
    #[derive(Debug, serde::Deserialize)]
    struct PostCall {
        id: WebhookId,
        call: Option<CallDetails>,
        transcript: Option<Vec<Turn>>,
    }

    #[allow(dead_code)]
    #[derive(Debug, serde::Deserialize)]
    struct CallDetails {
        answered: Option<bool>,
    }

    #[allow(dead_code)]
    #[derive(Debug, serde::Deserialize)]
    struct Turn {
        role: String,
        content: String,
    }

    fn malformed<T: DeserializeOwned + std::fmt::Debug>(body: &str) -> (String, Option<String>) {
        match parse_json::<T>(body.as_bytes()) {
            Err(WebhookError::Malformed { message, field }) => (message, field),
            other => panic!("expected Malformed, got {other:?}"),
        }
    }

    #[test]
    fn syntax_errors_say_not_json() {
        let (message, field) = malformed::<SendText>(r#"{"id": 1,"#);
        assert!(message.starts_with("the request body is not valid JSON"), "{message}");
        assert_eq!(field, None);
        let (message, _) =
            malformed::<SendText>(r#"{"id":1,"record_phone_number":"+12025550143","message":"m"} trailing"#);
        assert!(message.starts_with("the request body is not valid JSON"), "{message}");
    }

    #[test]
    fn empty_bodies_are_named() {
        assert_eq!(malformed::<SendText>("  ").0, "the request body is empty");
    }

    #[test]
    fn missing_fields_are_reported_with_their_path() {
        let (message, field) = malformed::<SendText>(r#"{"id":1,"message":"hi"}"#);
        assert!(message.contains("missing field `record_phone_number`"), "{message}");
        assert_eq!(field.as_deref(), Some("record_phone_number"));
        let (_, field) = malformed::<PostCall>(r#"{"id":1,"transcript":[{"role":"User"}]}"#);
        assert_eq!(field.as_deref(), Some("transcript[0].content"));
    }

    #[test]
    fn wrong_types_are_reported_with_their_path() {
        let (message, field) = malformed::<PostCall>(r#"{"id":1,"call":{"answered":"yes"}}"#);
        assert!(message.starts_with("the request body does not have the expected shape"), "{message}");
        assert_eq!(field.as_deref(), Some("call.answered"));
        let (_, field) = malformed::<SendText>(r#"{"id":-4,"record_phone_number":"1","message":"m"}"#);
        assert_eq!(field.as_deref(), Some("id"));
    }
}
