use super::{Accepted, Invocation, Webhook};
use crate::auth::Authenticator;
use crate::config::{CommonConfig, SendTextConfig};
use crate::error::{SendFailure, WebhookError};
use crate::http::parse_json;
use crate::item_size::dynamodb_item_size;
use crate::payload::SendText;
use crate::phone::{self, PhoneNumber};
use crate::ports::{ClaimOutcome, SmsSender, TextLedger};
use crate::records::{SentText, TextClaimRecord, rfc3339};
use crate::sms::SmsText;
use crate::telemetry::RequestSummary;
use time::OffsetDateTime;

/// Texts the lead at once, at most once per webhook id.
pub struct SendTextHandler<L, S> {
    authenticator: Authenticator,
    common: CommonConfig,
    pub(crate) ledger: L,
    pub(crate) sms: S,
}

impl<L: TextLedger, S: SmsSender> SendTextHandler<L, S> {
    /// Also loads the phone number metadata, so the first request does not wait for it.
    pub fn new(config: SendTextConfig, authenticator: Authenticator, ledger: L, sms: S) -> Self {
        PhoneNumber::load_metadata(config.common.default_country);
        Self { authenticator, common: config.common, ledger, sms }
    }
}

impl<L: TextLedger, S: SmsSender> Webhook for SendTextHandler<L, S> {
    const FUNCTION: &'static str = "send-text";

    fn authenticator(&self) -> &Authenticator {
        &self.authenticator
    }

    fn common(&self) -> &CommonConfig {
        &self.common
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

        let to = PhoneNumber::parse(&text.record_phone_number, self.common.default_country).map_err(|error| {
            WebhookError::Unprocessable { message: error.to_string(), field: Some("record_phone_number".into()) }
        })?;
        let claim =
            TextClaimRecord::new(text, &to, &invocation.request_id, invocation.received_at, self.common.retention);
        let text = &claim.text;
        let message = SmsText::parse(&text.message).map_err(|error| WebhookError::Unprocessable {
            message: error.to_string(),
            field: Some("message".into()),
        })?;
        // The claim stores the whole text: a value DynamoDB refuses would make every delivery fail the same way.
        dynamodb_item_size(&claim)?;

        // SNS would accept a text to an opted-out number and drop it at delivery, so ask first. The question and
        // the claim are independent: asked together, they cost one round trip on this time-critical path.
        let (opted_out, claimed) = tokio::join!(self.sms.is_opted_out(&to), self.ledger.claim(&claim));
        match opted_out {
            Ok(true) => {
                // Not texted, and the id is left free: a delivery after the lead opts back in can still send.
                if matches!(claimed, Ok(ClaimOutcome::Claimed)) {
                    if let Err(release_error) = self.ledger.release(text.id, &invocation.request_id).await {
                        summary.add_error(&release_error);
                    }
                }
                return Ok(Accepted::new("opted_out", text.id));
            }
            Ok(false) => {}
            // If asking fails, send anyway: SNS still enforces the opt-out, and a missed pre-call text is worse.
            Err(check_error) => summary.add_error(&check_error),
        }
        match claimed? {
            ClaimOutcome::Claimed => {}
            ClaimOutcome::AlreadySent => return Ok(Accepted::new("duplicate", text.id)),
            ClaimOutcome::Unconfirmed => return Ok(Accepted::unconfirmed(text.id)),
            ClaimOutcome::InProgress => return Err(WebhookError::InProgress),
        }

        let message_id = match self.sms.send(&to, message).await {
            Ok(message_id) => message_id,
            Err(SendFailure::NotSent(publish_error)) => {
                summary.sms_publish_failed = true;
                // Give the id back so 2X's retry sends the text. If that fails too, the claim stays: other
                // deliveries get 409 until its lease ends, then `unconfirmed`; this text is missed, never sent.
                if let Err(release_error) = self.ledger.release(text.id, &invocation.request_id).await {
                    summary.add_error(&release_error);
                }
                return Err(publish_error.into());
            }
            Err(SendFailure::Unconfirmed(publish_error)) => {
                // SNS may have sent it. A lead texted twice is the worse failure, so this id is settled:
                // it is never published again, and the sender is told so with a 202 (not a 5xx to retry).
                summary.sms_publish_failed = true;
                summary.add_error(&publish_error);
                let at = rfc3339(OffsetDateTime::now_utc());
                if let Err(record_error) = self.ledger.mark_unconfirmed(text.id, &invocation.request_id, &at).await {
                    summary.add_error(&record_error);
                }
                return Ok(Accepted::unconfirmed(text.id));
            }
        };

        summary.sms_segments = Some(message.segments());
        // The text is out: answer 200 even if recording that fails, or a retry would text the lead again.
        let sent = SentText::new(&message_id, OffsetDateTime::now_utc());
        if let Err(record_error) = self.ledger.mark_sent(text.id, &invocation.request_id, &sent).await {
            summary.add_error(&record_error);
        }
        Ok(Accepted { message_id: Some(message_id), ..Accepted::new("sent", text.id) })
    }
}
