//! The suppression list: numbers that must never be texted again, because the lead replied STOP (2X's Text
//! Opt-out webhook) or asked not to be contacted (a post-call whose end reason suppresses texts). text-optout and
//! post-call add to it; send-text reads it before every text.

use crate::error::{DependencyError, UnstorableValue};
use crate::item::{Item, SHADOWED_FIELDS, STORED_AS_JSON, ShadowedFields, rfc3339, set_aside};
use crate::payload::{Fields, WebhookId};
use crate::phone::PhoneNumber;
use serde::Serialize;
use std::future::Future;
use time::OffsetDateTime;

/// Why a number is on the list: `text-optout`, `post-call:<end_reason>`, `text:<word>` (the lead's reply was an
/// opt-out word) or `text-classification:<classification>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OptOutSource {
    TextOptOut,
    PostCall {
        end_reason: String,
    },
    /// An inbound text (or a classification or response carrying it) that says stop in one of the FCC's words.
    Reply {
        word: &'static str,
    },
    /// 2X classified the lead's text as one of `SUPPRESS_TEXTS_ON_CLASSIFICATIONS`.
    Classification {
        classification: String,
    },
}

impl std::fmt::Display for OptOutSource {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::TextOptOut => formatter.write_str("text-optout"),
            Self::PostCall { end_reason } => write!(formatter, "post-call:{end_reason}"),
            Self::Reply { word } => write!(formatter, "text:{word}"),
            Self::Classification { classification } => write!(formatter, "text-classification:{classification}"),
        }
    }
}

impl Serialize for OptOutSource {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// The most of what 2X sent that a listing keeps beside the number: the list is read before every text, and
/// DynamoDB bills a read by the size of the item.
pub const LISTING_DETAILS_LIMIT: usize = 64 * 1024;

/// An opt-outs item: the number (the key), why and when it was first listed, and what 2X sent with it.
#[derive(Debug, Serialize)]
pub struct OptOutRecord<'a> {
    /// E.164: the partition key.
    pub phone: &'a str,
    pub source: OptOutSource,
    /// When the number was first listed (RFC 3339, UTC); a later delivery keeps the first record.
    pub opted_out_at: String,
    /// The post-call's `id`, when a call put the number on the list.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub call_id: Option<WebhookId>,
    /// What 2X sent about the lead, as sent, less the fields set aside in `shadowed_fields`.
    #[serde(flatten)]
    pub sent: Fields,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shadowed_fields: Option<ShadowedFields>,
    /// `true` when what 2X sent was left out: the number, why and when are listed alone.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details_omitted: Option<bool>,
}

