//! One SNS SMS delivery-status record: the JSON line SNS writes to CloudWatch Logs for each text once
//! delivery-status logging is on, in `sns/<region>/<account>/DirectPublishToPhoneNumber` (successes) and
//! `.../Failure`. Parsed into what we keep; any other line is [`UnreadableRecord`], which never names a value
//! from the line (it may hold a phone number).

use serde::Deserialize;
use std::fmt;
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime};

/// What SNS said became of a text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryStatus {
    /// The carrier accepted it (`SUCCESS`).
    Success,
    /// It was not delivered (`FAILURE`): `provider_response` says why.
    Failure,
}

impl DeliveryStatus {
    /// As SNS writes it, and as the sent-texts item keeps it.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Success => "SUCCESS",
            Self::Failure => "FAILURE",
        }
    }
}

/// The record's `delivery.smsType`: a metric dimension, so only the values SNS writes (anything else is
/// `Other`, which keeps the metric's dimensions bounded).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmsType {
    Transactional,
    Promotional,
    Other,
}

impl SmsType {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Transactional => "Transactional",
            Self::Promotional => "Promotional",
            Self::Other => "Other",
        }
    }

    fn of(value: Option<&str>) -> Self {
        match value {
            Some("Transactional") => Self::Transactional,
            Some("Promotional") => Self::Promotional,
            _ => Self::Other,
        }
    }
}

/// When SNS reported the delivery (`notification.timestamp`, UTC), as RFC 3339 with milliseconds. Always the
/// same width, so two of them compare as text exactly as in time: the table's condition that an older record
/// never overwrites a newer one compares them so.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ReportedAt(String);

impl ReportedAt {
    /// SNS writes `2016-06-28 00:40:34.558` (UTC).
    pub fn parse(sns_timestamp: &str) -> Option<Self> {
        let sns = format_description!("[year]-[month]-[day] [hour]:[minute]:[second][optional [.[subsecond]]]");
        let at = PrimitiveDateTime::parse(sns_timestamp, sns).ok()?.assume_utc();
        Self::from_time(at)
    }

