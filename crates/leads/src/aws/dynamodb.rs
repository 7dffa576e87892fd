use crate::event::{EventStored, LeadEventStore};
use aws_sdk_dynamodb::types::AttributeValue;
use webhook::aws::{DynamoTable, NEVER, connection_opened, dependency_error, quick_dynamodb};
use webhook::error::DependencyError;
use webhook::item::Item;

/// The condition of an event's store: the same event (number and key) is stored once.
const NEW_EVENT: &str = "attribute_not_exists(phone)";

/// The lead-events table: partition key `phone` (E.164), sort key `event`; the first delivery's item is kept.
#[derive(Debug, Clone)]
pub struct DynamoLeadEvents {
    table: DynamoTable,
}

impl From<DynamoTable> for DynamoLeadEvents {
    fn from(table: DynamoTable) -> Self {
        Self { table }
    }
}

impl DynamoLeadEvents {
    /// Opens the connection during initialisation ([`connection_opened`]) with a put that cannot happen.
    pub async fn open_connection(&self) {
        let request = self
            .table
            .client
            .put_item()
            .table_name(&self.table.name)
            .item("phone", AttributeValue::S("+12025550100".into()))
            .item("event", AttributeValue::S("connection".into()));
        let result = request.condition_expression(NEVER).customize().config_override(quick_dynamodb()).send().await;
        connection_opened("DynamoDB PutItem", result, Some("ConditionalCheckFailedException"));
    }
}

impl LeadEventStore for DynamoLeadEvents {
    async fn store(&self, item: Item) -> Result<EventStored, DependencyError> {
        const OPERATION: &str = "DynamoDB PutItem (store lead event)";
        let result = self
            .table
            .client
            .put_item()
            .table_name(&self.table.name)
            .set_item(Some(item.into_attributes()))
            .condition_expression(NEW_EVENT)
            .send()
            .await;
        match result {
            Ok(_) => Ok(EventStored::Stored),
            Err(error) if error.as_service_error().is_some_and(|e| e.is_conditional_check_failed_exception()) => {
                Ok(EventStored::AlreadyStored)
            }
            Err(error) => Err(dependency_error(OPERATION, &error)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_dynamodb::error::ErrorMetadata;
    use aws_sdk_dynamodb::operation::put_item::{PutItemError, PutItemOutput};
    use aws_sdk_dynamodb::types::error::ConditionalCheckFailedException;
    use aws_smithy_mocks::{RuleMode, mock, mock_client};
    use webhook::aws::OnTable;

    fn item() -> Item {
        Item::new(&serde_json::json!({"phone": "+12025550143", "event": "inbound-text#00", "message": "Hi"})).unwrap()
    }

    #[tokio::test]
    async fn an_event_is_stored_once_and_a_failure_is_a_dependency_error() {
        let stored = mock!(aws_sdk_dynamodb::Client::put_item)
            .match_requests(|request| {
                let item = request.item().unwrap();
                request.condition_expression() == Some(NEW_EVENT)
                    && item["phone"] == AttributeValue::S("+12025550143".into())
                    && item["message"] == AttributeValue::S("Hi".into())
            })
            .then_output(|| PutItemOutput::builder().build());
        let repeated = mock!(aws_sdk_dynamodb::Client::put_item).then_error(|| {
            PutItemError::ConditionalCheckFailedException(ConditionalCheckFailedException::builder().build())
        });
        let failing = mock!(aws_sdk_dynamodb::Client::put_item)
            .then_error(|| PutItemError::generic(ErrorMetadata::builder().code("InternalServerError").build()));
        let client = mock_client!(aws_sdk_dynamodb, RuleMode::Sequential, [&stored, &repeated, &failing]);
        let events = DynamoLeadEvents::from_client(client, "lead-events");
        assert_eq!(events.store(item()).await, Ok(EventStored::Stored));
        assert_eq!(events.store(item()).await, Ok(EventStored::AlreadyStored));
        let error = events.store(item()).await.unwrap_err();
        assert_eq!(
            (error.operation, error.cause.as_str()),
            ("DynamoDB PutItem (store lead event)", "service error InternalServerError")
        );
    }
}
