//! Sending at the number's rate. SNS does not queue: beyond the origination number's rate, counted in message
//! parts per second, it answers `Throttling`. The redrive is where texts wait for it: each of its instances (at
//! most `REDRIVE_MAXIMUM_CONCURRENCY` at once, each one text at a time) spaces its publishes at its share of
//! `SMS_PARTS_PER_SECOND` when the customer knows the rate, and, known or not, waits and tries again when SNS
//! throttles, longer while SNS keeps refusing. What cannot go out in time goes back on the queue, briefly.

use std::sync::Mutex;
use std::time::Duration;
use tokio::time::Instant;
use webhook::config::{ConfigError, Env};

/// The first wait after SNS throttles, when the rate is not known: a few parts' time at the slowest numbers.
const FIRST_BACKOFF: Duration = Duration::from_millis(250);
/// The longest wait between two tries: a number's capacity comes back every second, and SNS holds a second's
/// worth at most, so instances trying less often than that would leave some of it unused.
const LONGEST_BACKOFF: Duration = Duration::from_secs(1);

/// The soonest a text given back to the queue for the rate comes back (SQS counts visibility in whole seconds).
pub const SOONEST_RETRY: Duration = Duration::from_secs(1);

/// `SMS_PARTS_PER_SECOND` (the sending number's rate, when known) and `REDRIVE_MAXIMUM_CONCURRENCY` (the
/// redrive instances that share it).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PacingSettings {
    pub parts_per_second: Option<f64>,
    pub instances: u32,
}

impl PacingSettings {
    /// The rates SNS numbers have, from a low 10DLC tier's fraction of a part per second to a short code's 100,
    /// with room above.
    pub const PARTS_PER_SECOND: std::ops::RangeInclusive<f64> = 0.1..=1000.0;

    pub fn from_env<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<Self, ConfigError> {
        let parts_per_second = match env.optional("SMS_PARTS_PER_SECOND") {
            None => None,
            Some(value) => {
                Some(value.trim().parse::<f64>().ok().filter(|rate| Self::PARTS_PER_SECOND.contains(rate)).ok_or(
                    ConfigError::Invalid {
                        name: "SMS_PARTS_PER_SECOND",
                        reason: "not a number of message parts per second from 0.1 to 1000",
                    },
                )?)
            }
        };
        let instances = match env.optional("REDRIVE_MAXIMUM_CONCURRENCY") {
            None => 1,
            Some(value) => {
                value.trim().parse::<u32>().ok().filter(|n| (1..=1000).contains(n)).ok_or(ConfigError::Invalid {
                    name: "REDRIVE_MAXIMUM_CONCURRENCY",
                    reason: "not a whole number from 1 to 1000",
                })?
            }
        };
        Ok(Self { parts_per_second, instances })
    }
}

/// One instance's pace: when it may publish next, and how long it waits after a throttle.
#[derive(Debug)]
pub struct Pacer {
    /// The time this instance's share of the rate takes to carry one part; `None`: the rate is not known.
    per_part: Option<Duration>,
    /// The first wait after a throttle: the time the whole rate takes to free a part (SNS's answer says the
    /// capacity is taken, by this instance, another, or a webhook), or [`FIRST_BACKOFF`] when it is not known.
    first_backoff: Duration,
    state: Mutex<PaceState>,
}

#[derive(Debug)]
struct PaceState {
    /// When this instance's share of the rate is free again.
    free_at: Instant,
    /// The next wait after a throttle, before jitter.
    backoff: Duration,
}

