//! A batch of delivery-status log lines: each line read as a delivery record and set on the sent text SNS
//! gave its message id, a few at a time; one EMF document per record (its log line and its metrics), one
//! summary line per batch. Generic over the ledger.

use crate::ports::{DeliveryLedger, Recorded, ReportedText};
use crate::report::{DeliveryReport, DeliveryStatus, UnreadableRecord};
use aws_lambda_events::cloudwatch_logs::{LogData, LogEntry};
use futures_util::StreamExt;
use serde_json::{Map, Value, json};
use std::time::{Duration, Instant};
use webhook::budget::{self, Deadline};
use webhook::error::DependencyError;
use webhook::metrics::{Metric, Outcome, Unit, directive, emf_document, text_type_dimension};
use webhook::telemetry::{now_ms, write_emf};

pub const FUNCTION: &str = "sms-delivery-status";

/// The slowest record to apply: the sent text found by its message id, then updated. A record is started only
/// while the invocation's deadline leaves this (and the margin): the batch fails, to be delivered again, instead
/// of being stopped mid-record.
pub const RECORD_WORST_CASE: Duration = budget::calls(2, 0);

/// Records in flight at once: a busy account's batch holds hundreds, each a query and an update (~10 ms), and
/// the function has 60 s. DynamoDB on-demand takes far more; 16 keeps a batch of 1,000 near a second.
pub const CONCURRENT_RECORDS: usize = 16;

/// What one log line came to.
#[derive(Debug)]
enum RecordOutcome {
    Applied { text: ReportedText, report: DeliveryReport },
    AlreadyCurrent,
    Unmatched { report: DeliveryReport },
    Unreadable { log_event_id: String, why: UnreadableRecord },
    Failed { report: DeliveryReport, error: DependencyError },
}

/// What a batch came to.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct BatchSummary {
    pub applied: usize,
    pub already_current: usize,
    pub unmatched: usize,
    pub unreadable: usize,
    pub failed: usize,
}

/// Some records could not be recorded: the invocation fails, so Lambda delivers the whole batch again (records
/// already set are then `AlreadyCurrent`, counted once).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} of the batch's delivery records could not be recorded (first: {first})", summary.failed)]
pub struct BatchFailed {
    pub first: DependencyError,
    pub summary: BatchSummary,
}

/// What Lambda records of a failed invocation (its error type and message: no record's values).
impl From<BatchFailed> for lambda_runtime::Diagnostic {
    fn from(failed: BatchFailed) -> Self {
        Self { error_type: "BatchFailed".into(), error_message: failed.to_string() }
    }
}

pub struct DeliveryStatusHandler<L> {
    ledger: L,
    namespace: String,
}

impl<L: DeliveryLedger> DeliveryStatusHandler<L> {
    pub fn new(ledger: L, namespace: impl Into<String>) -> Self {
        Self { ledger, namespace: namespace.into() }
    }

