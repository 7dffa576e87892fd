//! The narrow capabilities the handlers need. Adapters implement them for AWS; `fakes` in memory.

use crate::error::DependencyError;
use crate::payload::WebhookId;
use crate::phone::PhoneNumber;
use crate::records::{CallRecord, SentText, TextClaimRecord};
use crate::sms::SmsText;
use std::future::Future;

/// Sends one SMS now.
pub trait SmsSender: Send + Sync {
    /// Whether the number replied STOP (or was otherwise opted out) and must not be texted.
    fn is_opted_out(&self, to: &PhoneNumber) -> impl Future<Output = Result<bool, DependencyError>> + Send;

    /// Returns the provider's message id.
    fn send(&self, to: &PhoneNumber, text: SmsText<'_>)
    -> impl Future<Output = Result<String, DependencyError>> + Send;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimOutcome {
    /// This delivery owns the id and must send the text.
    Claimed,
    /// An earlier delivery sent it.
    AlreadySent,
    /// Another delivery holds an unexpired claim and may be sending it right now.
    InProgress,
}

/// Remembers which text ids have been sent, so a retried delivery never texts a lead twice.
pub trait TextLedger: Send + Sync {
    /// Atomically claims the id unless it was sent or another live claim holds it.
    fn claim(&self, claim: &TextClaimRecord<'_>) -> impl Future<Output = Result<ClaimOutcome, DependencyError>> + Send;

    /// Marks the claim held by `claimed_by` as sent.
    fn mark_sent(
        &self,
        id: WebhookId,
        claimed_by: &str,
        sent: &SentText<'_>,
    ) -> impl Future<Output = Result<(), DependencyError>> + Send;

    /// Gives up the claim held by `claimed_by`, so a retried delivery can send the text.
    fn release(&self, id: WebhookId, claimed_by: &str) -> impl Future<Output = Result<(), DependencyError>> + Send;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreOutcome {
    Stored,
    /// A record with this id was already stored; it is kept as it was.
    AlreadyStored,
}

/// Keeps call records.
pub trait CallStore: Send + Sync {
    fn store(&self, record: &CallRecord<'_>) -> impl Future<Output = Result<StoreOutcome, DependencyError>> + Send;
}
