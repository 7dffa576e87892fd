use super::{DynamoTable, NEVER, connection_opened, dependency_error, quick_dynamodb};
use crate::error::DependencyError;
use crate::item::Item;
use crate::opt_out::{Listed, OptOutLookup, OptOutWriter};
use crate::phone::PhoneNumber;
use aws_sdk_dynamodb::operation::get_item::builders::GetItemFluentBuilder;
use aws_sdk_dynamodb::operation::put_item::builders::PutItemFluentBuilder;
use aws_sdk_dynamodb::types::AttributeValue;
use std::collections::HashMap;

/// The condition of a listing: the first record of a number is kept.
const NOT_LISTED: &str = "attribute_not_exists(phone)";
/// A number no lead has (555-01XX is fictional), for requests sent only to open the connection.
const FICTIONAL_NUMBER: &str = "+12025550100";

/// The opt-outs table: one item per number (partition key `phone`, E.164); the first record is kept.
#[derive(Debug, Clone)]
pub struct DynamoOptOuts {
    table: DynamoTable,
}

impl From<DynamoTable> for DynamoOptOuts {
    fn from(table: DynamoTable) -> Self {
        Self { table }
    }
}

impl DynamoOptOuts {
    /// For a function that reads the list: opens its connection with a lookup of a fictional number, so the
    /// first delivery does not pay for it (see [`connection_opened`]).
    pub async fn open_connection_to_read(&self) {
        let result = self.lookup(FICTIONAL_NUMBER).customize().config_override(quick_dynamodb()).send().await;
        connection_opened("DynamoDB GetItem", result, None);
    }

    /// For a function that only writes the list (its role may not read it): a listing that can never apply.
    pub async fn open_connection_to_write(&self) {
        let request = self.listing(HashMap::from([("phone".to_owned(), AttributeValue::S(FICTIONAL_NUMBER.into()))]));
        let result = request.condition_expression(NEVER).customize().config_override(quick_dynamodb()).send().await;
        connection_opened("DynamoDB PutItem", result, Some("ConditionalCheckFailedException"));
    }

    fn listing(&self, item: HashMap<String, AttributeValue>) -> PutItemFluentBuilder {
        self.table.client.put_item().table_name(&self.table.name).set_item(Some(item))
    }

    fn lookup(&self, e164: &str) -> GetItemFluentBuilder {
        self.table
            .client
            .get_item()
            .table_name(&self.table.name)
            .key("phone", AttributeValue::S(e164.to_owned()))
            .projection_expression("phone")
            // An opt-out written a moment ago must stop the next text.
            .consistent_read(true)
    }
}

impl OptOutWriter for DynamoOptOuts {
    async fn add(&self, item: Item) -> Result<Listed, DependencyError> {
        const OPERATION: &str = "DynamoDB PutItem (list opt-out)";
        let result = self.listing(item.into_attributes()).condition_expression(NOT_LISTED).send().await;
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
            .lookup(phone.e164())
            .send()
            .await
            .map_err(|error| dependency_error("DynamoDB GetItem (opt-out lookup)", &error))?;
        Ok(output.item().is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::OnTable;
    use aws_sdk_dynamodb::operation::get_item::GetItemOutput;
    use aws_sdk_dynamodb::operation::put_item::PutItemError;
    use aws_sdk_dynamodb::types::error::ConditionalCheckFailedException;
    use aws_smithy_mocks::{mock, mock_client};

    fn fictional_key() -> HashMap<String, AttributeValue> {
        HashMap::from([("phone".to_owned(), AttributeValue::S("+12025550100".into()))])
    }

    #[tokio::test]
    async fn a_reader_opens_its_connection_with_a_lookup_of_a_fictional_number() {
        let get = mock!(aws_sdk_dynamodb::Client::get_item)
            .match_requests(|request| {
                request.table_name() == Some("opt-outs")
                    && request.key() == Some(&fictional_key())
                    && request.consistent_read() == Some(true)
            })
            .then_output(|| GetItemOutput::builder().build());
        DynamoOptOuts::from_client(mock_client!(aws_sdk_dynamodb, [&get]), "opt-outs").open_connection_to_read().await;
        assert_eq!(get.num_calls(), 1);
    }

    #[tokio::test]
    async fn a_writer_opens_its_connection_with_a_listing_that_can_never_apply() {
        let put = mock!(aws_sdk_dynamodb::Client::put_item)
            .match_requests(|request| {
                request.table_name() == Some("opt-outs")
                    && request.item() == Some(&fictional_key())
                    && request.condition_expression() == Some("attribute_exists(id) AND attribute_not_exists(id)")
            })
            .then_error(|| {
                PutItemError::ConditionalCheckFailedException(ConditionalCheckFailedException::builder().build())
            });
        DynamoOptOuts::from_client(mock_client!(aws_sdk_dynamodb, [&put]), "opt-outs").open_connection_to_write().await;
        assert_eq!(put.num_calls(), 1);
    }
}
