//! `scripts/bench`: measures the release binaries and the Python peer, against the instant AWS stub and then
//! against the emulator; prints the tables and writes the JSON.
//! Usage: bench [--starts N] [--invocations N] [--profile release] [--no-peer] [--json PATH] [--baseline DIR]
//! [--aws stub|emulator|both]
//! `--baseline DIR` also measures the binaries built into target directory DIR (an earlier commit's), in the same
//! run, as implementation `baseline`.

use bench::{Plan, repo_root, run, subjects, subjects_baseline, table};
use std::path::PathBuf;
use std::process::ExitCode;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let mut plan = Plan { starts: 20, invocations: 1000, unique_ids: false };
    let mut aws = "both".to_owned();
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
            "--aws" => aws = value(),
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
        let mut reports = serde_json::Map::new();
        if aws == "stub" || aws == "both" {
            let stub = bench::aws_stub::start().await?;
            reports.insert("stub".into(), run(&subjects, plan, &stub).await?);
        }
        if aws == "emulator" || aws == "both" {
            let emulator = bench::emulator::Emulator::start().await?;
            let plan = Plan { unique_ids: true, ..plan };
            reports.insert("emulator".into(), run(&subjects, plan, &emulator.endpoint).await?);
        }
        if reports.is_empty() {
            return Err(format!("--aws {aws}: stub, emulator or both").into());
        }
        if let Some(parent) = json.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&json, serde_json::to_string_pretty(&reports)?)?;
        Ok::<_, bench::Error>(reports)
    }
    .await;
    match result {
        Ok(reports) => {
            for (aws, report) in &reports {
                let against = if aws == "stub" { "the instant AWS stub" } else { "the emulator (moto)" };
                println!("Against {against}:\n{}\n", table(report));
            }
            println!("JSON: {}", json.display());
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("bench failed: {error}");
            ExitCode::FAILURE
        }
    }
}