impl<'a> OptOutRecord<'a> {
    /// Every attribute of an opt-outs item that is ours, not the sender's. A sender's field with one of these
    /// names is kept in `shadowed_fields`.
    pub const ATTRIBUTES: &'static [&'static str] =
        &["phone", "source", "opted_out_at", "call_id", "details_omitted", SHADOWED_FIELDS, STORED_AS_JSON];

    pub fn new(
        phone: &'a PhoneNumber,
        source: OptOutSource,
        call_id: Option<WebhookId>,
        mut sent: Fields,
        now: OffsetDateTime,
    ) -> Self {
        Self {
            shadowed_fields: set_aside(&mut sent, Self::ATTRIBUTES),
            phone: phone.e164(),
            source,
            opted_out_at: rfc3339(now),
            call_id,
            sent,
            details_omitted: None,
        }
    }

    /// The listing's item: with what 2X sent when it is within [`LISTING_DETAILS_LIMIT`], else the number, why and
    /// when alone. Nothing 2X sent can keep a number off the list.
    pub fn into_item(mut self) -> Result<Item, UnstorableValue> {
        if let Ok(item) = Item::new(&self).inspect_err(|refused| tracing::warn!(%refused, "listing without details"))
            && item.size() <= LISTING_DETAILS_LIMIT
        {
            return Ok(item);
        }
        self.sent.clear();
        self.shadowed_fields = None;
        self.details_omitted = Some(true);
        Item::new(&self)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listed {
    /// The number was put on the list now.
    Added,
    /// It was on the list already; its first record is kept.
    AlreadyListed,
}

/// Puts numbers on the suppression list.
pub trait OptOutWriter: Send + Sync {
    /// Adds the number of `item` (an [`OptOutRecord`]'s) unless it is listed already.
    fn add(&self, item: Item) -> impl Future<Output = Result<Listed, DependencyError>> + Send;
}

/// Reads the suppression list.
pub trait OptOutLookup: Send + Sync {
    /// Whether `phone` is on the list.
    fn is_listed(&self, phone: &PhoneNumber) -> impl Future<Output = Result<bool, DependencyError>> + Send;
}

/// The list disabled (`SUPPRESSION_LIST=disabled`): a number cannot be listed (the redrive keeps a queued
/// opt-out for when there is a list again).
impl<T: OptOutWriter> OptOutWriter for Option<T> {
    async fn add(&self, item: Item) -> Result<Listed, DependencyError> {
        match self {
            Some(list) => list.add(item).await,
            None => Err(DependencyError::new("suppression list", "disabled (SUPPRESSION_LIST=disabled)")),
        }
    }
}

/// The list disabled (`SUPPRESSION_LIST=disabled`): nothing is listed.
impl<T: OptOutLookup> OptOutLookup for Option<T> {
    async fn is_listed(&self, phone: &PhoneNumber) -> Result<bool, DependencyError> {
        match self {
            Some(list) => list.is_listed(phone).await,
            None => Ok(false),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::phone::CountryCode;
    use serde_json::{Value, json};

    fn fields(value: Value) -> Fields {
        value.as_object().cloned().unwrap_or_default()
    }

    fn as_json(item: Item) -> Value {
        crate::item::json_of(&aws_sdk_dynamodb::types::AttributeValue::M(item.into_attributes()))
    }

    #[test]
    fn the_record_keeps_what_2x_sent_and_ours_wins() {
        let phone = PhoneNumber::parse("2025550177", CountryCode::US).unwrap();
        let sent = fields(json!({"record_phone_number": 2025550177u64, "workflow_key": "DEF456", "meta": [],
            "source": "sender's", "phone": 5, "anything": [1]}));
        let at = OffsetDateTime::UNIX_EPOCH;
        let item = OptOutRecord::new(&phone, OptOutSource::TextOptOut, None, sent.clone(), at).into_item();
        assert_eq!(
            as_json(item.unwrap()),
            json!({"phone": "+12025550177", "source": "text-optout", "opted_out_at": "1970-01-01T00:00:00Z",
                   "record_phone_number": 2025550177u64, "workflow_key": "DEF456", "meta": [], "anything": [1],
                   "shadowed_fields": {"source": "sender's", "phone": 5}})
        );
        let source = OptOutSource::PostCall { end_reason: "do_not_call".into() };
        let record = OptOutRecord::new(&phone, source, Some(WebhookId::new(126)), sent, at);
        let item = as_json(record.into_item().unwrap());
        assert_eq!((&item["source"], &item["call_id"]), (&json!("post-call:do_not_call"), &json!(126)));
    }

    #[test]
    fn what_2x_sent_is_left_out_rather_than_keep_the_number_off_the_list() {
        let phone = PhoneNumber::parse("2025550177", CountryCode::US).unwrap();
        let sent = fields(json!({"meta": {"notes": "x".repeat(LISTING_DETAILS_LIMIT)}, "": {"deep": []}}));
        let item = OptOutRecord::new(&phone, OptOutSource::TextOptOut, None, sent, OffsetDateTime::UNIX_EPOCH);
        let item = as_json(item.into_item().unwrap());
        assert_eq!(
            item,
            json!({"phone": "+12025550177", "source": "text-optout", "opted_out_at": "1970-01-01T00:00:00Z",
                   "details_omitted": true})
        );
    }
}
