//! The text work: parse, validate, claim the text, check the opt-outs, publish, record. [`TextSender`] is what
//! send-text's webhook does for each delivery and the redrive for each queued one. Generic over its ports.

use crate::ledger::{
    ClaimOutcome, HeldClaim, SendFailure, Settlement, SmsSender, TextClaimRecord, TextKey, TextLedger,
};
use crate::settings::{QueuedTextMaxAge, TextSettings};
use crate::text::{AllowedRecipients, SendText, recipient_and_sms};
use lambda_http::http::StatusCode;
use std::time::Duration;
use time::OffsetDateTime;
use webhook::budget;
use webhook::config::{DataSettings, Retention};
use webhook::error::WebhookError;
use webhook::fallback::{NotDone, QueuedFunction, Work, queued};
use webhook::metrics::{Measurement, Metric, Outcome, Unit};
use webhook::opt_out::OptOutLookup;
use webhook::payload::{WebhookId, parse_object};
use webhook::phone::{self, CountryCode};
use webhook::pipeline::{Accepted, Invocation};
use webhook::telemetry::RequestSummary;

/// The slowest text the sender completes: the claim with both opt-out checks at once, the publish, then the text
/// marked (sent, unconfirmed, failed, expired) or its claim given back.
pub const SENDER_WORST_CASE: Duration = budget::calls(3, 0);

/// Texts the lead at once, at most once per webhook id and type, unless the number is suppressed or may not be
/// texted, or the text waited on the queue too long.
pub struct TextSender<L, S, O> {
    ledger: L,
    sms: S,
    opt_outs: O,
    recipients: AllowedRecipients,
    default_country: CountryCode,
    retention: Option<Retention>,
    max_age: QueuedTextMaxAge,
}

/// The sender's [`NotDone`]: the claim, when this delivery holds it, to mark queued or give back once the
/// fallback queue has answered.
pub type NotTexted = NotDone<Option<TextKey>>;

/// A text SNS may or may not have sent: settled (never sent again), but not confirmed.
fn unconfirmed(id: WebhookId) -> Accepted {
    Accepted { code: StatusCode::ACCEPTED, ..Accepted::new(Outcome::Unconfirmed, id) }
}

/// The sender's ports: the claim ledger, the SMS provider, the suppression list.
pub struct TextPorts<L, S, O> {
    pub ledger: L,
    pub sms: S,
    pub opt_outs: O,
}

impl<L: TextLedger, S: SmsSender, O: OptOutLookup> TextSender<L, S, O> {
    pub fn new(data: &DataSettings, settings: &TextSettings, ports: TextPorts<L, S, O>) -> Self {
        let TextPorts { ledger, sms, opt_outs } = ports;
        Self {
            ledger,
            sms,
            opt_outs,
            recipients: settings.allowed_recipients.clone(),
            default_country: data.default_country,
            retention: data.retention,
            max_age: settings.queued_max_age,
        }
    }

    /// Settles `claim` as `settlement` now; a failure to record it is noted, not answered (the text's fate is
    /// decided either way).
    async fn settle_now(&self, claim: HeldClaim<'_>, settlement: Settlement<'_>, summary: &mut RequestSummary) {
        if let Err(record_error) = self.ledger.settle(claim, settlement, OffsetDateTime::now_utc()).await {
            summary.add_error(&record_error);
        }
    }

    /// Gives back `claim` (it will not text it now).
    async fn release(&self, claim: HeldClaim<'_>, summary: &mut RequestSummary) {
        if let Err(release_error) = self.ledger.release(claim).await {
            summary.add_error(&release_error);
        }
    }
}

impl<L: TextLedger, S: SmsSender, O: OptOutLookup> Work for TextSender<L, S, O> {
    const FUNCTION: QueuedFunction = QueuedFunction::SendText;
    type Held = Option<TextKey>;

