//! The lead-event work's port in memory: the lead-events table, items as JSON, with the adapter's condition (the
//! same event is stored once). Test code only, behind the `fakes` feature.

use crate::event::{EventStored, LeadEventStore};
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use webhook::error::DependencyError;
use webhook::fakes::{Operations, item_json, lock};
use webhook::item::Item;

/// The lead-events table. Operation: `store_event`. A clone shares the table (lead-events and the redrive write
/// to one).
#[derive(Debug, Default, Clone)]
pub struct FakeLeadEvents {
    pub operations: Arc<Operations>,
    /// Each item as JSON, by number and event key.
    items: Arc<Mutex<BTreeMap<(String, String), Value>>>,
}

impl FakeLeadEvents {
    /// The events of `e164`, oldest first (by `received_at`).
    pub fn of(&self, e164: &str) -> Vec<Value> {
        let mut events: Vec<Value> =
            lock(&self.items).iter().filter(|((phone, _), _)| phone == e164).map(|(_, item)| item.clone()).collect();
        events.sort_by(|a, b| a["received_at"].as_str().cmp(&b["received_at"].as_str()));
        events
    }

    /// The event `event` (its key) of `e164`.
    pub fn item(&self, e164: &str, event: &str) -> Option<Value> {
        lock(&self.items).get(&(e164.to_owned(), event.to_owned())).cloned()
    }

    pub fn len(&self) -> usize {
        lock(&self.items).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl LeadEventStore for FakeLeadEvents {
    async fn store(&self, item: Item) -> Result<EventStored, DependencyError> {
        self.operations.call("store_event")?;
        let item = item_json(item.attributes());
        let key = |name: &str| item[name].as_str().map(str::to_owned);
        let (Some(phone), Some(event)) = (key("phone"), key("event")) else {
            return Err(DependencyError::new("store_event", "no key"));
        };
        let mut items = lock(&self.items);
        if items.contains_key(&(phone.clone(), event.clone())) {
            return Ok(EventStored::AlreadyStored);
        }
        items.insert((phone, event), item);
        match self.operations.answer_lost("store_event") {
            true => Err(DependencyError::new("store_event", "timed out")),
            false => Ok(EventStored::Stored),
        }
    }
}
