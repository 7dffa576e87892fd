//! The ledger port on the text work's in-memory sent-texts table (`texts::fakes::FakeLedger`, the one send-text's
//! fakes write, so a test can send a text and then report its delivery). Test code only, behind the `fakes`
//! feature.

use crate::handler::DeliveryStatusHandler;
use crate::ports::{
    DELIVERY_PARTS, DELIVERY_PRICE_USD, DELIVERY_PROVIDER_RESPONSE, DELIVERY_REPORTED_AT, DELIVERY_STATUS,
    DeliveryLedger, Recorded, ReportedText, SMS_PARTS,
};
use crate::report::DeliveryReport;
use serde_json::{Value, json};
use texts::fakes::FakeLedger;
use webhook::error::DependencyError;
use webhook::metrics::DEFAULT_NAMESPACE;

/// Operation `record_delivery`, with the adapter's conditions: the text with that message id, and only a newer
/// report than the one it carries.
impl DeliveryLedger for &FakeLedger {
    async fn record(&self, report: &DeliveryReport) -> Result<Recorded, DependencyError> {
        self.operations.call("record_delivery")?;
        let Some(key) = self.key_of_message(&report.message_id) else {
            return Ok(Recorded::UnknownMessage);
        };
        let id = key.id;
        let mut counted_parts = None;
        let applied = self.update_item(&key, |item| {
            let kept = item.get(DELIVERY_REPORTED_AT).and_then(Value::as_str);
            if kept.is_some_and(|kept| kept >= report.reported_at.as_str()) {
                return false;
            }
            item[DELIVERY_STATUS] = report.status.as_str().into();
            item[DELIVERY_REPORTED_AT] = report.reported_at.as_str().into();
            for (name, value) in [
                (DELIVERY_PROVIDER_RESPONSE, report.provider_response.as_deref().map(Value::from)),
                (DELIVERY_PRICE_USD, report.price_usd.map(|price| json!(price.get()))),
                (DELIVERY_PARTS, report.parts.map(Value::from)),
            ] {
                match value {
                    Some(value) => item[name] = value,
                    None => drop(item.as_object_mut().and_then(|item| item.remove(name))),
                }
            }
            counted_parts = item.get(SMS_PARTS).and_then(Value::as_u64).and_then(|parts| u32::try_from(parts).ok());
            true
        });
        Ok(match applied {
            true => Recorded::Applied(ReportedText { id, text_type: key.text_type.as_str().to_owned(), counted_parts }),
            false => Recorded::AlreadyCurrent { id },
        })
    }
}

/// sms-delivery-status on `ledger` (send-text's, when a test sends texts first).
pub fn delivery_status_on(ledger: &FakeLedger) -> DeliveryStatusHandler<&FakeLedger> {
    DeliveryStatusHandler::new(ledger, DEFAULT_NAMESPACE)
}
