//! The real binaries under `cargo lambda watch`, against the emulator, fed the `events/` files.

use integration_tests::{
    AUTH_TOKEN, DELIVERY_SAMPLES, Error, OUTAGE_CALL_IDS, OUTAGE_TEXT_ID, REDRIVE_SAMPLES, SAMPLE_EVENTS,
    cargo_command, dynamodb_outage, message_ids, repo_root, start_stack,
};
use serde_json::{Value, json};

#[test]
fn every_file_in_events_has_an_expected_answer() -> Result<(), Error> {
    let mut files: Vec<String> = std::fs::read_dir(repo_root().join("events"))?
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.strip_suffix(".json").map(str::to_owned))
        .collect();
    files.sort();
    let mut listed: Vec<&str> = SAMPLE_EVENTS.iter().map(|sample| sample.name).collect();
    listed.extend(DELIVERY_SAMPLES.iter().map(|sample| sample.name));
    listed.extend(REDRIVE_SAMPLES.iter().map(|sample| sample.name));
    listed.sort_unstable();
    assert_eq!(files, listed);
    Ok(())
}

#[tokio::test]
async fn the_sample_events_through_the_real_binaries() -> Result<(), Error> {
    let log_path = std::env::temp_dir().join(format!("twox-e2e-{}.log", std::process::id()));
    let (emulator, functions) = start_stack(log_path).await?;

    for sample in SAMPLE_EVENTS {
        let (status, body) = functions.invoke(sample.function, &sample.event()?).await?;
        assert_eq!(status, sample.status, "{}: {body}", sample.name);
        match sample.outcome {
            Some(outcome) => assert_eq!(body["status"], outcome, "{}", sample.name),
            None => assert!(body["error"].is_string(), "{}: {body}", sample.name),
        }
    }
    let (status, body) =
        functions.invoke("send-text", &integration_tests::SampleEvent::named("send-text-pre-call")?.event()?).await?;
    assert_eq!((status, body), (200, json!({"status": "duplicate", "id": 1234})));

    // As 2X sends it: a plain HTTP POST to the function URL, trailing slash and all.
    let payload = integration_tests::SampleEvent::named("post-call-transferred")?.payload()?;
    let response = reqwest::Client::new()
        .post(functions.url("post-call"))
        .header("Authorization", AUTH_TOKEN)
        .json(&payload)
        .send()
        .await?;
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(response.json::<Value>().await?, json!({"status": "duplicate", "id": 123}));

    // SNS's delivery records for the texts just sent (the samples, carrying the message ids SNS gave them), then
    // a record of another sender's text and a line that is no record: every batch is taken (no error).
    let message_ids = message_ids(&emulator).await?;
    for sample in DELIVERY_SAMPLES {
        let answer = functions.invoke_raw("sms-delivery-status", &sample.event_for_sent_texts(&message_ids)?).await?;
        assert_eq!(answer, (200, Value::Null), "{}", sample.name);
    }
    let texts = emulator.items("sent-texts").await?;
    let statuses: Vec<(&Value, &Value)> = texts.iter().map(|text| (&text["id"], &text["delivery_status"])).collect();
    assert_eq!(
        statuses,
        [
            (&json!(1234), &json!("SUCCESS")),
            (&json!(1235), &json!("FAILURE")),
            (&json!(1239), &Value::Null),
            (&json!(1241), &Value::Null)
        ],
        "the odd-types sample's text has no delivery record"
    );
    // The pre-call sample's curly apostrophe went out as GSM-7 (one part, not two in UCS-2), and SNS's record of
    // it agrees; the post-voicemail sample's emoji keeps it UCS-2 as written.
    let billed: Vec<[&Value; 4]> = texts
        .iter()
        .map(|text| {
            [&text["sms_encoding"], &text["sms_parts"], &text["sms_characters_replaced"], &text["delivery_parts"]]
        })
        .collect();
    assert_eq!(billed[0], [&json!("GSM-7"), &json!(1), &json!(1), &json!(1)]);
    assert_eq!(billed[1], [&json!("UCS-2"), &json!(1), &Value::Null, &json!(1)]);

    let mut sms = emulator.sms().await?;
    sms.sort();
    let numbers: Vec<&str> = sms.iter().map(|(number, _)| number.as_str()).collect();
    assert_eq!(numbers, ["+12025550143", "+12025550187", "+12025550191", "+13055550143"]);
    let calls = emulator.items("calls").await?;
    let ids: Vec<u64> = calls.iter().filter_map(|item| item["id"].as_u64()).collect();
    assert_eq!(ids, [123, 124, 125, 126, 128, 9001], "9001: a transfer whose call has not come");
    assert_eq!(calls[0]["transcript"][0], json!({"role": "User", "content": "Hello?"}));
    assert_eq!((&calls[0]["transfer_type"], &calls[0]["transfer"]["duration"]), (&json!("qualified"), &json!(70)));
    assert_eq!((calls[5].get("received_at"), &calls[5]["transfer"]["duration"]), (None, &json!("12")));
    // The lead events, once each by number; the reply and the classification that said stop listed their numbers.
    let events = emulator.items("lead-events").await?;
    let kinds: Vec<(&str, &str)> =
        events.iter().filter_map(|item| Some((item["phone"].as_str()?, item["kind"].as_str()?))).collect();
    assert_eq!(
        kinds.iter().filter(|(phone, _)| *phone == "+12025550143").count(),
        5,
        "a reply, a classification, two responses, an inbound call, and none of them again: {kinds:?}"
    );
    assert_eq!(events.len(), 9, "{kinds:?}");
    // The leads who replied STOP (one listed once, from both of 2X's forms), who replied "Unsubscribe", whose text
    // 2X classified as an opt-out, the one who asked not to be called, and the wrong number.
    let opt_outs = emulator.items("opt-outs").await?;
    let listed: Vec<(&str, &str)> =
        opt_outs.iter().filter_map(|item| Some((item["phone"].as_str()?, item["source"].as_str()?))).collect();
    assert_eq!(
        listed,
        [
            ("+12025550166", "text:unsubscribe"),
            ("+12025550177", "text-optout"),
            ("+12025550179", "text-optout"),
            ("+12025550183", "text-classification:opt_out"),
            ("+12025550188", "post-call:do_not_call"),
            ("+12025550190", "post-call:wrong_number")
        ]
    );

    // lead-history, the binary, on what the samples left: one lead's every record, oldest first.
    let history: Value = serde_json::from_str(&integration_tests::lead_history(&emulator, &["--json", "2025550143"])?)?;
    let kinds: Vec<&str> =
        history["timeline"].as_array().into_iter().flatten().filter_map(|e| e["kind"].as_str()).collect();
    assert_eq!(
        kinds,
        ["call", "transfer", "inbound text", "classification", "response", "response", "inbound call", "text"],
        "{history:#}"
    );
    assert_eq!(history["suppression"], Value::Null);
    let text = integration_tests::lead_history(&emulator, &["+12025550166"])?;
    assert!(
        text.starts_with("+12025550166: on the suppression list since ") && text.contains("(text:unsubscribe)"),
        "{text}"
    );

    // The fallback queue's samples, as the redrive gets them: the call is stored, the stale text never sent.
    for sample in REDRIVE_SAMPLES {
        let answer = functions.invoke_raw("redrive", &sample.event()?).await?;
        assert_eq!(answer, (200, json!({"batchItemFailures": []})), "{}", sample.name);
    }
    assert!(emulator.items("calls").await?.iter().any(|item| item["id"] == 127));
    assert_eq!(emulator.sms().await?.len(), 4, "the stale text was not sent");
    let redriven: Vec<Value> = functions
        .log()
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|line| line["message"] == "request answered" && line["function"] == "redrive")
        .collect();
    let outcomes: Vec<(&Value, &Value)> = redriven.iter().map(|line| (&line["id"], &line["outcome"])).collect();
    let expected: Vec<(Value, Value)> = REDRIVE_SAMPLES.iter().map(|s| (json!(s.id), json!(s.outcome))).collect();
    assert_eq!(outcomes, expected.iter().map(|(id, outcome)| (id, outcome)).collect::<Vec<_>>());

    // DynamoDB down: every delivery is queued (202), then the redrive stores each call and sends the text once.
    let outage = dynamodb_outage(&emulator, &functions).await?;
    for (function, id, status, body) in &outage.answers {
        assert_eq!((*status, body), (202, &json!({"status": "queued", "id": id})), "{function}");
    }
    assert_eq!(outage.drained.messages, outage.answers.len(), "one message per queued delivery");
    let calls: Vec<u64> = emulator.items("calls").await?.iter().filter_map(|item| item["id"].as_u64()).collect();
    assert_eq!(calls, OUTAGE_CALL_IDS);
    let texts = emulator.items("sent-texts").await?;
    assert_eq!((texts.len(), &texts[0]["id"], &texts[0]["status"]), (1, &json!(OUTAGE_TEXT_ID), &json!("sent")));
    assert_eq!(emulator.sms().await?.len(), 5, "the queued text, twice delivered, sent once");

    let log = functions.log();
    let summaries: Vec<Value> = log
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|line| line["message"] == "request answered")
        .collect();
    let redrive_messages = REDRIVE_SAMPLES.len() + outage.drained.messages;
    let requests = SAMPLE_EVENTS.len() + 2 + outage.answers.len() + redrive_messages;
    assert_eq!(summaries.len(), requests, "one summary line per request and per queued message:\n{log}");
    for line in &summaries {
        // The redrive's lines name the attempt: the invocation's request id and the message's place in the batch.
        let attempt = line["request_id"].as_str().unwrap_or_default();
        let invocation = attempt.split('/').next();
        assert_eq!(line["span"]["requestId"].as_str(), invocation, "the invocation's request id on the line: {line}");
    }
    let metrics: Vec<Value> = log
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|line| line.get("_aws").is_some())
        .collect();
    let (records, requests): (Vec<&Value>, Vec<&Value>) =
        metrics.iter().partition(|document| document["function"] == "sms-delivery-status");
    assert_eq!(requests.len(), summaries.len(), "one EMF metrics line per request:\n{log}");
    let outcomes: Vec<&str> = records.iter().filter_map(|document| document["outcome"].as_str()).collect();
    let expected: Vec<&str> = DELIVERY_SAMPLES.iter().map(|sample| sample.outcome).collect();
    assert_eq!(outcomes, expected, "one EMF line per delivery record:\n{log}");
    // 4xx answers make no AWS call: a slow one means request-time work that belongs in init (the phone
    // metadata alone took ~470 ms on the first parse in a debug build before it was loaded at start).
    for line in
        summaries.iter().filter(|line| line["status"].as_u64().is_some_and(|status| (400..500).contains(&status)))
    {
        assert!(line["duration_ms"].as_f64().is_some_and(|ms| ms < 100.0), "slow 4xx: {line}");
    }
    let secrets = [
        "2025550143",
        "2025550144",
        "2025550187",
        "2025550111",
        "2025550177",
        "2025550179",
        "2025550188",
        "2025550190",
        "2025550191",
        "2025550166",
        "2025550183",
        "Hi, is John available?",
        // What leads wrote, and 2X's answers.
        "Unsubscribe",
        "What time will you call?",
        "take me off your list",
        "Plans start at",
        "billed monthly",
    ];
    for secret in secrets.iter().chain(&[AUTH_TOKEN, "We will call you"]) {
        assert!(!log.contains(secret), "{secret:?} appears in the function logs");
    }
    Ok(())
}

