//! sms-delivery-status on the in-memory sent-texts table, driven by the sample subscription events: what each
//! kind of line does to the table, the metrics and the log, and the rules for repeated and late records.

// Tests: a step that fails should stop the test at once (helpers are outside `#[test]` functions).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use aws_lambda_events::cloudwatch_logs::LogData;
use serde_json::{Value, json};
use sms_delivery_status::fakes::delivery_status_on;
use sms_delivery_status::handler::{BatchSummary, RECORD_WORST_CASE};
use std::time::Duration;
use texts::fakes::{FakeLedger, text_key};
use texts::ledger::TextKey;
use texts::text::TextType;
use webhook::budget::{Deadline, MARGIN};
use webhook_test_support::delivery_logs::{
    decode, delivery_line, log_data, log_data_json, log_group, subscription_event,
};
use webhook_test_support::events::sample;
use webhook_test_support::{LogCapture, assert_valid_emf, whole_invocation};

fn pre_call() -> TextKey {
    text_key(1234, TextType::PreCall)
}

fn post_voicemail() -> TextKey {
    text_key(1235, TextType::PostVoicemail)
}

/// The sent-texts table after send-text sent the two sample texts, with the message ids the sample delivery
/// records name.
fn ledger_with_sample_texts() -> FakeLedger {
    let ledger = FakeLedger::default();
    ledger.insert_sent(pre_call(), "0b6c5f2e-3f7a-5d1e-9c4b-7e2d4c901234");
    ledger.insert_sent(post_voicemail(), "0b6c5f2e-3f7a-5d1e-9c4b-7e2d4c901235");
    ledger
}

fn item(ledger: &FakeLedger, key: TextKey) -> Value {
    ledger.entry(&key).unwrap().item
}

fn summary(applied: usize, already_current: usize, unmatched: usize, unreadable: usize) -> BatchSummary {
    BatchSummary { applied, already_current, unmatched, unreadable, failed: 0 }
}

#[tokio::test]
async fn a_delivered_text_carries_its_status_provider_response_price_and_time() {
    let ledger = ledger_with_sample_texts();
    let handler = delivery_status_on(&ledger);
    let outcome = handler.handle(&decode(&sample("sms-delivery-status-success")), "req-1", whole_invocation()).await;

    assert_eq!(outcome, Ok(summary(1, 0, 0, 0)));
    let item = item(&ledger, pre_call());
    assert_eq!(item["delivery_status"], "SUCCESS");
    assert_eq!(item["delivery_provider_response"], "Message has been accepted by phone carrier");
    assert_eq!(item["delivery_price_usd"], json!(0.00645));
    assert_eq!(item["delivery_reported_at"], "2026-11-24T09:00:05.120Z");
    assert_eq!(ledger.entry(&post_voicemail()).unwrap().item, json!({}), "the other text is untouched");
}

/// SNS's parts are kept beside ours; a difference is counted (a bug in our counting, or a carrier's surprise).
#[tokio::test]
async fn the_parts_sns_billed_are_reconciled_with_the_parts_we_counted() {
    for (counted, mismatch) in [(Some(1), None), (Some(2), Some(1)), (None, None)] {
        let ledger = ledger_with_sample_texts();
        if let Some(counted) = counted {
            ledger.update_item(&pre_call(), |item| {
                item["sms_parts"] = counted.into();
                true
            });
        }
        let capture = LogCapture::default();
        let _guard = capture.install();
        let handler = delivery_status_on(&ledger);
        let outcome =
            handler.handle(&decode(&sample("sms-delivery-status-success")), "req-1", whole_invocation()).await;

        assert_eq!(outcome, Ok(summary(1, 0, 0, 0)));
        assert_eq!(item(&ledger, pre_call())["delivery_parts"], 1, "the sample record says 1 part");
        let document = &capture.metrics()[0];
        assert_valid_emf(document);
        assert_eq!(document["SmsPartsMismatch"].as_u64(), mismatch, "{counted:?}");
        assert_eq!((document["delivery_parts"].as_u64(), document["sms_parts"].as_u64()), (Some(1), counted));
    }
}

#[tokio::test]
async fn a_carrier_failure_is_recorded_with_the_carriers_words() {
    let ledger = ledger_with_sample_texts();
    let handler = delivery_status_on(&ledger);
    let outcome =
        handler.handle(&decode(&sample("sms-delivery-status-carrier-failure")), "req-1", whole_invocation()).await;

    assert_eq!(outcome, Ok(summary(1, 0, 0, 0)));
    let item = item(&ledger, post_voicemail());
    assert_eq!(item["delivery_status"], "FAILURE");
    assert_eq!(item["delivery_provider_response"], "Unknown error attempting to reach phone");
}

