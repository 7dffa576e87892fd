//! redrive: completes the deliveries the webhooks queued when a dependency failed.

// The batch future nests all three kinds of work and the SDK calls within them: deeper than the compiler's
// default of 128 when it computes the future's layout.
#![recursion_limit = "256"]

use aws_lambda_events::sqs::SqsEvent;
use calls::aws::DynamoCallStore;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use leads::aws::DynamoLeadEvents;
use redrive::config::RedriveConfig;
use redrive::handler::{RedriveDeps, RedriveHandler};
use texts::aws::{DynamoTextLedger, SnsSmsSender};
use webhook::aws::{DynamoOptOuts, OnTable, SqsRedelivery, load_aws_config};
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
    // One client for the four tables: its set-up is paid once, and its connections serve any.
    let dynamodb = aws_sdk_dynamodb::Client::new(&aws);
    let deps = RedriveDeps {
        calls: DynamoCallStore::from_client(dynamodb.clone(), &config.calls.calls_table),
        ledger: DynamoTextLedger::from_client(dynamodb.clone(), &config.texts.sent_texts_table),
        lead_events: DynamoLeadEvents::from_client(dynamodb.clone(), &config.leads.lead_events_table),
        // The redrive paces itself at the number's rate: a throttled publish is answered at once.
        sms: SnsSmsSender::new(&aws, &config.texts.sms)?.throttles_to_caller(),
        opt_outs: config.suppression_list.table().map(|table| DynamoOptOuts::from_client(dynamodb, table)),
        queue: SqsRedelivery::new(&aws),
    };
    let handler = RedriveHandler::new(&config, deps);
    lambda_runtime::run(service_fn(|event: LambdaEvent<SqsEvent>| {
        let handler = &handler;
        let deadline = Deadline::at_epoch_ms(event.context.deadline);
        async move { Ok::<_, Error>(handler.handle(&event.payload, &event.context.request_id, deadline).await) }
    }))
    .await
}
