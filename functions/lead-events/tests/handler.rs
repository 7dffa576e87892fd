//! Every row of lead-events' HTTP contract, on the handler with in-memory tables, list and queue, driven by the
//! sample events.

// Tests: a step that fails should stop the test at once (helpers are outside `#[test]` functions).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use calls::fakes::FakeCallStore;
use calls::record::{CallRecord, CallStore};
use lambda_http::http::{HeaderValue, StatusCode};
use lead_events::handler::{LeadEventsDeps, LeadEventsHandler};
use leads::fakes::FakeLeadEvents;
use serde_json::{Value, json};
use webhook::fakes::{FakeOptOuts, FakeQueue};
use webhook::fallback::QueuedFunction;
use webhook::payload::WebhookId;
use webhook_test_support::LogCapture;
use webhook_test_support::events::{answer, configured, edited_body, event, event_with_body, sample, sample_body};
use webhook_test_support::stored::same_json;

/// lead-events' fakes. A clone shares each one's state: the test keeps its own handles.
type Fakes = LeadEventsDeps<FakeLeadEvents, FakeCallStore, FakeOptOuts, FakeQueue>;
type Handler = LeadEventsHandler<FakeLeadEvents, FakeCallStore, FakeOptOuts, FakeQueue>;

fn lead_events(extra_env: &[(&str, &str)]) -> (Handler, Fakes) {
    let fakes = Fakes { opt_outs: Some(FakeOptOuts::default()), ..Fakes::default() };
    let (config, authenticator) = configured(extra_env);
    (lead_events::handler::build(config, authenticator, fakes.clone()), fakes)
}

fn list(fakes: &Fakes) -> &FakeOptOuts {
    fakes.opt_outs.as_ref().unwrap()
}

/// `name`'s request with its path `path` instead.
fn at_path(name: &str, path: &str) -> lambda_http::Request {
    let mut envelope: Value = serde_json::from_str(&sample(name)).unwrap();
    envelope["rawPath"] = path.into();
    envelope["requestContext"]["http"]["path"] = path.into();
    webhook_test_support::events::request_from(&envelope.to_string(), &format!("req-{name}-{path}"))
}

#[tokio::test]
async fn a_lead_who_replies_unsubscribe_is_listed_first_and_the_reply_kept() {
    let (handler, fakes) = lead_events(&[]);
    let (status, body) = answer(&handler, event("lead-events-text-unsubscribe")).await;
    assert_eq!((status, body), (StatusCode::OK, json!({"status": "opted_out"})));
    let listing = list(&fakes).item("+12025550166").expect("listed under its E.164 number");
    assert_eq!(listing["source"], "text:unsubscribe");
    assert_eq!(listing["workflow_key"], "DEF456", "with the lead's fields");
    assert_eq!(listing.get("message"), None, "the list keeps the lead's fields, not the reply");
    let events = fakes.events.of("+12025550166");
    assert_eq!(events.len(), 1);
    assert_eq!(
        (&events[0]["kind"], &events[0]["opt_out_source"]),
        (&json!("inbound-text"), &json!("text:unsubscribe"))
    );
    let sent = sample_body("lead-events-text-unsubscribe");
    for (field, value) in sent.as_object().unwrap() {
        assert_eq!(&events[0][field], value, "{field} kept as 2X sent it");
    }
}

#[tokio::test]
async fn an_ordinary_reply_is_stored_once_and_lists_nothing() {
    let (handler, fakes) = lead_events(&[]);
    let (status, body) = answer(&handler, event("lead-events-text-question")).await;
    assert_eq!((status, body), (StatusCode::OK, json!({"status": "stored"})));
    let (status, body) = answer(&handler, event("lead-events-text-question")).await;
    assert_eq!((status, body), (StatusCode::OK, json!({"status": "duplicate"})), "the same body again");
    assert!(list(&fakes).is_empty());
    assert_eq!(fakes.events.of("+12025550143").len(), 1, "stored once");
    let reordered: serde_json::Map<String, Value> =
        sample_body("lead-events-text-question").as_object().unwrap().clone().into_iter().rev().collect();
    let request = event_with_body("lead-events-text-question", &Value::Object(reordered).to_string());
    assert_eq!(answer(&handler, request).await.1, json!({"status": "duplicate"}), "in any key order");
}

#[tokio::test]
async fn stop_by_at_5_is_a_question_and_opt_out_please_is_not() {
    let (handler, fakes) = lead_events(&[]);
    for (message, status) in
        [("Stop by at 5?", "stored"), ("What time will you call?", "stored"), ("opt-out please", "opted_out")]
    {
        let body = edited_body("lead-events-text-question", |body| body["message"] = message.into());
        let (_, answer) = answer(&handler, event_with_body("lead-events-text-question", &body)).await;
        assert_eq!(answer["status"], status, "{message}");
    }
    assert_eq!(list(&fakes).item("+12025550143").unwrap()["source"], "text:optout");
}

