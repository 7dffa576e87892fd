//! The lead-event work's AWS adapter: the lead-events table. With the shared crate's `aws`, the only code that
//! names the AWS SDK.

mod dynamodb;

pub use dynamodb::DynamoLeadEvents;
