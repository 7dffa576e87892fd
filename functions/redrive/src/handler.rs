//! One SQS batch of queued deliveries: each completed with the same rules as the webhook that queued it, or
//! reported failed so SQS delivers it again (and, after the queue's receive limit, moves it to the dead-letter
//! queue). Never dropped.

use crate::config::RedriveConfig;
use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use calls::record::CallStore;
use calls::recorder::{CallRecorder, RECORDER_WORST_CASE};
use calls::transfer::TransferStore;
use leads::event::LeadEventStore;
use leads::recorder::{LEAD_EVENT_WORST_CASE, LeadEventRecorder, LeadPorts};
use std::time::{Duration, Instant};
use texts::ledger::{SmsSender, TextLedger};
use texts::pacing::Pacer;
use texts::sender::{SENDER_WORST_CASE, TextPorts, TextSender};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use webhook::budget::{self, Deadline};
use webhook::error::WebhookError;
use webhook::fallback::{NotDone, QueuedDelivery, QueuedFunction, Redelivery, Report, Work};
use webhook::metrics::{Measurement, Metric, Unit};
use webhook::opt_out::{OptOutLookup, OptOutWriter};
use webhook::opt_out_lister::{LISTER_WORST_CASE, OptOutLister};
use webhook::pipeline::{Accepted, Invocation, answer_of};
use webhook::telemetry::RequestSummary;

pub const FUNCTION: &str = "redrive";

/// The slowest queued delivery to complete, whichever webhook queued it: a message is started only while the
/// invocation's deadline leaves this (and the margin), so a batch never outlasts the function's timeout.
pub const MESSAGE_WORST_CASE: Duration = Duration::from_secs(
    budget::longest(
        SENDER_WORST_CASE,
        budget::longest(RECORDER_WORST_CASE, budget::longest(LISTER_WORST_CASE, LEAD_EVENT_WORST_CASE)),
    )
    .as_secs()
        + REDELIVERY.as_secs(),
);

/// The message given back to the queue for a time (`ChangeMessageVisibility`), after its work.
const REDELIVERY: Duration = budget::CALL;

/// What the redrive talks to: the calls table (records and transfers), the sent-texts table, the SMS provider,
/// the lead-events table, the suppression list (unless disabled) the four kinds of work read or add to, and the
/// fallback queue it consumes.
#[derive(Debug, Clone, Default)]
pub struct RedriveDeps<C, L, S, E, W, Q> {
    pub calls: C,
    pub ledger: L,
    pub lead_events: E,
    pub sms: S,
    pub opt_outs: Option<W>,
    pub queue: Q,
}

/// post-call's, send-text's, text-optout's and lead-events' work, repeated for what they queued.
pub struct RedriveHandler<C, L, S, E, W, Q> {
    calls: CallRecorder<C, W>,
    lead_events: LeadEventRecorder<E, C, W>,
    /// Paced: this instance's share of the sending rate.
    texts: TextSender<L, S, Option<W>>,
    /// Without a list (disabled), a queued opt-out is kept on the queue, then in the dead-letter queue.
    opt_outs: OptOutLister<Option<W>>,
    queue: Q,
    metrics_namespace: String,
}

/// When SQS must deliver again a message whose work ended in an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Again {
    /// Done: a text SNS refused for good is settled (`failed`).
    Never,
    /// At the time the work named: a text outside its lead's legal hours, or held back by the sending rate.
    At(OffsetDateTime),
    /// After the queue's visibility timeout: a dependency failed. Any other refusal is kept for a person to look
    /// at: the webhook checked the body before queueing it, so only a changed rule refuses it now (it reaches the
    /// dead-letter queue).
    AfterTimeout,
}

fn again(error: &WebhookError) -> Again {
    match error {
        WebhookError::SmsRefused => Again::Never,
        WebhookError::NotYet { until } => Again::At(*until),
        _ => Again::AfterTimeout,
    }
}

