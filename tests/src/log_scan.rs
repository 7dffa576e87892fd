//! The suite-wide log scan: every log line the test suite produced (the real binaries' output and the handler
//! tests' captures, collected by `scripts/test`) must hold no token, full phone number, message text or
//! transcript content; and every metric a function wrote must be read, from that function, by every alarm on it.

use crate::template::alarms_blind_to;
use crate::{DELIVERY_SAMPLES, Error, REDRIVE_SAMPLES, SAMPLE_EVENTS, Template};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::path::Path;

/// Tokens the tests authenticate with (or present wrongly): none may ever be logged.
const TOKENS: &[&str] = &[
    crate::AUTH_TOKEN,
    "not-the-token",
    "current-secret",
    "old-secret",
    "rotated-token",
    "plain-token",
    "property-token",
];

/// What must never appear in a log line: the tokens, from every sample webhook body (the events' and those queued
/// in the redrive samples) the phone number (as sent and in E.164), the message (a text's, as sent and as smart
/// encoding sends it; a lead's reply), 2X's
/// response and each transcript turn's content, and every number a sample delivery record names.
pub fn secrets() -> Result<Vec<String>, Error> {
    let mut secrets: Vec<String> = TOKENS.iter().map(|token| (*token).to_owned()).collect();
    // The webhook bodies: the sample events', and those the fallback queue's samples carry.
    let mut payloads: Vec<Value> = SAMPLE_EVENTS.iter().filter_map(|sample| sample.payload().ok()).collect();
    for sample in REDRIVE_SAMPLES {
        payloads.extend(sample.payloads()?);
    }
    for payload in payloads {
        if let Some(phone) = payload["record_phone_number"].as_str() {
            // The samples' numbers are US ones: the 10-digit national number, bare or in E.164.
            let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
            let national = &digits[digits.len().saturating_sub(10)..];
            secrets.extend([phone.to_owned(), national.to_owned(), format!("+1{national}")]);
        }
        // The lead's words and 2X's answers (inbound texts, classifications, responses).
        let words: Vec<&str> = ["message", "response"].iter().filter_map(|field| payload[*field].as_str()).collect();
        secrets.extend(words.iter().map(|words| (*words).to_owned()));
        // A text as smart encoding sends it (its look-alikes replaced) is the message still.
        let sent = words.iter().filter_map(|words| texts::sms::SmsText::parse(words).ok());
        secrets.extend(sent.map(|sms| sms.smart_encoded().as_str().to_owned()));
        let turns = payload["transcript"].as_array().cloned().unwrap_or_default();
        secrets.extend(turns.iter().filter_map(|turn| turn["content"].as_str()).map(str::to_owned));
    }
    for sample in DELIVERY_SAMPLES {
        let data = webhook_test_support::delivery_logs::log_data_of(&sample.event()?);
        for event in data["logEvents"].as_array().into_iter().flatten() {
            let record: Value = serde_json::from_str(event["message"].as_str().unwrap_or_default()).unwrap_or_default();
            secrets.extend(record["delivery"]["destination"].as_str().map(str::to_owned));
        }
    }
    // A needle too short to be distinctive would find false matches (a 4-digit phone suffix is allowed).
    secrets.retain(|secret| secret.len() >= 8);
    secrets.sort();
    secrets.dedup();
    Ok(secrets)
}

/// The lines of `text` that contain a secret, with the secret's kind (never the secret itself).
pub fn findings<'a>(text: &'a str, secrets: &[String]) -> Vec<(usize, &'a str)> {
    text.lines()
        .enumerate()
        .filter(|(_, line)| secrets.iter().any(|secret| line.contains(secret.as_str())))
        .map(|(number, line)| (number + 1, line))
        .collect()
}

/// Scans every file in `directory`: (files, lines scanned, offending "file:line" locations).
pub fn scan_directory(directory: &Path) -> Result<(usize, usize, Vec<String>), Error> {
    let secrets = secrets()?;
    let (mut files, mut lines, mut offending) = (0, 0, Vec::new());
    for entry in std::fs::read_dir(directory)? {
        let path = entry?.path();
        let text = String::from_utf8_lossy(&std::fs::read(&path)?).into_owned();
        files += 1;
        lines += text.lines().count();
        let name = path.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default();
        offending.extend(findings(&text, &secrets).into_iter().map(|(number, _)| format!("{name}:{number}")));
    }
    Ok((files, lines, offending))
}

