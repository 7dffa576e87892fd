//! The SQS events the redrive is fed.

use aws_lambda_events::sqs::SqsEvent;
use serde_json::json;
use webhook::fallback::QueuedDelivery;

/// The SQS event Lambda hands the redrive for `deliveries` as queued: message ids `m-0`, `m-1`, …
pub fn sqs_event(deliveries: &[QueuedDelivery]) -> SqsEvent {
    let records: Vec<_> = deliveries
        .iter()
        .enumerate()
        .map(|(n, delivery)| {
            let body = serde_json::to_string(delivery).expect("a queued delivery serializes");
            json!({"messageId": format!("m-{n}"), "eventSource": "aws:sqs", "body": body})
        })
        .collect();
    serde_json::from_value(json!({"Records": records})).expect("an SQS event")
}
