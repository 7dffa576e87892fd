//! send-text's AWS calls × every fault (throttling, 500, refused, hung), through the handler on the real SDK
//! clients (`webhook_test_support::faults`): the answer, and which calls were made, how often.

// Tests: a step that fails should stop the test at once (helpers are outside `#[test]` functions).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use send_text::config::SendTextConfig;
use send_text::handler::{SendTextDeps, SendTextHandler};
use serde_json::{Value, json};
use std::time::Duration;
use texts::aws::{DynamoTextLedger, SnsSmsSender};
use webhook::aws::{DynamoOptOuts, OnTable, SqsFallbackQueue};
use webhook::config::FromEnvironment;
use webhook::fakes::FakeQueue;
use webhook::fallback::FallbackQueue;
use webhook_test_support::events::{answer, env, event, sample, sample_authenticator};
use webhook_test_support::faults::{self, FAULTS, Fault, FaultInjector};

/// One send-text delivery with `operation` under `fault`, `queue` its fallback: its answer and the attempts per
/// operation.
async fn send_text_queueing_to<Q: FallbackQueue>(
    operation: &'static str,
    fault: Fault,
    queue: Q,
) -> (u16, Value, FaultInjector) {
    let injector = FaultInjector::new(operation, fault);
    let config = SendTextConfig::from_lookup(env(&[])).unwrap();
    let sms = SnsSmsSender::from_client(faults::sns(&injector), &config.own.texts.sms).unwrap();
    let ledger = DynamoTextLedger::from_client(faults::dynamodb(&injector), "texts");
    let opt_outs = Some(DynamoOptOuts::from_client(faults::dynamodb(&injector), "opt-outs"));
    let handler =
        send_text::handler::build(config, sample_authenticator(), SendTextDeps { ledger, sms, opt_outs, queue });
    let (status, body) = answer(&handler, event("send-text-pre-call")).await;
    (status.as_u16(), body, injector)
}

/// Without a fallback queue: a failure that surely sent nothing is 503, and 2X must deliver again.
async fn send_text_with(operation: &'static str, fault: Fault) -> (u16, Value, FaultInjector) {
    send_text_queueing_to(operation, fault, None::<SqsFallbackQueue>).await
}

/// With a fallback queue, whatever surely was not sent (the list unreadable, the claim not written, SNS refusing
/// or unreachable) is queued as received and answered 202 `queued`; a claim it holds is marked queued (one
/// UpdateItem), never released; nothing is published twice.
#[tokio::test]
async fn with_a_fallback_queue_a_text_not_sent_is_202_queued_as_received() {
    let not_sent = [Fault::Throttling, Fault::Refused];
    let cases = FAULTS.iter().map(|fault| ("GetItem", *fault, 1, 0, 1));
    let cases = cases.chain(FAULTS.iter().map(|fault| ("PutItem", *fault, 0, 0, 0)));
    let cases = cases.chain(not_sent.iter().map(|fault| ("Publish", *fault, 1, 3, 1)));
    for (operation, fault, claims, publishes, marks) in cases {
        let queue = FakeQueue::default();
        let (status, body, injector) = send_text_queueing_to(operation, fault, queue.clone()).await;
        assert_eq!((status, &body["status"]), (202, &json!("queued")), "{operation} {fault:?}");
        let queued = queue.queued();
        assert_eq!(queued.len(), 1, "{operation} {fault:?}");
        let received: Value = serde_json::from_str(&sample("send-text-pre-call")).unwrap();
        assert_eq!(queued[0].body.decode().unwrap(), received["body"].as_str().unwrap().as_bytes(), "as received");
        let [claim_attempts, publish_attempts, mark_attempts, releases] = send_text_attempts(&injector);
        assert_eq!(releases, 0, "{operation} {fault:?}: the claim stays, marked queued");
        if operation != "PutItem" {
            assert_eq!(
                [claim_attempts, publish_attempts, mark_attempts],
                [claims, publishes, marks],
                "{operation} {fault:?}"
            );
        }
    }
}

/// A publish SNS may have received is never queued: it may have been sent.
#[tokio::test]
async fn with_a_fallback_queue_a_publish_sns_got_but_never_answered_is_still_unconfirmed_and_not_queued() {
    let queue = FakeQueue::default();
    let (status, body, _) = send_text_queueing_to("Publish", Fault::Hang, queue.clone()).await;
    assert_eq!((status, &body["status"]), (202, &json!("unconfirmed")));
    assert!(queue.queued().is_empty());
}

/// `[PutItem, Publish, UpdateItem, DeleteItem]` attempts.
fn send_text_attempts(injector: &FaultInjector) -> [usize; 4] {
    ["PutItem", "Publish", "UpdateItem", "DeleteItem"].map(|operation| injector.attempts(operation))
}

/// A compliance team's choice: a text is not sent while the suppression list cannot be read.
#[tokio::test]
async fn a_failing_suppression_list_lookup_is_503_with_the_claim_released_and_nothing_sent() {
    for fault in FAULTS {
        let (status, body, injector) = send_text_with("GetItem", fault).await;
        assert_eq!(status, 503, "{fault:?}: {body}");
        let [claims, publishes, marks, releases] = send_text_attempts(&injector);
        assert_eq!([claims, publishes, marks, releases], [1, 0, 0, 1], "{fault:?}: released, never published");
        assert!((1..=3).contains(&injector.attempts("GetItem")), "{fault:?}");
    }
}

