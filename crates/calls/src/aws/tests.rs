//! The adapter on the real SDK client, its HTTP layer replaced by aws-smithy-mocks.

use super::DynamoCallStore;
use crate::record::{CallRecord, CallStore, StoreOutcome};
use aws_sdk_dynamodb::error::ErrorMetadata;
use aws_sdk_dynamodb::operation::put_item::{PutItemError, PutItemOutput};
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::types::error::ConditionalCheckFailedException;
use aws_smithy_mocks::{RuleMode, mock, mock_client};
use time::OffsetDateTime;
use webhook::aws::OnTable;
use webhook::payload::WebhookId;

#[tokio::test]
async fn a_call_is_stored_once_with_native_types() {
    let call: serde_json::Map<String, serde_json::Value> = serde_json::from_str(
        r#"{"call": {"answered": true, "duration": 33}, "transcript": [{"role": "User", "content": "Hello?"}]}"#,
    )
    .unwrap();
    let item =
        || CallRecord::new(WebhookId::new(7), call.clone(), None, OffsetDateTime::now_utc(), None).into_item().unwrap();
    let stored = mock!(aws_sdk_dynamodb::Client::put_item)
        .match_requests(|request| {
            let item = request.item().unwrap();
            let call = item["call"].as_m().unwrap();
            let turn = item["transcript"].as_l().unwrap()[0].as_m().unwrap();
            request.condition_expression() == Some("attribute_not_exists(id)")
                && item["id"] == AttributeValue::N("7".into())
                && call["answered"] == AttributeValue::Bool(true)
                && call["duration"] == AttributeValue::N("33".into())
                && turn["role"] == AttributeValue::S("User".into())
                && item.contains_key("received_at")
        })
        .then_output(|| PutItemOutput::builder().build());
    let store = DynamoCallStore::from_client(mock_client!(aws_sdk_dynamodb, [&stored]), "calls");
    assert_eq!(store.store(item()).await, Ok(StoreOutcome::Stored));

    let repeated = mock!(aws_sdk_dynamodb::Client::put_item).then_error(|| {
        PutItemError::ConditionalCheckFailedException(ConditionalCheckFailedException::builder().build())
    });
    let store = DynamoCallStore::from_client(mock_client!(aws_sdk_dynamodb, [&repeated]), "calls");
    assert_eq!(store.store(item()).await, Ok(StoreOutcome::AlreadyStored));

    let failing = mock!(aws_sdk_dynamodb::Client::put_item)
        .then_error(|| PutItemError::generic(ErrorMetadata::builder().code("InternalServerError").build()));
    let store = DynamoCallStore::from_client(mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, [&failing]), "calls");
    assert_eq!(store.store(item()).await.unwrap_err().cause, "service error InternalServerError");
}

#[tokio::test]
async fn the_connection_is_opened_at_start_with_a_put_that_changes_nothing() {
    let put = mock!(aws_sdk_dynamodb::Client::put_item)
        .match_requests(|request| {
            request.condition_expression() == Some("attribute_exists(id) AND attribute_not_exists(id)")
                && request.item().is_some_and(|item| item.len() == 1)
        })
        .then_error(|| {
            PutItemError::ConditionalCheckFailedException(ConditionalCheckFailedException::builder().build())
        });
    DynamoCallStore::from_client(mock_client!(aws_sdk_dynamodb, [&put]), "calls").open_connection().await;
    assert_eq!(put.num_calls(), 1);
}
