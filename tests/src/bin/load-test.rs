//! `scripts/load-test [deliveries] [concurrency]`: the emulator and the functions under `cargo lambda watch`,
//! then a load of deliveries as 2X makes them (see `integration_tests::load`); prints throughput, latency and
//! the counts, and fails if any count is off.
//!
//! `scripts/load-test burst [texts] [parts per second] [known|adaptive] [maximum age in seconds]`: a campaign's
//! burst of pre-call texts against a number's rate (see `integration_tests::burst`); prints how long each text
//! waited, and fails if any promise is broken.

use integration_tests::burst::{BurstPlan, run_burst};
use integration_tests::load::{LoadPlan, run_load};
use integration_tests::{Error, repo_root, start_stack};
use std::process::ExitCode;
use std::time::Duration;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    std::fs::create_dir_all(repo_root().join(".local")).ok();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("burst") => burst(&args[1..]).await,
        _ => load(&args).await,
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(error) => {
            eprintln!("load test failed: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn load(args: &[String]) -> Result<bool, Error> {
    let mut args = args.iter().map(|arg| arg.parse::<usize>());
    let defaults = LoadPlan::default();
    let plan = LoadPlan {
        deliveries: args.next().transpose()?.unwrap_or(defaults.deliveries),
        concurrency: args.next().transpose()?.unwrap_or(defaults.concurrency),
        ..defaults
    };
    let (emulator, functions) = start_stack(repo_root().join(".local/load-test.log")).await?;
    println!(
        "{} deliveries, {} in flight, {:.0}% repeated ids, {:.0}% bad tokens; function logs: .local/load-test.log",
        plan.deliveries,
        plan.concurrency,
        plan.repeated_share * 100.0,
        plan.bad_token_share * 100.0
    );

    let report = run_load(&plan, &functions, &emulator).await?;
    println!("{}", report.summary());
    let mismatches = report.mismatches();
    for mismatch in &mismatches {
        println!("MISMATCH {mismatch}");
    }
    Ok(mismatches.is_empty())
}

async fn burst(args: &[String]) -> Result<bool, Error> {
    let plan = BurstPlan {
        texts: args.first().map(|texts| texts.parse()).transpose()?.unwrap_or(60),
        instances: 12,
        parts_per_second: args.get(1).map(|rate| rate.parse()).transpose()?.unwrap_or(3.0),
        rate_known: args.get(2).is_some_and(|mode| mode == "known"),
        max_age: args.get(3).map(|seconds| seconds.parse().map(Duration::from_secs)).transpose()?,
    };
    println!("{plan:?}; function logs: .local/burst.log");
    let report = run_burst(&plan, repo_root().join(".local/burst.log")).await?;
    println!("{}", report.summary());
    let mismatches = report.mismatches();
    for mismatch in &mismatches {
        println!("MISMATCH {mismatch}");
    }
    Ok(mismatches.is_empty())
}
