//! The claim ledger: which text ([`TextKey`]), its states ([`TextStatus`]), a claim, what it meets and how a held
//! one is settled, the sent-texts item a claim writes ([`TextClaimRecord`]: written when a delivery claims a text,
//! settled when the text is sent, or may have been, or never will be), and the two narrow ports the text work
//! needs ([`TextLedger`], [`SmsSender`]). `aws` implements them; `fakes` in memory.

use crate::sms::{SmsBilling, SmsText};
use crate::text::TextType;
use serde::{Serialize, Serializer};
use std::future::Future;
use std::time::Duration;
use time::OffsetDateTime;
use webhook::config::Retention;
use webhook::error::{DependencyError, UnstorableValue};
use webhook::item::{
    Item, SHADOWED_FIELDS, STORED_AS_JSON, ShadowedFields, epoch_after, expires_at, rfc3339, set_aside,
};
use webhook::payload::{Fields, WebhookId};
use webhook::phone::PhoneNumber;

/// Which text: 2X's id and the text's type. A pre-call text and the post-voicemail text after that call may carry
/// the same id; each is sent at most once.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TextKey {
    pub id: WebhookId,
    pub text_type: TextType,
}

/// A sent-texts item's `status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextStatus {
    /// A delivery is sending it now.
    Claimed,
    /// SNS accepted it; `message_id` is set.
    Sent,
    /// The publish reached SNS but its answer was lost: it may have been sent, so it is never sent again.
    Unconfirmed,
    /// It was not sent (the claim write, the suppression list or SNS failed): it waits on the fallback queue, and
    /// only the redrive, taking over the claim of the delivery that queued it, may send it.
    Queued,
    /// It waited on the queue longer than its kind's maximum age: never sent (a pre-call text after the call is
    /// worse than none).
    Expired,
    /// SNS refused it for good (`failure_code`): never sent.
    Failed,
    /// The lead's legal hours do not open before its maximum age (`hours`): never sent.
    OutsideHours,
}

impl TextStatus {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Claimed => "claimed",
            Self::Sent => "sent",
            Self::Unconfirmed => "unconfirmed",
            Self::Queued => "queued",
            Self::Expired => "expired",
            Self::Failed => "failed",
            Self::OutsideHours => "outside_hours",
        }
    }

    /// The status an item holds; `None` for a value we never write.
    pub fn parse(value: &str) -> Option<Self> {
        [Self::Claimed, Self::Sent, Self::Unconfirmed, Self::Queued, Self::Expired, Self::Failed, Self::OutsideHours]
            .into_iter()
            .find(|status| status.as_str() == value)
    }
}

impl Serialize for TextStatus {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// A claim a delivery holds: which text, and which delivery (its Lambda request id). Only the holder may settle
/// the claim or give it back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeldClaim<'a> {
    pub key: &'a TextKey,
    pub claimed_by: &'a str,
}

/// How a held claim is settled: the text's final state (or `Queued`, until the redrive takes it over) and what
/// goes with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settlement<'a> {
    /// SNS accepted it, as `message_id`, billed as `billing`.
    Sent { message_id: &'a str, billing: SmsBilling },
    /// The publish reached SNS and its answer was lost.
    Unconfirmed,
    /// Not sent, and on the fallback queue: only an unfinished claim is marked.
    Queued,
    /// Older than its maximum age: never sent.
    Expired,
    /// Outside the lead's legal hours until past its maximum age: never sent.
    OutsideHours,
    /// SNS refused it for good, with error `code`.
    Failed { code: &'a str },
}

impl Settlement<'_> {
    pub const fn status(&self) -> TextStatus {
        match self {
            Self::Sent { .. } => TextStatus::Sent,
            Self::Unconfirmed => TextStatus::Unconfirmed,
            Self::Queued => TextStatus::Queued,
            Self::Expired => TextStatus::Expired,
            Self::OutsideHours => TextStatus::OutsideHours,
            Self::Failed { .. } => TextStatus::Failed,
        }
    }
}

/// Why SNS did not confirm a text, which decides whether it may be sent again.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendFailure {
    /// SNS refused it for now (an access or key problem the operator can fix, KMS's own throttling), or the
    /// request never reached it: the text was not sent, and may be sent later.
    #[error(transparent)]
    NotSent(DependencyError),
    /// SNS refused it for the rate the account or the sending number allows (`Throttling`, after the SDK's own
    /// retries): not sent, and may be sent once capacity returns.
    #[error("{0} (throttled)")]
    Throttled(DependencyError),
    /// The request reached SNS and no success came back (no answer, or a 5xx: SNS had it): the text may have been
    /// sent.
    #[error("{0} after the request reached SNS")]
    Unconfirmed(DependencyError),
    /// SNS refused the request itself (`code`, such as `InvalidParameter`): sending it again changes nothing.
    #[error("{error} (for good)")]
    Refused { error: DependencyError, code: String },
}

