//! The DynamoDB items we write, as plain serde types (the adapters turn them into items with serde_dynamo).

use crate::config::Retention;
use crate::error::WebhookError;
use crate::item_size::dynamodb_item_size;
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
