//! redrive on the in-memory tables it shares with post-call and send-text, fed what they queued: each call stored
//! once, each text sent at most once and never after its maximum age, a redelivered message changes nothing,
//! what cannot be completed now is reported for SQS to deliver again.

// Tests: a step that fails should stop the test at once (helpers are outside `#[test]` functions).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use aws_lambda_events::sqs::SqsEvent;
use integration_tests::fakes::{FakePostCall, FakeRedrive, FakeSendText, Fakes};
use redrive::handler::MESSAGE_WORST_CASE;
use serde_json::json;
use std::time::Duration;
use texts::fakes::{LedgerEntry, pre_call, text_key};
use texts::ledger::{TextKey, TextStatus};
use texts::text::TextType;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use webhook::budget::{Deadline, MARGIN};
use webhook::fakes::FakeQueue;
use webhook::fallback::{QueuedDelivery, QueuedFunction};
use webhook::payload::WebhookId;
use webhook_test_support::LogCapture;
use webhook_test_support::events::{
    answer, edited_body, event, event_with_body, pre_call_in_dc_at, request_from, sample, sample_body,
};
use webhook_test_support::sqs::sqs_event;
use webhook_test_support::whole_invocation;

fn id(value: u64) -> WebhookId {
    WebhookId::new(value)
}

fn voicemail(value: u64) -> TextKey {
    text_key(value, TextType::PostVoicemail)
}

/// post-call and send-text with a fallback queue each, sharing the suppression list, and the redrive on their
/// tables.
struct Outage {
    fakes: Fakes,
    post_call: FakePostCall,
    send_text: FakeSendText,
    texts_queue: FakeQueue,
    redrive: FakeRedrive,
}

fn outage(redrive_env: &[(&str, &str)]) -> Outage {
    let fakes = Fakes::default();
    let texts_queue = FakeQueue::default();
    let send_text = fakes.send_text_queueing(Some(texts_queue.clone()), &[]);
    let post_call = fakes.post_call(&[]);
    let redrive = fakes.redrive(redrive_env);
    Outage { fakes, post_call, send_text, texts_queue, redrive }
}

impl Outage {
    /// What post-call queues for `samples` while its table fails.
    async fn calls_queued(&self, samples: &[&str]) -> Vec<QueuedDelivery> {
        self.fakes.calls.operations.fail("store");
        for sample in samples {
            assert_eq!(answer(&self.post_call, event(sample)).await.0, 202, "{sample}");
        }
        self.fakes.calls.operations.heal("store");
        self.fakes.queue.queued()
    }

    /// What send-text queues for `samples` while SNS refuses texts.
    async fn texts_queued(&self, samples: &[&str]) -> Vec<QueuedDelivery> {
        self.fakes.sms.operations.fail("send");
        for sample in samples {
            assert_eq!(answer(&self.send_text, event(sample)).await.0, 202, "{sample}");
        }
        self.fakes.sms.operations.heal("send");
        self.texts_queue.queued()
    }

    fn sent_to(&self) -> Vec<String> {
        self.fakes.sms.sent().into_iter().map(|sms| sms.to).collect()
    }
}

fn failed(response: &aws_lambda_events::sqs::SqsBatchResponse) -> Vec<&str> {
    response.batch_item_failures.iter().map(|failure| failure.item_identifier.as_str()).collect()
}

/// `delivery` as if it had been received `seconds` ago.
fn received_ago(mut delivery: QueuedDelivery, seconds: i64) -> QueuedDelivery {
    let at = OffsetDateTime::now_utc() - time::Duration::seconds(seconds);
    delivery.received_at = at.format(&Rfc3339).unwrap();
    delivery
}

#[tokio::test]
async fn queued_calls_are_stored_once_as_received_and_a_redelivery_changes_nothing() {
    let outage = outage(&[]);
    let queued = outage.calls_queued(&["post-call-transferred", "post-call-do-not-call"]).await;

    let response = outage.redrive.handle(&sqs_event(&queued), "r1", whole_invocation()).await;
    assert!(failed(&response).is_empty());
    let calls = outage.fakes.calls;
    let stored = calls.item(id(123)).unwrap();
    assert_eq!(stored["transcript"], sample_body("post-call-transferred")["transcript"]);
    assert!(outage.fakes.opt_outs.item("+12025550188").is_some(), "the do-not-call number is listed");

    assert!(failed(&outage.redrive.handle(&sqs_event(&queued), "r2", whole_invocation()).await).is_empty());
    assert_eq!(calls.len(), 2);
    assert_eq!(calls.item(id(123)).unwrap(), stored);
}