/// Sends one SMS now.
pub trait SmsSender: Send + Sync {
    /// Whether the number replied STOP (or was otherwise opted out) and must not be texted.
    fn is_opted_out(&self, to: &PhoneNumber) -> impl Future<Output = Result<bool, DependencyError>> + Send;

    /// Returns the provider's message id. Never repeats a request the provider may have received.
    fn send(&self, to: &PhoneNumber, text: &SmsText<'_>) -> impl Future<Output = Result<String, SendFailure>> + Send;
}

/// A sent text's encoding as it went out (`GSM-7`, `UCS-2`), set with `sent`.
pub const SMS_ENCODING: &str = "sms_encoding";
/// A Number: the parts we counted for the text as it went out, what sms-delivery-status compares SNS's with.
pub const SMS_PARTS: &str = "sms_parts";
/// A Number, only when smart encoding changed the text: how many characters it replaced.
pub const SMS_CHARACTERS_REPLACED: &str = "sms_characters_replaced";

/// Who claims a text id, and when: what an existing claim is judged against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Claimant<'a> {
    /// The Lambda request id of the claiming delivery.
    pub request_id: &'a str,
    /// The claim time as epoch seconds, to judge an existing claim's lease by.
    pub at_epoch: i64,
}

/// A claim ready to write: its item, built once from the record and handed to the ledger whole.
#[derive(Debug, Clone, PartialEq)]
pub struct TextClaim<'a> {
    pub key: &'a TextKey,
    pub claimant: Claimant<'a>,
    /// The request id of the delivery that queued the text (the redrive's claim): its claim, unfinished
    /// (`claimed`) or `queued`, is replaced by this one. That delivery never published, and the replacement is
    /// atomic, so two redrives of one message cannot both send.
    pub takes_over: Option<&'a str>,
    pub item: Item,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimOutcome {
    /// This delivery owns the id and must send the text.
    Claimed,
    /// An earlier delivery sent it.
    AlreadySent,
    /// An earlier delivery may have sent it (its publish went unanswered, or it died holding the claim): it is
    /// never sent again.
    Unconfirmed,
    /// Another delivery holds an unexpired claim and may be sending it right now.
    InProgress,
    /// An earlier delivery could not send it and queued it: the redrive sends it.
    Queued,
    /// It waited on the queue too long and is never sent.
    Expired,
    /// SNS refused it for good: it is never sent.
    Failed,
    /// Outside the lead's legal hours until past its maximum age: it is never sent.
    OutsideHours,
    /// The id and type were claimed for another phone number or message: 2X reused an id. Never sent.
    IdReused,
}

impl ClaimOutcome {
    /// Whether an existing sent-texts item is the claimed text: the same phone number and message, read from the
    /// existing item by `existing` and from the claim's by `claimed`. An item that lacks either cannot tell, and
    /// counts as the same.
    pub fn same_text<V: PartialEq>(existing: impl Fn(&str) -> Option<V>, claimed: impl Fn(&str) -> Option<V>) -> bool {
        ["phone_e164", "message"].iter().all(|name| match (existing(name), claimed(name)) {
            (Some(existing), Some(claimed)) => existing == claimed,
            _ => true,
        })
    }

    /// What an existing sent-texts item (its `status`, `claimed_by`, `lease_expires_at`, and whether it holds the
    /// same phone number and message as the claim) means for `claimant`.
    pub fn of_existing(
        status: Option<TextStatus>,
        claimed_by: Option<&str>,
        lease_expires_at: Option<i64>,
        same_text: bool,
        claimant: Claimant<'_>,
    ) -> Self {
        if !same_text {
            return Self::IdReused;
        }
        match status {
            // Our own claim: the SDK repeated the put after the first one's answer was lost.
            Some(TextStatus::Claimed) if claimed_by == Some(claimant.request_id) => Self::Claimed,
            Some(TextStatus::Queued) => Self::Queued,
            Some(TextStatus::Expired) => Self::Expired,
            Some(TextStatus::Failed) => Self::Failed,
            Some(TextStatus::OutsideHours) => Self::OutsideHours,
            Some(TextStatus::Claimed) if lease_expires_at.is_some_and(|lease| lease >= claimant.at_epoch) => {
                Self::InProgress
            }
            Some(TextStatus::Claimed | TextStatus::Unconfirmed) => Self::Unconfirmed,
            // Sent, or a value we never write: an earlier delivery took the id.
            Some(TextStatus::Sent) | None => Self::AlreadySent,
        }
    }
}

