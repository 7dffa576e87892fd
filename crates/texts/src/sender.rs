//! The text work: parse, validate, claim the text, check the opt-outs, publish, record. [`TextSender`] is what
//! send-text's webhook does for each delivery and the redrive for each queued one. Generic over its ports.

use crate::hours::{LeadPlace, TextHours, Verdict};
use crate::ledger::{
    CLAIM_LEASE, ClaimOutcome, HeldClaim, SendFailure, Settlement, SmsSender, TextClaimRecord, TextKey, TextLedger,
};
use crate::pacing::Pacer;
use crate::settings::{QueuedTextMaxAge, TextSettings};
use crate::sms::{SmsBilling, SmsText};
use crate::text::{AllowedRecipients, SendText, recipient_and_sms};
use lambda_http::http::StatusCode;
use std::time::Duration;
use time::OffsetDateTime;
use tokio::time::Instant;
use webhook::budget;
use webhook::config::{DataSettings, Retention};
use webhook::error::{DependencyError, WebhookError};
use webhook::fallback::{NotDone, QueuedFunction, Report, Work, queued};
use webhook::metrics::{Measurement, Metric, Outcome, Unit};
use webhook::opt_out::OptOutLookup;
use webhook::payload::{WebhookId, parse_object};
use webhook::phone::{self, CountryCode, PhoneNumber};
use webhook::pipeline::{Accepted, Invocation};
use webhook::telemetry::RequestSummary;

/// The slowest text the sender completes: the claim with both opt-out checks at once, the publish, then the text
/// marked (sent, unconfirmed, failed, expired) or its claim given back.
pub const SENDER_WORST_CASE: Duration = budget::calls(3, 0);

/// A paced publish starts at least this long before the text's maximum age: one attempt's timeout, so that SNS
/// has accepted it by then.
const PUBLISH_ALLOWANCE: Duration = Duration::from_secs(2);

