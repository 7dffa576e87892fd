//! The adapters on the real SDK clients, their HTTP layer replaced by aws-smithy-mocks.

use super::{DynamoTextLedger, SnsSmsSender};
use crate::ledger::{
    ClaimOutcome, HeldClaim, SendFailure, Settlement, SmsSender, TextClaimRecord, TextKey, TextLedger,
};
use crate::settings::{SmsSettings, SmsType};
use crate::sms::{Segments, SmsBilling, SmsEncoding, SmsText};
use crate::text::{SendText, TextType};
use aws_sdk_dynamodb::operation::delete_item::{DeleteItemError, DeleteItemOutput};
use aws_sdk_dynamodb::operation::put_item::{PutItemError, PutItemOutput};
use aws_sdk_dynamodb::operation::update_item::UpdateItemOutput;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::types::error::ConditionalCheckFailedException;
use aws_sdk_sns::error::ErrorMetadata;
use aws_sdk_sns::operation::check_if_phone_number_is_opted_out::{
    CheckIfPhoneNumberIsOptedOutError, CheckIfPhoneNumberIsOptedOutOutput,
};
use aws_sdk_sns::operation::publish::{PublishError, PublishOutput};
use aws_smithy_mocks::{RuleMode, mock, mock_client};
use std::time::Duration;
use time::OffsetDateTime;
use webhook::aws::OnTable;
use webhook::error::DependencyError;
use webhook::payload::WebhookId;
use webhook::phone::{CountryCode, PhoneNumber};

fn phone() -> PhoneNumber {
    PhoneNumber::parse("2025550143", CountryCode::US).unwrap()
}

fn settings() -> SmsSettings {
    SmsSettings {
        sms_type: SmsType::Transactional,
        origination_number: Some("+18005550100".into()),
        sender_id: Some("Acme".into()),
        smart_encoding: true,
    }
}

fn send_text() -> SendText {
    let body = r#"{"id": 42, "record_phone_number": "2025550143", "message": "hi", "type": "pre-call"}"#;
    SendText::read(serde_json::from_str(body).unwrap()).unwrap()
}

fn key() -> TextKey {
    TextKey { id: WebhookId::new(42), text_type: TextType::PreCall }
}

#[tokio::test]
async fn publish_sends_the_e164_number_the_text_and_every_sms_attribute() {
    let rule = mock!(aws_sdk_sns::Client::publish)
        .match_requests(|request| {
            let attributes = request.message_attributes().unwrap();
            let value = |name: &str| attributes[name].string_value().unwrap().to_owned();
            request.phone_number() == Some("+12025550143")
                && request.message() == Some("hi")
                && request.topic_arn().is_none()
                && value("AWS.SNS.SMS.SMSType") == "Transactional"
                && value("AWS.SNS.SMS.SenderID") == "Acme"
                && value("AWS.MM.SMS.OriginationNumber") == "+18005550100"
                && attributes.values().all(|v| v.data_type() == "String")
        })
        .then_output(|| PublishOutput::builder().message_id("sns-1").build());
    let sender = SnsSmsSender::from_client(mock_client!(aws_sdk_sns, [&rule]), &settings()).unwrap();

    let message_id = sender.send(&phone(), &SmsText::parse("hi").unwrap()).await.unwrap();
    assert_eq!(message_id, "sns-1");
    assert_eq!(rule.num_calls(), 1);
}

#[tokio::test]
async fn the_opt_out_check_asks_sns_about_the_e164_number() {
    let opted_out = mock!(aws_sdk_sns::Client::check_if_phone_number_is_opted_out)
        .match_requests(|request| request.phone_number() == Some("+12025550143"))
        .then_output(|| CheckIfPhoneNumberIsOptedOutOutput::builder().is_opted_out(true).build());
    let sender = SnsSmsSender::from_client(mock_client!(aws_sdk_sns, [&opted_out]), &settings()).unwrap();
    assert_eq!(sender.is_opted_out(&phone()).await, Ok(true));

    // Not retried, so the 2 s budget of this fail-open call cannot turn it into a timeout on a slow machine.
    let denied = mock!(aws_sdk_sns::Client::check_if_phone_number_is_opted_out).then_error(|| {
        CheckIfPhoneNumberIsOptedOutError::generic(ErrorMetadata::builder().code("AuthorizationError").build())
    });
    let sender =
        SnsSmsSender::from_client(mock_client!(aws_sdk_sns, RuleMode::MatchAny, [&denied]), &settings()).unwrap();
    assert_eq!(sender.is_opted_out(&phone()).await.unwrap_err().cause, "service error AuthorizationError");
}

