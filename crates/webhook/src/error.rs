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

/// A record DynamoDB cannot take as an item at all (not a map of fields): no retry could ever store it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("DynamoDB cannot store {problem}")]
pub struct UnstorableValue {
    /// Where, as `name.name[index]`.
    pub field: String,
    pub problem: &'static str,
}

/// Why a delivery's body was refused (a 4xx other than for its token or method): the `reason` dimension of the
/// `Refused` metric, alarmed whenever it counts. 2X changing a field's type must wake someone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Not a JSON object.
    NotJson,
    /// A field we cannot work without (an id, a phone number, a message) is missing or not of a usable type.
    RequiredField,
    /// The phone number is not a valid number.
    InvalidPhone,
    /// A valid number we may not text: another country than `ALLOWED_COUNTRIES`, or a kind of number no lead has
    /// (premium-rate, shared-cost, toll-free…).
    PhoneNotAllowed,
    /// The message is empty or longer than SNS takes.
    InvalidMessage,
    /// The body, or the record it makes, is too large.
    TooLarge,
    /// SNS refused the text for good: it is settled `failed`, never sent.
    SmsRefused,
    /// A record DynamoDB cannot take at all.
    Unstorable,
    /// A path no webhook of the function answers (a URL mistyped in 2X, or the function invoked directly).
    UnknownRoute,
}

