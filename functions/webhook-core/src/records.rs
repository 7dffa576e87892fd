//! The DynamoDB items we write, as plain serde types (the adapters turn them into items with serde_dynamo).

use crate::config::Retention;
use crate::error::WebhookError;
use crate::item_size::dynamodb_item_size;
use crate::payload::{PostCall, SendText};
use crate::phone::PhoneNumber;
use flate2::Compression;
use flate2::write::GzEncoder;
use serde::Serialize;
use serde_json::{Map, Value};
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

/// A sender's top-level fields whose names are attributes we write ourselves, kept under
/// [`SHADOWED_FIELDS`] exactly as sent. Unknown fields are stored next to ours, so without this a body could
/// set the TTL (`expires_at`), an index key (`phone_e164`) or a sent text's state; and dropping them would lose
/// what 2X sent.
pub type ShadowedFields = Map<String, Value>;

/// The map attribute holding a sender's fields that carry one of our attribute names (its own name included).
pub const SHADOWED_FIELDS: &str = "shadowed_fields";

/// Moves every field of `fields` named in `ours` into the returned map (absent when there is none).
fn set_aside(fields: &mut Map<String, Value>, ours: &[&str]) -> Option<ShadowedFields> {
    let shadowed: ShadowedFields = ours.iter().filter_map(|name| fields.remove_entry(*name)).collect();
    (!shadowed.is_empty()).then_some(shadowed)
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
    /// The text as received, without the fields set aside in `shadowed_fields`.
    #[serde(flatten)]
    pub text: SendText,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shadowed_fields: Option<ShadowedFields>,
    pub phone_e164: &'a str,
    pub status: TextStatus,
    /// The Lambda request id of the claiming delivery: only it may release or complete the claim.
    pub claimed_by: &'a str,
    pub claimed_at: String,
    /// Epoch seconds until which other deliveries of the id answer 409 (this one may still be sending). After
    /// it, the claim counts as abandoned: its delivery may have published before dying, so the text is settled
    /// as unconfirmed and never sent.
    pub lease_expires_at: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
    /// The claim time as epoch seconds, to judge an existing claim's lease by.
    #[serde(skip)]
    pub claimed_at_epoch: i64,
}

