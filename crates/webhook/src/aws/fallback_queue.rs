//! The fallback queue on SQS: what the webhooks put on it, and the redrive's redelivery of what it received.

use super::dependency_error;
use crate::error::DependencyError;
use crate::fallback::{FallbackQueue, QueuedDelivery, Redelivery};
use aws_config::SdkConfig;
use aws_sdk_sqs::Client;
use std::time::Duration;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// `FALLBACK_QUEUE_URL`: a standard queue (at-least-once; the redrive's own rules make repeats harmless).
#[derive(Debug, Clone)]
pub struct SqsFallbackQueue {
    client: Client,
    queue_url: String,
}

impl SqsFallbackQueue {
    pub fn new(sdk: &SdkConfig, queue_url: impl Into<String>) -> Self {
        Self::from_client(Client::new(sdk), queue_url)
    }

    pub fn from_client(client: Client, queue_url: impl Into<String>) -> Self {
        Self { client, queue_url: queue_url.into() }
    }
}

impl FallbackQueue for SqsFallbackQueue {
    async fn enqueue(&self, delivery: &QueuedDelivery) -> Result<(), DependencyError> {
        const OPERATION: &str = "SQS SendMessage (queue delivery)";
        let body = serde_json::to_string(delivery).map_err(|_| DependencyError::new(OPERATION, "not serialisable"))?;
        // SQS delays a message at most 15 minutes; a later time is waited for again by the redrive.
        let delay = delivery
            .not_before
            .as_deref()
            .and_then(|at| OffsetDateTime::parse(at, &Rfc3339).ok())
            .map(|at| i32::try_from((at - OffsetDateTime::now_utc()).whole_seconds().clamp(0, 900)).unwrap_or(900));
        let request = self.client.send_message().queue_url(&self.queue_url).message_body(body).set_delay_seconds(delay);
        request.send().await.map(drop).map_err(|error| dependency_error(OPERATION, &error))
    }
}

/// SQS's longest visibility timeout is 12 hours from a message's receipt: a longer wait is asked for again when
/// the message comes back.
const LONGEST_VISIBILITY: Duration = Duration::from_secs(11 * 3600);

/// The redrive's redelivery: the message's visibility timeout changed to the time named.
#[derive(Debug, Clone)]
pub struct SqsRedelivery {
    client: Client,
}

impl SqsRedelivery {
    pub fn new(sdk: &SdkConfig) -> Self {
        Self::from_client(Client::new(sdk))
    }

    pub fn from_client(client: Client) -> Self {
        Self { client }
    }
}

/// The URL of the queue `arn` names (`arn:PARTITION:sqs:REGION:ACCOUNT:NAME`), in SQS's own form; `None` for
/// anything else. The event source gives the ARN only, and the redrive may consume an earlier stack's queue.
fn queue_url(arn: &str) -> Option<String> {
    let [_, partition, "sqs", region, account, name] = arn.split(':').collect::<Vec<_>>()[..] else { return None };
    let domain = match partition {
        "aws-cn" => "amazonaws.com.cn",
        _ => "amazonaws.com",
    };
    Some(format!("https://sqs.{region}.{domain}/{account}/{name}"))
}

