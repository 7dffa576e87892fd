//! The lead-event work: read the route and the body; for a transfer, set it on its call; for any other event,
//! put the number on the suppression list first when the lead said stop (or 2X classified the text so), then
//! store the event once. [`LeadEventRecorder`] is what lead-events' webhook does for each delivery and the
//! redrive for each queued one. Generic over its ports.

use crate::event::{EventStored, LeadEventRecord, LeadEventStore, LeadRoute};
use crate::opt_out_words::opt_out_word;
use crate::settings::LeadSettings;
use calls::transfer::{TransferRecord, TransferStore};
use std::time::Duration;
use webhook::budget;
use webhook::config::{DataSettings, Retention, SuppressingValues};
use webhook::error::{Refusal, WebhookError};
use webhook::fallback::{NotDone, QueuedFunction, Report, Work};
use webhook::metrics::{Metric, Outcome};
use webhook::opt_out::{Listed, OptOutRecord, OptOutSource, OptOutWriter};
use webhook::payload::{
    Fields, WebhookId, lead_fields, parse_object, phone_text, required_id, required_phone, text_of,
};
use webhook::phone::{self, CountryCode, PhoneNumber};
use webhook::pipeline::{Accepted, Invocation};
use webhook::telemetry::RequestSummary;

/// The slowest lead event the recorder completes: the number listed, then the event stored.
pub const LEAD_EVENT_WORST_CASE: Duration = budget::calls(2, 0);

/// Keeps 2X's lead events once each, lists the numbers of leads who said stop, sets transfers on their calls.
pub struct LeadEventRecorder<E, T, W> {
    events: E,
    transfers: T,
    /// The suppression list, unless disabled.
    opt_outs: Option<W>,
    suppress_texts_on: SuppressingValues,
    default_country: CountryCode,
    retention: Option<Retention>,
}

/// The ports the recorder writes to.
#[derive(Debug, Clone, Default)]
pub struct LeadPorts<E, T, W> {
    /// The lead-events table.
    pub events: E,
    /// The calls table, for transfers.
    pub transfers: T,
    /// The suppression list, unless disabled.
    pub opt_outs: Option<W>,
}

impl<E: LeadEventStore, T: TransferStore, W: OptOutWriter> LeadEventRecorder<E, T, W> {
    pub fn new(data: &DataSettings, settings: &LeadSettings, ports: LeadPorts<E, T, W>) -> Self {
        let LeadPorts { events, transfers, opt_outs } = ports;
        Self {
            events,
            transfers,
            opt_outs,
            suppress_texts_on: settings.suppress_texts_on_classifications.clone(),
            default_country: data.default_country,
            retention: data.retention,
        }
    }

    /// Why the event says the lead opted out: the lead's `message` in opt-out words, else a classification
    /// listed in `SUPPRESS_TEXTS_ON_CLASSIFICATIONS`.
    fn opt_out_source(&self, route: LeadRoute, fields: &Fields) -> Option<OptOutSource> {
        if route == LeadRoute::InboundCall {
            return None;
        }
        if let Some(word) = text_of(fields.get("message")).and_then(opt_out_word) {
            return Some(OptOutSource::Reply { word });
        }
        let classification = text_of(fields.get("classification")).filter(|_| route == LeadRoute::TextClassification);
        classification.filter(|class| self.suppress_texts_on.suppresses(class)).map(|class| {
            OptOutSource::Classification { classification: class.to_ascii_lowercase().replace(['-', ' '], "_") }
        })
    }

    /// Sets the transfer in `fields` on its call.
    async fn transfer(&self, mut fields: Fields, invocation: &Invocation) -> Result<Accepted, NotDone> {
        let id = required_id(&fields)?;
        fields.remove("id");
        let item = TransferRecord::new(id, fields, invocation.received_at, self.retention).into_item();
        let item = item.map_err(WebhookError::from)?;
        self.transfers.set_transfer(id, item).await.map_err(|error| NotDone::Failed {
            id: Some(id),
            error,
            held: (),
        })?;
        Ok(Accepted::new(Outcome::Stored, id))
    }

