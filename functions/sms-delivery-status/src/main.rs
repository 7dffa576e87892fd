//! sms-delivery-status: records SNS's delivery status on each sent text, from CloudWatch Logs subscription
//! events.

use aws_lambda_events::cloudwatch_logs::LogsEvent;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use sms_delivery_status::adapters::DynamoDeliveryLedger;
use sms_delivery_status::config::DeliveryStatusConfig;
use sms_delivery_status::handler::DeliveryStatusHandler;
use webhook::aws::{OnTable, load_aws_config};
use webhook::budget::Deadline;
use webhook::config::FromEnvironment;

// Lambda runs one invocation at a time per process: a single-threaded runtime is enough and cheaper.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    webhook::telemetry::init();
    let config = DeliveryStatusConfig::from_env()
        .inspect_err(|error| tracing::error!(%error, "sms-delivery-status cannot start: invalid configuration"))?;
    let aws = load_aws_config().await;
    let ledger = DynamoDeliveryLedger::new(&aws, &config.sent_texts_table);
    ledger.open_connection().await;
    let handler = DeliveryStatusHandler::new(ledger, config.metrics_namespace);
    lambda_runtime::run(service_fn(|event: LambdaEvent<LogsEvent>| {
        let handler = &handler;
        let deadline = Deadline::at_epoch_ms(event.context.deadline);
        async move { handler.handle(&event.payload.aws_logs.data, &event.context.request_id, deadline).await.map(drop) }
    }))
    .await
}
