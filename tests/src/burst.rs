//! A campaign's burst of pre-call texts against a sending number's rate: every text delivered at once to
//! send-text's instances, SNS (the emulator) throttling beyond the rate, the redrive polled as Lambda's event
//! source polls it, with the template's queue settings. Measured from the emulator's own clock of what SNS
//! accepted: each text sent at most once, how long after its arrival, and, for texts the rate cannot carry
//! within their maximum age, that none went out late and what became of the rest.

use crate::{
    AUTH_TOKEN, Emulator, Error, Functions, SENT_TEXTS_TABLE, SampleEvent, StackSettings, Template,
    poll_fallback_queue, start_stack_with,
};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tokio::sync::Semaphore;

#[derive(Debug, Clone)]
pub struct BurstPlan {
    pub texts: usize,
    /// send-text instances that run at once (`cargo lambda watch` on two cores: Lambda would start one per
    /// request); the client keeps two deliveries in flight per instance.
    pub instances: usize,
    /// The number's rate SNS enforces.
    pub parts_per_second: f64,
    /// Whether the stack is told the rate (`SMS_PARTS_PER_SECOND`), or adapts to throttling.
    pub rate_known: bool,
    /// `QUEUED_TEXT_MAX_AGE_SECONDS`; `None`: the default.
    pub max_age: Option<Duration>,
}

/// What a burst came to.
#[derive(Debug, Default)]
pub struct BurstReport {
    pub plan_texts: usize,
    pub parts_per_second: f64,
    pub max_age: Duration,
    /// send-text's answers: (status, body `status`) → count.
    pub answers: BTreeMap<(u16, String), usize>,
    /// Per text sent, seconds from its arrival at send-text to SNS's acceptance, in the order SNS accepted them.
    pub ages: Vec<f64>,
    /// The last text's time from the burst's start (every text asked for at once) to SNS's acceptance: its age
    /// plus the time its delivery took to reach send-text.
    pub last_from_client: f64,
    /// The last delivery's arrival at send-text after the burst's start (here deliveries wait for one of a few
    /// `cargo lambda watch` instances on two cores; Lambda starts one per request).
    pub reached_send_text: f64,
    /// Texts SNS accepted more than once.
    pub sent_twice: usize,
    /// Message parts of the texts sent.
    pub parts: u64,
    /// Publishes SNS throttled.
    pub throttled: u64,
    /// Texts settled expired in the sent-texts table.
    pub expired: usize,
    /// Queued deliveries the redrive completed, and how many times it reported one failed.
    pub redriven: usize,
    pub redelivered: usize,
    pub elapsed: Duration,
}

impl BurstReport {
    /// The seconds within which the last text must go out: 1.5 × the time the rate needs for every part, + 10 s.
    pub fn bound(&self) -> f64 {
        1.5 * (self.plan_texts as f64 / self.parts_per_second) + 10.0
    }

    /// Texts the rate carries within the maximum age: a second's burst, then the rate.
    pub fn rate_allows(&self) -> usize {
        let carried = self.parts_per_second * (1.0 + self.max_age.as_secs_f64());
        (carried.floor() as usize).min(self.plan_texts)
    }

    pub fn sent_late(&self) -> usize {
        self.ages.iter().filter(|age| **age > self.max_age.as_secs_f64()).count()
    }

    fn percentile(&self, share: f64) -> f64 {
        let mut sorted = self.ages.clone();
        sorted.sort_by(f64::total_cmp);
        let index = ((sorted.len() as f64 * share).ceil() as usize).saturating_sub(1);
        sorted.get(index).copied().unwrap_or_default()
    }

