use crate::record::{CallStore, StoreOutcome};
use webhook::aws::{DynamoTable, NEVER, connection_opened, dependency_error, id_key, quick_dynamodb};
use webhook::error::DependencyError;
use webhook::item::Item;
use webhook::payload::WebhookId;

/// The calls table: one item per call id; the first delivery's record is kept.
#[derive(Debug, Clone)]
pub struct DynamoCallStore {
    table: DynamoTable,
}

impl From<DynamoTable> for DynamoCallStore {
    fn from(table: DynamoTable) -> Self {
        Self { table }
    }
}

impl DynamoCallStore {
    /// Opens the connection during initialisation ([`connection_opened`]) with a put that cannot happen: the
    /// function may put items, and a failed condition writes nothing.
    pub async fn open_connection(&self) {
        let request = self.table.client.put_item().table_name(&self.table.name).item("id", id_key(WebhookId::new(0)));
        let result = request.condition_expression(NEVER).customize().config_override(quick_dynamodb()).send().await;
        connection_opened("DynamoDB PutItem", result, Some("ConditionalCheckFailedException"));
    }
}

impl CallStore for DynamoCallStore {
    async fn store(&self, item: Item) -> Result<StoreOutcome, DependencyError> {
        const OPERATION: &str = "DynamoDB PutItem (store call)";
        let result = self
            .table
            .client
            .put_item()
            .table_name(&self.table.name)
            .set_item(Some(item.into_attributes()))
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
