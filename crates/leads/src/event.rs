//! 2X's webhooks about a lead (no `id` of their own), each a route of lead-events, and the lead-events item:
//! one per event, keyed by the lead's number (E.164) and a digest of the body, holding the body as sent.

use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::future::Future;
use time::OffsetDateTime;
use webhook::config::Retention;
use webhook::error::{DependencyError, UnstorableValue};
use webhook::item::{Item, SHADOWED_FIELDS, STORED_AS_JSON, ShadowedFields, expires_at, rfc3339, set_aside};
use webhook::payload::Fields;
use webhook::phone::PhoneNumber;

/// What each route of lead-events receives (the path's last segment, [`LeadRoute::parse`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeadRoute {
    /// `/text/`: the lead replied to a text (`message`).
    InboundText,
    /// `/text-classification/`: 2X classified the lead's text (`message`, `classification`).
    TextClassification,
    /// `/text-response/`, also documented as `/text-reply/`: 2X answered the lead's text (`message`, `response`).
    TextResponse,
    /// `/transfer-type/`: a call's transfer outcome, set on the call record (`id`).
    TransferType,
    /// `/inbound-call/` (2X documents no path): the lead called and 2X transferred the call (`id`, `call`).
    InboundCall,
}

impl LeadRoute {
    pub const ALL: [Self; 5] =
        [Self::InboundText, Self::TextClassification, Self::TextResponse, Self::TransferType, Self::InboundCall];

    /// The route a path's last segment names (`webhook::pipeline::route_of`).
    pub fn parse(route: &str) -> Option<Self> {
        match route {
            "text" => Some(Self::InboundText),
            "text-classification" => Some(Self::TextClassification),
            "text-response" | "text-reply" => Some(Self::TextResponse),
            "transfer-type" => Some(Self::TransferType),
            "inbound-call" => Some(Self::InboundCall),
            _ => None,
        }
    }

    /// Its path's segment (`text-response` for both of that webhook's paths); the summary line's `kind`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::InboundText => "text",
            Self::TextClassification => "text-classification",
            Self::TextResponse => "text-response",
            Self::TransferType => "transfer-type",
            Self::InboundCall => "inbound-call",
        }
    }

    /// The event's `kind` as stored: `None` for a transfer, which is set on its call record instead.
    pub const fn event_kind(self) -> Option<&'static str> {
        match self {
            Self::InboundText => Some("inbound-text"),
            Self::TextClassification => Some("text-classification"),
            Self::TextResponse => Some("text-response"),
            Self::TransferType => None,
            Self::InboundCall => Some("inbound-call"),
        }
    }
}

/// A lead-events item: the number and the event's key, what it is and when it came, the body as sent.
#[derive(Debug, Serialize)]
pub struct LeadEventRecord<'a> {
    /// E.164: the partition key.
    pub phone: &'a str,
    /// The sort key: `<kind>#<digest of the body>` ([`event_key`]): the same body delivered again is the same item.
    pub event: String,
    pub kind: &'static str,
    /// When it first arrived (RFC 3339, UTC): 2X's bodies carry no time of their own.
    pub received_at: String,
    /// The suppression list's source this event put the number on the list for (`text:stop`), when it did (or
    /// would have, the number being listed already).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub opt_out_source: Option<String>,
    #[serde(flatten)]
    pub fields: Fields,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shadowed_fields: Option<ShadowedFields>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
}

impl<'a> LeadEventRecord<'a> {
    /// Every attribute of a lead-events item that is ours, not the sender's. A sender's field with one of these
    /// names is kept in `shadowed_fields`.
    pub const ATTRIBUTES: &'static [&'static str] =
        &["phone", "event", "kind", "received_at", "opt_out_source", "expires_at", SHADOWED_FIELDS, STORED_AS_JSON];

    pub fn new(
        phone: &'a PhoneNumber,
        kind: &'static str,
        mut fields: Fields,
        opt_out_source: Option<String>,
        now: OffsetDateTime,
        retention: Option<Retention>,
    ) -> Self {
        Self {
            event: event_key(kind, &fields),
            shadowed_fields: set_aside(&mut fields, Self::ATTRIBUTES),
            phone: phone.e164(),
            kind,
            received_at: rfc3339(now),
            opt_out_source,
            fields,
            expires_at: expires_at(now, retention),
        }
    }

    pub fn into_item(self) -> Result<Item, UnstorableValue> {
        Item::new(&self)
    }
}

