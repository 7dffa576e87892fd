//! send-text's own code on the request path, without the SDK's network work: `cargo bench -p send-text`.
//! Parse + authenticate + validate + build the claim item (once) and the SNS Publish request.

// A benchmark whose fixed inputs stopped parsing should stop loudly.
#![allow(clippy::unwrap_used)]
use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use texts::ledger::{TextClaimRecord, TextKey};
use texts::sms::SmsText;
use texts::text::SendText;
use time::OffsetDateTime;
use webhook::payload::parse_object;
use webhook::phone::{CountryCode, PhoneNumber};
use webhook_test_support::events::{sample_authenticator, sample_body, sample_headers};

fn request_path(c: &mut Criterion) {
    PhoneNumber::load_metadata(CountryCode::US);
    let (authenticator, headers) = (sample_authenticator(), sample_headers());
    // The authenticator's future never waits here; tokio's runtime drives it.
    let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();

    let text_body = serde_json::to_vec(&sample_body("send-text-pre-call")).unwrap();
    c.bench_function("send-text: parse, auth, validate, claim item, SNS request", |b| {
        b.iter(|| {
            assert!(runtime.block_on(authenticator.is_authorized(black_box(&headers))));
            let text = SendText::read(parse_object(black_box(&text_body)).unwrap()).unwrap();
            let to = PhoneNumber::parse(&text.record_phone_number, CountryCode::US).unwrap();
            let kind = to.line_type();
            let message = SmsText::parse(&text.message).unwrap().smart_encoded();
            let key = TextKey { id: text.id, text_type: text.text_type };
            let now = OffsetDateTime::now_utc();
            let record = TextClaimRecord::new(&key, text.fields, &to, "bench-request", now, now, None);
            let claim = record.claim(None).unwrap();
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
            black_box((kind, claim.item, publish, message.segments()))
        })
    });
}

criterion_group!(benches, request_path);
criterion_main!(benches);
