//! The narrow capabilities the text work needs (send-text's and the redrive's), and the ledger's own words: which
//! text ([`TextKey`]), its states ([`TextStatus`]), a claim, what it meets and how a held one is settled. `aws`
//! implements them; `fakes` in memory. The sent-texts item (`record`) is built from these; nothing here depends
//! on it.

use crate::payload::TextType;
use crate::sms::SmsText;
use serde::{Serialize, Serializer};
use std::future::Future;
use time::OffsetDateTime;
use webhook::error::DependencyError;
use webhook::item::Item;
use webhook::payload::WebhookId;
use webhook::phone::PhoneNumber;

/// Which text: 2X's id and the text's type. A pre-call text and the post-voicemail text after that call may carry
/// the same id; each is sent at most once.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TextKey {
    pub id: WebhookId,
    pub text_type: TextType,
}

/// A sent-texts item's `status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextStatus {
    /// A delivery is sending it now.
    Claimed,
    /// SNS accepted it; `message_id` is set.
    Sent,
    /// The publish reached SNS but its answer was lost: it may have been sent, so it is never sent again.
    Unconfirmed,
    /// It was not sent (the claim write, the suppression list or SNS failed): it waits on the fallback queue, and
    /// only the redrive, taking over the claim of the delivery that queued it, may send it.
    Queued,
    /// It waited on the queue longer than its kind's maximum age: never sent (a pre-call text after the call is
    /// worse than none).
    Expired,
    /// SNS refused it for good (`failure_code`): never sent.
    Failed,
}

impl TextStatus {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Claimed => "claimed",
            Self::Sent => "sent",
            Self::Unconfirmed => "unconfirmed",
            Self::Queued => "queued",
            Self::Expired => "expired",
            Self::Failed => "failed",
        }
    }

    /// The status an item holds; `None` for a value we never write.
    pub fn parse(value: &str) -> Option<Self> {
        [Self::Claimed, Self::Sent, Self::Unconfirmed, Self::Queued, Self::Expired, Self::Failed]
            .into_iter()
            .find(|status| status.as_str() == value)
    }
}

impl Serialize for TextStatus {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// A claim a delivery holds: which text, and which delivery (its Lambda request id). Only the holder may settle
/// the claim or give it back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeldClaim<'a> {
    pub key: &'a TextKey,
    pub claimed_by: &'a str,
}

/// How a held claim is settled: the text's final state (or `Queued`, until the redrive takes it over) and what
/// goes with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settlement<'a> {
    /// SNS accepted it, as `message_id`.
    Sent { message_id: &'a str },
    /// The publish reached SNS and its answer was lost.
    Unconfirmed,
    /// Not sent, and on the fallback queue: only an unfinished claim is marked.
    Queued,
    /// Older than its maximum age: never sent.
    Expired,
    /// SNS refused it for good, with error `code`.
    Failed { code: &'a str },
}

impl Settlement<'_> {
    pub const fn status(&self) -> TextStatus {
        match self {
            Self::Sent { .. } => TextStatus::Sent,
            Self::Unconfirmed => TextStatus::Unconfirmed,
            Self::Queued => TextStatus::Queued,
            Self::Expired => TextStatus::Expired,
            Self::Failed { .. } => TextStatus::Failed,
        }
    }
}

/// Why SNS did not confirm a text, which decides whether it may be sent again.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendFailure {
    /// SNS refused it for now (throttling, an access or key problem the operator can fix), or the request never
    /// reached it: the text was not sent, and may be sent later.
    #[error(transparent)]
    NotSent(DependencyError),
    /// The request reached SNS and no success came back (no answer, or a 5xx: SNS had it): the text may have been
    /// sent.
    #[error("{0} after the request reached SNS")]
    Unconfirmed(DependencyError),
    /// SNS refused the request itself (`code`, such as `InvalidParameter`): sending it again changes nothing.
    #[error("{error} (for good)")]
    Refused { error: DependencyError, code: String },
}

/// Sends one SMS now.
pub trait SmsSender: Send + Sync {
    /// Whether the number replied STOP (or was otherwise opted out) and must not be texted.
    fn is_opted_out(&self, to: &PhoneNumber) -> impl Future<Output = Result<bool, DependencyError>> + Send;