    /// Records every delivery record of the batch; fails when DynamoDB failed any of them, or `deadline` left no
    /// time to start one.
    pub async fn handle(
        &self,
        logs: &LogData,
        request_id: &str,
        deadline: Deadline,
    ) -> Result<BatchSummary, BatchFailed> {
        let started = Instant::now();
        // CloudWatch Logs checks a new subscription with a control message: no records in it.
        let entries: &[LogEntry] = if logs.message_type == "DATA_MESSAGE" { &logs.log_events } else { &[] };
        let outcomes: Vec<RecordOutcome> = futures_util::stream::iter(entries)
            .map(|entry| self.process(entry, deadline))
            .buffered(CONCURRENT_RECORDS)
            .collect()
            .await;

        let mut summary = BatchSummary::default();
        let mut first_failure = None;
        for outcome in outcomes {
            match &outcome {
                RecordOutcome::Applied { .. } => summary.applied += 1,
                RecordOutcome::AlreadyCurrent => summary.already_current += 1,
                RecordOutcome::Unmatched { .. } => summary.unmatched += 1,
                RecordOutcome::Unreadable { .. } => summary.unreadable += 1,
                RecordOutcome::Failed { report, error } => {
                    summary.failed += 1;
                    let phone_last4 = report.destination_last4.as_deref();
                    tracing::error!(function = FUNCTION, request_id, message_id = report.message_id, phone_last4,
                        %error, "delivery record not recorded; the batch will be delivered again");
                    first_failure.get_or_insert_with(|| error.clone());
                }
            }
            if let Some(document) = self.emf(&outcome, request_id, now_ms()) {
                write_emf(&document);
            }
        }
        let BatchSummary { applied, already_current, unmatched, unreadable, failed } = summary;
        let duration_ms = started.elapsed().as_secs_f64() * 1000.0;
        let log_group = logs.log_group.as_str();
        let records = entries.len();
        tracing::info!(
            function = FUNCTION,
            request_id,
            log_group,
            records,
            applied,
            already_current,
            unmatched,
            unreadable,
            failed,
            duration_ms,
            "delivery records processed"
        );
        match first_failure {
            None => Ok(summary),
            Some(first) => Err(BatchFailed { first, summary }),
        }
    }

    async fn process(&self, entry: &LogEntry, deadline: Deadline) -> RecordOutcome {
        let report = match DeliveryReport::parse(&entry.message) {
            Ok(report) => report,
            Err(why) => return RecordOutcome::Unreadable { log_event_id: entry.id.clone(), why },
        };
        if !deadline.leaves(RECORD_WORST_CASE) {
            let error = DependencyError::new("record delivery status", "not started: too little time left");
            return RecordOutcome::Failed { report, error };
        }
        match self.ledger.record(&report).await {
            Ok(Recorded::Applied(text)) => RecordOutcome::Applied { text, report },
            Ok(Recorded::AlreadyCurrent { .. }) => RecordOutcome::AlreadyCurrent,
            Ok(Recorded::UnknownMessage) => RecordOutcome::Unmatched { report },
            Err(error) => RecordOutcome::Failed { report, error },
        }
    }