/// A paced text the rate still holds back this close to its maximum age is settled expired: given back to the
/// queue, it could not be tried again in time.
const LAST_TRY_BEFORE_MAX_AGE: Duration = Duration::from_secs(3);

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
    hours: TextHours,
    /// `SMS_SMART_ENCODING`.
    smart_encoding: bool,
    /// The redrive's pace at the number's rate; `None` (the webhook): a throttled text is queued at once.
    pacer: Option<Pacer>,
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
            hours: settings.hours,
            smart_encoding: settings.sms.smart_encoding,
            pacer: None,
        }
    }

    /// This sender, publishing at `pacer`'s pace and waiting out SNS's throttling while the text can.
    pub fn paced(self, pacer: Pacer) -> Self {
        Self { pacer: Some(pacer), ..self }
    }

    /// Publishes the text. Paced (the redrive): at this instance's share of the rate, and, while SNS throttles,
    /// again after a backoff, as long as a try can start by `by`; with what the pace cost.
    async fn publish(
        &self,
        to: &PhoneNumber,
        message: &SmsText<'_>,
        by: Instant,
    ) -> (Result<String, SendFailure>, Paced) {
        let mut paced = Paced::default();
        let Some(pacer) = &self.pacer else {
            let result = self.sms.send(to, message).await;
            paced.throttled = u32::from(matches!(result, Err(SendFailure::Throttled(_))));
            return (result, paced);
        };
        loop {
            let Some(start) = pacer.reserve(message.segments().count, by) else {
                let late = DependencyError::new("SMS rate", "no share of the rate before the text must be out");
                return (Err(SendFailure::Throttled(late)), Paced { again_in: pacer.again_in(), ..paced });
            };
            paced.waited += start.saturating_duration_since(Instant::now());
            tokio::time::sleep_until(start).await;
            let result = self.sms.send(to, message).await;
            match &result {
                Err(SendFailure::Throttled(_)) => {
                    paced.throttled += 1;
                    let wait = pacer.throttled();
                    if Instant::now() + wait <= by {
                        paced.waited += wait;
                        tokio::time::sleep(wait).await;
                        continue;
                    }
                    paced.again_in = pacer.again_in();
                }
                Ok(_) => pacer.accepted(),
                Err(_) => {}
            }
            return (result, paced);
        }
    }

    /// The last moment a paced try of a text claimed at `claimed_at` may start: before the text's maximum age
    /// (`deadline`, less [`PUBLISH_ALLOWANCE`]), and with the try and what follows it (the claim settled or given
    /// back; the message given back to the queue) within the claim's lease and the invocation's deadline.
    fn publish_by(deadline: OffsetDateTime, claimed_at: OffsetDateTime, invocation: &Invocation) -> Instant {
        let now = (Instant::now(), OffsetDateTime::now_utc());
        let at = |moment: OffsetDateTime| now.0 + Duration::try_from(moment - now.1).unwrap_or(Duration::ZERO);
        let by = at(deadline).checked_sub(PUBLISH_ALLOWANCE).unwrap_or(now.0);
        let lease = at(claimed_at + CLAIM_LEASE).checked_sub(budget::CALL * 2).unwrap_or(now.0);
        let invocation = invocation.deadline.latest_start(budget::CALL * 3).unwrap_or(lease);
        by.min(lease).min(invocation)
    }

    /// The rules, in order: the number in E.164 and allowed, the message an SMS (422 each); too old → claimed and
    /// settled `expired`; else the claim, SNS's opt-out check and the suppression list at once; then the publish,
    /// then the text settled. Also returns SNS's opt-out check when it failed (which alone never holds a text
    /// back: SNS still enforces its opt-outs at delivery).
    async fn send(
        &self,
        text: SendText,
        key: &TextKey,
        invocation: &Invocation,
        queued_by: Option<&str>,
    ) -> (Option<DependencyError>, Paced, Result<Texted, Unsent>) {
        let SendText { record_phone_number, message, fields, .. } = text;
        let (to, message) =
            match recipient_and_sms(&record_phone_number, &message, self.default_country, &self.recipients) {
                Ok(valid) => valid,
                Err(error) => return (None, Paced::default(), Err(Unsent::Refused(error))),
            };
        let message = if self.smart_encoding { message.smart_encoded() } else { message };
        let now = OffsetDateTime::now_utc();
        let deadline = invocation.received_at + self.max_age.of(&key.text_type);
        let hours = match self.hours {
            TextHours::Off => Verdict::Open,
            guarded => {
                let place = LeadPlace::of(fields.get("record_timezone"), fields.get("record_zip_code"), &to);
                guarded.verdict(&place, instant(now), instant(deadline))
            }
        };
        let record =
            TextClaimRecord::new(key, fields, &to, &invocation.request_id, invocation.received_at, now, self.retention);
        // The claim stores the whole text: built once, as DynamoDB takes it.
        let claim = match record.claim(queued_by) {
            Ok(claim) => claim,
            Err(unstorable) => return (None, Paced::default(), Err(Unsent::Refused(unstorable.into()))),
        };
        let failed = |step, error, held| Err(Unsent::Failed { step, error, held });
        // The claim this delivery holds once `claim` answers `Claimed`.
        let held = HeldClaim { key, claimed_by: &invocation.request_id };

        // A text that may never be sent is claimed first, so that no delivery of it sends it afterwards either.
        let never = match hours {
            _ if now > deadline => Some((Settlement::Expired, Texted::Expired)),
            Verdict::Closed => Some((Settlement::OutsideHours, Texted::OutsideHours)),
            Verdict::OpensAt(opens) => return (None, Paced::default(), Err(Unsent::Waiting { until: moment(opens) })),
            Verdict::Open => None,
        };
        if let Some((settlement, texted)) = never {
            let settled = match self.ledger.claim(claim).await {
                Err(error) => failed(Step::Claim, error, false),
                Ok(ClaimOutcome::Claimed) => match self.ledger.settle(held, settlement, now).await {
                    Ok(()) => Ok(texted),
                    Err(error) => failed(Step::Settle, error, true),
                },
                Ok(settled) => Ok(Texted::ClaimedBefore(settled)),
            };
            return (None, Paced::default(), settled);
        }

        // SNS would accept a text to an opted-out number and drop it at delivery, and only knows the STOPs sent to
        // our own number; the suppression list knows what 2X told us. Ask both, and claim the text, at once: one
        // round trip on this time-critical path.
        let (sns_opted_out, listed, claimed) =
            tokio::join!(self.sms.is_opted_out(&to), self.opt_outs.is_listed(&to), self.ledger.claim(claim));
        // If SNS cannot be asked, send anyway: SNS still enforces its opt-outs at delivery.
        let (sns_opted_out, sns_check) = match sns_opted_out {
            Ok(opted_out) => (opted_out, None),
            Err(check_error) => (false, Some(check_error)),
        };
        let holds_claim = matches!(claimed, Ok(ClaimOutcome::Claimed));
        let (suppressed, list) = match listed {
            Ok(listed) => (sns_opted_out || listed, None),
            // If the list cannot be read, do not text now: it holds STOPs and do-not-call requests SNS never saw,
            // and a text to such a lead is the failure a compliance team cannot take back.
            Err(lookup_error) if !sns_opted_out => {
                return (sns_check, Paced::default(), failed(Step::List, lookup_error, holds_claim));
            }
            Err(lookup_error) => (true, Some(lookup_error)),
        };
        if suppressed {
            // Not texted, and the text is left free: a delivery after the lead opts back in can still send.
            let released = if holds_claim { self.ledger.release(held).await } else { Ok(()) };
            return (sns_check, Paced::default(), Ok(Texted::OptedOut { list, released }));
        }
        match claimed {
            Err(claim_error) => return (sns_check, Paced::default(), failed(Step::Claim, claim_error, false)),
            Ok(ClaimOutcome::Claimed) => {}
            Ok(settled) => return (sns_check, Paced::default(), Ok(Texted::ClaimedBefore(settled))),
        }

        let (published, paced) = self.publish(&to, &message, Self::publish_by(deadline, now, invocation)).await;
        let texted = match published {
            Ok(message_id) => {
                let age = OffsetDateTime::now_utc() - invocation.received_at;
                // The text is out: answer 200 even if recording that fails, or a retry would text the lead again.
                let billing = message.billing();
                let sent = Settlement::Sent { message_id: &message_id, billing };
                let marked = self.ledger.settle(held, sent, OffsetDateTime::now_utc()).await;
                Ok(Texted::Sent { message_id, billing, age, marked })
            }
            Err(SendFailure::NotSent(publish_error)) => failed(Step::Publish { throttled: false }, publish_error, true),
            // Paced, it had all the time it could wait: too close to its maximum age for another try, it never
            // goes out (given back, it would only come back to be settled so).
            Err(SendFailure::Throttled(_))
                if self.pacer.is_some() && OffsetDateTime::now_utc() + LAST_TRY_BEFORE_MAX_AGE >= deadline =>
            {
                match self.ledger.settle(held, Settlement::Expired, OffsetDateTime::now_utc()).await {
                    Ok(()) => Ok(Texted::Expired),
                    Err(error) => failed(Step::Settle, error, true),
                }
            }
            Err(SendFailure::Throttled(publish_error)) => {
                failed(Step::Publish { throttled: true }, publish_error, true)
            }
            Err(SendFailure::Unconfirmed(publish_error)) => {
                // SNS may have sent it. A lead texted twice is the worse failure, so this text is settled:
                // it is never published again, and the sender is told so with a 202 (not a 5xx to retry).
                let marked = self.ledger.settle(held, Settlement::Unconfirmed, OffsetDateTime::now_utc()).await;
                Ok(Texted::Unconfirmed { publish_error, marked })
            }
            Err(SendFailure::Refused { error: publish_error, code }) => {
                // SNS will refuse it however often it is sent: settled, never queued or retried.
                let marked =
                    self.ledger.settle(held, Settlement::Failed { code: &code }, OffsetDateTime::now_utc()).await;
                Err(Unsent::SmsRefused { publish_error, marked })
            }
        };
        (sns_check, paced, texted)
    }
}

