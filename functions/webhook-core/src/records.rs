//! The DynamoDB items we write, as plain serde types (the adapters turn them into items with serde_dynamo).

use crate::config::Retention;
use crate::error::WebhookError;
use crate::payload::{PostCall, SendText};
use crate::phone::PhoneNumber;
use flate2::Compression;
use flate2::write::GzEncoder;
use serde::Serialize;
use std::borrow::Cow;
use std::time::Duration;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// How long a claim answers other deliveries of the same id with 409 (its delivery may still be sending): longer
/// than any function run (API Gateway gives up after 30 s). After it, the claim's delivery died mid-way and may
/// have sent the text, so it counts as unconfirmed and is never sent again.
pub const CLAIM_LEASE: Duration = Duration::from_secs(60);

pub fn rfc3339(at: OffsetDateTime) -> String {
    // Formatting a UTC OffsetDateTime as RFC 3339 only fails for years outside 0..=9999.
    at.format(&Rfc3339).unwrap_or_else(|_| at.unix_timestamp().to_string())
}

fn epoch_after(at: OffsetDateTime, after: Duration) -> i64 {
    at.unix_timestamp().saturating_add(i64::try_from(after.as_secs()).unwrap_or(i64::MAX))
}

/// TTL attribute value when retention is configured.
fn expires_at(at: OffsetDateTime, retention: Option<Retention>) -> Option<i64> {
    retention.map(|retention| epoch_after(at, retention.duration()))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TextStatus {
    /// A delivery is sending it now.
    Claimed,
    /// SNS accepted it; `message_id` is set.
    Sent,
    /// The publish reached SNS but its answer was lost: it may have been sent, so it is never sent again.
    Unconfirmed,
}

/// The sent-texts item written when a delivery claims its id: the text as received plus the claim.
/// On success the adapter sets `status` to `sent` and adds `message_id` and `sent_at`.
#[derive(Debug, Serialize)]
pub struct TextClaimRecord<'a> {
    #[serde(flatten)]
    pub text: &'a SendText,
    pub phone_e164: &'a str,
    pub status: TextStatus,
    /// The Lambda request id of the claiming delivery: only it may release or complete the claim.
    pub claimed_by: &'a str,
    pub claimed_at: String,
    /// Epoch seconds after which another delivery may take over an unfinished claim.
    pub lease_expires_at: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
    /// The claim time as epoch seconds, to judge an existing claim's lease by.
    #[serde(skip)]
    pub claimed_at_epoch: i64,
}

impl<'a> TextClaimRecord<'a> {
    pub fn new(
        text: &'a SendText,
        phone: &'a PhoneNumber,
        claimed_by: &'a str,
        now: OffsetDateTime,
        retention: Option<Retention>,
    ) -> Self {
        Self {
            text,
            phone_e164: phone.e164(),
            status: TextStatus::Claimed,
            claimed_by,
            claimed_at: rfc3339(now),
            lease_expires_at: epoch_after(now, CLAIM_LEASE),
            expires_at: expires_at(now, retention),
            claimed_at_epoch: now.unix_timestamp(),
        }
    }
}

/// What the ledger records once SNS has accepted a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentText<'a> {
    pub message_id: &'a str,
    pub sent_at: String,
}

impl<'a> SentText<'a> {
    pub fn new(message_id: &'a str, now: OffsetDateTime) -> Self {
        Self { message_id, sent_at: rfc3339(now) }
    }
}

/// DynamoDB refuses items over 400 KB.
pub const DYNAMODB_ITEM_LIMIT: usize = 400 * 1024;
/// Above this size a call's transcript is stored compressed. The margin under the limit covers the few bytes
/// by which our size estimate can differ from DynamoDB's count.
pub const COMPRESS_TRANSCRIPT_ABOVE: usize = 350 * 1024;

