//! lead-events' AWS calls (the listing and the event's PutItem, a transfer's UpdateItem) × every fault
//! (throttling, 500, refused, hung), through the handler on the real SDK client (`webhook_test_support::faults`):
//! the answer, how often each call was made, what was queued.

// Tests: a step that fails should stop the test at once (helpers are outside `#[test]` functions).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use calls::aws::DynamoCallStore;
use lead_events::config::LeadEventsConfig;
use lead_events::handler::{LeadEventsDeps, LeadEventsHandler};
use leads::aws::DynamoLeadEvents;
use serde_json::{Value, json};
use webhook::aws::{DynamoOptOuts, OnTable, SqsFallbackQueue};
use webhook::config::FromEnvironment;
use webhook::fakes::FakeQueue;
use webhook::fallback::{FallbackQueue, QueuedFunction};
use webhook_test_support::events::{answer, env, event, sample, sample_authenticator};
use webhook_test_support::faults::{self, FAULTS, Fault, FaultInjector};

type Handler<Q> = LeadEventsHandler<DynamoLeadEvents, DynamoCallStore, DynamoOptOuts, Q>;

fn lead_events<Q: FallbackQueue>(injector: &FaultInjector, queue: Q) -> Handler<Q> {
    let config = LeadEventsConfig::from_lookup(env(&[])).unwrap();
    let dynamodb = faults::dynamodb(injector);
    let deps = LeadEventsDeps {
        events: DynamoLeadEvents::from_client(dynamodb.clone(), "lead-events"),
        transfers: DynamoCallStore::from_client(dynamodb.clone(), "calls"),
        opt_outs: Some(DynamoOptOuts::from_client(dynamodb, "opt-outs")),
        queue,
    };
    lead_events::handler::build(config, sample_authenticator(), deps)
}

/// The samples, the DynamoDB call each makes that the fault hits, and how many such calls a success makes (an
/// opt-out reply: the listing, then the event).
const CASES: [(&str, &str, usize); 3] = [
    ("lead-events-text-unsubscribe", "PutItem", 2),
    ("lead-events-inbound-call", "PutItem", 1),
    ("lead-events-transfer-type-qualified", "UpdateItem", 1),
];

/// Nothing 2X sends is lost: whatever DynamoDB does, the delivery is queued as received, with its route (202
/// `queued`), for the redrive to complete.
#[tokio::test]
async fn a_failing_write_is_queued_for_the_redrive_with_its_route() {
    for (sample_name, operation, _) in CASES {
        for fault in FAULTS {
            let injector = FaultInjector::new(operation, fault);
            let queue = FakeQueue::default();
            let (status, body) = answer(&lead_events(&injector, queue.clone()), event(sample_name)).await;
            assert_eq!((status.as_u16(), &body["status"]), (202, &json!("queued")), "{sample_name} {fault:?}");
            // The first call failing at its retries: nothing after it was tried.
            assert!((1..=3).contains(&injector.attempts(operation)), "{sample_name} {fault:?}");
            let queued = queue.queued();
            let received: Value = serde_json::from_str(&sample(sample_name)).unwrap();
            assert_eq!((queued.len(), queued[0].function), (1, QueuedFunction::LeadEvents));
            assert_eq!(format!("/{}", queued[0].route), received["rawPath"].as_str().unwrap());
            assert_eq!(queued[0].body.decode().unwrap(), received["body"].as_str().unwrap().as_bytes());
        }
    }
}

/// Without a fallback queue (or with one that refuses too), 503: 2X must deliver again.
#[tokio::test]
async fn a_failing_write_without_a_queue_is_503_so_2x_delivers_again() {
    for (sample_name, operation, _) in CASES {
        for fault in FAULTS {
            let injector = FaultInjector::new(operation, fault);
            let handler = lead_events(&injector, None::<SqsFallbackQueue>);
            assert_eq!(answer(&handler, event(sample_name)).await.0, 503, "{sample_name} {fault:?}");
        }
    }
}

#[tokio::test]
async fn writes_that_work_answer_once_each() {
    for (sample_name, operation, calls) in CASES {
        let injector = FaultInjector::new("none", Fault::Hang);
        let (status, body) = answer(&lead_events(&injector, FakeQueue::default()), event(sample_name)).await;
        assert_eq!(status.as_u16(), 200, "{sample_name}: {body}");
        assert_eq!(injector.attempts(operation), calls, "{sample_name}");
    }
}

/// A client with no mocked call at all: any request panics the test (aws-smithy-mocks' `must_match`), and the
/// injector under it counts any that got that far.
#[tokio::test]
async fn requests_without_the_right_token_make_no_aws_call() {
    let injector = FaultInjector::new("none", Fault::Hang);
    let config = LeadEventsConfig::from_lookup(env(&[])).unwrap();
    let dynamodb = faults::unmocked_dynamodb(&injector);
    let deps = LeadEventsDeps {
        events: DynamoLeadEvents::from_client(dynamodb.clone(), "lead-events"),
        transfers: DynamoCallStore::from_client(dynamodb.clone(), "calls"),
        opt_outs: Some(DynamoOptOuts::from_client(dynamodb, "opt-outs")),
        queue: FakeQueue::default(),
    };
    let handler = lead_events::handler::build(config, sample_authenticator(), deps);
    for (sample_name, _, _) in CASES {
        for request in faults::wrong_token_requests(sample_name) {
            assert_eq!(answer(&handler, request).await.0, 401, "{sample_name}");
        }
    }
    assert!(injector.attempts.lock().unwrap().is_empty());
}