/// What became of a text the sender is done with: sent, or never to be sent by this delivery (opted out, too old,
/// or another delivery's), each with the calls that failed on the way without changing that.
#[derive(Debug)]
pub enum Texted {
    /// SNS accepted it, as `message_id`, billed as `billing`, `age` after it arrived here; `marked`: whether the
    /// ledger recorded that.
    Sent { message_id: String, billing: SmsBilling, age: time::Duration, marked: Result<(), DependencyError> },
    /// The publish reached SNS and its answer was lost: settled, never sent again.
    Unconfirmed { publish_error: DependencyError, marked: Result<(), DependencyError> },
    /// Opted out at SNS or on the suppression list (`list`: the list's failure when SNS's answer sufficed); the
    /// claim, if held, given back (`released`).
    OptedOut { list: Option<DependencyError>, released: Result<(), DependencyError> },
    /// Older than its maximum age: claimed and settled, never sent.
    Expired,
    /// Outside the lead's legal hours until past its maximum age: claimed and settled, never sent.
    OutsideHours,
    /// Another delivery claimed it first (anything but [`ClaimOutcome::Claimed`]).
    ClaimedBefore(ClaimOutcome),
}

/// Why a text was not sent.
#[derive(Debug)]
pub enum Unsent {
    /// The body can never be texted as it is (400, 422, 413).
    Refused(WebhookError),
    /// Outside the lead's legal hours until `until`, before its maximum age: to send then. Nothing claimed.
    Waiting { until: OffsetDateTime },
    /// SNS refused it for good: settled (`marked`), never queued or retried.
    SmsRefused { publish_error: DependencyError, marked: Result<(), DependencyError> },
    /// A dependency failed at `step`: doing it again later sends it. `held`: this delivery holds the claim.
    Failed { step: Step, error: DependencyError, held: bool },
}

