//! The text-optout work: parse, normalise the number, put it on the suppression list (the first record kept).
//! [`OptOutLister`] is what text-optout's webhook does for each delivery and the redrive for each queued one.
//!
//! 2X's Text Opt-out body is the lead's fields and workflow position, with **no `id`** and the phone as 10 digits
//! or `+1…`: only `record_phone_number` is required, and every field is kept as sent.

use crate::budget;
use crate::error::{Refusal, WebhookError};
use crate::fallback::{Answered, NotDone, QueuedFunction, Work};
use crate::metrics::Outcome;
use crate::opt_out::{OptOutRecord, OptOutSource, OptOutWriter};
use crate::payload::{Fields, parse_object, required_phone};
use crate::phone::{self, CountryCode, PhoneNumber};
use crate::pipeline::{Accepted, Invocation};
use std::time::Duration;

/// The slowest opt-out the lister completes: the number listed.
pub const LISTER_WORST_CASE: Duration = budget::calls(1, 0);

/// Puts each number 2X reports as opted out on the suppression list.
pub struct OptOutLister<W> {
    opt_outs: W,
    default_country: CountryCode,
}

impl<W: OptOutWriter> OptOutLister<W> {
    pub fn new(opt_outs: W, default_country: CountryCode) -> Self {
        Self { opt_outs, default_country }
    }
}

impl<W: OptOutWriter> OptOutLister<W> {
    /// Lists the number `raw` of the opt-out whose fields are `fields`.
    async fn list(&self, raw: &str, fields: Fields, invocation: &Invocation) -> Result<Accepted, NotDone> {
        let phone = PhoneNumber::parse(raw, self.default_country).map_err(|error| WebhookError::Unprocessable {
            message: error.to_string(),
            field: Some("record_phone_number".into()),
            refusal: Refusal::InvalidPhone,
        })?;
        let record = OptOutRecord::new(&phone, OptOutSource::TextOptOut, None, fields, invocation.received_at);
        let item = record.into_item().map_err(WebhookError::from)?;
        self.opt_outs.add(item).await.map_err(|error| NotDone::Failed { id: None, error, held: () })?;
        Ok(Accepted::without_id(Outcome::OptedOut))
    }
}

impl<W: OptOutWriter> Work for OptOutLister<W> {
    const FUNCTION: QueuedFunction = QueuedFunction::TextOptOut;
    type Held = ();
    type Report = Answered;

    /// Lists the number of the opt-out in `body`, received as `invocation`: `opted_out`, listed now or earlier
    /// (the first record is kept; either way the number is durably on the list).
    async fn run(&self, body: &[u8], invocation: &Invocation, _queued_by: Option<&str>) -> Answered {
        let read = parse_object(body).and_then(|fields| Ok((required_phone(&fields)?.into_owned(), fields)));
        let (raw, fields) = match read {
            Ok(read) => read,
            Err(error) => return Answered { phone_last4: None, answer: Err(error.into()) },
        };
        let phone_last4 = Some(phone::last4(&raw).to_owned());
        Answered { phone_last4, answer: self.list(&raw, fields, invocation).await }
    }
}