#[tokio::test]
async fn optional_sms_attributes_are_left_out_when_not_configured() {
    let rule = mock!(aws_sdk_sns::Client::publish)
        .match_requests(|request| request.message_attributes().unwrap().len() == 1)
        .then_output(|| PublishOutput::builder().message_id("sns-2").build());
    let bare = SmsSettings { origination_number: None, sender_id: None, ..settings() };
    let sender = SnsSmsSender::from_client(mock_client!(aws_sdk_sns, [&rule]), &bare).unwrap();
    assert_eq!(sender.send(&phone(), &SmsText::parse("hi").unwrap()).await.unwrap(), "sns-2");
}

#[tokio::test]
async fn a_publish_error_is_classified_by_code_without_the_service_message() {
    let rule = mock!(aws_sdk_sns::Client::publish).then_error(|| {
        PublishError::generic(
            ErrorMetadata::builder().code("Throttling").message("Rate exceeded for +12025550143").build(),
        )
    });
    let client = mock_client!(aws_sdk_sns, RuleMode::MatchAny, [&rule]);
    let sender = SnsSmsSender::from_client(client, &settings()).unwrap();

    let error = sender.send(&phone(), &SmsText::parse("hi").unwrap()).await.unwrap_err();
    assert_eq!(error, SendFailure::Throttled(DependencyError::new("SNS Publish", "service error Throttling")));
    assert!(!error.to_string().contains("2025550143"));
}

#[tokio::test]
async fn the_sdk_repeats_a_throttled_publish_for_the_webhook_and_answers_it_at_once_to_the_redrives_pace() {
    let throttled_once = || {
        mock!(aws_sdk_sns::Client::publish)
            .sequence()
            .error(|| PublishError::generic(ErrorMetadata::builder().code("Throttling").build()))
            .output(|| PublishOutput::builder().message_id("sns-3").build())
            .build()
    };
    // Standard retries, as deployed, with the backoff made instant.
    let retrying = |config: aws_sdk_sns::config::Builder| {
        config.retry_config(aws_sdk_sns::config::retry::RetryConfig::standard().with_initial_backoff(Duration::ZERO))
    };
    let rule = throttled_once();
    let sender =
        SnsSmsSender::from_client(mock_client!(aws_sdk_sns, RuleMode::MatchAny, [&rule], retrying), &settings());
    assert_eq!(sender.unwrap().send(&phone(), &SmsText::parse("hi").unwrap()).await, Ok("sns-3".to_owned()));
    assert_eq!(rule.num_calls(), 2);

    let rule = throttled_once();
    let sender =
        SnsSmsSender::from_client(mock_client!(aws_sdk_sns, RuleMode::MatchAny, [&rule], retrying), &settings());
    let paced = sender.unwrap().throttles_to_caller();
    let error = paced.send(&phone(), &SmsText::parse("hi").unwrap()).await.unwrap_err();
    assert_eq!(error, SendFailure::Throttled(DependencyError::new("SNS Publish", "service error Throttling")));
    assert_eq!(rule.num_calls(), 1);
}

/// The claim put's condition failed on an item in `status`, claimed by `claimed_by` until `lease_expires_at`,
/// holding `message` for the claim's number.
fn conditional_failure(status: &str, claimed_by: &str, lease_expires_at: i64, message: &str) -> PutItemError {
    PutItemError::ConditionalCheckFailedException(
        ConditionalCheckFailedException::builder()
            .item("status", AttributeValue::S(status.into()))
            .item("claimed_by", AttributeValue::S(claimed_by.into()))
            .item("lease_expires_at", AttributeValue::N(lease_expires_at.to_string()))
            .item("phone_e164", AttributeValue::S("+12025550143".into()))
            .item("message", AttributeValue::S(message.into()))
            .build(),
    )
}