/// Where a text's dependency failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Claim,
    List,
    /// `throttled`: SNS refused the publish for the sending rate.
    Publish {
        throttled: bool,
    },
    Settle,
}

/// What waiting for the sending rate cost a text.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Paced {
    /// Publishes SNS throttled.
    pub throttled: u32,
    /// Time spent waiting for this instance's share of the rate or after a throttle.
    pub waited: Duration,
    /// When given back to the queue for the rate: when to try again.
    pub again_in: Duration,
}

/// What the sender did with one delivery.
#[derive(Debug)]
pub enum TextReport {
    /// The body was refused before it named a text (400).
    Unread(WebhookError),
    /// The text `key`, to the number ending `phone_last4`: SNS's opt-out check when it failed (the text was
    /// sent anyway), what the sending rate cost it, and the text's fate.
    Read {
        key: TextKey,
        phone_last4: String,
        sns_check: Option<DependencyError>,
        paced: Paced,
        texted: Result<Texted, Unsent>,
    },
}

impl Report for TextReport {
    type Held = Option<TextKey>;

    fn record(self, summary: &mut RequestSummary) -> Result<Accepted, NotTexted> {
        let (key, phone_last4, sns_check, paced, texted) = match self {
            Self::Unread(error) => return Err(NotDone::Refused(error)),
            Self::Read { key, phone_last4, sns_check, paced, texted } => (key, phone_last4, sns_check, paced, texted),
        };
        let id = key.id;
        summary.id = Some(id);
        summary.set_kind(key.text_type.as_str());
        summary.phone_last4 = Some(phone_last4);
        if let Some(check_error) = &sns_check {
            summary.add_error(check_error);
        }
        if paced.throttled > 0 {
            summary.measurements.push(Measurement {
                metric: Metric::SmsThrottled,
                unit: Unit::Count,
                value: u64::from(paced.throttled),
                dimensions: vec![],
            });
        }
        if !paced.waited.is_zero() {
            summary.measurements.push(Measurement {
                metric: Metric::TextWaitedForRate,
                unit: Unit::Milliseconds,
                value: u64::try_from(paced.waited.as_millis()).unwrap_or(u64::MAX),
                dimensions: vec![],
            });
        }
        match texted {
            Ok(Texted::Sent { message_id, billing, age, marked }) => {
                let text_type = ("text_type", key.text_type.dimension());
                let count = |value: usize| u64::try_from(value).unwrap_or(u64::MAX);
                summary.measurements.push(Measurement {
                    metric: Metric::SmsSegments,
                    unit: Unit::Count,
                    value: count(billing.segments.count),
                    dimensions: vec![("encoding", billing.segments.encoding.name()), text_type],
                });
                if billing.characters_replaced > 0 {
                    summary.measurements.push(Measurement {
                        metric: Metric::SmsCharactersReplaced,
                        unit: Unit::Count,
                        value: count(billing.characters_replaced),
                        dimensions: vec![],
                    });
                    // Counted (0 included) whenever smart encoding changed a text: the dashboard's average then
                    // says what it saves.
                    summary.measurements.push(Measurement {
                        metric: Metric::SmsPartsSaved,
                        unit: Unit::Count,
                        value: count(billing.parts_saved),
                        dimensions: vec![text_type],
                    });
                }
                summary.measurements.push(Measurement {
                    metric: Metric::TextAgeWhenSent,
                    unit: Unit::Milliseconds,
                    value: u64::try_from(age.whole_milliseconds()).unwrap_or(0),
                    dimensions: vec![],
                });
                summary.note(marked);
                Ok(Accepted { message_id: Some(message_id), ..Accepted::new(Outcome::Sent, id) })
            }
            Ok(Texted::Unconfirmed { publish_error, marked }) => {
                publish_failed(summary, &publish_error, marked);
                Ok(unconfirmed(id))
            }
            Ok(Texted::OptedOut { list, released }) => {
                summary.note(list.map_or(Ok(()), Err));
                summary.note(released);
                Ok(Accepted::new(Outcome::OptedOut, id))
            }
            Ok(Texted::Expired) => Ok(Accepted::new(Outcome::Expired, id)),
            Ok(Texted::OutsideHours) => Ok(Accepted::new(Outcome::OutsideHours, id)),
            Err(Unsent::Waiting { until }) => Err(NotDone::Deferred { id: Some(id), until }),
            Ok(Texted::ClaimedBefore(claimed)) => claimed_before(claimed, id, summary),
            Err(Unsent::Refused(error)) => Err(NotDone::Refused(error)),
            Err(Unsent::SmsRefused { publish_error, marked }) => {
                publish_failed(summary, &publish_error, marked);
                Err(NotDone::Refused(WebhookError::SmsRefused))
            }
            // Counted as throttled publishes above: a text waiting for the rate is no failure.
            Err(Unsent::Failed { step: Step::Publish { throttled: true }, error, held }) => {
                Err(NotDone::Throttled { id: Some(id), error, held: held.then_some(key), again_in: paced.again_in })
            }
            Err(Unsent::Failed { step, error, held }) => {
                match step {
                    Step::List => summary.counts.push(Metric::OptOutLookupFailed),
                    Step::Publish { .. } => summary.counts.push(Metric::SmsPublishFailed),
                    Step::Claim | Step::Settle => {}
                }
                Err(NotDone::Failed { id: Some(id), error, held: held.then_some(key) })
            }
        }
    }
}

