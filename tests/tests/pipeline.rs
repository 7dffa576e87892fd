//! The shared request pipeline through both real handlers (on in-memory fakes): one JSON summary line and one
//! EMF metrics line per request, never a secret in either, every outcome counted under its metric name.

// Tests: a step that fails should stop the test at once (helpers are outside `#[test]` functions).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::json;
use time::OffsetDateTime;
use webhook::payload::WebhookId;
use webhook_test_support::LogCapture;
use webhook_test_support::events::{TOKEN, answer, event};
use webhook_test_support::post_call::post_call_on_fakes;
use webhook_test_support::send_text::{LedgerEntry, pre_call, send_text_on_fakes};

fn id(value: u64) -> WebhookId {
    WebhookId::new(value)
}

#[tokio::test]
async fn each_request_logs_one_json_summary_line_without_secrets() {
    let logs = LogCapture::default();
    let _guard = logs.install();
    let texts = send_text_on_fakes(&[]);
    let calls = post_call_on_fakes(&[]);
    texts.sms().operations.fail("send");
    answer(&texts, event("send-text-pre-call")).await;
    texts.sms().operations.heal("send");
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
    let texts = send_text_on_fakes(&[("METRICS_NAMESPACE", "Acme/2X")]);
    let calls = post_call_on_fakes(&[("METRICS_NAMESPACE", "Acme/2X")]);

    answer(&texts, event("send-text-post-voicemail")).await; // Sent (UCS-2: it ends with an emoji)
    answer(&texts, event("send-text-post-voicemail")).await; // Duplicate
    answer(&texts, event("send-text-bad-token")).await; // Unauthorized
    answer(&texts, event("send-text-missing-phone")).await; // Invalid (400)
    answer(&texts, event("send-text-invalid-phone")).await; // Invalid (422)
    texts.sms().operations.fail("send");
    answer(&texts, event("send-text-pre-call")).await; // DependencyFailed + SmsPublishFailed
    let in_a_minute = OffsetDateTime::now_utc().unix_timestamp() + 60;
    texts.ledger().insert(pre_call(1234), LedgerEntry::unfinished_claim("another-delivery", in_a_minute));
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
    assert_eq!(metrics[7]["StoredItemBytes"], calls.calls().item_bytes(id(123)).unwrap());
    assert_eq!(metrics[8].get("StoredItemBytes"), None);
}
