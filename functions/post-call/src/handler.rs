//! The Post-Call webhook: the call work (`calls::recorder`) behind the shared intake, and the fallback queue for
//! what DynamoDB fails to take now.

use crate::config::PostCallConfig;
use calls::ports::CallStore;
use calls::recorder::CallRecorder;
use std::time::Duration;
use webhook::auth::Authenticator;
use webhook::budget;
use webhook::error::WebhookError;
use webhook::fallback::{FallbackQueue, NotDone, QueuedBody, QueuedDelivery, QueuedFunction, queue_or_fail};
use webhook::opt_out::OptOutWriter;
use webhook::pipeline::{Accepted, Intake, Invocation, Webhook};
use webhook::telemetry::RequestSummary;

/// The slowest delivery the webhook answers: the token re-read, the listing and the store failing at their
/// timeouts, then the fallback queue.
pub const WORST_CASE: Duration = budget::calls(3, 1);

/// What post-call talks to: the calls table, the suppression list (unless disabled), the fallback queue.
#[derive(Debug, Clone, Default)]
pub struct PostCallDeps<C, W, Q> {
    pub calls: C,
    pub opt_outs: Option<W>,
    pub queue: Q,
}

/// The Post-Call webhook: the recorder behind the shared intake, and the fallback queue for what DynamoDB
/// fails to take now.
pub struct PostCallHandler<C, W, Q> {
    intake: Intake,
    recorder: CallRecorder<C, W>,
    queue: Q,
}

impl<C: CallStore, W: OptOutWriter, Q: FallbackQueue> PostCallHandler<C, W, Q> {
    pub fn new(config: PostCallConfig, authenticator: Authenticator, deps: PostCallDeps<C, W, Q>) -> Self {
        let PostCallDeps { calls, opt_outs, queue } = deps;
        let recorder = CallRecorder::new(&config.common.data, &config.calls, calls, opt_outs);
        Self { intake: Intake::new(authenticator, config.common), recorder, queue }
    }
}

impl<C: CallStore, W: OptOutWriter, Q: FallbackQueue> Webhook for PostCallHandler<C, W, Q> {
    const FUNCTION: &'static str = "post-call";

    fn intake(&self) -> &Intake {
        &self.intake
    }

    async fn process(
        &self,
        body: &[u8],
        invocation: &Invocation,
        summary: &mut RequestSummary,
    ) -> Result<Accepted, WebhookError> {
        match self.recorder.record(body, invocation, summary).await {
            Ok(accepted) => Ok(accepted),
            Err(NotDone::Refused(error)) => Err(error),
            Err(NotDone::Failed { id, error }) => {
                // Whole transcripts: gzip keeps a large body within the queue's message limit.
                let queued = QueuedBody::gzipped(body);
                let delivery = QueuedDelivery::new(QueuedFunction::PostCall, id, invocation, queued);
                queue_or_fail(&self.queue, &delivery, error, summary).await
            }
        }
    }
}
