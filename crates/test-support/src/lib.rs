//! Test-only code that crosses crates: the sample events as requests and configurations, log capture for the
//! suite-wide log scan, a fault injector under the real SDK clients, SNS's delivery logs and the redrive's SQS
//! events, a stored item read back. It depends on no function crate; each port's fake is beside its port, behind
//! the defining crate's `fakes` feature.

// Test fixtures: one that cannot be built should stop the test at once, loudly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod delivery_logs;
pub mod events;
pub mod faults;
pub mod sqs;
pub mod stored;

use serde_json::Value;
use std::sync::Mutex;
use std::time::Duration;
use webhook::budget::Deadline;
use webhook::fakes::lock;

/// The time a batch function's invocation has (the template's 60 s): a batch handled in a test is not cut short.
pub fn whole_invocation() -> Deadline {
    Deadline::after(Duration::from_secs(60))
}

/// Checks the document against the specification's rules: every metric a directive names is a number at
/// the root, every dimension a string at the root.
pub fn assert_valid_emf(document: &Value) {
    let directives = document["_aws"]["CloudWatchMetrics"].as_array().expect("CloudWatchMetrics");
    assert!(document["_aws"]["Timestamp"].is_i64());
    for directive in directives {
        assert!(directive["Namespace"].is_string());
        for dimension_set in directive["Dimensions"].as_array().unwrap() {
            for dimension in dimension_set.as_array().unwrap() {
                assert!(document[dimension.as_str().unwrap()].is_string(), "{dimension} in {document}");
            }
        }
        for metric in directive["Metrics"].as_array().unwrap() {
            assert!(document[metric["Name"].as_str().unwrap()].is_number(), "{metric} in {document}");
        }
    }
}

/// Collects the JSON log lines written through [`webhook::telemetry::subscriber`] on one thread.
///
/// One subscriber is installed for the whole test process ([`tracing::subscriber::set_global_default`]),
/// writing each line to the capture of the thread that logged it, if any. A per-thread subscriber
/// (`set_default`) is not enough when tests run in parallel: a callsite first hit on a thread without one caches
/// that nobody is interested, and the capturing thread's events are then skipped.
#[derive(Debug, Clone, Default)]
pub struct LogCapture(std::sync::Arc<Mutex<Vec<u8>>>);

thread_local! {
    static CAPTURING: std::cell::RefCell<Option<LogCapture>> = const { std::cell::RefCell::new(None) };
}

/// Keeps a [`LogCapture`] installed; when dropped, archives what it captured for the suite-wide log scan.
pub struct CaptureGuard {
    capture: LogCapture,
}

impl Drop for CaptureGuard {
    fn drop(&mut self) {
        CAPTURING.with(|capturing| capturing.borrow_mut().take());
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
        static SUBSCRIBER: std::sync::Once = std::sync::Once::new();
        SUBSCRIBER.call_once(|| {
            let _ = tracing::subscriber::set_global_default(webhook::telemetry::subscriber(ThreadCapture));
        });
        CAPTURING.with(|capturing| *capturing.borrow_mut() = Some(self.clone()));
        CaptureGuard { capture: self.clone() }
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

/// The process-wide subscriber's writer: the logging thread's capture, or nowhere.
#[derive(Debug, Clone, Copy)]
struct ThreadCapture;

impl std::io::Write for ThreadCapture {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        CAPTURING.with(|capturing| {
            if let Some(capture) = capturing.borrow().as_ref() {
                lock(&capture.0).extend_from_slice(bytes);
            }
        });
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for ThreadCapture {
    type Writer = Self;

    fn make_writer(&'a self) -> Self::Writer {
        *self
    }
}
