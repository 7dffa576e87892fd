//! sms-delivery-status: SNS writes a delivery record for each text to CloudWatch Logs (once SMS delivery-status
//! logging is on); a subscription on those log groups invokes this function, which sets each record's status,
//! provider response, price and time on the sent text SNS gave that message id, and counts them.
//!
//! [`handler`] is pure over the [`ports::DeliveryLedger`] port; [`adapters`] implements it on DynamoDB;
//! [`report`] reads one record. The `fakes` feature adds the port on the text work's in-memory sent-texts table.

pub mod adapters;
pub mod config;
#[cfg(feature = "fakes")]
pub mod fakes;
pub mod handler;
pub mod ports;
pub mod report;
