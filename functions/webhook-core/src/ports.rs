//! The narrow capabilities the handlers need. Adapters implement them for AWS; `fakes` in memory.

use crate::error::{DependencyError, SendFailure};
use crate::payload::WebhookId;
use crate::phone::PhoneNumber;
use crate::records::{CallRecord, SentText, TextClaimRecord};
use crate::sms::SmsText;
use std::future::Future;

/// Sends one SMS now.
pub trait SmsSender: Send + Sync {
    /// Whether the number replied STOP (or was otherwise opted out) and must not be texted.
    fn is_opted_out(&self, to: &PhoneNumber) -> impl Future<Output = Result<bool, DependencyError>> + Send;

    /// Returns the provider's message id. Never repeats a request the provider may have received.
    fn send(&self, to: &PhoneNumber, text: SmsText<'_>) -> impl Future<Output = Result<String, SendFailure>> + Send;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimOutcome {
    /// This delivery owns the id and must send the text.
    Claimed,
    /// An earlier delivery sent it.
    AlreadySent,
    /// An earlier delivery may have sent it (its publish went unanswered, or it died holding the claim): it is
    /// never sent again.
    Unconfirmed,
    /// Another delivery holds an unexpired claim and may be sending it right now.
    InProgress,
}

impl ClaimOutcome {
    /// What an existing sent-texts item (its `status`, `claimed_by`, `lease_expires_at`) means for `claim`.
    pub fn of_existing(
        status: Option<&str>,
        claimed_by: Option<&str>,
        lease_expires_at: Option<i64>,
        claim: &TextClaimRecord<'_>,
    ) -> Self {
        match status {
            // Our own claim: the SDK repeated the put after the first one's answer was lost.
            Some("claimed") if claimed_by == Some(claim.claimed_by) => Self::Claimed,
            Some("claimed") if lease_expires_at.is_some_and(|lease| lease >= claim.claimed_at_epoch) => {
                Self::InProgress
            }
            Some("claimed" | "unconfirmed") => Self::Unconfirmed,
            _ => Self::AlreadySent,
        }
    }
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

    /// Marks the claim held by `claimed_by` as possibly sent, so no delivery sends it again.
    fn mark_unconfirmed(
        &self,
        id: WebhookId,
        claimed_by: &str,
        at: &str,
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
