//! The narrow capability the call work needs (post-call's and the redrive's). `aws` implements it with DynamoDB;
//! `fakes` in memory.

use std::future::Future;
use webhook::error::DependencyError;
use webhook::item::Item;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreOutcome {
    Stored,
    /// A record with this id was already stored; it is kept as it was.
    AlreadyStored,
}

/// Keeps call records.
pub trait CallStore: Send + Sync {
    /// Stores a call's item unless one with its `id` is stored already.
    fn store(&self, item: Item) -> impl Future<Output = Result<StoreOutcome, DependencyError>> + Send;
}
