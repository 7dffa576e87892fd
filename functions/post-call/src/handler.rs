//! The post-call step: parse, build the item once, store it unless the id is stored already, list a suppressed
//! number; what DynamoDB fails to take goes to the fallback queue. [`CallRecorder`] is the work itself, which the
//! redrive function repeats for a queued delivery; [`PostCallHandler`] is the webhook around it. Generic over
//! their ports.

use crate::config::PostCallConfig;
use crate::payload::PostCall;
use crate::ports::{CallStore, StoreOutcome};
use crate::record::CallRecord;
use lambda_http::http::StatusCode;
use serde_json::Map;
use webhook::auth::Authenticator;
use webhook::config::{DataSettings, Retention};
use webhook::error::{DependencyError, WebhookError};
use webhook::fallback::{FallbackQueue, QueuedBody, QueuedDelivery, QueuedFunction};
use webhook::http::parse_json;
use webhook::item::Item;
use webhook::metrics::{Measurement, Metric, Outcome, Unit};
use webhook::opt_out::{LeadReport, Listed, OptOutRecord, OptOutSource, OptOutWriter};
use webhook::payload::WebhookId;
use webhook::phone::{self, CountryCode, PhoneNumber};
use webhook::pipeline::{Accepted, Intake, Invocation, Webhook};
use webhook::telemetry::RequestSummary;

/// Stores each call record once, keyed by its webhook id; a call whose end reason suppresses texts puts the
/// lead's number on the suppression list.
pub struct CallRecorder<C, W> {
    calls: C,
    /// The suppression list, when configured.
    opt_outs: Option<W>,
    suppress_texts_on: Vec<String>,
    default_country: CountryCode,
    retention: Option<Retention>,
}

/// Why a call was not recorded.
pub enum NotRecorded {
    /// The body can never be recorded as sent (4xx).
    Refused(WebhookError),
    /// DynamoDB failed (after the SDK's retries): recording it again later completes it. The call's id.
    Failed(WebhookId, DependencyError),
}

impl From<WebhookError> for NotRecorded {
    fn from(error: WebhookError) -> Self {
        Self::Refused(error)
    }
}

impl<C: CallStore, W: OptOutWriter> CallRecorder<C, W> {
    /// `suppress_texts_on`: the end reasons that put the lead's number on the list.
    pub fn new(data: &DataSettings, suppress_texts_on: Vec<String>, calls: C, opt_outs: Option<W>) -> Self {
        Self { calls, opt_outs, suppress_texts_on, default_country: data.default_country, retention: data.retention }
    }

    pub fn calls(&self) -> &C {
        &self.calls
    }

    pub fn opt_outs(&self) -> Option<&W> {
        self.opt_outs.as_ref()
    }

    /// The list's writer, why, and what 2X sent about the lead, when `call`'s end reason suppresses texts (a
    /// number that cannot be read cannot be texted either: nothing to list).
    fn suppression(&self, call: &PostCall) -> Option<(&W, OptOutSource, LeadReport)> {
        let list = self.opt_outs.as_ref()?;
        let reason = call.end_reason()?.as_str();
        let raw = call.record_phone_number.as_ref()?;
        self.suppress_texts_on.iter().any(|suppressing| suppressing == reason).then(|| {
            let sent = LeadReport { record_phone_number: raw.clone(), lead: call.lead.clone(), extra: Map::new() };
            (list, OptOutSource::PostCall { end_reason: reason.to_owned() }, sent)
        })
    }

    /// Records the call in `body`, received as `invocation`: `stored`, or `duplicate` when an earlier delivery
    /// stored it; its number listed when its end reason suppresses texts.
    pub async fn record(
        &self,
        body: &[u8],
        invocation: &Invocation,
        summary: &mut RequestSummary,
    ) -> Result<Accepted, NotRecorded> {
        let call: PostCall = parse_json(body)?;
        summary.id = Some(call.id);
        summary.set_kind(call.end_reason().map_or("unspecified", |reason| reason.as_str()));

        // A call record is worth keeping even when its number is odd: store it, just without `phone_e164`.
        let raw_phone = call.record_phone_number.as_deref();
        summary.phone_last4 = raw_phone.map(|raw| phone::last4(raw).to_owned());
        let phone = raw_phone.and_then(|raw| PhoneNumber::parse(raw, self.default_country).ok());

        let suppression = self.suppression(&call);
        // Stored whole; a transcript that would take the item over DynamoDB's 400 KB is stored compressed.
        let id = call.id;
        let item = CallRecord::new(call, phone.as_ref(), invocation.received_at, self.retention).into_item()?;
        let item_bytes = item.size();
        let outcome = match self.calls.store(item).await.map_err(|failure| NotRecorded::Failed(id, failure))? {
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
        // After the record (stored now or before), the number goes on the list. If that fails, recording the call
        // again finds the record stored and tries the list write again.
        if let (Some((list, source, sent)), Some(phone)) = (suppression, phone.as_ref()) {
            let record = OptOutRecord::new(phone, source, Some(id), sent, invocation.received_at);
            let item = Item::new(&record).map_err(WebhookError::from)?;
            if list.add(item).await.map_err(|failure| NotRecorded::Failed(id, failure))? == Listed::Added {
                summary.counts.push(Metric::OptOutListed);
            }
        }
        Ok(Accepted::new(outcome, id))
    }
}

/// The Post-Call webhook: the recorder behind the shared intake, and the fallback queue for what DynamoDB
/// fails to take now.
pub struct PostCallHandler<C, W, Q> {
    intake: Intake,
    recorder: CallRecorder<C, W>,
    queue: Q,
}

impl<C: CallStore, W: OptOutWriter, Q: FallbackQueue> PostCallHandler<C, W, Q> {
    pub fn new(config: PostCallConfig, authenticator: Authenticator, calls: C, opt_outs: Option<W>, queue: Q) -> Self {
        let recorder = CallRecorder::new(&config.common.data, config.suppress_texts_on, calls, opt_outs);
        Self { intake: Intake::new(authenticator, config.common), recorder, queue }
    }

    pub fn calls(&self) -> &C {
        self.recorder.calls()
    }

    pub fn opt_outs(&self) -> Option<&W> {
        self.recorder.opt_outs()
    }

    pub fn queue(&self) -> &Q {
        &self.queue
    }

    /// Puts the delivery on the fallback queue: 202 `queued` once it is there; the dependency's failure (503)
    /// if the queue refuses it too.
    async fn queue_or_fail(
        &self,
        id: WebhookId,
        body: &[u8],
        invocation: &Invocation,
        failure: DependencyError,
        summary: &mut RequestSummary,
    ) -> Result<Accepted, WebhookError> {
        summary.add_error(&failure);
        // Whole transcripts: gzip keeps a large body within the queue's message limit.
        let delivery = QueuedDelivery::new(QueuedFunction::PostCall, id, invocation, QueuedBody::gzipped(body));
        match self.queue.enqueue(&delivery).await {
            Ok(()) => Ok(Accepted { code: StatusCode::ACCEPTED, ..Accepted::new(Outcome::Queued, id) }),
            Err(queue_error) => {
                summary.add_error(&queue_error);
                Err(failure.into())
            }
        }
    }
}

impl<C: CallStore, W: OptOutWriter, Q: FallbackQueue> Webhook for PostCallHandler<C, W, Q> {
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
        match self.recorder.record(body, invocation, summary).await {
            Ok(accepted) => Ok(accepted),
            Err(NotRecorded::Refused(error)) => Err(error),
            Err(NotRecorded::Failed(id, failure)) => self.queue_or_fail(id, body, invocation, failure, summary).await,
        }
    }
}
