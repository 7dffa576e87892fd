//! Everything that can go wrong with a delivery, and the one place each is mapped to an HTTP answer.

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

/// Why SNS did not confirm a text, which decides whether it may be sent again.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendFailure {
    /// SNS answered with an error, or the request never reached it: the text was not sent.
    #[error(transparent)]
    NotSent(DependencyError),
    /// The request reached SNS but no answer came back: the text may have been sent.
    #[error("{0} after the request reached SNS")]
    Unconfirmed(DependencyError),
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
    /// A call record DynamoDB cannot hold, even with its transcript compressed.
    #[error(transparent)]
    RecordTooLarge(#[from] crate::records::RecordTooLarge),
    /// A value DynamoDB refuses whatever we retry (an empty field name, nesting past 32 levels, a huge number).
    #[error(transparent)]
    Unstorable(#[from] crate::item_size::UnstorableValue),
    /// Another delivery of the same id is being processed right now.
    #[error("a delivery with this id is being processed; deliver again later")]
    InProgress,
    #[error(transparent)]
    Dependency(#[from] DependencyError),
}

/// What a request came to, for the response and the summary log line.
pub struct ErrorAnswer {
    pub status: StatusCode,
    pub outcome: &'static str,
    pub body: String,
}

const UNAVAILABLE: &str = "a service this webhook depends on is unavailable; deliver again later";

impl WebhookError {
    pub fn answer(&self) -> ErrorAnswer {
        let (status, outcome, field) = match self {
            Self::Unauthorized => (StatusCode::UNAUTHORIZED, "unauthorized", None),
            Self::MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", None),
            Self::Malformed { field, .. } => (StatusCode::BAD_REQUEST, "invalid", field.as_deref()),
            Self::Unprocessable { field, .. } => (StatusCode::UNPROCESSABLE_ENTITY, "invalid", field.as_deref()),
            Self::Unstorable(value) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid", Some(value.field.as_str())),
            Self::TooLarge { .. } | Self::RecordTooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "too_large", None),
            Self::InProgress => (StatusCode::CONFLICT, "in_progress", None),
            Self::Dependency(_) => (StatusCode::SERVICE_UNAVAILABLE, "dependency_failed", None),
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
            (WebhookError::Unauthorized, 401, "unauthorized", r#"{"error":"unauthorized"}"#.to_owned()),
            (WebhookError::MethodNotAllowed, 405, "method_not_allowed", r#"{"error":"only POST is accepted"}"#.into()),
            (
                WebhookError::Malformed { message: "bad".into(), field: None },
                400,
                "invalid",
                r#"{"error":"bad"}"#.into(),
            ),
            (
                WebhookError::Unprocessable { message: "the message is empty".into(), field },
                422,
                "invalid",
                r#"{"error":"the message is empty","field":"message"}"#.into(),
            ),
            (
                WebhookError::TooLarge { size: 70_000, limit: 65_536 },
                413,
                "too_large",
                r#"{"error":"the request body is 70000 bytes; at most 65536 are accepted"}"#.into(),
            ),
            (
                WebhookError::Unstorable(crate::item_size::UnstorableValue {
                    field: "meta.".into(),
                    problem: "an empty field name",
                }),
                422,
                "invalid",
                r#"{"error":"DynamoDB cannot store an empty field name","field":"meta."}"#.into(),
            ),
            (WebhookError::InProgress, 409, "in_progress", format!(r#"{{"error":"{}"}}"#, WebhookError::InProgress)),
            (
                WebhookError::Dependency(DependencyError::new("SNS Publish", "service error Throttling")),
                503,
                "dependency_failed",
                format!(r#"{{"error":"{UNAVAILABLE}"}}"#),
            ),
        ];
        for (error, status, outcome, body) in cases {
            let answer = error.answer();
            assert_eq!((answer.status.as_u16(), answer.outcome, answer.body), (status, outcome, body));
        }
    }
}