    pub fn from_time(at: OffsetDateTime) -> Option<Self> {
        let rfc3339_ms = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
        // Only four-digit years keep the width fixed (and the text order the time order).
        (1000..=9999).contains(&at.year()).then(|| at.format(rfc3339_ms).ok().map(Self)).flatten()
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An amount SNS charged, in US dollars: a number DynamoDB stores as written.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct PriceUsd(f64);

impl PriceUsd {
    /// Refuses what no SMS costs: a value outside 0..=1,000,000 (which could also fall outside what DynamoDB
    /// stores, and then fail every retry of the batch).
    pub fn new(usd: f64) -> Option<Self> {
        (0.0..=1_000_000.0).contains(&usd).then_some(Self(usd))
    }

    pub const fn get(self) -> f64 {
        self.0
    }
}

impl fmt::Display for PriceUsd {
    /// The shortest decimal that reads back as the same value, never in exponent form: `0.00645`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// What we keep of a delivery record.
#[derive(Debug, Clone, PartialEq)]
pub struct DeliveryReport {
    /// The SNS message id `Publish` returned for the text (`notification.messageId`).
    pub message_id: String,
    pub status: DeliveryStatus,
    /// The carrier's or SNS's words, e.g. `Message has been accepted by phone carrier`.
    pub provider_response: Option<String>,
    pub price_usd: Option<PriceUsd>,
    /// The parts SNS billed the text as (`delivery.numberOfMessageParts`); `None` when absent or not a count of
    /// parts (it only informs: a record is never refused for it, its status would be lost).
    pub parts: Option<u32>,
    pub sms_type: SmsType,
    pub reported_at: ReportedAt,
    /// The last four digits of `delivery.destination`, for logs.
    pub destination_last4: Option<String>,
}

/// Why a log line is not a delivery record. Never carries a value from the line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnreadableRecord {
    #[error("not JSON")]
    NotJson,
    /// A field is missing (its name: serde's message for it names no value) or of the wrong type.
    #[error("{0}")]
    WrongShape(String),
    #[error("`notification.messageId` is empty or longer than {MAX_MESSAGE_ID_CHARS} characters")]
    MessageId,
    #[error("`status` is neither SUCCESS nor FAILURE")]
    Status,
    #[error("`notification.timestamp` is not a time like 2016-06-28 00:40:34.558")]
    Timestamp,
    #[error("`delivery.priceInUSD` is not an amount from 0 to 1000000")]
    Price,
}

/// A concatenated SMS has at most 255 parts (its header counts them in one octet).
const MAX_PARTS: u32 = 255;

/// SNS message ids are UUIDs (36 characters); a far longer one is not SNS's.
const MAX_MESSAGE_ID_CHARS: usize = 128;

#[derive(Deserialize)]
struct Line {
    notification: Notification,
    #[serde(default)]
    delivery: Delivery,
    status: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Notification {
    message_id: String,
    timestamp: String,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Delivery {
    destination: Option<String>,
    provider_response: Option<String>,
    #[serde(rename = "priceInUSD")]
    price_in_usd: Option<f64>,
    number_of_message_parts: Option<serde_json::Value>,
    sms_type: Option<String>,
}

impl DeliveryReport {
    pub fn parse(line: &str) -> Result<Self, UnreadableRecord> {
        let deserializer = &mut serde_json::Deserializer::from_str(line);
        let line: Line = serde_path_to_error::deserialize(deserializer).map_err(|error| {
            match error.inner().classify() {
                serde_json::error::Category::Data => {
                    // "missing field `x` at line 1 column 9" names no value; a type error could quote one.
                    let message = error.inner().to_string();
                    let shape = match message.split(" at line").next().filter(|m| m.starts_with("missing field")) {
                        Some(missing) => format!("{missing} in `{}`", error.path()),
                        None => format!("`{}` is of the wrong type", error.path()),
                    };
                    UnreadableRecord::WrongShape(shape)
                }
                _ => UnreadableRecord::NotJson,
            }
        })?;
        let Line { notification, delivery, status } = line;
        if notification.message_id.is_empty() || notification.message_id.chars().count() > MAX_MESSAGE_ID_CHARS {
            return Err(UnreadableRecord::MessageId);
        }
        let status = match status.as_str() {
            "SUCCESS" => DeliveryStatus::Success,
            "FAILURE" => DeliveryStatus::Failure,
            _ => return Err(UnreadableRecord::Status),
        };
        let price_usd =
            delivery.price_in_usd.map(|usd| PriceUsd::new(usd).ok_or(UnreadableRecord::Price)).transpose()?;
        let parts = delivery.number_of_message_parts.as_ref().and_then(serde_json::Value::as_u64);
        let parts = parts.and_then(|parts| u32::try_from(parts).ok()).filter(|parts| (1..=MAX_PARTS).contains(parts));
        Ok(Self {
            message_id: notification.message_id,
            status,
            provider_response: delivery.provider_response,
            price_usd,
            parts,
            sms_type: SmsType::of(delivery.sms_type.as_deref()),
            reported_at: ReportedAt::parse(&notification.timestamp).ok_or(UnreadableRecord::Timestamp)?,
            destination_last4: delivery.destination.as_deref().map(webhook::phone::last4).map(str::to_owned),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// AWS's documented failure record.
    fn failure_line() -> serde_json::Value {
        json!({
            "notification": {"messageId": "1077257a-92f3-5ca3-bc97-6a915b310625", "timestamp": "2016-06-28 00:40:34.559"},
            "delivery": {"mnc": 0, "numberOfMessageParts": 1, "destination": "+12025550143", "priceInUSD": 0.00645,
                         "smsType": "Transactional", "mcc": 0, "providerResponse": "Unknown error attempting to reach phone", "dwellTimeMs": 1420,
                         "dwellTimeMsUntilDeviceAck": 1692},
            "status": "FAILURE"
        })
    }

    #[test]
    fn a_documented_record_reads_as_sns_wrote_it() {
        let report = DeliveryReport::parse(&failure_line().to_string()).unwrap();
        assert_eq!(report.message_id, "1077257a-92f3-5ca3-bc97-6a915b310625");
        assert_eq!(report.status, DeliveryStatus::Failure);
        assert_eq!(report.provider_response.as_deref(), Some("Unknown error attempting to reach phone"));
        assert_eq!(report.price_usd.map(|price| price.to_string()), Some("0.00645".into()));
        assert_eq!(report.parts, Some(1));
        assert_eq!(report.sms_type, SmsType::Transactional);
        assert_eq!(report.reported_at.as_str(), "2016-06-28T00:40:34.559Z");
        assert_eq!(report.destination_last4.as_deref(), Some("0143"));
    }

    #[test]
    fn reported_times_have_one_width_so_text_order_is_time_order() {
        let at = |value: &str| ReportedAt::parse(value).unwrap();
        assert_eq!(at("2026-11-24 09:05:01").as_str(), "2026-11-24T09:05:01.000Z");
        assert_eq!(at("2026-11-24 09:05:01.5").as_str(), "2026-11-24T09:05:01.500Z");
        assert!(at("2026-11-24 09:05:01.5") < at("2026-11-24 09:05:01.51"));
        assert!(at("2026-11-24 09:05:09.999") < at("2026-11-24 09:05:10"));
        for refused in ["2026-11-24T09:05:01Z", "yesterday", "", "2026-13-01 00:00:00"] {
            assert_eq!(ReportedAt::parse(refused), None, "{refused}");
        }
    }

    #[test]
    fn a_line_that_is_not_a_record_says_why_without_its_values() {
        let with = |change: &dyn Fn(&mut serde_json::Value)| {
            let mut line = failure_line();
            change(&mut line);
            DeliveryReport::parse(&line.to_string()).unwrap_err()
        };
        assert_eq!(DeliveryReport::parse("START RequestId: 1").unwrap_err(), UnreadableRecord::NotJson);
        assert_eq!(with(&|line| line["status"] = json!("DELIVERED")), UnreadableRecord::Status);
        assert_eq!(with(&|line| line["notification"]["messageId"] = json!("")), UnreadableRecord::MessageId);
        assert_eq!(with(&|line| line["notification"]["timestamp"] = json!("now")), UnreadableRecord::Timestamp);
        assert_eq!(with(&|line| line["delivery"]["priceInUSD"] = json!(-1)), UnreadableRecord::Price);
        assert_eq!(with(&|line| line["delivery"]["priceInUSD"] = json!(1e300)), UnreadableRecord::Price);
        let wrong = with(&|line| line["delivery"]["priceInUSD"] = json!("+12025550143"));
        assert_eq!(wrong, UnreadableRecord::WrongShape("`delivery.priceInUSD` is of the wrong type".into()));
        assert!(!wrong.to_string().contains("555"), "{wrong}");
        let missing = with(&|line| drop(line["notification"].as_object_mut().unwrap().remove("messageId")));
        assert_eq!(missing, UnreadableRecord::WrongShape("missing field `messageId` in `notification`".into()));
    }

    #[test]
    fn only_the_status_and_its_message_are_required() {
        let line = json!({"notification": {"messageId": "m-1", "timestamp": "2026-11-24 09:05:01.000"},
                          "status": "SUCCESS"});
        let report = DeliveryReport::parse(&line.to_string()).unwrap();
        assert_eq!((report.status, report.sms_type, report.price_usd), (DeliveryStatus::Success, SmsType::Other, None));
        assert_eq!((report.provider_response, report.destination_last4, report.parts), (None, None, None));
    }

    /// The parts only inform: a value that is no count of parts is left out, and the record (its status) kept.
    #[test]
    fn parts_that_are_no_count_are_left_out_and_the_record_kept() {
        for odd in [json!(0), json!(256), json!("2"), json!(1.5), json!(-1), json!(null), json!({"n": 2})] {
            let mut line = failure_line();
            line["delivery"]["numberOfMessageParts"] = odd.clone();
            let report = DeliveryReport::parse(&line.to_string()).unwrap();
            assert_eq!((report.parts, report.status), (None, DeliveryStatus::Failure), "{odd}");
        }
    }

    #[test]
    fn prices_are_written_as_plain_decimals() {
        for (usd, written) in [(0.00645, "0.00645"), (0.0, "0"), (1e-7, "0.0000001"), (12.5, "12.5")] {
            assert_eq!(PriceUsd::new(usd).unwrap().to_string(), written);
        }
        assert_eq!(PriceUsd::new(f64::NAN), None);
    }
}
