//! A call as 2X sends it and as we store it. The body of 2X's Post-Call webhook is read leniently and
//! losslessly: only `id` is required; every field, at every level, is kept as sent. `call.end_reason` (an open
//! set: 2X's own sample sends `transferred`, not the documented `call_transferred`) is read when it is a string,
//! and compared without regard to case. The calls item holds every field of the call as 2X sent it, plus what we
//! add; its transcript compressed when it would take the item over DynamoDB's limit. [`CallStore`] is the one
//! port that writes it.

use flate2::Compression;
use flate2::write::GzEncoder;
use serde::Serialize;
use serde_json::Value;
use std::future::Future;
use time::OffsetDateTime;
use webhook::config::Retention;
use webhook::error::{DependencyError, WebhookError};
use webhook::item::{
    DYNAMODB_ITEM_LIMIT, Item, SHADOWED_FIELDS, STORED_AS_JSON, ShadowedFields, expires_at, rfc3339, set_aside,
};
use webhook::payload::{Fields, WebhookId, text_of};
use webhook::phone::PhoneNumber;

use crate::transfer::TRANSFER_ATTRIBUTES;

/// `call.end_reason` as sent, trimmed; `None` when `call` is not an object or the reason not a string.
pub fn end_reason(fields: &Fields) -> Option<&str> {
    text_of(fields.get("call").and_then(Value::as_object).and_then(|call| call.get("end_reason")))
}

// A fifth transfer attribute must be added to `CallRecord::ATTRIBUTES` too.
const _: () = assert!(TRANSFER_ATTRIBUTES.len() == 4);

/// Above this size a call's transcript is stored compressed, leaving room under DynamoDB's 400 KB.
pub const COMPRESS_TRANSCRIPT_ABOVE: usize = 350 * 1024;

/// The calls item: every field of the payload as received, plus what we add.
#[derive(Debug, Serialize)]
pub struct CallRecord<'a> {
    /// The partition key.
    pub id: WebhookId,
    /// Every field of the call as received but `id`, without the fields set aside in `shadowed_fields`.
    #[serde(flatten)]
    pub fields: Fields,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shadowed_fields: Option<ShadowedFields>,
    pub received_at: String,
    /// Present when `record_phone_number` is a valid number: the key for looking calls up by lead.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone_e164: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
    /// The transcript (whatever JSON it is) as gzip-compressed JSON text (a Binary attribute), when it made the
    /// item too big inline.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transcript_gzip: Option<serde_bytes::ByteBuf>,
    /// `true` when the transcript is in `transcript_gzip` instead of `transcript`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transcript_compressed: Option<bool>,
}

impl<'a> CallRecord<'a> {
    /// Every attribute of a calls item that is ours, not the sender's. A sender's field with one of these names
    /// is kept in `shadowed_fields`.
    pub const ATTRIBUTES: &'static [&'static str] = &[
        "received_at",
        "phone_e164",
        "expires_at",
        "transcript_gzip",
        "transcript_compressed",
        SHADOWED_FIELDS,
        STORED_AS_JSON,
        // Set by the call's transfer (`transfer::TransferRecord`; all four, as the assertion below holds).
        TRANSFER_ATTRIBUTES[0],
        TRANSFER_ATTRIBUTES[1],
        TRANSFER_ATTRIBUTES[2],
        TRANSFER_ATTRIBUTES[3],
    ];

    /// The record of call `id`, whose body's fields (but `id`) are `fields`.
    pub fn new(
        id: WebhookId,
        mut fields: Fields,
        phone: Option<&'a PhoneNumber>,
        now: OffsetDateTime,
        retention: Option<Retention>,
    ) -> Self {
        Self {
            shadowed_fields: set_aside(&mut fields, Self::ATTRIBUTES),
            id,
            fields,
            received_at: rfc3339(now),
            phone_e164: phone.map(PhoneNumber::e164),
            expires_at: expires_at(now, retention),
            transcript_gzip: None,
            transcript_compressed: None,
        }
    }

    /// The item to store, built once: the record whole when it fits, else with its transcript compressed. A
    /// record too big even so can never be stored.
    pub fn into_item(mut self) -> Result<Item, WebhookError> {
        let mut item = Item::new(&self)?;
        if item.size() <= COMPRESS_TRANSCRIPT_ABOVE {
            return Ok(item);
        }
        if let Some(turns) = self.fields.remove("transcript") {
            self.transcript_gzip = Some(serde_bytes::ByteBuf::from(gzip_json(&turns)));
            self.transcript_compressed = Some(true);
            item = Item::new(&self)?;
        }
        match item.size() <= DYNAMODB_ITEM_LIMIT - 1024 {
            true => Ok(item),
            false => Err(WebhookError::RecordTooLarge {
                record: "call record",
                size: item.size(),
                compact: " even with its transcript compressed",
            }),
        }
    }
}

