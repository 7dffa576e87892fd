//! A campaign's burst against a sending number's rate (issue 24), the real binaries on the emulator, SNS throttling
//! beyond the rate: every text sent once, the last within 1.5 × (texts ÷ rate) + 10 s of its arrival; with more
//! texts than the rate carries within their maximum age, none sent after it, the rest settled expired, and at
//! least 90% of what the rate allows sent. The long form, with any numbers: `scripts/load-test burst`.

use integration_tests::Error;
use integration_tests::burst::{BurstPlan, run_burst};
use std::time::Duration;

#[tokio::test]
async fn a_burst_goes_out_at_the_numbers_rate_once_each_and_never_late() -> Result<(), Error> {
    let scenarios = [
        // A toll-free number's 3 parts a second, found by SNS's throttling: 20 s of sending at best.
        BurstPlan { texts: 60, instances: 12, parts_per_second: 3.0, rate_known: false, max_age: None },
        // 1 part a second, told: 90 texts where a minute's maximum age carries about 61.
        BurstPlan {
            texts: 90,
            instances: 12,
            parts_per_second: 1.0,
            rate_known: true,
            max_age: Some(Duration::from_secs(60)),
        },
    ];
    for plan in scenarios {
        let log_path = std::env::temp_dir().join(format!("twox-burst-{}.log", std::process::id()));
        let report = run_burst(&plan, log_path).await?;
        println!("{}", report.summary());
        assert_eq!(report.mismatches(), Vec::<String>::new(), "{plan:?}");
        assert!(report.throttled > 0, "the rate was reached: {plan:?}");
        if plan.max_age.is_some() {
            assert!(report.expired > 0, "the rate could not carry them all: {plan:?}");
        }
    }
    Ok(())
}
