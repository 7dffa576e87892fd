use super::dependency_error;
use crate::error::DependencyError;
use crate::item::Item;
use crate::opt_out::{Listed, OptOutLookup, OptOutWriter};
use crate::phone::PhoneNumber;
use aws_config::SdkConfig;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;

/// The opt-outs table: one item per number (partition key `phone`, E.164); the first record is kept.
#[derive(Debug, Clone)]
pub struct DynamoOptOuts {
    client: Client,
    table: String,
}

impl DynamoOptOuts {
    pub fn new(sdk: &SdkConfig, table: impl Into<String>) -> Self {
        Self::from_client(Client::new(sdk), table)
    }

    pub fn from_client(client: Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into() }
    }
}

impl OptOutWriter for DynamoOptOuts {
    async fn add(&self, item: Item) -> Result<Listed, DependencyError> {
        const OPERATION: &str = "DynamoDB PutItem (list opt-out)";
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item.into_attributes()))
            .condition_expression("attribute_not_exists(phone)")
            .send()
            .await;
        match result {
            Ok(_) => Ok(Listed::Added),
            Err(error) if error.as_service_error().is_some_and(|e| e.is_conditional_check_failed_exception()) => {
                Ok(Listed::AlreadyListed)
            }
            Err(error) => Err(dependency_error(OPERATION, &error)),
        }
    }
}

impl OptOutLookup for DynamoOptOuts {
    async fn is_listed(&self, phone: &PhoneNumber) -> Result<bool, DependencyError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("phone", AttributeValue::S(phone.e164().to_owned()))
            .projection_expression("phone")
            // An opt-out written a moment ago must stop the next text.
            .consistent_read(true)
            .send()
            .await
            .map_err(|error| dependency_error("DynamoDB GetItem (opt-out lookup)", &error))?;
        Ok(output.item().is_some())
    }
}