fn gzip_json(value: &impl Serialize) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    // Writing into a Vec cannot fail, and serialising plain data (strings, maps) cannot either.
    let _ = serde_json::to_writer(&mut encoder, value);
    encoder.finish().unwrap_or_default()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreOutcome {
    Stored,
    /// A record with this id was already stored; it is kept as it was.
    AlreadyStored,
}

/// Keeps call records.
pub trait CallStore: Send + Sync {
    /// Stores a call's item unless one with its `id` is stored already. An item holding only the call's transfer
    /// (which arrived first) is no stored call: the record is stored with the transfer's attributes kept.
    fn store(&self, item: Item) -> impl Future<Output = Result<StoreOutcome, DependencyError>> + Send;
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_dynamodb::types::AttributeValue;
    use serde_json::{Value, json};
    use webhook::phone::CountryCode;
    use webhook_test_support::events::keys;

    #[test]
    fn the_end_reason_is_read_when_it_is_a_string() {
        let reason = |body: Value| end_reason(body.as_object().unwrap()).map(str::to_owned);
        assert_eq!(reason(json!({"call": {"end_reason": " do_not_call "}})).as_deref(), Some("do_not_call"));
        assert_eq!(reason(json!({"call": {"end_reason": 3}})), None);
        assert_eq!(reason(json!({"call": "do_not_call"})), None);
        assert_eq!(reason(json!({"call": [{"end_reason": "do_not_call"}]})), None);
        assert_eq!(reason(json!({})), None);
    }

    fn fields(value: Value) -> Fields {
        value.as_object().cloned().unwrap()
    }

    fn call_with_transcript(turns: usize, content: &str) -> Fields {
        let transcript: Vec<_> = (0..turns).map(|n| json!({"role": if n % 2 == 0 { "User" } else { "Assistant" }, "content": format!("{n}: {content}")})).collect();
        fields(json!({"transcript": transcript}))
    }