#[tokio::test]
async fn what_cannot_be_completed_now_is_reported_for_sqs_to_deliver_again() {
    let outage = outage(&[]);
    let queued = outage.calls_queued(&["post-call-transferred", "post-call-no-answer"]).await;
    outage.fakes.calls.operations.fail("store");
    let mut event = sqs_event(&queued);
    let garbled: SqsEvent =
        serde_json::from_value(json!({"Records": [{"messageId": "m-x", "body": "not a delivery"}]})).unwrap();
    event.records.extend(garbled.records);

    let response = outage.redrive.handle(&event, "r1", whole_invocation()).await;
    assert_eq!(failed(&response), ["m-0", "m-1", "m-x"]);
    assert!(outage.fakes.calls.is_empty());
}

/// SNS refused the texts (202 queued); once it is back, the redrive sends exactly one SMS per id, and neither a
/// redelivered message nor 2X delivering again sends another.
#[tokio::test]
async fn texts_sns_refused_are_sent_once_each_by_the_redrive() {
    let outage = outage(&[]);
    let queued = outage.texts_queued(&["send-text-pre-call", "send-text-post-voicemail"]).await;
    assert!(outage.sent_to().is_empty());
    assert_eq!(outage.fakes.ledger.entry(&pre_call(1234)).unwrap().status, TextStatus::Queued);

    let logs = LogCapture::default();
    let _capturing = logs.install();
    assert!(failed(&outage.redrive.handle(&sqs_event(&queued), "r1", whole_invocation()).await).is_empty());
    assert_eq!(outage.sent_to(), ["+12025550143", "+12025550187"]);
    let entry = outage.fakes.ledger.entry(&pre_call(1234)).unwrap();
    assert_eq!((entry.status, entry.claimed_by.as_str()), (TextStatus::Sent, "r1/0"));
    let summaries = logs.summaries();
    assert_eq!(summaries.len(), 2);
    assert!(summaries.iter().all(|line| line["function"] == "redrive" && line["outcome"] == "sent"));
    let metrics = logs.metrics();
    assert!(metrics.iter().all(|document| document["Redriven"] == 1 && document["queued_by"] == "send-text"));
    let message = sample_body("send-text-pre-call")["message"].as_str().unwrap().to_owned();
    assert!(!logs.text().contains(&message), "the message text is never logged");

    // SQS delivers the batch again, and 2X the first text.
    assert!(failed(&outage.redrive.handle(&sqs_event(&queued), "r2", whole_invocation()).await).is_empty());
    let again = request_from(&sample("send-text-pre-call"), "req-again");
    assert_eq!(answer(&outage.send_text, again).await.1["status"], "duplicate");
    assert_eq!(outage.sent_to().len(), 2, "one SMS per id");
}

/// A claim that could not be written, or a suppression list that could not be read, queues the text too; the
/// redrive claims it, checks the list again and sends it, unless the lead was listed meanwhile.
#[tokio::test]
async fn texts_queued_without_a_claim_or_a_list_are_sent_unless_listed_meanwhile() {
    let outage = outage(&[]);
    outage.fakes.ledger.operations.fail("claim");
    assert_eq!(answer(&outage.send_text, event("send-text-pre-call")).await.0, 202);
    outage.fakes.ledger.operations.heal("claim");
    outage.fakes.opt_outs.operations.fail("is_listed");
    assert_eq!(answer(&outage.send_text, event("send-text-post-voicemail")).await.0, 202);
    outage.fakes.opt_outs.operations.heal("is_listed");
    let queued = outage.texts_queue.queued();
    assert_eq!(queued.len(), 2);

    // The post-voicemail text's lead replied STOP while it waited.
    let optout = outage.fakes.text_optout(&[]);
    let stop = edited_body("text-optout-plus-1", |body| body["record_phone_number"] = "+12025550187".into());
    assert_eq!(answer(&optout, event_with_body("text-optout-plus-1", &stop)).await.0, 200);

    let logs = LogCapture::default();
    let _capturing = logs.install();
    assert!(failed(&outage.redrive.handle(&sqs_event(&queued), "r1", whole_invocation()).await).is_empty());
    assert_eq!(outage.sent_to(), ["+12025550143"]);
    let outcomes: Vec<_> = logs.summaries().iter().map(|line| line["outcome"].clone()).collect();
    assert_eq!(outcomes, ["sent", "opted_out"]);
    assert!(outage.fakes.ledger.entry(&voicemail(1235)).is_none(), "not claimed: sendable if the lead opts back in");
}

