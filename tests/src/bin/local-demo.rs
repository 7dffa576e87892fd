//! `scripts/run-local`: the emulator, every table, every function under `cargo lambda watch`; every file in
//! `events/` sent through them; then what the emulator recorded. `--keep-running` leaves it all up.

use integration_tests::burst::{BurstPlan, deliver_burst};
use integration_tests::{
    AUTH_TOKEN, CALLS_TABLE, DELIVERY_SAMPLES, Error, FUNCTIONS, LEAD_EVENTS_TABLE, OPT_OUTS_TABLE, REDRIVE_SAMPLES,
    SAMPLE_EVENTS, SENT_TEXTS_TABLE, SampleEvent, StackSettings, dynamodb_outage, lead_history, lead_history_env,
    message_ids, repo_root, start_stack_with,
};
use std::process::ExitCode;

/// The burst run-local shows: small enough to take seconds.
const BURST: BurstPlan = BurstPlan { texts: 15, instances: 4, parts_per_second: 3.0, rate_known: false, max_age: None };

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let keep_running = std::env::args().skip(1).any(|arg| arg == "--keep-running");
    match run(keep_running).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("run-local failed: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run(keep_running: bool) -> Result<(), Error> {
    let log_dir = repo_root().join(".local");
    std::fs::create_dir_all(&log_dir)?;
    println!("Starting the AWS emulator (moto server), then building and starting {} under", FUNCTIONS.join(", "));
    println!("cargo lambda watch…");
    // Four instances of each function, so that a burst is received at once, as Lambda would.
    let settings = StackSettings { instances: BURST.instances, ..StackSettings::default() };
    let (emulator, functions) = start_stack_with(log_dir.join("functions.log"), settings).await?;
    println!(
        "  emulator {} with tables {CALLS_TABLE}, {SENT_TEXTS_TABLE}, {LEAD_EVENTS_TABLE} and {OPT_OUTS_TABLE}",
        emulator.endpoint
    );
    println!("  function logs: .local/functions.log\n");

    println!("Sending every event in events/:");
    for sample in SAMPLE_EVENTS {
        let (name, function) = (sample.name, sample.function);
        let (status, body) = functions.invoke(function, &sample.event()?).await?;
        println!("  {name:<40} → {function:<11} {status} {body}");
    }

    println!("\nTexts SNS accepted (the emulator's record):");
    for (number, message) in emulator.sms().await? {
        println!("  {number}  {message:?}");
    }

    println!("\nSNS's delivery records for them, as its log subscription hands them to sms-delivery-status (the");
    println!("sample events, carrying the message ids SNS gave the texts just sent):");
    let message_ids = message_ids(&emulator).await?;
    let mut answers = Vec::new();
    for sample in DELIVERY_SAMPLES {
        answers.push(functions.invoke_raw("sms-delivery-status", &sample.event_for_sent_texts(&message_ids)?).await?);
    }
    // What each record came to, from the function's log (one EMF line per record).
    let outcomes: Vec<String> = functions
        .log()
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|line| line["function"] == "sms-delivery-status" && line.get("_aws").is_some())
        .map(|line| line["outcome"].as_str().unwrap_or_default().to_owned())
        .collect();
    for ((sample, (status, body)), outcome) in DELIVERY_SAMPLES.iter().zip(answers).zip(outcomes) {
        println!("  {:<36} → sms-delivery-status {status} {body}  logged outcome {outcome}", sample.name);
    }
    println!("\nTexts in the {SENT_TEXTS_TABLE} table: how each went out (smart encoding's replacements, our parts)");
    println!("and what SNS reported (its parts, its price):");
    for item in emulator.items(SENT_TEXTS_TABLE).await? {
        let replaced = item.get("sms_characters_replaced").map_or(0, |n| n.as_u64().unwrap_or_default());
        println!(
            "  id {}  {}  status {}  sent as {} in {} part(s), {replaced} character(s) replaced  delivery {}  {}",
            item["id"],
            item["text_type"],
            item["status"],
            item["sms_encoding"],
            item["sms_parts"],
            item["delivery_status"],
            item["delivery_provider_response"],
        );
        match item.get("delivery_status") {
            Some(_) => println!(
                "      SNS billed {} part(s) for ${}  reported {}",
                item["delivery_parts"], item["delivery_price_usd"], item["delivery_reported_at"]
            ),
            None => println!("      no delivery record (the samples report on texts 1234 and 1235)"),
        }
    }

    println!("\nNumbers on the suppression list (the {OPT_OUTS_TABLE} table), with what 2X sent, as it sent it:");
    for item in emulator.items(OPT_OUTS_TABLE).await? {
        println!("  {}  source {}  first listed {}", item["phone"], item["source"], item["opted_out_at"]);
        let mut sent = item.clone();
        if let Some(fields) = sent.as_object_mut() {
            fields.retain(|name, _| !webhook::opt_out::OptOutRecord::ATTRIBUTES.contains(&name.as_str()));
        }
        println!("    {sent}");
    }

    println!("\nItems in the {CALLS_TABLE} table:");
    for item in emulator.items(CALLS_TABLE).await? {
        let turns = item["transcript"].as_array().map_or(0, Vec::len);
        println!(
            "  id {}  end_reason {}  answered {}  phone_e164 {}  transcript turns {turns}",
            item["id"], item["call"]["end_reason"], item["call"]["answered"], item["phone_e164"]
        );
        println!("    {item}");
    }

    println!(
        "\nA lead replied \"Unsubscribe\" (lead-events-text-unsubscribe, above): 2X then asks for a pre-call text to them:"
    );
    let mut text = SampleEvent::named("send-text-pre-call")?.payload()?;
    (text["id"], text["record_phone_number"]) = (9100.into(), "+12025550166".into());
    let mut event: serde_json::Value = serde_json::from_str(&SampleEvent::named("send-text-pre-call")?.event()?)?;
    event["body"] = text.to_string().into();
    let (status, body) = functions.invoke("send-text", &event.to_string()).await?;
    println!("  send-text id 9100 to +12025550166 → {status} {body}");

    println!("\nTransfer types on their calls (lead-events-transfer-type-*, above; 9001's post-call has not come):");
    for item in emulator.items(CALLS_TABLE).await?.iter().filter(|item| item.get("transfer").is_some()) {
        println!(
            "  call {}  transfer_type {}  transfer {}  call stored {}",
            item["id"],
            item["transfer_type"],
            item["transfer"],
            item.get("received_at").is_some()
        );
    }

    println!("\nOne lead's history: lead-history +12025550143 (the stack's tables, from its environment):");
    for line in lead_history(&emulator, &["+12025550143"])?.lines() {
        println!("  {line}");
    }

    println!(
        "\nThe fallback queue's sample events, as SQS hands them to redrive (a queued call; a text queued days ago):"
    );
    for sample in REDRIVE_SAMPLES {
        let (status, body) = functions.invoke_raw("redrive", &sample.event()?).await?;
        // What the queued delivery came to, from the redrive's summary line.
        let log = functions.log();
        let summary = log
            .lines()
            .rev()
            .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
            .find(|line| line["function"] == "redrive" && line["message"] == "request answered")
            .unwrap_or_default();
        let (id, outcome) = (&summary["id"], &summary["outcome"]);
        println!("  {:<36} → redrive {status} {body}  logged id {id} outcome {outcome}", sample.name);
    }

    println!(
        "\nOutage: the {CALLS_TABLE} and {SENT_TEXTS_TABLE} tables deleted (DynamoDB refuses every request to them),"
    );
    println!("then deliveries; the tables created again, and the fallback queue drained through redrive:");
    let outage = dynamodb_outage(&emulator, &functions).await?;
    for (function, id, status, body) in &outage.answers {
        println!("  {function:<9} id {id:<5} → {status} {body}");
    }
    let answers: Vec<String> = outage.drained.answers.iter().map(ToString::to_string).collect();
    println!("  redrive completed {} queued messages, answering {}", outage.drained.messages, answers.join(", "));
    for item in emulator.items(CALLS_TABLE).await? {
        println!("  {CALLS_TABLE}: id {} stored, end_reason {}", item["id"], item["call"]["end_reason"]);
    }
    for item in emulator.items(SENT_TEXTS_TABLE).await? {
        println!(
            "  {SENT_TEXTS_TABLE}: id {} status {} (claimed by {})",
            item["id"], item["status"], item["claimed_by"]
        );
    }
    println!("  texts SNS accepted, all told: {}", emulator.sms().await?.len());

    println!(
        "\nA campaign's burst: {} pre-call texts at once, SNS throttling beyond {} message parts a second (a US",
        BURST.texts, BURST.parts_per_second
    );
    println!("toll-free number); send-text sends what the rate takes and queues the rest, the redrive sends those");
    println!("as the rate allows:");
    let report = deliver_burst(&BURST, &emulator, &functions, 2).await?;
    for line in report.summary().lines() {
        println!("  {line}");
    }
    let mut ages = report.ages.clone();
    ages.sort_by(f64::total_cmp);
    let ages: Vec<String> = ages.iter().map(|age| format!("{age:.1}")).collect();
    println!("  each text's age when SNS took it (s): {}", ages.join(" "));

    if keep_running {
        println!("\nStill running. Send your own requests:");
        println!("  send-text: {}", functions.url("send-text"));
        println!("  post-call: {}", functions.url("post-call"));
        println!("  text-optout: {}", functions.url("text-optout"));
        let lead_events = functions.url("lead-events");
        println!(
            "  lead-events: {lead_events}text, …/text-classification, …/text-response, …/transfer-type, …/inbound-call"
        );
        let environment: Vec<String> =
            lead_history_env(&emulator).iter().map(|(name, value)| format!("{name}={value}")).collect();
        println!("  a lead's history: {} cargo run -q -p lead-history -- +12025550143", environment.join(" "));
        println!(
            "  sms-delivery-status: .venv/bin/cargo-lambda lambda invoke sms-delivery-status --invoke-address 127.0.0.1 \\"
        );
        println!("    --invoke-port {} --data-file events/sms-delivery-status-success.json", functions.port);
        println!("  redrive: the same, with redrive and --data-file events/redrive-post-call.json");
        println!("  AWS emulator: {} (sent texts: {}/moto-api/data.json)", emulator.endpoint, emulator.endpoint);
        println!("\n  curl -i -X POST {} \\", functions.url("send-text"));
        println!("    -H 'Authorization: {AUTH_TOKEN}' -H 'Content-Type: application/json' \\");
        println!(
            "    -d '{{\"id\": 9001, \"record_phone_number\": \"2025550123\", \"type\": \"pre-call\", \"message\": \"Hi!\"}}'"
        );
        println!("\nPress Ctrl-C to stop.");
        tokio::signal::ctrl_c().await?;
    }
    println!("\nStopping the functions and the emulator.");
    drop(functions);
    drop(emulator);
    Ok(())
}
