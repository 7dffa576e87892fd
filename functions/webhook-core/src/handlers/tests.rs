//! Every row of the HTTP contract, on the handlers with in-memory fakes, driven by the sample events.

use super::{PostCallHandler, SendTextHandler, Webhook, handle};
use crate::auth::Authenticator;
use crate::config::{AuthSettings, PostCallConfig, SendTextConfig, TokenSetting};
use crate::fakes::{FakeCallStore, FakeLedger, FakeSms, LedgerEntry, LogCapture, Operations};
use crate::payload::WebhookId;
use crate::records::{CallRecord, SHADOWED_FIELDS, TextClaimRecord, TextStatus};
use lambda_http::http::{HeaderValue, Method, StatusCode};
use lambda_http::{Body, Context, Request, RequestExt};
use serde_json::{Value, json};
use std::sync::atomic::{AtomicUsize, Ordering};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

const TOKEN: &str = "local-dev-token";

fn sample(name: &str) -> String {
    let path = format!("{}/../../events/{name}.json", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{path}: {error}"))
}

/// A sample event as lambda_http hands it to the handler, with a Lambda request id.
fn event(name: &str) -> Request {
    request_from(&sample(name), &format!("req-{name}"))
}

fn request_from(event_json: &str, request_id: &str) -> Request {
    let mut context = Context::default();
    context.request_id = request_id.into();
    lambda_http::request::from_str(event_json).expect("a valid API Gateway event").with_lambda_context(context)
}

/// A sample event with its JSON body replaced.
fn event_with_body(name: &str, body: &str) -> Request {
    let mut envelope: Value = serde_json::from_str(&sample(name)).unwrap();
    envelope["body"] = body.into();
    request_from(&envelope.to_string(), &format!("req-{name}-edited"))
}

/// A sample event's body as JSON, edited by `edit`.
fn edited_body(name: &str, edit: impl FnOnce(&mut Value)) -> String {
    let envelope: Value = serde_json::from_str(&sample(name)).unwrap();
    let mut body: Value = serde_json::from_str(envelope["body"].as_str().unwrap()).unwrap();
    edit(&mut body);
    body.to_string()
}

fn env(extra: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let mut pairs: Vec<(String, String)> = vec![
        ("AUTH_TOKEN".into(), TOKEN.into()),
        ("SENT_TEXTS_TABLE".into(), "texts".into()),
        ("CALLS_TABLE".into(), "calls".into()),
    ];
    pairs.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    move |name| pairs.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v.clone())
}

fn authenticator(settings: &AuthSettings) -> Authenticator {
    match &settings.tokens {
        TokenSetting::Environment(tokens) => Authenticator::fixed(settings.header.clone(), tokens.clone()),
        TokenSetting::SecretsManager { .. } => panic!("handler tests use tokens from the environment"),
    }
}

fn send_text(extra_env: &[(&str, &str)]) -> SendTextHandler<FakeLedger, FakeSms> {
    let config = SendTextConfig::from_lookup(env(extra_env)).unwrap();
    let authenticator = authenticator(&config.common.auth);
    SendTextHandler::new(config, authenticator, FakeLedger::default(), FakeSms::default())
}

fn post_call(extra_env: &[(&str, &str)]) -> PostCallHandler<FakeCallStore> {
    let config = PostCallConfig::from_lookup(env(extra_env)).unwrap();
    let authenticator = authenticator(&config.common.auth);
    PostCallHandler::new(config, authenticator, FakeCallStore::default())
}

async fn answer<W: Webhook>(webhook: &W, request: Request) -> (StatusCode, Value) {
    let response = handle(webhook, request).await;
    assert_eq!(response.headers()["content-type"], "application/json");
    let body = match response.body() {
        Body::Text(text) => serde_json::from_str(text).expect("every body is JSON"),
        other => panic!("expected a text body, got {other:?}"),
    };
    (response.status(), body)
}

fn id(value: u64) -> WebhookId {
    WebhookId::new(value)
}

// ---- send-text ----

#[tokio::test]
async fn pre_call_text_is_sent_to_the_e164_number_and_recorded() {
    let handler = send_text(&[]);
    let (status, body) = answer(&handler, event("send-text-pre-call")).await;

    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({"status": "sent", "id": 1234, "message_id": "fake-message-1"}));
    let sent = handler.sms.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].to, "+12025550143");
    assert_eq!(sent[0].text, "We will call you in several minutes, looking forward to talking with you.");

    let entry = handler.ledger.entry(id(1234)).expect("the claim is recorded");
    assert_eq!(entry.status, TextStatus::Sent);
    assert_eq!(entry.message_id.as_deref(), Some("fake-message-1"));
    assert_eq!(entry.claimed_by, "req-send-text-pre-call");
    assert_eq!(entry.item["phone_e164"], "+12025550143");
    assert_eq!(entry.item["type"], "pre-call");
    assert_eq!(entry.item["meta"], json!({"lead_id": "123", "test_id": "abc"}));
    assert_eq!(handler.ledger.operations.called(), ["claim", "mark_sent"]);
}

#[tokio::test]
async fn post_voicemail_text_with_a_bare_number_and_string_id_is_sent() {
    let handler = send_text(&[]);
    let (status, body) = answer(&handler, event("send-text-post-voicemail")).await;

    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"], "sent");
    assert_eq!(body["id"], 1235, "a string id is answered as a number");
    assert_eq!(handler.sms.sent()[0].to, "+12025550187");
    assert!(handler.sms.sent()[0].text.ends_with("📞"));
}

