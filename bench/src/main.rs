//! `scripts/bench`: measures the release binaries and the Python peer; prints the table and writes the JSON.
//! Usage: bench [--starts N] [--invocations N] [--profile release] [--no-peer] [--json PATH] [--baseline DIR]
//! `--baseline DIR` also measures the binaries built into target directory DIR (an earlier commit's), in the same
//! run, as implementation `baseline`.

use bench::{Plan, repo_root, run, subjects, subjects_baseline, table};
use std::path::PathBuf;
use std::process::ExitCode;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let mut plan = Plan { starts: 20, invocations: 1000 };
    let (mut profile, mut peer, mut json) = ("release".to_owned(), true, repo_root().join(".local/bench.json"));
    let mut baseline: Option<PathBuf> = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().unwrap_or_default();
        match arg.as_str() {
            "--starts" => plan.starts = value().parse().unwrap_or(plan.starts),
            "--invocations" => plan.invocations = value().parse().unwrap_or(plan.invocations),
            "--profile" => profile = value(),
            "--no-peer" => peer = false,
            "--json" => json = PathBuf::from(value()),
            "--baseline" => baseline = Some(PathBuf::from(value())),
            other => {
                eprintln!("unknown argument {other}");
                return ExitCode::FAILURE;
            }
        }
    }
    let target_dir = bench::target_dir();
    let python = repo_root().join(".venv/bin/python");
    let result = async {
        let mut subjects = subjects(&target_dir, &profile, peer.then_some(python.as_path()))?;
        if let Some(directory) = &baseline {
            subjects.extend(subjects_baseline(directory, &profile)?);
        }
        let report = run(&subjects, plan).await?;
        if let Some(parent) = json.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&json, serde_json::to_string_pretty(&report)?)?;
        Ok::<_, bench::Error>(report)
    }
    .await;
    match result {
        Ok(report) => {
            println!("{}\n\nJSON: {}", table(&report), json.display());
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("bench failed: {error}");
            ExitCode::FAILURE
        }
    }
}
