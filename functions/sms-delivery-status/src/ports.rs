//! The one capability sms-delivery-status needs. `adapters` implements it on DynamoDB; `fakes` on the text
//! work's in-memory sent-texts table (`texts::fakes::FakeLedger`).

use crate::report::DeliveryReport;
use std::future::Future;
use webhook::error::DependencyError;
use webhook::payload::WebhookId;

/// `SUCCESS` or `FAILURE`, as SNS wrote it.
pub const DELIVERY_STATUS: &str = "delivery_status";
pub const DELIVERY_PROVIDER_RESPONSE: &str = "delivery_provider_response";
/// A Number.
pub const DELIVERY_PRICE_USD: &str = "delivery_price_usd";
/// The report's own time (RFC 3339, milliseconds): a report older than the one kept is ignored.
pub const DELIVERY_REPORTED_AT: &str = "delivery_reported_at";
/// A Number: the parts SNS billed (`numberOfMessageParts`), beside send-text's own count (`sms_parts`).
pub const DELIVERY_PARTS: &str = "delivery_parts";
/// The parts send-text counted for the text as it went out (`texts::ledger::SMS_PARTS`), read back to compare.
pub const SMS_PARTS: &str = "sms_parts";

/// Every attribute a delivery report sets on a sent-texts item. send-text declares them as its own, so a
/// sender's field of the same name can never pose as a delivery status.
pub const DELIVERY_ATTRIBUTES: [&str; 5] =
    [DELIVERY_STATUS, DELIVERY_PROVIDER_RESPONSE, DELIVERY_PRICE_USD, DELIVERY_REPORTED_AT, DELIVERY_PARTS];

/// The sent text a report was applied to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportedText {
    pub id: WebhookId,
    /// Its key's `text_type` (`pre-call`, …).
    pub text_type: String,
    /// The parts send-text counted for it (`sms_parts`); `None` for a text sent before it counted them.
    pub counted_parts: Option<u32>,
}

/// What recording a report came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recorded {
    /// The sent text now carries this report.
    Applied(ReportedText),
    /// The sent text already carries this report or a newer one: nothing changed.
    AlreadyCurrent { id: WebhookId },
    /// No sent text has this message id (another sender in the account, or one whose item has expired).
    UnknownMessage,
}

/// The sent-texts table, seen by delivery reports.
pub trait DeliveryLedger: Send + Sync {
    /// Sets the report on the sent text SNS gave `report.message_id`, unless that text already carries a report
    /// as new or newer. Applying the same report again changes nothing.
    fn record(&self, report: &DeliveryReport) -> impl Future<Output = Result<Recorded, DependencyError>> + Send;
}