/// Remembers which texts (id and type) have been sent, so a retried delivery never texts a lead twice.
pub trait TextLedger: Send + Sync {
    /// Atomically claims the text: only a new one, or (with `takes_over`) one the queuing delivery holds
    /// unfinished or queued. An existing one is judged by [`ClaimOutcome::of_existing`].
    fn claim(&self, claim: TextClaim<'_>) -> impl Future<Output = Result<ClaimOutcome, DependencyError>> + Send;

    /// Settles `claim` as `settlement`, `at` that time. A queued mark applies only to an unfinished claim (the
    /// redrive may have taken it over and sent the text already).
    fn settle(
        &self,
        claim: HeldClaim<'_>,
        settlement: Settlement<'_>,
        at: OffsetDateTime,
    ) -> impl Future<Output = Result<(), DependencyError>> + Send;

    /// Gives up `claim` while it is unfinished, so a retried delivery can send the text.
    fn release(&self, claim: HeldClaim<'_>) -> impl Future<Output = Result<(), DependencyError>> + Send;
}

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
    /// The sort key: the text's type as read ([`TextType::as_str`]); `type` stays as sent.
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
    /// When 2X's delivery reached the webhook: the text's age (its maximum age, `TextAgeWhenSent`) counts from it.
    pub received_at: String,
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
        "received_at",
        "claimed_at",
        "lease_expires_at",
        "expires_at",
        "message_id",
        "sent_at",
        "unconfirmed_at",
        "queued_at",
        "expired_at",
        "outside_hours_at",
        "failed_at",
        "failure_code",
        SMS_ENCODING,
        SMS_PARTS,
        SMS_CHARACTERS_REPLACED,
        // Set by sms-delivery-status from SNS's delivery records (its `DELIVERY_ATTRIBUTES`).
        "delivery_status",
        "delivery_provider_response",
        "delivery_price_usd",
        "delivery_reported_at",
        "delivery_parts",
        SHADOWED_FIELDS,
        STORED_AS_JSON,
    ];

    /// The claim of text `key`, whose body's fields (but `id`) are `fields`, by the delivery `claimed_by` that
    /// arrived at `received_at`, made `now`.
    pub fn new(
        key: &'a TextKey,
        mut fields: Fields,
        phone: &'a PhoneNumber,
        claimed_by: &'a str,
        received_at: OffsetDateTime,
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
            received_at: rfc3339(received_at),
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
    use crate::text::SendText;
    use serde_json::{Value, json};
    use webhook::phone::CountryCode;
    use webhook_test_support::events::keys;

    #[test]
    fn statuses_read_back_as_written() {
        for status in [
            TextStatus::Claimed,
            TextStatus::Sent,
            TextStatus::Unconfirmed,
            TextStatus::Queued,
            TextStatus::Expired,
            TextStatus::Failed,
            TextStatus::OutsideHours,
        ] {
            assert_eq!(TextStatus::parse(status.as_str()), Some(status));
            assert_eq!(serde_json::to_value(status).unwrap(), status.as_str());
        }
        assert_eq!(TextStatus::parse("delivered"), None);
    }

    fn sample_text() -> Value {
        json!({"id": 5, "record_phone_number": "+12025550143", "message": "hi", "type": "pre-call"})
    }

    fn read(body: Value) -> (TextKey, Fields) {
        let text = SendText::read(body.as_object().cloned().unwrap()).unwrap();
        (TextKey { id: text.id, text_type: text.text_type }, text.fields)
    }

    /// The claim of `key` by delivery `by`, received and claimed at the epoch.
    fn claim_at_epoch<'a>(
        key: &'a TextKey,
        fields: Fields,
        phone: &'a PhoneNumber,
        by: &'a str,
        retention: Option<Retention>,
    ) -> TextClaimRecord<'a> {
        let epoch = OffsetDateTime::UNIX_EPOCH;
        TextClaimRecord::new(key, fields, phone, by, epoch, epoch, retention)
    }

    #[test]
    fn a_senders_fields_named_like_ours_are_kept_aside_and_never_set_ours() {
        let phone = PhoneNumber::parse("+12025550143", CountryCode::US).unwrap();
        let mut body = sample_text();
        for name in TextClaimRecord::ATTRIBUTES {
            body[*name] = json!({"from": "the sender", "name": name});
        }
        let (key, fields) = read(body.clone());
        let claim = claim_at_epoch(&key, fields, &phone, "req-1", None);
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
        let claim = claim_at_epoch(&key, fields, &phone, "r", retention);
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
            claim_at_epoch(&key, fields, &phone, "r", retention).expires_at
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
        let record = claim_at_epoch(&key, fields, &phone, "req-1", None);
        let claim = record.claim(Some("req-0")).unwrap();
        assert_eq!(claim.takes_over, Some("req-0"));
        assert_eq!((claim.key, claim.claimant), (&key, Claimant { request_id: "req-1", at_epoch: 0 }));
        assert_eq!(claim.item, Item::new(&record).unwrap());
        assert!(claim.item.attributes().contains_key("lease_expires_at"));
        assert!(!claim.item.attributes().contains_key("claimed_at_epoch"));
    }
}