impl<L: TextLedger, S: SmsSender, O: OptOutLookup> Work for TextSender<L, S, O> {
    const FUNCTION: QueuedFunction = QueuedFunction::SendText;
    type Held = Option<TextKey>;
    type Report = TextReport;

    /// Sends the text in `body`, received as `invocation` (whose request id claims it). `queued_by`: the request
    /// id of the delivery that queued it (the redrive's run), whose unfinished claim this one takes over.
    async fn run(&self, body: &[u8], invocation: &Invocation, queued_by: Option<&str>) -> TextReport {
        let text = match parse_object(body).and_then(SendText::read) {
            Ok(text) => text,
            Err(error) => return TextReport::Unread(error),
        };
        let key = TextKey { id: text.id, text_type: text.text_type.clone() };
        let phone_last4 = phone::last4(&text.record_phone_number).to_owned();
        let (sns_check, paced, texted) = self.send(text, &key, invocation, queued_by).await;
        TextReport::Read { key, phone_last4, sns_check, paced, texted }
    }

    /// A claim held on a text not sent: marked queued (other deliveries of the id then send nothing while it
    /// waits) once it is on the queue; otherwise given back so that a later delivery can send it. If giving it
    /// back fails too, it stays: other deliveries get 409 until its lease ends, then `unconfirmed`.
    async fn settle(
        &self,
        held: Option<TextKey>,
        queued: bool,
        invocation: &Invocation,
    ) -> Result<(), DependencyError> {
        let Some(key) = held else { return Ok(()) };
        let held = HeldClaim { key: &key, claimed_by: &invocation.request_id };
        match queued {
            // Queued first, then marked: a redrive that already took the claim over leaves the mark refused.
            true => self.ledger.settle(held, Settlement::Queued, OffsetDateTime::now_utc()).await,
            false => self.ledger.release(held).await,
        }
    }
}

