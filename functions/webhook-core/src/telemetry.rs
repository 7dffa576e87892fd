//! JSON log lines through `tracing`: one summary line per request, plus warnings for failed AWS calls.
//!
//! Nothing here ever receives the token, a message text, a transcript or a full phone number.

use crate::payload::WebhookId;
use std::time::Duration;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

/// Installs the JSON subscriber for the process. `RUST_LOG` overrides the default `info` level.
pub fn init() {
    let _ = subscriber(std::io::stdout).try_init();
}

/// The subscriber every binary and test uses, writing to `writer`.
pub fn subscriber<W>(
    writer: W,
) -> tracing_subscriber::fmt::SubscriberBuilder<
    tracing_subscriber::fmt::format::JsonFields,
    tracing_subscriber::fmt::format::Format<tracing_subscriber::fmt::format::Json>,
    EnvFilter,
    W,
>
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_current_span(false)
        .with_span_list(false)
        .with_target(false)
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")))
        .with_writer(writer)
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
}

impl RequestSummary {
    /// Records a sender-controlled label, clipped so a hostile value cannot flood the log.
    pub fn set_kind(&mut self, kind: &str) {
        self.kind = Some(kind.chars().take(64).collect());
    }

    pub fn add_error(&mut self, error: &crate::error::DependencyError) {
        self.errors.push(error.to_string());
    }

    pub fn log(&self, function: &'static str, outcome: &'static str, status: u16, elapsed: Duration) {
        let duration_ms = elapsed.as_secs_f64() * 1000.0;
        let (request_id, kind, phone_last4) =
            (self.request_id.as_deref(), self.kind.as_deref(), self.phone_last4.as_deref());
        let id = self.id.map(WebhookId::get);
        let errors = (!self.errors.is_empty()).then(|| self.errors.join("; "));
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
                    "request answered"
                )
            };
        }
        if status >= 500 {
            summary!(tracing::Level::ERROR);
        } else {
            summary!(tracing::Level::INFO);
        }
    }
}