/// `<kind>#<32 hex digits>`: the first 128 bits of the SHA-256 of the body's JSON with every object's keys in
/// order, so the same body is the same event whichever order or spacing a sender's JSON library writes.
pub fn event_key(kind: &str, fields: &Fields) -> String {
    let mut digest = Sha256::new();
    canonical(&mut digest, &Value::Object(fields.clone()));
    let digest = digest.finalize();
    format!("{kind}#{}", hex::encode(&digest[..16]))
}

/// Feeds `value`'s JSON to `digest`, objects' keys sorted.
fn canonical(digest: &mut Sha256, value: &Value) {
    match value {
        Value::Object(object) => {
            let mut entries: Vec<_> = object.iter().collect();
            entries.sort_unstable_by_key(|(name, _)| *name);
            digest.update(b"{");
            for (name, value) in entries {
                digest.update(Value::String(name.clone()).to_string().as_bytes());
                digest.update(b":");
                canonical(digest, value);
                digest.update(b",");
            }
            digest.update(b"}");
        }
        Value::Array(values) => {
            digest.update(b"[");
            for value in values {
                canonical(digest, value);
                digest.update(b",");
            }
            digest.update(b"]");
        }
        scalar => digest.update(scalar.to_string().as_bytes()),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventStored {
    Stored,
    /// The same body arrived before: nothing new is stored.
    AlreadyStored,
}

/// Keeps lead events.
pub trait LeadEventStore: Send + Sync {
    /// Stores a [`LeadEventRecord`]'s item unless the same event (number and key) is stored already.
    fn store(&self, item: Item) -> impl Future<Output = Result<EventStored, DependencyError>> + Send;
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use webhook::phone::CountryCode;

    fn fields(value: Value) -> Fields {
        value.as_object().cloned().unwrap()
    }

    #[test]
    fn every_route_is_read_from_its_paths_last_segment() {
        for route in LeadRoute::ALL {
            assert_eq!(LeadRoute::parse(route.as_str()), Some(route));
        }
        assert_eq!(LeadRoute::parse("text-reply"), Some(LeadRoute::TextResponse));
        assert_eq!(LeadRoute::parse("send-text"), None);
        assert_eq!(LeadRoute::parse("Text"), None);
    }

    #[test]
    fn the_same_body_is_the_same_event_whatever_its_key_order_and_another_body_is_not() {
        let body = json!({"message": "Yes", "meta": {"b": 1, "a": [1, {"y": 2, "x": 3}]}, "workflow_day": 1});
        let reordered = json!({"workflow_day": 1, "meta": {"a": [1, {"x": 3, "y": 2}], "b": 1}, "message": "Yes"});
        let key = event_key("inbound-text", &fields(body.clone()));
        assert_eq!(key, event_key("inbound-text", &fields(reordered)));
        assert!(key.starts_with("inbound-text#") && key.len() == "inbound-text#".len() + 32, "{key}");
        assert_ne!(key, event_key("text-response", &fields(body)));
        assert_ne!(key, event_key("inbound-text", &fields(json!({"message": "Yes", "workflow_day": 2}))));
        assert_ne!(
            event_key("inbound-text", &fields(json!({"message": "1"}))),
            event_key("inbound-text", &fields(json!({"message": 1}))),
            "a string is not the number it spells"
        );
    }

    #[test]
    fn the_record_keeps_the_body_as_sent_and_ours_wins() {
        let phone = PhoneNumber::parse("2025550143", CountryCode::US).unwrap();
        let body = fields(json!({"record_phone_number": "2025550143", "message": "Hi", "kind": "theirs", "phone": 1}));
        let record = LeadEventRecord::new(&phone, "inbound-text", body.clone(), None, OffsetDateTime::UNIX_EPOCH, None);
        let item = webhook::fakes::item_json(record.into_item().unwrap().attributes());
        assert_eq!(
            item,
            json!({"phone": "+12025550143", "event": event_key("inbound-text", &body), "kind": "inbound-text",
                   "received_at": "1970-01-01T00:00:00Z", "record_phone_number": "2025550143", "message": "Hi",
                   "shadowed_fields": {"kind": "theirs", "phone": 1}})
        );
    }
}
