//! The fallback queue on SQS.

use super::dependency_error;
use crate::error::DependencyError;
use crate::fallback::{FallbackQueue, QueuedDelivery};
use aws_config::SdkConfig;
use aws_sdk_sqs::Client;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fallback::{QueuedBody, QueuedFunction};
    use crate::payload::WebhookId;
    use aws_sdk_sqs::operation::send_message::{SendMessageError, SendMessageOutput};
    use aws_smithy_mocks::{RuleMode, mock, mock_client};

    fn delivery() -> QueuedDelivery {
        QueuedDelivery {
            function: QueuedFunction::PostCall,
            id: Some(WebhookId::new(123)),
            request_id: "req-1".into(),
            received_at: "2026-11-24T09:00:00Z".into(),
            not_before: None,
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
}