impl<'a> TextClaimRecord<'a> {
    /// Every attribute of a sent-texts item that is ours, not the sender's: the claim's, and those the ledger
    /// sets when the text is settled. A sender's field with one of these names is kept in `shadowed_fields`.
    pub const ATTRIBUTES: &'static [&'static str] = &[
        "phone_e164",
        "status",
        "claimed_by",
        "claimed_at",
        "lease_expires_at",
        "expires_at",
        "message_id",
        "sent_at",
        "unconfirmed_at",
        SHADOWED_FIELDS,
    ];

    pub fn new(
        mut text: SendText,
        phone: &'a PhoneNumber,
        claimed_by: &'a str,
        now: OffsetDateTime,
        retention: Option<Retention>,
    ) -> Self {
        Self {
            shadowed_fields: set_aside(&mut text.extra, Self::ATTRIBUTES),
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
    /// The call as received, without the fields set aside in `shadowed_fields`.
    #[serde(flatten)]
    pub call: PostCall,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shadowed_fields: Option<ShadowedFields>,
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
    /// Every attribute of a calls item that is ours, not the sender's. A sender's field with one of these names
    /// is kept in `shadowed_fields`.
    pub const ATTRIBUTES: &'static [&'static str] =
        &["received_at", "phone_e164", "expires_at", "transcript_gzip", "transcript_compressed", SHADOWED_FIELDS];

    pub fn new(
        mut call: PostCall,
        phone: Option<&'a PhoneNumber>,
        now: OffsetDateTime,
        retention: Option<Retention>,
    ) -> Self {
        Self {
            shadowed_fields: set_aside(&mut call.extra, Self::ATTRIBUTES),
            call,
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
        if let Some(turns) = self.call.transcript.take() {
            self.transcript_gzip = Some(serde_bytes::ByteBuf::from(gzip_json(&turns)));
            self.transcript_compressed = Some(true);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::payload::PostCall;
    use serde_json::json;

    fn call_with_transcript(turns: usize, content: &str) -> PostCall {
        let transcript: Vec<_> = (0..turns).map(|n| json!({"role": if n % 2 == 0 { "User" } else { "Assistant" }, "content": format!("{n}: {content}")})).collect();
        serde_json::from_value(json!({"id": 9, "transcript": transcript})).unwrap()
    }

    #[test]
    fn a_record_that_fits_is_stored_whole() {
        let call = call_with_transcript(10, "hello");
        let (record, size) = CallRecord::new(call, None, OffsetDateTime::UNIX_EPOCH, None).fitted().unwrap();
        assert!(record.transcript_gzip.is_none() && record.transcript_compressed.is_none());
        assert_eq!(record.call.transcript.as_ref().map(Vec::len), Some(10));
        assert_eq!(Ok(size), dynamodb_item_size(&record));
    }

    #[test]
    fn an_oversized_transcript_is_compressed_and_decompresses_to_the_original() {
        let call = call_with_transcript(3000, &"Let me check the schedule for you. ".repeat(5));
        assert!(dynamodb_item_size(&call).unwrap() > DYNAMODB_ITEM_LIMIT, "the test needs an oversized call");
        let (record, size) = CallRecord::new(call.clone(), None, OffsetDateTime::UNIX_EPOCH, None).fitted().unwrap();

        assert!(size < COMPRESS_TRANSCRIPT_ABOVE, "{size}");
        assert_eq!(record.transcript_compressed, Some(true));
        assert!(record.call.transcript.is_none());
        let gzip = record.transcript_gzip.as_ref().unwrap();
        let turns: Vec<crate::payload::TranscriptTurn> =
            serde_json::from_reader(flate2::read::GzDecoder::new(gzip.as_slice())).unwrap();
        assert_eq!(Some(turns), call.transcript);
    }

    /// A body carrying every attribute name we add, each with a value of the wrong type.
    fn body_with(names: &[&str], base: serde_json::Value) -> serde_json::Value {
        let mut body = base;
        for name in names {
            body[*name] = json!({"from": "the sender", "name": name});
        }
        body
    }

    fn keys(value: &serde_json::Value) -> std::collections::BTreeSet<String> {
        value.as_object().unwrap().keys().cloned().collect()
    }

    #[test]
    fn a_senders_fields_named_like_ours_are_kept_aside_and_never_set_ours() {
        let phone = PhoneNumber::parse("+12025550143", crate::phone::CountryCode::US).unwrap();
        let now = OffsetDateTime::UNIX_EPOCH;
        let body = body_with(CallRecord::ATTRIBUTES, json!({"id": 9, "record_phone_number": "+12025550143"}));

        // Without retention and with a small transcript we set neither `expires_at` nor the transcript's.
        let record = CallRecord::new(serde_json::from_value(body.clone()).unwrap(), None, now, None);
        let item = serde_json::to_value(&record).unwrap();
        for name in ["phone_e164", "expires_at", "transcript_gzip", "transcript_compressed"] {
            assert!(item.get(name).is_none(), "{name} came from the body: {item}");
        }
        assert_eq!(item["received_at"], "1970-01-01T00:00:00Z");
        let shadowed = &item[SHADOWED_FIELDS];
        for name in CallRecord::ATTRIBUTES {
            assert_eq!(shadowed[*name], body[*name], "the sender's {name} is kept as sent");
        }

        let retention = Some(Retention::days(1));
        let record = CallRecord::new(serde_json::from_value(body.clone()).unwrap(), Some(&phone), now, retention);
        let item = serde_json::to_value(&record).unwrap();
        assert_eq!((&item["phone_e164"], &item["expires_at"]), (&json!("+12025550143"), &json!(86_400)));

        let body = body_with(TextClaimRecord::ATTRIBUTES, sample_text());
        let claim = TextClaimRecord::new(serde_json::from_value(body.clone()).unwrap(), &phone, "req-1", now, None);
        let item = serde_json::to_value(&claim).unwrap();
        assert_eq!((&item["status"], &item["claimed_by"]), (&json!("claimed"), &json!("req-1")));
        assert_eq!((&item["phone_e164"], &item["lease_expires_at"]), (&json!("+12025550143"), &json!(60)));
        for name in ["expires_at", "message_id", "sent_at", "unconfirmed_at"] {
            assert!(item.get(name).is_none(), "{name} came from the body: {item}");
        }
        for name in TextClaimRecord::ATTRIBUTES {
            assert_eq!(item[SHADOWED_FIELDS][*name], body[*name], "the sender's {name} is kept as sent");
        }
    }

    fn sample_text() -> serde_json::Value {
        json!({"id": 5, "record_phone_number": "+12025550143", "message": "hi", "type": "pre-call"})
    }

    /// The lists the shadowing uses name every attribute the records add (the ledger's later ones are checked
    /// against DynamoDB in the emulator tests).
    #[test]
    fn every_attribute_a_record_adds_is_declared() {
        let phone = PhoneNumber::parse("+12025550143", crate::phone::CountryCode::US).unwrap();
        let now = OffsetDateTime::UNIX_EPOCH;
        let retention = Some(Retention::days(1));
        let body = json!({"id": 9, "transcript": [], "clash": 1, "shadowed_fields": 1});

        let mut record = CallRecord::new(serde_json::from_value(body.clone()).unwrap(), Some(&phone), now, retention);
        record.transcript_gzip = Some(serde_bytes::ByteBuf::new());
        record.transcript_compressed = Some(true);
        let added: Vec<String> =
            keys(&serde_json::to_value(&record).unwrap()).difference(&keys(&body)).cloned().collect();
        let mut declared: Vec<&str> = CallRecord::ATTRIBUTES.to_vec();
        declared.sort_unstable();
        let mut added_and_shadowed: Vec<&str> = added.iter().map(String::as_str).chain([SHADOWED_FIELDS]).collect();
        added_and_shadowed.sort_unstable();
        assert_eq!(added_and_shadowed, declared);

        let claim = TextClaimRecord::new(serde_json::from_value(sample_text()).unwrap(), &phone, "r", now, retention);
        let added =
            keys(&serde_json::to_value(&claim).unwrap()).difference(&keys(&sample_text())).cloned().collect::<Vec<_>>();
        for name in &added {
            assert!(TextClaimRecord::ATTRIBUTES.contains(&name.as_str()), "{name} is added but not declared");
        }
    }

    #[test]
    fn what_cannot_fit_even_compressed_is_refused() {
        // Random-looking content barely compresses.
        let noise: String = (0..600_000u64).map(|n| char::from(b'!' + ((n * 7919 + n / 13) % 90) as u8)).collect();
        let call: PostCall =
            serde_json::from_value(json!({"id": 9, "meta": {"blob": noise}, "transcript": []})).unwrap();
        let error = CallRecord::new(call, None, OffsetDateTime::UNIX_EPOCH, None).fitted().unwrap_err();
        assert!(matches!(error, WebhookError::RecordTooLarge(RecordTooLarge { size }) if size > DYNAMODB_ITEM_LIMIT));
    }
}
