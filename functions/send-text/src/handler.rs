//! The Send Text webhook: the text work (`texts::sender`) behind the shared intake, and on the fallback queue
//! when a dependency fails (`webhook::fallback::QueueingWebhook`).

use crate::config::SendTextConfig;
use std::time::Duration;
use texts::ledger::{SmsSender, TextLedger};
use texts::sender::{TextPorts, TextSender};
use webhook::auth::Authenticator;
use webhook::budget;
use webhook::fallback::{FallbackQueue, QueueingWebhook};
use webhook::opt_out::OptOutLookup;
use webhook::pipeline::Intake;

/// The slowest delivery the webhook answers: the token re-read, the claim with the opt-out checks, the publish
/// failing at its timeout, the fallback queue, then the claim marked queued (or given back if the queue failed).
pub const WORST_CASE: Duration = budget::calls(4, 1);

/// What send-text talks to: the sender's ports and the fallback queue.
#[derive(Debug, Clone, Default)]
pub struct SendTextDeps<L, S, O, Q> {
    pub ledger: L,
    pub sms: S,
    pub opt_outs: O,
    pub queue: Q,
}

/// The Send Text webhook.
pub type SendTextHandler<L, S, O, Q> = QueueingWebhook<TextSender<L, S, O>, Q>;

/// send-text's webhook on `deps`.
pub fn build<L, S, O, Q>(
    config: SendTextConfig,
    authenticator: Authenticator,
    deps: SendTextDeps<L, S, O, Q>,
) -> SendTextHandler<L, S, O, Q>
where
    L: TextLedger,
    S: SmsSender,
    O: OptOutLookup,
    Q: FallbackQueue,
{
    let SendTextDeps { ledger, sms, opt_outs, queue } = deps;
    let sender = TextSender::new(&config.common.data, &config.own.texts, TextPorts { ledger, sms, opt_outs });
    QueueingWebhook::new(Intake::new(authenticator, config.common), sender, queue)
}
