//! JSON log lines through `tracing`: one summary line per request, plus warnings for failed AWS calls.
//!
//! Nothing here ever receives the token, a message text, a transcript or a full phone number.

use crate::error::DependencyError;
use crate::metrics::{Measurement, Metric, Outcome, RequestMetrics};
use crate::payload::WebhookId;
use std::fmt;
use std::time::Duration;
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::filter::filter_fn;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, MakeWriter};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::{Layer, Registry};

/// Events with this target carry an EMF document in their `emf` field, written out as it is.
const EMF_TARGET: &str = "emf";

/// Installs the subscriber for the process. `RUST_LOG` filters the log lines (default `info`), never metrics.
pub fn init() {
    let _ = tracing::subscriber::set_global_default(subscriber(std::io::stdout));
}

/// The subscriber every binary and test uses, writing JSON log lines and EMF lines to `writer`.
pub fn subscriber<W>(writer: W) -> impl Subscriber + Send + Sync
where
    W: for<'a> MakeWriter<'a> + Clone + Send + Sync + 'static,
{
    let logs = tracing_subscriber::fmt::layer()
        .json()
        .flatten_event(true)
        // lambda_runtime's per-invocation span: every line logged during an invocation carries `requestId`.
        .with_current_span(true)
        .with_span_list(false)
        .with_target(false)
        .with_writer(writer.clone())
        .with_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")))
        .with_filter(filter_fn(|metadata| metadata.target() != EMF_TARGET));
    let metrics = tracing_subscriber::fmt::layer()
        .event_format(RawEmf)
        .with_writer(writer)
        .with_filter(filter_fn(|metadata| metadata.target() == EMF_TARGET));
    Registry::default().with(logs).with(metrics)
}

/// Writes an EMF event's document alone on its line: CloudWatch only reads a line that is the document.
struct RawEmf;

impl<S, N> FormatEvent<S, N> for RawEmf
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(&self, _: &FmtContext<'_, S, N>, mut writer: Writer<'_>, event: &Event<'_>) -> fmt::Result {
        struct Document(Option<String>);
        impl Visit for Document {
            fn record_str(&mut self, field: &Field, value: &str) {
                if field.name() == "emf" {
                    self.0 = Some(value.to_owned());
                }
            }
            fn record_debug(&mut self, _: &Field, _: &dyn fmt::Debug) {}
        }
        let mut document = Document(None);
        event.record(&mut document);
        match document.0 {
            Some(document) => writeln!(writer, "{document}"),
            None => Ok(()),
        }
    }
}

/// What one request came to; logged once when it is answered.
#[derive(Debug, Default)]
pub struct RequestSummary {
    pub request_id: Option<String>,
    pub id: Option<WebhookId>,
    /// send-text `type` or post-call `end_reason`, as 2X sent it (clipped).
    pub kind: Option<String>,
    pub phone_last4: Option<String>,
    /// Failed AWS calls, classified (no service message text).
    pub errors: Vec<String>,
    /// Why the body was refused, when it was (`Refusal::label`), and the field the answer named.
    pub refused: Option<&'static str>,
    pub field: Option<String>,
    /// Metrics counted once for this request, besides `Received` and its outcome.
    pub counts: Vec<Metric>,
    /// Values the request measured.
    pub measurements: Vec<Measurement>,
}

impl RequestSummary {
    /// Records a sender-controlled label, clipped so a hostile value cannot flood the log.
    pub fn set_kind(&mut self, kind: &str) {
        self.kind = Some(kind.chars().take(64).collect());
    }

    pub fn add_error(&mut self, error: &DependencyError) {
        self.errors.push(error.to_string());
    }

    /// Notes the failure of a call that did not decide the answer, if it failed.
    pub fn note(&mut self, call: Result<(), DependencyError>) {
        if let Err(error) = call {
            self.add_error(&error);
        }
    }

    /// Writes the summary log line and the request's metrics.
    pub fn log(&self, function: &'static str, outcome: Outcome, status: u16, elapsed: Duration, namespace: &str) {
        let duration_ms = elapsed.as_secs_f64() * 1000.0;
        let (request_id, kind, phone_last4) =
            (self.request_id.as_deref(), self.kind.as_deref(), self.phone_last4.as_deref());
        let id = self.id.map(WebhookId::get);
        let (counts, measurements) = (&self.counts, &self.measurements);
        let metrics = RequestMetrics { function, request_id, id, outcome, counts, measurements };
        let outcome = outcome.label();
        let errors = (!self.errors.is_empty()).then(|| self.errors.join("; "));
        let (refused, field) = (self.refused, self.field.as_deref());
        // A callsite's level must be a constant, hence one event per level.
        macro_rules! summary {
            ($level:expr) => {
                tracing::event!(
                    $level,
                    function,
                    request_id,
                    id,
                    kind,
                    phone_last4,
                    outcome,
                    status,
                    duration_ms,
                    errors,
                    refused,
                    field,
                    "request answered"
                )
            };
        }
        if status >= 500 {
            summary!(tracing::Level::ERROR);
        } else {
            summary!(tracing::Level::INFO);
        }
        write_emf(&metrics.to_emf(namespace, now_ms()));
    }
}

/// Now, in epoch milliseconds: an EMF document's timestamp.
pub fn now_ms() -> i64 {
    let now_ms = time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000;
    i64::try_from(now_ms).unwrap_or(i64::MAX)
}

/// Writes an EMF document on its own line (for CloudWatch to extract its metrics).
pub fn write_emf(document: &serde_json::Value) {
    tracing::info!(target: EMF_TARGET, emf = document.to_string().as_str());
}