/// Every (function, metric) the archived EMF documents published by `function` alone: what the alarms read.
pub fn metrics_written(directory: &Path) -> Result<BTreeSet<(String, String)>, Error> {
    let mut written = BTreeSet::new();
    for entry in std::fs::read_dir(directory)? {
        let text = std::fs::read_to_string(entry?.path()).unwrap_or_default();
        for document in text.lines().filter_map(|line| serde_json::from_str::<Value>(line).ok()) {
            let Some(function) = document["function"].as_str() else { continue };
            for directive in document["_aws"]["CloudWatchMetrics"].as_array().into_iter().flatten() {
                let by_function =
                    directive["Dimensions"].as_array().into_iter().flatten().any(|set| *set == json!(["function"]));
                for metric in directive["Metrics"].as_array().into_iter().flatten().filter(|_| by_function) {
                    if let Some(name) = metric["Name"].as_str() {
                        written.insert((function.to_owned(), name.to_owned()));
                    }
                }
            }
        }
    }
    Ok(written)
}

/// For each metric a function wrote while tested, the alarms that read that metric but not that function's:
/// "alarm: metric from function" for each.
pub fn blind_alarms(written: &BTreeSet<(String, String)>, template: &Template) -> Result<Vec<String>, Error> {
    let reads = template.alarm_reads()?;
    let mut blind = Vec::new();
    for (function, metric) in written {
        for alarm in alarms_blind_to(&reads, function, metric) {
            blind.push(format!("{alarm}: {metric} from {function}"));
        }
    }
    Ok(blind)
}

/// Lines of JSON logs that are request summaries, to prove the scan saw real traffic.
pub fn summaries(directory: &Path) -> Result<usize, Error> {
    let mut count = 0;
    for entry in std::fs::read_dir(directory)? {
        let text = std::fs::read_to_string(entry?.path()).unwrap_or_default();
        count += text
            .lines()
            .filter(|line| serde_json::from_str::<Value>(line).is_ok_and(|log| log["message"] == "request answered"))
            .count();
    }
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_metric_written_by_a_function_an_alarm_does_not_read_is_found() {
        let template = Template::load().unwrap();
        let written = |pairs: &[(&str, &str)]| -> BTreeSet<(String, String)> {
            pairs.iter().map(|(function, metric)| ((*function).to_owned(), (*metric).to_owned())).collect()
        };
        let read = written(&[("redrive", "Unconfirmed"), ("sms-delivery-status", "Delivered"), ("redrive", "Sent")]);
        assert!(blind_alarms(&read, &template).unwrap().is_empty());
        let unread = written(&[("redrive", "DeliveryFailed")]);
        assert_eq!(
            blind_alarms(&unread, &template).unwrap(),
            [
                "SmsDeliveryFailuresAlarm: DeliveryFailed from redrive",
                "SmsDeliveryStatusMissingAlarm: DeliveryFailed from redrive"
            ]
        );
    }

    #[test]
    fn the_scan_finds_each_kind_of_secret_and_passes_a_clean_line() {
        let secrets = secrets().unwrap();
        let clean = r#"{"message":"request answered","phone_last4":"0143","outcome":"sent"}"#;
        assert!(findings(clean, &secrets).is_empty());
        for leak in [
            "authorization: local-dev-token",
            r#"{"to":"+12025550143"}"#,
            "number 2025550187 refused",
            "We will call you in several minutes, looking forward to talking with you.",
        ] {
            assert_eq!(findings(leak, &secrets).len(), 1, "{leak}");
        }
        let transcript = SAMPLE_EVENTS
            .iter()
            .find_map(|s| s.payload().ok()?["transcript"][1]["content"].as_str().map(str::to_owned));
        assert_eq!(findings(&transcript.unwrap(), &secrets).len(), 1, "transcript content");
    }
}