/// `at` as the hours guard counts time.
fn instant(at: OffsetDateTime) -> jiff::Timestamp {
    jiff::Timestamp::from_second(at.unix_timestamp()).unwrap_or(jiff::Timestamp::MAX)
}

/// `at` as the ledger and the queue count time.
fn moment(at: jiff::Timestamp) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(at.as_second()).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// A publish that failed and was settled anyway (`marked`: whether the ledger recorded that).
fn publish_failed(summary: &mut RequestSummary, publish_error: &DependencyError, marked: Result<(), DependencyError>) {
    summary.counts.push(Metric::SmsPublishFailed);
    summary.add_error(publish_error);
    summary.note(marked);
}

/// The answer for a text another delivery claimed first (anything but [`ClaimOutcome::Claimed`]).
fn claimed_before(claimed: ClaimOutcome, id: WebhookId, summary: &mut RequestSummary) -> Result<Accepted, NotTexted> {
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
        ClaimOutcome::OutsideHours => Ok(Accepted::new(Outcome::OutsideHours, id)),
        ClaimOutcome::Failed => Err(NotDone::Refused(WebhookError::SmsRefused)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sms::{Segments, SmsEncoding};
    use crate::text::TextType;
    use webhook::error::Refusal;

    fn read(texted: Result<Texted, Unsent>, sns_check: Option<DependencyError>) -> TextReport {
        let key = TextKey { id: WebhookId::new(7), text_type: TextType::PreCall };
        TextReport::Read { key, phone_last4: "0143".into(), sns_check, paced: Paced::default(), texted }
    }

    fn failure(operation: &'static str) -> DependencyError {
        DependencyError::new(operation, "failed")
    }

    // The rules return what happened; recording it is a pure function of the report, tested here without ports.
    #[test]
    fn a_sent_text_is_answered_200_and_what_failed_on_the_way_is_noted_in_order() {
        let segments = Segments { encoding: SmsEncoding::Gsm7, count: 2 };
        let billing = SmsBilling { segments, characters_replaced: 3, parts_saved: 1 };
        let (age, marked) = (time::Duration::milliseconds(1_500), Err(failure("dynamodb:UpdateItem")));
        let sent = Texted::Sent { message_id: "m-1".into(), billing, age, marked };
        let mut summary = RequestSummary::default();
        let answer = read(Ok(sent), Some(failure("sns:CheckIfPhoneNumberIsOptedOut"))).record(&mut summary);

        let accepted = answer.unwrap_or_else(|_| panic!("a sent text is accepted"));
        assert_eq!(
            (accepted.code, accepted.outcome, accepted.message_id.as_deref()),
            (StatusCode::OK, Outcome::Sent, Some("m-1"))
        );
        assert_eq!(
            (summary.id, summary.kind.as_deref(), summary.phone_last4.as_deref()),
            (Some(WebhookId::new(7)), Some("pre-call"), Some("0143"))
        );
        let in_order = [failure("sns:CheckIfPhoneNumberIsOptedOut"), failure("dynamodb:UpdateItem")]
            .map(|error| error.to_string());
        assert_eq!(summary.errors, in_order);
        let measured: Vec<_> = summary
            .measurements
            .iter()
            .map(|measured| (measured.metric, measured.unit, measured.value, measured.dimensions.clone()))
            .collect();
        let text_type = ("text_type", "pre-call");
        assert_eq!(
            measured,
            [
                (Metric::SmsSegments, Unit::Count, 2, vec![("encoding", "GSM-7"), text_type]),
                (Metric::SmsCharactersReplaced, Unit::Count, 3, vec![]),
                (Metric::SmsPartsSaved, Unit::Count, 1, vec![text_type]),
                (Metric::TextAgeWhenSent, Unit::Milliseconds, 1_500, vec![]),
            ]
        );
    }

    #[test]
    fn each_failure_is_counted_once_and_handed_on_with_what_the_delivery_holds() {
        for (step, counted, held) in [
            (Step::List, vec![Metric::OptOutLookupFailed], true),
            (Step::Publish { throttled: false }, vec![Metric::SmsPublishFailed], true),
            (Step::Claim, vec![], false),
            (Step::Settle, vec![], true),
        ] {
            let mut summary = RequestSummary::default();
            let failed = Unsent::Failed { step, error: failure("dependency"), held };
            match read(Err(failed), None).record(&mut summary) {
                Err(NotDone::Failed { id, held: held_key, .. }) => {
                    assert_eq!(id, Some(WebhookId::new(7)), "{step:?}");
                    assert_eq!(held_key.is_some(), held, "{step:?}");
                }
                other => panic!("{step:?}: expected a failure to queue, got {other:?}"),
            }
            assert_eq!(summary.counts, counted, "{step:?}");
            assert!(summary.errors.is_empty(), "the pipeline notes the failure once, with the queue's answer");
        }
    }

    #[test]
    fn a_throttled_text_waits_for_the_rate_with_its_claim_and_its_throttles_and_wait_are_measured() {
        let mut summary = RequestSummary::default();
        let failed =
            Unsent::Failed { step: Step::Publish { throttled: true }, error: failure("sns:Publish"), held: true };
        let key = TextKey { id: WebhookId::new(7), text_type: TextType::PreCall };
        let paced = Paced { throttled: 3, waited: Duration::from_millis(1_750), again_in: Duration::from_secs(4) };
        let report = TextReport::Read { key, phone_last4: "0143".into(), sns_check: None, paced, texted: Err(failed) };
        match report.record(&mut summary) {
            Err(NotDone::Throttled { id, held, again_in, .. }) => {
                assert_eq!((id, held.is_some(), again_in), (Some(WebhookId::new(7)), true, Duration::from_secs(4)))
            }
            other => panic!("expected a text waiting for the rate, got {other:?}"),
        }
        assert!(summary.counts.is_empty(), "waiting for the rate is no failure: {:?}", summary.counts);
        let measured: Vec<_> =
            summary.measurements.iter().map(|measured| (measured.metric, measured.unit, measured.value)).collect();
        assert_eq!(
            measured,
            [(Metric::SmsThrottled, Unit::Count, 3), (Metric::TextWaitedForRate, Unit::Milliseconds, 1_750)]
        );
    }

    #[test]
    fn a_refused_sms_and_an_unread_body_are_refused_as_they_are() {
        let mut summary = RequestSummary::default();
        let refused = Unsent::SmsRefused { publish_error: failure("sns:Publish"), marked: Ok(()) };
        assert!(matches!(
            read(Err(refused), None).record(&mut summary),
            Err(NotDone::Refused(WebhookError::SmsRefused))
        ));
        assert_eq!((summary.counts.as_slice(), summary.errors.len()), ([Metric::SmsPublishFailed].as_slice(), 1));

        let mut summary = RequestSummary::default();
        let unread = WebhookError::Unprocessable { message: "no".into(), field: None, refusal: Refusal::InvalidPhone };
        assert!(matches!(TextReport::Unread(unread).record(&mut summary), Err(NotDone::Refused(_))));
        assert_eq!((summary.id, summary.phone_last4), (None, None), "nothing is known of an unread body");
    }
}
