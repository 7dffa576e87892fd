//! Every row of send-text's HTTP contract, on the handler with in-memory fakes, driven by the sample events.

// Tests: a step that fails should stop the test at once (helpers are outside `#[test]` functions).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use lambda_http::http::{HeaderValue, Method, StatusCode};
use send_text::handler::{SendTextDeps, SendTextHandler};
use serde_json::{Value, json};
use std::sync::atomic::{AtomicUsize, Ordering};
use texts::fakes::{FakeLedger, FakeSms, LedgerEntry, pre_call, text_key};
use texts::ledger::{TextClaimRecord, TextKey, TextStatus};
use texts::text::TextType;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use webhook::fakes::{FakeOptOuts, FakeQueue, Operations};
use webhook::item::{SHADOWED_FIELDS, STORED_AS_JSON};
use webhook::payload::WebhookId;
use webhook_test_support::LogCapture;
use webhook_test_support::events::{
    answer, body_carrying, configured, edited_body, event, event_with_body, lambda_answer, metas_dynamodb_refuses,
    pre_call_in_dc_at, request_from, sample, sample_body,
};

/// send-text's fakes. A clone shares each one's state: the test keeps its own handles.
type Fakes = SendTextDeps<FakeLedger, FakeSms, FakeOptOuts, Option<FakeQueue>>;
type FakeSendText = SendTextHandler<FakeLedger, FakeSms, FakeOptOuts, Option<FakeQueue>>;

/// send-text on `fakes`, configured by the sample events' environment and `extra_env`.
fn send_text_on(fakes: &Fakes, extra_env: &[(&str, &str)]) -> FakeSendText {
    let (config, authenticator) = configured(extra_env);
    send_text::handler::build(config, authenticator, fakes.clone())
}

/// send-text on fresh fakes (an empty suppression list, no fallback queue).
fn send_text_on_fakes(extra_env: &[(&str, &str)]) -> (FakeSendText, Fakes) {
    let fakes = Fakes::default();
    (send_text_on(&fakes, extra_env), fakes)
}

/// send-text on fresh fakes with `queue` as its fallback queue.
fn send_text_queueing_to(queue: FakeQueue) -> (FakeSendText, Fakes) {
    let fakes = Fakes { queue: Some(queue), ..Fakes::default() };
    (send_text_on(&fakes, &[]), fakes)
}

/// send-text on fresh fakes and the suppression list `list`.
fn send_text_with(list: FakeOptOuts) -> (FakeSendText, Fakes) {
    let fakes = Fakes { opt_outs: list, ..Fakes::default() };
    (send_text_on(&fakes, &[]), fakes)
}

/// The pre-call text with webhook id `value`: most samples' texts.
fn id(value: u64) -> TextKey {
    pre_call(value)
}

/// With smart encoding off, the text goes out exactly as 2X wrote it, and is billed so.
#[tokio::test]
async fn with_smart_encoding_off_the_text_goes_out_as_written() {
    let (handler, fakes) = send_text_on_fakes(&[("SMS_SMART_ENCODING", "false")]);
    let (status, _) = answer(&handler, event("send-text-pre-call")).await;

    assert_eq!(status, StatusCode::OK);
    let written = "We\u{2019}ll call you in several minutes, looking forward to talking with you.";
    assert_eq!(fakes.sms.sent()[0].text, written);
    let item = fakes.ledger.entry(&id(1234)).expect("the claim is recorded").item;
    assert_eq!((&item["sms_encoding"], &item["sms_parts"]), (&json!("UCS-2"), &json!(2)));
    assert!(item.get("sms_characters_replaced").is_none(), "{item}");
}

/// Smart encoding changes what goes out, never which text it is: delivered again with the setting switched (a
/// redeploy between 2X's retries), the text is a duplicate, not an id reused for another text.
#[tokio::test]
async fn switching_smart_encoding_between_deliveries_of_a_text_sends_it_once() {
    let fakes = Fakes::default();
    let on = send_text_on(&fakes, &[]);
    let off = send_text_on(&fakes, &[("SMS_SMART_ENCODING", "false")]);
    let (_, first) = answer(&on, event("send-text-pre-call")).await;
    let (_, again) = answer(&off, event("send-text-pre-call")).await;
    assert_eq!((&first["status"], &again["status"]), (&json!("sent"), &json!("duplicate")));
    assert_eq!(fakes.sms.sent().len(), 1);
}

#[tokio::test]
async fn pre_call_text_is_sent_to_the_e164_number_and_recorded() {
    let (handler, fakes) = send_text_on_fakes(&[]);
    let (status, body) = answer(&handler, event("send-text-pre-call")).await;

    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({"status": "sent", "id": 1234, "message_id": "fake-message-1"}));
    let sent = fakes.sms.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].to, "+12025550143");
    // Smart encoding: the curly apostrophe 2X sent would have made the text UCS-2 (71 characters: two parts).
    assert_eq!(sent[0].text, "We'll call you in several minutes, looking forward to talking with you.");

    let entry = fakes.ledger.entry(&id(1234)).expect("the claim is recorded");
    assert_eq!(entry.item["message"], "We\u{2019}ll call you in several minutes, looking forward to talking with you.");
    let billed = (&entry.item["sms_encoding"], &entry.item["sms_parts"], &entry.item["sms_characters_replaced"]);
    assert_eq!(billed, (&json!("GSM-7"), &json!(1), &json!(1)));
    assert_eq!(entry.status, TextStatus::Sent);
    assert_eq!(entry.message_id.as_deref(), Some("fake-message-1"));
    assert_eq!(entry.claimed_by, "req-send-text-pre-call");
    assert_eq!(entry.item["phone_e164"], "+12025550143");
    assert_eq!(entry.item["type"], "pre-call");
    assert_eq!(entry.item["meta"], json!({"lead_id": "123", "test_id": "abc"}));
    assert_eq!(fakes.ledger.operations.called(), ["claim", "mark_sent"]);
}