/// A text older than its kind's maximum age is never sent: settled `expired` (counted), and every later
/// delivery of its id answers `expired`. A post-voicemail text may wait longer than a pre-call one.
#[tokio::test]
async fn a_text_older_than_its_maximum_age_is_settled_expired_and_never_sent() {
    let outage = outage(&[]);
    let queued = outage.texts_queued(&["send-text-pre-call", "send-text-post-voicemail"]).await;
    // 16 minutes later: past a pre-call text's 15, within a post-voicemail text's hour.
    let late: Vec<QueuedDelivery> = queued.into_iter().map(|delivery| received_ago(delivery, 16 * 60)).collect();

    let logs = LogCapture::default();
    let _capturing = logs.install();
    assert!(failed(&outage.redrive.handle(&sqs_event(&late), "r1", whole_invocation()).await).is_empty());
    assert_eq!(outage.sent_to(), ["+12025550187"], "only the post-voicemail text");
    assert_eq!(outage.fakes.ledger.entry(&pre_call(1234)).unwrap().status, TextStatus::Expired);
    assert_eq!(logs.metrics()[0]["Expired"], 1);

    assert!(failed(&outage.redrive.handle(&sqs_event(&late), "r2", whole_invocation()).await).is_empty());
    let again = request_from(&sample("send-text-pre-call"), "req-again");
    assert_eq!(answer(&outage.send_text, again).await.1, json!({"status": "expired", "id": 1234}));
    assert_eq!(outage.sent_to().len(), 1);
}

#[tokio::test]
async fn the_maximum_ages_are_configurable() {
    let outage = outage(&[("QUEUED_POST_VOICEMAIL_TEXT_MAX_AGE_SECONDS", "600")]);
    let queued = outage.texts_queued(&["send-text-post-voicemail"]).await;
    let late: Vec<QueuedDelivery> = queued.into_iter().map(|delivery| received_ago(delivery, 11 * 60)).collect();
    assert!(failed(&outage.redrive.handle(&sqs_event(&late), "r1", whole_invocation()).await).is_empty());
    assert!(outage.sent_to().is_empty());
    assert_eq!(outage.fakes.ledger.entry(&voicemail(1235)).unwrap().status, TextStatus::Expired);
}

/// text-optout queued the STOP while DynamoDB failed: the redrive lists the number, and a redelivered message
/// changes nothing.
#[tokio::test]
async fn queued_opt_outs_are_listed_by_the_redrive() {
    let outage = outage(&[]);
    let optout = outage.fakes.text_optout(&[]);
    outage.fakes.opt_outs.operations.fail("add");
    assert_eq!(answer(&optout, event("text-optout-odd-types")).await.0, 202);
    outage.fakes.opt_outs.operations.heal("add");
    let queued = outage.fakes.queue.queued();
    assert_eq!((queued.len(), queued[0].function), (1, QueuedFunction::TextOptOut));
    assert!(outage.fakes.opt_outs.is_empty());

    let logs = LogCapture::default();
    let _capturing = logs.install();
    assert!(failed(&outage.redrive.handle(&sqs_event(&queued), "r1", whole_invocation()).await).is_empty());
    let item = outage.fakes.opt_outs.item("+12025550179").expect("listed by the redrive");
    assert_eq!((&item["source"], &item["meta"]), (&json!("text-optout"), &json!([])));
    assert_eq!(logs.summaries()[0]["outcome"], "opted_out");
    assert_eq!(logs.metrics()[0]["queued_by"], "text-optout");
    assert!(failed(&outage.redrive.handle(&sqs_event(&queued), "r2", whole_invocation()).await).is_empty());
    assert_eq!(outage.fakes.opt_outs.len(), 1);

    // Now a text to that lead is not sent.
    let text = edited_body("send-text-pre-call", |body| body["record_phone_number"] = 2025550179u64.into());
    assert_eq!(answer(&outage.send_text, event_with_body("send-text-pre-call", &text)).await.1["status"], "opted_out");
}

