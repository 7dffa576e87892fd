//! The durable fallback: a delivery we could not complete now (DynamoDB or SNS failing after the SDK's retries)
//! is put on a queue with everything needed to complete it later, and answered 202 `queued`; the `redrive`
//! function completes it with the same at-most-once rules.

use crate::error::{DependencyError, WebhookError};
use crate::item::rfc3339;
use crate::metrics::Outcome;
use crate::payload::WebhookId;
use crate::pipeline::{Accepted, Intake, Invocation, Webhook};
use crate::telemetry::RequestSummary;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use lambda_http::http::StatusCode;
use serde::{Deserialize, Serialize};
use std::future::Future;
use std::io::{Read, Write};
use std::time::Duration;
use time::OffsetDateTime;

/// Which function's work a queued delivery is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum QueuedFunction {
    #[serde(rename = "post-call")]
    PostCall,
    #[serde(rename = "send-text")]
    SendText,
    #[serde(rename = "text-optout")]
    TextOptOut,
    #[serde(rename = "lead-events")]
    LeadEvents,
}

impl QueuedFunction {
    /// The function's name, as it logs it.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::PostCall => "post-call",
            Self::SendText => "send-text",
            Self::TextOptOut => "text-optout",
            Self::LeadEvents => "lead-events",
        }
    }
}

/// The body as received, in a form SQS accepts whatever it holds (SQS refuses some Unicode code points in a
/// message): base64, of the gzip of the body when the function compressed it (post-call's transcripts).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "encoding", content = "data", rename_all = "kebab-case")]
pub enum QueuedBody {
    Base64(String),
    GzipBase64(String),
}

impl QueuedBody {
    pub fn plain(body: &[u8]) -> Self {
        Self::Base64(STANDARD.encode(body))
    }

    /// `body` gzipped: what keeps a large body (post-call's transcripts) within the queue's message limit.
    pub fn gzipped(body: &[u8]) -> Self {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
        // Writing into a Vec cannot fail.
        let _ = encoder.write_all(body);
        Self::GzipBase64(STANDARD.encode(encoder.finish().unwrap_or_default()))
    }

    /// The body as received; `None` if the data is not what its encoding says.
    pub fn decode(&self) -> Option<Vec<u8>> {
        match self {
            Self::Base64(data) => STANDARD.decode(data).ok(),
            Self::GzipBase64(data) => {
                let gzip = STANDARD.decode(data).ok()?;
                let mut body = Vec::new();
                GzDecoder::new(gzip.as_slice()).read_to_end(&mut body).ok()?;
                Some(body)
            }
        }
    }
}

/// A delivery to complete later: what it was, when it arrived, which request received it, its body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueuedDelivery {
    pub function: QueuedFunction,
    /// The webhook's id, when it has one (2X's Text Opt-out has none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<WebhookId>,
    /// The Lambda request id of the delivery that queued it (a send-text claim it holds names it).
    pub request_id: String,
    /// RFC 3339: a text is judged too old to send by it.
    pub received_at: String,
    /// RFC 3339: not to be done before (the queue delays it, up to SQS's 15 minutes a time).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_before: Option<String>,
    /// The route it was delivered to: which webhook, for a function that serves several (lead-events).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub route: String,
    pub body: QueuedBody,
}

impl QueuedDelivery {
    /// The delivery `invocation` received, of webhook `id`, to be completed later by `function`'s rules.
    pub fn new(function: QueuedFunction, id: Option<WebhookId>, invocation: &Invocation, body: QueuedBody) -> Self {
        let (request_id, received_at) = (invocation.request_id.clone(), rfc3339(invocation.received_at));
        let route = invocation.route.clone();
        Self { function, id, request_id, received_at, not_before: None, route, body }
    }
}

/// The fallback queue. `None`: not configured (a failure is answered 503 as without a queue).
pub trait FallbackQueue: Send + Sync {
    fn enqueue(&self, delivery: &QueuedDelivery) -> impl Future<Output = Result<(), DependencyError>> + Send;
}

impl<Q: FallbackQueue> FallbackQueue for Option<Q> {
    async fn enqueue(&self, delivery: &QueuedDelivery) -> Result<(), DependencyError> {
        match self {
            Some(queue) => queue.enqueue(delivery).await,
            None => Err(DependencyError::new("fallback queue", "not configured")),
        }
    }
}

