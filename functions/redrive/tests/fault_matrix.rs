//! The redrive's AWS calls × every fault, on the real SDK clients (`webhook_test_support::faults`): what SQS is
//! told (complete, or deliver again) and which calls were made, how often. A publish SNS may have received is
//! never tried again, whoever redelivers the message.

// Tests: a step that fails should stop the test at once (helpers are outside `#[test]` functions).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use calls::aws::DynamoCallStore;
use leads::aws::DynamoLeadEvents;
use redrive::config::RedriveConfig;
use redrive::handler::{RedriveDeps, RedriveHandler};
use serde_json::Value;
use std::time::Duration;
use texts::aws::{DynamoTextLedger, SnsSmsSender};
use time::OffsetDateTime;
use webhook::aws::{DynamoOptOuts, OnTable};
use webhook::budget::Deadline;
use webhook::config::FromEnvironment;
use webhook::fakes::FakeQueue;
use webhook::fallback::{QueuedBody, QueuedDelivery, QueuedFunction};
use webhook::item::rfc3339;
use webhook::payload::WebhookId;
use webhook_test_support::events::{env, sample};
use webhook_test_support::faults::{self, FAULTS, Fault, FaultInjector};
use webhook_test_support::sqs::sqs_event;
use webhook_test_support::whole_invocation;

/// `sample`'s body queued by `function` just now, from the sample's path.
fn queued(function: QueuedFunction, sample_name: &str, id: u64) -> QueuedDelivery {
    let event: Value = serde_json::from_str(&sample(sample_name)).unwrap();
    QueuedDelivery {
        function,
        id: Some(WebhookId::new(id)),
        request_id: "req-queued".into(),
        received_at: rfc3339(OffsetDateTime::now_utc()),
        not_before: None,
        route: webhook::pipeline::route_of(event["rawPath"].as_str().unwrap()).to_owned(),
        body: QueuedBody::plain(event["body"].as_str().unwrap().as_bytes()),
    }
}

/// The redrive fed `delivery` with `operation` under `fault`: the ids SQS must deliver again, and the injector.
async fn redrive_with(operation: &'static str, fault: Fault, delivery: QueuedDelivery) -> (Vec<String>, FaultInjector) {
    let (failed, injector, _) = redrive_within(whole_invocation(), operation, fault, delivery).await;
    (failed, injector)
}

/// [`redrive_with`], in an invocation that must answer by `deadline`; with the queue, for its redeliveries.
async fn redrive_within(
    deadline: Deadline,
    operation: &'static str,
    fault: Fault,
    delivery: QueuedDelivery,
) -> (Vec<String>, FaultInjector, FakeQueue) {
    let injector = FaultInjector::new(operation, fault);
    let queue = FakeQueue::default();
    let config = RedriveConfig::from_lookup(env(&[])).unwrap();
    let deps = RedriveDeps {
        calls: DynamoCallStore::from_client(faults::dynamodb(&injector), "calls"),
        ledger: DynamoTextLedger::from_client(faults::dynamodb(&injector), "texts"),
        // As main wires it: the redrive paces itself, a throttled publish is answered at once.
        sms: SnsSmsSender::from_client(faults::sns(&injector), &config.texts.sms).unwrap().throttles_to_caller(),
        lead_events: DynamoLeadEvents::from_client(faults::dynamodb(&injector), "lead-events"),
        opt_outs: Some(DynamoOptOuts::from_client(faults::dynamodb(&injector), "opt-outs")),
        queue: queue.clone(),
    };
    let handler = RedriveHandler::new(&config, deps);
    let response = handler.handle(&sqs_event(&[delivery]), "redrive-1", deadline).await;
    (response.batch_item_failures.into_iter().map(|failure| failure.item_identifier).collect(), injector, queue)
}

#[tokio::test]
async fn a_call_dynamodb_fails_to_take_is_delivered_again() {
    for fault in FAULTS {
        let (failed, injector) =
            redrive_with("PutItem", fault, queued(QueuedFunction::PostCall, "post-call-transferred", 123)).await;
        assert_eq!(failed, ["m-0"], "{fault:?}");
        assert!((1..=3).contains(&injector.attempts("PutItem")), "{fault:?}");
    }
}

