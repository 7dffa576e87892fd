//! CloudWatch Logs subscription events as SNS's delivery logging and the subscription produce them.

use aws_lambda_events::cloudwatch_logs::{LogData, LogsEvent};
use base64::Engine;
use flate2::Compression;
use flate2::write::GzEncoder;
use serde_json::{Value, json};
use std::io::Write;

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
        "delivery": {"phoneCarrier": "Example Carrier", "mnc": 270, "numberOfMessageParts": 1, "destination": destination,
                     "priceInUSD": 0.00645,
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