/// A do-not-call whose listing failed was queued with its call (stored already): the redrive lists it.
#[tokio::test]
async fn a_queued_do_not_call_whose_listing_failed_is_listed_by_the_redrive() {
    let outage = outage(&[]);
    outage.fakes.opt_outs.operations.fail("add");
    assert_eq!(answer(&outage.post_call, event("post-call-do-not-call")).await.0, 202);
    outage.fakes.opt_outs.operations.heal("add");
    assert_eq!(outage.fakes.calls.len(), 1, "stored at once");
    let queued = outage.fakes.queue.queued();
    assert!(failed(&outage.redrive.handle(&sqs_event(&queued), "r1", whole_invocation()).await).is_empty());
    assert!(outage.fakes.opt_outs.item("+12025550188").is_some());
    assert_eq!(outage.fakes.calls.len(), 1);
}

/// A do-not-call whose listing failed and whose id is unusable was queued all the same: the redrive lists the
/// number; the call itself can never be stored, so the message is kept (reported failed, then the dead-letter
/// queue) for a person.
#[tokio::test]
async fn a_queued_do_not_call_without_a_usable_id_is_listed_then_kept_for_a_person() {
    let outage = outage(&[]);
    outage.fakes.opt_outs.operations.fail("add");
    let body = edited_body("post-call-do-not-call", |body| body["id"] = json!("not an id"));
    assert_eq!(answer(&outage.post_call, event_with_body("post-call-do-not-call", &body)).await.0, 202);
    outage.fakes.opt_outs.operations.heal("add");
    let queued = outage.fakes.queue.queued();
    assert_eq!(failed(&outage.redrive.handle(&sqs_event(&queued), "r1", whole_invocation()).await), ["m-0"]);
    assert!(outage.fakes.opt_outs.item("+12025550188").is_some(), "listed");
    assert!(outage.fakes.calls.is_empty());
}

/// SNS refusing a queued text for good: settled failed, the message completed (never tried again).
#[tokio::test]
async fn a_queued_text_sns_refuses_for_good_is_settled_failed_and_not_tried_again() {
    let outage = outage(&[]);
    let queued = outage.texts_queued(&["send-text-pre-call"]).await;
    outage.fakes.sms.refuse_for_good("InvalidParameter");
    assert!(failed(&outage.redrive.handle(&sqs_event(&queued), "r1", whole_invocation()).await).is_empty());
    assert_eq!(outage.fakes.ledger.entry(&pre_call(1234)).unwrap().status, TextStatus::Failed);
    assert!(outage.sent_to().is_empty());
}

/// SNS still failing, or still throttling the sending rate: the message is reported failed and the claim given
/// back, so the next try sends it once.
/// SNS failing is delivered again after the queue's visibility timeout; SNS throttling is tried again within the
/// invocation until it must answer, then given back and delivered again in a second. Either way, sent once.
/// (Paused time: the waits for the rate pass at once.)
#[tokio::test(start_paused = true)]
async fn a_text_sns_still_refuses_or_throttles_is_tried_again_and_sent_once() {
    for throttled in [false, true] {
        let outage = outage(&[]);
        let queued = outage.texts_queued(&["send-text-pre-call"]).await;
        let refusing = |on: bool| match (throttled, on) {
            (true, on) => outage.fakes.sms.throttle(on),
            (false, true) => outage.fakes.sms.operations.fail("send"),
            (false, false) => outage.fakes.sms.operations.heal("send"),
        };
        refusing(true);
        let started = tokio::time::Instant::now();
        assert_eq!(failed(&outage.redrive.handle(&sqs_event(&queued), "r1", whole_invocation()).await), ["m-0"]);
        assert!(outage.fakes.ledger.entry(&pre_call(1234)).is_none(), "given back (throttled: {throttled})");
        let redelivered: Vec<Duration> = outage.fakes.queue.redelivered().into_iter().map(|(_, after)| after).collect();
        if throttled {
            // The invocation's 60 s less a try, the release, the redelivery and the margin were spent trying.
            assert!(started.elapsed() >= Duration::from_secs(40), "{:?}", started.elapsed());
            assert!(redelivered.len() == 1 && redelivered[0] <= Duration::from_secs(1), "{redelivered:?}");
        } else {
            assert!(redelivered.is_empty(), "after the visibility timeout: {redelivered:?}");
        }

        refusing(false);
        assert!(failed(&outage.redrive.handle(&sqs_event(&queued), "r2", whole_invocation()).await).is_empty());
        assert!(failed(&outage.redrive.handle(&sqs_event(&queued), "r3", whole_invocation()).await).is_empty());
        assert_eq!(outage.sent_to().len(), 1, "throttled: {throttled}");
    }
}

