//! post-call's AWS call × every fault (throttling, 500, refused, hung), through the handler on the real SDK
//! client (`webhook_test_support::faults`): the answer, and how often the call was made.

// Tests: a step that fails should stop the test at once (helpers are outside `#[test]` functions).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use calls::aws::DynamoCallStore;
use post_call::config::PostCallConfig;
use post_call::handler::{PostCallDeps, PostCallHandler};
use webhook::aws::{DynamoOptOuts, OnTable, SqsFallbackQueue};
use webhook::config::FromEnvironment;
use webhook::fakes::FakeQueue;
use webhook::fallback::{FallbackQueue, QueuedBody};
use webhook_test_support::events::{answer, env, event, sample_authenticator};
use webhook_test_support::faults::{self, FAULTS, Fault, FaultInjector};

/// post-call on the real DynamoDB client under `injector`, its calls and the suppression list in two tables,
/// with `queue` as its fallback.
fn post_call_queueing_to<Q: FallbackQueue>(
    dynamodb: aws_sdk_dynamodb::Client,
    queue: Q,
) -> PostCallHandler<DynamoCallStore, DynamoOptOuts, Q> {
    let config = PostCallConfig::from_lookup(env(&[])).unwrap();
    let calls = DynamoCallStore::from_client(dynamodb.clone(), "calls");
    let opt_outs = Some(DynamoOptOuts::from_client(dynamodb, "opt-outs"));
    post_call::handler::build(config, sample_authenticator(), PostCallDeps { calls, opt_outs, queue })
}

/// Without a fallback queue: a failure is 503 and 2X must deliver again.
fn post_call(
    dynamodb: aws_sdk_dynamodb::Client,
) -> PostCallHandler<DynamoCallStore, DynamoOptOuts, Option<SqsFallbackQueue>> {
    post_call_queueing_to(dynamodb, None)
}

#[tokio::test]
async fn with_a_fallback_queue_a_failing_store_or_list_write_is_202_queued_with_the_body_as_received() {
    use base64::Engine;
    use std::io::Read;
    for (table, sample) in [("calls", "post-call-transferred"), ("opt-outs", "post-call-do-not-call")] {
        for fault in FAULTS {
            let injector = FaultInjector::new("PutItem", fault).on_table(table);
            let queue = FakeQueue::default();
            let handler = post_call_queueing_to(faults::dynamodb(&injector), queue.clone());
            let request = event(sample);
            let sent = request.body().to_vec();
            let (status, body) = answer(&handler, request).await;
            assert_eq!((status.as_u16(), &body["status"]), (202, &serde_json::json!("queued")), "{table} {fault:?}");
            let queued = queue.queued();
            assert_eq!(queued.len(), 1, "{table} {fault:?}");
            assert_eq!(
                (queued[0].id, queued[0].request_id.as_str()),
                (body["id"].as_u64().map(webhook::payload::WebhookId::new), format!("req-{sample}").as_str())
            );
            let QueuedBody::GzipBase64(data) = &queued[0].body else { panic!("not gzipped") };
            let gzip = base64::engine::general_purpose::STANDARD.decode(data).unwrap();
            let mut unzipped = Vec::new();
            flate2::read::GzDecoder::new(gzip.as_slice()).read_to_end(&mut unzipped).unwrap();
            assert_eq!(unzipped, sent, "the body as received");
        }
    }
}

#[tokio::test]
async fn when_the_queue_refuses_too_the_answer_is_503() {
    let injector = FaultInjector::new("PutItem", Fault::ServerError).on_table("calls");
    let queue = FakeQueue::default();
    queue.operations.fail("enqueue");
    let handler = post_call_queueing_to(faults::dynamodb(&injector), queue.clone());
    assert_eq!(answer(&handler, event("post-call-transferred")).await.0, 503);
    assert!(queue.queued().is_empty());
}

/// The calls table failing without a queue: 503, so 2X delivers again; the number was listed first all the same
/// (one list put, then one to three call puts).
#[tokio::test]
async fn a_failing_call_store_is_503_so_2x_delivers_again_and_the_number_is_listed_first() {
    for fault in FAULTS {
        let injector = FaultInjector::new("PutItem", fault).on_table("calls");
        let handler = post_call(faults::dynamodb(&injector));
        assert_eq!(answer(&handler, event("post-call-do-not-call")).await.0, 503, "{fault:?}");
        let puts = injector.attempts("PutItem");
        assert!((2..=4).contains(&puts), "{fault:?}: one list put, then 1 to 3 call puts: {puts}");
    }
}

/// The list write failing without a queue: 503, so 2X delivers again and the list write is retried; the record
/// is stored all the same (found stored on the retry, not written twice).
#[tokio::test]
async fn a_failing_suppression_list_write_is_503_and_the_record_stored_all_the_same() {
    for fault in FAULTS {
        let injector = FaultInjector::new("PutItem", fault).on_table("opt-outs");
        let handler = post_call(faults::dynamodb(&injector));
        assert_eq!(answer(&handler, event("post-call-do-not-call")).await.0, 503, "{fault:?}");
        let puts = injector.attempts("PutItem");
        assert!((2..=4).contains(&puts), "{fault:?}: 1 to 3 list puts, then one call put: {puts}");
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
