//! The suppression list in memory, with the adapter's condition (the first record of a number is kept). A clone
//! shares the list, so that post-call or text-optout can list a number and send-text then find it.

use crate::{Operations, item_json, lock};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use webhook::error::DependencyError;
use webhook::item::Item;
use webhook::opt_out::{Listed, OptOutLookup, OptOutWriter};
use webhook::phone::PhoneNumber;

/// Operations: `add`, `is_listed`.
#[derive(Debug, Default, Clone)]
pub struct FakeOptOuts {
    pub operations: Arc<Operations>,
    /// Each listed number's item as JSON, by E.164 number.
    items: Arc<Mutex<HashMap<String, Value>>>,
}

impl FakeOptOuts {
    /// The item that lists `e164`.
    pub fn item(&self, e164: &str) -> Option<Value> {
        lock(&self.items).get(e164).cloned()
    }

    pub fn len(&self) -> usize {
        lock(&self.items).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl OptOutWriter for FakeOptOuts {
    async fn add(&self, item: Item) -> Result<Listed, DependencyError> {
        self.operations.call("add")?;
        let item = item_json(item.attributes());
        let phone = item["phone"].as_str().ok_or_else(|| DependencyError::new("add", "no phone"))?.to_owned();
        let mut items = lock(&self.items);
        if items.contains_key(&phone) {
            return Ok(Listed::AlreadyListed);
        }
        items.insert(phone, item);
        match self.operations.answer_lost("add") {
            true => Err(DependencyError::new("add", "timed out")),
            false => Ok(Listed::Added),
        }
    }
}

impl OptOutLookup for FakeOptOuts {
    async fn is_listed(&self, phone: &PhoneNumber) -> Result<bool, DependencyError> {
        self.operations.call("is_listed")?;
        Ok(lock(&self.items).contains_key(phone.e164()))
    }
}
