use crate::ledger::{
    ClaimOutcome, HeldClaim, SMS_CHARACTERS_REPLACED, SMS_ENCODING, SMS_PARTS, Settlement, TextClaim, TextKey,
    TextLedger, TextStatus,
};
use crate::text::TextType;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValuesOnConditionCheckFailure};
use std::collections::HashMap;
use time::OffsetDateTime;
use webhook::aws::{DynamoTable, NEVER, connection_opened, dependency_error, id_key, quick_dynamodb};
use webhook::error::DependencyError;
use webhook::item::rfc3339;
use webhook::payload::WebhookId;

fn string(value: &str) -> AttributeValue {
    AttributeValue::S(value.to_owned())
}

/// A sent-texts item's key: `id` (a Number) and `text_type` (a String).
fn key_of(key: &TextKey) -> HashMap<String, AttributeValue> {
    HashMap::from([("id".to_owned(), id_key(key.id)), ("text_type".to_owned(), string(key.text_type.as_str()))])
}

/// The sent-texts table: one item per text (id and type), claimed with a conditional write before it is sent.
#[derive(Debug, Clone)]
pub struct DynamoTextLedger {
    table: DynamoTable,
}

impl From<DynamoTable> for DynamoTextLedger {
    fn from(table: DynamoTable) -> Self {
        Self { table }
    }
}

impl DynamoTextLedger {
    /// Opens the connection during initialisation ([`connection_opened`]) with a delete that cannot happen:
    /// the function may delete items, and a failed condition changes nothing.
    pub async fn open_connection(&self) {
        let key = key_of(&TextKey { id: WebhookId::new(0), text_type: TextType::Unspecified });
        let request = self.table.client.delete_item().table_name(&self.table.name).set_key(Some(key));
        let result = request.condition_expression(NEVER).customize().config_override(quick_dynamodb()).send().await;
        connection_opened("DynamoDB DeleteItem", result, Some("ConditionalCheckFailedException"));
    }
}

impl TextLedger for DynamoTextLedger {
    async fn claim(&self, claim: TextClaim<'_>) -> Result<ClaimOutcome, DependencyError> {
        let TextClaim { claimant, takes_over, item, .. } = claim;
        const OPERATION: &str = "DynamoDB PutItem (claim text)";
        let item = item.into_attributes();
        let text = [("phone_e164", item.get("phone_e164").cloned()), ("message", item.get("message").cloned())];
        let request = self
            .table
            .client
            .put_item()
            .table_name(&self.table.name)
            .set_item(Some(item))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        let request = match takes_over {
            // Only a new id: an existing item, whatever its state, means an earlier delivery may have sent it.
            None => request.condition_expression("attribute_not_exists(id)"),
            // Or the claim of the delivery that queued the text, which never published it.
            Some(queued_by) => request
                .condition_expression(
                    "attribute_not_exists(id) OR (claimed_by = :queued_by AND #status IN (:claimed, :queued))",
                )
                .expression_attribute_names("#status", "status")
                .expression_attribute_values(":queued_by", string(queued_by))
                .expression_attribute_values(":claimed", string(TextStatus::Claimed.as_str()))
                .expression_attribute_values(":queued", string(TextStatus::Queued.as_str())),
        };
        let result = request.send().await;
        match result {
            Ok(_) => Ok(ClaimOutcome::Claimed),
            Err(error) => match error.as_service_error() {
                Some(PutItemError::ConditionalCheckFailedException(failed)) => {
                    let existing = |name: &str| failed.item().and_then(|item| item.get(name));
                    let words = |name: &str| existing(name).and_then(|value| value.as_s().ok()).map(String::as_str);
                    let lease_expires_at =
                        existing("lease_expires_at").and_then(|value| value.as_n().ok()).and_then(|n| n.parse().ok());
                    let status = words("status").and_then(TextStatus::parse);
                    let claimed = |name: &str| text.iter().find(|(named, _)| *named == name)?.1.as_ref();
                    let same = failed.item().is_none_or(|old| ClaimOutcome::same_text(|name| old.get(name), claimed));
                    Ok(ClaimOutcome::of_existing(status, words("claimed_by"), lease_expires_at, same, claimant))
                }
                _ => Err(dependency_error(OPERATION, &error)),
            },
        }
    }

    async fn settle(
        &self,
        claim: HeldClaim<'_>,
        settlement: Settlement<'_>,
        at: OffsetDateTime,
    ) -> Result<(), DependencyError> {
        let (status, at) = (settlement.status(), rfc3339(at));
        let (operation, settled_at) = match settlement {
            Settlement::Sent { .. } => ("DynamoDB UpdateItem (mark text sent)", "sent_at"),
            Settlement::Unconfirmed => ("DynamoDB UpdateItem (mark text unconfirmed)", "unconfirmed_at"),
            Settlement::Queued => ("DynamoDB UpdateItem (mark text queued)", "queued_at"),
            Settlement::Expired => ("DynamoDB UpdateItem (mark text expired)", "expired_at"),
            Settlement::OutsideHours => ("DynamoDB UpdateItem (mark text outside hours)", "outside_hours_at"),
            Settlement::Failed { .. } => ("DynamoDB UpdateItem (mark text failed)", "failed_at"),
        };
        let mut attributes = vec![(settled_at, string(&at))];
        match settlement {
            Settlement::Sent { message_id, billing } => {
                let number = |value: usize| AttributeValue::N(value.to_string());
                attributes.push(("message_id", string(message_id)));
                attributes.push((SMS_ENCODING, string(billing.segments.encoding.name())));
                attributes.push((SMS_PARTS, number(billing.segments.count)));
                if billing.characters_replaced > 0 {
                    attributes.push((SMS_CHARACTERS_REPLACED, number(billing.characters_replaced)));
                }
            }
            Settlement::Failed { code } => attributes.push(("failure_code", string(code))),
            Settlement::Unconfirmed | Settlement::Queued | Settlement::Expired | Settlement::OutsideHours => {}
        }
        let set: Vec<String> = attributes.iter().map(|(name, _)| format!(", {name} = :{name}")).collect();
        let request = self
            .table
            .client
            .update_item()
            .table_name(&self.table.name)
            .set_key(Some(key_of(claim.key)))
            .update_expression(format!("SET #status = :status{}", set.concat()))
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":status", string(status.as_str()))
            .expression_attribute_values(":claimed_by", string(claim.claimed_by));
        // Our own claim, and for a queued mark only while unfinished.
        let request = match settlement {
            Settlement::Queued => request
                .condition_expression("claimed_by = :claimed_by AND #status = :from")
                .expression_attribute_values(":from", string(TextStatus::Claimed.as_str())),
            _ => request.condition_expression("claimed_by = :claimed_by"),
        };
        let request = attributes
            .into_iter()
            .fold(request, |request, (name, value)| request.expression_attribute_values(format!(":{name}"), value));
        request.send().await.map(drop).map_err(|error| dependency_error(operation, &error))
    }

    async fn release(&self, claim: HeldClaim<'_>) -> Result<(), DependencyError> {
        const OPERATION: &str = "DynamoDB DeleteItem (release text claim)";
        let result = self
            .table
            .client
            .delete_item()
            .table_name(&self.table.name)
            .set_key(Some(key_of(claim.key)))
            // Only our own unfinished claim: never a sent record or another delivery's claim.
            .condition_expression("claimed_by = :claimed_by AND #status = :claimed")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":claimed_by", string(claim.claimed_by))
            .expression_attribute_values(":claimed", string(TextStatus::Claimed.as_str()))
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
