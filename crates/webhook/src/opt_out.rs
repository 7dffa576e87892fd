//! The suppression list: numbers that must never be texted again, because the lead replied STOP (2X's Text
//! Opt-out webhook) or asked not to be contacted (a post-call whose end reason suppresses texts). text-optout and
//! post-call add to it; send-text reads it before every text.

use crate::error::DependencyError;
use crate::item::Item;
use crate::payload::{LeadFields, WebhookId};
use crate::phone::PhoneNumber;
use crate::record::{SHADOWED_FIELDS, ShadowedFields, rfc3339, set_aside};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::future::Future;
use time::OffsetDateTime;

/// Why a number is on the list: `text-optout`, or `post-call:<end_reason>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OptOutSource {
    TextOptOut,
    PostCall { end_reason: String },
}

impl Serialize for OptOutSource {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::TextOptOut => serializer.serialize_str("text-optout"),
            Self::PostCall { end_reason } => serializer.collect_str(&format_args!("post-call:{end_reason}")),
        }
    }
}

/// What 2X sent about a lead: the number as sent, the lead's fields and workflow position, and any other field
/// (kept as sent). The body of 2X's Text Opt-out webhook is exactly this.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LeadReport {
    /// As 2X sent it: E.164 or a bare national number.
    pub record_phone_number: String,
    #[serde(flatten)]
    pub lead: LeadFields,
    /// Fields 2X may add that we do not know yet.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

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
    /// What 2X sent, less the fields set aside in `shadowed_fields`.
    #[serde(flatten)]
    pub sent: LeadReport,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shadowed_fields: Option<ShadowedFields>,
}

impl<'a> OptOutRecord<'a> {
    /// Every attribute of an opt-outs item that is ours, not the sender's. A sender's field with one of these
    /// names is kept in `shadowed_fields`.
    pub const ATTRIBUTES: &'static [&'static str] = &["phone", "source", "opted_out_at", "call_id", SHADOWED_FIELDS];

    pub fn new(
        phone: &'a PhoneNumber,
        source: OptOutSource,
        call_id: Option<WebhookId>,
        mut sent: LeadReport,
        now: OffsetDateTime,
    ) -> Self {
        Self {
            shadowed_fields: set_aside(&mut sent.extra, Self::ATTRIBUTES),
            phone: phone.e164(),
            source,
            opted_out_at: rfc3339(now),
            call_id,
            sent,
        }
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

/// No list configured (`OPT_OUTS_TABLE` unset): nothing is listed.
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
    use serde_json::json;

    #[test]
    fn the_record_keeps_what_2x_sent_and_ours_wins() {
        let phone = PhoneNumber::parse("2025550177", CountryCode::US).unwrap();
        let sent: LeadReport = serde_json::from_value(json!({"record_phone_number": "2025550177",
            "workflow_key": "DEF456", "source": "sender's", "phone": 5, "anything": [1]}))
        .unwrap();
        let at = OffsetDateTime::UNIX_EPOCH;
        let item = serde_json::to_value(OptOutRecord::new(&phone, OptOutSource::TextOptOut, None, sent.clone(), at));
        assert_eq!(
            item.unwrap(),
            json!({"phone": "+12025550177", "source": "text-optout", "opted_out_at": "1970-01-01T00:00:00Z",
                   "record_phone_number": "2025550177", "workflow_key": "DEF456", "anything": [1],
                   "shadowed_fields": {"source": "sender's", "phone": 5}})
        );
        let source = OptOutSource::PostCall { end_reason: "do_not_call".into() };
        let record = OptOutRecord::new(&phone, source, Some(WebhookId::new(126)), sent, at);
        let item = serde_json::to_value(record).unwrap();
        assert_eq!((&item["source"], &item["call_id"]), (&json!("post-call:do_not_call"), &json!(126)));
    }
}
