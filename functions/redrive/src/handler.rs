//! One SQS batch of queued deliveries: each completed, or reported failed so SQS delivers it again (and, after
//! the queue's receive limit, moves it to the dead-letter queue). Never dropped.

use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use post_call::handler::{CallRecorder, NotRecorded};
use post_call::ports::CallStore;
use std::io::Read;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use webhook::fallback::{QueuedBody, QueuedDelivery, QueuedFunction};
use webhook::opt_out::OptOutWriter;
use webhook::pipeline::Invocation;
use webhook::telemetry::RequestSummary;

pub const FUNCTION: &str = "redrive";

/// What one queued delivery came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Redriven {
    /// Done now (`stored`, or `duplicate`: an earlier delivery or redrive did it).
    Completed(&'static str),
    /// Not done; SQS delivers it again. Why (no value from the body).
    Retry(String),
}

pub struct RedriveHandler<C, W> {
    calls: CallRecorder<C, W>,
}

impl<C: CallStore, W: OptOutWriter> RedriveHandler<C, W> {
    pub fn new(calls: CallRecorder<C, W>) -> Self {
        Self { calls }
    }

    pub fn calls(&self) -> &CallRecorder<C, W> {
        &self.calls
    }

    /// Completes each message of the batch; the response names those SQS must deliver again.
    pub async fn handle(&self, event: &SqsEvent) -> SqsBatchResponse {
        let mut response = SqsBatchResponse::default();
        for message in &event.records {
            let message_id = message.message_id.as_deref().unwrap_or_default();
            let outcome = self.redrive(message).await;
            let outcome_label = match &outcome {
                Redriven::Completed(label) => label,
                Redriven::Retry(_) => "retry",
            };
            match &outcome {
                Redriven::Completed(_) => {
                    tracing::info!(function = FUNCTION, message_id, outcome = outcome_label, "queued delivery redriven")
                }
                Redriven::Retry(why) => {
                    tracing::warn!(
                        function = FUNCTION,
                        message_id,
                        why,
                        "queued delivery not completed; SQS delivers it again"
                    );
                    response.add_failure(message_id);
                }
            }
        }
        response
    }

    async fn redrive(&self, message: &SqsMessage) -> Redriven {
        let Some(delivery) = message.body.as_deref().and_then(|body| serde_json::from_str::<QueuedDelivery>(body).ok())
        else {
            return Redriven::Retry("not a queued delivery".into());
        };
        let Some(body) = decode(&delivery.body) else {
            return Redriven::Retry("its body does not decode".into());
        };
        let Ok(received_at) = OffsetDateTime::parse(&delivery.received_at, &Rfc3339) else {
            return Redriven::Retry("its received_at is not RFC 3339".into());
        };
        let invocation = Invocation { request_id: delivery.request_id.clone(), received_at };
        match delivery.function {
            QueuedFunction::PostCall => {
                let mut summary = RequestSummary::default();
                match self.calls.record(&body, &invocation, &mut summary).await {
                    Ok(accepted) => Redriven::Completed(accepted.outcome.label()),
                    // post-call parsed it before queueing it: only a changed rule can refuse it now. Kept for
                    // a person to look at (it reaches the dead-letter queue).
                    Err(NotRecorded::Refused(error)) => Redriven::Retry(format!("refused: {error}")),
                    Err(NotRecorded::Failed(_, error)) => Redriven::Retry(error.to_string()),
                }
            }
            QueuedFunction::SendText => Redriven::Retry("texts are not redriven yet (issue 14, WIP)".into()),
        }
    }
}

/// The body as received.
fn decode(body: &QueuedBody) -> Option<Vec<u8>> {
    match body {
        QueuedBody::Base64(data) => STANDARD.decode(data).ok(),
        QueuedBody::GzipBase64(data) => {
            let gzip = STANDARD.decode(data).ok()?;
            let mut body = Vec::new();
            flate2::read::GzDecoder::new(gzip.as_slice()).read_to_end(&mut body).ok()?;
            Some(body)
        }
    }
}
