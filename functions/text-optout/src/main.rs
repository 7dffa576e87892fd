//! text-optout: puts each number 2X reports as opted out (the lead replied STOP) on the suppression list.

use lambda_http::Error;
use text_optout::config::TextOptOutConfig;
use text_optout::handler::TextOptOutHandler;
use webhook::aws::{DynamoOptOuts, SqsFallbackQueue, authenticator, load_aws_config};
use webhook::phone::PhoneNumber;
use webhook::pipeline::serve;

// Lambda runs one invocation at a time per process: a single-threaded runtime is enough and cheaper.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    webhook::telemetry::init();
    let config = TextOptOutConfig::from_env()
        .inspect_err(|error| tracing::error!(%error, "text-optout cannot start: invalid configuration"))?;
    PhoneNumber::start_loading_metadata(config.common.data.default_country);
    let aws = load_aws_config().await;
    let authenticator = authenticator(&config.common.auth, &aws)
        .await
        .inspect_err(|error| tracing::error!(%error, "cannot start: the auth token could not be read"))?;
    let opt_outs = DynamoOptOuts::new(&aws, &config.opt_outs_table);
    let queue = config.fallback_queue_url.as_ref().map(|url| SqsFallbackQueue::new(&aws, url));
    opt_outs.open_connection_to_write().await;
    let handler = TextOptOutHandler::new(config, authenticator, opt_outs, queue);
    serve(&handler).await
}
