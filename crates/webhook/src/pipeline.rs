//! The request pipeline every webhook shares (method, auth, body limit, the JSON answer, the summary log line and
//! its metrics) around each function's own step, [`Webhook::process`], and the Lambda runtime loop in front of
//! it ([`serve`]: lambda_http's event conversion, made total).

use crate::auth::Authenticator;
use crate::budget::Deadline;
use crate::config::CommonConfig;
use crate::error::WebhookError;
use crate::metrics::{Measurement, Metric, Outcome, Unit};
use crate::payload::WebhookId;
use crate::phone::PhoneNumber;
use crate::telemetry::RequestSummary;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use lambda_http::http::{Method, StatusCode, header};
use lambda_http::request::LambdaRequest;
use lambda_http::{Adapter, Error, LambdaEvent, Service, service_fn};
use lambda_http::{Body, Request, RequestExt, Response};
use serde::Serialize;
use serde_json::json;
use std::convert::Infallible;
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
    /// When the invocation must have answered by: what the work may spend waiting (the redrive's pace).
    pub deadline: Deadline,
    /// The last segment of the request's path (`text-classification` for `/text-classification/`): which
    /// webhook a function serving several asks for. Kept with a queued delivery.
    pub route: String,
}

/// The last non-empty segment of `path`: the same for `/text/`, `/text`, a REST API stage's `/Prod/text` and
/// cargo-lambda's `/lambda-url/lead-events/text`.
pub fn route_of(path: &str) -> &str {
    path.rsplit('/').find(|segment| !segment.is_empty()).unwrap_or_default()
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
            deadline: request
                .lambda_context_ref()
                .map_or(Deadline::NONE, |context| Deadline::at_epoch_ms(context.deadline)),
            route: route_of(request.uri().path()).to_owned(),
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
                    dimensions: vec![("reason", refusal.label())],
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

/// A response with a JSON body.
fn json_response(status: StatusCode, body: String) -> Response<Body> {
    let mut response = Response::new(Body::Text(body));
    *response.status_mut() = status;
    response.headers_mut().insert(header::CONTENT_TYPE, header::HeaderValue::from_static("application/json"));
    response
}

/// Marks a request whose event flagged its body base64 but did not carry valid base64; the body is dropped.
#[derive(Debug, Clone, Copy)]
pub struct UndecodableBody;

/// Serves `webhook` until the runtime stops.
pub async fn serve<W: Webhook>(webhook: &W) -> Result<(), Error> {
    lambda_http::lambda_runtime::run(service_fn(|event| answer(webhook, event))).await
}

/// Answers one API Gateway (REST or HTTP API) or ALB event, in that event source's response format.
pub async fn answer<W: Webhook>(
    webhook: &W,
    mut event: LambdaEvent<LambdaRequest>,
) -> Result<impl Serialize + Send + use<W>, Infallible> {
    // lambda_http panics converting an event whose base64 body does not decode; API Gateway never sends one,
    // but anything that can invoke the function could. Such a body is taken out here and answered 400.
    let undecodable = take_undecodable_body(&mut event.payload);
    let mut adapter = Adapter::from(service_fn(|mut request: lambda_http::Request| async move {
        if undecodable {
            request.extensions_mut().insert(UndecodableBody);
        }
        Ok::<_, Infallible>(handle(webhook, request).await)
    }));
    adapter.call(event).await
}

/// Removes a body flagged base64 that is not; true when it did.
fn take_undecodable_body(event: &mut LambdaRequest) -> bool {
    let (body, is_base64_encoded) = match event {
        LambdaRequest::ApiGatewayV1(event) => (&mut event.body, &mut event.is_base64_encoded),
        LambdaRequest::ApiGatewayV2(event) => (&mut event.body, &mut event.is_base64_encoded),
        LambdaRequest::Alb(event) => (&mut event.body, &mut event.is_base64_encoded),
        _ => return false,
    };
    let undecodable = *is_base64_encoded && body.as_deref().is_some_and(|body| STANDARD.decode(body).is_err());
    if undecodable {
        *body = None;
        *is_base64_encoded = false;
    }
    undecodable
}
