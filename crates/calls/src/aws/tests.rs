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

#[tokio::test]
async fn a_call_stored_after_its_transfer_keeps_the_transfer() {
    use crate::record::StoreOutcome::{AlreadyStored, Stored};
    let item = || CallRecord::new(WebhookId::new(7), Default::default(), None, OffsetDateTime::now_utc(), None);
    let transfer_only = std::collections::HashMap::from([
        ("id".to_owned(), AttributeValue::N("7".into())),
        ("transfer_type".to_owned(), AttributeValue::S("qualified".into())),
        ("transfer_received_at".to_owned(), AttributeValue::S("2026-12-05T10:00:00Z".into())),
    ]);
    let found = transfer_only.clone();
    let first = mock!(aws_sdk_dynamodb::Client::put_item)
        .match_requests(|request| request.condition_expression() == Some("attribute_not_exists(id)"))
        .then_error(move || {
            PutItemError::ConditionalCheckFailedException(
                ConditionalCheckFailedException::builder().set_item(Some(found.clone())).build(),
            )
        });
    let over_the_transfer = mock!(aws_sdk_dynamodb::Client::put_item)
        .match_requests(|request| {
            let values = request.expression_attribute_values().unwrap();
            let item = request.item().unwrap();
            request.condition_expression() == Some("attribute_not_exists(received_at) AND transfer_received_at = :seen")
                && values[":seen"] == AttributeValue::S("2026-12-05T10:00:00Z".into())
                && item["transfer_type"] == AttributeValue::S("qualified".into())
                && item.contains_key("received_at")
        })
        .then_output(|| PutItemOutput::builder().build());
    let client = mock_client!(aws_sdk_dynamodb, RuleMode::Sequential, [&first, &over_the_transfer]);
    let store = DynamoCallStore::from_client(client, "calls");
    assert_eq!(store.store(item().into_item().unwrap()).await, Ok(Stored));

    let mut stored = transfer_only;
    stored.insert("received_at".into(), AttributeValue::S("2026-12-05T10:00:01Z".into()));
    let stored_call = mock!(aws_sdk_dynamodb::Client::put_item).then_error(move || {
        PutItemError::ConditionalCheckFailedException(
            ConditionalCheckFailedException::builder().set_item(Some(stored.clone())).build(),
        )
    });
    let store = DynamoCallStore::from_client(mock_client!(aws_sdk_dynamodb, [&stored_call]), "calls");
    assert_eq!(store.store(item().into_item().unwrap()).await, Ok(AlreadyStored), "a stored call is kept");
}

#[tokio::test]
async fn a_transfer_sets_its_attributes_removes_an_earlier_ones_and_never_moves_the_calls_expiry() {
    use crate::transfer::{TransferRecord, TransferStore};
    let fields = serde_json::json!({"transfer_type": "unqualified", "duration": 12, "call_direction": "inbound"});
    let at = OffsetDateTime::UNIX_EPOCH;
    let retention = Some(webhook::config::Retention::days(1));
    let record = TransferRecord::new(WebhookId::new(7), fields.as_object().cloned().unwrap(), at, retention);
    let update = mock!(aws_sdk_dynamodb::Client::update_item)
        .match_requests(|request| {
            let names = request.expression_attribute_names().unwrap();
            let expression = request.update_expression().unwrap();
            let expires = names.iter().find(|(_, name)| *name == "expires_at").map(|(placeholder, _)| placeholder);
            request.key().unwrap()["id"] == AttributeValue::N("7".into())
                && names.values().any(|name| name == "transfer")
                && expires.is_some_and(|p| expression.contains(&format!("{p} = if_not_exists({p}, ")))
                && expression.ends_with(" REMOVE #r0")
                && names["#r0"] == "transfer_stored_as_json"
                && request.condition_expression().is_none()
        })
        .then_output(|| aws_sdk_dynamodb::operation::update_item::UpdateItemOutput::builder().build());
    let store = DynamoCallStore::from_client(mock_client!(aws_sdk_dynamodb, [&update]), "calls");
    assert_eq!(store.set_transfer(WebhookId::new(7), record.into_item().unwrap()).await, Ok(()));
    assert_eq!(update.num_calls(), 1);
}

/// The transfer-only item gone (or changed) between the two puts: never answered `duplicate` (the call would be
/// lost), but failed, for the fallback queue to store it.
#[tokio::test]
async fn a_transfer_item_that_changes_under_the_store_fails_it_rather_than_drop_the_call() {
    let item = CallRecord::new(WebhookId::new(7), Default::default(), None, OffsetDateTime::now_utc(), None);
    let transfer_only = std::collections::HashMap::from([
        ("id".to_owned(), AttributeValue::N("7".into())),
        ("transfer_received_at".to_owned(), AttributeValue::S("2026-12-05T10:00:00Z".into())),
    ]);
    let first = mock!(aws_sdk_dynamodb::Client::put_item).then_error(move || {
        PutItemError::ConditionalCheckFailedException(
            ConditionalCheckFailedException::builder().set_item(Some(transfer_only.clone())).build(),
        )
    });
    let gone = mock!(aws_sdk_dynamodb::Client::put_item).then_error(|| {
        PutItemError::ConditionalCheckFailedException(ConditionalCheckFailedException::builder().build())
    });
    let client = mock_client!(aws_sdk_dynamodb, RuleMode::Sequential, [&first, &gone]);
    let error = DynamoCallStore::from_client(client, "calls").store(item.into_item().unwrap()).await.unwrap_err();
    assert_eq!(error.cause, "the call's item changed while it was stored");
}
