//! redrive on the fakes of the webhooks whose deliveries it completes, and the SQS events it is fed.

use crate::events::env;
use crate::opt_outs::FakeOptOuts;
use crate::post_call::{FakeCallStore, FakePostCall};
use crate::send_text::{FakeLedger, FakeSendText, FakeSms};
use aws_lambda_events::sqs::SqsEvent;
use post_call::handler::CallRecorder;
use redrive::config::RedriveConfig;
use redrive::handler::RedriveHandler;
use send_text::handler::{TextRules, TextSender};
use serde_json::json;
use text_optout::handler::OptOutLister;
use webhook::config::FromEnvironment;
use webhook::fallback::QueuedDelivery;

pub type FakeRedrive = RedriveHandler<FakeCallStore, FakeOptOuts, FakeLedger, FakeSms, FakeOptOuts>;

/// redrive on the same calls table as `post_call`, and the same sent-texts table, SMS sender and suppression
/// list as `send_text` (the list text-optout's opt-outs are put on); configured by the sample events' environment
/// and `extra_env`.
pub fn redrive_sharing(post_call: &FakePostCall, send_text: &FakeSendText, extra_env: &[(&str, &str)]) -> FakeRedrive {
    let config = RedriveConfig::from_lookup(env(extra_env)).expect("a valid test configuration");
    let list = send_text.opt_outs().clone();
    let calls =
        CallRecorder::new(&config.data, config.suppress_texts_on, post_call.calls().clone(), Some(list.clone()));
    let (ledger, sms) = (send_text.ledger().clone(), send_text.sms().clone());
    let rules = TextRules { recipients: config.allowed_recipients, max_age: config.queued_max_age };
    let texts = TextSender::new(&config.data, rules, ledger, sms, list.clone());
    let lister = OptOutLister::new(Some(list), config.data.default_country);
    RedriveHandler::new(calls, texts, lister, config.data.metrics_namespace)
}

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
