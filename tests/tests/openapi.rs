//! `openapi.yaml` kept honest: schemathesis generates requests from it (valid ones and broken ones) and sends
//! them to the real binaries under `cargo lambda watch`, against the emulator. No answer may be a server error,
//! an undocumented status, a non-JSON body or a body outside its documented schema.
//!
//! `SCHEMATHESIS_MAX_EXAMPLES` (default 60 per operation and phase) sets the size; the long form is
//! `SCHEMATHESIS_MAX_EXAMPLES=2000 cargo test -p integration-tests --test openapi -- --nocapture`.

use integration_tests::{AUTH_TOKEN, Error, repo_root, start_stack, venv_bin};

#[tokio::test]
async fn schemathesis_finds_no_server_error_and_no_undocumented_answer() -> Result<(), Error> {
    let log_path = std::env::temp_dir().join(format!("twox-openapi-{}.log", std::process::id()));
    let (_emulator, functions) = start_stack(log_path).await?;
    // `cargo lambda watch` serves a binary at `/lambda-url/<binary>/<path>`: the lead-events routes are one
    // binary's paths, the other webhooks each a binary of its own.
    let base = functions.base_url();
    for (url, filter) in [(base.clone(), "--exclude-tag"), (format!("{base}/lead-events"), "--include-tag")] {
        let printed = schemathesis(&url, [filter, "lead-events"]).await?;
        assert!(printed.0, "schemathesis found problems (above); the functions logged:\n{}", functions.log());
        assert!(printed.1.contains("passed"), "schemathesis ran no test");
    }
    Ok(())
}

/// Schemathesis on the operations `filter` selects, sent to `url`: whether it passed, and what it printed.
async fn schemathesis(url: &str, filter: [&str; 2]) -> Result<(bool, String), Error> {
    let examples = std::env::var("SCHEMATHESIS_MAX_EXAMPLES").unwrap_or_else(|_| "60".into());
    let report = std::env::temp_dir().join(format!("twox-schemathesis-{}-{}", std::process::id(), filter[0]));
    let output = tokio::process::Command::new(venv_bin("schemathesis")?)
        .current_dir(repo_root())
        .args(["run", "openapi.yaml", "--url", url, "--no-color"])
        .args(filter)
        .args(["--header", &format!("Authorization: {AUTH_TOKEN}")])
        .args([
            "--checks",
            "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance",
        ])
        .args(["--phases", "examples,coverage,fuzzing", "--max-examples", &examples, "--seed", "20261121"])
        .args(["--workers", "2", "--generation-database", "none", "--request-timeout", "30"])
        .args(["--report", "junit", "--report-dir"])
        .arg(&report)
        // Leaves out bodies that are not UTF-8, which cargo lambda watch itself cannot pass on (see the hooks file).
        .env("SCHEMATHESIS_HOOKS", "schemathesis_hooks")
        .env("PYTHONPATH", repo_root().join("tests"))
        .output()
        .await?;
    let printed = String::from_utf8_lossy(&output.stdout).into_owned();
    println!("{printed}{}", String::from_utf8_lossy(&output.stderr));
    Ok((output.status.success(), printed))
}