async fn claim_with(rule: &aws_smithy_mocks::Rule) -> Result<ClaimOutcome, DependencyError> {
    let ledger = DynamoTextLedger::from_client(mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, [rule]), "texts");
    let (text, key, to) = (send_text(), key(), phone());
    let record = TextClaimRecord::new(
        &key,
        text.fields,
        &to,
        "req-1",
        OffsetDateTime::now_utc(),
        OffsetDateTime::now_utc(),
        None,
    );
    ledger.claim(record.claim(None).unwrap()).await
}

#[tokio::test]
async fn a_claim_is_a_conditional_put_of_the_whole_text() {
    let rule = mock!(aws_sdk_dynamodb::Client::put_item)
        .match_requests(|request| {
            let item = request.item().unwrap();
            request.table_name() == Some("texts")
                && request.condition_expression() == Some("attribute_not_exists(id)")
                && item["id"] == AttributeValue::N("42".into())
                && item["text_type"] == AttributeValue::S("pre-call".into())
                && item["status"] == AttributeValue::S("claimed".into())
                && item["claimed_by"] == AttributeValue::S("req-1".into())
                && item["phone_e164"] == AttributeValue::S("+12025550143".into())
                && item["type"] == AttributeValue::S("pre-call".into())
        })
        .then_output(|| PutItemOutput::builder().build());
    assert_eq!(claim_with(&rule).await, Ok(ClaimOutcome::Claimed));
}

#[tokio::test]
async fn a_failed_claim_condition_is_judged_by_the_existing_item() {
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let cases = [
        (("sent", "req-0", now - 100, "hi"), ClaimOutcome::AlreadySent),
        (("claimed", "req-0", now + 60, "hi"), ClaimOutcome::InProgress),
        (("claimed", "req-0", now - 1, "hi"), ClaimOutcome::Unconfirmed),
        (("unconfirmed", "req-0", now + 60, "hi"), ClaimOutcome::Unconfirmed),
        (("failed", "req-0", now - 100, "hi"), ClaimOutcome::Failed),
        // The SDK repeated our own put after the first one's answer was lost.
        (("claimed", "req-1", now + 60, "hi"), ClaimOutcome::Claimed),
        // Another message under the same id and type: 2X reused the id, whatever became of the first text.
        (("sent", "req-0", now - 100, "another"), ClaimOutcome::IdReused),
        (("queued", "req-0", now + 60, "another"), ClaimOutcome::IdReused),
    ];
    for ((status, claimed_by, lease, message), expected) in cases {
        let rule = mock!(aws_sdk_dynamodb::Client::put_item)
            .then_error(move || conditional_failure(status, claimed_by, lease, message));
        assert_eq!(claim_with(&rule).await, Ok(expected), "{status} by {claimed_by}, {message}");
    }
}

#[tokio::test]
async fn other_claim_errors_are_dependency_failures() {
    let throttled = mock!(aws_sdk_dynamodb::Client::put_item).then_error(|| {
        PutItemError::generic(ErrorMetadata::builder().code("ProvisionedThroughputExceededException").build())
    });
    let error = claim_with(&throttled).await.unwrap_err();
    assert_eq!(error.cause, "service error ProvisionedThroughputExceededException");
}

#[tokio::test]
async fn releasing_a_claim_that_is_no_longer_ours_and_unfinished_is_not_an_error() {
    let gone = mock!(aws_sdk_dynamodb::Client::delete_item)
        .match_requests(|request| request.condition_expression().unwrap().contains("claimed_by = :claimed_by"))
        .then_error(|| {
            DeleteItemError::ConditionalCheckFailedException(ConditionalCheckFailedException::builder().build())
        });
    let ledger = DynamoTextLedger::from_client(mock_client!(aws_sdk_dynamodb, [&gone]), "texts");
    assert_eq!(ledger.release(HeldClaim { key: &key(), claimed_by: "req-1" }).await, Ok(()));

    let released = mock!(aws_sdk_dynamodb::Client::delete_item)
        .match_requests(|request| {
            request.key().is_some_and(|key| key["text_type"] == AttributeValue::S("pre-call".into()))
        })
        .then_output(|| DeleteItemOutput::builder().build());
    let ledger = DynamoTextLedger::from_client(mock_client!(aws_sdk_dynamodb, [&released]), "texts");
    assert_eq!(ledger.release(HeldClaim { key: &key(), claimed_by: "req-1" }).await, Ok(()));
}

