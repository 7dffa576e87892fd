//! post-call's AWS call × every fault (throttling, 500, refused, hung), through the handler on the real SDK
//! client (`webhook_test_support::faults`): the answer, and how often the call was made.

// Tests: a step that fails should stop the test at once (helpers are outside `#[test]` functions).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use post_call::adapters::DynamoCallStore;
use post_call::config::PostCallConfig;
use post_call::handler::PostCallHandler;
use webhook_test_support::events::{answer, env, event, sample_authenticator};
use webhook_test_support::faults::{self, FAULTS, Fault, FaultInjector};

#[tokio::test]
async fn a_failing_call_store_is_503_so_2x_delivers_again() {
    for fault in FAULTS {
        let injector = FaultInjector::new("PutItem", fault);
        let config = PostCallConfig::from_lookup(env(&[])).unwrap();
        let store = DynamoCallStore::from_client(faults::dynamodb(&injector), "calls");
        let handler = PostCallHandler::new(config, sample_authenticator(), store);
        assert_eq!(answer(&handler, event("post-call-transferred")).await.0, 503, "{fault:?}");
        assert!((1..=3).contains(&injector.attempts("PutItem")), "{fault:?}");
    }
}

/// A client with no mocked call at all: any request panics the test (aws-smithy-mocks' `must_match`), and the
/// injector under it counts any that got that far.
#[tokio::test]
async fn requests_without_the_right_token_make_no_aws_call() {
    let injector = FaultInjector::new("none", Fault::Hang);
    let config = PostCallConfig::from_lookup(env(&[])).unwrap();
    let store = DynamoCallStore::from_client(faults::unmocked_dynamodb(&injector), "calls");
    let handler = PostCallHandler::new(config, sample_authenticator(), store);
    for sample in ["post-call-transferred", "post-call-malformed-json"] {
        for request in faults::wrong_token_requests(sample) {
            assert_eq!(answer(&handler, request).await.0, 401, "{sample}");
        }
    }
    assert!(injector.attempts.lock().unwrap().is_empty());
}