#[tokio::test]
async fn post_voicemail_text_with_a_bare_number_and_string_id_is_sent() {
    let (handler, fakes) = send_text_on_fakes(&[]);
    let (status, body) = answer(&handler, event("send-text-post-voicemail")).await;

    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"], "sent");
    assert_eq!(body["id"], 1235, "a string id is answered as a number");
    assert_eq!(fakes.sms.sent()[0].to, "+12025550187");
    assert!(fakes.sms.sent()[0].text.ends_with("📞"));
}

#[tokio::test]
async fn a_repeated_delivery_is_a_duplicate_and_sends_nothing() {
    let (handler, fakes) = send_text_on_fakes(&[]);
    assert_eq!(answer(&handler, event("send-text-pre-call")).await.0, StatusCode::OK);
    let (status, body) = answer(&handler, event("send-text-pre-call")).await;

    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({"status": "duplicate", "id": 1234}));
    assert_eq!(fakes.sms.sent().len(), 1);
}

#[tokio::test]
async fn wrong_or_missing_token_is_401_before_anything_is_parsed_or_called() {
    let (handler, fakes) = send_text_on_fakes(&[]);
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
    assert!(fakes.ledger.operations.called().is_empty());
    assert!(fakes.sms.operations.called().is_empty());
}

#[tokio::test]
async fn the_configured_header_name_and_the_previous_token_are_honoured() {
    let (handler, _) = send_text_on_fakes(&[
        ("AUTH_HEADER_NAME", "X-TwoX-Auth"),
        ("AUTH_TOKEN", "new"),
        ("AUTH_TOKEN_PREVIOUS", "old"),
    ]);
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
    let (handler, fakes) = send_text_on_fakes(&[]);
    let (status, body) = answer(&handler, event("send-text-missing-phone")).await;

    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["field"], "record_phone_number");
    assert!(body["error"].as_str().unwrap().contains("missing field `record_phone_number`"), "{body}");
    assert!(fakes.ledger.operations.called().is_empty());
}

