//! The text work's AWS adapters: the sent-texts table as the claim ledger, SNS as the SMS sender. With the
//! shared crate's `aws`, the only code that names the AWS SDK.

mod dynamodb;
mod sns;

pub use dynamodb::DynamoTextLedger;
pub use sns::SnsSmsSender;

#[cfg(test)]
mod tests;
