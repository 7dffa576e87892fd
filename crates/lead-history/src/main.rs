//! lead-history: `lead-history [--json] NUMBER` prints everything the stack keeps about one lead, oldest first.
//! The tables are named by the environment: the stack's `LeadHistoryEnvironment` output, or `scripts/run-local`'s.

use lead_history::aws::{DynamoHistory, HistoryTables};
use lead_history::history::{render_json, render_text};
use std::process::ExitCode;
use webhook::phone::{CountryCode, PhoneNumber};

const USAGE: &str = "usage: lead-history [--json] NUMBER (E.164, or national for DEFAULT_COUNTRY, US by default)
environment: CALLS_TABLE, SENT_TEXTS_TABLE, LEAD_EVENTS_TABLE, OPT_OUTS_TABLE (the stack's LeadHistoryEnvironment
output), AWS_REGION and credentials as for the AWS CLI";

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    match run(std::env::args().skip(1).collect()).await {
        Ok(output) => {
            print!("{output}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("lead-history: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Vec<String>) -> Result<String, String> {
    let json = args.iter().any(|arg| arg == "--json");
    let [number] = args.iter().filter(|arg| *arg != "--json").collect::<Vec<_>>()[..] else {
        return Err(USAGE.into());
    };
    let variable = |name: &str| std::env::var(name).map_err(|_| format!("{name} is not set\n{USAGE}"));
    let country = std::env::var("DEFAULT_COUNTRY").unwrap_or_else(|_| "US".into());
    let country: CountryCode =
        country.parse().map_err(|_| format!("DEFAULT_COUNTRY {country:?} is not a country code"))?;
    let phone = PhoneNumber::parse(number, country).map_err(|error| format!("{number}: {error}"))?;
    let tables = HistoryTables {
        calls: variable("CALLS_TABLE")?,
        sent_texts: variable("SENT_TEXTS_TABLE")?,
        lead_events: variable("LEAD_EVENTS_TABLE")?,
        opt_outs: variable("OPT_OUTS_TABLE")?,
    };
    let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let history = DynamoHistory { client: aws_sdk_dynamodb::Client::new(&aws), tables };
    let records = history.records(phone.e164()).await.map_err(|error| error.to_string())?;
    Ok(match json {
        true => format!("{:#}\n", render_json(&records)),
        false => render_text(&records),
    })
}
