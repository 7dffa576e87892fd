//! `log-scan DIRECTORY`: fails if any log line the test suite archived there holds a token, a full phone
//! number, a message text or transcript content (see `integration_tests::log_scan`). Run by `scripts/test`.

use integration_tests::log_scan::{scan_directory, summaries};
use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let Some(directory) = std::env::args_os().nth(1).map(PathBuf::from) else {
        eprintln!("usage: log-scan DIRECTORY");
        return ExitCode::FAILURE;
    };
    match (scan_directory(&directory), summaries(&directory)) {
        (Ok((files, lines, offending)), Ok(requests)) => {
            println!("log scan: {lines} lines in {files} files, {requests} request summaries");
            for location in &offending {
                println!("  a secret is logged at {location}");
            }
            // An empty archive would pass vacuously: the suite logs thousands of requests.
            if requests < 100 {
                println!("  too few request summaries were archived to trust the scan");
                return ExitCode::FAILURE;
            }
            if offending.is_empty() { ExitCode::SUCCESS } else { ExitCode::FAILURE }
        }
        (Err(error), _) | (_, Err(error)) => {
            eprintln!("log scan failed: {error}");
            ExitCode::FAILURE
        }
    }
}
