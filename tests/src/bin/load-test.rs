//! `scripts/load-test [deliveries] [concurrency]`: the emulator and both functions under `cargo lambda watch`,
//! then a load of deliveries as 2X makes them (see `integration_tests::load`); prints throughput, latency and
//! the counts, and fails if any count is off.

use integration_tests::load::{LoadPlan, run_load};
use integration_tests::{Error, repo_root, start_stack};
use std::process::ExitCode;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    match run().await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(error) => {
            eprintln!("load test failed: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<bool, Error> {
    let mut args = std::env::args().skip(1).map(|arg| arg.parse::<usize>());
    let defaults = LoadPlan::default();
    let plan = LoadPlan {
        deliveries: args.next().transpose()?.unwrap_or(defaults.deliveries),
        concurrency: args.next().transpose()?.unwrap_or(defaults.concurrency),
        ..defaults
    };
    std::fs::create_dir_all(repo_root().join(".local"))?;
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