    /// Every promise the burst must keep, broken ones named.
    pub fn mismatches(&self) -> Vec<String> {
        let mut broken = Vec::new();
        let failed: usize = self.answers.iter().filter(|((status, _), _)| *status >= 300).map(|(_, n)| n).sum();
        if failed > 0 {
            broken.push(format!("{failed} deliveries not answered 2xx: {:?}", self.answers));
        }
        if self.sent_twice > 0 {
            broken.push(format!("{} texts sent more than once", self.sent_twice));
        }
        if self.sent_late() > 0 {
            broken.push(format!("{} texts sent after their maximum age", self.sent_late()));
        }
        if self.ages.len() + self.expired != self.plan_texts {
            broken.push(format!("{} sent + {} expired of {} texts", self.ages.len(), self.expired, self.plan_texts));
        }
        if self.rate_allows() == self.plan_texts {
            // Counted from the burst's start, the stricter: it adds the time a delivery waited for an instance.
            if self.last_from_client > self.bound() {
                broken.push(format!("the last text went out {:.1} s after it was delivered", self.last_from_client));
            }
        } else if (self.ages.len() as f64) < 0.9 * self.rate_allows() as f64 {
            broken.push(format!("{} texts sent of the {} the rate allows", self.ages.len(), self.rate_allows()));
        }
        broken
    }

    pub fn summary(&self) -> String {
        format!(
            "{} texts at {} parts/s, maximum age {} s: {} sent ({} parts), {} expired, in {:.1} s\n\
             age when sent: p50 {:.1} s, p90 {:.1} s, last {:.1} s; {} sent late\n\
             the last text out {:.1} s after the burst began (bound {:.1} s)\n\
             SNS throttled {} publishes; the redrive completed {} queued texts, {} redeliveries\n\
             send-text answered {:?}; the last delivery reached it {:.1} s after the burst began",
            self.plan_texts,
            self.parts_per_second,
            self.max_age.as_secs(),
            self.ages.len(),
            self.parts,
            self.expired,
            self.elapsed.as_secs_f64(),
            self.percentile(0.5),
            self.percentile(0.9),
            self.percentile(1.0),
            self.sent_late(),
            self.last_from_client,
            self.bound(),
            self.throttled,
            self.redriven,
            self.redelivered,
            self.answers,
            self.reached_send_text,
        )
    }
}

/// The number text `index` goes to: 202-555-0100 upwards, skipping those the emulator holds opted out (…99).
fn lead(index: usize) -> String {
    let line = 100 + index + index / 99;
    format!("+1202555{line:04}")
}

fn epoch_now() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs_f64()
}

/// Starts a stack for `plan` (function logs to `log_path`), delivers the burst and measures it.
pub async fn run_burst(plan: &BurstPlan, log_path: PathBuf) -> Result<BurstReport, Error> {
    let template = Template::load()?;
    let queue = template.properties("FallbackQueue")?;
    let visibility = queue["VisibilityTimeout"].as_u64().ok_or("the fallback queue has no VisibilityTimeout")?;
    let concurrency =
        template.parameters()?.into_iter().find(|parameter| parameter.name == "RedriveMaximumConcurrency");
    let pollers = concurrency.and_then(|parameter| parameter.default).ok_or("no RedriveMaximumConcurrency")?;
    let pollers = pollers.parse::<usize>()?;
    let mut env = vec![("REDRIVE_MAXIMUM_CONCURRENCY", pollers.to_string())];
    if plan.rate_known {
        env.push(("SMS_PARTS_PER_SECOND", plan.parts_per_second.to_string()));
    }
    if let Some(max_age) = plan.max_age {
        env.push(("QUEUED_TEXT_MAX_AGE_SECONDS", max_age.as_secs().to_string()));
    }
    let settings = StackSettings { env, instances: plan.instances, queue_visibility: Duration::from_secs(visibility) };
    let (emulator, functions) = start_stack_with(log_path, settings).await?;
    deliver_burst(plan, &emulator, &functions, pollers).await
}

