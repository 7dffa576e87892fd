//! text-optout: puts each number 2X reports as opted out (the lead replied STOP) on the suppression list.

use lambda_http::Error;
use text_optout::config::TextOptOutConfig;
use text_optout::handler::TextOptOutDeps;
use webhook::aws::{DynamoOptOuts, OnTable, SqsFallbackQueue, Started, start_webhook};
use webhook::pipeline::serve;

// Lambda runs one invocation at a time per process: a single-threaded runtime is enough and cheaper.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let Started { config, aws, authenticator } = start_webhook::<TextOptOutConfig>("text-optout").await?;
    let opt_outs = DynamoOptOuts::new(&aws, &config.own.opt_outs_table);
    let queue = config.fallback_queue_url.as_ref().map(|url| SqsFallbackQueue::new(&aws, url));
    opt_outs.open_connection_to_write().await;
    let handler = text_optout::handler::build(config, authenticator, TextOptOutDeps { opt_outs, queue });
    serve(&handler).await
}
