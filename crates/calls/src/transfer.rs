//! A call's transfer outcome (2X's Call Transfer Type webhook: `id`, `transfer_type` `qualified` or
//! `unqualified`, `duration` after the transfer, `call_direction`), set on the call record with that `id`.
//!
//! 2X sends it after the call, but nothing orders it with the call's post-call: it may arrive first. Either way
//! the calls item ends the same: the call's record, plus [`TRANSFER_ATTRIBUTES`]. Arriving first, the transfer
//! makes an item holding only its own attributes; the post-call's store keeps them (`CallStore::store`).

use serde::Serialize;
use serde_json::Value;
use std::future::Future;
use time::OffsetDateTime;
use webhook::config::Retention;
use webhook::error::{DependencyError, UnstorableValue};
use webhook::item::{Item, STORED_AS_JSON, expires_at, rfc3339};
use webhook::payload::{Fields, WebhookId};

/// The attributes a transfer sets on a calls item (the post-call's record sets none of them).
pub const TRANSFER_ATTRIBUTES: [&str; 4] =
    ["transfer_type", "transfer", "transfer_received_at", TRANSFER_STORED_AS_JSON];

/// Where a transfer's values DynamoDB cannot hold as they are are listed (the item's own [`STORED_AS_JSON`] is
/// the call record's).
pub const TRANSFER_STORED_AS_JSON: &str = "transfer_stored_as_json";

/// What a transfer sets on the call record `id`.
#[derive(Debug, Serialize)]
pub struct TransferRecord {
    #[serde(skip)]
    pub id: WebhookId,
    /// `transfer_type` as sent, when sent: the outcome, at the top of the item to read and project it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transfer_type: Option<Value>,
    /// The body as sent but `id`: `transfer_type`, `duration`, `call_direction` and whatever else 2X adds.
    pub transfer: Fields,
    pub transfer_received_at: String,
    /// Set only when the item has none yet: a transfer that arrives first expires as the call would, and never
    /// moves a stored call's expiry.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
}

impl TransferRecord {
    /// The transfer of call `id`, whose body's fields (but `id`) are `fields`, received `now`.
    pub fn new(id: WebhookId, fields: Fields, now: OffsetDateTime, retention: Option<Retention>) -> Self {
        Self {
            id,
            transfer_type: fields.get("transfer_type").cloned(),
            transfer: fields,
            transfer_received_at: rfc3339(now),
            expires_at: expires_at(now, retention),
        }
    }

    /// The attributes to set, as one item (never holding the call record's own [`STORED_AS_JSON`]).
    pub fn into_item(self) -> Result<Item, UnstorableValue> {
        Item::new(&self).map(|item| item.renamed(STORED_AS_JSON, TRANSFER_STORED_AS_JSON))
    }
}

/// Sets transfers on call records.
pub trait TransferStore: Send + Sync {
    /// Sets `transfer`'s attributes (an [`TransferRecord`]'s item) on the calls item `id`, making the item when
    /// the call is not stored yet. It replaces an earlier transfer of the call whole (the last delivered wins).
    fn set_transfer(&self, id: WebhookId, transfer: Item) -> impl Future<Output = Result<(), DependencyError>> + Send;
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_transfer_is_kept_as_sent_with_its_type_at_the_top() {
        let fields = json!({"transfer_type": "qualified", "duration": 70, "call_direction": "outbound", "x": [1]});
        let fields = fields.as_object().cloned().unwrap();
        let record = TransferRecord::new(WebhookId::new(7), fields.clone(), OffsetDateTime::UNIX_EPOCH, None);
        let item = webhook::fakes::item_json(record.into_item().unwrap().attributes());
        assert_eq!(
            item,
            json!({"transfer_type": "qualified", "transfer": fields, "transfer_received_at": "1970-01-01T00:00:00Z"})
        );
    }

    #[test]
    fn values_dynamodb_refuses_are_listed_apart_from_the_calls_own() {
        let fields = json!({"transfer_type": 3, "": {"deep": 1}}).as_object().cloned().unwrap();
        let retention = Some(Retention::days(1));
        let record = TransferRecord::new(WebhookId::new(7), fields, OffsetDateTime::UNIX_EPOCH, retention);
        let item = webhook::fakes::item_json(record.into_item().unwrap().attributes());
        assert!(item.get(STORED_AS_JSON).is_none(), "{item}");
        assert_eq!((&item[TRANSFER_STORED_AS_JSON], &item["expires_at"]), (&json!(["transfer"]), &json!(86_400)));
        assert_eq!(item["transfer_type"], 3, "as sent");
    }
}
