//! The ledger port on DynamoDB: the only file of this function that names the AWS SDK.

mod dynamodb;
#[cfg(test)]
mod tests;

pub use dynamodb::{DynamoDeliveryLedger, MESSAGE_ID_INDEX};
