//! The call work: parse; list a suppressed number first, on its own; build the call's item once; store it unless
//! the id is stored already. [`CallRecorder`] is what post-call's webhook does for each delivery and the redrive
//! for each queued one. Generic over its ports.

use crate::record::{CallRecord, CallStore, StoreOutcome, end_reason};
use crate::settings::CallSettings;
use std::time::Duration;
use webhook::budget;
use webhook::config::SuppressingValues;
use webhook::config::{DataSettings, Retention};
use webhook::error::WebhookError;
use webhook::fallback::{NotDone, QueuedBody, QueuedFunction, Report, Work};
use webhook::metrics::{Measurement, Metric, Outcome, Unit};
use webhook::opt_out::{Listed, OptOutRecord, OptOutSource, OptOutWriter};
use webhook::payload::{Fields, WebhookId, lead_fields, parse_object, phone_text, required_id};
use webhook::phone::{self, CountryCode, PhoneNumber};
use webhook::pipeline::{Accepted, Invocation};
use webhook::telemetry::RequestSummary;

/// The slowest call record the recorder completes: the number listed, then the record stored (twice when its
/// transfer came first: `CallStore::store`).
pub const RECORDER_WORST_CASE: Duration = budget::calls(3, 0);

/// Stores each call record once, keyed by its webhook id; a call whose end reason suppresses texts puts the
/// lead's number on the suppression list first.
pub struct CallRecorder<C, W> {
    calls: C,
    /// The suppression list, unless disabled.
    opt_outs: Option<W>,
    suppress_texts_on: SuppressingValues,
    default_country: CountryCode,
    retention: Option<Retention>,
}

impl<C: CallStore, W: OptOutWriter> CallRecorder<C, W> {
    /// `opt_outs`: the suppression list, unless disabled.
    pub fn new(data: &DataSettings, settings: &CallSettings, calls: C, opt_outs: Option<W>) -> Self {
        Self {
            calls,
            opt_outs,
            suppress_texts_on: settings.suppress_texts_on.clone(),
            default_country: data.default_country,
            retention: data.retention,
        }
    }

    /// Lists `phone` when the call's end reason suppresses texts: from the number and what 2X sent about the lead
    /// alone, before the call record is even built, so that nothing else in the body, and no failure to store
    /// it, can delay or prevent the listing. `None`: not to be listed.
    async fn list_if_suppressed(
        &self,
        fields: &Fields,
        phone: Option<&PhoneNumber>,
        id: Option<WebhookId>,
        invocation: &Invocation,
    ) -> Option<Result<Listed, NotDone>> {
        let (Some(list), Some(reason), Some(phone)) = (self.opt_outs.as_ref(), end_reason(fields), phone) else {
            return None;
        };
        if !self.suppress_texts_on.suppresses(reason) {
            return None;
        }
        let source = OptOutSource::PostCall { end_reason: reason.to_ascii_lowercase() };
        let record = OptOutRecord::new(phone, source, id, lead_fields(fields), invocation.received_at);
        let listed = match record.into_item() {
            Ok(item) => list.add(item).await.map_err(|error| NotDone::Failed { id, error, held: () }),
            Err(unstorable) => Err(WebhookError::from(unstorable).into()),
        };
        Some(listed)
    }

    /// Stores the call `id` (when usable) whose fields but `id` are `fields`, whole; a transcript that would take
    /// the item over DynamoDB's 400 KB is stored compressed.
    async fn store(
        &self,
        id: Result<WebhookId, WebhookError>,
        fields: Fields,
        phone: Option<&PhoneNumber>,
        invocation: &Invocation,
    ) -> Result<StoreAnswer, NotDone> {
        let id = id?;
        let item = CallRecord::new(id, fields, phone, invocation.received_at, self.retention).into_item()?;
        let item_bytes = item.size();
        let outcome =
            self.calls.store(item).await.map_err(|error| NotDone::Failed { id: Some(id), error, held: () })?;
        Ok(StoreAnswer { id, outcome, item_bytes })
    }
}

/// What the store answered for a call record.
#[derive(Debug)]
pub struct StoreAnswer {
    id: WebhookId,
    outcome: StoreOutcome,
    /// The item's size, as DynamoDB counts it.
    item_bytes: usize,
}

/// What the recorder did with one delivery.
#[derive(Debug)]
pub struct CallReport {
    /// The end reason as sent (clipped by the summary), or `unspecified`; `None` when the body was not read.
    end_reason: Option<String>,
    phone_last4: Option<String>,
    id: Option<WebhookId>,
    /// The number listed (or already on the list), when the end reason suppresses texts.
    listing: Option<Result<Listed, NotDone>>,
    stored: Result<StoreAnswer, NotDone>,
}

impl Report for CallReport {
    type Held = ();

