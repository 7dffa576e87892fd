//! redrive: completes the deliveries the webhooks queued when a dependency failed.

use aws_lambda_events::sqs::SqsEvent;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use post_call::adapters::DynamoCallStore;
use post_call::config::PostCallConfig;
use post_call::handler::CallRecorder;
use redrive::handler::RedriveHandler;
use webhook::aws::{DynamoOptOuts, load_aws_config};

// Lambda runs one invocation at a time per process: a single-threaded runtime is enough and cheaper.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    webhook::telemetry::init();
    // The same settings post-call reads (tables, end reasons that suppress texts, retention).
    let config = PostCallConfig::from_env()
        .inspect_err(|error| tracing::error!(%error, "redrive cannot start: invalid configuration"))?;
    let aws = load_aws_config().await;
    let calls = DynamoCallStore::new(&aws, &config.calls_table);
    let opt_outs = config.opt_outs_table.as_ref().map(|table| DynamoOptOuts::new(&aws, table));
    let handler = RedriveHandler::new(CallRecorder::new(&config, calls, opt_outs));
    lambda_runtime::run(service_fn(|event: LambdaEvent<SqsEvent>| {
        let handler = &handler;
        async move { Ok::<_, Error>(handler.handle(&event.payload).await) }
    }))
    .await
}
