//! `log-scan DIRECTORY`: fails if any log line the test suite archived there holds a token, a full phone
//! number, a message text or transcript content, or if a function wrote a metric that an alarm reads from other
//! functions but not from it (see `integration_tests::log_scan`). Run by `scripts/test`.

use integration_tests::Template;
use integration_tests::log_scan::{blind_alarms, metrics_written, scan_directory, summaries};
use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let Some(directory) = std::env::args_os().nth(1).map(PathBuf::from) else {
        eprintln!("usage: log-scan DIRECTORY");
        return ExitCode::FAILURE;
    };
    let blind = metrics_written(&directory)
        .and_then(|written| Ok((written.len(), blind_alarms(&written, &Template::load()?)?)));
    match (scan_directory(&directory), summaries(&directory), blind) {
        (Ok((files, lines, offending)), Ok(requests), Ok((written, blind))) => {
            println!("log scan: {lines} lines in {files} files, {requests} request summaries");
            println!("alarm scan: {written} metrics written by function, {} not read where alarmed", blind.len());
            for location in &offending {
                println!("  a secret is logged at {location}");
            }
            for alarm in &blind {
                println!("  blind alarm: {alarm}");
            }
            // An empty archive would pass vacuously: the suite logs thousands of requests.
            if requests < 100 {
                println!("  too few request summaries were archived to trust the scan");
                return ExitCode::FAILURE;
            }
            if offending.is_empty() && blind.is_empty() { ExitCode::SUCCESS } else { ExitCode::FAILURE }
        }
        (Err(error), ..) | (_, Err(error), _) | (.., Err(error)) => {
            eprintln!("log scan failed: {error}");
            ExitCode::FAILURE
        }
    }
}