    /// Returns the provider's message id. Never repeats a request the provider may have received.
    fn send(&self, to: &PhoneNumber, text: SmsText<'_>) -> impl Future<Output = Result<String, SendFailure>> + Send;
}

/// Who claims a text id, and when: what an existing claim is judged against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Claimant<'a> {
    /// The Lambda request id of the claiming delivery.
    pub request_id: &'a str,
    /// The claim time as epoch seconds, to judge an existing claim's lease by.
    pub at_epoch: i64,
}

/// A claim ready to write: its item, built once from the record and handed to the ledger whole.
#[derive(Debug, Clone, PartialEq)]
pub struct TextClaim<'a> {
    pub key: &'a TextKey,
    pub claimant: Claimant<'a>,
    /// The request id of the delivery that queued the text (the redrive's claim): its claim, unfinished
    /// (`claimed`) or `queued`, is replaced by this one. That delivery never published, and the replacement is
    /// atomic, so two redrives of one message cannot both send.
    pub takes_over: Option<&'a str>,
    pub item: Item,
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
    /// An earlier delivery could not send it and queued it: the redrive sends it.
    Queued,
    /// It waited on the queue too long and is never sent.
    Expired,
    /// SNS refused it for good: it is never sent.
    Failed,
    /// The id and type were claimed for another phone number or message: 2X reused an id. Never sent.
    IdReused,
}

impl ClaimOutcome {
    /// Whether an existing sent-texts item is the claimed text: the same phone number and message, read from the
    /// existing item by `existing` and from the claim's by `claimed`. An item that lacks either cannot tell, and
    /// counts as the same.
    pub fn same_text<V: PartialEq>(existing: impl Fn(&str) -> Option<V>, claimed: impl Fn(&str) -> Option<V>) -> bool {
        ["phone_e164", "message"].iter().all(|name| match (existing(name), claimed(name)) {
            (Some(existing), Some(claimed)) => existing == claimed,
            _ => true,
        })
    }

    /// What an existing sent-texts item (its `status`, `claimed_by`, `lease_expires_at`, and whether it holds the
    /// same phone number and message as the claim) means for `claimant`.
    pub fn of_existing(
        status: Option<TextStatus>,
        claimed_by: Option<&str>,
        lease_expires_at: Option<i64>,
        same_text: bool,
        claimant: Claimant<'_>,
    ) -> Self {
        if !same_text {
            return Self::IdReused;
        }
        match status {
            // Our own claim: the SDK repeated the put after the first one's answer was lost.
            Some(TextStatus::Claimed) if claimed_by == Some(claimant.request_id) => Self::Claimed,
            Some(TextStatus::Queued) => Self::Queued,
            Some(TextStatus::Expired) => Self::Expired,
            Some(TextStatus::Failed) => Self::Failed,
            Some(TextStatus::Claimed) if lease_expires_at.is_some_and(|lease| lease >= claimant.at_epoch) => {
                Self::InProgress
            }
            Some(TextStatus::Claimed | TextStatus::Unconfirmed) => Self::Unconfirmed,
            // Sent, or a value we never write: an earlier delivery took the id.
            Some(TextStatus::Sent) | None => Self::AlreadySent,
        }
    }
}

/// Remembers which texts (id and type) have been sent, so a retried delivery never texts a lead twice.
pub trait TextLedger: Send + Sync {
    /// Atomically claims the text: only a new one, or (with `takes_over`) one the queuing delivery holds
    /// unfinished or queued. An existing one is judged by [`ClaimOutcome::of_existing`].
    fn claim(&self, claim: TextClaim<'_>) -> impl Future<Output = Result<ClaimOutcome, DependencyError>> + Send;

    /// Settles `claim` as `settlement`, `at` that time. A queued mark applies only to an unfinished claim (the
    /// redrive may have taken it over and sent the text already).
    fn settle(
        &self,
        claim: HeldClaim<'_>,
        settlement: Settlement<'_>,
        at: OffsetDateTime,
    ) -> impl Future<Output = Result<(), DependencyError>> + Send;

    /// Gives up `claim` while it is unfinished, so a retried delivery can send the text.
    fn release(&self, claim: HeldClaim<'_>) -> impl Future<Output = Result<(), DependencyError>> + Send;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_read_back_as_written() {
        for status in [
            TextStatus::Claimed,
            TextStatus::Sent,
            TextStatus::Unconfirmed,
            TextStatus::Queued,
            TextStatus::Expired,
            TextStatus::Failed,
        ] {
            assert_eq!(TextStatus::parse(status.as_str()), Some(status));
            assert_eq!(serde_json::to_value(status).unwrap(), status.as_str());
        }
        assert_eq!(TextStatus::parse("delivered"), None);
    }
}
