//! The property on at least 10,000 generated bodies per endpoint: random bytes; the sample events truncated,
//! bit-flipped and spliced; any JSON (wrong types, huge, negative and fractional numbers, NUL, emoji) at every
//! path of a sample; raw number literals no JSON library round-trips; deep nesting; megabyte strings.

use super::BodyCheck;
use crate::events::sample_body;
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Value, json};
use std::sync::LazyLock;

const CASES: u32 = 10_000;

static SEND_TEXT: LazyLock<Vec<Value>> =
    LazyLock::new(|| ["send-text-pre-call", "send-text-post-voicemail"].map(sample_body).into());
static POST_CALL: LazyLock<Vec<Value>> = LazyLock::new(|| {
    ["post-call-transferred", "post-call-failure-reason", "post-call-no-answer", "post-call-do-not-call"]
        .map(sample_body)
        .into()
});
static TEXT_OPTOUT: LazyLock<Vec<Value>> =
    LazyLock::new(|| ["text-optout-10-digit", "text-optout-plus-1"].map(sample_body).into());

/// Every JSON pointer into `value`, the root included.
fn pointers(value: &Value, at: String, into: &mut Vec<String>) {
    match value {
        Value::Object(fields) => fields.iter().for_each(|(key, field)| pointers(field, format!("{at}/{key}"), into)),
        Value::Array(items) => items.iter().enumerate().for_each(|(n, item)| pointers(item, format!("{at}/{n}"), into)),
        _ => {}
    }
    into.push(at);
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[0-9+() -]{0,20}",
        Just("\u{0}".to_owned()),
        Just("😀👍🏽📞".repeat(20)),
        Just(String::new()),
        Just("   ".to_owned()),
    ]
}

fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(|n| serde_json::Number::from_f64(n).map_or(Value::Null, Value::Number)),
        text().prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..4).prop_map(Value::from),
            vec((text(), inner), 0..4).prop_map(|fields| { Value::Object(fields.into_iter().collect()) }),
        ]
    })
}

/// A sample with the value at one of its paths replaced by any JSON.
fn replaced_at_a_path(samples: &'static [Value]) -> impl Strategy<Value = Vec<u8>> {
    (0..samples.len(), any::<prop::sample::Index>(), any_json()).prop_map(move |(sample, path, replacement)| {
        let mut payload = samples[sample].clone();
        let mut paths = Vec::new();
        pointers(&payload, String::new(), &mut paths);
        let path = &paths[path.index(paths.len())];
        match payload.pointer_mut(path) {
            Some(slot) => *slot = replacement,
            None => payload = replacement,
        }
        payload.to_string().into_bytes()
    })
}

/// A sample's text truncated, with bytes flipped, or with random bytes spliced in.
fn mutated(samples: &'static [Value]) -> impl Strategy<Value = Vec<u8>> {
    let edits = vec((any::<prop::sample::Index>(), any::<u8>(), 0..3u8), 1..6);
    (0..samples.len(), edits).prop_map(move |(sample, edits)| {
        let mut bytes = samples[sample].to_string().into_bytes();
        for (at, byte, kind) in edits {
            let at = at.index(bytes.len().max(1)).min(bytes.len());
            match kind {
                0 => bytes.truncate(at),
                1 if at < bytes.len() => bytes[at] ^= byte.max(1),
                _ => bytes.insert(at, byte),
            }
        }
        bytes
    })
}

/// The id (or a phone, or a number inside) as a raw literal: out of range, negative, fractional, exponent.
fn raw_numbers(samples: &'static [Value]) -> impl Strategy<Value = Vec<u8>> {
    let literals = prop::sample::select(vec![
        "-1",
        "0",
        "-0",
        "1.5",
        "1e3",
        "1E400",
        "-1e-400",
        "18446744073709551615",
        "18446744073709551616",
        "99999999999999999999999999999",
        "1.0",
        "0001",
        "NaN",
        "Infinity",
        "0x10",
        "\"0x10\"",
        "\"-5\"",
        "\"1e3\"",
        "\" 7\"",
        "\"\"",
        "\"18446744073709551616\"",
    ]);
    (0..samples.len(), prop::sample::select(vec!["/id", "/record_phone_number", "/call/duration"]), literals).prop_map(
        move |(sample, path, literal)| {
            let mut payload = samples[sample].clone();
            if let Some(slot) = payload.pointer_mut(path) {
                *slot = json!("__RAW__");
            }
            payload.to_string().replace("\"__RAW__\"", literal).into_bytes()
        },
    )
}

