//! text-optout's one AWS call × every fault (throttling, 500, refused, hung), through the handler on the real SDK
//! client (`webhook_test_support::faults`): the answer, how often the call was made, what was queued.

// Tests: a step that fails should stop the test at once (helpers are outside `#[test]` functions).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::{Value, json};
use text_optout::config::TextOptOutConfig;
use text_optout::handler::{TextOptOutDeps, TextOptOutHandler};
use webhook::aws::{DynamoOptOuts, OnTable, SqsFallbackQueue};
use webhook::config::FromEnvironment;
use webhook::fakes::FakeQueue;
use webhook::fallback::{FallbackQueue, QueuedFunction};
use webhook_test_support::events::{answer, env, event, sample, sample_authenticator};
use webhook_test_support::faults::{self, FAULTS, Fault, FaultInjector};

fn text_optout<Q: FallbackQueue>(dynamodb: aws_sdk_dynamodb::Client, queue: Q) -> TextOptOutHandler<DynamoOptOuts, Q> {
    let config = TextOptOutConfig::from_lookup(env(&[])).unwrap();
    let opt_outs = DynamoOptOuts::from_client(dynamodb, "opt-outs");
    text_optout::handler::build(config, sample_authenticator(), TextOptOutDeps { opt_outs, queue })
}

/// The STOP is never lost: whatever DynamoDB does, the opt-out is queued as received (202 `queued`) for the
/// redrive to list.
#[tokio::test]
async fn a_failing_list_write_is_queued_for_the_redrive() {
    for fault in FAULTS {
        let injector = FaultInjector::new("PutItem", fault);
        let queue = FakeQueue::default();
        let handler = text_optout(faults::dynamodb(&injector), queue.clone());
        let (status, body) = answer(&handler, event("text-optout-10-digit")).await;
        assert_eq!((status.as_u16(), body), (202, json!({"status": "queued"})), "{fault:?}");
        assert!((1..=3).contains(&injector.attempts("PutItem")), "{fault:?}");
        let queued = queue.queued();
        let received: Value = serde_json::from_str(&sample("text-optout-10-digit")).unwrap();
        assert_eq!((queued.len(), queued[0].function, queued[0].id), (1, QueuedFunction::TextOptOut, None));
        assert_eq!(queued[0].body.decode().unwrap(), received["body"].as_str().unwrap().as_bytes(), "{fault:?}");
    }
}

/// Without a fallback queue (or with one that refuses too), 503: 2X must deliver again.
#[tokio::test]
async fn a_failing_list_write_without_a_queue_is_503_so_2x_delivers_again() {
    for fault in FAULTS {
        let injector = FaultInjector::new("PutItem", fault);
        let handler = text_optout(faults::dynamodb(&injector), None::<SqsFallbackQueue>);
        assert_eq!(answer(&handler, event("text-optout-10-digit")).await.0, 503, "{fault:?}");
    }
}

#[tokio::test]
async fn a_list_write_that_works_answers_opted_out() {
    let injector = FaultInjector::new("none", Fault::Hang);
    let handler = text_optout(faults::dynamodb(&injector), FakeQueue::default());
    let (status, body) = answer(&handler, event("text-optout-plus-1")).await;
    assert_eq!((status.as_u16(), body), (200, serde_json::json!({"status": "opted_out"})));
    assert_eq!(injector.attempts("PutItem"), 1);
}

/// A client with no mocked call at all: any request panics the test (aws-smithy-mocks' `must_match`), and the
/// injector under it counts any that got that far.
#[tokio::test]
async fn requests_without_the_right_token_make_no_aws_call() {
    let injector = FaultInjector::new("none", Fault::Hang);
    let handler = text_optout(faults::unmocked_dynamodb(&injector), FakeQueue::default());
    for sample in ["text-optout-10-digit", "text-optout-plus-1"] {
        for request in faults::wrong_token_requests(sample) {
            assert_eq!(answer(&handler, request).await.0, 401, "{sample}");
        }
    }
    assert!(injector.attempts.lock().unwrap().is_empty());
}
