//! The text work's ports in memory: an SMS sender that records texts, and the sent-texts table with the adapter's
//! conditions. Test code only, behind the `fakes` feature.

use crate::ledger::{
    ClaimOutcome, HeldClaim, SMS_CHARACTERS_REPLACED, SMS_ENCODING, SMS_PARTS, SendFailure, Settlement, SmsSender,
    TextClaim, TextKey, TextLedger, TextStatus,
};
use crate::sms::SmsText;
use crate::text::TextType;
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use time::OffsetDateTime;
use webhook::error::DependencyError;
use webhook::fakes::{Operations, item_json, lock};
use webhook::payload::WebhookId;
use webhook::phone::PhoneNumber;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentSms {
    pub to: String,
    pub text: String,
    pub message_id: String,
}

/// Records texts instead of sending them. Operations: `is_opted_out`, `send`. A clone shares what was sent.
#[derive(Debug, Default, Clone)]
pub struct FakeSms {
    pub operations: Arc<Operations>,
    sent: Arc<Mutex<Vec<SentSms>>>,
    opted_out: Arc<Mutex<HashSet<String>>>,
    /// The error code SNS refuses every text with, for good, when set.
    refused_with: Arc<Mutex<Option<&'static str>>>,
    /// SNS refuses every text for the sending rate while set.
    throttled: Arc<Mutex<bool>>,
}

impl FakeSms {
    /// The number (E.164) replied STOP.
    pub fn opt_out(&self, e164: &str) {
        lock(&self.opted_out).insert(e164.to_owned());
    }

    /// SNS refuses every text from now on, for good, with error `code` (such as `InvalidParameter`).
    pub fn refuse_for_good(&self, code: &'static str) {
        *lock(&self.refused_with) = Some(code);
    }

    /// SNS refuses every text for the sending rate (`Throttling`) while `throttled`.
    pub fn throttle(&self, throttled: bool) {
        *lock(&self.throttled) = throttled;
    }

    pub fn sent(&self) -> Vec<SentSms> {
        lock(&self.sent).clone()
    }
}

impl SmsSender for FakeSms {
    async fn is_opted_out(&self, to: &PhoneNumber) -> Result<bool, DependencyError> {
        self.operations.call("is_opted_out")?;
        Ok(lock(&self.opted_out).contains(to.e164()))
    }

    async fn send(&self, to: &PhoneNumber, text: &SmsText<'_>) -> Result<String, SendFailure> {
        self.operations.call("send").map_err(SendFailure::NotSent)?;
        if let Some(code) = *lock(&self.refused_with) {
            let error = DependencyError::new("send", format!("service error {code}"));
            return Err(SendFailure::Refused { error, code: code.to_owned() });
        }
        if *lock(&self.throttled) {
            return Err(SendFailure::Throttled(DependencyError::new("send", "service error Throttling")));
        }
        let mut sent = lock(&self.sent);
        let message_id = format!("fake-message-{}", sent.len() + 1);
        sent.push(SentSms { to: to.e164().to_owned(), text: text.as_str().to_owned(), message_id: message_id.clone() });
        match self.operations.answer_lost("send") {
            true => Err(SendFailure::Unconfirmed(DependencyError::new("send", "timed out"))),
            false => Ok(message_id),
        }
    }
}

/// One sent-texts item: the claim as written, then what its settlement adds.
#[derive(Debug, Clone, PartialEq)]
pub struct LedgerEntry {
    pub item: Value,
    /// The claim item's size, as DynamoDB counts it.
    pub item_bytes: usize,
    pub status: TextStatus,
    pub claimed_by: String,
    pub lease_expires_at: i64,
    pub message_id: Option<String>,
}

impl LedgerEntry {
    /// An entry as a delivery that died after claiming the id leaves it, its lease ending at `lease_expires_at`.
    pub fn unfinished_claim(claimed_by: &str, lease_expires_at: i64) -> Self {
        Self {
            item: Value::Object(Default::default()),
            item_bytes: 0,
            status: TextStatus::Claimed,
            claimed_by: claimed_by.into(),
            lease_expires_at,
            message_id: None,
        }
    }
}

/// The key of the `text_type` text with webhook id `id`.
pub fn text_key(id: u64, text_type: TextType) -> TextKey {
    TextKey { id: WebhookId::new(id), text_type }
}

/// The key of the pre-call text with webhook id `id` (most samples' texts).
pub fn pre_call(id: u64) -> TextKey {
    text_key(id, TextType::PreCall)
}

/// The sent-texts table with the adapter's conditions. Operations: `claim`, `mark_sent`, `mark_unconfirmed`,
/// `mark_queued`, `mark_expired`, `mark_failed`, `release`. A clone shares the table (send-text and the redrive
/// write to one).
#[derive(Debug, Default, Clone)]
pub struct FakeLedger {
    pub operations: Arc<Operations>,
    entries: Arc<Mutex<HashMap<TextKey, LedgerEntry>>>,
}

