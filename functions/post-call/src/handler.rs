//! The post-call step: parse, build the item once, store it unless the id is stored already; generic over its
//! port.

use crate::config::PostCallConfig;
use crate::payload::PostCall;
use crate::ports::{CallStore, StoreOutcome};
use crate::record::CallRecord;
use webhook::auth::Authenticator;
use webhook::error::WebhookError;
use webhook::http::parse_json;
use webhook::metrics::{Measurement, Metric, Outcome, Unit};
use webhook::phone::{self, PhoneNumber};
use webhook::pipeline::{Accepted, Intake, Invocation, Webhook};
use webhook::telemetry::RequestSummary;

/// Stores each call record once, keyed by its webhook id.
pub struct PostCallHandler<C> {
    intake: Intake,
    calls: C,
}

impl<C: CallStore> PostCallHandler<C> {
    pub fn new(config: PostCallConfig, authenticator: Authenticator, calls: C) -> Self {
        Self { intake: Intake::new(authenticator, config.common), calls }
    }

    pub fn calls(&self) -> &C {
        &self.calls
    }
}

impl<C: CallStore> Webhook for PostCallHandler<C> {
    const FUNCTION: &'static str = "post-call";

    fn intake(&self) -> &Intake {
        &self.intake
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
        let phone = raw_phone.and_then(|raw| PhoneNumber::parse(raw, self.intake.common.default_country).ok());

        // Stored whole; a transcript that would take the item over DynamoDB's 400 KB is stored compressed.
        let id = call.id;
        let item =
            CallRecord::new(call, phone.as_ref(), invocation.received_at, self.intake.common.retention).into_item()?;
        let item_bytes = item.size();
        let outcome = match self.calls.store(item).await? {
            StoreOutcome::Stored => {
                summary.measurements.push(Measurement {
                    metric: Metric::StoredItemBytes,
                    unit: Unit::Bytes,
                    value: u64::try_from(item_bytes).unwrap_or(u64::MAX),
                    dimension: None,
                });
                Outcome::Stored
            }
            StoreOutcome::AlreadyStored => Outcome::Duplicate,
        };
        Ok(Accepted::new(outcome, id))
    }
}
