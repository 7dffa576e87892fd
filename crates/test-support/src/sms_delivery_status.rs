//! sms-delivery-status's ledger on the in-memory sent-texts table (the one send-text's fakes write, so a test
//! can send a text and then report its delivery), and CloudWatch Logs subscription events as SNS's delivery
//! logging and the subscription produce them.

use crate::send_text::FakeLedger;
use aws_lambda_events::cloudwatch_logs::{LogData, LogsEvent};
use base64::Engine;
use flate2::Compression;
use flate2::write::GzEncoder;
use serde_json::{Value, json};
use sms_delivery_status::handler::DeliveryStatusHandler;
use sms_delivery_status::ports::{
    DELIVERY_PRICE_USD, DELIVERY_PROVIDER_RESPONSE, DELIVERY_REPORTED_AT, DELIVERY_STATUS, DeliveryLedger, Recorded,
};
use sms_delivery_status::report::DeliveryReport;
use std::io::Write;
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
            ] {
                match value {
                    Some(value) => item[name] = value,
                    None => drop(item.as_object_mut().and_then(|item| item.remove(name))),
                }
            }
            true
        });
        Ok(if applied { Recorded::Applied { id } } else { Recorded::AlreadyCurrent { id } })
    }
}

/// sms-delivery-status on `ledger` (send-text's, when a test sends texts first).
pub fn delivery_status_on(ledger: &FakeLedger) -> DeliveryStatusHandler<&FakeLedger> {
    DeliveryStatusHandler::new(ledger, DEFAULT_NAMESPACE)
}

/// The log group SNS writes successes to (`failure` = its `/Failure` group).
pub fn log_group(failure: bool) -> String {
    let group = "sns/us-east-1/123456789012/DirectPublishToPhoneNumber";
    if failure { format!("{group}/Failure") } else { group.to_owned() }
}

/// A delivery record line as SNS writes it.
pub fn delivery_line(message_id: &str, success: bool, timestamp: &str, destination: &str) -> String {
    let (status, response) = match success {
        true => ("SUCCESS", "Message has been accepted by phone carrier"),
        false => ("FAILURE", "Unknown error attempting to reach phone"),
    };
    json!({
        "notification": {"messageId": message_id, "timestamp": timestamp},
        "delivery": {"phoneCarrier": "Example Carrier", "mnc": 270, "destination": destination, "priceInUSD": 0.00645,
                     "smsType": "Transactional", "mcc": 310, "providerResponse": response, "dwellTimeMs": 599,
                     "dwellTimeMsUntilDeviceAck": 1344},
        "status": status
    })
    .to_string()
}

/// The decoded `awslogs.data` of a subscription batch of `lines` from `log_group`.
pub fn log_data_json(log_group: &str, lines: &[String]) -> Value {
    let events: Vec<Value> = lines
        .iter()
        .enumerate()
        .map(|(index, line)| {
            json!({"id": format!("3719524{index:035}"), "timestamp": 1_764_000_000_000i64 + index as i64,
                   "message": line})
        })
        .collect();
    json!({"messageType": "DATA_MESSAGE", "owner": "123456789012", "logGroup": log_group,
           "logStream": "a1b2c3d4-0000-4000-8000-000000000000", "subscriptionFilters": ["sms-delivery-status"],
           "logEvents": events})
}

pub fn log_data(log_group: &str, lines: &[String]) -> LogData {
    serde_json::from_value(log_data_json(log_group, lines)).expect("log data")
}

/// The subscription event Lambda receives: `{"awslogs": {"data": base64(gzip(log data))}}`.
pub fn subscription_event(log_data: &Value) -> String {
    let mut gzip = GzEncoder::new(Vec::new(), Compression::default());
    gzip.write_all(log_data.to_string().as_bytes()).expect("gzip");
    let data = base64::engine::general_purpose::STANDARD.encode(gzip.finish().expect("gzip"));
    json!({"awslogs": {"data": data}}).to_string()
}

/// The decoded `awslogs.data` of a subscription event, as JSON.
pub fn log_data_of(event: &str) -> Value {
    serde_json::to_value(decode(event)).expect("log data as JSON")
}

/// A subscription event as the runtime hands it to the function.
pub fn decode(event: &str) -> LogData {
    serde_json::from_str::<LogsEvent>(event).expect("a subscription event").aws_logs.data
}