#[tokio::test]
async fn a_repeated_delivery_is_a_duplicate_and_sends_nothing() {
    let handler = send_text(&[]);
    assert_eq!(answer(&handler, event("send-text-pre-call")).await.0, StatusCode::OK);
    let (status, body) = answer(&handler, event("send-text-pre-call")).await;

    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({"status": "duplicate", "id": 1234}));
    assert_eq!(handler.sms.sent().len(), 1);
}

#[tokio::test]
async fn wrong_or_missing_token_is_401_before_anything_is_parsed_or_called() {
    let handler = send_text(&[]);
    for request in [
        event("send-text-bad-token"),
        {
            let mut request = event("send-text-pre-call");
            request.headers_mut().remove("authorization");
            request
        },
        {
            // Nothing is parsed: even a broken body answers 401, not 400.
            let mut request = event_with_body("send-text-pre-call", "{not json");
            request.headers_mut().insert("authorization", HeaderValue::from_static("wrong"));
            request
        },
    ] {
        let (status, body) = answer(&handler, request).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(body, json!({"error": "unauthorized"}));
    }
    assert!(handler.ledger.operations.called().is_empty());
    assert!(handler.sms.operations.called().is_empty());
}

#[tokio::test]
async fn the_configured_header_name_and_the_previous_token_are_honoured() {
    let handler =
        send_text(&[("AUTH_HEADER_NAME", "X-TwoX-Auth"), ("AUTH_TOKEN", "new"), ("AUTH_TOKEN_PREVIOUS", "old")]);
    let with_header = |name: &'static str, value: &'static str| {
        let mut request = event("send-text-pre-call");
        request.headers_mut().remove("authorization");
        request.headers_mut().insert(name, HeaderValue::from_static(value));
        request
    };
    assert_eq!(answer(&handler, with_header("authorization", "new")).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(answer(&handler, with_header("x-twox-auth", "old")).await.0, StatusCode::OK);
}

#[tokio::test]
async fn a_missing_phone_is_400_naming_the_field() {
    let handler = send_text(&[]);
    let (status, body) = answer(&handler, event("send-text-missing-phone")).await;

    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["field"], "record_phone_number");
    assert!(body["error"].as_str().unwrap().contains("missing field `record_phone_number`"), "{body}");
    assert!(handler.ledger.operations.called().is_empty());
}

