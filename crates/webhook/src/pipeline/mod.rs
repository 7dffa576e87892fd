//! The request pipeline every webhook shares (method, auth, body limit, the answer, the summary log line and
//! its metrics) around each function's own step, [`Webhook::process`].

mod lambda;

pub use lambda::{UndecodableBody, answer, serve};

use crate::auth::Authenticator;
use crate::config::CommonConfig;
use crate::error::WebhookError;
use crate::http::json_response;
use crate::metrics::{Measurement, Metric, Outcome, Unit};
use crate::payload::WebhookId;
use crate::phone::PhoneNumber;
use crate::telemetry::RequestSummary;
use lambda_http::http::{Method, StatusCode};
use lambda_http::{Body, Request, RequestExt, Response};
use serde_json::json;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;
use time::OffsetDateTime;

/// One delivery as the handler sees it after authentication.
#[derive(Debug, Clone)]
pub struct Invocation {
    /// The Lambda request id: names this delivery's claim and its log line.
    pub request_id: String,
    pub received_at: OffsetDateTime,
}

/// A delivery whose work is durably done: no delivery of the same id will do it again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    pub code: StatusCode,
    pub outcome: Outcome,
    /// The webhook's id, when it has one (2X's Text Opt-out has none).
    pub id: Option<WebhookId>,
    pub message_id: Option<String>,
}

impl Accepted {
    /// 200 with `outcome` as the body's `status`, and the webhook's `id`.
    pub fn new(outcome: Outcome, id: WebhookId) -> Self {
        Self { id: Some(id), ..Self::without_id(outcome) }
    }

    /// 200 with `outcome` as the body's `status`, for a webhook without an id.
    pub fn without_id(outcome: Outcome) -> Self {
        Self { code: StatusCode::OK, outcome, id: None, message_id: None }
    }

    fn body(&self) -> String {
        let mut body = json!({ "status": self.outcome.label() });
        if let Some(id) = self.id {
            body["id"] = id.get().into();
        }
        if let Some(message_id) = &self.message_id {
            body["message_id"] = message_id.as_str().into();
        }
        body.to_string()
    }
}

/// What the pipeline needs of every webhook before its own step: how to authenticate a request, and the settings
/// every function shares.
pub struct Intake {
    pub authenticator: Authenticator,
    pub common: CommonConfig,
}

impl Intake {
    /// Also loads the phone number metadata, so the first request does not wait for it.
    pub fn new(authenticator: Authenticator, common: CommonConfig) -> Self {
        PhoneNumber::load_metadata(common.data.default_country);
        Self { authenticator, common }
    }
}

/// The webhook-specific step, run only for an authenticated POST.
pub trait Webhook: Send + Sync {
    /// The function's name in logs.
    const FUNCTION: &'static str;

    fn intake(&self) -> &Intake;

    fn process(
        &self,
        body: &[u8],
        invocation: &Invocation,
        summary: &mut RequestSummary,
    ) -> impl Future<Output = Result<Accepted, WebhookError>> + Send;
}

/// Answers one request: never panics on input, always a JSON body, always one summary log line.
pub async fn handle<W: Webhook>(webhook: &W, request: Request) -> Response<Body> {
    let started = Instant::now();
    let mut summary = RequestSummary {
        request_id: request.lambda_context_ref().map(|context| context.request_id.clone()),
        ..RequestSummary::default()
    };

    let result = if request.method() != Method::POST {
        Err(WebhookError::MethodNotAllowed)
    } else if !webhook.intake().authenticator.is_authorized(request.headers()).await {
        // Nothing of an unauthenticated request is parsed, and no AWS call is made for it.
        Err(WebhookError::Unauthorized)
    } else if request.body().len() > webhook.intake().common.max_body_bytes {
        Err(WebhookError::TooLarge { size: request.body().len(), limit: webhook.intake().common.max_body_bytes })
    } else if request.extensions().get::<UndecodableBody>().is_some() {
        Err(WebhookError::Malformed {
            message: "the body is flagged base64 but is not valid base64".into(),
            field: None,
        })
    } else {
        let invocation = Invocation {
            request_id: summary.request_id.clone().unwrap_or_else(local_request_id),
            received_at: OffsetDateTime::now_utc(),
        };
        webhook.process(request.body(), &invocation, &mut summary).await
    };

    let (status, outcome, body) = answer_of(result, &mut summary);
    let namespace = &webhook.intake().common.data.metrics_namespace;
    summary.log(W::FUNCTION, outcome, status.as_u16(), started.elapsed(), namespace);
    json_response(status, body)
}

/// What the step's result comes to: its status, outcome and JSON body; a dependency's failure is noted on the
/// summary (never in the body), and a refused body counted by its reason.
pub fn answer_of(
    result: Result<Accepted, WebhookError>,
    summary: &mut RequestSummary,
) -> (StatusCode, Outcome, String) {
    match result {
        Ok(accepted) => (accepted.code, accepted.outcome, accepted.body()),
        Err(error) => {
            if let WebhookError::Dependency(cause) = &error {
                summary.add_error(cause);
            }
            let answer = error.answer();
            if let Some(refusal) = answer.refusal {
                summary.refused = Some(refusal.label());
                summary.field = answer.field;
                summary.measurements.push(Measurement {
                    metric: Metric::Refused,
                    unit: Unit::Count,
                    value: 1,
                    dimension: Some(("reason", refusal.label())),
                });
            }
            (answer.status, answer.outcome, answer.body)
        }
    }
}

/// Lambda always supplies a request id; outside Lambda (unit tests), make a unique one.
fn local_request_id() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!("local-{}-{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed))
}