impl<C, L, S, E, W, Q> RedriveHandler<C, L, S, E, W, Q>
where
    C: CallStore + TransferStore + Clone,
    E: LeadEventStore,
    L: TextLedger,
    S: SmsSender,
    W: OptOutWriter + OptOutLookup + Clone,
    Q: Redelivery,
{
    pub fn new(config: &RedriveConfig, deps: RedriveDeps<C, L, S, E, W, Q>) -> Self {
        let RedriveDeps { calls, ledger, sms, lead_events, opt_outs, queue } = deps;
        let data = &config.data;
        let texts = TextSender::new(data, &config.texts, TextPorts { ledger, sms, opt_outs: opt_outs.clone() });
        let lead_ports = LeadPorts { events: lead_events, transfers: calls.clone(), opt_outs: opt_outs.clone() };
        Self {
            lead_events: LeadEventRecorder::new(data, &config.leads, lead_ports),
            calls: CallRecorder::new(data, &config.calls, calls, opt_outs.clone()),
            texts: texts.paced(Pacer::new(config.pacing)),
            opt_outs: OptOutLister::new(opt_outs, data.default_country),
            queue,
            metrics_namespace: data.metrics_namespace.clone(),
        }
    }

    /// Completes each message of the batch, one after another, with one summary log line (and its metrics) each;
    /// the response names those SQS must deliver again. `request_id`: this invocation's. Once `deadline` leaves
    /// too little time for another message, the rest are not started: named for SQS to deliver again.
    pub async fn handle(&self, event: &SqsEvent, request_id: &str, deadline: Deadline) -> SqsBatchResponse {
        let mut response = SqsBatchResponse::default();
        for (index, message) in event.records.iter().enumerate() {
            if !deadline.leaves(MESSAGE_WORST_CASE) {
                let left: Vec<&str> =
                    event.records[index..].iter().map(|rest| rest.message_id.as_deref().unwrap_or_default()).collect();
                tracing::warn!(
                    function = FUNCTION,
                    request_id,
                    not_started = left.len(),
                    "too little time left for another queued delivery; SQS delivers the rest again"
                );
                left.into_iter().for_each(|message_id| response.add_failure(message_id));
                break;
            }
            let started = Instant::now();
            // Claims a text as this attempt: unique per message and invocation, so a later attempt (or a duplicate
            // of the message in the batch) never takes an earlier attempt's claim for its own.
            let attempt = format!("{request_id}/{index}");
            let mut summary = RequestSummary { request_id: Some(attempt.clone()), ..RequestSummary::default() };
            let result = self.redrive(message, attempt, deadline, &mut summary).await;
            let again = result.as_ref().err().map_or(Again::Never, again);
            if let Again::At(until) = again {
                let after = Duration::try_from(until - OffsetDateTime::now_utc()).unwrap_or(Duration::ZERO);
                let (queue, receipt) = (message.event_source_arn.as_deref(), message.receipt_handle.as_deref());
                let redelivery =
                    self.queue.deliver_again_after(queue.unwrap_or_default(), receipt.unwrap_or_default(), after);
                // If it fails, SQS delivers the message again after the queue's visibility timeout.
                summary.note(redelivery.await);
            }
            let (status, outcome, _) = answer_of(result, &mut summary);
            summary.log(FUNCTION, outcome, status.as_u16(), started.elapsed(), &self.metrics_namespace);
            if again != Again::Never {
                let message_id = message.message_id.as_deref().unwrap_or_default();
                tracing::warn!(function = FUNCTION, message_id, "queued delivery not completed; SQS delivers it again");
                response.add_failure(message_id);
            }
        }
        response
    }

    /// The queued delivery's work, done as the delivery that queued it would have: its answer, or why it must
    /// be tried again.
    async fn redrive(
        &self,
        message: &SqsMessage,
        attempt: String,
        deadline: Deadline,
        summary: &mut RequestSummary,
    ) -> Result<Accepted, WebhookError> {
        let unreadable = |why: &str| WebhookError::Malformed { message: format!("queued message: {why}"), field: None };
        let delivery = message
            .body
            .as_deref()
            .and_then(|body| serde_json::from_str::<QueuedDelivery>(body).ok())
            .ok_or_else(|| unreadable("not a queued delivery"))?;
        let body = delivery.body.decode().ok_or_else(|| unreadable("its body does not decode"))?;
        let received_at = OffsetDateTime::parse(&delivery.received_at, &Rfc3339)
            .map_err(|_| unreadable("its received_at is not RFC 3339"))?;
        let invocation = Invocation { request_id: attempt, received_at, deadline, route: delivery.route.clone() };
        let queued_by = delivery.request_id.as_str();
        let accepted = match delivery.function {
            QueuedFunction::PostCall => complete(&self.calls, &body, &invocation, queued_by, summary).await?,
            QueuedFunction::SendText => complete(&self.texts, &body, &invocation, queued_by, summary).await?,
            QueuedFunction::TextOptOut => complete(&self.opt_outs, &body, &invocation, queued_by, summary).await?,
            QueuedFunction::LeadEvents => complete(&self.lead_events, &body, &invocation, queued_by, summary).await?,
        };
        summary.measurements.push(Measurement {
            metric: Metric::Redriven,
            unit: Unit::Count,
            value: 1,
            dimensions: vec![("queued_by", delivery.function.as_str())],
        });
        Ok(accepted)
    }
}

/// `work` done for the queued `body` as the delivery that queued it (`queued_by`) would have: its answer, or,
/// when a dependency failed again, what it held given back (the next attempt, or 2X's own retry, does it) and
/// the failure, for SQS to deliver the message again.
async fn complete<W: Work>(
    work: &W,
    body: &[u8],
    invocation: &Invocation,
    queued_by: &str,
    summary: &mut RequestSummary,
) -> Result<Accepted, WebhookError> {
    match work.run(body, invocation, Some(queued_by)).await.record(summary) {
        Ok(accepted) => Ok(accepted),
        Err(NotDone::Refused(error)) => Err(error),
        Err(NotDone::Failed { error, held, .. }) => {
            summary.note(work.settle(held, false, invocation).await);
            Err(error.into())
        }
        // Given back and left on the queue, for the next free instance in a moment.
        Err(NotDone::Throttled { error, held, again_in, .. }) => {
            summary.add_error(&error);
            summary.note(work.settle(held, false, invocation).await);
            Err(WebhookError::NotYet { until: OffsetDateTime::now_utc() + again_in })
        }
        // Left on the queue until then, and the work decides again.
        Err(NotDone::Deferred { until, .. }) => Err(WebhookError::NotYet { until }),
    }
}