#[tokio::test]
async fn bodies_that_are_not_json_or_have_wrong_types_are_400() {
    let handler = send_text(&[]);
    let cases = [
        ("not json", None),
        ("", None),
        ("[1, 2]", None),
        (r#"{"id": true, "record_phone_number": "+12025550143", "message": "hi"}"#, Some("id")),
        (r#"{"id": 1.5, "record_phone_number": "+12025550143", "message": "hi"}"#, Some("id")),
        (r#"{"id": "12a", "record_phone_number": "+12025550143", "message": "hi"}"#, Some("id")),
        (r#"{"id": 7, "record_phone_number": 2025550143, "message": "hi"}"#, Some("record_phone_number")),
        (r#"{"id": 7, "record_phone_number": "+12025550143", "message": ["hi"]}"#, Some("message")),
        (r#"{"record_phone_number": "+12025550143", "message": "hi"}"#, Some("id")),
    ];
    for (body, field) in cases {
        let (status, answer_body) = answer(&handler, event_with_body("send-text-pre-call", body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(answer_body["field"].as_str(), field, "{body}: {answer_body}");
        assert!(answer_body["error"].is_string());
    }
    assert!(handler.sms.sent().is_empty());
}

#[tokio::test]
async fn unusable_phone_or_message_is_422_naming_the_field() {
    let handler = send_text(&[]);
    let (status, body) = answer(&handler, event("send-text-invalid-phone")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["field"], "record_phone_number");

    for (message, expected) in [("", StatusCode::UNPROCESSABLE_ENTITY), ("   ", StatusCode::UNPROCESSABLE_ENTITY)]
        .into_iter()
        .chain([(&*"a".repeat(1601), StatusCode::UNPROCESSABLE_ENTITY), (&*"a".repeat(1600), StatusCode::OK)])
    {
        let body = edited_body("send-text-pre-call", |body| body["message"] = message.into());
        let (status, answer_body) = answer(&handler, event_with_body("send-text-pre-call", &body)).await;
        assert_eq!(status, expected, "message of {} bytes", message.len());
        if expected != StatusCode::OK {
            assert_eq!(answer_body["field"], "message");
        }
    }
    assert_eq!(handler.sms.sent().len(), 1, "only the 1,600-byte message is sent");
}

#[tokio::test]
async fn unknown_types_and_fields_are_accepted_and_kept() {
    let handler = send_text(&[]);
    let body = edited_body("send-text-pre-call", |body| {
        body["type"] = "appointment-reminder".into();
        body["campaign_channel"] = json!({"name": "sms", "weight": 2});
        body.as_object_mut().unwrap().remove("workflow_end");
    });
    let (status, _) = answer(&handler, event_with_body("send-text-pre-call", &body)).await;

    assert_eq!(status, StatusCode::OK);
    let item = handler.ledger.entry(id(1234)).unwrap().item;
    assert_eq!(item["type"], "appointment-reminder");
    assert_eq!(item["campaign_channel"], json!({"name": "sms", "weight": 2}));
}

#[tokio::test]
async fn a_failed_claim_is_503_and_sends_nothing() {
    let handler = send_text(&[]);
    handler.ledger.operations.fail("claim");
    let (status, body) = answer(&handler, event("send-text-pre-call")).await;

    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body, json!({"error": "a service this webhook depends on is unavailable; deliver again later"}));
    assert!(handler.sms.sent().is_empty());
}

#[tokio::test]
async fn an_opted_out_number_is_not_texted_and_its_id_stays_free() {
    let logs = LogCapture::default();
    let _guard = logs.install();
    let handler = send_text(&[]);
    handler.sms.opt_out("+12025550143");
    let (status, body) = answer(&handler, event("send-text-pre-call")).await;

    assert_eq!((status, body), (StatusCode::OK, json!({"status": "opted_out", "id": 1234})));
    assert_eq!(handler.sms.operations.called(), ["is_opted_out"]);
    // Claimed alongside the check, then released: a later delivery, after an opt-in, can still send.
    assert_eq!(handler.ledger.operations.called(), ["claim", "release"]);
    assert_eq!(handler.ledger.entry(id(1234)), None);
    assert_eq!(logs.summaries()[0]["outcome"], "opted_out");
    assert_eq!(logs.metrics()[0]["OptedOut"], 1);
}

#[tokio::test]
async fn a_failed_opt_out_check_still_sends_because_sns_enforces_opt_outs_itself() {
    let logs = LogCapture::default();
    let _guard = logs.install();
    let handler = send_text(&[]);
    handler.sms.operations.fail("is_opted_out");
    let (status, body) = answer(&handler, event("send-text-pre-call")).await;

    assert_eq!((status, &body["status"]), (StatusCode::OK, &json!("sent")));
    assert_eq!(handler.sms.sent().len(), 1);
    assert!(logs.summaries()[0]["errors"].as_str().unwrap().contains("is_opted_out failed"));
}

#[tokio::test]
async fn a_failed_publish_is_503_and_releases_the_claim_so_the_retry_sends() {
    let handler = send_text(&[]);
    handler.sms.operations.fail("send");
    let (status, body) = answer(&handler, event("send-text-pre-call")).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(!body["error"].as_str().unwrap().contains("injected"), "no internal detail in the body");
    assert_eq!(handler.ledger.entry(id(1234)), None, "the claim was released");
    assert_eq!(handler.ledger.operations.called(), ["claim", "release"]);

    handler.sms.operations.heal("send");
    let (status, body) = answer(&handler, event("send-text-pre-call")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"], "sent");
    assert_eq!(handler.sms.sent().len(), 1);
}

#[tokio::test]
async fn a_failure_to_record_the_message_id_still_answers_sent() {
    let handler = send_text(&[]);
    handler.ledger.operations.fail("mark_sent");
    let (status, body) = answer(&handler, event("send-text-pre-call")).await;

    assert_eq!(status, StatusCode::OK, "the SMS is out; a 5xx would make 2X text the lead again");
    assert_eq!(body["status"], "sent");
    assert_eq!(handler.sms.sent().len(), 1);
}

fn unfinished_claim(lease_expires_at: i64) -> LedgerEntry {
    LedgerEntry {
        item: json!({}),
        status: TextStatus::Claimed,
        claimed_by: "another-delivery".into(),
        lease_expires_at,
        message_id: None,
    }
}

#[tokio::test]
async fn a_live_claim_held_by_another_delivery_is_409_and_sends_nothing() {
    let handler = send_text(&[]);
    let in_a_minute = OffsetDateTime::now_utc().unix_timestamp() + 60;
    handler.ledger.insert(id(1234), unfinished_claim(in_a_minute));
    let (status, body) = answer(&handler, event("send-text-pre-call")).await;

    assert_eq!(status, StatusCode::CONFLICT);
    assert!(body["error"].is_string());
    assert!(handler.sms.sent().is_empty());
}

#[tokio::test]
async fn an_abandoned_claim_is_unconfirmed_and_never_sent_again() {
    let handler = send_text(&[]);
    let a_minute_ago = OffsetDateTime::now_utc().unix_timestamp() - 60;
    handler.ledger.insert(id(1234), unfinished_claim(a_minute_ago));
    let (status, body) = answer(&handler, event("send-text-pre-call")).await;

    // Its delivery died after the claim, maybe after SNS took the text: sending now could text the lead twice.
    assert_eq!((status, body), (StatusCode::ACCEPTED, json!({"status": "unconfirmed", "id": 1234})));
    assert!(handler.sms.sent().is_empty());
    assert_eq!(handler.ledger.entry(id(1234)).unwrap().claimed_by, "another-delivery");
}

#[tokio::test]
async fn a_publish_sns_may_have_received_is_202_unconfirmed_and_never_repeated() {
    let logs = LogCapture::default();
    let _guard = logs.install();
    let handler = send_text(&[]);
    handler.sms.operations.lose_answers("send");
    let (status, body) = answer(&handler, event("send-text-pre-call")).await;

    assert_eq!((status, body), (StatusCode::ACCEPTED, json!({"status": "unconfirmed", "id": 1234})));
    assert_eq!(handler.sms.sent().len(), 1, "SNS took it; only its answer was lost");
    assert_eq!(handler.ledger.entry(id(1234)).unwrap().status, TextStatus::Unconfirmed);
    assert_eq!(handler.ledger.operations.called(), ["claim", "mark_unconfirmed"], "the claim is kept, not released");
    assert_eq!(logs.summaries()[0]["outcome"], "unconfirmed");
    assert_eq!(logs.metrics()[0]["Unconfirmed"], 1);
    assert_eq!(logs.metrics()[0]["SmsPublishFailed"], 1);

    handler.sms.operations.heal("send");
    let (status, body) = answer(&handler, request_from(&sample("send-text-pre-call"), "req-retry")).await;
    assert_eq!((status, body["status"].as_str()), (StatusCode::ACCEPTED, Some("unconfirmed")));
    assert_eq!(handler.sms.sent().len(), 1, "a retry never publishes it again");
}

#[tokio::test]
async fn an_unconfirmed_publish_whose_record_fails_still_answers_202() {
    let handler = send_text(&[]);
    handler.sms.operations.lose_answers("send");
    handler.ledger.operations.fail("mark_unconfirmed");
    let (status, _) = answer(&handler, event("send-text-pre-call")).await;

    // A 5xx would invite a retry; the claim left behind answers 409, then (lease over) unconfirmed: never a resend.
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(handler.ledger.entry(id(1234)).unwrap().status, TextStatus::Claimed);
}

/// Operations of a fake, each named.
type Faults<'a> = &'a [(&'a Operations, &'static str)];

/// Delivers the pre-call sample as a new Lambda request while the `failing` operations fail and the
/// `answers_lost` ones take effect unanswered; then heals them. Returns the status and the body's `status`.
async fn redeliver(
    handler: &SendTextHandler<FakeLedger, FakeSms>,
    failing: Faults<'_>,
    answers_lost: Faults<'_>,
) -> (u16, String) {
    static ATTEMPT: AtomicUsize = AtomicUsize::new(0);
    failing.iter().for_each(|(operations, operation)| operations.fail(operation));
    answers_lost.iter().for_each(|(operations, operation)| operations.lose_answers(operation));
    let request_id = format!("req-attempt-{}", ATTEMPT.fetch_add(1, Ordering::Relaxed));
    let (status, body) = answer(handler, request_from(&sample("send-text-pre-call"), &request_id)).await;
    failing.iter().chain(answers_lost).for_each(|(operations, operation)| operations.heal(operation));
    (status.as_u16(), body["status"].as_str().unwrap_or("error").to_owned())
}

/// 2X delivering one text id again and again while the dependencies fail in turn: every non-2xx leaves the id
/// sendable, and no answer after the one that sent it ever sends it again.
#[tokio::test]
async fn retried_deliveries_under_faults_text_the_lead_exactly_once() {
    let handler = send_text(&[]);
    let (ledger, sms) = (&handler.ledger.operations, &handler.sms.operations);
    let steps: [(Faults, (u16, &str)); 7] = [
        (&[(ledger, "claim")], (503, "error")),
        (&[(sms, "is_opted_out"), (sms, "send")], (503, "error")),
        (&[(sms, "send")], (503, "error")),
        (&[(sms, "is_opted_out")], (200, "sent")),
        (&[], (200, "duplicate")),
        (&[(ledger, "claim")], (503, "error")),
        (&[(sms, "send")], (200, "duplicate")),
    ];
    for (step, (failing, expected)) in steps.into_iter().enumerate() {
        assert_eq!(redeliver(&handler, failing, &[]).await, (expected.0, expected.1.to_owned()), "step {step}");
    }
    assert_eq!(handler.sms.sent().len(), 1);
}

/// The ambiguous case: the publish reached SNS but its answer was lost. The rule is at most once: the id is
/// settled as unconfirmed, so SNS's one text (if it sent it) is the only one, whatever 2X does next.
#[tokio::test]
async fn retried_deliveries_after_an_unanswered_publish_never_text_again() {
    let handler = send_text(&[]);
    let (ledger, sms) = (&handler.ledger.operations, &handler.sms.operations);
    assert_eq!(redeliver(&handler, &[], &[(sms, "send")]).await, (202, "unconfirmed".into()));
    assert_eq!(redeliver(&handler, &[], &[]).await, (202, "unconfirmed".into()));
    assert_eq!(redeliver(&handler, &[(ledger, "claim")], &[]).await, (503, "error".into()));
    assert_eq!(redeliver(&handler, &[(sms, "is_opted_out")], &[]).await, (202, "unconfirmed".into()));
    assert_eq!(handler.sms.sent().len(), 1, "SNS's one, never a second");
    assert_eq!(sms.called().iter().filter(|operation| **operation == "send").count(), 1);
}

/// A publish that failed and a claim that could not be released: the claim blocks (409) while its delivery could
/// still be running, then counts as unconfirmed. Nothing is sent twice; this id's text is missed, and counted.
#[tokio::test]
async fn a_claim_that_could_not_be_released_blocks_and_never_double_sends() {
    let handler = send_text(&[]);
    let (ledger, sms) = (&handler.ledger.operations, &handler.sms.operations);
    assert_eq!(redeliver(&handler, &[(sms, "send"), (ledger, "release")], &[]).await, (503, "error".into()));
    assert_eq!(redeliver(&handler, &[], &[]).await, (409, "error".into()));
    assert!(handler.sms.sent().is_empty());
}

#[tokio::test]
async fn only_post_is_accepted() {
    let handler = send_text(&[]);
    let mut request = event("send-text-pre-call");
    *request.method_mut() = Method::GET;
    let (status, body) = answer(&handler, request).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert!(body["error"].is_string());
    assert!(handler.sms.sent().is_empty());
}

#[tokio::test]
async fn retention_sets_the_ttl_on_the_claim() {
    let handler = send_text(&[("RETENTION_DAYS", "7")]);
    answer(&handler, event("send-text-pre-call")).await;
    let item = handler.ledger.entry(id(1234)).unwrap().item;
    let claimed_at = OffsetDateTime::parse(item["claimed_at"].as_str().unwrap(), &Rfc3339).unwrap();
    assert_eq!(item["expires_at"], claimed_at.unix_timestamp() + 7 * 86_400);
    assert_eq!(item["lease_expires_at"], claimed_at.unix_timestamp() + 60);
}

// ---- post-call ----

/// The sample's body, as 2X sent it.
fn sample_body(name: &str) -> Value {
    let envelope: Value = serde_json::from_str(&sample(name)).unwrap();
    serde_json::from_str(envelope["body"].as_str().unwrap()).unwrap()
}

/// The stored item without what we add, as the payload it came from: a string `id` is stored as a number.
fn payload_part(mut item: Value) -> Value {
    for added in CallRecord::ATTRIBUTES {
        item.as_object_mut().unwrap().remove(*added);
    }
    item
}

/// `name`'s body with a field for each of `ours`, valued as a sender would never mean it for us.
fn body_carrying(name: &str, ours: &[&str]) -> Value {
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

#[tokio::test]
async fn a_call_carrying_our_attribute_names_keeps_ours_and_the_senders_values_aside() {
    for retention in [None, Some("30")] {
        let handler = post_call(&retention.map(|days| [("RETENTION_DAYS", days)]).unwrap_or_default());
        let mut body = body_carrying("post-call-transferred", CallRecord::ATTRIBUTES);
        body["record_phone_number"] = "not a number".into();
        let (status, _) = answer(&handler, event_with_body("post-call-transferred", &body.to_string())).await;
        assert_eq!(status, StatusCode::OK);

        let item = handler.calls.item(id(123)).unwrap();
        // No index key and no TTL from the body: `phone_e164` only from a valid number, `expires_at` only from
        // RETENTION_DAYS.
        assert_eq!(item.get("phone_e164"), None);
        let received_at = OffsetDateTime::parse(item["received_at"].as_str().unwrap(), &Rfc3339).unwrap();
        let expected_ttl = retention.map(|_| json!(received_at.unix_timestamp() + 30 * 86_400));
        assert_eq!(item.get("expires_at"), expected_ttl.as_ref(), "{retention:?}");
        assert_eq!(item.get("transcript_gzip").or(item.get("transcript_compressed")), None);
        assert!(item["transcript"].is_array());
        for name in CallRecord::ATTRIBUTES {
            assert_eq!(item[SHADOWED_FIELDS][*name], body[*name], "the sender's {name} is kept");
        }
    }
}

#[tokio::test]
async fn a_text_carrying_our_attribute_names_keeps_ours_and_the_senders_values_aside() {
    let handler = send_text(&[]);
    let body = body_carrying("send-text-pre-call", TextClaimRecord::ATTRIBUTES);
    let (status, answer_body) = answer(&handler, event_with_body("send-text-pre-call", &body.to_string())).await;
    assert_eq!((status, &answer_body["status"]), (StatusCode::OK, &json!("sent")));

    let entry = handler.ledger.entry(id(1234)).unwrap();
    assert_eq!((entry.status, entry.claimed_by.as_str()), (TextStatus::Sent, "req-send-text-pre-call-edited"));
    let item = entry.item;
    assert_eq!(item["phone_e164"], "+12025550143");
    assert_eq!(item["status"], "claimed");
    assert_eq!(item["claimed_by"], "req-send-text-pre-call-edited");
    assert!(item["lease_expires_at"].is_i64());
    assert_eq!(item.get("expires_at"), None, "no TTL from the body");
    for name in TextClaimRecord::ATTRIBUTES {
        assert_eq!(item[SHADOWED_FIELDS][*name], body[*name], "the sender's {name} is kept");
    }
}

/// A null field of ours is stored as absent, the same thing to every reader.
fn without_nulls(mut value: Value) -> Value {
    value.as_object_mut().unwrap().retain(|_, v| !v.is_null());
    value
}

#[tokio::test]
async fn the_seed_call_is_stored_whole_with_what_we_add() {
    let handler = post_call(&[]);
    let (status, body) = answer(&handler, event("post-call-transferred")).await;

    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({"status": "stored", "id": 123}));
    let item = handler.calls.item(id(123)).unwrap();
    assert_eq!(payload_part(item.clone()), sample_body("post-call-transferred"));
    assert_eq!(item["call"]["end_reason"], "transferred", "an undocumented end_reason is kept verbatim");
    assert_eq!(item["transcript"][1], json!({"role": "Assistant", "content": "Hi, is John available?"}));
    assert_eq!(item["phone_e164"], "+12025550143");
    assert!(OffsetDateTime::parse(item["received_at"].as_str().unwrap(), &Rfc3339).is_ok());
    assert_eq!(item.get("expires_at"), None, "no TTL unless RETENTION_DAYS is set");
}

#[tokio::test]
async fn a_failed_call_keeps_its_failure_reason_and_unknown_fields() {
    let handler = post_call(&[]);
    let (status, _) = answer(&handler, event("post-call-failure-reason")).await;

    assert_eq!(status, StatusCode::OK);
    let item = handler.calls.item(id(124)).unwrap();
    assert_eq!(payload_part(item.clone()), sample_body("post-call-failure-reason"));
    assert_eq!(item["call"]["failure_reason"], "number_no_service");
    assert_eq!(item["call"]["sip_code"], 404);
    assert_eq!(item["recording_url"], "https://example.com/recordings/124.mp3");
    assert_eq!(item["phone_e164"], "+12025550111", "a bare 10-digit number is normalised");
}

#[tokio::test]
async fn an_unanswered_call_without_transcript_last_name_or_workflow_end_is_stored() {
    let handler = post_call(&[]);
    let (status, body) = answer(&handler, event("post-call-no-answer")).await;

    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["id"], 125);
    let item = handler.calls.item(id(125)).unwrap();
    let mut expected = without_nulls(sample_body("post-call-no-answer"));
    expected["id"] = 125.into();
    assert_eq!(payload_part(item.clone()), expected);
    assert_eq!(item.get("transcript"), None);
    assert_eq!(item.get("workflow_end"), None);
}

#[tokio::test]
async fn the_seeds_invalid_json_is_400() {
    let handler = post_call(&[]);
    let (status, body) = answer(&handler, event("post-call-malformed-json")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["error"].as_str().unwrap().starts_with("the request body is not valid JSON"), "{body}");
    assert!(handler.calls.is_empty());
}

#[tokio::test]
async fn wrong_types_in_a_call_are_400_naming_the_path() {
    let handler = post_call(&[]);
    for (edit, field) in [
        (json!({"call": {"answered": "yes"}}), "call.answered"),
        (json!({"transcript": [{"role": "User", "content": 5}]}), "transcript[0].content"),
        (json!({"transcript": "Hello?"}), "transcript"),
    ] {
        let body = edited_body("post-call-transferred", |body| {
            for (key, value) in edit.as_object().unwrap() {
                body[key] = value.clone();
            }
        });
        let (status, answer_body) = answer(&handler, event_with_body("post-call-transferred", &body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{edit}");
        assert_eq!(answer_body["field"], field);
    }
    assert!(handler.calls.is_empty());
}

#[tokio::test]
async fn a_repeated_call_keeps_the_first_record() {
    let handler = post_call(&[]);
    answer(&handler, event("post-call-transferred")).await;
    let first = handler.calls.item(id(123)).unwrap();
    let (status, body) = answer(&handler, event("post-call-transferred")).await;

    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({"status": "duplicate", "id": 123}));
    assert_eq!(handler.calls.item(id(123)).unwrap(), first);
    assert_eq!(handler.calls.len(), 1);
}

#[tokio::test]
async fn a_failed_store_is_503_and_the_retry_stores() {
    let handler = post_call(&[]);
    handler.calls.operations.fail("store");
    let (status, body) = answer(&handler, event("post-call-transferred")).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(body["error"].is_string());
    assert!(handler.calls.is_empty());

    handler.calls.operations.heal("store");
    assert_eq!(answer(&handler, event("post-call-transferred")).await.1["status"], "stored");
}

#[tokio::test]
async fn a_call_with_an_unusable_number_is_stored_without_phone_e164() {
    let handler = post_call(&[]);
    let body = edited_body("post-call-transferred", |body| body["record_phone_number"] = "+1...".into());
    let (status, _) = answer(&handler, event_with_body("post-call-transferred", &body)).await;
    assert_eq!(status, StatusCode::OK);
    let item = handler.calls.item(id(123)).unwrap();
    assert_eq!(item["record_phone_number"], "+1...");
    assert_eq!(item.get("phone_e164"), None);
}

#[tokio::test]
async fn retention_sets_the_ttl_on_the_call() {
    let handler = post_call(&[("RETENTION_DAYS", "90")]);
    answer(&handler, event("post-call-transferred")).await;
    let item = handler.calls.item(id(123)).unwrap();
    let received_at = OffsetDateTime::parse(item["received_at"].as_str().unwrap(), &Rfc3339).unwrap();
    assert_eq!(item["expires_at"], received_at.unix_timestamp() + 90 * 86_400);
}

#[tokio::test]
async fn post_call_401s_make_no_store_call() {
    let handler = post_call(&[]);
    let mut request = event("post-call-transferred");
    request.headers_mut().insert("authorization", HeaderValue::from_static("local-dev-token2"));
    assert_eq!(answer(&handler, request).await.0, StatusCode::UNAUTHORIZED);
    assert!(handler.calls.operations.called().is_empty());
}

// ---- logs ----

#[tokio::test]
async fn each_request_logs_one_json_summary_line_without_secrets() {
    let logs = LogCapture::default();
    let _guard = logs.install();
    let texts = send_text(&[]);
    let calls = post_call(&[]);
    texts.sms.operations.fail("send");
    answer(&texts, event("send-text-pre-call")).await;
    texts.sms.operations.heal("send");
    answer(&texts, event("send-text-pre-call")).await;
    answer(&texts, event("send-text-bad-token")).await;
    answer(&calls, event("post-call-transferred")).await;

    let lines = logs.summaries();
    assert_eq!(lines.len(), 4, "one summary line per request:\n{}", logs.text());
    assert_eq!(logs.lines().len(), 8, "and one metrics line each, nothing else:\n{}", logs.text());
    let failed = &lines[0];
    assert_eq!(failed["level"], "ERROR");
    assert_eq!(failed["outcome"], "dependency_failed");
    assert_eq!(failed["status"], 503);
    assert!(failed["errors"].as_str().unwrap().contains("send failed"));
    let sent = &lines[1];
    assert_eq!(
        (&sent["function"], &sent["id"], &sent["kind"], &sent["outcome"], &sent["status"], &sent["phone_last4"]),
        (&json!("send-text"), &json!(1234), &json!("pre-call"), &json!("sent"), &json!(200), &json!("0143"))
    );
    assert_eq!(sent["request_id"], "req-send-text-pre-call");
    assert!(sent["duration_ms"].is_number());
    assert_eq!(lines[2]["outcome"], "unauthorized");
    assert_eq!((&lines[3]["function"], &lines[3]["kind"]), (&json!("post-call"), &json!("transferred")));

    let text = logs.text();
    for secret in [TOKEN, "not-the-token", "2025550143", "We will call you", "Hi, is John available?", "Hello?"] {
        assert!(!text.contains(secret), "{secret:?} appears in the logs:\n{text}");
    }
}

// ---- metrics ----

#[tokio::test]
async fn every_outcome_writes_one_emf_metrics_line() {
    let logs = LogCapture::default();
    let _guard = logs.install();
    let texts = send_text(&[("METRICS_NAMESPACE", "Acme/2X")]);
    let calls = post_call(&[("METRICS_NAMESPACE", "Acme/2X")]);

    answer(&texts, event("send-text-post-voicemail")).await; // Sent (UCS-2: it ends with an emoji)
    answer(&texts, event("send-text-post-voicemail")).await; // Duplicate
    answer(&texts, event("send-text-bad-token")).await; // Unauthorized
    answer(&texts, event("send-text-missing-phone")).await; // Invalid (400)
    answer(&texts, event("send-text-invalid-phone")).await; // Invalid (422)
    texts.sms.operations.fail("send");
    answer(&texts, event("send-text-pre-call")).await; // DependencyFailed + SmsPublishFailed
    texts.ledger.insert(id(1234), unfinished_claim(OffsetDateTime::now_utc().unix_timestamp() + 60));
    answer(&texts, event("send-text-pre-call")).await; // InProgress
    answer(&calls, event("post-call-transferred")).await; // Stored
    answer(&calls, event("post-call-transferred")).await; // Duplicate

    let metrics = logs.metrics();
    let outcomes: Vec<(&str, &str)> = metrics
        .iter()
        .map(|document| {
            let name = document["_aws"]["CloudWatchMetrics"][0]["Metrics"][1]["Name"].as_str().unwrap();
            (document["function"].as_str().unwrap(), name)
        })
        .collect();
    assert_eq!(
        outcomes,
        [
            ("send-text", "Sent"),
            ("send-text", "Duplicate"),
            ("send-text", "Unauthorized"),
            ("send-text", "Invalid"),
            ("send-text", "Invalid"),
            ("send-text", "DependencyFailed"),
            ("send-text", "InProgress"),
            ("post-call", "Stored"),
            ("post-call", "Duplicate"),
        ]
    );
    for (document, (_, outcome)) in metrics.iter().zip(&outcomes) {
        assert_eq!(document["Received"], 1);
        assert_eq!(document[*outcome], 1);
        assert_eq!(document["_aws"]["CloudWatchMetrics"][0]["Namespace"], "Acme/2X");
    }
    assert_eq!((&metrics[0]["encoding"], &metrics[0]["SmsSegments"]), (&json!("UCS-2"), &json!(1)));
    assert_eq!(metrics[5]["SmsPublishFailed"], 1);
    assert_eq!(metrics[1].get("SmsSegments"), None, "a duplicate sends nothing");
    let stored = calls.calls.item(id(123)).unwrap();
    assert_eq!(metrics[7]["StoredItemBytes"], crate::item_size::dynamodb_item_size(&stored).unwrap());
    assert_eq!(metrics[8].get("StoredItemBytes"), None);
}

#[tokio::test]
async fn a_body_over_the_limit_is_413_after_auth_and_never_parsed() {
    let handler = send_text(&[("MAX_BODY_BYTES", "2048")]);
    let padded = edited_body("send-text-pre-call", |body| body["padding"] = "x".repeat(2048).into());
    let (status, body) = answer(&handler, event_with_body("send-text-pre-call", &padded)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(body["error"].as_str().unwrap().ends_with("at most 2048 are accepted"), "{body}");
    assert!(handler.ledger.operations.called().is_empty() && handler.sms.sent().is_empty());

    let mut unauthorized = event_with_body("send-text-pre-call", &padded);
    unauthorized.headers_mut().insert("authorization", HeaderValue::from_static("wrong"));
    assert_eq!(answer(&handler, unauthorized).await.0, StatusCode::UNAUTHORIZED, "auth comes first");

    let just_fits = edited_body("send-text-pre-call", |body| body["padding"] = "x".repeat(1500).into());
    assert_eq!(answer(&handler, event_with_body("send-text-pre-call", &just_fits)).await.0, StatusCode::OK);
}

#[tokio::test]
async fn a_call_too_big_even_compressed_is_413_logged_and_counted() {
    let logs = LogCapture::default();
    let _guard = logs.install();
    let handler = post_call(&[]);
    // Incompressible data in `meta`, not in the transcript: compression cannot save it.
    let noise: String = (0..500_000u64).map(|n| char::from(b'!' + ((n * 7919 + n / 13) % 90) as u8)).collect();
    let body = edited_body("post-call-transferred", |body| body["meta"]["blob"] = noise.into());
    let (status, body) = answer(&handler, event_with_body("post-call-transferred", &body)).await;

    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(body["error"].as_str().unwrap().contains("DynamoDB stores at most 400 KB"), "{body}");
    assert!(handler.calls.is_empty());
    assert_eq!((&logs.summaries()[0]["outcome"], &logs.summaries()[0]["id"]), (&json!("too_large"), &json!(123)));
    assert_eq!(logs.metrics()[0]["TooLarge"], 1);
}

// ---- the Lambda event in front of the handler ----

/// A sample event through the runtime's entry point ([`super::answer`]), after `edit` changes its envelope.
async fn lambda_answer<W: Webhook>(webhook: &W, name: &str, edit: impl FnOnce(&mut Value)) -> (u16, Value) {
    let mut envelope: Value = serde_json::from_str(&sample(name)).unwrap();
    edit(&mut envelope);
    let event = serde_json::from_value(envelope).expect("still an API Gateway event");
    let mut context = Context::default();
    context.request_id = format!("req-{name}-lambda");
    let response = super::answer(webhook, lambda_http::LambdaEvent::new(event, context)).await.unwrap();
    let response = serde_json::to_value(response).unwrap();
    let body = serde_json::from_str(response["body"].as_str().expect("a text body")).expect("a JSON body");
    (response["statusCode"].as_u64().unwrap() as u16, body)
}

fn base64(text: &str) -> String {
    base64::Engine::encode(&base64::engine::general_purpose::STANDARD, text)
}

#[tokio::test]
async fn a_base64_encoded_body_is_decoded_and_processed() {
    let handler = send_text(&[]);
    let (status, body) = lambda_answer(&handler, "send-text-pre-call", |event| {
        event["body"] = base64(event["body"].as_str().unwrap()).into();
        event["isBase64Encoded"] = true.into();
    })
    .await;
    assert_eq!((status, body["status"].as_str()), (200, Some("sent")));
    assert_eq!(handler.sms.sent().len(), 1);
}

#[tokio::test]
async fn a_body_flagged_base64_that_is_not_is_400_after_auth_never_a_panic() {
    let handler = send_text(&[]);
    for not_base64 in ["{\"id\": 1}", "!!!!", "QQ", "QQ==QQ==", "\u{0}"] {
        let flagged = |event: &mut Value| {
            event["body"] = not_base64.into();
            event["isBase64Encoded"] = true.into();
        };
        let (status, body) = lambda_answer(&handler, "send-text-pre-call", flagged).await;
        assert_eq!(status, 400, "{not_base64:?}");
        assert_eq!(body, json!({"error": "the body is flagged base64 but is not valid base64"}));

        let (status, _) = lambda_answer(&handler, "send-text-bad-token", flagged).await;
        assert_eq!(status, 401, "the token is checked first");
    }
    assert!(handler.ledger.operations.called().is_empty());
}

#[tokio::test]
async fn the_body_is_read_as_json_whatever_the_content_type_says() {
    let handler = post_call(&[]);
    let content_types =
        [None, Some("text/plain"), Some("application/x-www-form-urlencoded"), Some("image/png"), Some("")];
    for (n, content_type) in content_types.into_iter().enumerate() {
        let (status, body) = lambda_answer(&handler, "post-call-transferred", |event| {
            let mut payload: Value = serde_json::from_str(event["body"].as_str().unwrap()).unwrap();
            payload["id"] = (9000 + n).into();
            event["body"] = payload.to_string().into();
            let headers = event["headers"].as_object_mut().unwrap();
            headers.remove("content-type");
            if let Some(content_type) = content_type {
                headers.insert("content-type".into(), content_type.into());
            }
        })
        .await;
        assert_eq!((status, body["status"].as_str()), (200, Some("stored")), "{content_type:?}");
    }
    assert_eq!(handler.calls.len(), content_types.len());
}

#[tokio::test]
async fn a_rest_api_event_is_answered_in_its_own_format() {
    let handler = post_call(&[]);
    let (status, body) = lambda_answer(&handler, "post-call-transferred", |event| {
        // API Gateway REST (v1) shape: `httpMethod`/`path`, no `requestContext.http`.
        let v2 = event.clone();
        *event = json!({
            "resource": "/post-call", "path": "/post-call", "httpMethod": "POST",
            "headers": v2["headers"], "multiValueHeaders": {}, "queryStringParameters": null,
            "requestContext": {"accountId": "123456789012", "resourceId": "r", "stage": "prod", "requestId": "v1",
                "identity": {"sourceIp": "127.0.0.1"}, "resourcePath": "/post-call", "httpMethod": "POST",
                "apiId": "api"},
            "body": v2["body"], "isBase64Encoded": false
        });
    })
    .await;
    assert_eq!((status, body["status"].as_str()), (200, Some("stored")));
}

#[tokio::test]
async fn values_dynamodb_would_refuse_are_422_naming_the_field_never_a_503_loop() {
    let texts = send_text(&[]);
    let calls = post_call(&[]);
    let nested = (0..40).fold(json!("deep"), |inner, _| json!({ "a": inner }));
    let cases =
        [(json!({"": "x"}), "meta."), (nested, "meta.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a")];
    for (meta, field) in cases {
        let body = edited_body("send-text-pre-call", |body| body["meta"] = meta.clone());
        let (status, answer_body) = answer(&texts, event_with_body("send-text-pre-call", &body)).await;
        assert_eq!((status, answer_body["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some(field)));

        let body = edited_body("post-call-transferred", |body| body["meta"] = meta.clone());
        let (status, answer_body) = answer(&calls, event_with_body("post-call-transferred", &body)).await;
        assert_eq!((status, answer_body["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some(field)));
    }
    let body = edited_body("post-call-transferred", |body| body["call"]["duration"] = json!(1e300));
    let (status, answer_body) = answer(&calls, event_with_body("post-call-transferred", &body)).await;
    assert_eq!((status, answer_body["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("call.duration")));

    assert!(texts.sms.sent().is_empty() && texts.ledger.operations.called().is_empty());
    assert!(calls.calls.is_empty());
}

/// A put DynamoDB applied but whose answer was lost: 503, and the retry finds the record (the conditional put
/// keeps the first one) and answers 200. Every 2xx has its item; every non-2xx leaves the retry able to finish.
#[tokio::test]
async fn a_store_whose_answer_was_lost_is_503_and_the_retry_finds_it_stored() {
    let handler = post_call(&[]);
    handler.calls.operations.lose_answers("store");
    assert_eq!(answer(&handler, event("post-call-transferred")).await.0, StatusCode::SERVICE_UNAVAILABLE);
    handler.calls.operations.heal("store");

    let (status, body) = answer(&handler, request_from(&sample("post-call-transferred"), "req-retry")).await;
    assert_eq!((status, body), (StatusCode::OK, json!({"status": "duplicate", "id": 123})));
    assert_eq!(handler.calls.len(), 1);
}
