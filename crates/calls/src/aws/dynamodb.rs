use crate::record::{CallStore, StoreOutcome};
use crate::transfer::{TRANSFER_ATTRIBUTES, TransferStore};
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValuesOnConditionCheckFailure};
use std::collections::HashMap;
use webhook::aws::{DynamoTable, NEVER, connection_opened, dependency_error, id_key, quick_dynamodb};
use webhook::error::DependencyError;
use webhook::item::Item;
use webhook::payload::WebhookId;

/// The calls table: one item per call id; the first delivery's record is kept, with the call's transfer.
#[derive(Debug, Clone)]
pub struct DynamoCallStore {
    table: DynamoTable,
}

impl From<DynamoTable> for DynamoCallStore {
    fn from(table: DynamoTable) -> Self {
        Self { table }
    }
}

/// The puts a post-call's store makes: the first, and one over the transfer that came before it. A transfer that
/// changes (or an item that goes) in between fails the store, for the fallback queue to do it again: the budget
/// (`RECORDER_WORST_CASE`) counts two.
const STORE_OVER_TRANSFER_TRIES: usize = 2;

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
    /// A new id, or an item holding only a transfer (no `received_at`): stored, with that transfer's attributes,
    /// on condition the transfer is the one read.
    async fn store(&self, item: Item) -> Result<StoreOutcome, DependencyError> {
        const OPERATION: &str = "DynamoDB PutItem (store call)";
        let mut attributes = item.into_attributes();
        let mut transfer_seen: Option<AttributeValue> = None;
        for _ in 0..STORE_OVER_TRANSFER_TRIES {
            let request = self
                .table
                .client
                .put_item()
                .table_name(&self.table.name)
                .set_item(Some(attributes.clone()))
                .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
            let transfer_seen_before = transfer_seen.is_some();
            let request = match transfer_seen.take() {
                None => request.condition_expression("attribute_not_exists(id)"),
                Some(seen) => request
                    .condition_expression("attribute_not_exists(received_at) AND transfer_received_at = :seen")
                    .expression_attribute_values(":seen", seen),
            };
            let existing = match request.send().await {
                Ok(_) => return Ok(StoreOutcome::Stored),
                Err(error) => match error.as_service_error() {
                    Some(PutItemError::ConditionalCheckFailedException(failed)) => failed.item().cloned(),
                    _ => return Err(dependency_error(OPERATION, &error)),
                },
            };
            match existing {
                Some(existing) if existing.contains_key("received_at") => return Ok(StoreOutcome::AlreadyStored),
                // A transfer that came first: kept, on condition it is still the one read.
                Some(existing) => {
                    transfer_seen = existing.get("transfer_received_at").cloned();
                    keep_transfer(&mut attributes, &existing);
                }
                // DynamoDB returns the item that failed `attribute_not_exists(id)`: only the put over a transfer
                // whose item has gone since sees none: stored as new by a later try (the fallback queue's).
                None if transfer_seen_before => keep_transfer(&mut attributes, &HashMap::new()),
                None => return Ok(StoreOutcome::AlreadyStored),
            }
        }
        Err(DependencyError::new(OPERATION, "the call's item changed while it was stored"))
    }
}

/// Copies the transfer's attributes of `existing` into `attributes`.
fn keep_transfer(attributes: &mut HashMap<String, AttributeValue>, existing: &HashMap<String, AttributeValue>) {
    for name in TRANSFER_ATTRIBUTES {
        match existing.get(name) {
            Some(value) => attributes.insert(name.to_owned(), value.clone()),
            None => attributes.remove(name),
        };
    }
}

impl TransferStore for DynamoCallStore {
    async fn set_transfer(&self, id: WebhookId, transfer: Item) -> Result<(), DependencyError> {
        const OPERATION: &str = "DynamoDB UpdateItem (set transfer)";
        let mut request = self.table.client.update_item().table_name(&self.table.name).key("id", id_key(id));
        let attributes = transfer.into_attributes();
        // A transfer set again replaces the last one whole: what it does not carry is removed.
        let mut removes = Vec::new();
        for (index, name) in TRANSFER_ATTRIBUTES.iter().filter(|name| !attributes.contains_key(**name)).enumerate() {
            request = request.expression_attribute_names(format!("#r{index}"), *name);
            removes.push(format!("#r{index}"));
        }
        let mut sets = Vec::new();
        for (index, (name, value)) in attributes.into_iter().enumerate() {
            let (placeholder, values) = (format!("#a{index}"), format!(":v{index}"));
            sets.push(match name.as_str() {
                // The call's own expiry wins: a transfer only sets one on an item that has none.
                "expires_at" => format!("{placeholder} = if_not_exists({placeholder}, {values})"),
                _ => format!("{placeholder} = {values}"),
            });
            request = request.expression_attribute_names(placeholder, name).expression_attribute_values(values, value);
        }
        let mut expression = format!("SET {}", sets.join(", "));
        if !removes.is_empty() {
            expression += &format!(" REMOVE {}", removes.join(", "));
        }
        let result = request.update_expression(expression).send().await;
        result.map(|_| ()).map_err(|error| dependency_error(OPERATION, &error))
    }
}
