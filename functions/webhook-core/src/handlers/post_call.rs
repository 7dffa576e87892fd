use super::{Accepted, Invocation, Webhook};
use crate::auth::Authenticator;
use crate::config::{CommonConfig, PostCallConfig};
use crate::error::WebhookError;
use crate::http::parse_json;
use crate::payload::PostCall;
use crate::phone::{self, PhoneNumber};
use crate::ports::{CallStore, StoreOutcome};
use crate::records::CallRecord;
use crate::telemetry::RequestSummary;

/// Stores each call record once, keyed by its webhook id.
pub struct PostCallHandler<C> {
    authenticator: Authenticator,
    common: CommonConfig,
    pub(crate) calls: C,
}

impl<C: CallStore> PostCallHandler<C> {
    /// Also loads the phone number metadata, so the first request does not wait for it.
    pub fn new(config: PostCallConfig, authenticator: Authenticator, calls: C) -> Self {
        PhoneNumber::load_metadata(config.common.default_country);
        Self { authenticator, common: config.common, calls }
    }
}

impl<C: CallStore> Webhook for PostCallHandler<C> {
    const FUNCTION: &'static str = "post-call";

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
        let call: PostCall = parse_json(body)?;
        summary.id = Some(call.id);
        summary.set_kind(call.end_reason().map_or("unspecified", |reason| reason.as_str()));

        // A call record is worth keeping even when its number is odd: store it, just without `phone_e164`.
        let raw_phone = call.record_phone_number.as_deref();
        summary.phone_last4 = raw_phone.map(|raw| phone::last4(raw).to_owned());
        let phone = raw_phone.and_then(|raw| PhoneNumber::parse(raw, self.common.default_country).ok());

        // Stored whole; a transcript that would take the item over DynamoDB's 400 KB is stored compressed.
        let id = call.id;
        let (record, item_bytes) =
            CallRecord::new(call, phone.as_ref(), invocation.received_at, self.common.retention).fitted()?;
        let status = match self.calls.store(&record).await? {
            StoreOutcome::Stored => {
                summary.stored_item_bytes = Some(item_bytes);
                "stored"
            }
            StoreOutcome::AlreadyStored => "duplicate",
        };
        Ok(Accepted::new(status, id))
    }
}
