//! redrive on the in-memory tables, fed what post-call queued: each call stored once, a redelivered message
//! changes nothing, what cannot be completed now is reported for SQS to deliver again.

// Tests: a step that fails should stop the test at once (helpers are outside `#[test]` functions).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use aws_lambda_events::sqs::SqsEvent;
use post_call::config::PostCallConfig;
use post_call::handler::CallRecorder;
use redrive::handler::RedriveHandler;
use serde_json::json;
use webhook::fallback::QueuedDelivery;
use webhook::payload::WebhookId;
use webhook_test_support::events::{answer, env, event, sample_body};
use webhook_test_support::opt_outs::FakeOptOuts;
use webhook_test_support::post_call::{FakeCallStore, post_call_on_fakes};

/// What post-call queues for `samples` while its table fails.
async fn queued_by_post_call(samples: &[&str]) -> Vec<QueuedDelivery> {
    let post_call = post_call_on_fakes(&[]);
    post_call.calls().operations.fail("store");
    for sample in samples {
        assert_eq!(answer(&post_call, event(sample)).await.0, 202, "{sample}");
    }
    post_call.queue().queued()
}

fn sqs_event(deliveries: &[QueuedDelivery]) -> SqsEvent {
    let records: Vec<_> = deliveries
        .iter()
        .enumerate()
        .map(|(n, delivery)| json!({"messageId": format!("m-{n}"), "body": serde_json::to_string(delivery).unwrap()}))
        .collect();
    serde_json::from_value(json!({"Records": records})).unwrap()
}

fn redrive(list: FakeOptOuts) -> RedriveHandler<FakeCallStore, FakeOptOuts> {
    let config = PostCallConfig::from_lookup(env(&[])).unwrap();
    RedriveHandler::new(CallRecorder::new(&config, FakeCallStore::default(), Some(list)))
}

#[tokio::test]
async fn queued_calls_are_stored_once_as_received_and_a_redelivery_changes_nothing() {
    let queued = queued_by_post_call(&["post-call-transferred", "post-call-do-not-call"]).await;
    let list = FakeOptOuts::default();
    let handler = redrive(list.clone());

    let response = handler.handle(&sqs_event(&queued)).await;
    assert!(response.batch_item_failures.is_empty());
    let stored = handler.calls().calls().item(WebhookId::new(123)).unwrap();
    assert_eq!(stored["transcript"], sample_body("post-call-transferred")["transcript"]);
    assert!(list.item("+12025550188").is_some(), "the do-not-call number is listed");

    let again = handler.handle(&sqs_event(&queued)).await;
    assert!(again.batch_item_failures.is_empty());
    assert_eq!(handler.calls().calls().len(), 2);
    assert_eq!(handler.calls().calls().item(WebhookId::new(123)).unwrap(), stored);
}

#[tokio::test]
async fn what_cannot_be_completed_now_is_reported_for_sqs_to_deliver_again() {
    let queued = queued_by_post_call(&["post-call-transferred", "post-call-no-answer"]).await;
    let handler = redrive(FakeOptOuts::default());
    handler.calls().calls().operations.fail("store");
    let mut event = sqs_event(&queued);
    let garbled = serde_json::from_value(json!({"Records": [{"messageId": "m-x", "body": "not a delivery"}]})).unwrap();
    let SqsEvent { records: extra, .. } = garbled;
    event.records.extend(extra);

    let response = handler.handle(&event).await;
    let failed: Vec<&str> = response.batch_item_failures.iter().map(|f| f.item_identifier.as_str()).collect();
    assert_eq!(failed, ["m-0", "m-1", "m-x"]);
    assert!(handler.calls().calls().is_empty());
}