    /// Sends the text in `body`, received as `invocation` (whose request id claims it). `queued_by`: the request
    /// id of the delivery that queued it (the redrive's run), whose unfinished claim this one takes over.
    async fn run(
        &self,
        body: &[u8],
        invocation: &Invocation,
        queued_by: Option<&str>,
        summary: &mut RequestSummary,
    ) -> Result<Accepted, NotTexted> {
        let SendText { id, record_phone_number, message, text_type, fields } = SendText::read(parse_object(body)?)?;
        summary.id = Some(id);
        summary.set_kind(text_type.as_str());
        summary.phone_last4 = Some(phone::last4(&record_phone_number).to_owned());

        let (to, message) = recipient_and_sms(&record_phone_number, &message, self.default_country, &self.recipients)?;
        let now = OffsetDateTime::now_utc();
        let expired = now - invocation.received_at > self.max_age.of(&text_type);
        let key = TextKey { id, text_type };
        let record = TextClaimRecord::new(&key, fields, &to, &invocation.request_id, now, self.retention);
        // The claim stores the whole text: built once, as DynamoDB takes it.
        let claim = record.claim(queued_by).map_err(WebhookError::from)?;
        let failed = |error, claimed: bool| NotDone::Failed { id: Some(id), error, held: claimed.then(|| key.clone()) };
        // The claim this delivery holds once `claim` answers `Claimed`.
        let held = HeldClaim { key: &key, claimed_by: &invocation.request_id };

        if expired {
            // Claimed first, so that no delivery of the text sends it afterwards either.
            return match self.ledger.claim(claim).await.map_err(|claim_error| failed(claim_error, false))? {
                ClaimOutcome::Claimed => {
                    let expired = self.ledger.settle(held, Settlement::Expired, now).await;
                    expired.map_err(|error| failed(error, true))?;
                    Ok(Accepted::new(Outcome::Expired, id))
                }
                settled => settled_answer(settled, id, summary),
            };
        }

        // SNS would accept a text to an opted-out number and drop it at delivery, and only knows the STOPs sent to
        // our own number; the suppression list knows what 2X told us. Ask both, and claim the text, at once: one
        // round trip on this time-critical path.
        let (sns_opted_out, listed, claimed) =
            tokio::join!(self.sms.is_opted_out(&to), self.opt_outs.is_listed(&to), self.ledger.claim(claim));
        // If SNS cannot be asked, send anyway: SNS still enforces its opt-outs at delivery.
        let sns_opted_out = sns_opted_out.unwrap_or_else(|check_error| {
            summary.add_error(&check_error);
            false
        });
        let holds_claim = matches!(claimed, Ok(ClaimOutcome::Claimed));
        let suppressed = match listed {
            Ok(listed) => sns_opted_out || listed,
            // If the list cannot be read, do not text now: it holds STOPs and do-not-call requests SNS never saw,
            // and a text to such a lead is the failure a compliance team cannot take back.
            Err(lookup_error) if !sns_opted_out => {
                summary.counts.push(Metric::OptOutLookupFailed);
                return Err(failed(lookup_error, holds_claim));
            }
            Err(lookup_error) => {
                summary.add_error(&lookup_error);
                true
            }
        };
        if suppressed {
            // Not texted, and the text is left free: a delivery after the lead opts back in can still send.
            if holds_claim {
                self.release(held, summary).await;
            }
            return Ok(Accepted::new(Outcome::OptedOut, id));
        }
        match claimed.map_err(|claim_error| failed(claim_error, false))? {
            ClaimOutcome::Claimed => {}
            settled => return settled_answer(settled, id, summary),
        }

        let message_id = match self.sms.send(&to, message).await {
            Ok(message_id) => message_id,
            Err(SendFailure::NotSent(publish_error)) => {
                summary.counts.push(Metric::SmsPublishFailed);
                return Err(failed(publish_error, true));
            }
            Err(SendFailure::Unconfirmed(publish_error)) => {
                // SNS may have sent it. A lead texted twice is the worse failure, so this text is settled:
                // it is never published again, and the sender is told so with a 202 (not a 5xx to retry).
                summary.counts.push(Metric::SmsPublishFailed);
                summary.add_error(&publish_error);
                self.settle_now(held, Settlement::Unconfirmed, summary).await;
                return Ok(unconfirmed(id));
            }
            Err(SendFailure::Refused { error: publish_error, code }) => {
                // SNS will refuse it however often it is sent: settled, never queued or retried.
                summary.counts.push(Metric::SmsPublishFailed);
                summary.add_error(&publish_error);
                self.settle_now(held, Settlement::Failed { code: &code }, summary).await;
                return Err(NotDone::Refused(WebhookError::SmsRefused));
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
        self.settle_now(held, Settlement::Sent { message_id: &message_id }, summary).await;
        Ok(Accepted { message_id: Some(message_id), ..Accepted::new(Outcome::Sent, id) })
    }

    /// A claim held on a text not sent: marked queued (other deliveries of the id then send nothing while it
    /// waits) once it is on the queue; otherwise given back so that a later delivery can send it. If giving it
    /// back fails too, it stays: other deliveries get 409 until its lease ends, then `unconfirmed`.
    async fn settle(&self, held: Option<TextKey>, queued: bool, invocation: &Invocation, summary: &mut RequestSummary) {
        let Some(key) = held else { return };
        let held = HeldClaim { key: &key, claimed_by: &invocation.request_id };
        match queued {
            // Queued first, then marked: a redrive that already took the claim over leaves the mark refused.
            true => self.settle_now(held, Settlement::Queued, summary).await,
            false => self.release(held, summary).await,
        }
    }
}

/// The answer for a text another delivery claimed first (anything but [`ClaimOutcome::Claimed`]).
fn settled_answer(claimed: ClaimOutcome, id: WebhookId, summary: &mut RequestSummary) -> Result<Accepted, NotTexted> {
    match claimed {
        ClaimOutcome::AlreadySent | ClaimOutcome::Claimed => Ok(Accepted::new(Outcome::Duplicate, id)),
        ClaimOutcome::IdReused => {
            summary.counts.push(Metric::IdReused);
            Ok(Accepted::new(Outcome::Duplicate, id))
        }
        ClaimOutcome::Unconfirmed => Ok(unconfirmed(id)),
        ClaimOutcome::InProgress => Err(NotDone::Refused(WebhookError::InProgress)),
        ClaimOutcome::Queued => Ok(queued(Some(id))),
        ClaimOutcome::Expired => Ok(Accepted::new(Outcome::Expired, id)),
        ClaimOutcome::Failed => Err(NotDone::Refused(WebhookError::SmsRefused)),
    }
}
