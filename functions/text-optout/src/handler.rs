//! The Text Opt-out webhook: the shared list's work (`webhook::opt_out_lister`) behind the shared intake, and on
//! the fallback queue when DynamoDB fails (`webhook::fallback::QueueingWebhook`).

use crate::config::TextOptOutConfig;
use std::time::Duration;
use webhook::auth::Authenticator;
use webhook::budget;
use webhook::fallback::{FallbackQueue, QueueingWebhook};
use webhook::opt_out::OptOutWriter;
use webhook::opt_out_lister::OptOutLister;
use webhook::pipeline::Intake;

/// The slowest delivery the webhook answers: the token re-read, the listing failing at its timeout, then the
/// fallback queue.
pub const WORST_CASE: Duration = budget::calls(2, 1);

/// What text-optout talks to: the suppression list and the fallback queue.
#[derive(Debug, Clone, Default)]
pub struct TextOptOutDeps<W, Q> {
    pub opt_outs: W,
    pub queue: Q,
}

/// The Text Opt-out webhook.
pub type TextOptOutHandler<W, Q> = QueueingWebhook<OptOutLister<W>, Q>;

/// text-optout's webhook on `deps`.
pub fn build<W: OptOutWriter, Q: FallbackQueue>(
    config: TextOptOutConfig,
    authenticator: Authenticator,
    deps: TextOptOutDeps<W, Q>,
) -> TextOptOutHandler<W, Q> {
    let lister = OptOutLister::new(deps.opt_outs, config.common.data.default_country);
    QueueingWebhook::new(Intake::new(authenticator, config.common), lister, deps.queue)
}