/// The calls item: every field of the payload as received, plus what we add.
#[derive(Debug, Serialize)]
pub struct CallRecord<'a> {
    #[serde(flatten)]
    pub call: Cow<'a, PostCall>,
    pub received_at: String,
    /// Present when `record_phone_number` is a valid number: the key for looking calls up by lead.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone_e164: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
    /// The transcript as gzip-compressed JSON (a Binary attribute), when it made the item too big inline.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transcript_gzip: Option<serde_bytes::ByteBuf>,
    /// `true` when the transcript is in `transcript_gzip` instead of `transcript`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transcript_compressed: Option<bool>,
}

/// A call record DynamoDB cannot hold even with its transcript compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the call record is {size} bytes even with its transcript compressed; DynamoDB stores at most 400 KB")]
pub struct RecordTooLarge {
    pub size: usize,
}

impl<'a> CallRecord<'a> {
    pub fn new(
        call: &'a PostCall,
        phone: Option<&'a PhoneNumber>,
        now: OffsetDateTime,
        retention: Option<Retention>,
    ) -> Self {
        Self {
            call: Cow::Borrowed(call),
            received_at: rfc3339(now),
            phone_e164: phone.map(PhoneNumber::e164),
            expires_at: expires_at(now, retention),
            transcript_gzip: None,
            transcript_compressed: None,
        }
    }

    /// The record as it will be stored, and its size: whole when it fits, else with the transcript compressed.
    pub fn fitted(mut self) -> Result<(Self, usize), WebhookError> {
        let mut size = dynamodb_item_size(&self)?;
        if size <= COMPRESS_TRANSCRIPT_ABOVE {
            return Ok((self, size));
        }
        if self.call.transcript.is_some() {
            let mut call = self.call.into_owned();
            self.transcript_gzip = call.transcript.take().map(|turns| serde_bytes::ByteBuf::from(gzip_json(&turns)));
            self.transcript_compressed = Some(true);
            self.call = Cow::Owned(call);
            size = dynamodb_item_size(&self)?;
        }
        if size <= DYNAMODB_ITEM_LIMIT - 1024 { Ok((self, size)) } else { Err(RecordTooLarge { size }.into()) }
    }
}

fn gzip_json(value: &impl Serialize) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    // Writing into a Vec cannot fail, and serialising plain data (strings, maps) cannot either.
    let _ = serde_json::to_writer(&mut encoder, value);
    encoder.finish().unwrap_or_default()
}

/// A value DynamoDB refuses in any item (a ValidationException), so no retry could ever store the record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("DynamoDB cannot store {problem}")]
pub struct UnstorableValue {
    /// Where, as `name.name[index]`.
    pub field: String,
    pub problem: &'static str,
}

/// DynamoDB's deepest nesting: a top-level attribute counts as level 1, so 31 lists or maps inside each other.
const MAX_NESTED_CONTAINERS: usize = 31;