#[tokio::test]
async fn a_failing_opt_out_check_is_tolerated_and_the_text_sent() {
    for fault in FAULTS {
        let (status, body, injector) = send_text_with("CheckIfPhoneNumberIsOptedOut", fault).await;
        assert_eq!((status, body["status"].as_str()), (200, Some("sent")), "{fault:?}");
        assert_eq!(send_text_attempts(&injector), [1, 1, 1, 0], "{fault:?}");
    }
}

#[tokio::test]
async fn a_failing_claim_is_503_and_nothing_is_sent() {
    for fault in FAULTS {
        let (status, _, injector) = send_text_with("PutItem", fault).await;
        assert_eq!(status, 503, "{fault:?}");
        let [claims, publishes, marks, releases] = send_text_attempts(&injector);
        assert!((1..=3).contains(&claims), "{fault:?}: {claims} claim attempts");
        assert_eq!([publishes, marks, releases], [0, 0, 0], "{fault:?}");
    }
}

#[tokio::test]
async fn a_publish_sns_refused_for_now_or_never_got_is_503_with_the_claim_released() {
    for fault in [Fault::Throttling, Fault::Refused] {
        let (status, _, injector) = send_text_with("Publish", fault).await;
        assert_eq!(status, 503, "{fault:?}");
        // The SDK's standard retries (3 attempts) apply: SNS did not take the text.
        assert_eq!(send_text_attempts(&injector), [1, 3, 0, 1], "{fault:?}");
    }
}

/// Hung, or answered 5xx (SNS received it, and may have sent it before failing): tried once, settled
/// unconfirmed, never queued or repeated.
#[tokio::test]
async fn a_publish_sns_got_but_never_confirmed_is_tried_once_and_settled_unconfirmed() {
    for fault in [Fault::Hang, Fault::ServerError] {
        let started = std::time::Instant::now();
        let queue = FakeQueue::default();
        let (status, body, injector) = send_text_queueing_to("Publish", fault, queue.clone()).await;
        assert_eq!((status, body["status"].as_str()), (202, Some("unconfirmed")), "{fault:?}");
        // One attempt: a second could text the lead twice. The claim is marked, not released.
        assert_eq!(send_text_attempts(&injector), [1, 1, 1, 0], "{fault:?}");
        assert!(started.elapsed() < Duration::from_secs(4), "one 2 s attempt, took {:?}", started.elapsed());
        assert!(queue.queued().is_empty(), "{fault:?}");
    }
}

/// SNS refusing the request itself: tried once, settled failed (one update), answered 422, never queued.
#[tokio::test]
async fn a_publish_sns_refuses_for_good_is_tried_once_settled_failed_and_never_queued() {
    let queue = FakeQueue::default();
    let (status, body, injector) = send_text_queueing_to("Publish", Fault::Rejected, queue.clone()).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(send_text_attempts(&injector), [1, 1, 1, 0]);
    assert!(queue.queued().is_empty());
}

/// A number that may not be texted (another country, a premium-rate number) is refused before any AWS call:
/// clients with no mocked call at all would panic the test.
#[tokio::test]
async fn a_number_that_may_not_be_texted_makes_no_aws_call() {
    let injector = FaultInjector::new("none", Fault::Hang);
    let handler = send_text_on_unmocked_clients(&injector);
    for number in ["+44 7400 123456", "+1 900 234 5678"] {
        let mut body: Value = serde_json::from_str(&sample("send-text-pre-call")).unwrap();
        let mut payload: Value = serde_json::from_str(body["body"].as_str().unwrap()).unwrap();
        payload["record_phone_number"] = number.into();
        body["body"] = payload.to_string().into();
        let request = webhook_test_support::events::request_from(&body.to_string(), "req-refused");
        let (status, answer_body) = answer(&handler, request).await;
        assert_eq!((status.as_u16(), &answer_body["field"]), (422, &json!("record_phone_number")), "{number}");
    }
    assert!(injector.attempts.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_failure_to_record_the_sent_text_still_answers_200() {
    for fault in FAULTS {
        let (status, body, injector) = send_text_with("UpdateItem", fault).await;
        assert_eq!((status, body["status"].as_str()), (200, Some("sent")), "{fault:?}");
        let [claims, publishes, marks, releases] = send_text_attempts(&injector);
        assert_eq!([claims, publishes, releases], [1, 1, 0], "{fault:?}: the text was not published again");
        assert!((1..=3).contains(&marks), "{fault:?}");
    }
}

/// send-text on clients with no mocked call at all: any request panics the test (aws-smithy-mocks'
/// `must_match`), and the injector under them counts any that got that far.
fn send_text_on_unmocked_clients(
    injector: &FaultInjector,
) -> SendTextHandler<DynamoTextLedger, SnsSmsSender, Option<DynamoOptOuts>, Option<SqsFallbackQueue>> {
    let config = SendTextConfig::from_lookup(env(&[])).unwrap();
    let sms = SnsSmsSender::from_client(faults::unmocked_sns(injector), &config.own.texts.sms).unwrap();
    let ledger = DynamoTextLedger::from_client(faults::unmocked_dynamodb(injector), "texts");
    let opt_outs = Some(DynamoOptOuts::from_client(faults::unmocked_dynamodb(injector), "opt-outs"));
    send_text::handler::build(config, sample_authenticator(), SendTextDeps { ledger, sms, opt_outs, queue: None })
}

#[tokio::test]
async fn requests_without_the_right_token_make_no_aws_call() {
    let injector = FaultInjector::new("none", Fault::Hang);
    let handler = send_text_on_unmocked_clients(&injector);
    for sample in ["send-text-pre-call", "send-text-bad-token"] {
        for request in faults::wrong_token_requests(sample) {
            assert_eq!(answer(&handler, request).await.0, 401, "{sample}");
        }
    }
    assert!(injector.attempts.lock().unwrap().is_empty());
}
