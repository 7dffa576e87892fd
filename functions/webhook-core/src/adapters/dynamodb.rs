use super::{connection_opened, dependency_error, fail_open_timeouts};
use crate::error::DependencyError;
use crate::payload::WebhookId;
use crate::ports::{CallStore, ClaimOutcome, StoreOutcome, TextLedger};
use crate::records::{CallRecord, SentText, TextClaimRecord};
use aws_config::SdkConfig;
use aws_sdk_dynamodb::Client;

use aws_sdk_dynamodb::operation::put_item::PutItemError;
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

    /// Opens the connection during initialisation ([`connection_opened`]) with a delete that cannot happen:
    /// the function may delete items, and a failed condition changes nothing.
    pub async fn open_connection(&self) {
        let request = self.client.delete_item().table_name(&self.table).key("id", key(WebhookId::new(0)));
        let result = request.condition_expression(NEVER).customize().config_override(quick()).send().await;
        connection_opened("DynamoDB DeleteItem", result, Some("ConditionalCheckFailedException"));
    }
}

/// A condition no item meets, for requests sent only to open the connection.
const NEVER: &str = "attribute_exists(id) AND attribute_not_exists(id)";

/// Initialisation waits for these requests: not long.
fn quick() -> aws_sdk_dynamodb::config::Builder {
    aws_sdk_dynamodb::config::Builder::default().timeout_config(fail_open_timeouts())
}

impl DynamoTextLedger {
    /// Moves our own claim to `status`, setting each (name, value) of `attributes` with it.
    async fn settle(
        &self,
        operation: &'static str,
        id: WebhookId,
        claimed_by: &str,
        status: &str,
        attributes: &[(&str, &str)],
    ) -> Result<(), DependencyError> {
        let set: Vec<String> = attributes.iter().map(|(name, _)| format!(", {name} = :{name}")).collect();
        let request = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("id", key(id))
            .update_expression(format!("SET #status = :status{}", set.concat()))
            .condition_expression("claimed_by = :claimed_by")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":status", string(status))
            .expression_attribute_values(":claimed_by", string(claimed_by));
        let request = attributes.iter().fold(request, |request, (name, value)| {
            request.expression_attribute_values(format!(":{name}"), string(value))
        });
        request.send().await.map(drop).map_err(|error| dependency_error(operation, &error))
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
            // Only a new id: an existing item, whatever its state, means an earlier delivery may have sent it.
            .condition_expression("attribute_not_exists(id)")
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(_) => Ok(ClaimOutcome::Claimed),
            Err(error) => match error.as_service_error() {
                Some(PutItemError::ConditionalCheckFailedException(failed)) => {
                    let existing = |name: &str| failed.item().and_then(|item| item.get(name));
                    let text = |name: &str| existing(name).and_then(|value| value.as_s().ok()).map(String::as_str);
                    let lease_expires_at =
                        existing("lease_expires_at").and_then(|value| value.as_n().ok()).and_then(|n| n.parse().ok());
                    Ok(ClaimOutcome::of_existing(text("status"), text("claimed_by"), lease_expires_at, claim))
                }
                _ => Err(dependency_error(OPERATION, &error)),
            },
        }
    }

    async fn mark_sent(&self, id: WebhookId, claimed_by: &str, sent: &SentText<'_>) -> Result<(), DependencyError> {
        let attributes = [("message_id", sent.message_id), ("sent_at", sent.sent_at.as_str())];
        self.settle("DynamoDB UpdateItem (mark text sent)", id, claimed_by, "sent", &attributes).await
    }

    async fn mark_unconfirmed(&self, id: WebhookId, claimed_by: &str, at: &str) -> Result<(), DependencyError> {
        let attributes = [("unconfirmed_at", at)];
        self.settle("DynamoDB UpdateItem (mark text unconfirmed)", id, claimed_by, "unconfirmed", &attributes).await
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
            // No unfinished claim of ours is there any more: the SDK repeated a delete whose answer was lost.
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

    /// Opens the connection during initialisation ([`connection_opened`]) with a put that cannot happen: the
    /// function may put items, and a failed condition writes nothing.
    pub async fn open_connection(&self) {
        let request = self.client.put_item().table_name(&self.table).item("id", key(WebhookId::new(0)));
        let result = request.condition_expression(NEVER).customize().config_override(quick()).send().await;
        connection_opened("DynamoDB PutItem", result, Some("ConditionalCheckFailedException"));
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
