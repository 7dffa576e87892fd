//! Properties over arbitrary input: whatever a log line or a subscription payload holds, nothing panics, every
//! line is accounted for once, only delivery records reach the table, and report times order as time does.

// Tests: a step that fails should stop the test at once (helpers are outside `#[test]` functions).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use aws_lambda_events::cloudwatch_logs::LogsEvent;
use base64::Engine;
use proptest::prelude::*;
use serde_json::{Value, json};
use sms_delivery_status::fakes::delivery_status_on;
use sms_delivery_status::report::{DeliveryReport, ReportedAt};
use texts::fakes::FakeLedger;
use time::OffsetDateTime;
use webhook_test_support::delivery_logs::{log_data, log_group};
use webhook_test_support::whole_invocation;

/// Lines near a delivery record: any of its fields missing, of another type, or odd.
fn record_like() -> impl Strategy<Value = String> {
    let text = prop_oneof![Just(json!("SUCCESS")), Just(json!("FAILURE")), any::<String>().prop_map(Value::from)];
    let value = prop_oneof![
        text.clone(),
        any::<f64>().prop_map(|n| json!(n)),
        any::<i64>().prop_map(|n| json!(n)),
        Just(Value::Null),
        Just(json!({})),
        Just(json!([1, "+12025550143"])),
    ];
    let timestamp = prop_oneof![
        2 => Just(json!("2026-11-24 09:00:05.120")),
        2 => (0i64..253_402_300_799).prop_map(|s| {
            let at = OffsetDateTime::from_unix_timestamp(s).unwrap();
            json!(format!(
                "{:04}-{:02}-{:02} {:02}:{:02}:{:02}.5",
                at.year(),
                u8::from(at.month()),
                at.day(),
                at.hour(),
                at.minute(),
                at.second()
            ))
        }),
        1 => value.clone(),
    ];
    let message_id =
        prop_oneof![4 => Just(json!("m-1")), 1 => Just(json!("m-2")), 1 => Just(json!("")), 1 => value.clone()];
    let price = prop_oneof![2 => (0.0..1e6f64).prop_map(|usd| json!(usd)), 1 => value.clone()];
    let words = prop_oneof![3 => any::<String>().prop_map(Value::from), 1 => value.clone()];
    let sms_type = prop_oneof![Just(json!("Transactional")), Just(json!("Promotional")), words.clone()];
    (message_id, timestamp, price, words, text, proptest::option::of(sms_type)).prop_map(
        |(message_id, timestamp, price, response, status, sms_type)| {
            let mut line = json!({"notification": {"messageId": message_id, "timestamp": timestamp},
                "delivery": {"priceInUSD": price, "providerResponse": response, "destination": "+12025550143"},
                "status": status});
            if let Some(sms_type) = sms_type {
                line["delivery"]["smsType"] = sms_type;
            }
            line.to_string()
        },
    )
}

fn any_line() -> impl Strategy<Value = String> {
    prop_oneof![4 => record_like(), 1 => any::<String>(), 1 => "[{}\\[\\]\":,0-9a-z ]{0,64}"]
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn every_line_is_counted_once_only_records_reach_the_table_and_the_newest_wins(lines in prop::collection::vec(any_line(), 0..12)) {
        let ledger = FakeLedger::default();
        ledger.insert_sent(texts::fakes::pre_call(1), "m-1");
        let handler = delivery_status_on(&ledger);
        let summary = runtime().block_on(handler.handle(&log_data(&log_group(false), &lines), "req-1", whole_invocation())).unwrap();
        let records = lines.iter().filter(|line| DeliveryReport::parse(line).is_ok()).count();
        prop_assert_eq!(summary.applied + summary.already_current + summary.unmatched, records);
        prop_assert_eq!(summary.unreadable, lines.len() - records);
        prop_assert_eq!(ledger.operations.called().len(), records);
        // Whatever the order, the text keeps the newest report about it.
        let newest = lines.iter().filter_map(|line| DeliveryReport::parse(line).ok())
            .filter(|report| report.message_id == "m-1").map(|report| report.reported_at).max();
        let item = ledger.entry(&texts::fakes::pre_call(1)).unwrap().item;
        prop_assert_eq!(item.get("delivery_reported_at").and_then(Value::as_str), newest.as_ref().map(ReportedAt::as_str));
    }

    #[test]
    fn any_subscription_payload_decodes_or_is_refused_without_a_panic(bytes in prop::collection::vec(any::<u8>(), 0..256), gzip_it in any::<bool>()) {
        let data = if gzip_it {
            use std::io::Write;
            let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            gzip.write_all(&bytes).unwrap();
            gzip.finish().unwrap()
        } else {
            bytes
        };
        let event = json!({"awslogs": {"data": base64::engine::general_purpose::STANDARD.encode(data)}}).to_string();
        let _ = serde_json::from_str::<LogsEvent>(&event);
    }

    #[test]
    fn report_times_order_as_text_exactly_as_in_time(a in 0i128..253_402_300_799_000, b in 0i128..253_402_300_799_000) {
        let at = |ms: i128| OffsetDateTime::from_unix_timestamp_nanos(ms * 1_000_000).ok().and_then(ReportedAt::from_time);
        if let (Some(first), Some(second)) = (at(a), at(b)) {
            prop_assert_eq!(first.as_str().cmp(second.as_str()), a.cmp(&b));
        }
    }
}