impl Redelivery for SqsRedelivery {
    async fn deliver_again_after(
        &self,
        queue_arn: &str,
        receipt_handle: &str,
        after: Duration,
    ) -> Result<(), DependencyError> {
        const OPERATION: &str = "SQS ChangeMessageVisibility (deliver again)";
        let url = queue_url(queue_arn).ok_or_else(|| DependencyError::new(OPERATION, "not an SQS queue ARN"))?;
        // Whole seconds, rounded up: never back before the time named.
        let after = after.min(LONGEST_VISIBILITY);
        let seconds = i32::try_from(after.as_secs() + u64::from(after.subsec_nanos() > 0)).unwrap_or(0);
        let request = self.client.change_message_visibility().queue_url(url).receipt_handle(receipt_handle);
        request.visibility_timeout(seconds).send().await.map(drop).map_err(|error| dependency_error(OPERATION, &error))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fallback::{QueuedBody, QueuedFunction};
    use crate::payload::WebhookId;
    use aws_sdk_sqs::operation::change_message_visibility::ChangeMessageVisibilityOutput;
    use aws_sdk_sqs::operation::send_message::{SendMessageError, SendMessageOutput};
    use aws_smithy_mocks::{RuleMode, mock, mock_client};

    fn delivery() -> QueuedDelivery {
        QueuedDelivery {
            function: QueuedFunction::PostCall,
            id: Some(WebhookId::new(123)),
            request_id: "req-1".into(),
            received_at: "2026-11-24T09:00:00Z".into(),
            not_before: None,
            route: "post-call".into(),
            body: QueuedBody::plain(b"{\"id\": 123}"),
        }
    }

    #[tokio::test]
    async fn a_delivery_is_sent_to_the_queue_as_its_json() {
        let send = mock!(aws_sdk_sqs::Client::send_message)
            .match_requests(|request| {
                request.queue_url() == Some("https://sqs.us-east-1.amazonaws.com/123456789012/fallback")
                    && request.message_body().and_then(|body| serde_json::from_str(body).ok()) == Some(delivery())
            })
            .then_output(|| SendMessageOutput::builder().message_id("m-1").build());
        let queue = SqsFallbackQueue::from_client(
            mock_client!(aws_sdk_sqs, [&send]),
            "https://sqs.us-east-1.amazonaws.com/123456789012/fallback",
        );
        assert_eq!(queue.enqueue(&delivery()).await, Ok(()));
        assert_eq!(send.num_calls(), 1);
    }

    #[tokio::test]
    async fn a_refusal_is_a_dependency_error_without_the_services_words() {
        let refused = mock!(aws_sdk_sqs::Client::send_message).then_error(|| {
            SendMessageError::generic(
                aws_sdk_sqs::error::ErrorMetadata::builder().code("KMS.AccessDeniedException").message("+1202").build(),
            )
        });
        let queue = SqsFallbackQueue::from_client(mock_client!(aws_sdk_sqs, RuleMode::MatchAny, [&refused]), "q");
        let error = queue.enqueue(&delivery()).await.unwrap_err();
        assert_eq!(
            error.to_string(),
            "SQS SendMessage (queue delivery) failed: service error KMS.AccessDeniedException"
        );
    }

    #[tokio::test]
    async fn a_message_is_delivered_again_after_the_time_named_on_the_queue_its_arn_names_at_most_11_hours() {
        let change = |seconds: i32| {
            mock!(aws_sdk_sqs::Client::change_message_visibility)
                .match_requests(move |request| {
                    request.queue_url() == Some("https://sqs.eu-west-1.amazonaws.com/123456789012/fallback")
                        && request.receipt_handle() == Some("r-1")
                        && request.visibility_timeout() == Some(seconds)
                })
                .then_output(|| ChangeMessageVisibilityOutput::builder().build())
        };
        let (soon, tomorrow) = (change(3), change(39_600));
        let redelivery = SqsRedelivery::from_client(mock_client!(aws_sdk_sqs, [&soon, &tomorrow]));
        let arn = "arn:aws:sqs:eu-west-1:123456789012:fallback";
        assert_eq!(redelivery.deliver_again_after(arn, "r-1", Duration::from_millis(2_400)).await, Ok(()));
        assert_eq!(redelivery.deliver_again_after(arn, "r-1", Duration::from_secs(86_400)).await, Ok(()));
        assert_eq!((soon.num_calls(), tomorrow.num_calls()), (1, 1));
        let refused = redelivery.deliver_again_after("fallback", "r-1", Duration::ZERO).await.unwrap_err();
        assert_eq!(refused.cause, "not an SQS queue ARN");
    }

    #[test]
    fn a_queue_url_is_made_from_its_arn_in_each_partition() {
        assert_eq!(
            queue_url("arn:aws-cn:sqs:cn-north-1:123456789012:q").as_deref(),
            Some("https://sqs.cn-north-1.amazonaws.com.cn/123456789012/q")
        );
        assert_eq!(
            queue_url("arn:aws-us-gov:sqs:us-gov-west-1:123456789012:q").as_deref(),
            Some("https://sqs.us-gov-west-1.amazonaws.com/123456789012/q")
        );
        assert_eq!(queue_url("arn:aws:sns:us-east-1:123456789012:q"), None);
    }
}