    fn record(self, summary: &mut RequestSummary) -> Result<Accepted, NotDone> {
        if let Some(end_reason) = &self.end_reason {
            summary.set_kind(end_reason);
        }
        (summary.phone_last4, summary.id) = (self.phone_last4, self.id);
        if let Some(Ok(Listed::Added)) = self.listing {
            summary.counts.push(Metric::OptOutListed);
        }
        if let Ok(StoreAnswer { outcome: StoreOutcome::Stored, item_bytes, .. }) = &self.stored {
            summary.measurements.push(Measurement {
                metric: Metric::StoredItemBytes,
                unit: Unit::Bytes,
                value: u64::try_from(*item_bytes).unwrap_or(u64::MAX),
                dimensions: vec![],
            });
        }
        // The listing is what compliance depends on: a delivery whose listing failed is queued (503 without a
        // queue) whatever became of its record, and the redrive lists the number. A body whose record can never
        // be stored then goes on to the dead-letter queue, kept for a person.
        if let Some(Err(listing_failed)) = self.listing {
            if let Err(NotDone::Failed { error, .. }) = &self.stored {
                summary.add_error(error);
            }
            return Err(listing_failed);
        }
        let StoreAnswer { id, outcome, .. } = self.stored?;
        let outcome = match outcome {
            StoreOutcome::Stored => Outcome::Stored,
            StoreOutcome::AlreadyStored => Outcome::Duplicate,
        };
        Ok(Accepted::new(outcome, id))
    }
}

impl<C: CallStore, W: OptOutWriter> Work for CallRecorder<C, W> {
    const FUNCTION: QueuedFunction = QueuedFunction::PostCall;
    type Held = ();
    type Report = CallReport;

    /// Records the call in `body`, received as `invocation`: its number listed first when its end reason
    /// suppresses texts; then `stored`, or `duplicate` when an earlier delivery stored it.
    async fn run(&self, body: &[u8], invocation: &Invocation, _queued_by: Option<&str>) -> CallReport {
        let mut fields = match parse_object(body) {
            Ok(fields) => fields,
            Err(error) => {
                let (end_reason, phone_last4, id, listing) = (None, None, None, None);
                return CallReport { end_reason, phone_last4, id, listing, stored: Err(error.into()) };
            }
        };
        let end_reason = Some(end_reason(&fields).unwrap_or("unspecified").to_owned());
        // A call record is worth keeping even when its number is odd: store it, just without `phone_e164`.
        let raw_phone = fields.get("record_phone_number").and_then(phone_text);
        let phone_last4 = raw_phone.as_deref().map(|raw| phone::last4(raw).to_owned());
        let phone = raw_phone.and_then(|raw| PhoneNumber::parse(&raw, self.default_country).ok());
        let id = required_id(&fields);
        let usable_id = id.as_ref().ok().copied();

        // Listed even for a body without a usable id, or too large to store, and whether or not the calls table
        // takes the record.
        let listing = self.list_if_suppressed(&fields, phone.as_ref(), usable_id, invocation).await;
        fields.remove("id");
        let stored = self.store(id, fields, phone.as_ref(), invocation).await;
        CallReport { end_reason, phone_last4, id: usable_id, listing, stored }
    }

    /// Whole transcripts: gzip keeps a large body within the queue's message limit.
    fn queued_body(body: &[u8]) -> QueuedBody {
        QueuedBody::gzipped(body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use webhook::error::DependencyError;

    fn report(listing: Option<Result<Listed, NotDone>>, stored: Result<StoreAnswer, NotDone>) -> CallReport {
        let (end_reason, phone_last4, id) =
            (Some("do_not_call".to_owned()), Some("0188".to_owned()), Some(WebhookId::new(126)));
        CallReport { end_reason, phone_last4, id, listing, stored }
    }

    fn stored() -> Result<StoreAnswer, NotDone> {
        Ok(StoreAnswer { id: WebhookId::new(126), outcome: StoreOutcome::Stored, item_bytes: 2048 })
    }

    // The rules return what happened; recording it is a pure function of the report, tested here without ports.
    #[test]
    fn a_stored_call_is_measured_whether_or_not_its_listing_failed() {
        let mut summary = RequestSummary::default();
        let accepted = report(Some(Ok(Listed::Added)), stored()).record(&mut summary);
        assert!(matches!(accepted, Ok(Accepted { outcome: Outcome::Stored, .. })));
        assert_eq!(summary.counts, [Metric::OptOutListed]);
        assert_eq!((summary.kind.as_deref(), summary.phone_last4.as_deref()), (Some("do_not_call"), Some("0188")));

        let mut summary = RequestSummary::default();
        let listing_failed = NotDone::Failed { id: None, error: DependencyError::new("list", "failed"), held: () };
        let queued = report(Some(Err(listing_failed)), stored()).record(&mut summary);
        assert!(matches!(queued, Err(NotDone::Failed { .. })), "the listing is done again, by the redrive");
        let measured: Vec<_> = summary.measurements.iter().map(|measured| (measured.metric, measured.value)).collect();
        assert_eq!(measured, [(Metric::StoredItemBytes, 2048)], "the record was stored, and measured once");
        assert!(summary.counts.is_empty() && summary.errors.is_empty());
    }

    #[test]
    fn when_both_fail_the_listing_is_answered_and_the_stores_failure_noted() {
        let mut summary = RequestSummary::default();
        let failure =
            |operation| NotDone::Failed { id: None, error: DependencyError::new(operation, "failed"), held: () };
        let answer = report(Some(Err(failure("list"))), Err(failure("store"))).record(&mut summary);
        assert!(
            matches!(answer, Err(NotDone::Failed { error, .. }) if error == DependencyError::new("list", "failed"))
        );
        assert_eq!(summary.errors, [DependencyError::new("store", "failed").to_string()]);
    }
}