impl Refusal {
    pub const fn label(self) -> &'static str {
        match self {
            Self::NotJson => "not_json",
            Self::RequiredField => "required_field",
            Self::InvalidPhone => "invalid_phone",
            Self::PhoneNotAllowed => "phone_not_allowed",
            Self::InvalidMessage => "invalid_message",
            Self::TooLarge => "too_large",
            Self::SmsRefused => "sms_refused",
            Self::Unstorable => "unstorable",
            Self::UnknownRoute => "unknown_route",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    #[error("unauthorized")]
    Unauthorized,
    #[error("only POST is accepted")]
    MethodNotAllowed,
    /// Not a JSON object (`field` absent), or a field we need missing or of a type we cannot use (`field` names it).
    #[error("{message}")]
    Malformed { message: String, field: Option<String> },
    /// Well-formed JSON we cannot act on: an invalid or forbidden phone number, an empty or oversized message.
    #[error("{message}")]
    Unprocessable { message: String, field: Option<String>, refusal: Refusal },
    /// The body is larger than the function accepts.
    #[error("the request body is {size} bytes; at most {limit} are accepted")]
    TooLarge { size: usize, limit: usize },
    /// A record over DynamoDB's 400 KB item limit even in its most compact form (`record` names it, `compact`
    /// says what was already done to make it fit).
    #[error("the {record} is {size} bytes{compact}; DynamoDB stores at most 400 KB")]
    RecordTooLarge { record: &'static str, size: usize, compact: &'static str },
    #[error(transparent)]
    Unstorable(#[from] UnstorableValue),
    /// The path names no webhook this function answers.
    #[error("no webhook is served at this path")]
    UnknownRoute,
    /// SNS refused the text for good (an error of the request, not of the moment): it is settled `failed` and
    /// never sent. SNS's error code goes to the log and the ledger, not to the sender.
    #[error("the SMS provider refused this text; it will not be sent")]
    SmsRefused,
    /// Another delivery of the same id is being processed right now.
    #[error("a delivery with this id is being processed; deliver again later")]
    InProgress,
    /// Not to be done before `until` (a text outside its lead's legal hours, or one the sending rate holds back):
    /// the redrive's queued delivery waits on the queue (answered as queued, and delivered again by SQS then).
    #[error("not to be done yet; it waits on the queue")]
    NotYet { until: time::OffsetDateTime },
    #[error(transparent)]
    Dependency(#[from] DependencyError),
}

/// What a request came to, for the response and the summary log line.
pub struct ErrorAnswer {
    pub status: StatusCode,
    pub outcome: Outcome,
    pub body: String,
    /// Why the body was refused, for a 4xx other than 401, 405 and 409.
    pub refusal: Option<Refusal>,
    /// The field the answer names, if any (ours, or a path of the sender's field names: never a value).
    pub field: Option<String>,
}

const UNAVAILABLE: &str = "a service this webhook depends on is unavailable; deliver again later";

impl WebhookError {
    pub fn answer(&self) -> ErrorAnswer {
        use StatusCode as Status;
        let (status, outcome, field, refusal) = match self {
            Self::Unauthorized => (Status::UNAUTHORIZED, Outcome::Unauthorized, None, None),
            Self::MethodNotAllowed => (Status::METHOD_NOT_ALLOWED, Outcome::MethodNotAllowed, None, None),
            Self::Malformed { field: None, .. } => {
                (Status::BAD_REQUEST, Outcome::Invalid, None, Some(Refusal::NotJson))
            }
            Self::Malformed { field: Some(field), .. } => {
                (Status::BAD_REQUEST, Outcome::Invalid, Some(field.as_str()), Some(Refusal::RequiredField))
            }
            Self::Unprocessable { field, refusal, .. } => {
                (Status::UNPROCESSABLE_ENTITY, Outcome::Invalid, field.as_deref(), Some(*refusal))
            }
            Self::Unstorable(value) => {
                (Status::UNPROCESSABLE_ENTITY, Outcome::Invalid, Some(value.field.as_str()), Some(Refusal::Unstorable))
            }
            Self::TooLarge { .. } | Self::RecordTooLarge { .. } => {
                (Status::PAYLOAD_TOO_LARGE, Outcome::TooLarge, None, Some(Refusal::TooLarge))
            }
            Self::SmsRefused => (Status::UNPROCESSABLE_ENTITY, Outcome::SmsRefused, None, Some(Refusal::SmsRefused)),
            Self::UnknownRoute => (Status::NOT_FOUND, Outcome::Invalid, None, Some(Refusal::UnknownRoute)),
            Self::InProgress => (Status::CONFLICT, Outcome::InProgress, None, None),
            Self::NotYet { .. } => (Status::ACCEPTED, Outcome::Waiting, None, None),
            Self::Dependency(_) => (Status::SERVICE_UNAVAILABLE, Outcome::DependencyFailed, None, None),
        };
        // Each variant's message is written for the sender, except a dependency's: its details go to the log line.
        let error = match self {
            Self::Dependency(_) => UNAVAILABLE.to_owned(),
            other => other.to_string(),
        };
        let mut body = json!({ "error": error });
        let field = field.map(str::to_owned);
        if let Some(field) = &field {
            body["field"] = field.as_str().into();
        }
        ErrorAnswer { status, outcome, body: body.to_string(), refusal, field }
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
                WebhookError::Unprocessable {
                    message: "the message is empty".into(),
                    field,
                    refusal: Refusal::InvalidMessage,
                },
                422,
                Outcome::Invalid,
                r#"{"error":"the message is empty","field":"message"}"#.into(),
            ),
            (
                WebhookError::SmsRefused,
                422,
                Outcome::SmsRefused,
                r#"{"error":"the SMS provider refused this text; it will not be sent"}"#.into(),
            ),
            (
                WebhookError::TooLarge { size: 70_000, limit: 65_536 },
                413,
                Outcome::TooLarge,
                r#"{"error":"the request body is 70000 bytes; at most 65536 are accepted"}"#.into(),
            ),
            (
                WebhookError::UnknownRoute,
                404,
                Outcome::Invalid,
                r#"{"error":"no webhook is served at this path"}"#.into(),
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
            let body_refused = (400..500).contains(&status) && ![401, 405, 409].contains(&status);
            assert_eq!(answer.refusal.is_some(), body_refused, "{error:?}");
        }
    }

    #[test]
    fn a_body_is_refused_for_a_named_reason() {
        let reason = |error: WebhookError| error.answer().refusal.map(Refusal::label);
        assert_eq!(reason(WebhookError::Malformed { message: "x".into(), field: None }), Some("not_json"));
        assert_eq!(
            reason(WebhookError::Malformed { message: "x".into(), field: Some("id".into()) }),
            Some("required_field")
        );
        assert_eq!(reason(WebhookError::TooLarge { size: 2, limit: 1 }), Some("too_large"));
        let every = [
            Refusal::NotJson,
            Refusal::RequiredField,
            Refusal::InvalidPhone,
            Refusal::PhoneNotAllowed,
            Refusal::InvalidMessage,
            Refusal::TooLarge,
            Refusal::SmsRefused,
            Refusal::Unstorable,
            Refusal::UnknownRoute,
        ];
        let labels: std::collections::HashSet<_> = every.map(Refusal::label).into();
        assert_eq!(labels.len(), every.len());
    }
}
