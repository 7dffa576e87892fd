use super::dependency_error;
use crate::error::DependencyError;
use crate::payload::WebhookId;
use crate::ports::{CallStore, ClaimOutcome, StoreOutcome, TextLedger};
use crate::records::{CallRecord, SentText, TextClaimRecord};
use aws_config::SdkConfig;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValuesOnConditionCheckFailure};
use serde::Serialize;
use serde_dynamo::aws_sdk_dynamodb_1::to_item;
use std::collections::HashMap;

type Item = HashMap<String, AttributeValue>;

fn item<T: Serialize>(operation: &'static str, record: &T) -> Result<Item, DependencyError> {
    to_item(record).map_err(|_| DependencyError::new(operation, "record could not be converted to an item"))
}

fn key(id: WebhookId) -> AttributeValue {
    AttributeValue::N(id.get().to_string())
}

fn string(value: &str) -> AttributeValue {
    AttributeValue::S(value.to_owned())
}

/// The sent-texts table: one item per text id, claimed with a conditional write before the text is sent.
#[derive(Debug, Clone)]
pub struct DynamoTextLedger {
    client: Client,
    table: String,
}

impl DynamoTextLedger {
    pub fn new(sdk: &SdkConfig, table: impl Into<String>) -> Self {
        Self::from_client(Client::new(sdk), table)
    }

    pub fn from_client(client: Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into() }
    }
}

impl TextLedger for DynamoTextLedger {
    async fn claim(&self, claim: &TextClaimRecord<'_>) -> Result<ClaimOutcome, DependencyError> {
        const OPERATION: &str = "DynamoDB PutItem (claim text)";
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item(OPERATION, claim)?))
            // New id, or a claim whose delivery died without finishing or releasing it.
            .condition_expression("attribute_not_exists(id) OR (#status = :claimed AND lease_expires_at < :now)")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":claimed", string("claimed"))
            .expression_attribute_values(":now", AttributeValue::N(claim.claimed_at_epoch.to_string()))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(_) => Ok(ClaimOutcome::Claimed),
            Err(error) => match error.as_service_error() {
                Some(failed) if failed.is_conditional_check_failed_exception() => {
                    let existing_status = match failed {
                        aws_sdk_dynamodb::operation::put_item::PutItemError::ConditionalCheckFailedException(e) => {
                            e.item().and_then(|item| item.get("status")).and_then(|s| s.as_s().ok()).cloned()
                        }
                        _ => None,
                    };
                    Ok(match existing_status.as_deref() {
                        Some("claimed") => ClaimOutcome::InProgress,
                        _ => ClaimOutcome::AlreadySent,
                    })
                }
                _ => Err(dependency_error(OPERATION, &error)),
            },
        }
    }

    async fn mark_sent(&self, id: WebhookId, claimed_by: &str, sent: &SentText<'_>) -> Result<(), DependencyError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .key("id", key(id))
            .update_expression("SET #status = :sent, message_id = :message_id, sent_at = :sent_at")
            .condition_expression("claimed_by = :claimed_by")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":sent", string("sent"))
            .expression_attribute_values(":message_id", string(sent.message_id))
            .expression_attribute_values(":sent_at", string(&sent.sent_at))
            .expression_attribute_values(":claimed_by", string(claimed_by))
            .send()
            .await
            .map(drop)
            .map_err(|error| dependency_error("DynamoDB UpdateItem (mark text sent)", &error))
    }

    async fn release(&self, id: WebhookId, claimed_by: &str) -> Result<(), DependencyError> {
        const OPERATION: &str = "DynamoDB DeleteItem (release text claim)";
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key("id", key(id))
            // Only our own unfinished claim: never a sent record or another delivery's claim.
            .condition_expression("claimed_by = :claimed_by AND #status = :claimed")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":claimed_by", string(claimed_by))
            .expression_attribute_values(":claimed", string("claimed"))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            // Someone took the claim over after our lease expired: nothing of ours to release.
            Err(error) if error.as_service_error().is_some_and(|e| e.is_conditional_check_failed_exception()) => Ok(()),
            Err(error) => Err(dependency_error(OPERATION, &error)),
        }
    }
}

/// The calls table: one item per call id; the first delivery's record is kept.
#[derive(Debug, Clone)]
pub struct DynamoCallStore {
    client: Client,
    table: String,
}

impl DynamoCallStore {
    pub fn new(sdk: &SdkConfig, table: impl Into<String>) -> Self {
        Self::from_client(Client::new(sdk), table)
    }

    pub fn from_client(client: Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into() }
    }
}

impl CallStore for DynamoCallStore {
    async fn store(&self, record: &CallRecord<'_>) -> Result<StoreOutcome, DependencyError> {
        const OPERATION: &str = "DynamoDB PutItem (store call)";
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item(OPERATION, record)?))
            .condition_expression("attribute_not_exists(id)")
            .send()
            .await;
        match result {
            Ok(_) => Ok(StoreOutcome::Stored),
            Err(error) if error.as_service_error().is_some_and(|e| e.is_conditional_check_failed_exception()) => {
                Ok(StoreOutcome::AlreadyStored)
            }
            Err(error) => Err(dependency_error(OPERATION, &error)),
        }
    }
}
