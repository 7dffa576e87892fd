//! The load test's small form (the long one is `scripts/load-test`): 300 deliveries, four endpoints, 20%
//! repeated ids, 5% bad tokens, texts to a lead who opted out, the first 30 during a DynamoDB outage (queued, then
//! redriven), 8 in flight, against the real binaries and the emulator. Every count must match.

use integration_tests::load::{LoadPlan, run_load};
use integration_tests::{Error, start_stack};

#[tokio::test]
async fn a_mixed_load_leaves_exactly_one_text_and_one_call_per_id() -> Result<(), Error> {
    let log_path = std::env::temp_dir().join(format!("twox-load-{}.log", std::process::id()));
    let (emulator, functions) = start_stack(log_path).await?;

    let plan = LoadPlan { deliveries: 300, concurrency: 8, ..LoadPlan::default() };
    let report = run_load(&plan, &functions, &emulator).await?;
    println!("{}", report.summary());

    assert!(report.expected_texts > 50 && report.expected_calls > 50 && report.expected_unauthorized > 5);
    assert!(report.expected_opt_outs > 3 && report.expected_opted_out_answers > 5, "opt-outs were exercised");
    assert!(report.expected_lead_events > 10, "inbound texts were exercised: {}", report.expected_lead_events);
    assert!(report.answers.keys().any(|(_, _, outcome)| outcome == "duplicate"), "repeats were delivered");
    assert!(report.expected_queued > 15, "the outage was exercised: {}", report.expected_queued);
    assert_eq!(report.mismatches(), Vec::<String>::new());
    Ok(())
}