fn deeply_nested() -> impl Strategy<Value = Vec<u8>> {
    (1..100_000usize, any::<bool>()).prop_map(|(depth, arrays)| {
        let (open, close) = if arrays { ("[", "]") } else { ("{\"a\":", "}") };
        format!("{}1{}", open.repeat(depth), close.repeat(depth)).into_bytes()
    })
}

/// A megabyte string at one of the paths a receiver is most likely to copy.
fn megabyte_strings(samples: &'static [Value]) -> impl Strategy<Value = Vec<u8>> {
    let paths = prop::sample::select(vec!["/message", "/record_first_name", "/transcript", "/meta", "/id"]);
    (0..samples.len(), paths, prop::sample::select(vec!["a", "😀", "\u{0}"])).prop_map(move |(sample, path, unit)| {
        let mut payload = samples[sample].clone();
        let huge = Value::from(unit.repeat(1 << 20));
        match payload.pointer_mut(path) {
            Some(slot) => *slot = huge,
            None => payload["extra"] = huge,
        }
        payload.to_string().into_bytes()
    })
}

fn bodies(samples: &'static [Value]) -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        20 => vec(any::<u8>(), 0..600),
        20 => mutated(samples),
        40 => replaced_at_a_path(samples),
        10 => raw_numbers(samples),
        // The samples themselves, so that valid deliveries and their repeats are part of every run.
        6 => (0..samples.len()).prop_map(move |sample| samples[sample].to_string().into_bytes()),
        3 => deeply_nested(),
        1 => megabyte_strings(samples),
    ]
}

fn check(samples: &'static [Value], property: impl Fn(&BodyCheck, &[u8]) -> Result<(), String>) {
    let config = Config { cases: CASES, failure_persistence: None, ..Config::default() };
    let webhooks = BodyCheck::default();
    let result =
        TestRunner::new(config).run(&bodies(samples), |body| property(&webhooks, &body).map_err(TestCaseError::fail));
    if let Err(failure) = result {
        panic!("{failure}");
    }
}

#[test]
fn send_text_answers_every_body_with_a_json_4xx_or_a_correct_success() {
    check(&SEND_TEXT, BodyCheck::send_text);
}

#[test]
fn post_call_answers_every_body_with_a_json_4xx_or_a_correct_success() {
    check(&POST_CALL, BodyCheck::post_call);
}

#[test]
fn text_optout_answers_every_body_with_a_json_4xx_or_a_correct_success() {
    check(&TEXT_OPTOUT, BodyCheck::text_optout);
}

/// Opt-outs, do-not-call records and texts to a handful of leads, interleaved on one suppression list: a lead is
/// never texted once listed (BodyCheck::send_text fails on any text to a listed number).
#[test]
fn a_listed_lead_is_never_texted_whatever_the_order() {
    let leads = ["2025550171", "+12025550172", "2025550173", "(202) 555-0174"];
    let delivery = (0..3usize, prop::sample::select(leads.to_vec()), 1..50u64).prop_map(|(kind, phone, id)| {
        let mut body = match kind {
            0 => TEXT_OPTOUT[0].clone(),
            1 => POST_CALL[3].clone(),
            _ => SEND_TEXT[0].clone(),
        };
        body["record_phone_number"] = phone.into();
        body["id"] = id.into();
        (kind, body.to_string().into_bytes())
    });
    let config = Config { cases: 2_000, failure_persistence: None, ..Config::default() };
    let webhooks = BodyCheck::default();
    let result = TestRunner::new(config).run(&delivery, |(kind, body)| {
        let checked = match kind {
            0 => webhooks.text_optout(&body),
            1 => webhooks.post_call(&body),
            _ => webhooks.send_text(&body),
        };
        checked.map_err(TestCaseError::fail)
    });
    if let Err(failure) = result {
        panic!("{failure}");
    }
}
