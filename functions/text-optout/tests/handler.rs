//! Every row of text-optout's HTTP contract, on the handler with an in-memory suppression list, driven by the
//! sample events.

// Tests: a step that fails should stop the test at once (helpers are outside `#[test]` functions).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use lambda_http::http::{HeaderValue, StatusCode};
use serde_json::json;
use text_optout::handler::{TextOptOutDeps, TextOptOutHandler};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use webhook::fakes::{FakeOptOuts, FakeQueue};
use webhook::fallback::QueuedFunction;
use webhook::item::SHADOWED_FIELDS;
use webhook::opt_out::OptOutRecord;
use webhook_test_support::LogCapture;
use webhook_test_support::events::{
    answer, body_carrying, configured, edited_body, event, event_with_body, sample, sample_body,
};
use webhook_test_support::stored::same_json;

/// text-optout's fakes. A clone shares each one's state: the test keeps its own handles.
type Fakes = TextOptOutDeps<FakeOptOuts, FakeQueue>;

/// text-optout on fresh fakes listing to `list`, configured by the sample events' environment and `extra_env`.
fn text_optout_with(
    list: &FakeOptOuts,
    extra_env: &[(&str, &str)],
) -> (TextOptOutHandler<FakeOptOuts, FakeQueue>, Fakes) {
    let fakes = Fakes { opt_outs: list.clone(), queue: FakeQueue::default() };
    let (config, authenticator) = configured(extra_env);
    (text_optout::handler::build(config, authenticator, fakes.clone()), fakes)
}

#[tokio::test]
async fn a_lead_who_replied_stop_is_listed_with_what_2x_sent() {
    let list = FakeOptOuts::default();
    let (handler, _) = text_optout_with(&list, &[]);
    let (status, body) = answer(&handler, event("text-optout-10-digit")).await;

    assert_eq!((status, body), (StatusCode::OK, json!({"status": "opted_out"})));
    let item = list.item("+12025550177").expect("listed under its E.164 number");
    assert_eq!(item["source"], "text-optout");
    assert!(OffsetDateTime::parse(item["opted_out_at"].as_str().unwrap(), &Rfc3339).is_ok());
    let sent = sample_body("text-optout-10-digit");
    for field in ["record_phone_number", "agent_key", "record_first_name", "meta", "workflow_key", "workflow_end"] {
        assert_eq!(item[field], sent[field], "{field} kept as 2X sent it");
    }
    assert_eq!(item.get("call_id"), None);
}

#[tokio::test]
async fn the_same_lead_again_in_either_form_keeps_the_first_record() {
    let list = FakeOptOuts::default();
    let (handler, _) = text_optout_with(&list, &[]);
    answer(&handler, event("text-optout-10-digit")).await;
    let first = list.item("+12025550177").unwrap();
    let (status, body) = answer(&handler, event("text-optout-plus-1")).await;

    assert_eq!((status, body), (StatusCode::OK, json!({"status": "opted_out"})), "a repeat is still 200");
    assert_eq!(list.len(), 1);
    assert_eq!(list.item("+12025550177").unwrap(), first, "the first record is kept");
}

