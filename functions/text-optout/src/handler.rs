//! The text-optout step: parse, normalise the number, put it on the suppression list (the first record kept);
//! what DynamoDB fails to take goes to the fallback queue. [`OptOutLister`] is the work itself, which the
//! redrive function repeats for a queued opt-out; [`TextOptOutHandler`] is the webhook around it. Generic over
//! their ports.
//!
//! 2X's Text Opt-out body is the lead's fields and workflow position, with **no `id`** and the phone as 10 digits
//! or `+1…`: only `record_phone_number` is required, and every field is kept as sent.

use crate::config::TextOptOutConfig;
use std::time::Duration;
use webhook::auth::Authenticator;
use webhook::budget;
use webhook::error::{Refusal, WebhookError};
use webhook::fallback::{FallbackQueue, NotDone, QueuedBody, QueuedDelivery, QueuedFunction, queue_or_fail};
use webhook::http::parse_object;
use webhook::metrics::Outcome;
use webhook::opt_out::{OptOutRecord, OptOutSource, OptOutWriter};
use webhook::payload::required_phone;
use webhook::phone::{self, CountryCode, PhoneNumber};
use webhook::pipeline::{Accepted, Intake, Invocation, Webhook};
use webhook::telemetry::RequestSummary;

/// The slowest opt-out the lister completes: the number listed.
pub const LISTER_WORST_CASE: Duration = budget::calls(1, 0);

/// The slowest delivery the webhook answers: the token re-read, the listing failing at its timeout, then the
/// fallback queue.
pub const WORST_CASE: Duration = budget::calls(2, 1);

/// Puts each number 2X reports as opted out on the suppression list.
pub struct OptOutLister<W> {
    opt_outs: W,
    default_country: CountryCode,
}

impl<W: OptOutWriter> OptOutLister<W> {
    pub fn new(opt_outs: W, default_country: CountryCode) -> Self {
        Self { opt_outs, default_country }
    }

    pub fn opt_outs(&self) -> &W {
        &self.opt_outs
    }

    /// Lists the number of the opt-out in `body`, received as `invocation`: `opted_out`, listed now or earlier
    /// (the first record is kept; either way the number is durably on the list).
    pub async fn list(
        &self,
        body: &[u8],
        invocation: &Invocation,
        summary: &mut RequestSummary,
    ) -> Result<Accepted, NotDone> {
        let fields = parse_object(body)?;
        let raw = required_phone(&fields)?;
        summary.phone_last4 = Some(phone::last4(&raw).to_owned());
        let phone = PhoneNumber::parse(&raw, self.default_country).map_err(|error| WebhookError::Unprocessable {
            message: error.to_string(),
            field: Some("record_phone_number".into()),
            refusal: Refusal::InvalidPhone,
        })?;
        let record = OptOutRecord::new(&phone, OptOutSource::TextOptOut, None, fields, invocation.received_at);
        let item = record.into_item().map_err(WebhookError::from)?;
        self.opt_outs.add(item).await.map_err(|error| NotDone::Failed { id: None, error })?;
        Ok(Accepted::without_id(Outcome::OptedOut))
    }
}

/// The Text Opt-out webhook: the lister behind the shared intake, and the fallback queue for what DynamoDB fails
/// to take now.
pub struct TextOptOutHandler<W, Q> {
    intake: Intake,
    lister: OptOutLister<W>,
    queue: Q,
}

impl<W: OptOutWriter, Q: FallbackQueue> TextOptOutHandler<W, Q> {
    pub fn new(config: TextOptOutConfig, authenticator: Authenticator, opt_outs: W, queue: Q) -> Self {
        let lister = OptOutLister::new(opt_outs, config.common.data.default_country);
        Self { intake: Intake::new(authenticator, config.common), lister, queue }
    }

    pub fn opt_outs(&self) -> &W {
        self.lister.opt_outs()
    }

    pub fn queue(&self) -> &Q {
        &self.queue
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