    /// The record's EMF document: its log line, and what it counts. A report is counted once, when it is
    /// applied (a batch delivered again finds it already there). Stamped with the time it was processed, not the
    /// record's: a record can arrive days late, and a metric in a period already evaluated would never alarm.
    fn emf(&self, outcome: &RecordOutcome, request_id: &str, timestamp_ms: i64) -> Option<Value> {
        let (label, metric, report) = match outcome {
            RecordOutcome::Applied { report, .. } => match report.status {
                DeliveryStatus::Success => ("delivered", Metric::Delivered.name(), Some(report)),
                DeliveryStatus::Failure => ("delivery_failed", Metric::DeliveryFailed.name(), Some(report)),
            },
            RecordOutcome::AlreadyCurrent => return None,
            RecordOutcome::Unmatched { report } => ("unmatched", Metric::DeliveryUnmatched.name(), Some(report)),
            RecordOutcome::Unreadable { .. } => ("unreadable", Metric::DeliveryUnreadable.name(), None),
            RecordOutcome::Failed { report, .. } => {
                (Outcome::DependencyFailed.label(), Outcome::DependencyFailed.metric(), Some(report))
            }
        };
        let mut root = Map::new();
        root.insert("function".into(), FUNCTION.into());
        root.insert("request_id".into(), request_id.into());
        root.insert("outcome".into(), label.into());
        root.insert(metric.into(), 1.into());
        if let Some(report) = report {
            root.insert("message_id".into(), report.message_id.as_str().into());
            root.insert("delivery_status".into(), report.status.as_str().into());
            root.insert("reported_at".into(), report.reported_at.as_str().into());
            if let Some(last4) = &report.destination_last4 {
                root.insert("phone_last4".into(), last4.as_str().into());
            }
        }
        let namespace = self.namespace.as_str();
        let directives = match outcome {
            RecordOutcome::Applied { text, report } => {
                root.insert("id".into(), text.id.get().into());
                root.insert("sms_type".into(), report.sms_type.as_str().into());
                root.insert("text_type".into(), text_type_dimension(&text.text_type).into());
                if let Some(response) = &report.provider_response {
                    root.insert("provider_response".into(), loggable(response).into());
                }
                let mut metrics = vec![(metric, Unit::Count)];
                if let Some(price) = report.price_usd {
                    root.insert(Metric::DeliveryPriceUSD.name().into(), json!(price.get()));
                    metrics.push((Metric::DeliveryPriceUSD.name(), Unit::None));
                }
                if let Some(parts) = report.parts {
                    root.insert("delivery_parts".into(), parts.into());
                }
                if let Some(counted) = text.counted_parts {
                    root.insert("sms_parts".into(), counted.into());
                }
                // By SMS type too (transactional texts, pre-call, are the ones that must arrive); the price by text
                // type too (what each kind of text costs). Each dimension set is a metric CloudWatch bills.
                let mut directives = vec![directive(namespace, &[&["function"], &["function", "sms_type"]], &metrics)];
                if report.price_usd.is_some() {
                    let price = [(Metric::DeliveryPriceUSD.name(), Unit::None)];
                    directives.push(directive(namespace, &[&["function", "text_type"]], &price));
                }
                if parts_mismatch(report.parts, text.counted_parts) {
                    root.insert(Metric::SmsPartsMismatch.name().into(), 1.into());
                    directives.push(directive(
                        namespace,
                        &[&["function"]],
                        &[(Metric::SmsPartsMismatch.name(), Unit::Count)],
                    ));
                }
                directives
            }
            RecordOutcome::Unreadable { log_event_id, why } => {
                root.insert("log_event_id".into(), log_event_id.as_str().into());
                root.insert("reason".into(), why.to_string().into());
                vec![directive(namespace, &[&["function"]], &[(metric, Unit::Count)])]
            }
            _ => vec![directive(namespace, &[&["function"]], &[(metric, Unit::Count)])],
        };
        Some(emf_document(root, timestamp_ms, directives))
    }
}

/// Whether SNS billed other parts than we counted: only when both are known (a text sent before we counted
/// them, or a record without the field, says nothing).
fn parts_mismatch(billed: Option<u32>, counted: Option<u32>) -> bool {
    matches!((billed, counted), (Some(billed), Some(counted)) if billed != counted)
}

/// A provider response as it may be logged: clipped, and any run of five or more digits (a phone number a
/// carrier might quote) cut to its last four.
fn loggable(response: &str) -> String {
    let mut logged = String::new();
    let mut digits = String::new();
    let flush = |logged: &mut String, digits: &mut String| {
        if digits.len() >= 5 {
            logged.push('…');
            logged.push_str(webhook::phone::last4(digits));
        } else {
            logged.push_str(digits);
        }
        digits.clear();
    };
    for character in response.chars().take(256) {
        if character.is_ascii_digit() {
            digits.push(character);
        } else {
            flush(&mut logged, &mut digits);
            logged.push(character);
        }
    }
    flush(&mut logged, &mut digits);
    logged
}

#[cfg(test)]
mod tests {
    use super::{loggable, parts_mismatch};

    #[test]
    fn parts_mismatch_only_when_both_counts_are_known_and_differ() {
        assert!(parts_mismatch(Some(2), Some(1)));
        assert!(!parts_mismatch(Some(1), Some(1)));
        assert!(!parts_mismatch(None, Some(1)));
        assert!(!parts_mismatch(Some(1), None));
    }

    #[test]
    fn a_number_in_a_provider_response_is_never_logged_whole() {
        assert_eq!(loggable("Phone +12025550143 unreachable (code 4003)"), "Phone +…0143 unreachable (code 4003)");
        assert_eq!(
            loggable("Message has been accepted by phone carrier"),
            "Message has been accepted by phone carrier"
        );
        assert_eq!(loggable(&"x".repeat(300)).len(), 256);
    }
}
