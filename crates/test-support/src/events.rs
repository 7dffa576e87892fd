//! The sample events in `events/` as the requests a handler receives, and its answers as JSON: the fixtures of
//! every handler test.

use lambda_http::http::{HeaderName, StatusCode};
use lambda_http::{Body, Context, Request, RequestExt};
use serde_json::{Value, json};
use webhook::auth::{AuthToken, Authenticator, TokenPair};
use webhook::config::{AuthSettings, TokenSetting, WebhookConfig};
use webhook::pipeline::{Webhook, handle};

/// The token of the sample events (and of local runs).
pub const TOKEN: &str = "local-dev-token";

/// `events/<name>.json` as stored.
pub fn sample(name: &str) -> String {
    let path = format!("{}/../../events/{name}.json", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{path}: {error}"))
}

/// The webhook body inside a sample event, as 2X sent it.
pub fn sample_body(name: &str) -> Value {
    let envelope: Value = serde_json::from_str(&sample(name)).unwrap_or_default();
    serde_json::from_str(envelope["body"].as_str().unwrap_or_default()).unwrap_or_default()
}

/// An API Gateway event as lambda_http hands it to the handler, with a Lambda request id.
pub fn request_from(event_json: &str, request_id: &str) -> Request {
    let mut context = Context::default();
    context.request_id = request_id.into();
    let request = lambda_http::request::from_str(event_json).unwrap_or_else(|error| panic!("not an event: {error}"));
    request.with_lambda_context(context)
}

/// A sample event as the handler receives it, with the request id `req-<name>`.
pub fn event(name: &str) -> Request {
    request_from(&sample(name), &format!("req-{name}"))
}

/// A sample event with its body replaced, with the request id `req-<name>-edited`.
pub fn event_with_body(name: &str, body: &str) -> Request {
    let mut envelope: Value = serde_json::from_str(&sample(name)).unwrap_or_default();
    envelope["body"] = body.into();
    request_from(&envelope.to_string(), &format!("req-{name}-edited"))
}

/// A sample event's body as JSON, edited by `edit`.
pub fn edited_body(name: &str, edit: impl FnOnce(&mut Value)) -> String {
    let mut body = sample_body(name);
    edit(&mut body);
    body.to_string()
}

/// The pre-call sample as sent for a lead in DC whose clock reads `local` (minutes after midnight) now: its
/// `record_timezone` is the offset that makes it so (the legal-hours guard's tests).
pub fn pre_call_in_dc_at(local: i64) -> String {
    let now = time::OffsetDateTime::now_utc();
    let utc = i64::from(now.hour()) * 60 + i64::from(now.minute());
    // An offset from -12:00 to +14:00 reaches every time of day.
    let offset = (local - utc).rem_euclid(24 * 60);
    let offset = if offset > 14 * 60 { offset - 24 * 60 } else { offset };
    let sign = if offset < 0 { '-' } else { '+' };
    let timezone = format!("UTC{sign}{}:{:02}", offset.abs() / 60, offset.abs() % 60);
    edited_body("send-text-pre-call", |body| {
        body["record_phone_number"] = "+12025550143".into();
        body["record_zip_code"] = "20001".into();
        body["record_timezone"] = timezone.into();
    })
}

/// A lookup over the sample events' token, every table and `extra` (the later of two values wins).
pub fn env(extra: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
    // The samples' leads are in Washington State and DC: with the legal-hours guard on, what a test sends would
    // depend on the time of day it runs. The guard's own tests turn it on.
    let sample = [
        ("AUTH_TOKEN", TOKEN),
        ("SENT_TEXTS_TABLE", "texts"),
        ("CALLS_TABLE", "calls"),
        ("OPT_OUTS_TABLE", "opt-outs"),
        ("LEAD_EVENTS_TABLE", "lead-events"),
        ("TEXT_HOURS", "off"),
    ];
    lookup(&[sample.as_slice(), extra].concat())
}

/// A lookup over `pairs` alone, as a configuration reads the environment (the later of two values wins).
pub fn lookup(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
    let pairs: Vec<(String, String)> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    move |name| pairs.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v.clone())
}

