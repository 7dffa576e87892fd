//! sms-delivery-status: SNS writes a delivery record for each text to CloudWatch Logs (once SMS delivery-status
//! logging is on); a subscription on those log groups invokes this function, which sets each record's status,
//! provider response, price and time on the sent text SNS gave that message id, and counts them.
//!
//! [`handler`] is pure over the [`ports::DeliveryLedger`] port; [`adapters`] implements it on DynamoDB;
//! [`report`] reads one record.

pub mod adapters;
pub mod config;
pub mod handler;
pub mod ports;
pub mod report;