/// With the legal-hours guard on, a queued text is sent only within its lead's hours: one whose hours open before
/// its maximum age is left on the queue (SQS delivers it again) with nothing claimed; one whose hours do not is
/// settled `outside_hours`, never sent, and completed.
#[tokio::test]
async fn a_queued_text_waits_for_its_leads_hours_or_is_settled_outside_hours() {
    for (local, waits) in [(7 * 60 + 55, true), (23 * 60 + 30, false)] {
        let outage = outage(&[("TEXT_HOURS", "08:00-21:00")]);
        outage.fakes.sms.operations.fail("send");
        let request = event_with_body("send-text-pre-call", &pre_call_in_dc_at(local));
        assert_eq!(answer(&outage.send_text, request).await.0, 202, "queued while SNS failed");
        outage.fakes.sms.operations.heal("send");

        let response = outage.redrive.handle(&sqs_event(&outage.texts_queue.queued()), "r1", whole_invocation()).await;
        let entry = outage.fakes.ledger.entry(&pre_call(1234)).unwrap();
        if waits {
            assert_eq!(failed(&response), ["m-0"], "left on the queue until 8:00");
            assert_eq!(entry.status, TextStatus::Queued, "the queueing delivery's claim, not taken over");
            let redelivered = outage.fakes.queue.redelivered();
            let after = redelivered.first().map(|(_, after)| after.as_secs()).unwrap_or_default();
            assert!(redelivered.len() == 1 && (230..=300).contains(&after), "delivered again at 8:00: {redelivered:?}");
        } else {
            assert!(failed(&response).is_empty(), "completed");
            assert_eq!(entry.status, TextStatus::OutsideHours);
        }
        assert!(outage.sent_to().is_empty());
    }
}

/// The redrive waits for the sending rate within the invocation: throttled for a while, the text goes out as soon
/// as SNS takes it again, once, the throttles and the wait measured.
#[tokio::test(start_paused = true)]
async fn a_throttled_text_goes_out_as_soon_as_the_rate_allows_within_the_invocation() {
    for rate in [None, Some("3")] {
        let env: Vec<(&str, &str)> = rate.map(|rate| ("SMS_PARTS_PER_SECOND", rate)).into_iter().collect();
        let outage = outage(&env);
        let queued = outage.texts_queued(&["send-text-pre-call"]).await;
        outage.fakes.sms.throttle(true);
        let sms = outage.fakes.sms.clone();
        let capacity_back = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(5)).await;
            sms.throttle(false);
        });
        let logs = LogCapture::default();
        let _capturing = logs.install();
        let started = tokio::time::Instant::now();
        assert!(failed(&outage.redrive.handle(&sqs_event(&queued), "r1", whole_invocation()).await).is_empty());
        capacity_back.await.unwrap();
        let took = started.elapsed();
        assert!(took >= Duration::from_secs(5) && took <= Duration::from_secs(7), "{rate:?}: {took:?}");
        assert_eq!(outage.sent_to().len(), 1);
        assert_eq!(outage.fakes.ledger.entry(&pre_call(1234)).unwrap().status, TextStatus::Sent);
        let metrics = &logs.metrics()[0];
        assert!(metrics["SmsThrottled"].as_u64().is_some_and(|throttles| throttles >= 4), "{rate:?}: {metrics}");
        assert!(metrics["TextWaitedForRate"].as_u64().is_some_and(|waited| waited >= 5_000), "{metrics}");
        assert!(outage.fakes.queue.redelivered().is_empty());
    }
}

