//! The Post-Call webhook: the call work (`calls::recorder`) behind the shared intake, and on the fallback queue
//! when DynamoDB fails (`webhook::fallback::QueueingWebhook`).

use crate::config::PostCallConfig;
use calls::record::CallStore;
use calls::recorder::CallRecorder;
use std::time::Duration;
use webhook::auth::Authenticator;
use webhook::budget;
use webhook::fallback::{FallbackQueue, QueueingWebhook};
use webhook::opt_out::OptOutWriter;
use webhook::pipeline::Intake;

/// The slowest delivery the webhook answers: the token re-read, the listing and the store failing at their
/// timeouts, then the fallback queue.
pub const WORST_CASE: Duration = budget::calls(4, 1);

/// What post-call talks to: the calls table, the suppression list (unless disabled), the fallback queue.
#[derive(Debug, Clone, Default)]
pub struct PostCallDeps<C, W, Q> {
    pub calls: C,
    pub opt_outs: Option<W>,
    pub queue: Q,
}

/// The Post-Call webhook.
pub type PostCallHandler<C, W, Q> = QueueingWebhook<CallRecorder<C, W>, Q>;

/// post-call's webhook on `deps`.
pub fn build<C: CallStore, W: OptOutWriter, Q: FallbackQueue>(
    config: PostCallConfig,
    authenticator: Authenticator,
    deps: PostCallDeps<C, W, Q>,
) -> PostCallHandler<C, W, Q> {
    let PostCallDeps { calls, opt_outs, queue } = deps;
    let recorder = CallRecorder::new(&config.common.data, &config.own.calls, calls, opt_outs);
    QueueingWebhook::new(Intake::new(authenticator, config.common), recorder, queue)
}