/// The output of `function`'s binary run with `environment` alone (and what cargo needs to run it).
fn started<'a>(
    function: &str,
    environment: impl IntoIterator<Item = &'a (&'a str, &'a str)>,
) -> Result<std::process::Output, Error> {
    Ok(cargo_command("cargo")
        .args(["run", "--quiet", "--bin", function])
        .env_clear()
        .env("PATH", std::env::var("PATH")?)
        .env("HOME", std::env::var("HOME")?)
        .envs(std::env::var("CARGO_TARGET_DIR").ok().map(|dir| ("CARGO_TARGET_DIR", dir)))
        .envs(environment.into_iter().copied())
        .output()?)
}

#[test]
fn a_missing_required_setting_stops_the_function_with_a_log_line() -> Result<(), Error> {
    for (function, missing, others) in [
        ("send-text", "AUTH_TOKEN", &[][..]),
        ("post-call", "CALLS_TABLE", &[]),
        ("text-optout", "OPT_OUTS_TABLE", &[]),
        ("sms-delivery-status", "SENT_TEXTS_TABLE", &[]),
        ("redrive", "CALLS_TABLE", &[]),
        ("lead-events", "LEAD_EVENTS_TABLE", &[]),
        ("redrive", "LEAD_EVENTS_TABLE", &[("CALLS_TABLE", "calls"), ("SENT_TEXTS_TABLE", "texts")]),
        // Without the suppression list, a text could reach a lead who said STOP: not without saying so.
        ("send-text", "OPT_OUTS_TABLE", &[("SENT_TEXTS_TABLE", "texts")]),
        ("post-call", "OPT_OUTS_TABLE", &[("CALLS_TABLE", "calls")]),
        ("lead-events", "OPT_OUTS_TABLE", &[("LEAD_EVENTS_TABLE", "events"), ("CALLS_TABLE", "calls")]),
        (
            "redrive",
            "OPT_OUTS_TABLE",
            &[("CALLS_TABLE", "calls"), ("SENT_TEXTS_TABLE", "texts"), ("LEAD_EVENTS_TABLE", "events")],
        ),
    ] {
        let token = [("AUTH_TOKEN", if missing == "AUTH_TOKEN" { "" } else { AUTH_TOKEN })];
        let output = started(function, others.iter().chain(&token))?;
        assert!(!output.status.success(), "{function} started without {missing}");
        let stdout = String::from_utf8(output.stdout)?;
        let line: Value = stdout
            .lines()
            .find_map(|line| serde_json::from_str(line).ok())
            .ok_or_else(|| format!("no JSON log line from {function}: {stdout}"))?;
        assert_eq!(line["level"], "ERROR");
        assert!(line["error"].as_str().is_some_and(|error| error.contains(missing)), "{line}");
    }
    Ok(())
}