#[tokio::test]
async fn a_classification_listed_as_suppressing_lists_the_number_and_another_does_not() {
    let (handler, fakes) = lead_events(&[]);
    let (_, body) = answer(&handler, event("lead-events-text-classification-pricing")).await;
    assert_eq!(body, json!({"status": "stored"}));
    let (_, body) = answer(&handler, event("lead-events-text-classification-opt-out")).await;
    assert_eq!(body, json!({"status": "opted_out"}));
    assert_eq!(list(&fakes).item("+12025550183").unwrap()["source"], "text-classification:opt_out");
    assert_eq!(list(&fakes).len(), 1);

    let (handler, fakes) = lead_events(&[("SUPPRESS_TEXTS_ON_CLASSIFICATIONS", "pricing")]);
    let (_, body) = answer(&handler, event("lead-events-text-classification-opt-out")).await;
    assert_eq!(body, json!({"status": "stored"}), "only the configured classes");
    assert_eq!(answer(&handler, event("lead-events-text-classification-pricing")).await.1["status"], "opted_out");
    assert_eq!(list(&fakes).item("+12025550143").unwrap()["source"], "text-classification:pricing");
}

#[tokio::test]
async fn every_route_answers_with_and_without_its_trailing_slash_and_text_reply_is_text_response() {
    let (handler, fakes) = lead_events(&[]);
    for (name, path, kind) in [
        ("lead-events-text-question", "/text/", "inbound-text"),
        ("lead-events-text-classification-pricing", "/text-classification/", "text-classification"),
        ("lead-events-text-response", "/text-response/", "text-response"),
        ("lead-events-text-reply", "/text-reply/", "text-response"),
        ("lead-events-inbound-call", "/inbound-call/", "inbound-call"),
    ] {
        let (status, body) = answer(&handler, event(name)).await;
        assert_eq!((status, &body["status"]), (StatusCode::OK, &json!("stored")), "{name}");
        let (status, body) = answer(&handler, at_path(name, path)).await;
        assert_eq!((status, &body["status"]), (StatusCode::OK, &json!("duplicate")), "{name} at {path}");
        assert!(fakes.events.of("+12025550143").iter().any(|stored| stored["kind"] == kind), "{name}");
    }
    let (status, body) = answer(&handler, at_path("lead-events-transfer-type-qualified", "/transfer-type/")).await;
    assert_eq!((status, body), (StatusCode::OK, json!({"status": "stored", "id": 123})));
    let (status, body) = answer(&handler, at_path("lead-events-text-question", "/text-optout")).await;
    assert_eq!((status.as_u16(), body), (404, json!({"error": "no webhook is served at this path"})));
}

#[tokio::test]
async fn an_inbound_call_is_kept_by_the_callers_number_with_its_id() {
    let (handler, fakes) = lead_events(&[]);
    let (status, body) = answer(&handler, event("lead-events-inbound-call")).await;
    assert_eq!((status, body), (StatusCode::OK, json!({"status": "stored", "id": 7001})));
    let (_, body) = answer(&handler, event("lead-events-inbound-call-unmatched")).await;
    assert_eq!(body, json!({"status": "stored", "id": 7002}), "a caller no record matched");
    let stored = &fakes.events.of("+12025550143")[0];
    assert_eq!((&stored["id"], &stored["call"]["end_reason"]), (&json!(7001), &json!("call_transferred")));
    assert!(list(&fakes).is_empty());
}

/// The transfer lands on its call whichever arrives first, and the call ends the same.
#[tokio::test]
async fn a_transfer_before_or_after_its_post_call_gives_the_same_record() {
    let call = sample_body("post-call-transferred");
    let mut fields = call.as_object().unwrap().clone();
    fields.remove("id");
    let at = time::OffsetDateTime::UNIX_EPOCH;
    let record = || CallRecord::new(WebhookId::new(123), fields.clone(), None, at, None).into_item().unwrap();
    let mut finals = Vec::new();
    for transfer_first in [false, true] {
        let (handler, fakes) = lead_events(&[]);
        if transfer_first {
            answer(&handler, event("lead-events-transfer-type-qualified")).await;
        }
        fakes.transfers.store(record()).await.unwrap();
        if !transfer_first {
            answer(&handler, event("lead-events-transfer-type-qualified")).await;
        }
        let mut item = fakes.transfers.item(WebhookId::new(123)).unwrap();
        assert_eq!(item["transfer_type"], "qualified", "transfer first: {transfer_first}");
        assert_eq!(
            item["transfer"],
            json!({"transfer_type": "qualified", "duration": 70, "call_direction": "outbound"})
        );
        assert_eq!(item["call"], call["call"], "the call's own fields");
        item.as_object_mut().unwrap().remove("transfer_received_at");
        finals.push(item);
    }
    assert_eq!(finals[0], finals[1]);
}

