//! sms-delivery-status's own code for one batch of 100 delivery records, without DynamoDB's network work:
//! `cargo bench -p sms-delivery-status`. Decode the subscription event (base64, gzip, JSON), read each record,
//! set it on the in-memory sent-texts table, write each record's EMF line and the batch's summary (to a sink).

// A benchmark whose fixed inputs stopped parsing should stop loudly.
#![allow(clippy::unwrap_used)]
use aws_lambda_events::cloudwatch_logs::LogsEvent;
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use sms_delivery_status::fakes::delivery_status_on;
use std::hint::black_box;
use texts::fakes::{FakeLedger, pre_call};
use webhook_test_support::delivery_logs::{delivery_line, log_data_json, log_group, subscription_event};
use webhook_test_support::whole_invocation;

const RECORDS: u64 = 100;

fn batch(c: &mut Criterion) {
    let _ = tracing::subscriber::set_global_default(webhook::telemetry::subscriber(std::io::sink));
    let lines: Vec<String> = (0..RECORDS)
        .map(|n| delivery_line(&format!("message-{n}"), n % 2 == 0, "2026-11-24 09:00:05.120", "+12025550143"))
        .collect();
    let event = subscription_event(&log_data_json(&log_group(false), &lines));
    let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let sent_texts = || {
        let ledger = FakeLedger::default();
        (0..RECORDS).for_each(|n| ledger.insert_sent(pre_call(n), &format!("message-{n}")));
        ledger
    };
    c.bench_function("sms-delivery-status: decode, read, record, EMF for 100 records", |b| {
        b.iter_batched(
            sent_texts,
            |ledger| {
                let logs: LogsEvent = serde_json::from_str(black_box(&event)).unwrap();
                let handler = delivery_status_on(&ledger);
                let summary =
                    runtime.block_on(handler.handle(&logs.aws_logs.data, "bench-request", whole_invocation())).unwrap();
                assert_eq!(summary.applied, RECORDS as usize);
                ledger
            },
            BatchSize::SmallInput,
        )
    });
}

criterion_group!(benches, batch);
criterion_main!(benches);
