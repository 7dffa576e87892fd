//! The Text Opt-out webhook: the shared list's work (`webhook::opt_out_lister`) behind the shared intake, and
//! the fallback queue for what DynamoDB fails to take now.

use crate::config::TextOptOutConfig;
use std::time::Duration;
use webhook::auth::Authenticator;
use webhook::budget;
use webhook::error::WebhookError;
use webhook::fallback::{FallbackQueue, NotDone, QueuedBody, QueuedDelivery, QueuedFunction, queue_or_fail};
use webhook::opt_out::OptOutWriter;
use webhook::opt_out_lister::OptOutLister;
use webhook::pipeline::{Accepted, Intake, Invocation, Webhook};
use webhook::telemetry::RequestSummary;

/// The slowest delivery the webhook answers: the token re-read, the listing failing at its timeout, then the
/// fallback queue.
pub const WORST_CASE: Duration = budget::calls(2, 1);

/// What text-optout talks to: the suppression list and the fallback queue.
#[derive(Debug, Clone, Default)]
pub struct TextOptOutDeps<W, Q> {
    pub opt_outs: W,
    pub queue: Q,
}

/// The Text Opt-out webhook: the lister behind the shared intake, and the fallback queue for what DynamoDB fails
/// to take now.
pub struct TextOptOutHandler<W, Q> {
    intake: Intake,
    lister: OptOutLister<W>,
    queue: Q,
}

impl<W: OptOutWriter, Q: FallbackQueue> TextOptOutHandler<W, Q> {
    pub fn new(config: TextOptOutConfig, authenticator: Authenticator, deps: TextOptOutDeps<W, Q>) -> Self {
        let lister = OptOutLister::new(deps.opt_outs, config.common.data.default_country);
        Self { intake: Intake::new(authenticator, config.common), lister, queue: deps.queue }
    }
}

impl<W: OptOutWriter, Q: FallbackQueue> Webhook for TextOptOutHandler<W, Q> {
    const FUNCTION: &'static str = "text-optout";

    fn intake(&self) -> &Intake {
        &self.intake
    }

    async fn process(
        &self,
        body: &[u8],
        invocation: &Invocation,
        summary: &mut RequestSummary,
    ) -> Result<Accepted, WebhookError> {
        match self.lister.list(body, invocation, summary).await {
            Ok(accepted) => Ok(accepted),
            Err(NotDone::Refused(error)) => Err(error),
            Err(NotDone::Failed { error, .. }) => {
                let delivery =
                    QueuedDelivery::new(QueuedFunction::TextOptOut, None, invocation, QueuedBody::plain(body));
                queue_or_fail(&self.queue, &delivery, error, summary).await
            }
        }
    }
}