#[tokio::test]
async fn bodies_that_are_not_json_or_have_wrong_types_are_400() {
    let (handler, fakes) = send_text_on_fakes(&[]);
    let cases = [
        ("not json", None),
        ("", None),
        ("[1, 2]", None),
        (r#"{"id": true, "record_phone_number": "+12025550143", "message": "hi"}"#, Some("id")),
        (r#"{"id": 1.5, "record_phone_number": "+12025550143", "message": "hi"}"#, Some("id")),
        (r#"{"id": "12a", "record_phone_number": "+12025550143", "message": "hi"}"#, Some("id")),
        (r#"{"id": 7, "record_phone_number": true, "message": "hi"}"#, Some("record_phone_number")),
        (r#"{"id": 7, "record_phone_number": ["+12025550143"], "message": "hi"}"#, Some("record_phone_number")),
        (r#"{"id": 7, "record_phone_number": "+12025550143", "message": null}"#, Some("message")),
        (r#"{"id": 7, "record_phone_number": "+12025550143", "message": ["hi"]}"#, Some("message")),
        (r#"{"record_phone_number": "+12025550143", "message": "hi"}"#, Some("id")),
    ];
    for (body, field) in cases {
        let (status, answer_body) = answer(&handler, event_with_body("send-text-pre-call", body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(answer_body["field"].as_str(), field, "{body}: {answer_body}");
        assert!(answer_body["error"].is_string());
    }
    assert!(fakes.sms.sent().is_empty());
}

#[tokio::test]
async fn unusable_phone_or_message_is_422_naming_the_field() {
    let (handler, fakes) = send_text_on_fakes(&[]);
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
    assert_eq!(fakes.sms.sent().len(), 1, "only the 1,600-byte message is sent");
}

#[tokio::test]
async fn unknown_types_and_fields_are_accepted_and_kept() {
    let (handler, fakes) = send_text_on_fakes(&[]);
    let body = edited_body("send-text-pre-call", |body| {
        body["type"] = "Appointment-Reminder".into();
        body["campaign_channel"] = json!({"name": "sms", "weight": 2});
        body.as_object_mut().unwrap().remove("workflow_end");
    });
    let (status, _) = answer(&handler, event_with_body("send-text-pre-call", &body)).await;

    assert_eq!(status, StatusCode::OK);
    let key = text_key(1234, TextType::Other("appointment-reminder".into()));
    let item = fakes.ledger.entry(&key).unwrap().item;
    assert_eq!((&item["type"], &item["text_type"]), (&json!("Appointment-Reminder"), &json!("appointment-reminder")));
    assert_eq!(item["campaign_channel"], json!({"name": "sms", "weight": 2}));
}

#[tokio::test]
async fn a_failed_claim_is_503_and_sends_nothing() {
    let (handler, fakes) = send_text_on_fakes(&[]);
    fakes.ledger.operations.fail("claim");
    let (status, body) = answer(&handler, event("send-text-pre-call")).await;

    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body, json!({"error": "a service this webhook depends on is unavailable; deliver again later"}));
    assert!(fakes.sms.sent().is_empty());
}

#[tokio::test]
async fn an_opted_out_number_is_not_texted_and_its_id_stays_free() {
    let logs = LogCapture::default();
    let _guard = logs.install();
    let (handler, fakes) = send_text_on_fakes(&[]);
    fakes.sms.opt_out("+12025550143");
    let (status, body) = answer(&handler, event("send-text-pre-call")).await;

    assert_eq!((status, body), (StatusCode::OK, json!({"status": "opted_out", "id": 1234})));
    assert_eq!(fakes.sms.operations.called(), ["is_opted_out"]);
    // Claimed alongside the check, then released: a later delivery, after an opt-in, can still send.
    assert_eq!(fakes.ledger.operations.called(), ["claim", "release"]);
    assert_eq!(fakes.ledger.entry(&id(1234)), None);
    assert_eq!(logs.summaries()[0]["outcome"], "opted_out");
    assert_eq!(logs.metrics()[0]["OptedOut"], 1);
}

#[tokio::test]
async fn a_failed_opt_out_check_still_sends_because_sns_enforces_opt_outs_itself() {
    let logs = LogCapture::default();
    let _guard = logs.install();
    let (handler, fakes) = send_text_on_fakes(&[]);
    fakes.sms.operations.fail("is_opted_out");
    let (status, body) = answer(&handler, event("send-text-pre-call")).await;

    assert_eq!((status, &body["status"]), (StatusCode::OK, &json!("sent")));
    assert_eq!(fakes.sms.sent().len(), 1);
    assert!(logs.summaries()[0]["errors"].as_str().unwrap().contains("is_opted_out failed"));
}

#[tokio::test]
async fn a_failed_publish_is_503_and_releases_the_claim_so_the_retry_sends() {
    let (handler, fakes) = send_text_on_fakes(&[]);
    fakes.sms.operations.fail("send");
    let (status, body) = answer(&handler, event("send-text-pre-call")).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(!body["error"].as_str().unwrap().contains("injected"), "no internal detail in the body");
    assert_eq!(fakes.ledger.entry(&id(1234)), None, "the claim was released");
    assert_eq!(fakes.ledger.operations.called(), ["claim", "release"]);

    fakes.sms.operations.heal("send");
    let (status, body) = answer(&handler, event("send-text-pre-call")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"], "sent");
    assert_eq!(fakes.sms.sent().len(), 1);
}

#[tokio::test]
async fn a_failure_to_record_the_message_id_still_answers_sent() {
    let (handler, fakes) = send_text_on_fakes(&[]);
    fakes.ledger.operations.fail("mark_sent");
    let (status, body) = answer(&handler, event("send-text-pre-call")).await;

    assert_eq!(status, StatusCode::OK, "the SMS is out; a 5xx would make 2X text the lead again");
    assert_eq!(body["status"], "sent");
    assert_eq!(fakes.sms.sent().len(), 1);
}

#[tokio::test]
async fn a_live_claim_held_by_another_delivery_is_409_and_sends_nothing() {
    let (handler, fakes) = send_text_on_fakes(&[]);
    let in_a_minute = OffsetDateTime::now_utc().unix_timestamp() + 60;
    fakes.ledger.insert(id(1234), LedgerEntry::unfinished_claim("another-delivery", in_a_minute));
    let (status, body) = answer(&handler, event("send-text-pre-call")).await;

    assert_eq!(status, StatusCode::CONFLICT);
    assert!(body["error"].is_string());
    assert!(fakes.sms.sent().is_empty());
}

#[tokio::test]
async fn an_abandoned_claim_is_unconfirmed_and_never_sent_again() {
    let (handler, fakes) = send_text_on_fakes(&[]);
    let a_minute_ago = OffsetDateTime::now_utc().unix_timestamp() - 60;
    fakes.ledger.insert(id(1234), LedgerEntry::unfinished_claim("another-delivery", a_minute_ago));
    let (status, body) = answer(&handler, event("send-text-pre-call")).await;

    // Its delivery died after the claim, maybe after SNS took the text: sending now could text the lead twice.
    assert_eq!((status, body), (StatusCode::ACCEPTED, json!({"status": "unconfirmed", "id": 1234})));
    assert!(fakes.sms.sent().is_empty());
    assert_eq!(fakes.ledger.entry(&id(1234)).unwrap().claimed_by, "another-delivery");
}

#[tokio::test]
async fn a_publish_sns_may_have_received_is_202_unconfirmed_and_never_repeated() {
    let logs = LogCapture::default();
    let _guard = logs.install();
    let (handler, fakes) = send_text_on_fakes(&[]);
    fakes.sms.operations.lose_answers("send");
    let (status, body) = answer(&handler, event("send-text-pre-call")).await;

    assert_eq!((status, body), (StatusCode::ACCEPTED, json!({"status": "unconfirmed", "id": 1234})));
    assert_eq!(fakes.sms.sent().len(), 1, "SNS took it; only its answer was lost");
    assert_eq!(fakes.ledger.entry(&id(1234)).unwrap().status, TextStatus::Unconfirmed);
    assert_eq!(fakes.ledger.operations.called(), ["claim", "mark_unconfirmed"], "the claim is kept, not released");
    assert_eq!(logs.summaries()[0]["outcome"], "unconfirmed");
    assert_eq!(logs.metrics()[0]["Unconfirmed"], 1);
    assert_eq!(logs.metrics()[0]["SmsPublishFailed"], 1);

    fakes.sms.operations.heal("send");
    let (status, body) = answer(&handler, request_from(&sample("send-text-pre-call"), "req-retry")).await;
    assert_eq!((status, body["status"].as_str()), (StatusCode::ACCEPTED, Some("unconfirmed")));
    assert_eq!(fakes.sms.sent().len(), 1, "a retry never publishes it again");
}

#[tokio::test]
async fn an_unconfirmed_publish_whose_record_fails_still_answers_202() {
    let (handler, fakes) = send_text_on_fakes(&[]);
    fakes.sms.operations.lose_answers("send");
    fakes.ledger.operations.fail("mark_unconfirmed");
    let (status, _) = answer(&handler, event("send-text-pre-call")).await;

    // A 5xx would invite a retry; the claim left behind answers 409, then (lease over) unconfirmed: never a resend.
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(fakes.ledger.entry(&id(1234)).unwrap().status, TextStatus::Claimed);
}

/// Operations of a fake, each named.
type Faults<'a> = &'a [(&'a Operations, &'static str)];

/// Delivers the pre-call sample as a new Lambda request while the `failing` operations fail and the
/// `answers_lost` ones take effect unanswered; then heals them. Returns the status and the body's `status`.
async fn redeliver(handler: &FakeSendText, failing: Faults<'_>, answers_lost: Faults<'_>) -> (u16, String) {
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
    let (handler, fakes) = send_text_on_fakes(&[]);
    let (ledger, sms) = (&fakes.ledger.operations, &fakes.sms.operations);
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
    assert_eq!(fakes.sms.sent().len(), 1);
}

/// The ambiguous case: the publish reached SNS but its answer was lost. The rule is at most once: the id is
/// settled as unconfirmed, so SNS's one text (if it sent it) is the only one, whatever 2X does next.
#[tokio::test]
async fn retried_deliveries_after_an_unanswered_publish_never_text_again() {
    let (handler, fakes) = send_text_on_fakes(&[]);
    let (ledger, sms) = (&fakes.ledger.operations, &fakes.sms.operations);
    assert_eq!(redeliver(&handler, &[], &[(sms, "send")]).await, (202, "unconfirmed".into()));
    assert_eq!(redeliver(&handler, &[], &[]).await, (202, "unconfirmed".into()));
    assert_eq!(redeliver(&handler, &[(ledger, "claim")], &[]).await, (503, "error".into()));
    assert_eq!(redeliver(&handler, &[(sms, "is_opted_out")], &[]).await, (202, "unconfirmed".into()));
    assert_eq!(fakes.sms.sent().len(), 1, "SNS's one, never a second");
    assert_eq!(sms.called().iter().filter(|operation| **operation == "send").count(), 1);
}

/// A publish that failed and a claim that could not be released: the claim blocks (409) while its delivery could
/// still be running, then counts as unconfirmed. Nothing is sent twice; this id's text is missed, and counted.
#[tokio::test]
async fn a_claim_that_could_not_be_released_blocks_and_never_double_sends() {
    let (handler, fakes) = send_text_on_fakes(&[]);
    let (ledger, sms) = (&fakes.ledger.operations, &fakes.sms.operations);
    assert_eq!(redeliver(&handler, &[(sms, "send"), (ledger, "release")], &[]).await, (503, "error".into()));
    assert_eq!(redeliver(&handler, &[], &[]).await, (409, "error".into()));
    assert!(fakes.sms.sent().is_empty());
}

#[tokio::test]
async fn only_post_is_accepted() {
    let (handler, fakes) = send_text_on_fakes(&[]);
    let mut request = event("send-text-pre-call");
    *request.method_mut() = Method::GET;
    let (status, body) = answer(&handler, request).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert!(body["error"].is_string());
    assert!(fakes.sms.sent().is_empty());
}

/// The claim's TTL is the retention, but never under 90 days: it is what stops a second SMS for a redelivery.
#[tokio::test]
async fn retention_sets_the_ttl_on_the_claim_never_under_the_ledgers_minimum() {
    for (days, kept) in [("7", 90), ("365", 365)] {
        let (handler, fakes) = send_text_on_fakes(&[("RETENTION_DAYS", days)]);
        answer(&handler, event("send-text-pre-call")).await;
        let item = fakes.ledger.entry(&id(1234)).unwrap().item;
        let claimed_at = OffsetDateTime::parse(item["claimed_at"].as_str().unwrap(), &Rfc3339).unwrap();
        assert_eq!(item["expires_at"], claimed_at.unix_timestamp() + kept * 86_400, "RETENTION_DAYS={days}");
        assert_eq!(item["lease_expires_at"], claimed_at.unix_timestamp() + 60);
    }
}

#[tokio::test]
async fn a_text_carrying_our_attribute_names_keeps_ours_and_the_senders_values_aside() {
    let (handler, fakes) = send_text_on_fakes(&[]);
    let body = body_carrying("send-text-pre-call", TextClaimRecord::ATTRIBUTES);
    let (status, answer_body) = answer(&handler, event_with_body("send-text-pre-call", &body.to_string())).await;
    assert_eq!((status, &answer_body["status"]), (StatusCode::OK, &json!("sent")));

    let entry = fakes.ledger.entry(&id(1234)).unwrap();
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

#[tokio::test]
async fn a_body_over_the_limit_is_413_after_auth_and_never_parsed() {
    let (handler, fakes) = send_text_on_fakes(&[("MAX_BODY_BYTES", "2048")]);
    let padded = edited_body("send-text-pre-call", |body| body["padding"] = "x".repeat(2048).into());
    let (status, body) = answer(&handler, event_with_body("send-text-pre-call", &padded)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(body["error"].as_str().unwrap().ends_with("at most 2048 are accepted"), "{body}");
    assert!(fakes.ledger.operations.called().is_empty() && fakes.sms.sent().is_empty());

    let mut unauthorized = event_with_body("send-text-pre-call", &padded);
    unauthorized.headers_mut().insert("authorization", HeaderValue::from_static("wrong"));
    assert_eq!(answer(&handler, unauthorized).await.0, StatusCode::UNAUTHORIZED, "auth comes first");

    let just_fits = edited_body("send-text-pre-call", |body| body["padding"] = "x".repeat(1500).into());
    assert_eq!(answer(&handler, event_with_body("send-text-pre-call", &just_fits)).await.0, StatusCode::OK);
}

#[tokio::test]
async fn a_base64_encoded_body_is_decoded_and_processed() {
    let (handler, fakes) = send_text_on_fakes(&[]);
    let (status, body) = lambda_answer(&handler, "send-text-pre-call", |event| {
        event["body"] =
            base64::Engine::encode(&base64::engine::general_purpose::STANDARD, event["body"].as_str().unwrap()).into();
        event["isBase64Encoded"] = true.into();
    })
    .await;
    assert_eq!((status, body["status"].as_str()), (200, Some("sent")));
    assert_eq!(fakes.sms.sent().len(), 1);
}

#[tokio::test]
async fn a_body_flagged_base64_that_is_not_is_400_after_auth_never_a_panic() {
    let (handler, fakes) = send_text_on_fakes(&[]);
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
    assert!(fakes.ledger.operations.called().is_empty());
}

/// Values DynamoDB refuses as they are cost the text nothing: it is sent, the claim keeping each as its JSON text.
#[tokio::test]
async fn values_dynamodb_refuses_are_kept_as_their_json_text_and_the_text_sent() {
    let (handler, fakes) = send_text_on_fakes(&[]);
    for (n, (meta, path)) in metas_dynamodb_refuses().into_iter().enumerate() {
        let body = edited_body("send-text-pre-call", |body| {
            body["meta"] = meta.clone();
            body["id"] = (3000 + n).into();
        });
        let (status, answer_body) = answer(&handler, event_with_body("send-text-pre-call", &body)).await;
        assert_eq!((status, &answer_body["status"]), (StatusCode::OK, &json!("sent")), "{path}");
        let item = fakes.ledger.entry(&id(3000 + n as u64)).unwrap().item;
        assert_eq!(item[STORED_AS_JSON], json!([path]));
    }
    assert_eq!(fakes.sms.sent().len(), 3);
}

/// The fields 2X's documents type one way, sent another (the odd-types sample: a number's digits as a number, an
/// id written `1239.0`, `meta` as PHP's empty map, strings for numbers and booleans, `Pre-Call`): sent, kept as
/// sent.
#[tokio::test]
async fn a_text_whose_fields_have_other_types_is_sent_and_kept_as_sent() {
    let (handler, fakes) = send_text_on_fakes(&[]);
    let (status, body) = answer(&handler, event("send-text-odd-types")).await;
    assert_eq!((status, &body["status"], &body["id"]), (StatusCode::OK, &json!("sent"), &json!(1239)));
    let sent = fakes.sms.sent();
    assert_eq!(
        (sent[0].to.as_str(), sent[0].text.as_str()),
        ("+12025550191", "Your call from Acme is in a few minutes.")
    );
    let item = fakes.ledger.entry(&id(1239)).expect("keyed as a pre-call text").item;
    let body = sample_body("send-text-odd-types");
    for field in
        ["agent_key", "record_phone_number", "record_first_name", "meta", "workflow_day", "workflow_end", "type"]
    {
        assert_eq!(item[field], body[field], "{field} kept as sent");
    }
    assert_eq!((&item["id"], &item["text_type"]), (&json!(1239), &json!("pre-call")));
}

/// A text's id and type make the text: a pre-call text and the post-voicemail text after that call may share
/// 2X's id, and each is sent, once.
#[tokio::test]
async fn a_pre_call_and_a_post_voicemail_text_with_one_id_are_both_sent_each_once() {
    let (handler, fakes) = send_text_on_fakes(&[]);
    let voicemail = edited_body("send-text-post-voicemail", |body| body["id"] = 1234.into());
    for _ in 0..2 {
        answer(&handler, event("send-text-pre-call")).await;
        answer(&handler, event_with_body("send-text-post-voicemail", &voicemail)).await;
    }
    let sent = fakes.sms.sent();
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert_eq!((sent[0].to.as_str(), sent[1].to.as_str()), ("+12025550143", "+12025550187"));
    assert_eq!(fakes.ledger.entry(&id(1234)).unwrap().status, TextStatus::Sent);
    assert_eq!(fakes.ledger.entry(&text_key(1234, TextType::PostVoicemail)).unwrap().status, TextStatus::Sent);
}

/// 2X reusing an id and type for another text (another number or message): not sent, answered as a duplicate,
/// and counted (`IdReused`, alarmed) so someone asks 2X why.
#[tokio::test]
async fn an_id_reused_for_another_text_is_not_sent_and_counted() {
    let logs = LogCapture::default();
    let _guard = logs.install();
    let (handler, fakes) = send_text_on_fakes(&[]);
    answer(&handler, event("send-text-pre-call")).await;
    for edit in [json!({"message": "Another message"}), json!({"record_phone_number": "2025550144"})] {
        let body = edited_body("send-text-pre-call", |body| {
            for (key, value) in edit.as_object().unwrap() {
                body[key] = value.clone();
            }
        });
        let (status, answer_body) = answer(&handler, event_with_body("send-text-pre-call", &body)).await;
        assert_eq!((status, answer_body), (StatusCode::OK, json!({"status": "duplicate", "id": 1234})), "{edit}");
    }
    assert_eq!(fakes.sms.sent().len(), 1);
    let metrics = logs.metrics();
    assert_eq!((metrics[1]["IdReused"].as_u64(), metrics[2]["IdReused"].as_u64()), (Some(1), Some(1)));
    // The same text again is a plain duplicate, not counted.
    answer(&handler, event("send-text-pre-call")).await;
    assert_eq!(logs.metrics()[3].get("IdReused"), None);
}

/// SNS refusing a text for good (its request is wrong for SNS, not the moment): settled `failed` with SNS's code,
/// answered 422, never queued; a later delivery of it is answered so again without asking SNS.
#[tokio::test]
async fn a_text_sns_refuses_for_good_is_settled_failed_and_never_queued() {
    let logs = LogCapture::default();
    let _guard = logs.install();
    let queue = FakeQueue::default();
    let (handler, fakes) = send_text_queueing_to(queue.clone());
    fakes.sms.refuse_for_good("InvalidParameter");
    let (status, body) = answer(&handler, event("send-text-pre-call")).await;
    assert_eq!(
        (status, body),
        (StatusCode::UNPROCESSABLE_ENTITY, json!({"error": "the SMS provider refused this text; it will not be sent"}))
    );
    let entry = fakes.ledger.entry(&id(1234)).unwrap();
    assert_eq!((entry.status, &entry.item["failure_code"]), (TextStatus::Failed, &json!("InvalidParameter")));
    assert!(queue.queued().is_empty(), "never queued: SNS would refuse it again");
    let summary = &logs.summaries()[0];
    assert_eq!((&summary["outcome"], &summary["refused"]), (&json!("sms_refused"), &json!("sms_refused")));
    assert!(summary["errors"].as_str().unwrap().contains("InvalidParameter"));
    assert_eq!((&logs.metrics()[0]["SmsRefused"], &logs.metrics()[0]["Refused"]), (&json!(1), &json!(1)));

    let again = request_from(&sample("send-text-pre-call"), "req-again");
    assert_eq!(answer(&handler, again).await.0, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fakes.sms.operations.called().iter().filter(|op| **op == "send").count(), 1);
}

/// Only a lead's own kind of phone, in an allowed country, is texted: a foreign, premium-rate or toll-free number
/// is refused (422 naming the field, counted), before any AWS call.
#[tokio::test]
async fn numbers_that_may_not_be_texted_are_refused_before_any_aws_call() {
    let logs = LogCapture::default();
    let _guard = logs.install();
    let (handler, fakes) = send_text_on_fakes(&[]);
    for number in ["+44 7400 123456", "+1 416 555 0143", "+1 900 234 5678", "+1 800 234 5678"] {
        let body = edited_body("send-text-pre-call", |body| body["record_phone_number"] = number.into());
        let (status, answer_body) = answer(&handler, event_with_body("send-text-pre-call", &body)).await;
        assert_eq!(
            (status, answer_body["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("record_phone_number"))
        );
    }
    assert!(fakes.ledger.operations.called().is_empty() && fakes.sms.operations.called().is_empty());
    assert!(fakes.opt_outs.operations.called().is_empty());
    assert_eq!(logs.metrics().len(), 4, "one metrics document per refused number");
    for metrics in logs.metrics() {
        assert_eq!((&metrics["Refused"], &metrics["reason"]), (&json!(1), &json!("phone_not_allowed")));
    }

    let (abroad, _) = send_text_on_fakes(&[("ALLOWED_COUNTRIES", "US,GB")]);
    let body = edited_body("send-text-pre-call", |body| body["record_phone_number"] = "+44 7400 123456".into());
    assert_eq!(answer(&abroad, event_with_body("send-text-pre-call", &body)).await.0, StatusCode::OK);
}

// ---- the suppression list ----

/// A compliance team's choice, documented: while the list cannot be read, no text goes out (503, and 2X
/// delivers again); the claim is released so the retry can send.
#[tokio::test]
async fn a_suppression_list_that_cannot_be_read_stops_the_text_with_a_503() {
    let logs = LogCapture::default();
    let _guard = logs.install();
    let list = FakeOptOuts::default();
    let (handler, fakes) = send_text_with(list.clone());
    list.operations.fail("is_listed");
    let (status, body) = answer(&handler, event("send-text-pre-call")).await;

    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(body["error"].is_string());
    assert!(fakes.sms.sent().is_empty());
    assert_eq!(fakes.ledger.entry(&id(1234)), None, "released");
    assert_eq!(logs.metrics()[0]["OptOutLookupFailed"], 1);
    assert_eq!(logs.summaries()[0]["outcome"], "dependency_failed");

    list.operations.heal("is_listed");
    assert_eq!(answer(&handler, event("send-text-pre-call")).await.1["status"], "sent", "the retry sends");
}

#[tokio::test]
async fn an_sns_opt_out_still_answers_opted_out_while_the_list_cannot_be_read() {
    let list = FakeOptOuts::default();
    let (handler, fakes) = send_text_with(list.clone());
    list.operations.fail("is_listed");
    fakes.sms.opt_out("+12025550143");
    let (status, body) = answer(&handler, event("send-text-pre-call")).await;
    assert_eq!((status, body["status"].as_str()), (StatusCode::OK, Some("opted_out")));
    assert!(fakes.sms.sent().is_empty());
}

/// With a fallback queue: a text SNS refused is queued under its claim (202 `queued`), and other deliveries of
/// the id answer `queued` and send nothing (the redrive takes the claim over: redrive's tests).
#[tokio::test]
async fn a_text_sns_refused_is_queued_under_its_claim_and_other_deliveries_leave_it_to_the_redrive() {
    let queue = FakeQueue::default();
    let (handler, fakes) = send_text_queueing_to(queue.clone());
    fakes.sms.operations.fail("send");

    let (status, body) = answer(&handler, event("send-text-pre-call")).await;
    assert_eq!((status, body), (StatusCode::ACCEPTED, json!({"status": "queued", "id": 1234})));
    let queued = queue.queued();
    assert_eq!(queued.len(), 1);
    assert_eq!((queued[0].id, queued[0].request_id.as_str()), (Some(WebhookId::new(1234)), "req-send-text-pre-call"));
    let entry = fakes.ledger.entry(&id(1234)).unwrap();
    assert_eq!((entry.status, entry.claimed_by.as_str()), (TextStatus::Queued, "req-send-text-pre-call"));

    fakes.sms.operations.heal("send");
    let again = request_from(&sample("send-text-pre-call"), "req-again");
    assert_eq!(answer(&handler, again).await, (StatusCode::ACCEPTED, json!({"status": "queued", "id": 1234})));
    assert!(fakes.sms.sent().is_empty(), "only the redrive sends a queued text");
    assert_eq!(queue.queued().len(), 1);
}

/// A text SNS throttled (the sending rate reached, after the SDK's retries) is queued under its claim for the
/// redrive's pace, and counted as throttled, not as a failed publish; a text sent records how long it waited.
#[tokio::test]
async fn a_throttled_text_is_queued_and_counted_and_a_sent_text_measures_its_age() {
    let logs = LogCapture::default();
    let _guard = logs.install();
    let queue = FakeQueue::default();
    let (handler, fakes) = send_text_queueing_to(queue.clone());
    fakes.sms.throttle(true);

    let (status, body) = answer(&handler, event("send-text-pre-call")).await;
    assert_eq!((status, body), (StatusCode::ACCEPTED, json!({"status": "queued", "id": 1234})));
    assert_eq!(queue.queued().len(), 1);
    assert_eq!(fakes.ledger.entry(&id(1234)).unwrap().status, TextStatus::Queued);
    let metrics = &logs.metrics()[0];
    assert_eq!((&metrics["SmsThrottled"], metrics.get("SmsPublishFailed")), (&json!(1), None));
    assert!(logs.summaries()[0]["errors"].as_str().unwrap().contains("Throttling"));

    fakes.sms.throttle(false);
    let (status, _) = answer(&handler, event("send-text-post-voicemail")).await;
    assert_eq!(status, StatusCode::OK);
    let sent = &logs.metrics()[1];
    assert!(sent["TextAgeWhenSent"].as_u64().is_some_and(|age| age < 10_000), "{sent}");
    assert!(sent.get("SmsThrottled").is_none());
}

const GUARDED: &[(&str, &str)] = &[("TEXT_HOURS", "08:00-21:00")];

#[tokio::test]
async fn a_text_whose_leads_hours_do_not_open_before_its_maximum_age_is_settled_outside_hours() {
    let (handler, fakes) = send_text_on_fakes(GUARDED);
    let (status, body) =
        answer(&handler, event_with_body("send-text-pre-call", &pre_call_in_dc_at(23 * 60 + 30))).await;
    assert_eq!((status, body), (StatusCode::OK, json!({"status": "outside_hours", "id": 1234})));
    assert!(fakes.sms.sent().is_empty());
    assert_eq!(fakes.ledger.entry(&id(1234)).unwrap().status, TextStatus::OutsideHours, "never sent, by any delivery");

    let again = answer(&handler, event_with_body("send-text-pre-call", &pre_call_in_dc_at(12 * 60))).await;
    assert_eq!(again, (StatusCode::OK, json!({"status": "outside_hours", "id": 1234})), "settled once");
}

#[tokio::test]
async fn a_text_whose_leads_hours_open_before_its_maximum_age_waits_on_the_queue_for_them() {
    let queue = FakeQueue::default();
    let fakes = Fakes { queue: Some(queue.clone()), ..Fakes::default() };
    let handler = send_text_on(&fakes, GUARDED);
    // 7:55: its hours open in 5 minutes, within the pre-call text's 15.
    let (status, body) = answer(&handler, event_with_body("send-text-pre-call", &pre_call_in_dc_at(7 * 60 + 55))).await;
    assert_eq!((status, body), (StatusCode::ACCEPTED, json!({"status": "queued", "id": 1234})));
    assert!(fakes.sms.sent().is_empty());
    assert_eq!(fakes.ledger.entry(&id(1234)), None, "nothing claimed while it waits");
    let queued = queue.queued();
    let not_before = OffsetDateTime::parse(queued[0].not_before.as_deref().unwrap(), &Rfc3339).unwrap();
    let wait = (not_before - OffsetDateTime::now_utc()).whole_seconds();
    assert!((200..=301).contains(&wait), "waits for 8:00, {wait} s away");
}

#[tokio::test]
async fn a_lead_at_noon_is_texted_at_once() {
    let (handler, fakes) = send_text_on_fakes(GUARDED);
    let (status, body) = answer(&handler, event_with_body("send-text-pre-call", &pre_call_in_dc_at(12 * 60))).await;
    assert_eq!((status, body["status"].as_str()), (StatusCode::OK, Some("sent")));
    assert_eq!(fakes.sms.sent().len(), 1);
}

#[tokio::test]
async fn a_text_whose_claim_could_not_be_written_is_queued_without_a_claim() {
    let queue = FakeQueue::default();
    let (handler, fakes) = send_text_queueing_to(queue.clone());
    fakes.ledger.operations.fail("claim");

    let (status, body) = answer(&handler, event("send-text-post-voicemail")).await;
    assert_eq!((status, body), (StatusCode::ACCEPTED, json!({"status": "queued", "id": 1235})));
    assert_eq!(queue.queued().len(), 1);
    assert!(fakes.ledger.is_empty());
    assert!(fakes.sms.sent().is_empty());
}

#[tokio::test]
async fn when_the_queue_refuses_too_a_refused_text_is_503_and_its_claim_released() {
    let queue = FakeQueue::default();
    queue.operations.fail("enqueue");
    let (handler, fakes) = send_text_queueing_to(queue.clone());
    fakes.sms.operations.fail("send");

    assert_eq!(answer(&handler, event("send-text-pre-call")).await.0, StatusCode::SERVICE_UNAVAILABLE);
    assert!(fakes.ledger.entry(&id(1234)).is_none(), "released: 2X's next delivery sends it");
}

/// The list unreadable: not texted now (a listed lead must never be texted), but queued, not lost.
#[tokio::test]
async fn a_text_whose_suppression_list_cannot_be_read_is_queued_not_sent() {
    let queue = FakeQueue::default();
    let (handler, fakes) = send_text_queueing_to(queue.clone());
    fakes.opt_outs.operations.fail("is_listed");

    let (status, body) = answer(&handler, event("send-text-pre-call")).await;
    assert_eq!((status, body), (StatusCode::ACCEPTED, json!({"status": "queued", "id": 1234})));
    assert!(fakes.sms.sent().is_empty());
    assert_eq!(queue.queued().len(), 1);
    assert_eq!(fakes.ledger.entry(&id(1234)).unwrap().status, TextStatus::Queued);
}

/// An id the redrive settled as expired stays unsent, whoever delivers it again.
#[tokio::test]
async fn an_expired_text_answers_expired_and_is_never_sent() {
    let (handler, fakes) = send_text_on_fakes(&[]);
    fakes.ledger.insert(id(1234), LedgerEntry { status: TextStatus::Expired, ..LedgerEntry::unfinished_claim("r", 0) });
    let (status, body) = answer(&handler, event("send-text-pre-call")).await;
    assert_eq!((status, body), (StatusCode::OK, json!({"status": "expired", "id": 1234})));
    assert!(fakes.sms.sent().is_empty());
}