#[tokio::test]
async fn a_record_of_another_sender_and_a_line_that_is_no_record_are_counted_and_skipped() {
    let ledger = ledger_with_sample_texts();
    let handler = delivery_status_on(&ledger);
    let capture = LogCapture::default();
    let _guard = capture.install();

    let unknown =
        handler.handle(&decode(&sample("sms-delivery-status-unknown-message")), "req-1", whole_invocation()).await;
    let not_a_record =
        handler.handle(&decode(&sample("sms-delivery-status-not-a-record")), "req-2", whole_invocation()).await;

    assert_eq!((unknown, not_a_record), (Ok(summary(0, 0, 1, 0)), Ok(summary(0, 0, 0, 1))));
    assert_eq!(ledger.operations.called(), ["record_delivery"], "a line that is no record reaches no table");
    assert_eq!((item(&ledger, pre_call()), item(&ledger, post_voicemail())), (json!({}), json!({})));
    let metrics = capture.metrics();
    assert_eq!((metrics[0]["DeliveryUnmatched"].as_u64(), metrics[0]["phone_last4"].as_str()), (Some(1), Some("0111")));
    assert_eq!(metrics[1]["DeliveryUnreadable"], 1);
    assert_eq!(metrics[1]["reason"], "missing field `notification` in `.`");
    assert!(metrics[1]["log_event_id"].is_string());
    metrics.iter().for_each(assert_valid_emf);
}

#[tokio::test]
async fn each_applied_record_counts_once_by_sms_type_with_its_price() {
    let ledger = ledger_with_sample_texts();
    let handler = delivery_status_on(&ledger);
    let capture = LogCapture::default();
    let _guard = capture.install();
    for name in ["sms-delivery-status-success", "sms-delivery-status-carrier-failure", "sms-delivery-status-success"] {
        handler.handle(&decode(&sample(name)), "req-1", whole_invocation()).await.unwrap();
    }

    let metrics = capture.metrics();
    assert_eq!(metrics.len(), 2, "the repeated success is not counted again: {metrics:?}");
    metrics.iter().for_each(assert_valid_emf);
    let (delivered, failed) = (&metrics[0], &metrics[1]);
    assert_eq!((delivered["Delivered"].as_u64(), delivered["outcome"].as_str()), (Some(1), Some("delivered")));
    assert_eq!((failed["DeliveryFailed"].as_u64(), failed["outcome"].as_str()), (Some(1), Some("delivery_failed")));
    for document in [delivered, failed] {
        assert_eq!(document["DeliveryPriceUSD"], json!(0.00645));
        assert_eq!(document["sms_type"], "Transactional");
        assert_eq!(document["function"], "sms-delivery-status");
        let directives = &document["_aws"]["CloudWatchMetrics"];
        let directive = &directives[0];
        assert_eq!(directive["Dimensions"], json!([["function"], ["function", "sms_type"]]));
        // The price by text type too: what each kind of text costs.
        assert_eq!(directives[1]["Dimensions"], json!([["function", "text_type"]]));
        assert_eq!(directives[1]["Metrics"], json!([{"Name": "DeliveryPriceUSD", "Unit": "None"}]));
        assert_eq!(directive["Namespace"], "TwoXWebhooks");
    }
    assert_eq!((delivered["id"].as_u64(), failed["id"].as_u64()), (Some(1234), Some(1235)));
    assert_eq!((&delivered["text_type"], &failed["text_type"]), (&json!("pre-call"), &json!("post-voicemail")));
    assert_eq!(failed["provider_response"], "Unknown error attempting to reach phone");
    let summaries: Vec<Value> =
        capture.lines().into_iter().filter(|line| line["message"] == "delivery records processed").collect();
    assert_eq!(summaries.len(), 3);
    assert_eq!((summaries[2]["already_current"].as_u64(), summaries[2]["records"].as_u64()), (Some(1), Some(1)));
    let text = capture.text();
    for number in ["+12025550143", "2025550143", "+12025550187"] {
        assert!(!text.contains(number), "{number} logged whole");
    }
}