/// `SUPPRESSION_LIST=disabled` runs the functions that read or add to the list without one, and says so at every
/// start, where CloudWatch keeps it.
#[test]
fn a_disabled_suppression_list_is_logged_at_every_start() -> Result<(), Error> {
    for (function, settings) in [
        ("send-text", &[("SENT_TEXTS_TABLE", "texts")][..]),
        ("post-call", &[("CALLS_TABLE", "calls")]),
        ("lead-events", &[("LEAD_EVENTS_TABLE", "events"), ("CALLS_TABLE", "calls")]),
        ("redrive", &[("CALLS_TABLE", "calls"), ("SENT_TEXTS_TABLE", "texts"), ("LEAD_EVENTS_TABLE", "events")]),
    ] {
        // No Lambda Runtime API: the function stops once initialised, after its start-up lines.
        let aws = [("AWS_REGION", "us-east-1"), ("AWS_ACCESS_KEY_ID", "x"), ("AWS_SECRET_ACCESS_KEY", "x")];
        let common =
            [("AUTH_TOKEN", AUTH_TOKEN), ("SUPPRESSION_LIST", "disabled"), ("AWS_ENDPOINT_URL", "http://127.0.0.1:9")];
        let output = started(function, settings.iter().chain(&aws).chain(&common))?;
        let stdout = String::from_utf8(output.stdout)?;
        let warning = stdout.lines().filter_map(|line| serde_json::from_str::<Value>(line).ok()).find(|line| {
            line["message"].as_str().is_some_and(|message| message.contains("suppression list is disabled"))
        });
        let warning = warning.ok_or_else(|| format!("{function} did not say the list is disabled: {stdout}"))?;
        assert_eq!((&warning["level"], &warning["function"]), (&json!("WARN"), &json!(function)));
    }
    Ok(())
}
