//! The benchmark's small form, so it cannot rot: the debug builds of both functions and the Python peer, a few
//! starts and a hundred invocations each under the harness's Runtime API and AWS stub, then a few against the
//! emulator (an id of its own each). Every answer is checked, and that our first invocation opens no connection
//! its init did not; the timings are not judged here (debug builds), `scripts/bench` measures the release ones.

use bench::{Plan, run, subjects, table, target_dir};

#[tokio::test]
async fn the_harness_measures_both_functions_and_the_peer() -> Result<(), bench::Error> {
    for function in ["send-text", "post-call"] {
        let status =
            integration_tests::cargo_command("cargo").args(["build", "--quiet", "--bin", function]).status()?;
        assert!(status.success(), "building {function}");
    }
    let python = bench::repo_root().join(".venv/bin/python");
    let subjects = subjects(&target_dir(), "debug", Some(&python))?;
    let stub = bench::aws_stub::start().await?;
    let report = run(&subjects, Plan { starts: 3, invocations: 100, unique_ids: false }, &stub).await?;
    println!("{}", table(&report));

    let results = report["results"].as_array().ok_or("no results")?;
    assert_eq!(results.len(), 4);
    for result in results {
        assert_eq!(result["warm"]["n"], 100);
        assert!(result["init"]["p50_ms"].as_f64() > Some(0.0), "{result}");
        assert!(result["peak_rss_mb"].as_f64() > Some(1.0), "{result}");
        assert!(result["warm_cpu_us"].as_f64() > Some(0.0), "{result}");
        if result["implementation"] == "rust" {
            // Every connection a delivery uses (in parallel too) is opened during init, at full CPU.
            assert_eq!(result["first_invocation_connections_max"], 0, "{result}");
        }
    }
    assert!(report["peer_over_ours"][0]["init_p50"].as_f64().is_some());

    // Against the emulator: every invocation an id of its own, stored or sent for real.
    let emulator = bench::emulator::Emulator::start().await?;
    let plan = Plan { starts: 2, invocations: 20, unique_ids: true };
    let report = run(&subjects, plan, &emulator.endpoint).await?;
    for result in report["results"].as_array().ok_or("no results")? {
        assert_eq!(result["warm"]["n"], 20);
        assert!(result["warm_cpu_us"].as_f64().is_some(), "{result}");
    }
    Ok(())
}
