//! The call work's AWS adapter: the calls table. With the shared crate's `aws`, the only code that names the AWS
//! SDK.

mod dynamodb;

pub use dynamodb::DynamoCallStore;

#[cfg(test)]
mod tests;