#[tokio::test]
async fn a_record_applied_again_or_an_older_one_late_changes_nothing_and_a_newer_one_wins() {
    let ledger = ledger_with_sample_texts();
    let handler = delivery_status_on(&ledger);
    let message_id = "0b6c5f2e-3f7a-5d1e-9c4b-7e2d4c901234";
    let at = |timestamp: &str, success: bool| {
        log_data(&log_group(!success), &[delivery_line(message_id, success, timestamp, "+12025550143")])
    };

    let first = handler.handle(&at("2026-11-24 09:00:05.120", false), "req-1", whole_invocation()).await;
    let after_first = item(&ledger, pre_call());
    let again = handler.handle(&at("2026-11-24 09:00:05.120", false), "req-2", whole_invocation()).await;
    let older = handler.handle(&at("2026-11-24 09:00:05.119", true), "req-3", whole_invocation()).await;
    assert_eq!((first, again, older), (Ok(summary(1, 0, 0, 0)), Ok(summary(0, 1, 0, 0)), Ok(summary(0, 1, 0, 0))));
    assert_eq!(item(&ledger, pre_call()), after_first);

    let newer = handler.handle(&at("2026-11-24 09:00:05.121", true), "req-4", whole_invocation()).await;
    assert_eq!(newer, Ok(summary(1, 0, 0, 0)));
    let item = item(&ledger, pre_call());
    assert_eq!(
        (item["delivery_status"].as_str(), item["delivery_reported_at"].as_str()),
        (Some("SUCCESS"), Some("2026-11-24T09:00:05.121Z"))
    );
}

/// A batch reporting on both sample texts: one delivered, one failed.
fn both_sample_texts_reported() -> LogData {
    let lines = [
        delivery_line("0b6c5f2e-3f7a-5d1e-9c4b-7e2d4c901234", true, "2026-11-24 09:00:05.120", "+12025550143"),
        delivery_line("0b6c5f2e-3f7a-5d1e-9c4b-7e2d4c901235", false, "2026-11-24 09:00:06.480", "+12025550187"),
    ];
    log_data(&log_group(false), &lines)
}

#[tokio::test]
async fn a_table_failure_fails_the_batch_after_every_record_was_tried_and_the_retry_counts_each_once() {
    let ledger = ledger_with_sample_texts();
    let handler = delivery_status_on(&ledger);
    let batch = both_sample_texts_reported();
    ledger.operations.fail("record_delivery");

    let failed = handler.handle(&batch, "req-1", whole_invocation()).await.unwrap_err();
    assert_eq!(failed.summary.failed, 2);
    assert_eq!(ledger.operations.called().len(), 2, "every record is tried before the batch fails");
    let diagnostic = lambda_runtime::Diagnostic::from(failed);
    assert_eq!(diagnostic.error_type, "BatchFailed");
    assert!(!diagnostic.error_message.contains("555"), "{}", diagnostic.error_message);

    ledger.operations.heal("record_delivery");
    assert_eq!(handler.handle(&batch, "req-2", whole_invocation()).await, Ok(summary(2, 0, 0, 0)));
    assert_eq!(
        handler.handle(&batch, "req-3", whole_invocation()).await,
        Ok(summary(0, 2, 0, 0)),
        "Lambda delivers it again"
    );
}

#[tokio::test]
async fn a_subscriptions_control_message_records_nothing() {
    let ledger = ledger_with_sample_texts();
    let handler = delivery_status_on(&ledger);
    let mut control = log_data_json(&log_group(false), &["CWL CONTROL MESSAGE: Checking health of destination".into()]);
    control["messageType"] = "CONTROL_MESSAGE".into();
    let event = subscription_event(&control);

    assert_eq!(handler.handle(&decode(&event), "req-1", whole_invocation()).await, Ok(summary(0, 0, 0, 0)));
    assert!(ledger.operations.called().is_empty());
}

/// A record is started only while the invocation's deadline leaves its worst case: with less, none is, and the
/// batch fails (Lambda delivers it again) instead of being stopped mid-record; with the time, it is recorded.
#[tokio::test]
async fn records_the_deadline_leaves_no_time_for_are_not_started_and_the_batch_is_delivered_again() {
    let ledger = ledger_with_sample_texts();
    let handler = delivery_status_on(&ledger);
    let batch = both_sample_texts_reported();
    let too_little = Deadline::after(RECORD_WORST_CASE + MARGIN - Duration::from_millis(1));

    let failed = handler.handle(&batch, "req-1", too_little).await.unwrap_err();
    assert_eq!(failed.summary.failed, 2);
    assert!(ledger.operations.called().is_empty(), "no record started");
    assert_eq!(handler.handle(&batch, "req-2", whole_invocation()).await, Ok(summary(2, 0, 0, 0)));
}