impl Pacer {
    pub fn new(settings: PacingSettings) -> Self {
        let per_part =
            settings.parts_per_second.map(|rate| Duration::from_secs_f64(f64::from(settings.instances.max(1)) / rate));
        let first_backoff = settings.parts_per_second.map_or(FIRST_BACKOFF, |rate| {
            Duration::from_secs_f64(1.0 / rate).clamp(Duration::from_millis(50), LONGEST_BACKOFF)
        });
        let state = PaceState { free_at: Instant::now(), backoff: first_backoff };
        Self { per_part, first_backoff, state: Mutex::new(state) }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, PaceState> {
        // The state is an instant and a duration, consistent after any panic: a poisoned lock is still good.
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Takes this instance's share of the rate for `parts`: when they may be published (now when the rate is not
    /// known), or `None` if not by `by` (nothing taken then).
    pub fn reserve(&self, parts: usize, by: Instant) -> Option<Instant> {
        let now = Instant::now();
        let mut state = self.state();
        let start = match self.per_part {
            Some(_) => state.free_at.max(now),
            None => now,
        };
        if start > by {
            return None;
        }
        if let Some(per_part) = self.per_part {
            let parts = u32::try_from(parts).unwrap_or(u32::MAX);
            state.free_at = start.checked_add(per_part.saturating_mul(parts)).unwrap_or(start);
        }
        Some(start)
    }

    /// When a text this instance could not send in time should be tried again: once its share of the rate is
    /// free, and not sooner than [`SOONEST_RETRY`] (a text given back is received again by whichever instance is
    /// free first).
    pub fn again_in(&self) -> Duration {
        self.state().free_at.saturating_duration_since(Instant::now()).max(SOONEST_RETRY)
    }

    /// SNS throttled a publish: how long to wait before the next try. Half the backoff plus a random share of the
    /// other half (instances throttled together do not come back together); the backoff then doubles, to at most
    /// [`LONGEST_BACKOFF`]. The share the throttled try took is given back: the next may start after the wait.
    pub fn throttled(&self) -> Duration {
        let mut state = self.state();
        let backoff = state.backoff;
        state.backoff = (backoff * 2).min(LONGEST_BACKOFF);
        let wait = backoff / 2 + backoff.mul_f64(fastrand::f64() / 2.0);
        state.free_at = Instant::now() + wait;
        wait
    }

    /// SNS accepted a publish: the next throttle waits the shortest again.
    pub fn accepted(&self) {
        self.state().backoff = self.first_backoff;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use webhook::config::Env;

    fn settings(pairs: &[(&str, &str)]) -> Result<PacingSettings, ConfigError> {
        let pairs: Vec<(String, String)> = pairs.iter().map(|(k, v)| ((*k).into(), (*v).into())).collect();
        PacingSettings::from_env(&Env::new(|name: &str| {
            pairs.iter().find(|(key, _)| key == name).map(|(_, value)| value.clone())
        }))
    }

    #[test]
    fn the_rate_is_optional_and_bounded() {
        assert_eq!(settings(&[]), Ok(PacingSettings { parts_per_second: None, instances: 1 }));
        let known = settings(&[("SMS_PARTS_PER_SECOND", "0.5"), ("REDRIVE_MAXIMUM_CONCURRENCY", "5")]);
        assert_eq!(known, Ok(PacingSettings { parts_per_second: Some(0.5), instances: 5 }));
        for (name, value) in [
            ("SMS_PARTS_PER_SECOND", "0"),
            ("SMS_PARTS_PER_SECOND", "0.05"),
            ("SMS_PARTS_PER_SECOND", "1001"),
            ("SMS_PARTS_PER_SECOND", "three"),
            ("SMS_PARTS_PER_SECOND", "NaN"),
            ("REDRIVE_MAXIMUM_CONCURRENCY", "0"),
            ("REDRIVE_MAXIMUM_CONCURRENCY", "2.5"),
        ] {
            assert!(
                matches!(settings(&[(name, value)]), Err(ConfigError::Invalid { name: n, .. }) if n == name),
                "{name}={value}"
            );
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_known_rate_is_shared_by_the_instances_and_counted_in_parts() {
        // 4 parts a second over 2 instances: this one carries a part every half second.
        let pacer = Pacer::new(PacingSettings { parts_per_second: Some(4.0), instances: 2 });
        let start = Instant::now();
        let later = start + Duration::from_secs(60);
        assert_eq!(pacer.reserve(1, later), Some(start));
        assert_eq!(pacer.reserve(2, later), Some(start + Duration::from_millis(500)));
        // The two parts take a second: the next is free 1.5 s after the start, not by 1 s.
        assert_eq!(pacer.reserve(1, start + Duration::from_secs(1)), None);
        assert_eq!(pacer.reserve(1, later), Some(start + Duration::from_millis(1_500)));
        // Time that passed unused is not saved up: no burst beyond the rate.
        tokio::time::advance(Duration::from_secs(10)).await;
        assert_eq!(pacer.reserve(1, later), Some(Instant::now()));
    }

    #[tokio::test(start_paused = true)]
    async fn an_unknown_rate_never_waits_before_a_publish_but_none_starts_past_its_last_moment() {
        let pacer = Pacer::new(PacingSettings { parts_per_second: None, instances: 5 });
        for _ in 0..100 {
            assert_eq!(pacer.reserve(3, Instant::now()), Some(Instant::now()));
        }
        let past = Instant::now();
        tokio::time::advance(Duration::from_millis(1)).await;
        assert_eq!(pacer.reserve(1, past), None);
        assert_eq!(pacer.again_in(), SOONEST_RETRY);
    }

    #[tokio::test(start_paused = true)]
    async fn a_text_this_instance_has_no_share_for_comes_back_when_it_has() {
        // 0.5 parts a second over 5 instances: a part every 10 s here; a 3-part text takes this share for 30 s.
        let pacer = Pacer::new(PacingSettings { parts_per_second: Some(0.5), instances: 5 });
        assert_eq!(pacer.reserve(3, Instant::now() + Duration::from_secs(60)), Some(Instant::now()));
        assert_eq!(pacer.reserve(1, Instant::now() + Duration::from_secs(20)), None);
        assert_eq!(pacer.again_in(), Duration::from_secs(30));
    }

    #[test]
    fn throttles_back_off_doubling_with_jitter_to_a_second_and_a_success_starts_over() {
        let pacer = Pacer::new(PacingSettings { parts_per_second: None, instances: 1 });
        let waits: Vec<Duration> = (0..5).map(|_| pacer.throttled()).collect();
        for (wait, backoff) in waits.iter().zip([250, 500, 1000, 1000, 1000]) {
            let backoff = Duration::from_millis(backoff);
            assert!(*wait >= backoff / 2 && *wait <= backoff, "{wait:?} for {backoff:?}");
        }
        pacer.accepted();
        assert!(pacer.throttled() <= FIRST_BACKOFF);
        // With a known rate, the first wait is the time the whole rate takes to free a part.
        let paced = Pacer::new(PacingSettings { parts_per_second: Some(5.0), instances: 2 });
        let first = paced.throttled();
        assert!(first >= Duration::from_millis(100) && first <= Duration::from_millis(200), "{first:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_throttled_try_gives_its_share_back_the_next_starts_after_the_wait() {
        // 1 part a second for this instance: a throttle must not cost it a second more.
        let pacer = Pacer::new(PacingSettings { parts_per_second: Some(2.0), instances: 2 });
        let later = Instant::now() + Duration::from_secs(60);
        assert_eq!(pacer.reserve(1, later), Some(Instant::now()));
        let wait = pacer.throttled();
        assert!(wait <= Duration::from_millis(500), "{wait:?}");
        assert_eq!(pacer.reserve(1, later), Some(Instant::now() + wait));
    }
}
