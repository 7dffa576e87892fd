//! What a text costs, in parts, with and without smart encoding: on the send-text samples in `events/` and on a
//! corpus of realistic pre-call and post-voicemail texts (`sms-corpus.json`). The README quotes these figures;
//! this test holds them. To see the table: `cargo test -p texts --test sms_cost -- --nocapture`.

#![allow(clippy::unwrap_used, clippy::print_stdout)]

use serde_json::Value;
use std::path::Path;
use texts::sms::{SmsEncoding, SmsText};

/// What a set of texts costs.
#[derive(Debug, Default, PartialEq, Eq)]
struct Cost {
    texts: usize,
    /// Parts as 2X wrote them, and as smart encoding sends them.
    parts_as_written: usize,
    parts_sent: usize,
    /// Texts in UCS-2 as written, and as sent.
    ucs2_as_written: usize,
    ucs2_sent: usize,
}

impl Cost {
    fn of<'a>(messages: impl IntoIterator<Item = &'a str>) -> Self {
        let mut cost = Self::default();
        for message in messages {
            let written = SmsText::parse(message).unwrap();
            let sent = written.clone().smart_encoded();
            let ucs2 = |sms: &SmsText<'_>| usize::from(sms.segments().encoding == SmsEncoding::Ucs2);
            cost.texts += 1;
            cost.parts_as_written += written.segments().count;
            cost.parts_sent += sent.segments().count;
            cost.ucs2_as_written += ucs2(&written);
            cost.ucs2_sent += ucs2(&sent);
        }
        cost
    }

    fn print(&self, name: &str) {
        let per_text = |parts: usize| parts as f64 / self.texts as f64;
        println!(
            "{name:<28} {:>5} texts  as written {:>4} parts ({:.2}/text, {} UCS-2)  smart encoded {:>4} parts \
             ({:.2}/text, {} UCS-2)  saved {:.0}%",
            self.texts,
            self.parts_as_written,
            per_text(self.parts_as_written),
            self.ucs2_as_written,
            self.parts_sent,
            per_text(self.parts_sent),
            self.ucs2_sent,
            100.0 * (1.0 - self.parts_sent as f64 / self.parts_as_written as f64),
        );
    }
}

/// The `message` of every send-text sample in `events/` that has a usable one.
fn sample_messages() -> Vec<String> {
    let events = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../events");
    let mut names: Vec<_> = std::fs::read_dir(events).unwrap().map(|entry| entry.unwrap().path()).collect();
    names.sort();
    names
        .iter()
        .filter(|path| path.file_name().is_some_and(|name| name.to_string_lossy().starts_with("send-text-")))
        .filter_map(|path| {
            let event: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
            let body: Value = serde_json::from_str(event["body"].as_str()?).ok()?;
            body["message"].as_str().filter(|message| SmsText::parse(message).is_ok()).map(str::to_owned)
        })
        .collect()
}

#[test]
fn cost_per_text_on_the_samples_and_a_realistic_corpus() {
    let corpus: Value = serde_json::from_str(include_str!("sms-corpus.json")).unwrap();
    let texts = corpus["texts"].as_array().unwrap();
    let of_type = |kind: &str| {
        Cost::of(texts.iter().filter(|text| text["type"] == kind).map(|text| text["message"].as_str().unwrap()))
    };
    let samples = sample_messages();
    let (events, pre_call, post_voicemail) =
        (Cost::of(samples.iter().map(String::as_str)), of_type("pre-call"), of_type("post-voicemail"));
    let all = Cost::of(texts.iter().map(|text| text["message"].as_str().unwrap()));
    events.print("events/ (send-text samples)");
    pre_call.print("corpus: pre-call");
    post_voicemail.print("corpus: post-voicemail");
    all.print("corpus: all");

    let cost = |texts, parts_as_written, parts_sent, ucs2_as_written, ucs2_sent| Cost {
        texts,
        parts_as_written,
        parts_sent,
        ucs2_as_written,
        ucs2_sent,
    };
    // The README's figures.
    assert_eq!(events, cost(8, 9, 8, 2, 1));
    assert_eq!(pre_call, cost(20, 33, 24, 13, 4));
    assert_eq!(post_voicemail, cost(20, 40, 26, 14, 5));
}
