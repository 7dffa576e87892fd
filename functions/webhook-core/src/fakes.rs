//! In-memory implementations of the ports, for tests. Each records the operations called on it and can be
//! told to fail any of them, as an AWS dependency would after its retries.

use crate::error::{DependencyError, SendFailure};
use crate::payload::WebhookId;
use crate::phone::PhoneNumber;
use crate::ports::{CallStore, ClaimOutcome, SmsSender, StoreOutcome, TextLedger};
use crate::records::{CallRecord, SentText, TextClaimRecord, TextStatus};
use crate::sms::SmsText;
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, MutexGuard, PoisonError};

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
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

    fn answer_lost(&self, operation: &'static str) -> bool {
        lock(&self.answers_lost).contains(operation)
    }

    pub fn called(&self) -> Vec<&'static str> {
        lock(&self.called).clone()
    }

    fn call(&self, operation: &'static str) -> Result<(), DependencyError> {
        lock(&self.called).push(operation);
        match lock(&self.failing).contains(operation) {
            true => Err(DependencyError::new(operation, "injected failure")),
            false => Ok(()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentSms {
    pub to: String,
    pub text: String,
    pub message_id: String,
}

/// Records texts instead of sending them. Operations: `is_opted_out`, `send`.
#[derive(Debug, Default)]
pub struct FakeSms {
    pub operations: Operations,
    sent: Mutex<Vec<SentSms>>,
    opted_out: Mutex<HashSet<String>>,
}

impl FakeSms {
    /// The number (E.164) replied STOP.
    pub fn opt_out(&self, e164: &str) {
        lock(&self.opted_out).insert(e164.to_owned());
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

    async fn send(&self, to: &PhoneNumber, text: SmsText<'_>) -> Result<String, SendFailure> {
        self.operations.call("send").map_err(SendFailure::NotSent)?;
        let mut sent = lock(&self.sent);
        let message_id = format!("fake-message-{}", sent.len() + 1);
        sent.push(SentSms { to: to.e164().to_owned(), text: text.as_str().to_owned(), message_id: message_id.clone() });
        match self.operations.answer_lost("send") {
            true => Err(SendFailure::Unconfirmed(DependencyError::new("send", "timed out"))),
            false => Ok(message_id),
        }
    }
}

/// One sent-texts item: the claim as written, then what `mark_sent` adds.
#[derive(Debug, Clone, PartialEq)]
pub struct LedgerEntry {
    pub item: Value,
    pub status: TextStatus,
    pub claimed_by: String,
    pub lease_expires_at: i64,
    pub message_id: Option<String>,
}

/// The sent-texts table with the adapter's conditions. Operations: `claim`, `mark_sent`, `mark_unconfirmed`,
/// `release`.
#[derive(Debug, Default)]
pub struct FakeLedger {
    pub operations: Operations,
    entries: Mutex<HashMap<WebhookId, LedgerEntry>>,
}

impl FakeLedger {
    pub fn entry(&self, id: WebhookId) -> Option<LedgerEntry> {
        lock(&self.entries).get(&id).cloned()
    }

    /// Puts an entry as a delivery that died mid-way would have left it.
    pub fn insert(&self, id: WebhookId, entry: LedgerEntry) {
        lock(&self.entries).insert(id, entry);
    }
}

impl FakeLedger {
    fn settle(
        &self,
        id: WebhookId,
        claimed_by: &str,
        status: TextStatus,
        message_id: Option<&str>,
    ) -> Result<(), DependencyError> {
        match lock(&self.entries).get_mut(&id) {
            Some(entry) if entry.claimed_by == claimed_by => {
                entry.status = status;
                entry.message_id = message_id.map(str::to_owned);
                Ok(())
            }
            _ => Err(DependencyError::new("settle", "condition failed")),
        }
    }
}

impl TextLedger for FakeLedger {
    async fn claim(&self, claim: &TextClaimRecord<'_>) -> Result<ClaimOutcome, DependencyError> {
        self.operations.call("claim")?;
        let mut entries = lock(&self.entries);
        if let Some(entry) = entries.get(&claim.text.id) {
            let status = serde_json::to_value(entry.status).ok();
            let (status, by) = (status.as_ref().and_then(Value::as_str), Some(entry.claimed_by.as_str()));
            return Ok(ClaimOutcome::of_existing(status, by, Some(entry.lease_expires_at), claim));
        }
        let item = serde_json::to_value(claim).map_err(|_| DependencyError::new("claim", "unserialisable"))?;
        entries.insert(
            claim.text.id,
            LedgerEntry {
                item,
                status: TextStatus::Claimed,
                claimed_by: claim.claimed_by.to_owned(),
                lease_expires_at: claim.lease_expires_at,
                message_id: None,
            },
        );
        Ok(ClaimOutcome::Claimed)
    }

    async fn mark_sent(&self, id: WebhookId, claimed_by: &str, sent: &SentText<'_>) -> Result<(), DependencyError> {
        self.operations.call("mark_sent")?;
        self.settle(id, claimed_by, TextStatus::Sent, Some(sent.message_id))
    }

    async fn mark_unconfirmed(&self, id: WebhookId, claimed_by: &str, _at: &str) -> Result<(), DependencyError> {
        self.operations.call("mark_unconfirmed")?;
        self.settle(id, claimed_by, TextStatus::Unconfirmed, None)
    }

    async fn release(&self, id: WebhookId, claimed_by: &str) -> Result<(), DependencyError> {
        self.operations.call("release")?;
        let mut entries = lock(&self.entries);
        if entries.get(&id).is_some_and(|e| e.claimed_by == claimed_by && e.status == TextStatus::Claimed) {
            entries.remove(&id);
        }
        Ok(())
    }
}

/// The calls table, items as JSON, with the adapter's condition (the first record is kept). Operation: `store`.
#[derive(Debug, Default)]
pub struct FakeCallStore {
    pub operations: Operations,
    items: Mutex<HashMap<WebhookId, Value>>,
}

impl FakeCallStore {
    pub fn item(&self, id: WebhookId) -> Option<Value> {
        lock(&self.items).get(&id).cloned()
    }

    pub fn len(&self) -> usize {
        lock(&self.items).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl CallStore for FakeCallStore {
    async fn store(&self, record: &CallRecord<'_>) -> Result<StoreOutcome, DependencyError> {
        self.operations.call("store")?;
        let mut items = lock(&self.items);
        if items.contains_key(&record.call.id) {
            return Ok(StoreOutcome::AlreadyStored);
        }
        let item = serde_json::to_value(record).map_err(|_| DependencyError::new("store", "unserialisable"))?;
        items.insert(record.call.id, item);
        match self.operations.answer_lost("store") {
            true => Err(DependencyError::new("store", "timed out")),
            false => Ok(StoreOutcome::Stored),
        }
    }
}

/// Collects the JSON log lines written through [`crate::telemetry::subscriber`].
#[derive(Debug, Clone, Default)]
pub struct LogCapture(std::sync::Arc<Mutex<Vec<u8>>>);

/// Keeps a [`LogCapture`] installed; when dropped, archives what it captured for the suite-wide log scan.
pub struct CaptureGuard {
    capture: LogCapture,
    _installed: tracing::subscriber::DefaultGuard,
}

impl Drop for CaptureGuard {
    fn drop(&mut self) {
        archive_log("handler-tests", &self.capture.text());
    }
}

/// Where `scripts/test` collects every log line the suite produces, to scan them for secrets afterwards.
pub const LOG_ARCHIVE_VARIABLE: &str = "TWOX_LOG_ARCHIVE";

/// Adds `text` to the log archive, when the suite keeps one.
pub fn archive_log(source: &str, text: &str) {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let Some(directory) = std::env::var_os(LOG_ARCHIVE_VARIABLE) else { return };
    let number = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let path = std::path::Path::new(&directory).join(format!("{source}-{}-{number}.log", std::process::id()));
    if let Err(error) = std::fs::write(&path, text) {
        eprintln!("could not archive a log at {}: {error}", path.display());
    }
}

impl LogCapture {
    /// Routes this thread's `tracing` events here until the guard drops.
    pub fn install(&self) -> CaptureGuard {
        let installed = tracing::subscriber::set_default(crate::telemetry::subscriber(self.clone()));
        CaptureGuard { capture: self.clone(), _installed: installed }
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&lock(&self.0)).into_owned()
    }

    /// Every line parsed as JSON (a line that is not JSON becomes `Null`, which no assertion expects).
    pub fn lines(&self) -> Vec<Value> {
        self.text().lines().map(|line| serde_json::from_str(line).unwrap_or(Value::Null)).collect()
    }

    /// The per-request summary log lines.
    pub fn summaries(&self) -> Vec<Value> {
        self.lines().into_iter().filter(|line| line["message"] == "request answered").collect()
    }

    /// The EMF metric documents.
    pub fn metrics(&self) -> Vec<Value> {
        self.lines().into_iter().filter(|line| line.get("_aws").is_some()).collect()
    }
}

impl std::io::Write for LogCapture {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        lock(&self.0).extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogCapture {
    type Writer = Self;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}