/// The fallback queue as its consumer (the redrive) sees it: a message it received, delivered again at a time
/// the work names rather than after the queue's visibility timeout.
pub trait Redelivery: Send + Sync {
    /// Makes the message `receipt_handle`, received from the queue `queue_arn`, visible again `after` from now.
    fn deliver_again_after(
        &self,
        queue_arn: &str,
        receipt_handle: &str,
        after: Duration,
    ) -> impl Future<Output = Result<(), DependencyError>> + Send;
}

/// Why a delivery's work was not done. `Held`: what the work still holds when a dependency failed (send-text's
/// claim on the text), settled once the fallback queue has answered ([`Work::settle`]).
#[derive(Debug)]
pub enum NotDone<Held = ()> {
    /// The body can never be done as it is (4xx), or another delivery is doing it now (409).
    Refused(WebhookError),
    /// A dependency failed (after the SDK's retries): doing the work again later completes it. The webhook's id,
    /// when it has one.
    Failed { id: Option<WebhookId>, error: DependencyError, held: Held },
    /// The sending rate refused it (SNS throttled a text): done again as soon as the rate allows, from the queue;
    /// the redrive's pace says when (`again_in`).
    Throttled { id: Option<WebhookId>, error: DependencyError, held: Held, again_in: Duration },
    /// Not to be done before `until` (a text outside its lead's legal hours): done then, from the queue.
    Deferred { id: Option<WebhookId>, until: OffsetDateTime },
}

impl<Held> From<WebhookError> for NotDone<Held> {
    fn from(error: WebhookError) -> Self {
        Self::Refused(error)
    }
}

/// A webhook's work (post-call's recorder, send-text's sender, text-optout's lister): what the webhook does for
/// a delivery, and the redrive for the same delivery queued. Its rules return what happened ([`Report`]) and
/// never touch telemetry; the pipeline records the report.
pub trait Work: Send + Sync {
    /// Whose work it is: the function that queues it, as the redrive knows it.
    const FUNCTION: QueuedFunction;

    /// What a failed run still holds, to settle once the queue has answered.
    type Held: Send;

    /// What a run comes to.
    type Report: Report<Held = Self::Held>;

    /// Does the work for `body`, received as `invocation`. `queued_by`: when the redrive does it, the request id
    /// of the delivery that queued it.
    fn run(
        &self,
        body: &[u8],
        invocation: &Invocation,
        queued_by: Option<&str>,
    ) -> impl Future<Output = Self::Report> + Send;

    /// The body as the fallback queue keeps it.
    fn queued_body(body: &[u8]) -> QueuedBody {
        QueuedBody::plain(body)
    }

    /// Settles what a failed run held: `queued`, the delivery is on the fallback queue; otherwise it is not, and
    /// whatever was held is given back so that a later delivery can do the work. By default nothing is held. A
    /// failure to settle is the caller's to note: the answer stands either way.
    fn settle(
        &self,
        held: Self::Held,
        queued: bool,
        invocation: &Invocation,
    ) -> impl Future<Output = Result<(), DependencyError>> + Send {
        let _ = (held, queued, invocation);
        async { Ok(()) }
    }
}

/// What one run of a [`Work`] came to: everything its answer, its summary line and its metrics are made from.
pub trait Report: Send {
    /// What a failed run still holds.
    type Held;

    /// Writes what happened on `summary` (who the delivery is about, the AWS calls that failed without deciding
    /// the answer, what the run counted and measured) and gives the answer.
    fn record(self, summary: &mut RequestSummary) -> Result<Accepted, NotDone<Self::Held>>;
}

/// The report of a work that holds nothing and has nothing to record but its answer and the number it was about.
#[derive(Debug)]
pub struct Answered {
    /// The last four digits of the number as sent, once the body was read.
    pub phone_last4: Option<String>,
    pub answer: Result<Accepted, NotDone>,
}

impl Report for Answered {
    type Held = ();

    fn record(self, summary: &mut RequestSummary) -> Result<Accepted, NotDone> {
        summary.phone_last4 = self.phone_last4;
        self.answer
    }
}

/// A webhook whose work, when a dependency fails, is put on the fallback queue for the redrive: 202 `queued`
/// once it is there (the failure noted on the summary); the failure (503, for 2X to deliver again) if the queue
/// refuses it too.
pub struct QueueingWebhook<W, Q> {
    intake: Intake,
    work: W,
    queue: Q,
}