#[tokio::test]
async fn an_opt_out_dynamodb_fails_to_take_is_delivered_again() {
    for fault in FAULTS {
        let (failed, injector) =
            redrive_with("PutItem", fault, queued(QueuedFunction::TextOptOut, "text-optout-10-digit", 0)).await;
        assert_eq!(failed, ["m-0"], "{fault:?}");
        assert!((1..=3).contains(&injector.attempts("PutItem")), "{fault:?}");
    }
    let (failed, injector) =
        redrive_with("none", Fault::Hang, queued(QueuedFunction::TextOptOut, "text-optout-10-digit", 0)).await;
    assert!(failed.is_empty());
    assert_eq!(injector.attempts("PutItem"), 1);
}

/// A lead's reply that says stop: its listing, its event and a transfer's update each failing are delivered again;
/// once DynamoDB works, it is completed.
#[tokio::test]
async fn a_lead_event_dynamodb_fails_to_take_is_delivered_again() {
    for (operation, sample) in [
        ("PutItem", "lead-events-text-unsubscribe"),
        ("PutItem", "lead-events-inbound-call"),
        ("UpdateItem", "lead-events-transfer-type-qualified"),
    ] {
        for fault in FAULTS {
            let (failed, injector) =
                redrive_with(operation, fault, queued(QueuedFunction::LeadEvents, sample, 0)).await;
            assert_eq!(failed, ["m-0"], "{sample} {fault:?}");
            assert!((1..=3).contains(&injector.attempts(operation)), "{sample} {fault:?}");
        }
        let (failed, injector) = redrive_with("none", Fault::Hang, queued(QueuedFunction::LeadEvents, sample, 0)).await;
        assert!(failed.is_empty(), "{sample}");
        let listing_and_event = if sample.ends_with("unsubscribe") { 2 } else { 1 };
        assert_eq!(injector.attempts(operation), listing_and_event, "{sample}");
    }
}

#[tokio::test]
async fn a_text_sns_refuses_for_now_is_delivered_again_with_its_claim_given_back() {
    let (failed, injector) =
        redrive_with("Publish", Fault::Refused, queued(QueuedFunction::SendText, "send-text-pre-call", 1234)).await;
    assert_eq!(failed, ["m-0"]);
    assert_eq!(["PutItem", "Publish", "UpdateItem", "DeleteItem"].map(|op| injector.attempts(op)), [1, 3, 0, 1]);
}

/// SNS throttling: tried again within the invocation while its deadline leaves time to settle the text, then
/// given back and delivered again in a second, not after the queue's visibility timeout.
#[tokio::test]
async fn a_text_sns_throttles_is_tried_while_the_invocation_allows_then_delivered_again_in_a_second() {
    // The message needs 23 s of the invocation to start (its worst case and the margin). Tries may start until the
    // try, the release and the redelivery (3 calls) and the margin still fit: about 6 s of them.
    let deadline = Deadline::after(Duration::from_secs(24));
    let delivery = queued(QueuedFunction::SendText, "send-text-pre-call", 1234);
    let (failed, injector, queue) = redrive_within(deadline, "Publish", Fault::Throttling, delivery).await;
    assert_eq!(failed, ["m-0"]);
    let [claims, publishes, marks, releases] =
        ["PutItem", "Publish", "UpdateItem", "DeleteItem"].map(|op| injector.attempts(op));
    assert_eq!((claims, marks, releases), (1, 0, 1));
    assert!((3..=20).contains(&publishes), "tried again after each backoff: {publishes}");
    let redelivered = queue.redelivered();
    assert_eq!(redelivered.len(), 1);
    assert!(redelivered[0].1 <= Duration::from_secs(1), "{redelivered:?}");
}

/// Hung, or a 5xx (SNS had the request): maybe sent, so settled unconfirmed after one attempt, never repeated.
#[tokio::test]
async fn a_text_publish_sns_got_but_never_confirmed_is_settled_unconfirmed_not_delivered_again() {
    for fault in [Fault::Hang, Fault::ServerError] {
        let (failed, injector) =
            redrive_with("Publish", fault, queued(QueuedFunction::SendText, "send-text-pre-call", 1234)).await;
        assert!(failed.is_empty(), "{fault:?}: completed, a redelivery must not publish it again");
        let attempts = ["PutItem", "Publish", "UpdateItem", "DeleteItem"].map(|op| injector.attempts(op));
        assert_eq!(attempts, [1, 1, 1, 0], "{fault:?}");
    }
}
