//! The Send Text webhook: the text work (`texts::sender`) behind the shared intake, and the fallback queue for a
//! text that surely was not sent.

use crate::config::SendTextConfig;
use std::time::Duration;
use texts::ports::{SmsSender, TextKey, TextLedger};
use texts::sender::{NotTexted, TextPorts, TextSender};
use webhook::auth::Authenticator;
use webhook::budget;
use webhook::error::{DependencyError, WebhookError};
use webhook::fallback::{FallbackQueue, QueuedBody, QueuedDelivery, QueuedFunction, queue_or_fail};
use webhook::opt_out::OptOutLookup;
use webhook::pipeline::{Accepted, Intake, Invocation, Webhook};
use webhook::telemetry::RequestSummary;

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

/// The Send Text webhook: the sender behind the shared intake, and the fallback queue for a text that surely
/// was not sent (the claim write, the suppression list or SNS failed).
pub struct SendTextHandler<L, S, O, Q> {
    intake: Intake,
    sender: TextSender<L, S, O>,
    queue: Q,
}

impl<L: TextLedger, S: SmsSender, O: OptOutLookup, Q: FallbackQueue> SendTextHandler<L, S, O, Q> {
    pub fn new(config: SendTextConfig, authenticator: Authenticator, deps: SendTextDeps<L, S, O, Q>) -> Self {
        let SendTextDeps { ledger, sms, opt_outs, queue } = deps;
        let sender = TextSender::new(&config.common.data, &config.texts, TextPorts { ledger, sms, opt_outs });
        Self { intake: Intake::new(authenticator, config.common), sender, queue }
    }

    /// Puts the text on the fallback queue (its body as received): 202 `queued` once it is there, its claim (if
    /// held) marked queued so other deliveries of the id send nothing meanwhile; the failure (503) if the queue
    /// refuses it too, the claim given back so 2X's retry can send it.
    async fn queue_or_fail(
        &self,
        (key, failure, claimed): (TextKey, DependencyError, bool),
        body: &[u8],
        invocation: &Invocation,
        summary: &mut RequestSummary,
    ) -> Result<Accepted, WebhookError> {
        let delivery = QueuedDelivery::new(QueuedFunction::SendText, Some(key.id), invocation, QueuedBody::plain(body));
        let answer = queue_or_fail(&self.queue, &delivery, failure, summary).await;
        if claimed {
            match answer {
                // Queued first, then marked: a redrive that already took the claim over leaves the mark refused.
                Ok(_) => self.sender.mark_queued(&key, &invocation.request_id, summary).await,
                // If giving the claim back fails too, it stays: other deliveries get 409 until its lease ends,
                // then `unconfirmed`; this text is missed.
                Err(_) => self.sender.release(&key, &invocation.request_id, summary).await,
            }
        }
        answer
    }
}

impl<L: TextLedger, S: SmsSender, O: OptOutLookup, Q: FallbackQueue> Webhook for SendTextHandler<L, S, O, Q> {
    const FUNCTION: &'static str = "send-text";

    fn intake(&self) -> &Intake {
        &self.intake
    }

    async fn process(
        &self,
        body: &[u8],
        invocation: &Invocation,
        summary: &mut RequestSummary,
    ) -> Result<Accepted, WebhookError> {
        match self.sender.send(body, invocation, None, summary).await {
            Ok(accepted) => Ok(accepted),
            Err(NotTexted::Refused(error)) => Err(error),
            Err(NotTexted::Failed { key, error, claimed }) => {
                self.queue_or_fail((key, error, claimed), body, invocation, summary).await
            }
        }
    }
}