/// The authenticator of tokens taken from the environment.
pub fn authenticator(settings: &AuthSettings) -> Authenticator {
    match &settings.tokens {
        TokenSetting::Environment(tokens) => Authenticator::fixed(settings.header.clone(), tokens.clone()),
        TokenSetting::SecretsManager { .. } => panic!("handler tests use tokens from the environment"),
    }
}

/// A webhook's configuration read from the sample events' environment and `extra_env`, and its authenticator:
/// what its handler is built with in a test.
pub fn configured<C: WebhookConfig>(extra_env: &[(&str, &str)]) -> (C, Authenticator) {
    let config = C::from_lookup(env(extra_env)).expect("a valid test configuration");
    let authenticator = authenticator(&config.common().auth);
    (config, authenticator)
}

/// The authenticator of the sample events' token in `Authorization`.
pub fn sample_authenticator() -> Authenticator {
    let token = AuthToken::new(TOKEN).unwrap_or_else(|| unreachable!("the token is not blank"));
    Authenticator::fixed(HeaderName::from_static("authorization"), TokenPair { current: token, previous: None })
}

/// Headers carrying the sample events' token as [`sample_authenticator`] expects it.
pub fn sample_headers() -> lambda_http::http::HeaderMap {
    let mut headers = lambda_http::http::HeaderMap::new();
    headers.insert("authorization", lambda_http::http::HeaderValue::from_static(TOKEN));
    headers
}

/// The field names of a JSON object.
pub fn keys(value: &Value) -> std::collections::BTreeSet<String> {
    value.as_object().map(|fields| fields.keys().cloned().collect()).unwrap_or_default()
}

/// `webhook`'s answer to `request`: its status and JSON body (every answer is JSON).
pub async fn answer<W: Webhook>(webhook: &W, request: Request) -> (StatusCode, Value) {
    let response = handle(webhook, request).await;
    assert_eq!(response.headers()["content-type"], "application/json");
    let body = match response.body() {
        Body::Text(text) => serde_json::from_str(text).unwrap_or_else(|error| panic!("not JSON ({error}): {text}")),
        other => panic!("expected a text body, got {other:?}"),
    };
    (response.status(), body)
}

/// `name`'s body with a field for each of `ours`, valued as a sender would never mean it for us.
pub fn body_carrying(name: &str, ours: &[&str]) -> Value {
    let mut body = sample_body(name);
    for (n, field) in ours.iter().enumerate() {
        body[*field] = match n % 3 {
            0 => json!(1),
            1 => json!("from the sender"),
            _ => json!({"nested": [true]}),
        };
    }
    body
}

/// `meta` values DynamoDB refuses in any item as they are, each with where the item keeps its JSON text (the path
/// `stored_as_json` lists).
pub fn metas_dynamodb_refuses() -> [(Value, String); 3] {
    let nested = (0..40).fold(json!("deep"), |inner, _| json!({ "a": inner }));
    [
        (json!({"": "x", "kept": 1}), "meta".to_owned()),
        (nested, format!("meta{}", ".a".repeat(31))),
        (json!({"duration": 1e300}), "meta.duration".to_owned()),
    ]
}

/// A sample event through the runtime's entry point ([`webhook::pipeline::answer`]), after `edit` changes its
/// envelope: the status and JSON body of the answer in the event source's format.
pub async fn lambda_answer<W: Webhook>(webhook: &W, name: &str, edit: impl FnOnce(&mut Value)) -> (u16, Value) {
    let mut envelope: Value = serde_json::from_str(&sample(name)).unwrap_or_default();
    edit(&mut envelope);
    let event = serde_json::from_value(envelope).expect("still an API Gateway event");
    let mut context = Context::default();
    context.request_id = format!("req-{name}-lambda");
    let response = webhook::pipeline::answer(webhook, lambda_http::LambdaEvent::new(event, context)).await;
    let response = serde_json::to_value(response.expect("an answer")).expect("a serialisable answer");
    let body = serde_json::from_str(response["body"].as_str().expect("a text body")).expect("a JSON body");
    (response["statusCode"].as_u64().and_then(|code| u16::try_from(code).ok()).unwrap_or_default(), body)
}
