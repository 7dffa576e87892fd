//! The sent-texts item: written when a delivery claims a text (its id and type), settled when the text is sent
//! (or may have been, or never will be).

use crate::ports::{Claimant, TextClaim, TextKey, TextStatus};
use serde::Serialize;
use std::time::Duration;
use time::OffsetDateTime;
use webhook::config::Retention;
use webhook::error::UnstorableValue;
use webhook::item::{Item, STORED_AS_JSON};
use webhook::payload::{Fields, WebhookId};
use webhook::phone::PhoneNumber;
use webhook::record::{SHADOWED_FIELDS, ShadowedFields, epoch_after, expires_at, rfc3339, set_aside};

/// How long a claim answers other deliveries of the same id with 409 (its delivery may still be sending): longer
/// than any function run (API Gateway gives up after 30 s). After it, the claim's delivery died mid-way and may
/// have sent the text, so it counts as unconfirmed and is never sent again.
pub const CLAIM_LEASE: Duration = Duration::from_secs(60);

/// The shortest time a sent-texts item is kept, whatever `RETENTION_DAYS` says: it is what stops a second SMS for
/// a redelivered id, so it must outlive every way the same text can come back. 2X documents no retry schedule;
/// webhook senders retry for hours to days, a queued text is sent only within its maximum age (14 days at most),
/// and a dead letter moved back within the dead-letter queue's 14 days. 90 days outlasts them all with room for a
/// delivery replayed by hand.
pub const LEDGER_MINIMUM_RETENTION_DAYS: u32 = 90;

