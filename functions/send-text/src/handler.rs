//! The send-text step: parse, validate, claim the id, publish, record; generic over its ports.

use crate::config::SendTextConfig;
use crate::payload::SendText;
use crate::ports::{ClaimOutcome, SendFailure, SmsSender, TextLedger};
use crate::record::{SentText, TextClaimRecord};
use crate::sms::SmsText;
use lambda_http::http::StatusCode;
use time::OffsetDateTime;
use webhook::auth::Authenticator;
use webhook::error::{DependencyError, WebhookError};
use webhook::fallback::{FallbackQueue, QueuedBody, QueuedDelivery, QueuedFunction};
use webhook::http::parse_json;
use webhook::metrics::{Measurement, Metric, Outcome, Unit};
use webhook::opt_out::OptOutLookup;
use webhook::payload::WebhookId;
use webhook::phone::{self, PhoneNumber};
use webhook::pipeline::{Accepted, Intake, Invocation, Webhook};
use webhook::record::rfc3339;
use webhook::telemetry::RequestSummary;

/// Texts the lead at once, at most once per webhook id, unless the number is suppressed; a text that surely
/// was not sent (the claim write failed, or SNS refused it or could not be reached) goes to the fallback queue.
pub struct SendTextHandler<L, S, O, Q> {
    intake: Intake,
    ledger: L,
    sms: S,
    opt_outs: O,
    queue: Q,
}

impl<L: TextLedger, S: SmsSender, O: OptOutLookup, Q: FallbackQueue> SendTextHandler<L, S, O, Q> {
    pub fn new(config: SendTextConfig, authenticator: Authenticator, ledger: L, sms: S, opt_outs: O, queue: Q) -> Self {
        Self { intake: Intake::new(authenticator, config.common), ledger, sms, opt_outs, queue }
    }

    pub fn queue(&self) -> &Q {
        &self.queue
    }

    /// Puts the text on the fallback queue (its body as received): `Ok` once it is there.
    async fn enqueue(
        &self,
        id: WebhookId,
        body: &[u8],
        invocation: &Invocation,
        summary: &mut RequestSummary,
    ) -> Result<(), DependencyError> {
        let delivery = QueuedDelivery {
            function: QueuedFunction::SendText,
            id,
            request_id: invocation.request_id.clone(),
            received_at: rfc3339(invocation.received_at),
            body: QueuedBody::plain(body),
        };
        self.queue.enqueue(&delivery).await.inspect_err(|queue_error| summary.add_error(queue_error))
    }

    pub fn opt_outs(&self) -> &O {
        &self.opt_outs
    }

    pub fn ledger(&self) -> &L {
        &self.ledger
    }

    pub fn sms(&self) -> &S {
        &self.sms
    }
}

impl<L: TextLedger, S: SmsSender, O: OptOutLookup, Q: FallbackQueue> SendTextHandler<L, S, O, Q> {
    /// Gives back an id this delivery claimed but will not text.
    async fn release_if_claimed(
        &self,
        claimed: &Result<ClaimOutcome, DependencyError>,
        id: WebhookId,
        request_id: &str,
        summary: &mut RequestSummary,
    ) {
        if matches!(claimed, Ok(ClaimOutcome::Claimed)) {
            if let Err(release_error) = self.ledger.release(id, request_id).await {
                summary.add_error(&release_error);
            }
        }
    }
}

/// A text SNS may or may not have sent: settled (never sent again), but not confirmed.
fn unconfirmed(id: WebhookId) -> Accepted {
    Accepted { code: StatusCode::ACCEPTED, ..Accepted::new(Outcome::Unconfirmed, id) }
}

