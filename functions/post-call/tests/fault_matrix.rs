//! post-call's AWS call × every fault (throttling, 500, refused, hung), through the handler on the real SDK
//! client (`webhook_test_support::faults`): the answer, and how often the call was made.

// Tests: a step that fails should stop the test at once (helpers are outside `#[test]` functions).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use post_call::adapters::DynamoCallStore;
use post_call::config::PostCallConfig;
use post_call::handler::PostCallHandler;
use webhook::aws::DynamoOptOuts;
use webhook_test_support::events::{answer, env, event, sample_authenticator};
use webhook_test_support::faults::{self, FAULTS, Fault, FaultInjector};

/// post-call on the real DynamoDB client under `injector`, its calls and the suppression list in two tables.
fn post_call(dynamodb: aws_sdk_dynamodb::Client) -> PostCallHandler<DynamoCallStore, DynamoOptOuts> {
    let config = PostCallConfig::from_lookup(env(&[])).unwrap();
    let store = DynamoCallStore::from_client(dynamodb.clone(), "calls");
    let opt_outs = Some(DynamoOptOuts::from_client(dynamodb, "opt-outs"));
    PostCallHandler::new(config, sample_authenticator(), store, opt_outs)
}

#[tokio::test]
async fn a_failing_call_store_is_503_so_2x_delivers_again() {
    for fault in FAULTS {
        let injector = FaultInjector::new("PutItem", fault).on_table("calls");
        let handler = post_call(faults::dynamodb(&injector));
        assert_eq!(answer(&handler, event("post-call-do-not-call")).await.0, 503, "{fault:?}");
        assert!((1..=3).contains(&injector.attempts("PutItem")), "{fault:?}: the number is not listed either");
    }
}

/// The record is stored, the list write fails: 503, so 2X delivers again and the list write is retried (the
/// record is found stored, not written twice).
#[tokio::test]
async fn a_failing_suppression_list_write_is_503_after_the_record_is_stored() {
    for fault in FAULTS {
        let injector = FaultInjector::new("PutItem", fault).on_table("opt-outs");
        let handler = post_call(faults::dynamodb(&injector));
        assert_eq!(answer(&handler, event("post-call-do-not-call")).await.0, 503, "{fault:?}");
        let puts = injector.attempts("PutItem");
        assert!((2..=4).contains(&puts), "{fault:?}: one call put, then 1 to 3 list puts: {puts}");
    }
}

/// A client with no mocked call at all: any request panics the test (aws-smithy-mocks' `must_match`), and the
/// injector under it counts any that got that far.
#[tokio::test]
async fn requests_without_the_right_token_make_no_aws_call() {
    let injector = FaultInjector::new("none", Fault::Hang);
    let handler = post_call(faults::unmocked_dynamodb(&injector));
    for sample in ["post-call-transferred", "post-call-do-not-call", "post-call-malformed-json"] {
        for request in faults::wrong_token_requests(sample) {
            assert_eq!(answer(&handler, request).await.0, 401, "{sample}");
        }
    }
    assert!(injector.attempts.lock().unwrap().is_empty());
}