/// The sent-texts item written when a delivery claims its text: the text as received plus the claim.
/// On success the ledger sets `status` to `sent` and adds `message_id` and `sent_at`.
#[derive(Debug, Serialize)]
pub struct TextClaimRecord<'a> {
    #[serde(skip)]
    pub key: &'a TextKey,
    /// The partition key.
    pub id: WebhookId,
    /// The sort key: the text's type as read ([`crate::payload::TextType::as_str`]); `type` stays as sent.
    pub text_type: &'a str,
    /// Every field as received but `id`, without the fields set aside in `shadowed_fields`.
    #[serde(flatten)]
    pub fields: Fields,
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
        "text_type",
        "phone_e164",
        "status",
        "claimed_by",
        "claimed_at",
        "lease_expires_at",
        "expires_at",
        "message_id",
        "sent_at",
        "unconfirmed_at",
        "queued_at",
        "expired_at",
        "failed_at",
        "failure_code",
        // Set by sms-delivery-status from SNS's delivery records (its `DELIVERY_ATTRIBUTES`).
        "delivery_status",
        "delivery_provider_response",
        "delivery_price_usd",
        "delivery_reported_at",
        SHADOWED_FIELDS,
        STORED_AS_JSON,
    ];

    /// The claim of text `key`, whose body's fields (but `id`) are `fields`.
    pub fn new(
        key: &'a TextKey,
        mut fields: Fields,
        phone: &'a PhoneNumber,
        claimed_by: &'a str,
        now: OffsetDateTime,
        retention: Option<Retention>,
    ) -> Self {
        Self {
            shadowed_fields: set_aside(&mut fields, Self::ATTRIBUTES),
            key,
            id: key.id,
            text_type: key.text_type.as_str(),
            fields,
            phone_e164: phone.e164(),
            status: TextStatus::Claimed,
            claimed_by,
            claimed_at: rfc3339(now),
            lease_expires_at: epoch_after(now, CLAIM_LEASE),
            expires_at: expires_at(
                now,
                retention.map(|days| days.at_least(Retention::days(LEDGER_MINIMUM_RETENTION_DAYS))),
            ),
            claimed_at_epoch: now.unix_timestamp(),
        }
    }

    /// The claim as the ledger writes it: this record's item, built and checked once. `takes_over`: the request
    /// id of the delivery that queued the text, whose unfinished claim this one may replace (the redrive's).
    pub fn claim(&self, takes_over: Option<&'a str>) -> Result<TextClaim<'a>, UnstorableValue> {
        let claimant = Claimant { request_id: self.claimed_by, at_epoch: self.claimed_at_epoch };
        Ok(TextClaim { key: self.key, claimant, takes_over, item: Item::new(self)? })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::payload::SendText;
    use serde_json::{Value, json};
    use webhook::phone::CountryCode;
    use webhook_test_support::events::keys;

    fn sample_text() -> Value {
        json!({"id": 5, "record_phone_number": "+12025550143", "message": "hi", "type": "pre-call"})
    }

    fn read(body: Value) -> (TextKey, Fields) {
        let text = SendText::read(body.as_object().cloned().unwrap()).unwrap();
        (TextKey { id: text.id, text_type: text.text_type }, text.fields)
    }

    #[test]
    fn a_senders_fields_named_like_ours_are_kept_aside_and_never_set_ours() {
        let phone = PhoneNumber::parse("+12025550143", CountryCode::US).unwrap();
        let now = OffsetDateTime::UNIX_EPOCH;
        let mut body = sample_text();
        for name in TextClaimRecord::ATTRIBUTES {
            body[*name] = json!({"from": "the sender", "name": name});
        }
        let (key, fields) = read(body.clone());
        let claim = TextClaimRecord::new(&key, fields, &phone, "req-1", now, None);
        let item = serde_json::to_value(&claim).unwrap();
        assert_eq!((&item["status"], &item["claimed_by"]), (&json!("claimed"), &json!("req-1")));
        assert_eq!((&item["phone_e164"], &item["lease_expires_at"]), (&json!("+12025550143"), &json!(60)));
        assert_eq!(
            (&item["id"], &item["text_type"], &item["type"]),
            (&json!(5), &json!("pre-call"), &json!("pre-call"))
        );
        for name in ["expires_at", "message_id", "sent_at", "unconfirmed_at", "delivery_status", "delivery_reported_at"]
        {
            assert!(item.get(name).is_none(), "{name} came from the body: {item}");
        }
        for name in TextClaimRecord::ATTRIBUTES {
            assert_eq!(item[SHADOWED_FIELDS][*name], body[*name], "the sender's {name} is kept as sent");
        }
    }

    /// The list the shadowing uses names every attribute the claim adds (the ledger's later ones are checked
    /// against DynamoDB in the emulator tests).
    #[test]
    fn every_attribute_the_claim_adds_is_declared() {
        let phone = PhoneNumber::parse("+12025550143", CountryCode::US).unwrap();
        let retention = Some(Retention::days(1));
        let (key, fields) = read(sample_text());
        let claim = TextClaimRecord::new(&key, fields, &phone, "r", OffsetDateTime::UNIX_EPOCH, retention);
        for name in keys(&serde_json::to_value(&claim).unwrap()).difference(&keys(&sample_text())) {
            assert!(TextClaimRecord::ATTRIBUTES.contains(&name.as_str()), "{name} is added but not declared");
        }
    }

    /// A text is kept at least 90 days, however short the retention: expired sooner, a redelivery of its id
    /// would text the lead again. A longer retention applies as set; none keeps it forever.
    #[test]
    fn a_text_outlives_a_short_retention_so_a_redelivery_never_texts_again() {
        let phone = PhoneNumber::parse("+12025550143", CountryCode::US).unwrap();
        let expiry = |retention| {
            let (key, fields) = read(sample_text());
            TextClaimRecord::new(&key, fields, &phone, "r", OffsetDateTime::UNIX_EPOCH, retention).expires_at
        };
        let days = |n: i64| Some(n * 86_400);
        assert_eq!(expiry(Some(Retention::days(1))), days(90));
        assert_eq!(expiry(Some(Retention::days(89))), days(90));
        assert_eq!(expiry(Some(Retention::days(365))), days(365));
        assert_eq!(expiry(None), None);
    }

    #[test]
    fn the_claim_carries_the_item_built_once() {
        let phone = PhoneNumber::parse("+12025550143", CountryCode::US).unwrap();
        let (key, fields) = read(sample_text());
        let record = TextClaimRecord::new(&key, fields, &phone, "req-1", OffsetDateTime::UNIX_EPOCH, None);
        let claim = record.claim(Some("req-0")).unwrap();
        assert_eq!(claim.takes_over, Some("req-0"));
        assert_eq!((claim.key, claim.claimant), (&key, Claimant { request_id: "req-1", at_epoch: 0 }));
        assert_eq!(claim.item, Item::new(&record).unwrap());
        assert!(claim.item.attributes().contains_key("lease_expires_at"));
        assert!(!claim.item.attributes().contains_key("claimed_at_epoch"));
    }
}