    /// Lists the number when the lead said stop, then stores the event `kind` whose body is `fields`.
    async fn event(
        &self,
        route: LeadRoute,
        kind: &'static str,
        fields: Fields,
        invocation: &Invocation,
        listed: &mut Option<Listed>,
    ) -> Result<Accepted, NotDone> {
        let id = fields.get("id").and_then(WebhookId::read);
        let raw = required_phone(&fields)?;
        let phone = PhoneNumber::parse(&raw, self.default_country).map_err(|error| WebhookError::Unprocessable {
            message: error.to_string(),
            field: Some("record_phone_number".into()),
            refusal: Refusal::InvalidPhone,
        })?;
        let source = self.opt_out_source(route, &fields);
        let failed = |error| NotDone::Failed { id, error, held: () };
        if let (Some(source), Some(list)) = (&source, &self.opt_outs) {
            let listing = OptOutRecord::new(&phone, source.clone(), None, lead_fields(&fields), invocation.received_at);
            let item = listing.into_item().map_err(WebhookError::from)?;
            *listed = Some(list.add(item).await.map_err(failed)?);
        }
        // Noted on the event only when the number was listed (with the list disabled, nothing was).
        let source = source.filter(|_| listed.is_some()).map(|source| source.to_string());
        let record = LeadEventRecord::new(&phone, kind, fields, source, invocation.received_at, self.retention);
        let stored = self.events.store(record.into_item().map_err(WebhookError::from)?).await.map_err(failed)?;
        let outcome = match (listed.is_some(), stored) {
            (true, _) => Outcome::OptedOut,
            (false, EventStored::Stored) => Outcome::Stored,
            (false, EventStored::AlreadyStored) => Outcome::Duplicate,
        };
        Ok(Accepted { id, ..Accepted::without_id(outcome) })
    }
}

/// What the recorder did with one delivery.
#[derive(Debug)]
pub struct LeadEventReport {
    route: Option<LeadRoute>,
    phone_last4: Option<String>,
    /// Whether the number was put on the list now, or was on it already, when the lead said stop.
    listed: Option<Listed>,
    answer: Result<Accepted, NotDone>,
}

impl Report for LeadEventReport {
    type Held = ();

    fn record(self, summary: &mut RequestSummary) -> Result<Accepted, NotDone> {
        if let Some(route) = self.route {
            summary.set_kind(route.as_str());
        }
        summary.phone_last4 = self.phone_last4;
        if let Ok(accepted) = &self.answer {
            summary.id = accepted.id;
        }
        if self.listed == Some(Listed::Added) {
            summary.counts.push(Metric::OptOutListed);
        }
        self.answer
    }
}

impl<E: LeadEventStore, T: TransferStore, W: OptOutWriter> Work for LeadEventRecorder<E, T, W> {
    const FUNCTION: QueuedFunction = QueuedFunction::LeadEvents;
    type Held = ();
    type Report = LeadEventReport;

    /// Records the event in `body`, delivered to `invocation.route`: `opted_out` when the lead said stop (the
    /// number listed first), else `stored`, or `duplicate` when the same body was stored before; a transfer is
    /// `stored` on its call.
    async fn run(&self, body: &[u8], invocation: &Invocation, _queued_by: Option<&str>) -> LeadEventReport {
        let route = LeadRoute::parse(&invocation.route);
        let mut listed = None;
        let (phone_last4, answer) = match (route, parse_object(body)) {
            (None, _) => (None, Err(WebhookError::UnknownRoute.into())),
            (Some(_), Err(error)) => (None, Err(error.into())),
            (Some(route), Ok(fields)) => {
                let raw_phone = fields.get("record_phone_number").and_then(phone_text);
                let phone_last4 = raw_phone.as_deref().map(|raw| phone::last4(raw).to_owned());
                let answer = match route.event_kind() {
                    None => self.transfer(fields, invocation).await,
                    Some(kind) => self.event(route, kind, fields, invocation, &mut listed).await,
                };
                (phone_last4, answer)
            }
        };
        LeadEventReport { route, phone_last4, listed, answer }
    }
}