#[tokio::test]
async fn a_text_sns_refused_for_good_is_settled_failed_with_its_code() {
    let update = mock!(aws_sdk_dynamodb::Client::update_item)
        .match_requests(|request| {
            let values = request.expression_attribute_values().unwrap();
            request.key().unwrap()["id"] == AttributeValue::N("42".into())
                && request.key().unwrap()["text_type"] == AttributeValue::S("pre-call".into())
                && request.condition_expression() == Some("claimed_by = :claimed_by")
                && values[":status"] == AttributeValue::S("failed".into())
                && values[":failure_code"] == AttributeValue::S("InvalidParameter".into())
                && values[":failed_at"] == AttributeValue::S("1970-01-01T00:00:00Z".into())
                && values[":claimed_by"] == AttributeValue::S("req-1".into())
        })
        .then_output(|| UpdateItemOutput::builder().build());
    let ledger = DynamoTextLedger::from_client(mock_client!(aws_sdk_dynamodb, [&update]), "texts");
    let held = HeldClaim { key: &key(), claimed_by: "req-1" };
    let failed = Settlement::Failed { code: "InvalidParameter" };
    assert_eq!(ledger.settle(held, failed, OffsetDateTime::UNIX_EPOCH).await, Ok(()));
}

/// A sent text keeps what it is billed as: numbers as Numbers, the characters replaced only when smart encoding
/// replaced any.
#[tokio::test]
async fn a_sent_text_is_settled_with_its_message_id_encoding_and_parts() {
    let sent = |replaced: usize| {
        mock!(aws_sdk_dynamodb::Client::update_item)
            .match_requests(move |request| {
                let values = request.expression_attribute_values().unwrap();
                let expression = request.update_expression().unwrap();
                expression.starts_with("SET #status = :status, sent_at = :sent_at, message_id = :message_id")
                    && expression.contains("sms_encoding = :sms_encoding, sms_parts = :sms_parts")
                    && values[":status"] == AttributeValue::S("sent".into())
                    && values[":message_id"] == AttributeValue::S("m-1".into())
                    && values[":sms_encoding"] == AttributeValue::S("GSM-7".into())
                    && values[":sms_parts"] == AttributeValue::N("2".into())
                    && match replaced {
                        0 => !expression.contains("sms_characters_replaced") && values.len() == 6,
                        n => values[":sms_characters_replaced"] == AttributeValue::N(n.to_string()),
                    }
            })
            .then_output(|| UpdateItemOutput::builder().build())
    };
    for replaced in [0, 3] {
        let rule = sent(replaced);
        let ledger = DynamoTextLedger::from_client(mock_client!(aws_sdk_dynamodb, [&rule]), "texts");
        let held = HeldClaim { key: &key(), claimed_by: "req-1" };
        let segments = Segments { encoding: SmsEncoding::Gsm7, count: 2 };
        let billing = SmsBilling { segments, characters_replaced: replaced, parts_saved: 1 };
        let settlement = Settlement::Sent { message_id: "m-1", billing };
        assert_eq!(ledger.settle(held, settlement, OffsetDateTime::UNIX_EPOCH).await, Ok(()), "{replaced}");
        assert_eq!(rule.num_calls(), 1);
    }
}

