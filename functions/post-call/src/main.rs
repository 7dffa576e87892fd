//! post-call: stores each call record 2X sends in DynamoDB, keyed by its webhook id.

use calls::aws::DynamoCallStore;
use lambda_http::Error;
use post_call::config::PostCallConfig;
use post_call::handler::PostCallDeps;
use webhook::aws::{DynamoOptOuts, OnTable, SqsFallbackQueue, Started, start_webhook};
use webhook::pipeline::serve;

// Lambda runs one invocation at a time per process: a single-threaded runtime is enough and cheaper.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let Started { config, aws, authenticator } = start_webhook::<PostCallConfig>("post-call").await?;
    config.own.suppression_list.log_at_start("post-call");
    // One client for both tables: its set-up is paid once, and its connections serve either.
    let dynamodb = aws_sdk_dynamodb::Client::new(&aws);
    let calls = DynamoCallStore::from_client(dynamodb.clone(), &config.own.calls.calls_table);
    let opt_outs = config.own.suppression_list.table().map(|table| DynamoOptOuts::from_client(dynamodb.clone(), table));
    let queue = config.fallback_queue_url.as_ref().map(|url| SqsFallbackQueue::new(&aws, url));
    calls.open_connection().await;
    let handler = post_call::handler::build(config, authenticator, PostCallDeps { calls, opt_outs, queue });
    serve(&handler).await
}