impl<W: Work, Q: FallbackQueue> QueueingWebhook<W, Q> {
    pub fn new(intake: Intake, work: W, queue: Q) -> Self {
        Self { intake, work, queue }
    }
}

impl<W: Work, Q: FallbackQueue> Webhook for QueueingWebhook<W, Q> {
    const FUNCTION: &'static str = W::FUNCTION.as_str();

    fn intake(&self) -> &Intake {
        &self.intake
    }

    async fn process(
        &self,
        body: &[u8],
        invocation: &Invocation,
        summary: &mut RequestSummary,
    ) -> Result<Accepted, WebhookError> {
        let (id, failure, held, not_before) = match self.work.run(body, invocation, None).await.record(summary) {
            Ok(accepted) => return Ok(accepted),
            Err(NotDone::Refused(error)) => return Err(error),
            Err(NotDone::Failed { id, error, held }) => (id, Some(error), Some(held), None),
            // Waiting for a time, not for a dependency: counted apart.
            Err(NotDone::Throttled { id, error, held, .. }) => {
                summary.add_error(&error);
                (id, None, Some(held), None)
            }
            Err(NotDone::Deferred { id, until }) => (id, None, None, Some(rfc3339(until))),
        };
        let delivery =
            QueuedDelivery { not_before, ..QueuedDelivery::new(W::FUNCTION, id, invocation, W::queued_body(body)) };
        let enqueued = self.queue.enqueue(&delivery).await;
        let answer = match (enqueued, failure) {
            (Ok(()), Some(failure)) => {
                summary.add_error(&failure);
                Ok(queued(delivery.id))
            }
            (Ok(()), None) => Ok(Accepted { outcome: Outcome::Waiting, ..queued(delivery.id) }),
            (Err(queue_error), Some(failure)) => {
                summary.add_error(&queue_error);
                Err(failure.into())
            }
            (Err(queue_error), None) => Err(queue_error.into()),
        };
        if let Some(held) = held {
            summary.note(self.work.settle(held, answer.is_ok(), invocation).await);
        }
        answer
    }
}

/// A delivery not done now, waiting on the fallback queue for the redrive.
pub fn queued(id: Option<WebhookId>) -> Accepted {
    Accepted { code: StatusCode::ACCEPTED, outcome: Outcome::Queued, id, message_id: None }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_queued_delivery_is_plain_ascii_json_whatever_the_body_holds() {
        let body = "{\"id\": 7, \"message\": \"\u{FFFE}\u{0} 📞\"}".as_bytes();
        let delivery = QueuedDelivery {
            function: QueuedFunction::SendText,
            id: Some(WebhookId::new(7)),
            request_id: "req-1".into(),
            received_at: "2026-11-24T09:00:00Z".into(),
            not_before: None,
            route: String::new(),
            body: QueuedBody::plain(body),
        };
        let message = serde_json::to_string(&delivery).unwrap();
        assert!(message.is_ascii(), "{message}");
        let value: serde_json::Value = serde_json::from_str(&message).unwrap();
        assert_eq!(value["function"], "send-text");
        assert_eq!(value["body"], json!({"encoding": "base64", "data": STANDARD.encode(body)}));
        assert_eq!(serde_json::from_str::<QueuedDelivery>(&message).unwrap(), delivery);
        assert_eq!(delivery.body.decode().unwrap(), body);

        let opt_out = QueuedDelivery { function: QueuedFunction::TextOptOut, id: None, ..delivery };
        let message = serde_json::to_value(&opt_out).unwrap();
        assert_eq!((&message["function"], message.get("id")), (&json!("text-optout"), None));
        assert_eq!(serde_json::from_value::<QueuedDelivery>(message).unwrap(), opt_out);
    }

    #[test]
    fn a_gzipped_body_decodes_to_the_body_as_received_and_a_broken_one_to_none() {
        let body = "{\"transcript\": [\"Hello?\"]}".repeat(100);
        let queued = QueuedBody::gzipped(body.as_bytes());
        assert!(matches!(&queued, QueuedBody::GzipBase64(data) if data.len() < body.len() / 4));
        assert_eq!(queued.decode().unwrap(), body.as_bytes());
        assert_eq!(QueuedBody::GzipBase64(STANDARD.encode(b"not gzip")).decode(), None);
        assert_eq!(QueuedBody::Base64("not base64!".into()).decode(), None);
    }
}
