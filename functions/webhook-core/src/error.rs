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
        let (status, outcome, error, field) = match self {
            Self::Unauthorized => (StatusCode::UNAUTHORIZED, "unauthorized", "unauthorized", None),
            Self::MethodNotAllowed => {
                (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "only POST is accepted", None)
            }
            Self::Malformed { message, field } => {
                (StatusCode::BAD_REQUEST, "invalid", message.as_str(), field.as_deref())
            }
            Self::Unprocessable { message, field } => {
                (StatusCode::UNPROCESSABLE_ENTITY, "invalid", message.as_str(), field.as_deref())
            }
            Self::InProgress => (
                StatusCode::CONFLICT,
                "in_progress",
                "a delivery with this id is being processed; deliver again later",
                None,
            ),
            // The dependency's details go to the log line, never to the sender.
            Self::Dependency(_) => (StatusCode::SERVICE_UNAVAILABLE, "dependency_failed", UNAVAILABLE, None),
        };
        let mut body = json!({ "error": error });
        if let Some(field) = field {
            body["field"] = field.into();
        }
        ErrorAnswer { status, outcome, body: body.to_string() }
    }
}
