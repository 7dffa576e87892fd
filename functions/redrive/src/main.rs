//! redrive: completes the deliveries the webhooks queued when a dependency failed.

use aws_lambda_events::sqs::SqsEvent;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use post_call::adapters::DynamoCallStore;
use post_call::handler::CallRecorder;
use redrive::config::RedriveConfig;
use redrive::handler::RedriveHandler;
use send_text::adapters::{DynamoTextLedger, SnsSmsSender};
use send_text::handler::{TextRules, TextSender};
use text_optout::handler::OptOutLister;
use webhook::aws::{DynamoOptOuts, load_aws_config};
use webhook::budget::Deadline;
use webhook::config::FromEnvironment;
use webhook::phone::PhoneNumber;

// Lambda runs one invocation at a time per process: a single-threaded runtime is enough and cheaper.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    webhook::telemetry::init();
    let config = RedriveConfig::from_env()
        .inspect_err(|error| tracing::error!(%error, "redrive cannot start: invalid configuration"))?;
    PhoneNumber::load_metadata(config.data.default_country);
    config.suppression_list.log_at_start("redrive");
    let aws = load_aws_config().await;
    // One client for the three tables: its set-up is paid once, and its connections serve any.
    let dynamodb = aws_sdk_dynamodb::Client::new(&aws);
    let opt_outs = config.suppression_list.table().map(|table| DynamoOptOuts::from_client(dynamodb.clone(), table));
    let calls = DynamoCallStore::from_client(dynamodb.clone(), &config.calls_table);
    let calls = CallRecorder::new(&config.data, config.suppress_texts_on, calls, opt_outs.clone());
    let ledger = DynamoTextLedger::from_client(dynamodb, &config.sent_texts_table);
    let sms = SnsSmsSender::new(&aws, &config.sms)?;
    let rules = TextRules { recipients: config.allowed_recipients, max_age: config.queued_max_age };
    let texts = TextSender::new(&config.data, rules, ledger, sms, opt_outs.clone());
    let lister = OptOutLister::new(opt_outs, config.data.default_country);
    let handler = RedriveHandler::new(calls, texts, lister, config.data.metrics_namespace);
    lambda_runtime::run(service_fn(|event: LambdaEvent<SqsEvent>| {
        let handler = &handler;
        let deadline = Deadline::at_epoch_ms(event.context.deadline);
        async move { Ok::<_, Error>(handler.handle(&event.payload, &event.context.request_id, deadline).await) }
    }))
    .await
}
