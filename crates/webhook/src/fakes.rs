//! In-memory fakes of the shared ports (the suppression list, the fallback queue), and what every crate's fakes
//! are built with: each records the operations called on it and can be told to fail any of them, as an AWS
//! dependency would after its retries. Test code only, behind the `fakes` feature.

use crate::error::DependencyError;
use crate::fallback::{FallbackQueue, QueuedDelivery, Redelivery};
use crate::item::Item;
use crate::opt_out::{Listed, OptOutLookup, OptOutWriter};
use crate::phone::PhoneNumber;
use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

pub fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Which operations were called, in order, and which are made to fail.
#[derive(Debug, Default)]
pub struct Operations {
    called: Mutex<Vec<&'static str>>,
    failing: Mutex<HashSet<&'static str>>,
    answers_lost: Mutex<HashSet<&'static str>>,
}

impl Operations {
    /// The operation fails without taking effect.
    pub fn fail(&self, operation: &'static str) {
        lock(&self.failing).insert(operation);
    }

    /// The operation takes effect, but its answer never arrives (a timeout after the request was received).
    pub fn lose_answers(&self, operation: &'static str) {
        lock(&self.answers_lost).insert(operation);
    }

    pub fn heal(&self, operation: &'static str) {
        lock(&self.failing).remove(operation);
        lock(&self.answers_lost).remove(operation);
    }

    pub fn answer_lost(&self, operation: &'static str) -> bool {
        lock(&self.answers_lost).contains(operation)
    }

    pub fn called(&self) -> Vec<&'static str> {
        lock(&self.called).clone()
    }

    /// Records a call of `operation`; its injected failure, if any.
    pub fn call(&self, operation: &'static str) -> Result<(), DependencyError> {
        lock(&self.called).push(operation);
        match lock(&self.failing).contains(operation) {
            true => Err(DependencyError::new(operation, "injected failure")),
            false => Ok(()),
        }
    }
}

/// A DynamoDB item as JSON, as a test reads it: numbers as numbers, a Binary attribute as its base64 text.
pub fn item_json(attributes: &HashMap<String, AttributeValue>) -> Value {
    crate::item::json_of(&AttributeValue::M(attributes.clone()))
}

/// The suppression list in memory, with the adapter's condition (the first record of a number is kept). A clone
/// shares the list, so that post-call or text-optout can list a number and send-text then find it.
///
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

/// The fallback queue in memory: the deliveries queued, in order, and the redrive's redeliveries. Operations:
/// `enqueue`, `deliver_again_after`. A clone shares the queue, so a test can read what a handler queued.
#[derive(Debug, Default, Clone)]
pub struct FakeQueue {
    pub operations: Arc<Operations>,
    queued: Arc<Mutex<Vec<QueuedDelivery>>>,
    redelivered: Arc<Mutex<Vec<(String, Duration)>>>,
}

impl FakeQueue {
    pub fn queued(&self) -> Vec<QueuedDelivery> {
        lock(&self.queued).clone()
    }

    /// Each message the redrive asked to have delivered again at a time of its own: (receipt handle, after).
    pub fn redelivered(&self) -> Vec<(String, Duration)> {
        lock(&self.redelivered).clone()
    }
}

impl Redelivery for FakeQueue {
    async fn deliver_again_after(&self, _: &str, receipt_handle: &str, after: Duration) -> Result<(), DependencyError> {
        self.operations.call("deliver_again_after")?;
        lock(&self.redelivered).push((receipt_handle.to_owned(), after));
        Ok(())
    }
}

impl FallbackQueue for FakeQueue {
    async fn enqueue(&self, delivery: &QueuedDelivery) -> Result<(), DependencyError> {
        self.operations.call("enqueue")?;
        lock(&self.queued).push(delivery.clone());
        Ok(())
    }
}