/// A text not sent now, waiting on the fallback queue for the redrive.
fn queued(id: WebhookId) -> Accepted {
    Accepted { code: StatusCode::ACCEPTED, ..Accepted::new(Outcome::Queued, id) }
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
        let text: SendText = parse_json(body)?;
        summary.id = Some(text.id);
        summary.set_kind(text.text_type.as_ref().map_or("unspecified", |kind| kind.as_str()));
        summary.phone_last4 = Some(phone::last4(&text.record_phone_number).to_owned());

        let to =
            PhoneNumber::parse(&text.record_phone_number, self.intake.common.default_country).map_err(|error| {
                WebhookError::Unprocessable { message: error.to_string(), field: Some("record_phone_number".into()) }
            })?;
        let record = TextClaimRecord::new(
            text,
            &to,
            &invocation.request_id,
            invocation.received_at,
            self.intake.common.retention,
        );
        let text = &record.text;
        let message = SmsText::parse(&text.message).map_err(|error| WebhookError::Unprocessable {
            message: error.to_string(),
            field: Some("message".into()),
        })?;
        // The claim stores the whole text: a value DynamoDB refuses would make every delivery fail the same way.
        let claim = record.claim()?;

        // SNS would accept a text to an opted-out number and drop it at delivery, and only knows the STOPs sent to
        // our own number; the suppression list knows what 2X told us. Ask both, and claim the id, at once: one
        // round trip on this time-critical path.
        let (sns_opted_out, listed, claimed) =
            tokio::join!(self.sms.is_opted_out(&to), self.opt_outs.is_listed(&to), self.ledger.claim(claim));
        // If SNS cannot be asked, send anyway: SNS still enforces its opt-outs at delivery.
        let sns_opted_out = sns_opted_out.unwrap_or_else(|check_error| {
            summary.add_error(&check_error);
            false
        });
        let suppressed = match listed {
            Ok(listed) => sns_opted_out || listed,
            // If the list cannot be read, do not text: it holds STOPs and do-not-call requests SNS never saw, and a
            // text to such a lead is the failure a compliance team cannot take back. 503: 2X delivers again.
            Err(lookup_error) if !sns_opted_out => {
                summary.counts.push(Metric::OptOutLookupFailed);
                self.release_if_claimed(&claimed, text.id, &invocation.request_id, summary).await;
                return Err(lookup_error.into());
            }
            Err(lookup_error) => {
                summary.add_error(&lookup_error);
                true
            }
        };
        if suppressed {
            // Not texted, and the id is left free: a delivery after the lead opts back in can still send.
            self.release_if_claimed(&claimed, text.id, &invocation.request_id, summary).await;
            return Ok(Accepted::new(Outcome::OptedOut, text.id));
        }
        let claimed = match claimed {
            Ok(claimed) => claimed,
            // Not claimed, so surely not sent: queued, the redrive claims and sends it (or finds that another
            // delivery did). Only if the queue refuses too, 503: 2X delivers again.
            Err(claim_error) => {
                summary.add_error(&claim_error);
                return match self.enqueue(text.id, body, invocation, summary).await {
                    Ok(()) => Ok(queued(text.id)),
                    Err(_) => Err(claim_error.into()),
                };
            }
        };
        match claimed {
            ClaimOutcome::Claimed => {}
            ClaimOutcome::AlreadySent => return Ok(Accepted::new(Outcome::Duplicate, text.id)),
            ClaimOutcome::Unconfirmed => return Ok(unconfirmed(text.id)),
            ClaimOutcome::InProgress => return Err(WebhookError::InProgress),
            ClaimOutcome::Queued => return Ok(queued(text.id)),
        }

        let message_id = match self.sms.send(&to, message).await {
            Ok(message_id) => message_id,
            Err(SendFailure::NotSent(publish_error)) => {
                summary.counts.push(Metric::SmsPublishFailed);
                // Not sent: queued under this claim, which only the redrive (claiming with this request id) may
                // take over. Queued first, then marked: a redrive that already sent it leaves the mark refused.
                if self.enqueue(text.id, body, invocation, summary).await.is_ok() {
                    summary.add_error(&publish_error);
                    let at = rfc3339(OffsetDateTime::now_utc());
                    if let Err(mark_error) = self.ledger.mark_queued(text.id, &invocation.request_id, &at).await {
                        summary.add_error(&mark_error);
                    }
                    return Ok(queued(text.id));
                }
                // No queue: give the id back so 2X's retry sends the text. If that fails too, the claim stays:
                // other deliveries get 409 until its lease ends, then `unconfirmed`; this text is missed.
                if let Err(release_error) = self.ledger.release(text.id, &invocation.request_id).await {
                    summary.add_error(&release_error);
                }
                return Err(publish_error.into());
            }
            Err(SendFailure::Unconfirmed(publish_error)) => {
                // SNS may have sent it. A lead texted twice is the worse failure, so this id is settled:
                // it is never published again, and the sender is told so with a 202 (not a 5xx to retry).
                summary.counts.push(Metric::SmsPublishFailed);
                summary.add_error(&publish_error);
                let at = rfc3339(OffsetDateTime::now_utc());
                if let Err(record_error) = self.ledger.mark_unconfirmed(text.id, &invocation.request_id, &at).await {
                    summary.add_error(&record_error);
                }
                return Ok(unconfirmed(text.id));
            }
        };

        let segments = message.segments();
        summary.measurements.push(Measurement {
            metric: Metric::SmsSegments,
            unit: Unit::Count,
            value: u64::try_from(segments.count).unwrap_or(u64::MAX),
            dimension: Some(("encoding", segments.encoding.name())),
        });
        // The text is out: answer 200 even if recording that fails, or a retry would text the lead again.
        let sent = SentText::new(&message_id, OffsetDateTime::now_utc());
        if let Err(record_error) = self.ledger.mark_sent(text.id, &invocation.request_id, &sent).await {
            summary.add_error(&record_error);
        }
        Ok(Accepted { message_id: Some(message_id), ..Accepted::new(Outcome::Sent, text.id) })
    }
}