/// With a known rate this instance's share may not come round within the invocation: the text is given back
/// until it does, not tried again every second (each try would be a claim, two checks and a receive).
#[tokio::test(start_paused = true)]
async fn a_text_with_no_share_of_a_known_rate_in_time_comes_back_when_the_share_is_free() {
    // 0.1 parts a second over 5 instances: this one carries a part every 50 s.
    let outage = outage(&[("SMS_PARTS_PER_SECOND", "0.1"), ("REDRIVE_MAXIMUM_CONCURRENCY", "5")]);
    let queued = outage.texts_queued(&["send-text-pre-call", "send-text-post-voicemail"]).await;
    let response = outage.redrive.handle(&sqs_event(&queued), "r1", whole_invocation()).await;
    assert_eq!(failed(&response), ["m-1"], "the first sent, the second given back");
    assert_eq!(outage.sent_to().len(), 1);
    assert!(outage.fakes.ledger.entry(&voicemail(1235)).is_none(), "its claim given back");
    let redelivered: Vec<u64> = outage.fakes.queue.redelivered().iter().map(|(_, after)| after.as_secs()).collect();
    assert!(redelivered.len() == 1 && (45..=50).contains(&redelivered[0]), "{redelivered:?}");
}

/// A text the rate still holds back within seconds of its maximum age is settled expired, never sent, and done
/// with: not given back to come back only to expire.
#[tokio::test(start_paused = true)]
async fn a_text_the_rate_holds_back_until_its_maximum_age_is_settled_expired() {
    let outage = outage(&[]);
    let queued = outage.texts_queued(&["send-text-pre-call"]).await;
    // 3 s before it: the wall clock (which judges the age) does not move while paused time passes the waits.
    let nearly_late: Vec<QueuedDelivery> =
        queued.into_iter().map(|delivery| received_ago(delivery, 15 * 60 - 3)).collect();
    outage.fakes.sms.throttle(true);
    assert!(failed(&outage.redrive.handle(&sqs_event(&nearly_late), "r1", whole_invocation()).await).is_empty());
    assert_eq!(outage.fakes.ledger.entry(&pre_call(1234)).unwrap().status, TextStatus::Expired);
    assert!(outage.sent_to().is_empty() && outage.fakes.queue.redelivered().is_empty());
}

/// SQS may deliver one message twice, even in one batch: one SMS. Each message claims as an attempt of its own,
/// so even when the first copy's claim is left unfinished (recording the text as sent failed), the second copy
/// does not take it for its own: it waits (reported failed) instead of publishing again.
#[tokio::test]
async fn a_message_twice_in_one_batch_sends_one_text() {
    for unfinished in [false, true] {
        let outage = outage(&[]);
        let queued = outage.texts_queued(&["send-text-pre-call"]).await;
        if unfinished {
            outage.fakes.ledger.operations.fail("mark_sent");
        }
        let twice = [queued[0].clone(), queued[0].clone()];
        let expected_failures: &[&str] = if unfinished { &["m-1"] } else { &[] };
        assert_eq!(
            failed(&outage.redrive.handle(&sqs_event(&twice), "r1", whole_invocation()).await),
            expected_failures
        );
        assert_eq!(outage.sent_to().len(), 1, "unfinished claim: {unfinished}");
    }
}

/// An earlier redrive that died holding the claim may have published: its claim is never taken over. While its
/// lease runs the message waits (409, tried again); after it the text counts as unconfirmed, never sent again.
#[tokio::test]
async fn a_claim_an_earlier_redrive_died_holding_is_never_sent_again() {
    let outage = outage(&[]);
    let queued = outage.texts_queued(&["send-text-pre-call"]).await;
    let ledger = &outage.fakes.ledger;
    let lease_ahead = OffsetDateTime::now_utc().unix_timestamp() + 60;
    ledger.insert(pre_call(1234), LedgerEntry::unfinished_claim("r0/0", lease_ahead));
    assert_eq!(failed(&outage.redrive.handle(&sqs_event(&queued), "r1", whole_invocation()).await), ["m-0"]);

    ledger.insert(pre_call(1234), LedgerEntry::unfinished_claim("r0/0", 0));
    assert!(failed(&outage.redrive.handle(&sqs_event(&queued), "r2", whole_invocation()).await).is_empty());
    assert!(outage.sent_to().is_empty());
}

