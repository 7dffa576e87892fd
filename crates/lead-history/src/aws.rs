//! Reads one lead's records from the stack's four tables: the calls and sent-texts tables through their `by-phone`
//! indexes (a call then whole, for its transfer), the lead-events table by its key, the suppression list's item.

use crate::history::LeadRecords;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::Value;
use std::collections::HashMap;
use webhook::aws::dependency_error;
use webhook::error::DependencyError;
use webhook::item::json_of;

/// The index of the calls and sent-texts tables by the lead's number (E.164) and arrival.
pub const BY_PHONE_INDEX: &str = "by-phone";

/// What the sent-texts `by-phone` index projects besides the keys: what the history shows of a text.
pub const TEXT_ATTRIBUTES: [&str; 7] =
    ["type", "message", "status", "sent_at", "failure_code", "delivery_status", "delivery_reported_at"];

/// The four tables, by name (the stack's `LeadHistoryEnvironment` output).
#[derive(Debug, Clone)]
pub struct HistoryTables {
    pub calls: String,
    pub sent_texts: String,
    pub lead_events: String,
    pub opt_outs: String,
}

/// The tables through one client.
#[derive(Debug, Clone)]
pub struct DynamoHistory {
    pub client: Client,
    pub tables: HistoryTables,
}

fn item_json(item: &HashMap<String, AttributeValue>) -> Value {
    json_of(&AttributeValue::M(item.clone()))
}

fn number(e164: &str) -> AttributeValue {
    AttributeValue::S(e164.to_owned())
}

impl DynamoHistory {
    /// Everything kept about `e164`. An index missing (a table attached from an earlier deployment) is noted and
    /// the rest read; any other failure is the answer.
    pub async fn records(&self, e164: &str) -> Result<LeadRecords, DependencyError> {
        let mut records = LeadRecords { phone: e164.to_owned(), ..LeadRecords::default() };
        match self.by_phone(&self.tables.calls, e164, &["id"]).await {
            Ok(ids) => {
                for id in ids.iter().filter_map(|call| call.get("id")) {
                    records.calls.extend(self.call(id.clone()).await?);
                }
            }
            Err(missing) => records.notes.push(missing.into_note(&self.tables.calls)?),
        }
        let texts = self.by_phone(&self.tables.sent_texts, e164, &TEXT_ATTRIBUTES).await;
        match texts {
            Ok(texts) => records.texts = texts.iter().map(item_json).collect(),
            Err(missing) => records.notes.push(missing.into_note(&self.tables.sent_texts)?),
        }
        let events =
            self.client.query().table_name(&self.tables.lead_events).key_condition_expression("phone = :phone");
        let events = events.expression_attribute_values(":phone", number(e164)).into_paginator().items().send();
        let events: Result<Vec<_>, _> = events.collect::<Vec<_>>().await.into_iter().collect();
        records.events = events
            .map_err(|error| dependency_error("DynamoDB Query (lead events)", &error))?
            .iter()
            .map(item_json)
            .collect();
        let listed = self.client.get_item().table_name(&self.tables.opt_outs).key("phone", number(e164)).send().await;
        let listed = listed.map_err(|error| dependency_error("DynamoDB GetItem (suppression list)", &error))?;
        records.suppression = listed.item().map(item_json);
        Ok(records)
    }

    /// The items of `table`'s `by-phone` index for `e164`, with `attributes` besides the keys.
    async fn by_phone(
        &self,
        table: &str,
        e164: &str,
        attributes: &[&str],
    ) -> Result<Vec<HashMap<String, AttributeValue>>, IndexRead> {
        let mut query = self
            .client
            .query()
            .table_name(table)
            .index_name(BY_PHONE_INDEX)
            .key_condition_expression("phone_e164 = :phone")
            .expression_attribute_values(":phone", number(e164));
        let mut projection = vec!["phone_e164".to_owned(), "received_at".to_owned()];
        for (index, attribute) in attributes.iter().enumerate() {
            query = query.expression_attribute_names(format!("#a{index}"), *attribute);
            projection.push(format!("#a{index}"));
        }
        let keys = if table == self.tables.sent_texts { ["id", "text_type"].as_slice() } else { &["id"] };
        projection.extend(keys.iter().filter(|key| !attributes.contains(key)).map(|key| (*key).to_owned()));
        let pages = query.projection_expression(projection.join(", ")).into_paginator().items().send();
        let items: Result<Vec<_>, _> = pages.collect::<Vec<_>>().await.into_iter().collect();
        items.map_err(|error| {
            let missing_index = error.as_service_error().and_then(|e| e.meta().message()).is_some_and(|message| {
                message.contains("index")
                    && error.as_service_error().and_then(|e| e.meta().code()) == Some("ValidationException")
            });
            IndexRead { missing_index, error: dependency_error("DynamoDB Query (by-phone index)", &error) }
        })
    }

    /// The calls item `id`, whole.
    async fn call(&self, id: AttributeValue) -> Result<Option<Value>, DependencyError> {
        let call = self.client.get_item().table_name(&self.tables.calls).key("id", id).send().await;
        let call = call.map_err(|error| dependency_error("DynamoDB GetItem (call)", &error))?;
        Ok(call.item().map(item_json))
    }
}

/// A `by-phone` query that failed: a missing index is a note, anything else the answer.
#[derive(Debug)]
struct IndexRead {
    missing_index: bool,
    error: DependencyError,
}

impl IndexRead {
    fn into_note(self, table: &str) -> Result<String, DependencyError> {
        match self.missing_index {
            true => Ok(format!(
                "{table} has no {BY_PHONE_INDEX} index (a table attached from an earlier deployment): its records \
                 of this lead are not shown; docs/operations.md says how to add it"
            )),
            false => Err(self.error),
        }
    }
}