/// Delivers `plan`'s burst to a running stack (`pollers` polling its fallback queue) and measures it.
pub async fn deliver_burst(
    plan: &BurstPlan,
    emulator: &Emulator,
    functions: &Functions,
    pollers: usize,
) -> Result<BurstReport, Error> {
    emulator.limit_sms_rate(plan.parts_per_second).await?;
    let sample = SampleEvent::named("send-text-pre-call")?.payload()?;
    let client = reqwest::Client::builder().timeout(Duration::from_secs(60)).build()?;
    let url = functions.url("send-text");
    let (started, burst_at) = (std::time::Instant::now(), epoch_now());
    let in_flight = Arc::new(Semaphore::new(plan.instances.max(1) * 2));
    let deliveries = (0..plan.texts).map(|index| {
        let mut payload = sample.clone();
        payload["id"] = (7_000_000 + index).into();
        payload["record_phone_number"] = lead(index).into();
        let request = client.post(&url).header("Authorization", AUTH_TOKEN).json(&payload);
        let in_flight = in_flight.clone();
        async move {
            let _permit = in_flight.acquire_owned().await?;
            let response = request.send().await?;
            let status = response.status().as_u16();
            let body: Value = response.json().await.unwrap_or_default();
            Ok::<_, Error>((status, body["status"].as_str().unwrap_or("?").to_owned()))
        }
    });
    // Room for twice what the rate needs, or the maximum age, and the stack's own start.
    let needed = 2.0 * (1.5 * plan.texts as f64 / plan.parts_per_second + 10.0);
    let limit = Duration::from_secs(60) + plan.max_age.unwrap_or_default().max(Duration::from_secs_f64(needed));
    let (answers, drained) = poll_fallback_queue(emulator, functions, pollers, limit, async_all(deliveries)).await?;
    let drained = drained?;
    let elapsed = started.elapsed();
    let mut report = BurstReport {
        plan_texts: plan.texts,
        parts_per_second: plan.parts_per_second,
        max_age: plan.max_age.unwrap_or(Duration::from_secs(900)),
        redriven: drained.messages,
        redelivered: drained.retried,
        elapsed,
        ..BurstReport::default()
    };
    for answer in answers {
        *report.answers.entry(answer?).or_default() += 1;
    }
    measure_sent(emulator, burst_at, &mut report).await?;
    // The rate lifted again: the stack may go on serving.
    emulator.limit_sms_rate(0.0).await?;
    Ok(report)
}

/// Every delivery at once, each answer as it came.
async fn async_all<F>(deliveries: impl Iterator<Item = F>) -> Vec<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let mut running = tokio::task::JoinSet::new();
    deliveries.for_each(|delivery| {
        running.spawn(delivery);
    });
    running.join_all().await
}

/// What SNS accepted of a burst that started at `burst_at` (epoch seconds).
async fn measure_sent(emulator: &Emulator, burst_at: f64, report: &mut BurstReport) -> Result<(), Error> {
    let items = emulator.items(SENT_TEXTS_TABLE).await?;
    report.expired = items.iter().filter(|item| item["status"] == "expired").count();
    // A text's age counts from its arrival at send-text (`received_at`), as its maximum age does.
    let mut received = BTreeMap::new();
    for item in &items {
        let (number, at) = (item["phone_e164"].as_str(), item["received_at"].as_str());
        let at = at.and_then(|at| OffsetDateTime::parse(at, &Rfc3339).ok()).map(|at| at.unix_timestamp_nanos());
        if let (Some(number), Some(at)) = (number, at) {
            received.insert(number.to_owned(), at as f64 / 1e9);
        }
    }
    let log = emulator.sms_log().await?;
    report.throttled = log.throttled;
    let mut times_sent: BTreeMap<&str, usize> = BTreeMap::new();
    for sms in &log.accepted {
        let arrived = received.get(&sms.number).ok_or_else(|| format!("a text to {} with no record", sms.number))?;
        *times_sent.entry(&sms.number).or_default() += 1;
        if times_sent[sms.number.as_str()] == 1 {
            report.ages.push(sms.at - arrived);
            report.parts += sms.parts;
            report.last_from_client = report.last_from_client.max(sms.at - burst_at);
        }
    }
    report.sent_twice = times_sent.values().filter(|times| **times > 1).count();
    report.reached_send_text = received.values().map(|received| received - burst_at).fold(0.0, f64::max);
    Ok(())
}
