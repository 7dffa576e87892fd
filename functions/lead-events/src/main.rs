//! lead-events: keeps 2X's inbound texts, classifications, responses and inbound calls once each by the lead's
//! number, lists the number of a lead who said stop, and sets a call's transfer on its record.

use calls::aws::DynamoCallStore;
use lambda_http::Error;
use lead_events::config::LeadEventsConfig;
use lead_events::handler::LeadEventsDeps;
use leads::aws::DynamoLeadEvents;
use webhook::aws::{DynamoOptOuts, OnTable, SqsFallbackQueue, Started, start_webhook};
use webhook::pipeline::serve;

// Lambda runs one invocation at a time per process: a single-threaded runtime is enough and cheaper.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let Started { config, aws, authenticator } = start_webhook::<LeadEventsConfig>("lead-events").await?;
    config.own.suppression_list.log_at_start("lead-events");
    // One client for the three tables: its set-up is paid once, and its connections serve any.
    let dynamodb = aws_sdk_dynamodb::Client::new(&aws);
    let events = DynamoLeadEvents::from_client(dynamodb.clone(), &config.own.leads.lead_events_table);
    let transfers = DynamoCallStore::from_client(dynamodb.clone(), &config.own.leads.calls_table);
    let opt_outs = config.own.suppression_list.table().map(|table| DynamoOptOuts::from_client(dynamodb.clone(), table));
    let queue = config.fallback_queue_url.as_ref().map(|url| SqsFallbackQueue::new(&aws, url));
    events.open_connection().await;
    let deps = LeadEventsDeps { events, transfers, opt_outs, queue };
    let handler = lead_events::handler::build(config, authenticator, deps);
    serve(&handler).await
}
