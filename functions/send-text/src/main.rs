//! send-text: publishes each text 2X asks for through SNS at once, at most once per webhook id and type.

use lambda_http::Error;
use send_text::config::SendTextConfig;
use send_text::handler::SendTextDeps;
use texts::aws::{DynamoTextLedger, SnsSmsSender};
use webhook::aws::{DynamoOptOuts, OnTable, SqsFallbackQueue, Started, start_webhook};
use webhook::pipeline::serve;

// Lambda runs one invocation at a time per process: a single-threaded runtime is enough and cheaper.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let Started { config, aws, authenticator } = start_webhook::<SendTextConfig>("send-text").await?;
    config.own.suppression_list.log_at_start("send-text");
    let sms = SnsSmsSender::new(&aws, &config.own.texts.sms)?;
    // One client for both tables: its set-up is paid once, and its connections serve either.
    let dynamodb = aws_sdk_dynamodb::Client::new(&aws);
    let ledger = DynamoTextLedger::from_client(dynamodb.clone(), &config.own.texts.sent_texts_table);
    let opt_outs = config.own.suppression_list.table().map(|table| DynamoOptOuts::from_client(dynamodb.clone(), table));
    let queue = config.fallback_queue_url.as_ref().map(|url| SqsFallbackQueue::new(&aws, url));
    // At once: a text's claim and list lookup run in parallel, so each needs a connection of its own.
    let open_list_connection = async {
        if let Some(opt_outs) = &opt_outs {
            opt_outs.open_connection_to_read().await;
        }
    };
    tokio::join!(sms.open_connection(), ledger.open_connection(), open_list_connection);
    let handler = send_text::handler::build(config, authenticator, SendTextDeps { ledger, sms, opt_outs, queue });
    serve(&handler).await
}
