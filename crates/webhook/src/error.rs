//! Everything that can go wrong with a delivery, and the one place each is mapped to an HTTP answer.

use crate::metrics::Outcome;
use lambda_http::http::StatusCode;
use serde_json::json;

/// An AWS call that failed after the SDK's own retries, or timed out.
///
/// `cause` is a classification built by the adapter (error kind and AWS error code), never the service's
/// message text, which may echo request data such as a phone number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{operation} failed: {cause}")]
pub struct DependencyError {
    pub operation: &'static str,
    pub cause: String,
}

impl DependencyError {
    pub fn new(operation: &'static str, cause: impl Into<String>) -> Self {
        Self { operation, cause: cause.into() }
    }
}

/// A value DynamoDB refuses in any item (a ValidationException), so no retry could ever store the record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("DynamoDB cannot store {problem}")]
pub struct UnstorableValue {
    /// Where, as `name.name[index]`.
    pub field: String,
    pub problem: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    #[error("unauthorized")]
    Unauthorized,
    #[error("only POST is accepted")]
    MethodNotAllowed,
    /// Not JSON, wrong JSON types, a required field missing.
    #[error("{message}")]
    Malformed { message: String, field: Option<String> },
    /// Well-formed JSON we cannot act on: an invalid phone number, an empty or oversized message.
    #[error("{message}")]
    Unprocessable { message: String, field: Option<String> },
    /// The body is larger than the function accepts.
    #[error("the request body is {size} bytes; at most {limit} are accepted")]
    TooLarge { size: usize, limit: usize },
    /// A record over DynamoDB's 400 KB item limit even in its most compact form (`record` names it, `compact`
    /// says what was already done to make it fit).
    #[error("the {record} is {size} bytes{compact}; DynamoDB stores at most 400 KB")]
    RecordTooLarge { record: &'static str, size: usize, compact: &'static str },
    /// A value DynamoDB refuses whatever we retry (an empty field name, nesting past 32 levels, a huge number).
    #[error(transparent)]
    Unstorable(#[from] UnstorableValue),
    /// Another delivery of the same id is being processed right now.
    #[error("a delivery with this id is being processed; deliver again later")]
    InProgress,
    #[error(transparent)]
    Dependency(#[from] DependencyError),
}

/// What a request came to, for the response and the summary log line.
pub struct ErrorAnswer {
    pub status: StatusCode,
    pub outcome: Outcome,
    pub body: String,
}

const UNAVAILABLE: &str = "a service this webhook depends on is unavailable; deliver again later";

impl WebhookError {
    pub fn answer(&self) -> ErrorAnswer {
        let (status, outcome, field) = match self {
            Self::Unauthorized => (StatusCode::UNAUTHORIZED, Outcome::Unauthorized, None),
            Self::MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, Outcome::MethodNotAllowed, None),
            Self::Malformed { field, .. } => (StatusCode::BAD_REQUEST, Outcome::Invalid, field.as_deref()),
            Self::Unprocessable { field, .. } => (StatusCode::UNPROCESSABLE_ENTITY, Outcome::Invalid, field.as_deref()),
            Self::Unstorable(value) => (StatusCode::UNPROCESSABLE_ENTITY, Outcome::Invalid, Some(value.field.as_str())),
            Self::TooLarge { .. } | Self::RecordTooLarge { .. } => {
                (StatusCode::PAYLOAD_TOO_LARGE, Outcome::TooLarge, None)
            }
            Self::InProgress => (StatusCode::CONFLICT, Outcome::InProgress, None),
            Self::Dependency(_) => (StatusCode::SERVICE_UNAVAILABLE, Outcome::DependencyFailed, None),
        };
        // Each variant's message is written for the sender, except a dependency's: its details go to the log line.
        let error = match self {
            Self::Dependency(_) => UNAVAILABLE.to_owned(),
            other => other.to_string(),
        };
        let mut body = json!({ "error": error });
        if let Some(field) = field {
            body["field"] = field.into();
        }
        ErrorAnswer { status, outcome, body: body.to_string() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_error_maps_to_its_status_outcome_and_sender_facing_body() {
        let field = Some("message".to_owned());
        let cases = [
            (WebhookError::Unauthorized, 401, Outcome::Unauthorized, r#"{"error":"unauthorized"}"#.to_owned()),
            (
                WebhookError::MethodNotAllowed,
                405,
                Outcome::MethodNotAllowed,
                r#"{"error":"only POST is accepted"}"#.into(),
            ),
            (
                WebhookError::Malformed { message: "bad".into(), field: None },
                400,
                Outcome::Invalid,
                r#"{"error":"bad"}"#.into(),
            ),
            (
                WebhookError::Unprocessable { message: "the message is empty".into(), field },
                422,
                Outcome::Invalid,
                r#"{"error":"the message is empty","field":"message"}"#.into(),
            ),
            (
                WebhookError::TooLarge { size: 70_000, limit: 65_536 },
                413,
                Outcome::TooLarge,
                r#"{"error":"the request body is 70000 bytes; at most 65536 are accepted"}"#.into(),
            ),
            (
                WebhookError::Unstorable(UnstorableValue { field: "meta.".into(), problem: "an empty field name" }),
                422,
                Outcome::Invalid,
                r#"{"error":"DynamoDB cannot store an empty field name","field":"meta."}"#.into(),
            ),
            (
                WebhookError::InProgress,
                409,
                Outcome::InProgress,
                format!(r#"{{"error":"{}"}}"#, WebhookError::InProgress),
            ),
            (
                WebhookError::Dependency(DependencyError::new("SNS Publish", "service error Throttling")),
                503,
                Outcome::DependencyFailed,
                format!(r#"{{"error":"{UNAVAILABLE}"}}"#),
            ),
        ];
        for (error, status, outcome, body) in cases {
            let answer = error.answer();
            assert_eq!((answer.status.as_u16(), answer.outcome, answer.body), (status, outcome, body));
        }
    }
}