/// The size DynamoDB counts for an item (the 400 KB limit, the capacity billed), computed with AWS's
/// published rules: attribute names and values in UTF-8 bytes, numbers about one byte per two digits plus one,
/// 1 byte for booleans and nulls, 3 bytes per list or map plus 1 per element. Or the first value DynamoDB
/// would refuse: an empty field name, nesting deeper than 32 levels, a number outside its range.
pub fn dynamodb_item_size(record: &impl Serialize) -> Result<usize, UnstorableValue> {
    use serde_dynamo::AttributeValue;

    fn value_size(value: &AttributeValue, field: &mut String, containers: usize) -> Result<usize, UnstorableValue> {
        let refuse = |field: &String, problem| Err(UnstorableValue { field: field.clone(), problem });
        if matches!(value, AttributeValue::L(_) | AttributeValue::M(_)) && containers >= MAX_NESTED_CONTAINERS {
            return refuse(field, "values nested more than 32 levels deep");
        }
        let size = match value {
            AttributeValue::S(text) => text.len(),
            AttributeValue::N(number) => number_size(number).map_or_else(|| refuse(field, NUMBER_RANGE), Ok)?,
            AttributeValue::B(bytes) => bytes.len(),
            AttributeValue::Bool(_) | AttributeValue::Null(_) => 1,
            AttributeValue::L(list) => {
                let mut size = 3;
                for (index, element) in list.iter().enumerate() {
                    let parent = field.len();
                    field.push_str(&format!("[{index}]"));
                    size += value_size(element, field, containers + 1)? + 1;
                    field.truncate(parent);
                }
                size
            }
            AttributeValue::M(map) => 3 + fields_size(map.iter(), field, containers + 1)?,
            AttributeValue::Ss(texts) => texts.iter().map(String::len).sum(),
            AttributeValue::Ns(numbers) => numbers
                .iter()
                .map(|n| number_size(n))
                .sum::<Option<usize>>()
                .map_or_else(|| refuse(field, NUMBER_RANGE), Ok)?,
            AttributeValue::Bs(blobs) => blobs.iter().map(Vec::len).sum(),
        };
        Ok(size)
    }

    fn fields_size<'a>(
        fields: impl Iterator<Item = (&'a String, &'a AttributeValue)>,
        field: &mut String,
        containers: usize,
    ) -> Result<usize, UnstorableValue> {
        let mut size = 0;
        for (name, value) in fields {
            let parent = field.len();
            if parent > 0 {
                field.push('.');
            }
            field.push_str(name);
            if name.is_empty() {
                return Err(UnstorableValue { field: field.clone(), problem: "an empty field name" });
            }
            size += name.len() + value_size(value, field, containers)? + usize::from(containers > 0);
            field.truncate(parent);
        }
        Ok(size)
    }

    const NUMBER_RANGE: &str = "a number outside its range (38 significant digits, magnitude 1E-130 to 1E+126)";

    /// `None` when DynamoDB refuses the number. serde_dynamo writes plain decimals, never exponents.
    fn number_size(number: &str) -> Option<usize> {
        let unsigned = number.trim_start_matches('-');
        let (integer, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
        let integer = integer.trim_start_matches('0');
        let digits: String = [integer, fraction].concat();
        let significant = digits.trim_start_matches('0').trim_end_matches('0');
        let magnitude_ok = match integer.is_empty() {
            true => significant.is_empty() || fraction.len() - fraction.trim_start_matches('0').len() < 130,
            false => integer.len() <= 126,
        };
        (magnitude_ok && significant.len() <= 38).then(|| significant.len().div_ceil(2) + 1)
    }

    let item: serde_dynamo::Item = serde_dynamo::to_item(record)
        .map_err(|_| UnstorableValue { field: String::new(), problem: "a record that is not a map of fields" })?;
    fields_size(item.inner().iter(), &mut String::new(), 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::payload::PostCall;
    use serde_json::json;

    #[test]
    fn item_size_follows_dynamodbs_rules() {
        // "id" (2) + 1 digit (2); "name" (4) + "Ann" (3); "ok" (2) + 1.
        assert_eq!(dynamodb_item_size(&json!({"id": 7, "name": "Ann", "ok": true})), Ok(2 + 2 + 4 + 3 + 2 + 1));
        // "id" (2) + 20 significant digits (11).
        assert_eq!(dynamodb_item_size(&json!({"id": 12345678901234567890u64})), Ok(2 + 11));
        // "t" (1) + list: 3 + one map (3 + "role" 4 + "User" 4 + 1) + 1.
        assert_eq!(dynamodb_item_size(&json!({"t": [{"role": "User"}]})), Ok(1 + 3 + (3 + 4 + 4 + 1) + 1));
        assert!(dynamodb_item_size(&json!("not an item")).is_err());
    }

    fn refusal(item: serde_json::Value) -> Option<(String, &'static str)> {
        dynamodb_item_size(&item).err().map(|refused| (refused.field, refused.problem))
    }

    /// Each would be a ValidationException from DynamoDB on every delivery: refused up front instead.
    #[test]
    fn values_dynamodb_refuses_are_found_with_their_field() {
        let nested = |depth: usize| (0..depth).fold(json!(1), |inner, _| json!({ "a": inner }));
        assert_eq!(refusal(json!({"id": 1, "meta": nested(31)})), None, "31 maps inside each other are fine");
        let (field, problem) = refusal(json!({"id": 1, "meta": nested(32)})).unwrap();
        assert_eq!((field.matches(".a").count(), problem), (31, "values nested more than 32 levels deep"));
        assert_eq!(refusal(json!({"id": 1, "l": [[[[]]]]})), None);

        assert_eq!(refusal(json!({"id": 1, "meta": {"": 1}})), Some(("meta.".into(), "an empty field name")));
        assert_eq!(refusal(json!({"id": 1, "": 1})).map(|(field, _)| field), Some(String::new()));
        assert_eq!(refusal(json!({"q": [{"x": {"": []}}]})).map(|(field, _)| field), Some("q[0].x.".into()));

        for fine in [json!(0), json!(-1.5), json!(1e125), json!(1.5e-129), json!(u64::MAX), json!(i64::MIN), json!(0.1)]
        {
            assert_eq!(refusal(json!({ "n": fine })), None, "{fine}");
        }
        for huge in [json!(1e126), json!(-1e300), json!(1e-131), json!(5e-324), json!(f64::MAX)] {
            let (field, problem) = refusal(json!({ "call": { "duration": huge } })).unwrap();
            assert_eq!(field, "call.duration", "{huge}");
            assert!(problem.starts_with("a number outside its range"), "{huge}");
        }
    }

    fn call_with_transcript(turns: usize, content: &str) -> PostCall {
        let transcript: Vec<_> = (0..turns).map(|n| json!({"role": if n % 2 == 0 { "User" } else { "Assistant" }, "content": format!("{n}: {content}")})).collect();
        serde_json::from_value(json!({"id": 9, "transcript": transcript})).unwrap()
    }

    #[test]
    fn a_record_that_fits_is_stored_whole() {
        let call = call_with_transcript(10, "hello");
        let (record, size) = CallRecord::new(&call, None, OffsetDateTime::UNIX_EPOCH, None).fitted().unwrap();
        assert!(record.transcript_gzip.is_none() && record.transcript_compressed.is_none());
        assert_eq!(record.call.transcript.as_ref().map(Vec::len), Some(10));
        assert_eq!(Ok(size), dynamodb_item_size(&record));
    }

    #[test]
    fn an_oversized_transcript_is_compressed_and_decompresses_to_the_original() {
        let call = call_with_transcript(3000, &"Let me check the schedule for you. ".repeat(5));
        assert!(dynamodb_item_size(&call).unwrap() > DYNAMODB_ITEM_LIMIT, "the test needs an oversized call");
        let (record, size) = CallRecord::new(&call, None, OffsetDateTime::UNIX_EPOCH, None).fitted().unwrap();

        assert!(size < COMPRESS_TRANSCRIPT_ABOVE, "{size}");
        assert_eq!(record.transcript_compressed, Some(true));
        assert!(record.call.transcript.is_none());
        let gzip = record.transcript_gzip.as_ref().unwrap();
        let turns: Vec<crate::payload::TranscriptTurn> =
            serde_json::from_reader(flate2::read::GzDecoder::new(gzip.as_slice())).unwrap();
        assert_eq!(Some(turns), call.transcript);
    }

    #[test]
    fn what_cannot_fit_even_compressed_is_refused() {
        // Random-looking content barely compresses.
        let noise: String = (0..600_000u64).map(|n| char::from(b'!' + ((n * 7919 + n / 13) % 90) as u8)).collect();
        let call: PostCall =
            serde_json::from_value(json!({"id": 9, "meta": {"blob": noise}, "transcript": []})).unwrap();
        let error = CallRecord::new(&call, None, OffsetDateTime::UNIX_EPOCH, None).fitted().unwrap_err();
        assert!(matches!(error, WebhookError::RecordTooLarge(RecordTooLarge { size }) if size > DYNAMODB_ITEM_LIMIT));
    }
}
