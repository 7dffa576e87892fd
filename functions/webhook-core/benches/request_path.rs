//! Our own code on the request path, without the SDK's network work: `cargo bench -p webhook-core`.
//! - post-call: parse + authenticate + validate + build the DynamoDB item, for a call with a 200-turn transcript;
//! - send-text: parse + authenticate + validate + build the claim item and the SNS Publish request.

// A benchmark whose fixed inputs stopped parsing should stop loudly.
#![allow(clippy::unwrap_used)]
use criterion::{Criterion, criterion_group, criterion_main};
use lambda_http::http::{HeaderMap, HeaderName, HeaderValue};
use serde_json::{Value, json};
use std::hint::black_box;
use time::OffsetDateTime;
use webhook_core::auth::{AuthToken, Authenticator, TokenPair};
use webhook_core::http::parse_json;
use webhook_core::item_size::dynamodb_item_size;
use webhook_core::payload::{PostCall, SendText};
use webhook_core::phone::{CountryCode, PhoneNumber};
use webhook_core::records::{CallRecord, TextClaimRecord};
use webhook_core::sms::SmsText;

const TOKEN: &str = "bench-token";

fn sample(name: &str) -> Value {
    let path = format!("{}/../../events/{name}.json", env!("CARGO_MANIFEST_DIR"));
    let event: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    serde_json::from_str(event["body"].as_str().unwrap()).unwrap()
}

fn block_on<F: std::future::Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let mut context = std::task::Context::from_waker(std::task::Waker::noop());
    loop {
        if let std::task::Poll::Ready(output) = future.as_mut().poll(&mut context) {
            return output;
        }
    }
}

fn request_path(c: &mut Criterion) {
    PhoneNumber::load_metadata(CountryCode::US);
    let tokens = TokenPair { current: AuthToken::new(TOKEN).unwrap(), previous: None };
    let authenticator = Authenticator::fixed(HeaderName::from_static("authorization"), tokens);
    let mut headers = HeaderMap::new();
    headers.insert("authorization", HeaderValue::from_static(TOKEN));

    let mut call = sample("post-call-transferred");
    let turns: Vec<Value> = (0..200)
        .map(|n| json!({"role": if n % 2 == 0 { "Assistant" } else { "User" }, "content": format!("Turn {n}: I would like to hear more about the appointment options for next week.")}))
        .collect();
    call["transcript"] = turns.into();
    let call_body = serde_json::to_vec(&call).unwrap();
    c.bench_function("post-call: parse, auth, validate, DynamoDB item (200 turns)", |b| {
        b.iter(|| {
            assert!(block_on(authenticator.is_authorized(black_box(&headers))));
            let call: PostCall = parse_json(black_box(&call_body)).unwrap();
            let phone =
                call.record_phone_number.as_deref().and_then(|raw| PhoneNumber::parse(raw, CountryCode::US).ok());
            let (record, size) =
                CallRecord::new(call, phone.as_ref(), OffsetDateTime::now_utc(), None).fitted().unwrap();
            let item: std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue> =
                serde_dynamo::to_item(&record).unwrap();
            black_box((item, size))
        })
    });

    let text_body = serde_json::to_vec(&sample("send-text-pre-call")).unwrap();
    c.bench_function("send-text: parse, auth, validate, claim item, SNS request", |b| {
        b.iter(|| {
            assert!(block_on(authenticator.is_authorized(black_box(&headers))));
            let text: SendText = parse_json(black_box(&text_body)).unwrap();
            let to = PhoneNumber::parse(&text.record_phone_number, CountryCode::US).unwrap();
            let claim = TextClaimRecord::new(text, &to, "bench-request", OffsetDateTime::now_utc(), None);
            let message = SmsText::parse(&claim.text.message).unwrap();
            dynamodb_item_size(&claim).unwrap();
            let item: std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue> =
                serde_dynamo::to_item(&claim).unwrap();
            let attribute = aws_sdk_sns::types::MessageAttributeValue::builder()
                .data_type("String")
                .string_value("Transactional")
                .build()
                .unwrap();
            let publish = aws_sdk_sns::operation::publish::PublishInput::builder()
                .phone_number(to.e164())
                .message(message.as_str())
                .message_attributes("AWS.SNS.SMS.SMSType", attribute)
                .build()
                .unwrap();
            black_box((item, publish, message.segments()))
        })
    });
}

criterion_group!(benches, request_path);
criterion_main!(benches);