#[tokio::test]
async fn a_missing_phone_is_400_and_an_unusable_one_422_naming_the_field() {
    let list = FakeOptOuts::default();
    let (handler, _) = text_optout_with(&list, &[]);
    let without = edited_body("text-optout-10-digit", |body| {
        body.as_object_mut().unwrap().remove("record_phone_number");
    });
    let (status, body) = answer(&handler, event_with_body("text-optout-10-digit", &without)).await;
    assert_eq!((status, body["field"].as_str()), (StatusCode::BAD_REQUEST, Some("record_phone_number")));

    for unusable in ["7897897899", "+1...", "12"] {
        let edited = edited_body("text-optout-10-digit", |body| body["record_phone_number"] = unusable.into());
        let (status, body) = answer(&handler, event_with_body("text-optout-10-digit", &edited)).await;
        assert_eq!((status, body["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("record_phone_number")));
    }
    assert!(list.is_empty() && list.operations.called().is_empty());
}

#[tokio::test]
async fn a_wrong_token_is_401_and_reaches_nothing() {
    let list = FakeOptOuts::default();
    let (handler, fakes) = text_optout_with(&list, &[]);
    let mut request = event("text-optout-10-digit");
    request.headers_mut().insert("authorization", HeaderValue::from_static("not-the-token"));
    assert_eq!(answer(&handler, request).await.0, StatusCode::UNAUTHORIZED);
    assert!(list.operations.called().is_empty(), "nothing of it reaches the list");
    assert!(fakes.queue.queued().is_empty());
}

#[tokio::test]
async fn a_failed_list_write_is_queued_as_received_and_503_only_if_the_queue_refuses_too() {
    let list = FakeOptOuts::default();
    let (handler, fakes) = text_optout_with(&list, &[]);
    list.operations.fail("add");
    let (status, body) = answer(&handler, event("text-optout-10-digit")).await;
    assert_eq!((status, body), (StatusCode::ACCEPTED, json!({"status": "queued"})));
    let queued = fakes.queue.queued();
    assert_eq!((queued.len(), queued[0].function), (1, QueuedFunction::TextOptOut));
    let received = serde_json::from_str::<serde_json::Value>(&sample("text-optout-10-digit")).unwrap();
    assert_eq!(queued[0].body.decode().unwrap(), received["body"].as_str().unwrap().as_bytes());

    fakes.queue.operations.fail("enqueue");
    let (status, body) = answer(&handler, event("text-optout-10-digit")).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(body["error"].is_string());
    list.operations.heal("add");
    assert_eq!(answer(&handler, event("text-optout-10-digit")).await.0, StatusCode::OK, "2X's retry lists it");
}

/// What real senders send: PHP's empty map, numbers for strings and strings for numbers, the phone's digits as a
/// number, a lone surrogate. The number is listed and every field kept as sent.
#[tokio::test]
async fn an_opt_out_whose_fields_have_other_types_is_listed_with_them_as_sent() {
    let list = FakeOptOuts::default();
    let (handler, _) = text_optout_with(&list, &[]);
    let (status, body) = answer(&handler, event("text-optout-odd-types")).await;
    assert_eq!((status, body), (StatusCode::OK, json!({"status": "opted_out"})));
    let sent = sample_body("text-optout-odd-types");
    let item = list.item("+12025550179").expect("listed from the digits sent as a number");
    for (field, value) in sent.as_object().unwrap() {
        assert!(same_json(value, &item[field]), "{field} kept as sent: {}", item[field]);
    }
    assert_eq!(
        (&item["meta"], &item["workflow_day"], &item["record_zip_code"]),
        (&json!([]), &json!("1"), &json!(98765))
    );

    let lone = r#"{"record_phone_number": "2025550178", "record_first_name": "Jo\ud83d", "meta": []}"#;
    let (status, _) = answer(&handler, event_with_body("text-optout-10-digit", lone)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list.item("+12025550178").unwrap()["record_first_name"], "Jo\u{FFFD}");
}

#[tokio::test]
async fn a_refused_opt_out_is_counted_by_reason() {
    let logs = LogCapture::default();
    let _guard = logs.install();
    let (handler, _) = text_optout_with(&FakeOptOuts::default(), &[]);
    let edited = edited_body("text-optout-10-digit", |body| body["record_phone_number"] = json!(["2025550177"]));
    assert_eq!(answer(&handler, event_with_body("text-optout-10-digit", &edited)).await.0, StatusCode::BAD_REQUEST);
    let metrics = &logs.metrics()[0];
    assert_eq!((&metrics["Refused"], &metrics["reason"]), (&json!(1), &json!("required_field")));
    assert_eq!(logs.summaries()[0]["refused"], "required_field");
}

#[tokio::test]
async fn a_senders_fields_named_like_ours_are_kept_aside() {
    let list = FakeOptOuts::default();
    let (handler, _) = text_optout_with(&list, &[]);
    let body = body_carrying("text-optout-10-digit", OptOutRecord::ATTRIBUTES);
    let (status, _) = answer(&handler, event_with_body("text-optout-10-digit", &body.to_string())).await;
    assert_eq!(status, StatusCode::OK);
    let item = list.item("+12025550177").expect("listed under the number it sent, not its `phone` field");
    assert_eq!(item["source"], "text-optout");
    for name in OptOutRecord::ATTRIBUTES {
        assert_eq!(item[SHADOWED_FIELDS][*name], body[*name], "the sender's {name} is kept");
    }
}

#[tokio::test]
async fn each_request_logs_one_summary_without_the_number() {
    let logs = LogCapture::default();
    let _guard = logs.install();
    let (handler, _) = text_optout_with(&FakeOptOuts::default(), &[]);
    answer(&handler, event("text-optout-10-digit")).await;
    let summaries = logs.summaries();
    assert_eq!(summaries.len(), 1);
    assert_eq!(
        (&summaries[0]["function"], &summaries[0]["outcome"], &summaries[0]["phone_last4"]),
        (&json!("text-optout"), &json!("opted_out"), &json!("0177"))
    );
    assert_eq!(logs.metrics()[0]["OptedOut"], 1);
    assert!(!logs.text().contains("2025550177"), "{}", logs.text());
}
