//! The shared request pipeline through the real handlers (on one set of in-memory fakes): one JSON summary line
//! and one EMF metrics line per request, never a secret in either, every outcome counted under its metric name;
//! what one webhook writes, the next one reads.

// Tests: a step that fails should stop the test at once (helpers are outside `#[test]` functions).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use integration_tests::fakes::Fakes;
use lambda_http::http::StatusCode;
use serde_json::json;
use sms_delivery_status::fakes::delivery_status_on;
use texts::fakes::{LedgerEntry, pre_call, text_key};
use texts::text::TextType;
use time::OffsetDateTime;
use webhook::payload::WebhookId;
use webhook_test_support::LogCapture;
use webhook_test_support::delivery_logs::{delivery_line, log_data, log_group};
use webhook_test_support::events::{TOKEN, answer, event};
use webhook_test_support::whole_invocation;

fn id(value: u64) -> WebhookId {
    WebhookId::new(value)
}

#[tokio::test]
async fn each_request_logs_one_json_summary_line_without_secrets() {
    let logs = LogCapture::default();
    let _guard = logs.install();
    let fakes = Fakes::default();
    let (texts, calls) = (fakes.send_text(&[]), fakes.post_call(&[]));
    fakes.sms.operations.fail("send");
    answer(&texts, event("send-text-pre-call")).await;
    fakes.sms.operations.heal("send");
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

#[tokio::test]
async fn every_outcome_writes_one_emf_metrics_line() {
    let logs = LogCapture::default();
    let _guard = logs.install();
    let fakes = Fakes::default();
    let (texts, calls) =
        (fakes.send_text(&[("METRICS_NAMESPACE", "Acme/2X")]), fakes.post_call(&[("METRICS_NAMESPACE", "Acme/2X")]));

    answer(&texts, event("send-text-post-voicemail")).await; // Sent (UCS-2: it ends with an emoji)
    answer(&texts, event("send-text-post-voicemail")).await; // Duplicate
    answer(&texts, event("send-text-bad-token")).await; // Unauthorized
    answer(&texts, event("send-text-missing-phone")).await; // Invalid (400)
    answer(&texts, event("send-text-invalid-phone")).await; // Invalid (422)
    fakes.sms.operations.fail("send");
    answer(&texts, event("send-text-pre-call")).await; // DependencyFailed + SmsPublishFailed
    let in_a_minute = OffsetDateTime::now_utc().unix_timestamp() + 60;
    fakes.ledger.insert(pre_call(1234), LedgerEntry::unfinished_claim("another-delivery", in_a_minute));
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
    assert_eq!(metrics[7]["StoredItemBytes"], fakes.calls.item_bytes(id(123)).unwrap());
    assert_eq!(metrics[8].get("StoredItemBytes"), None);
}

/// A STOP text-optout lists is honoured by send-text: nothing sent, the id left free.
#[tokio::test]
async fn a_number_on_the_suppression_list_is_not_texted_and_its_id_stays_free() {
    let fakes = Fakes::default();
    let (opt_out, handler) = (fakes.text_optout(&[]), fakes.send_text(&[]));
    assert_eq!(answer(&opt_out, event("text-optout-10-digit")).await.0, StatusCode::OK);

    let (status, body) = answer(&handler, event("send-text-opted-out")).await;
    assert_eq!((status, body), (StatusCode::OK, json!({"status": "opted_out", "id": 1236})));
    assert!(fakes.sms.sent().is_empty());
    assert_eq!(fakes.ledger.entry(&pre_call(1236)), None, "the claim was released: the id stays free");
    assert_eq!(fakes.ledger.operations.called(), ["claim", "release"]);
    assert_eq!(fakes.opt_outs.operations.called().iter().filter(|op| **op == "is_listed").count(), 1);

    // Another lead's text goes out as usual.
    assert_eq!(answer(&handler, event("send-text-pre-call")).await.1["status"], "sent");
}

/// The whole path on fakes: send-text sends the two sample texts, SNS reports one delivered and one failed.
#[tokio::test]
async fn texts_sent_by_send_text_get_the_status_sns_reports_for_them() {
    let fakes = Fakes::default();
    let send_text = fakes.send_text(&[]);
    for name in ["send-text-pre-call", "send-text-post-voicemail"] {
        assert_eq!(answer(&send_text, event(name)).await.0, 200, "{name}");
    }
    let sent = fakes.sms.sent();
    let lines: Vec<String> = sent
        .iter()
        .enumerate()
        .map(|(index, sms)| delivery_line(&sms.message_id, index == 0, "2026-11-24 09:00:05.120", &sms.to))
        .collect();
    let handler = delivery_status_on(&fakes.ledger);

    let recorded = handler.handle(&log_data(&log_group(false), &lines), "req-1", whole_invocation()).await.unwrap();
    assert_eq!((recorded.applied, recorded.unmatched, recorded.failed), (2, 0, 0));
    let status = |key| fakes.ledger.entry(&key).unwrap().item["delivery_status"].clone();
    assert_eq!(status(pre_call(1234)), "SUCCESS");
    assert_eq!(status(text_key(1235, TextType::PostVoicemail)), "FAILURE");
}