#[tokio::test]
async fn odd_types_are_kept_as_sent() {
    let (handler, fakes) = lead_events(&[]);
    let (status, body) = answer(&handler, event("lead-events-text-odd-types")).await;
    assert_eq!(
        (status, body),
        (StatusCode::OK, json!({"status": "stored"})),
        "a message that is a number says nothing"
    );
    let stored = &fakes.events.of("+12025550144")[0];
    let sent = sample_body("lead-events-text-odd-types");
    for (field, value) in sent.as_object().unwrap() {
        assert!(same_json(value, &stored[field]), "{field} kept as 2X sent it: {}", stored[field]);
    }
    let (status, body) = answer(&handler, event("lead-events-transfer-type-odd-types")).await;
    assert_eq!((status, body), (StatusCode::OK, json!({"status": "stored", "id": 9001})), "an id as a string");
    let item = fakes.transfers.item(WebhookId::new(9001)).unwrap();
    assert_eq!((&item["transfer"]["duration"], item.get("received_at")), (&json!("12"), None), "no call yet");
}

#[tokio::test]
async fn what_cannot_be_kept_is_refused_naming_the_field() {
    let (handler, fakes) = lead_events(&[]);
    let without = edited_body("lead-events-text-question", |body| {
        body.as_object_mut().unwrap().remove("record_phone_number");
    });
    let (status, body) = answer(&handler, event_with_body("lead-events-text-question", &without)).await;
    assert_eq!((status, body["field"].as_str()), (StatusCode::BAD_REQUEST, Some("record_phone_number")));
    let invalid = edited_body("lead-events-text-question", |body| body["record_phone_number"] = "12".into());
    let (status, body) = answer(&handler, event_with_body("lead-events-text-question", &invalid)).await;
    assert_eq!((status, body["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("record_phone_number")));
    let no_id = edited_body("lead-events-transfer-type-qualified", |body| body["id"] = "x".into());
    let (status, body) = answer(&handler, event_with_body("lead-events-transfer-type-qualified", &no_id)).await;
    assert_eq!((status, body["field"].as_str()), (StatusCode::BAD_REQUEST, Some("id")));
    let (status, _) = answer(&handler, event_with_body("lead-events-text-question", "{\"message\": ")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(fakes.events.is_empty() && fakes.transfers.is_empty() && list(&fakes).is_empty());
}

#[tokio::test]
async fn a_wrong_token_is_401_and_reaches_nothing() {
    let (handler, fakes) = lead_events(&[]);
    let mut request = event("lead-events-text-unsubscribe");
    request.headers_mut().insert("authorization", HeaderValue::from_static("not-the-token"));
    assert_eq!(answer(&handler, request).await.0, StatusCode::UNAUTHORIZED);
    assert!(fakes.events.operations.called().is_empty() && list(&fakes).operations.called().is_empty());
}

/// Nothing is lost: a failed write is queued as received, with its route, and 503 only if the queue refuses too.
#[tokio::test]
async fn a_failed_write_is_queued_with_its_route() {
    for (name, operation, failing) in [
        ("lead-events-text-unsubscribe", "add", "list"),
        ("lead-events-text-question", "store_event", "events"),
        ("lead-events-transfer-type-qualified", "set_transfer", "transfers"),
    ] {
        let (handler, fakes) = lead_events(&[]);
        match failing {
            "list" => list(&fakes).operations.fail(operation),
            "events" => fakes.events.operations.fail(operation),
            _ => fakes.transfers.operations.fail(operation),
        }
        let (status, body) = answer(&handler, event(name)).await;
        assert_eq!((status, &body["status"]), (StatusCode::ACCEPTED, &json!("queued")), "{name}");
        let queued = fakes.queue.queued();
        assert_eq!((queued.len(), queued[0].function), (1, QueuedFunction::LeadEvents));
        let path = serde_json::from_str::<Value>(&sample(name)).unwrap()["rawPath"].as_str().unwrap().to_owned();
        assert_eq!(format!("/{}", queued[0].route), path);
        let received: Value = serde_json::from_str(&sample(name)).unwrap();
        assert_eq!(queued[0].body.decode().unwrap(), received["body"].as_str().unwrap().as_bytes(), "as received");
        fakes.queue.operations.fail("enqueue");
        assert_eq!(answer(&handler, event(name)).await.0, StatusCode::SERVICE_UNAVAILABLE, "{name}");
    }
}

#[tokio::test]
async fn nothing_a_lead_wrote_nor_their_number_is_logged() {
    let capture = LogCapture::default();
    let _guard = capture.install();
    let (handler, _) = lead_events(&[]);
    for name in ["lead-events-text-unsubscribe", "lead-events-text-response", "lead-events-inbound-call"] {
        answer(&handler, event(name)).await;
    }
    let logs = capture.text();
    for secret in ["Unsubscribe", "Plans start at", "How much is it", "2025550166", "2025550143", "local-dev-token"] {
        assert!(!logs.contains(secret), "{secret} logged:\n{logs}");
    }
    let summaries = capture.summaries();
    assert_eq!((&summaries[0]["kind"], &summaries[0]["phone_last4"]), (&json!("text"), &json!("0166")));
    assert_eq!(capture.metrics()[0]["OptOutListed"], 1, "the listing counted");
}
