//! Time budgets. Every AWS call ends within its SDK operation timeout ([`CALL`], or [`QUICK_CALL`] for a call
//! whose failure is tolerated), so the slowest path of a request is a sum of them: each function states its own
//! (`WORST_CASE`) and a test holds it, with [`MARGIN`], inside the template's `Timeout`. A batch (the redrive's
//! queued deliveries, sms-delivery-status's records) starts an item only while its [`Deadline`] leaves that
//! item's worst case, so it always answers, reporting what it did not start, instead of being stopped mid-item.

use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::time::Instant;

/// A call whose outcome matters, retries included (standard mode: 3 attempts of at most 2 s with backoff).
pub const CALL: Duration = Duration::from_secs(5);
/// A call whose failure is tolerated (the opt-out check at SNS, re-reading the token) or made only to open a
/// connection during initialisation.
pub const QUICK_CALL: Duration = Duration::from_secs(2);
/// What a path's calls leave to the rest: the CPU work between them, a slow host, the runtime's own overhead.
pub const MARGIN: Duration = Duration::from_secs(3);

/// `calls` of [`CALL`] one after another, then `quick` of [`QUICK_CALL`].
pub const fn calls(calls: u32, quick: u32) -> Duration {
    Duration::from_secs(CALL.as_secs() * calls as u64 + QUICK_CALL.as_secs() * quick as u64)
}

/// The longer of two budgets (for a batch whose items are of several kinds).
pub const fn longest(a: Duration, b: Duration) -> Duration {
    if a.as_millis() >= b.as_millis() { a } else { b }
}

/// When an invocation must have answered by; `None` when the runtime gave no usable deadline.
#[derive(Debug, Clone, Copy)]
pub struct Deadline(Option<Instant>);

impl Deadline {
    /// No deadline: outside Lambda.
    pub const NONE: Self = Self(None);

    pub fn after(remaining: Duration) -> Self {
        Self(Some(Instant::now() + remaining))
    }

    /// Lambda's deadline for the invocation (the context's, in milliseconds since the epoch). One already past
    /// as the invocation starts is no deadline: Lambda never gives one, and `cargo lambda watch` sends a
    /// constant 600000 (1970) to every invocation, which would otherwise leave local runs no time at all.
    pub fn at_epoch_ms(deadline_ms: u64) -> Self {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
        match Duration::from_millis(deadline_ms).checked_sub(now) {
            Some(remaining) => Self::after(remaining),
            None => Self(None),
        }
    }

    /// Whether `worst_case` and [`MARGIN`] still fit before the deadline: an item started now surely ends in time.
    pub fn leaves(&self, worst_case: Duration) -> bool {
        self.0.is_none_or(|deadline| deadline.saturating_duration_since(Instant::now()) >= worst_case + MARGIN)
    }

    /// The last moment something taking `worst_case` (and [`MARGIN`]) can start and still end in time; `None`
    /// when there is no deadline.
    pub fn latest_start(&self, worst_case: Duration) -> Option<Instant> {
        self.0.map(|deadline| deadline.checked_sub(worst_case + MARGIN).unwrap_or_else(Instant::now))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_add_up() {
        assert_eq!(calls(4, 1), Duration::from_secs(22));
        assert_eq!(calls(0, 0), Duration::ZERO);
        assert_eq!(longest(calls(1, 0), calls(0, 3)), calls(0, 3));
        assert_eq!(longest(calls(3, 0), calls(1, 1)), calls(3, 0));
    }

    #[tokio::test(start_paused = true)]
    async fn a_deadline_leaves_an_item_only_while_its_worst_case_and_the_margin_fit() {
        let deadline = Deadline::after(Duration::from_secs(20));
        assert!(deadline.leaves(Duration::from_secs(17)));
        assert!(!deadline.leaves(Duration::from_secs(18)));
        tokio::time::advance(Duration::from_secs(5)).await;
        assert!(deadline.leaves(Duration::from_secs(12)));
        assert!(!deadline.leaves(Duration::from_secs(13)));
    }

    #[tokio::test(start_paused = true)]
    async fn the_latest_start_leaves_the_worst_case_and_the_margin() {
        let deadline = Deadline::after(Duration::from_secs(20));
        assert_eq!(deadline.latest_start(Duration::from_secs(5)), Some(Instant::now() + Duration::from_secs(12)));
        assert_eq!(Deadline::NONE.latest_start(Duration::from_secs(5)), None);
    }

    #[test]
    fn lambdas_deadline_is_read_from_the_epoch_and_one_already_past_is_none() {
        // cargo-lambda's constant: no deadline, not one that leaves nothing.
        assert!(Deadline::at_epoch_ms(600_000).leaves(Duration::from_secs(900)));
        let in_a_minute = SystemTime::now().duration_since(UNIX_EPOCH).unwrap() + Duration::from_secs(60);
        let deadline = Deadline::at_epoch_ms(u64::try_from(in_a_minute.as_millis()).unwrap());
        assert!(deadline.leaves(Duration::from_secs(50)));
        assert!(!deadline.leaves(Duration::from_secs(58)));
    }
}
