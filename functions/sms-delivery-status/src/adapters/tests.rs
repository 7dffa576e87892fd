//! The DynamoDB adapter on the real SDK client, its HTTP layer replaced by aws-smithy-mocks: the requests it
//! makes, and how it reads DynamoDB's answers.

use super::{DynamoDeliveryLedger, MESSAGE_ID_INDEX};
use crate::ports::{DeliveryLedger, Recorded, ReportedText};
use crate::report::DeliveryReport;
use aws_sdk_dynamodb::operation::query::QueryOutput;
use aws_sdk_dynamodb::operation::update_item::{UpdateItemError, UpdateItemOutput};
use aws_sdk_dynamodb::types::error::ConditionalCheckFailedException;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use aws_smithy_mocks::{RuleMode, mock, mock_client};
use std::collections::HashMap;
use webhook::aws::OnTable;
use webhook::payload::WebhookId;

fn report(line: &str) -> DeliveryReport {
    DeliveryReport::parse(line).unwrap()
}

fn success() -> DeliveryReport {
    report(
        r#"{"notification": {"messageId": "m-1", "timestamp": "2026-11-24 09:00:05.120"},
            "delivery": {"priceInUSD": 0.00645, "providerResponse": "Message has been accepted by phone carrier",
                         "destination": "+12025550143", "smsType": "Transactional", "numberOfMessageParts": 2},
            "status": "SUCCESS"}"#,
    )
}

fn found(id: &'static str) -> aws_smithy_mocks::Rule {
    mock!(aws_sdk_dynamodb::Client::query)
        .match_requests(|query| {
            query.table_name() == Some("texts")
                && query.index_name() == Some(MESSAGE_ID_INDEX)
                && query.key_condition_expression() == Some("message_id = :message_id")
                && query.expression_attribute_values().unwrap()[":message_id"] == AttributeValue::S("m-1".into())
        })
        .then_output(move || {
            let item = HashMap::from([
                ("id".to_owned(), AttributeValue::N(id.into())),
                ("text_type".to_owned(), AttributeValue::S("pre-call".into())),
                ("message_id".to_owned(), AttributeValue::S("m-1".into())),
            ]);
            QueryOutput::builder().items(item).build()
        })
}

#[tokio::test]
async fn a_report_is_set_on_the_text_found_by_its_message_id_only_if_newer() {
    let update = mock!(aws_sdk_dynamodb::Client::update_item)
        .match_requests(|update| {
            let values = update.expression_attribute_values().unwrap();
            let condition = update.condition_expression().unwrap();
            update.key()
                == Some(&HashMap::from([
                    ("id".to_owned(), AttributeValue::N("1234".into())),
                    ("text_type".to_owned(), AttributeValue::S("pre-call".into())),
                ]))
                && condition.starts_with("message_id = :message_id AND")
                && condition.contains("delivery_reported_at < :reported_at")
                && values[":message_id"] == AttributeValue::S("m-1".into())
                && values[":status"] == AttributeValue::S("SUCCESS".into())
                && values[":reported_at"] == AttributeValue::S("2026-11-24T09:00:05.120Z".into())
                && values[":price_usd"] == AttributeValue::N("0.00645".into())
                && values[":parts"] == AttributeValue::N("2".into())
                && update.return_values() == Some(&ReturnValue::AllNew)
                && update.update_expression()
                    == Some(
                        "SET delivery_status = :status, delivery_reported_at = :reported_at, \
                         delivery_provider_response = :provider_response, delivery_price_usd = :price_usd, \
                         delivery_parts = :parts",
                    )
        })
        .then_output(|| {
            let item = HashMap::from([("sms_parts".to_owned(), AttributeValue::N("1".into()))]);
            UpdateItemOutput::builder().set_attributes(Some(item)).build()
        });
    let query = found("1234");
    let ledger = DynamoDeliveryLedger::from_client(mock_client!(aws_sdk_dynamodb, [&query, &update]), "texts");

    let counted = ReportedText { id: WebhookId::new(1234), text_type: "pre-call".into(), counted_parts: Some(1) };
    assert_eq!(ledger.record(&success()).await, Ok(Recorded::Applied(counted)));
    assert_eq!((query.num_calls(), update.num_calls()), (1, 1));
}

#[tokio::test]
async fn what_a_newer_report_leaves_out_is_removed() {
    let update = mock!(aws_sdk_dynamodb::Client::update_item)
        .match_requests(|update| {
            update.update_expression()
                == Some(
                    "SET delivery_status = :status, delivery_reported_at = :reported_at \
                     REMOVE delivery_provider_response, delivery_price_usd, delivery_parts",
                )
        })
        .then_output(|| UpdateItemOutput::builder().build());
    let query = found("7");
    let ledger = DynamoDeliveryLedger::from_client(mock_client!(aws_sdk_dynamodb, [&query, &update]), "texts");
    let bare =
        report(r#"{"notification": {"messageId": "m-1", "timestamp": "2026-11-24 09:00:06"}, "status": "FAILURE"}"#);
    // A text sent before send-text counted its parts has none to compare.
    let uncounted = ReportedText { id: WebhookId::new(7), text_type: "pre-call".into(), counted_parts: None };
    assert_eq!(ledger.record(&bare).await, Ok(Recorded::Applied(uncounted)));
}

#[tokio::test]
async fn a_failed_condition_is_already_current_or_a_text_gone_meanwhile() {
    let query = found("1234");
    let current = mock!(aws_sdk_dynamodb::Client::update_item).then_error(|| {
        let kept = HashMap::from([("id".to_owned(), AttributeValue::N("1234".into()))]);
        UpdateItemError::ConditionalCheckFailedException(
            ConditionalCheckFailedException::builder().set_item(Some(kept)).build(),
        )
    });
    let ledger = DynamoDeliveryLedger::from_client(
        mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, [&query, &current]),
        "texts",
    );
    assert_eq!(ledger.record(&success()).await, Ok(Recorded::AlreadyCurrent { id: WebhookId::new(1234) }));

    let gone = mock!(aws_sdk_dynamodb::Client::update_item).then_error(|| {
        UpdateItemError::ConditionalCheckFailedException(ConditionalCheckFailedException::builder().build())
    });
    let ledger =
        DynamoDeliveryLedger::from_client(mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, [&query, &gone]), "texts");
    assert_eq!(ledger.record(&success()).await, Ok(Recorded::UnknownMessage));
}

#[tokio::test]
async fn a_message_id_no_text_has_is_unknown_and_updates_nothing() {
    let none = mock!(aws_sdk_dynamodb::Client::query).then_output(|| QueryOutput::builder().build());
    let ledger = DynamoDeliveryLedger::from_client(mock_client!(aws_sdk_dynamodb, [&none]), "texts");
    // Any update would panic the test: no rule answers it.
    assert_eq!(ledger.record(&success()).await, Ok(Recorded::UnknownMessage));
}