    fn record(fields: Fields) -> CallRecord<'static> {
        CallRecord::new(WebhookId::new(9), fields, None, OffsetDateTime::UNIX_EPOCH, None)
    }

    #[test]
    fn a_transcript_of_any_shape_is_kept_as_sent_compressed_or_not() {
        let odd = json!([{"role": "User", "content": null}, "Hello?", 3]);
        let item = record(fields(json!({"transcript": odd.clone()}))).into_item().unwrap();
        assert_eq!(webhook::fakes::item_json(item.attributes())["transcript"], odd);
        let big = json!({"turns": "Let me check the schedule for you. ".repeat(12_000)});
        let item = record(fields(json!({"transcript": big.clone()}))).into_item().unwrap();
        let gzip = item.attributes()["transcript_gzip"].as_b().unwrap().as_ref();
        let turns: Value = serde_json::from_reader(flate2::read::GzDecoder::new(gzip)).unwrap();
        assert_eq!(turns, big);
    }

    #[test]
    fn a_record_that_fits_is_stored_whole() {
        let item = record(call_with_transcript(10, "hello")).into_item().unwrap();
        let attributes = item.attributes();
        assert!(!attributes.contains_key("transcript_gzip") && !attributes.contains_key("transcript_compressed"));
        assert_eq!(attributes["transcript"].as_l().map(Vec::len), Ok(10));
    }

    #[test]
    fn an_oversized_transcript_is_compressed_and_decompresses_to_the_original() {
        let call = call_with_transcript(3000, &"Let me check the schedule for you. ".repeat(5));
        assert!(Item::new(&call).unwrap().size() > DYNAMODB_ITEM_LIMIT, "the test needs an oversized call");
        let item = record(call.clone()).into_item().unwrap();

        assert!(item.size() < COMPRESS_TRANSCRIPT_ABOVE, "{}", item.size());
        let attributes = item.attributes();
        assert_eq!(attributes["transcript_compressed"], AttributeValue::Bool(true));
        assert!(!attributes.contains_key("transcript"));
        let gzip = attributes["transcript_gzip"].as_b().unwrap().as_ref();
        let turns: Value = serde_json::from_reader(flate2::read::GzDecoder::new(gzip)).unwrap();
        assert_eq!(Some(&turns), call.get("transcript"));
    }

    #[test]
    fn what_cannot_fit_even_compressed_is_refused() {
        // Random-looking content barely compresses.
        let noise: String = (0..600_000u64).map(|n| char::from(b'!' + ((n * 7919 + n / 13) % 90) as u8)).collect();
        let error = record(fields(json!({"meta": {"blob": noise}, "transcript": []}))).into_item().unwrap_err();
        assert!(matches!(error, WebhookError::RecordTooLarge { size, .. } if size > DYNAMODB_ITEM_LIMIT));
        assert!(error.to_string().starts_with("the call record is "), "{error}");
        assert!(
            error.to_string().ends_with(" bytes even with its transcript compressed; DynamoDB stores at most 400 KB")
        );
    }

    #[test]
    fn a_senders_fields_named_like_ours_are_kept_aside_and_never_set_ours() {
        let phone = PhoneNumber::parse("+12025550143", CountryCode::US).unwrap();
        let now = OffsetDateTime::UNIX_EPOCH;
        let mut body = json!({"record_phone_number": "+12025550143"});
        for name in CallRecord::ATTRIBUTES {
            body[*name] = json!({"from": "the sender", "name": name});
        }

        // Without retention and with a small transcript we set neither `expires_at` nor the transcript's.
        let id = WebhookId::new(9);
        let call = CallRecord::new(id, fields(body.clone()), None, now, None);
        let item = serde_json::to_value(&call).unwrap();
        for name in ["phone_e164", "expires_at", "transcript_gzip", "transcript_compressed"] {
            assert!(item.get(name).is_none(), "{name} came from the body: {item}");
        }
        assert_eq!(item["received_at"], "1970-01-01T00:00:00Z");
        for name in CallRecord::ATTRIBUTES {
            assert_eq!(item[SHADOWED_FIELDS][*name], body[*name], "the sender's {name} is kept as sent");
        }

        let retention = Some(Retention::days(1));
        let call = CallRecord::new(id, fields(body), Some(&phone), now, retention);
        let item = serde_json::to_value(&call).unwrap();
        assert_eq!((&item["phone_e164"], &item["expires_at"]), (&json!("+12025550143"), &json!(86_400)));
    }

    /// The list the shadowing uses names every attribute the record adds.
    #[test]
    fn every_attribute_the_record_adds_is_declared() {
        let phone = PhoneNumber::parse("+12025550143", CountryCode::US).unwrap();
        let retention = Some(Retention::days(1));
        let body = json!({"id": 9, "transcript": [], "clash": 1, "shadowed_fields": 1});
        let mut without_id = fields(body.clone());
        without_id.remove("id");
        let mut call =
            CallRecord::new(WebhookId::new(9), without_id, Some(&phone), OffsetDateTime::UNIX_EPOCH, retention);
        call.transcript_gzip = Some(serde_bytes::ByteBuf::new());
        call.transcript_compressed = Some(true);
        let mut added: Vec<String> =
            keys(&serde_json::to_value(&call).unwrap()).difference(&keys(&body)).cloned().collect();
        added.extend([SHADOWED_FIELDS.to_owned(), STORED_AS_JSON.to_owned()]);
        added.sort_unstable();
        let mut declared: Vec<&str> =
            CallRecord::ATTRIBUTES.iter().filter(|name| !TRANSFER_ATTRIBUTES.contains(name)).copied().collect();
        declared.sort_unstable();
        assert_eq!(added, declared);
    }
}