/// A queued mark applies only to an unfinished claim: the redrive may have taken it over and sent the text.
#[tokio::test]
async fn a_queued_mark_applies_only_to_an_unfinished_claim() {
    let update = mock!(aws_sdk_dynamodb::Client::update_item)
        .match_requests(|request| {
            let values = request.expression_attribute_values().unwrap();
            request.condition_expression() == Some("claimed_by = :claimed_by AND #status = :from")
                && values[":from"] == AttributeValue::S("claimed".into())
                && values[":status"] == AttributeValue::S("queued".into())
                && values.contains_key(":queued_at")
        })
        .then_output(|| UpdateItemOutput::builder().build());
    let ledger = DynamoTextLedger::from_client(mock_client!(aws_sdk_dynamodb, [&update]), "texts");
    let held = HeldClaim { key: &key(), claimed_by: "req-1" };
    assert_eq!(ledger.settle(held, Settlement::Queued, OffsetDateTime::UNIX_EPOCH).await, Ok(()));
}

/// What a failed publish means: SNS refusing it for good (settled, never retried), for now (sent later), or
/// failing with a 5xx after it received it (maybe sent: never repeated).
#[tokio::test]
async fn a_failed_publish_is_classified_by_what_sns_did_with_it() {
    let answered = |status: u16, code: &'static str| {
        mock!(aws_sdk_sns::Client::publish).then_http_response(move || {
            let body = format!(
                "<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>+12025550143</Message></Error>\
                 <RequestId>r</RequestId></ErrorResponse>"
            );
            let mut response = aws_smithy_runtime_api::http::Response::new(
                aws_smithy_runtime_api::http::StatusCode::try_from(status).unwrap(),
                aws_smithy_types::body::SdkBody::from(body),
            );
            response.headers_mut().insert("content-type", "text/xml");
            response
        })
    };
    for (status, code, expected) in [
        (400, "InvalidParameter", "refused"),
        (400, "ParameterValueInvalid", "refused"),
        (400, "ValidationException", "refused"),
        (400, "InvalidParameterValue", "not sent"),
        (400, "Throttling", "throttled"),
        (400, "ThrottlingException", "throttled"),
        (400, "Throttled", "not sent"),
        (403, "AuthorizationError", "not sent"),
        (400, "KMSThrottling", "not sent"),
        (500, "InternalError", "unconfirmed"),
        (503, "ServiceUnavailable", "unconfirmed"),
    ] {
        let rule = answered(status, code);
        let sender =
            SnsSmsSender::from_client(mock_client!(aws_sdk_sns, RuleMode::MatchAny, [&rule]), &settings()).unwrap();
        let failure = sender.send(&phone(), &SmsText::parse("hi").unwrap()).await.unwrap_err();
        let kind = match &failure {
            SendFailure::Refused { code: refused, .. } => {
                assert_eq!(refused, code);
                "refused"
            }
            SendFailure::NotSent(_) => "not sent",
            SendFailure::Throttled(_) => "throttled",
            SendFailure::Unconfirmed(_) => "unconfirmed",
        };
        assert_eq!(kind, expected, "{status} {code}");
        assert!(!failure.to_string().contains("2025550143"), "{failure}");
    }
}

#[tokio::test]
async fn connections_are_opened_at_start_with_requests_that_change_nothing() {
    let never = |condition: Option<&str>| condition == Some("attribute_exists(id) AND attribute_not_exists(id)");
    let delete = mock!(aws_sdk_dynamodb::Client::delete_item)
        .match_requests(move |request| never(request.condition_expression()) && request.table_name() == Some("texts"))
        .then_error(|| {
            DeleteItemError::ConditionalCheckFailedException(ConditionalCheckFailedException::builder().build())
        });
    DynamoTextLedger::from_client(mock_client!(aws_sdk_dynamodb, [&delete]), "texts").open_connection().await;
    assert_eq!(delete.num_calls(), 1);

    let check = mock!(aws_sdk_sns::Client::check_if_phone_number_is_opted_out)
        .match_requests(|request| request.phone_number() == Some("+12025550100"))
        .then_output(|| CheckIfPhoneNumberIsOptedOutOutput::builder().is_opted_out(false).build());
    SnsSmsSender::from_client(mock_client!(aws_sdk_sns, [&check]), &settings()).unwrap().open_connection().await;
    assert_eq!(check.num_calls(), 1);
}
