//! The fallback queue in memory: the deliveries queued, in order. Operation: `enqueue`.

use crate::{Operations, lock};
use std::sync::{Arc, Mutex};
use webhook::error::DependencyError;
use webhook::fallback::{FallbackQueue, QueuedDelivery};

/// A clone shares the queue, so a test can read what a handler queued.
#[derive(Debug, Default, Clone)]
pub struct FakeQueue {
    pub operations: Arc<Operations>,
    queued: Arc<Mutex<Vec<QueuedDelivery>>>,
}

impl FakeQueue {
    pub fn queued(&self) -> Vec<QueuedDelivery> {
        lock(&self.queued).clone()
    }
}

impl FallbackQueue for FakeQueue {
    async fn enqueue(&self, delivery: &QueuedDelivery) -> Result<(), DependencyError> {
        self.operations.call("enqueue")?;
        lock(&self.queued).push(delivery.clone());
        Ok(())
    }
}
