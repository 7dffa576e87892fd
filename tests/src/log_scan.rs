//! The suite-wide log scan: every log line the test suite produced (the real binaries' output and the handler
//! tests' captures, collected by `scripts/test`) must hold no token, full phone number, message text or
//! transcript content.

use crate::{DELIVERY_SAMPLES, Error, REDRIVE_SAMPLES, SAMPLE_EVENTS};
use serde_json::Value;
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
/// in the redrive samples) the phone number (as sent and in E.164), the message and each transcript turn's
/// content, and every number a sample delivery record names.
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
        secrets.extend(payload["message"].as_str().map(str::to_owned));
        let turns = payload["transcript"].as_array().cloned().unwrap_or_default();
        secrets.extend(turns.iter().filter_map(|turn| turn["content"].as_str()).map(str::to_owned));
    }
    for sample in DELIVERY_SAMPLES {
        let data = webhook_test_support::sms_delivery_status::log_data_of(&sample.event()?);
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
