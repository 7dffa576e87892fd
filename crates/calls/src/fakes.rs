//! The call work's ports in memory: the calls table, items as JSON, with the adapter's conditions (the first record
//! is kept, with a transfer that arrived before it). Test code only, behind the `fakes` feature.

use crate::record::{CallStore, StoreOutcome};
use crate::transfer::{TRANSFER_ATTRIBUTES, TransferStore};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use webhook::error::DependencyError;
use webhook::fakes::{Operations, item_json, lock};
use webhook::item::Item;
use webhook::payload::WebhookId;

/// The calls table. Operations: `store`, `set_transfer`. A clone shares the table (post-call and the redrive write to one).
#[derive(Debug, Default, Clone)]
pub struct FakeCallStore {
    pub operations: Arc<Operations>,
    /// Each item as JSON, and its size as DynamoDB counts it.
    items: Arc<Mutex<HashMap<WebhookId, (Value, usize)>>>,
}

impl FakeCallStore {
    pub fn item(&self, id: WebhookId) -> Option<Value> {
        lock(&self.items).get(&id).map(|(item, _)| item.clone())
    }

    /// The stored item's size, as DynamoDB counts it.
    pub fn item_bytes(&self, id: WebhookId) -> Option<usize> {
        lock(&self.items).get(&id).map(|(_, bytes)| *bytes)
    }

    pub fn len(&self) -> usize {
        lock(&self.items).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl CallStore for FakeCallStore {
    async fn store(&self, item: Item) -> Result<StoreOutcome, DependencyError> {
        self.operations.call("store")?;
        let bytes = item.size();
        let item = item_json(item.attributes());
        let id = item["id"].as_u64().map(WebhookId::new).ok_or_else(|| DependencyError::new("store", "no id"))?;
        let mut items = lock(&self.items);
        let mut item = item;
        match items.get(&id) {
            Some((existing, _)) if existing.get("received_at").is_some() => return Ok(StoreOutcome::AlreadyStored),
            Some((transfer_only, _)) => {
                for name in TRANSFER_ATTRIBUTES.into_iter().filter(|name| transfer_only.get(name).is_some()) {
                    item[name] = transfer_only[name].clone();
                }
            }
            None => {}
        }
        items.insert(id, (item, bytes));
        match self.operations.answer_lost("store") {
            true => Err(DependencyError::new("store", "timed out")),
            false => Ok(StoreOutcome::Stored),
        }
    }
}

impl TransferStore for FakeCallStore {
    async fn set_transfer(&self, id: WebhookId, transfer: Item) -> Result<(), DependencyError> {
        self.operations.call("set_transfer")?;
        let transfer = item_json(transfer.attributes());
        let mut items = lock(&self.items);
        let (item, _) = items.entry(id).or_insert_with(|| (serde_json::json!({"id": id.get()}), 0));
        if let Some(item) = item.as_object_mut() {
            item.retain(|name, _| !TRANSFER_ATTRIBUTES.contains(&name.as_str()));
        }
        for (name, value) in transfer.as_object().into_iter().flatten() {
            if name != "expires_at" || item.get(name).is_none() {
                item[name] = value.clone();
            }
        }
        match self.operations.answer_lost("set_transfer") {
            true => Err(DependencyError::new("set_transfer", "timed out")),
            false => Ok(()),
        }
    }
}
