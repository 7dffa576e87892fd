//! The text-optout step: parse, normalise the number, put it on the suppression list (the first record kept);
//! generic over the list's writer.

use crate::config::TextOptOutConfig;
use crate::payload::TextOptOut;
use webhook::auth::Authenticator;
use webhook::error::WebhookError;
use webhook::http::parse_json;
use webhook::item::Item;
use webhook::metrics::Outcome;
use webhook::opt_out::{OptOutRecord, OptOutSource, OptOutWriter};
use webhook::phone::{self, PhoneNumber};
use webhook::pipeline::{Accepted, Intake, Invocation, Webhook};
use webhook::telemetry::RequestSummary;

/// Puts each number 2X reports as opted out on the suppression list.
pub struct TextOptOutHandler<W> {
    intake: Intake,
    opt_outs: W,
}

impl<W: OptOutWriter> TextOptOutHandler<W> {
    pub fn new(config: TextOptOutConfig, authenticator: Authenticator, opt_outs: W) -> Self {
        Self { intake: Intake::new(authenticator, config.common), opt_outs }
    }

    pub fn opt_outs(&self) -> &W {
        &self.opt_outs
    }
}

impl<W: OptOutWriter> Webhook for TextOptOutHandler<W> {
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
        let opt_out: TextOptOut = parse_json(body)?;
        summary.phone_last4 = Some(phone::last4(&opt_out.record_phone_number).to_owned());
        let phone = PhoneNumber::parse(&opt_out.record_phone_number, self.intake.common.data.default_country).map_err(
            |error| WebhookError::Unprocessable {
                message: error.to_string(),
                field: Some("record_phone_number".into()),
            },
        )?;
        let record = OptOutRecord::new(&phone, OptOutSource::TextOptOut, None, opt_out, invocation.received_at);
        // Listed now or earlier (the first record is kept): either way the number is durably on the list.
        self.opt_outs.add(Item::new(&record)?).await?;
        Ok(Accepted::without_id(Outcome::OptedOut))
    }
}