impl FakeLedger {
    pub fn entry(&self, key: &TextKey) -> Option<LedgerEntry> {
        lock(&self.entries).get(key).cloned()
    }

    pub fn len(&self) -> usize {
        lock(&self.entries).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Puts an entry as a delivery that died mid-way would have left it.
    pub fn insert(&self, key: TextKey, entry: LedgerEntry) {
        lock(&self.entries).insert(key, entry);
    }

    /// A sent text as send-text leaves it: `message_id` is what SNS answered.
    pub fn insert_sent(&self, key: TextKey, message_id: &str) {
        let mut entry = LedgerEntry::unfinished_claim("req-sent", 0);
        entry.status = TextStatus::Sent;
        entry.message_id = Some(message_id.to_owned());
        self.insert(key, entry);
    }

    /// The text SNS gave `message_id` (what the table's message-id index finds).
    pub fn key_of_message(&self, message_id: &str) -> Option<TextKey> {
        let entries = lock(&self.entries);
        entries.iter().find(|(_, entry)| entry.message_id.as_deref() == Some(message_id)).map(|(key, _)| key.clone())
    }

    /// Edits the item of text `key` with `edit`, which says whether it changed anything.
    pub fn update_item(&self, key: &TextKey, edit: impl FnOnce(&mut Value) -> bool) -> bool {
        lock(&self.entries).get_mut(key).is_some_and(|entry| edit(&mut entry.item))
    }
}

impl TextLedger for FakeLedger {
    async fn claim(&self, claim: TextClaim<'_>) -> Result<ClaimOutcome, DependencyError> {
        self.operations.call("claim")?;
        let mut entries = lock(&self.entries);
        let item = item_json(claim.item.attributes());
        if let Some(entry) = entries.get(claim.key) {
            let by = Some(entry.claimed_by.as_str());
            let taken_over = claim.takes_over.is_some_and(|queued_by| {
                by == Some(queued_by) && matches!(entry.status, TextStatus::Claimed | TextStatus::Queued)
            });
            if !taken_over {
                let lease = Some(entry.lease_expires_at);
                let same = ClaimOutcome::same_text(|name| entry.item.get(name), |name| item.get(name));
                return Ok(ClaimOutcome::of_existing(Some(entry.status), by, lease, same, claim.claimant));
            }
        }
        let item_bytes = claim.item.size();
        let lease_expires_at = item["lease_expires_at"].as_i64().unwrap_or_default();
        entries.insert(
            claim.key.clone(),
            LedgerEntry {
                item,
                item_bytes,
                status: TextStatus::Claimed,
                claimed_by: claim.claimant.request_id.to_owned(),
                lease_expires_at,
                message_id: None,
            },
        );
        Ok(ClaimOutcome::Claimed)
    }

    /// Operations: `mark_sent`, `mark_unconfirmed`, `mark_queued`, `mark_expired`, `mark_outside_hours`,
    /// `mark_failed`, by the settlement.
    async fn settle(
        &self,
        claim: HeldClaim<'_>,
        settlement: Settlement<'_>,
        _at: OffsetDateTime,
    ) -> Result<(), DependencyError> {
        let operation = match settlement {
            Settlement::Sent { .. } => "mark_sent",
            Settlement::Unconfirmed => "mark_unconfirmed",
            Settlement::Queued => "mark_queued",
            Settlement::Expired => "mark_expired",
            Settlement::OutsideHours => "mark_outside_hours",
            Settlement::Failed { .. } => "mark_failed",
        };
        self.operations.call(operation)?;
        let mut entries = lock(&self.entries);
        let entry = entries.get_mut(claim.key).filter(|entry| entry.claimed_by == claim.claimed_by);
        // A queued mark only on an unfinished claim, as the adapter's condition.
        let entry = entry.filter(|entry| settlement != Settlement::Queued || entry.status == TextStatus::Claimed);
        let entry = entry.ok_or_else(|| DependencyError::new(operation, "condition failed"))?;
        entry.status = settlement.status();
        match settlement {
            Settlement::Sent { message_id, billing } => {
                entry.message_id = Some(message_id.to_owned());
                entry.item[SMS_ENCODING] = billing.segments.encoding.name().into();
                entry.item[SMS_PARTS] = billing.segments.count.into();
                if billing.characters_replaced > 0 {
                    entry.item[SMS_CHARACTERS_REPLACED] = billing.characters_replaced.into();
                }
            }
            Settlement::Failed { code } => entry.item["failure_code"] = code.into(),
            Settlement::Unconfirmed | Settlement::Queued | Settlement::Expired | Settlement::OutsideHours => {}
        }
        Ok(())
    }

    async fn release(&self, claim: HeldClaim<'_>) -> Result<(), DependencyError> {
        self.operations.call("release")?;
        let mut entries = lock(&self.entries);
        if entries.get(claim.key).is_some_and(|e| e.claimed_by == claim.claimed_by && e.status == TextStatus::Claimed) {
            entries.remove(claim.key);
        }
        Ok(())
    }
}
