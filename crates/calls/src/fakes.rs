//! The call work's port in memory: the calls table, items as JSON, with the adapter's condition (the first record
//! is kept). Test code only, behind the `fakes` feature.

use crate::record::{CallStore, StoreOutcome};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use webhook::error::DependencyError;
use webhook::fakes::{Operations, item_json, lock};
use webhook::item::Item;
use webhook::payload::WebhookId;

/// The calls table. Operation: `store`. A clone shares the table (post-call and the redrive write to one).
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
        if items.contains_key(&id) {
            return Ok(StoreOutcome::AlreadyStored);
        }
        items.insert(id, (item, bytes));
        match self.operations.answer_lost("store") {
            true => Err(DependencyError::new("store", "timed out")),
            false => Ok(StoreOutcome::Stored),
        }
    }
}