/// A message is started only while the invocation's deadline leaves the slowest message's time: with less, none
/// is, and each is reported for SQS to deliver again (nothing half-done, no claim taken); with the time, the same
/// batch completes.
#[tokio::test]
async fn messages_the_deadline_leaves_no_time_for_are_not_started_and_delivered_again() {
    let outage = outage(&[]);
    let queued = outage.texts_queued(&["send-text-pre-call", "send-text-post-voicemail"]).await;
    let calls_before = outage.fakes.ledger.operations.called().len();
    let too_little = Deadline::after(MESSAGE_WORST_CASE + MARGIN - Duration::from_millis(1));

    assert_eq!(failed(&outage.redrive.handle(&sqs_event(&queued), "r1", too_little).await), ["m-0", "m-1"]);
    assert_eq!(outage.fakes.ledger.operations.called().len(), calls_before, "no message started");
    assert!(outage.sent_to().is_empty());

    assert!(failed(&outage.redrive.handle(&sqs_event(&queued), "r2", whole_invocation()).await).is_empty());
    assert_eq!(outage.sent_to().len(), 2);
}

/// lead-events queued a reply that says stop, a classification and a transfer while DynamoDB failed: the redrive
/// (from the route kept with each message) lists the number first, keeps each event once, sets the transfer on
/// its call; a redelivered message changes nothing; the next text to the lead is not sent.
#[tokio::test]
async fn queued_lead_events_are_completed_by_the_redrive_from_their_route() {
    let outage = outage(&[]);
    let lead_events = outage.fakes.lead_events(&[]);
    outage.fakes.opt_outs.operations.fail("add");
    outage.fakes.lead_events.operations.fail("store_event");
    outage.fakes.calls.operations.fail("set_transfer");
    for name in [
        "lead-events-text-unsubscribe",
        "lead-events-text-classification-pricing",
        "lead-events-transfer-type-qualified",
    ] {
        assert_eq!(answer(&lead_events, event(name)).await.1["status"], "queued", "{name}");
    }
    for operation in ["add", "store_event"] {
        outage.fakes.opt_outs.operations.heal(operation);
        outage.fakes.lead_events.operations.heal(operation);
    }
    outage.fakes.calls.operations.heal("set_transfer");
    let queued = outage.fakes.queue.queued();
    let routes: Vec<(&str, QueuedFunction)> = queued.iter().map(|q| (q.route.as_str(), q.function)).collect();
    assert_eq!(
        routes,
        [
            ("text", QueuedFunction::LeadEvents),
            ("text-classification", QueuedFunction::LeadEvents),
            ("transfer-type", QueuedFunction::LeadEvents)
        ]
    );

    let logs = LogCapture::default();
    let _capturing = logs.install();
    assert!(failed(&outage.redrive.handle(&sqs_event(&queued), "r1", whole_invocation()).await).is_empty());
    let outcomes: Vec<_> = logs.summaries().iter().map(|line| line["outcome"].as_str().map(str::to_owned)).collect();
    assert_eq!(outcomes, [Some("opted_out".into()), Some("stored".into()), Some("stored".into())]);
    assert_eq!(logs.metrics()[0]["queued_by"], "lead-events");
    assert_eq!(outage.fakes.opt_outs.item("+12025550166").unwrap()["source"], "text:unsubscribe");
    assert_eq!(outage.fakes.calls.item(id(123)).unwrap()["transfer_type"], "qualified");
    assert!(failed(&outage.redrive.handle(&sqs_event(&queued), "r2", whole_invocation()).await).is_empty());
    assert_eq!((outage.fakes.lead_events.len(), outage.fakes.opt_outs.len()), (2, 1), "each kept once");

    let text = edited_body("send-text-pre-call", |body| body["record_phone_number"] = "+12025550166".into());
    assert_eq!(answer(&outage.send_text, event_with_body("send-text-pre-call", &text)).await.1["status"], "opted_out");
    assert!(outage.sent_to().is_empty());
}
