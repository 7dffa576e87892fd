use crate::ports::{
    DELIVERY_PARTS as PARTS, DELIVERY_PRICE_USD as PRICE_USD, DELIVERY_PROVIDER_RESPONSE as PROVIDER_RESPONSE,
    DELIVERY_REPORTED_AT as REPORTED_AT, DELIVERY_STATUS as STATUS, DeliveryLedger, Recorded, ReportedText, SMS_PARTS,
};
use crate::report::DeliveryReport;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue, ReturnValuesOnConditionCheckFailure, Select};
use std::collections::HashMap;
use webhook::aws::{DynamoTable, connection_opened, dependency_error, quick_dynamodb};
use webhook::error::DependencyError;
use webhook::payload::WebhookId;

/// A sent-texts item's key (`id`, `text_type`).
type TextKey = HashMap<String, AttributeValue>;

/// The sent-texts index from SNS message id to the text's key (template.yaml's `SentTextsTable`).
pub const MESSAGE_ID_INDEX: &str = "by-message-id";

/// Delivery reports set on the sent-texts table: the text found through [`MESSAGE_ID_INDEX`], then updated
/// only if it still has that message id and carries no report as new.
#[derive(Debug, Clone)]
pub struct DynamoDeliveryLedger {
    table: DynamoTable,
}

impl From<DynamoTable> for DynamoDeliveryLedger {
    fn from(table: DynamoTable) -> Self {
        Self { table }
    }
}

impl DynamoDeliveryLedger {
    /// Opens the connection during initialisation with a look-up of a message id SNS never gives.
    pub async fn open_connection(&self) {
        let result = self.find("(opening the connection)").customize().config_override(quick_dynamodb()).send().await;
        connection_opened("DynamoDB Query", result, None);
    }

    fn find(&self, message_id: &str) -> aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder {
        self.table
            .client
            .query()
            .table_name(&self.table.name)
            .index_name(MESSAGE_ID_INDEX)
            .key_condition_expression("message_id = :message_id")
            .expression_attribute_values(":message_id", AttributeValue::S(message_id.to_owned()))
            .select(Select::AllProjectedAttributes)
            // SNS gives each text its own message id: one item at most.
            .limit(1)
    }

    /// The id and the key (`id` and `text_type`) of the text SNS gave `message_id`.
    async fn text_key(&self, message_id: &str) -> Result<Option<(WebhookId, TextKey)>, DependencyError> {
        const OPERATION: &str = "DynamoDB Query (sent text by message id)";
        let output = self.find(message_id).send().await.map_err(|error| dependency_error(OPERATION, &error))?;
        let Some(item) = output.items().first() else { return Ok(None) };
        let id = item.get("id").and_then(|id| id.as_n().ok()).and_then(|id| id.parse().ok()).map(WebhookId::new);
        let id = id.ok_or_else(|| DependencyError::new(OPERATION, "an id is not a whole number"))?;
        let key = ["id", "text_type"]
            .into_iter()
            .map(|name| item.get(name).map(|value| (name.to_owned(), value.clone())))
            .collect::<Option<HashMap<_, _>>>()
            .ok_or_else(|| DependencyError::new(OPERATION, "the index holds a text without its whole key"))?;
        Ok(Some((id, key)))
    }
}

impl DeliveryLedger for DynamoDeliveryLedger {
    async fn record(&self, report: &DeliveryReport) -> Result<Recorded, DependencyError> {
        // The index is eventually consistent, but a record comes seconds to hours after the text it reports.
        let Some((id, key)) = self.text_key(&report.message_id).await? else {
            return Ok(Recorded::UnknownMessage);
        };
        let text_type = key.get("text_type").and_then(|value| value.as_s().ok()).cloned().unwrap_or_default();
        const OPERATION: &str = "DynamoDB UpdateItem (record delivery status)";
        let mut set = vec![format!("{STATUS} = :status"), format!("{REPORTED_AT} = :reported_at")];
        let mut remove = Vec::new();
        let mut request = self
            .table
            .client
            .update_item()
            .table_name(&self.table.name)
            .set_key(Some(key))
            // Only the text that has this message id (never an item created by the update, nor one that expired
            // meanwhile), and only if it has no report yet or an older one: applying a report again, or an older
            // one late, changes nothing.
            .condition_expression(format!(
                "message_id = :message_id AND (attribute_not_exists({REPORTED_AT}) OR {REPORTED_AT} < :reported_at)"
            ))
            .expression_attribute_values(":message_id", AttributeValue::S(report.message_id.clone()))
            .expression_attribute_values(":status", AttributeValue::S(report.status.as_str().to_owned()))
            .expression_attribute_values(":reported_at", AttributeValue::S(report.reported_at.as_str().to_owned()))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            // The parts send-text counted, to compare with SNS's. (The key-only index cannot give them, and a
            // changed projection would make CloudFormation replace the index.)
            .return_values(ReturnValue::AllNew);
        // The item says what the newest report said: what it leaves out is removed.
        match &report.provider_response {
            Some(response) => {
                set.push(format!("{PROVIDER_RESPONSE} = :provider_response"));
                request =
                    request.expression_attribute_values(":provider_response", AttributeValue::S(response.clone()));
            }
            None => remove.push(PROVIDER_RESPONSE),
        }
        match report.price_usd {
            Some(price) => {
                set.push(format!("{PRICE_USD} = :price_usd"));
                request = request.expression_attribute_values(":price_usd", AttributeValue::N(price.to_string()));
            }
            None => remove.push(PRICE_USD),
        }
        match report.parts {
            Some(parts) => {
                set.push(format!("{PARTS} = :parts"));
                request = request.expression_attribute_values(":parts", AttributeValue::N(parts.to_string()));
            }
            None => remove.push(PARTS),
        }
        let mut update = format!("SET {}", set.join(", "));
        if !remove.is_empty() {
            update.push_str(&format!(" REMOVE {}", remove.join(", ")));
        }
        match request.update_expression(update).send().await {
            Ok(output) => {
                let counted = output.attributes().and_then(|item| item.get(SMS_PARTS)).and_then(|n| n.as_n().ok());
                let counted_parts = counted.and_then(|parts| parts.parse().ok());
                Ok(Recorded::Applied(ReportedText { id, text_type, counted_parts }))
            }
            Err(error) => match error.as_service_error() {
                Some(UpdateItemError::ConditionalCheckFailedException(failed)) => Ok(match failed.item() {
                    Some(_) => Recorded::AlreadyCurrent { id },
                    // Gone between the look-up and the update (its TTL expired): as if never found.
                    None => Recorded::UnknownMessage,
                }),
                _ => Err(dependency_error(OPERATION, &error)),
            },
        }
    }
}
