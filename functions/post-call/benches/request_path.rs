//! post-call's own code on the request path, without the SDK's network work: `cargo bench -p post-call`.
//! Parse + authenticate + validate + build (once), check and measure the DynamoDB item of a call with a 200-turn
//! transcript.

// A benchmark whose fixed inputs stopped parsing should stop loudly.
#![allow(clippy::unwrap_used)]
use calls::record::CallRecord;
use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::{Value, json};
use std::hint::black_box;
use time::OffsetDateTime;
use webhook::payload::{parse_object, phone_text, required_id};
use webhook::phone::{CountryCode, PhoneNumber};
use webhook_test_support::events::{sample_authenticator, sample_body, sample_headers};

fn request_path(c: &mut Criterion) {
    PhoneNumber::load_metadata(CountryCode::US);
    let (authenticator, headers) = (sample_authenticator(), sample_headers());
    // The authenticator's future never waits here; tokio's runtime drives it.
    let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();

    let mut call = sample_body("post-call-transferred");
    let turns: Vec<Value> = (0..200)
        .map(|n| json!({"role": if n % 2 == 0 { "Assistant" } else { "User" }, "content": format!("Turn {n}: I would like to hear more about the appointment options for next week.")}))
        .collect();
    call["transcript"] = turns.into();
    let call_body = serde_json::to_vec(&call).unwrap();
    c.bench_function("post-call: parse, auth, validate, DynamoDB item (200 turns)", |b| {
        b.iter(|| {
            assert!(runtime.block_on(authenticator.is_authorized(black_box(&headers))));
            let mut call = parse_object(black_box(&call_body)).unwrap();
            let raw = call.get("record_phone_number").and_then(phone_text);
            let phone = raw.and_then(|raw| PhoneNumber::parse(&raw, CountryCode::US).ok());
            let id = required_id(&call).unwrap();
            call.remove("id");
            let item = CallRecord::new(id, call, phone.as_ref(), OffsetDateTime::now_utc(), None).into_item().unwrap();
            black_box(item)
        })
    });
}

criterion_group!(benches, request_path);
criterion_main!(benches);
