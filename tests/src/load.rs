//! A load of deliveries the way 2X makes them: four endpoints mixed (lead-events' `/text` among them), a share of repeated ids, some bad
//! tokens, a bounded number in flight, and each 409 or 5xx delivered again after a pause. Every tenth text id
//! goes to a lead who opted out before the load; opt-outs arrive for ten other leads meanwhile. The first tenth
//! arrives during an outage (the calls and sent-texts tables gone): those are queued, and the redrive completes
//! them while the rest arrives. Afterwards what the emulator holds must match exactly what was asked.

use crate::{
    AUTH_TOKEN, CALLS_TABLE, Emulator, Error, Functions, LEAD_EVENTS_TABLE, OPT_OUTS_TABLE, SENT_TEXTS_TABLE,
    SampleEvent, Table,
};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy)]
pub struct LoadPlan {
    pub deliveries: usize,
    pub concurrency: usize,
    /// Share of deliveries that repeat an id already delivered (2X's retries and duplicates).
    pub repeated_share: f64,
    /// Share of deliveries with a wrong token.
    pub bad_token_share: f64,
    /// Share of deliveries, the first ones, made while DynamoDB refuses the calls and sent-texts tables.
    pub outage_share: f64,
    pub seed: u64,
}

impl Default for LoadPlan {
    fn default() -> Self {
        Self {
            deliveries: 1000,
            concurrency: 16,
            repeated_share: 0.2,
            bad_token_share: 0.05,
            outage_share: 0.1,
            seed: 2026,
        }
    }
}

#[derive(Debug, Clone)]
struct Delivery {
    endpoint: &'static str,
    /// The webhook's id; for an opt-out (which has none), which of the ten leads opts out.
    id: u64,
    token: &'static str,
}

/// The lead who opted out before the load: every text id divisible by ten is addressed to them.
const OPTED_OUT_LEAD: &str = "2025550150";

/// Whether text `id` is addressed to [`OPTED_OUT_LEAD`].
fn to_opted_out_lead(id: u64) -> bool {
    id.is_multiple_of(10)
}

/// The number an opt-out delivery with `id` reports: one of ten leads.
fn opting_out_lead(id: u64) -> String {
    format!("20255501{}", 60 + id % 10)
}

/// What the load did and what it left behind.
#[derive(Debug, Default)]
pub struct LoadReport {
    pub deliveries: usize,
    /// HTTP requests made, redeliveries after a 409 or 5xx included.
    pub requests: usize,
    pub elapsed: Duration,
    /// Per final answer, the outage's included: (endpoint, status, body `status` or `error`) → count.
    pub answers: BTreeMap<(String, u16, String), usize>,
    /// The same for the deliveries made during the outage.
    pub outage_answers: BTreeMap<(String, u16, String), usize>,
    /// Valid post-calls and texts (not to the opted-out lead) delivered during the outage: each answered queued.
    pub expected_queued: usize,
    /// Queued messages the redrive completed.
    pub redriven: usize,
    pub latencies: Vec<Duration>,
    pub expected_texts: usize,
    pub expected_calls: usize,
    pub expected_unauthorized: usize,
    /// Listed numbers: the lead who opted out before the load, and each lead whose opt-out was delivered.
    pub expected_opt_outs: usize,
    /// Text deliveries (repeats included) to the lead who opted out: each must be answered `opted_out`.
    pub expected_opted_out_answers: usize,
    pub texts_sent: usize,
    pub text_items_sent: usize,
    pub call_items: usize,
    pub opt_out_items: usize,
    /// Distinct valid inbound texts (each reply's words its own): one lead-events item each.
    pub expected_lead_events: usize,
    pub lead_event_items: usize,
}

impl LoadReport {
    fn percentile(&self, share: f64) -> Duration {
        let mut sorted = self.latencies.clone();
        sorted.sort();
        let index = ((sorted.len() as f64 * share).ceil() as usize).saturating_sub(1);
        sorted.get(index).copied().unwrap_or_default()
    }

    /// Final answers from `endpoint` whose body `status` was `status`.
    pub fn answered(&self, endpoint: &str, status: &str) -> usize {
        self.answers.iter().filter(|((e, _, s), _)| e == endpoint && s == status).map(|(_, count)| count).sum()
    }

    pub fn unauthorized(&self) -> usize {
        self.answers.iter().filter(|((_, status, _), _)| *status == 401).map(|(_, count)| count).sum()
    }

    /// Final answers that are neither a 2xx nor an expected 401.
    pub fn failures(&self) -> usize {
        self.answers
            .iter()
            .filter(|((_, status, _), _)| !(200..300).contains(status) && *status != 401)
            .map(|(_, n)| n)
            .sum()
    }

    /// Every count must match: one SMS and one sent item per distinct valid send-text id, one item per distinct
    /// valid post-call id, one 401 per bad token, no delivery left failing.
    fn outage_queued(&self) -> usize {
        let queued = |(endpoint, status, outcome): &(String, u16, String)| {
            endpoint != "text-optout" && *status == 202 && outcome == "queued"
        };
        self.outage_answers.iter().filter(|(answer, _)| queued(answer)).map(|(_, count)| count).sum()
    }

    pub fn mismatches(&self) -> Vec<String> {
        let checks = [
            ("SMS recorded by SNS", self.texts_sent, self.expected_texts),
            ("sent-texts items with status sent", self.text_items_sent, self.expected_texts),
            ("calls items", self.call_items, self.expected_calls),
            ("opt-outs items", self.opt_out_items, self.expected_opt_outs),
            ("lead-events items", self.lead_event_items, self.expected_lead_events),
            ("texts answered opted_out", self.answered("send-text", "opted_out"), self.expected_opted_out_answers),
            ("401 answers", self.unauthorized(), self.expected_unauthorized),
            ("deliveries still failing after redelivery", self.failures(), 0),
            ("outage deliveries answered 202 queued", self.outage_queued(), self.expected_queued),
            ("queued deliveries the redrive completed", self.redriven, self.expected_queued),
        ];
        checks
            .iter()
            .filter(|(_, got, expected)| got != expected)
            .map(|(what, got, expected)| format!("{what}: {got}, expected {expected}"))
            .collect()
    }

    pub fn summary(&self) -> String {
        let throughput = self.deliveries as f64 / self.elapsed.as_secs_f64();
        let mut lines = vec![
            format!(
                "{} deliveries ({} HTTP requests) in {:.2} s: {throughput:.0} deliveries/s",
                self.deliveries,
                self.requests,
                self.elapsed.as_secs_f64()
            ),
            format!(
                "latency per request: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
                self.percentile(0.50).as_secs_f64() * 1e3,
                self.percentile(0.99).as_secs_f64() * 1e3,
                self.percentile(1.0).as_secs_f64() * 1e3
            ),
            format!(
                "SMS {} (expected {}), sent items {}, call items {} (expected {}), 401s {} (expected {})",
                self.texts_sent,
                self.expected_texts,
                self.text_items_sent,
                self.call_items,
                self.expected_calls,
                self.unauthorized(),
                self.expected_unauthorized
            ),
            format!(
                "outage: {} deliveries answered 202 queued (expected {}), {} completed by the redrive",
                self.outage_queued(),
                self.expected_queued,
                self.redriven
            ),
            format!("lead events kept {} (expected {})", self.lead_event_items, self.expected_lead_events),
            format!(
                "opt-outs listed {} (expected {}), texts answered opted_out {} (expected {})",
                self.opt_out_items,
                self.expected_opt_outs,
                self.answered("send-text", "opted_out"),
                self.expected_opted_out_answers
            ),
        ];
        lines.extend(
            self.answers.iter().map(|((endpoint, status, outcome), count)| {
                format!("  {endpoint:<9} {status} {outcome:<12} × {count}")
            }),
        );
        lines.join("\n")
    }
}

/// xorshift64*: deterministic for a seed, and no dependency for it.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn chance(&mut self, share: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 <= share
    }
}

fn plan_deliveries(plan: &LoadPlan) -> Vec<Delivery> {
    let mut random = Random(plan.seed | 1);
    let mut delivered: BTreeMap<&'static str, Vec<u64>> = BTreeMap::new();
    let mut next_id = 1_000_000;
    (0..plan.deliveries)
        .map(|_| {
            let endpoint = match random.next() % 20 {
                0 | 1 => "text-optout",
                2 | 3 => "text",
                n if n % 2 == 0 => "send-text",
                _ => "post-call",
            };
            let earlier = delivered.entry(endpoint).or_default();
            let id = match random.chance(plan.repeated_share) && !earlier.is_empty() {
                true => earlier[(random.next() % earlier.len() as u64) as usize],
                false => {
                    next_id += 1;
                    next_id
                }
            };
            let token = if random.chance(plan.bad_token_share) { "not-the-token" } else { AUTH_TOKEN };
            if token == AUTH_TOKEN {
                earlier.push(id);
            }
            Delivery { endpoint, id, token }
        })
        .collect()
}

fn is_text_to_send(delivery: &Delivery) -> bool {
    delivery.endpoint == "send-text" && !to_opted_out_lead(delivery.id)
}

/// A delivery's final answer: (endpoint, status, body `status` or `error`, each attempt's latency).
type Answer = (&'static str, u16, String, Vec<Duration>);

/// Workers delivering as 2X does.
struct Pool {
    client: reqwest::Client,
    payloads: Arc<[(&'static str, Value); 4]>,
    urls: Arc<[(&'static str, String); 4]>,
    concurrency: usize,
}

impl Pool {
    /// Delivers each of `deliveries`, `concurrency` at a time, each 409 or 5xx again after a pause.
    async fn deliver(&self, deliveries: Vec<Delivery>) -> Result<Vec<Answer>, Error> {
        let queue = Arc::new(Mutex::new(deliveries.into_iter().collect::<VecDeque<_>>()));
        let results = Arc::new(Mutex::new(Vec::new()));
        let mut workers = tokio::task::JoinSet::new();
        for _ in 0..self.concurrency {
            let (queue, results, client, payloads, urls) =
                (queue.clone(), results.clone(), self.client.clone(), self.payloads.clone(), self.urls.clone());
            workers.spawn(async move {
                loop {
                    let Some(delivery) = queue.lock().map_err(|_| "queue poisoned")?.pop_front() else { break };
                    let mut payload: Value = payloads
                        .iter()
                        .find(|(e, _)| *e == delivery.endpoint)
                        .map(|(_, p)| p.clone())
                        .unwrap_or_default();
                    match delivery.endpoint {
                        "text-optout" => payload["record_phone_number"] = opting_out_lead(delivery.id).into(),
                        // Each reply its own words: one event per id, its repeats the same body.
                        "text" => payload["message"] = format!("Is {} a good time?", delivery.id).into(),
                        "send-text" if to_opted_out_lead(delivery.id) => {
                            payload["id"] = delivery.id.into();
                            payload["record_phone_number"] = OPTED_OUT_LEAD.into();
                        }
                        _ => payload["id"] = delivery.id.into(),
                    }
                    let url =
                        urls.iter().find(|(e, _)| *e == delivery.endpoint).map(|(_, u)| u.clone()).unwrap_or_default();
                    let mut attempts = Vec::new();
                    let (status, outcome) = loop {
                        let sent_at = Instant::now();
                        let response =
                            client.post(&url).header("Authorization", delivery.token).json(&payload).send().await?;
                        let status = response.status().as_u16();
                        let body: Value = response.json().await.unwrap_or_default();
                        attempts.push(sent_at.elapsed());
                        let outcome =
                            body["status"].as_str().or(body["error"].as_str().map(|_| "error")).unwrap_or("?");
                        // As 2X does: deliver again after a 409 or a 5xx, a few times.
                        if (status == 409 || status >= 500) && attempts.len() < 20 {
                            tokio::time::sleep(Duration::from_millis(250)).await;
                            continue;
                        }
                        break (status, outcome.to_owned());
                    };
                    results.lock().map_err(|_| "results poisoned")?.push((
                        delivery.endpoint,
                        status,
                        outcome,
                        attempts,
                    ));
                }
                Ok::<_, Error>(())
            });
        }
        while let Some(worker) = workers.join_next().await {
            worker??;
        }
        Ok(std::mem::take(&mut *results.lock().map_err(|_| "results poisoned")?))
    }
}

/// Delivers `plan` to `functions` (a [`crate::start_stack`], backed by `emulator`) and counts.
pub async fn run_load(plan: &LoadPlan, functions: &Functions, emulator: &Emulator) -> Result<LoadReport, Error> {
    let deliveries = plan_deliveries(plan);
    let valid =
        |endpoint: &'static str| deliveries.iter().filter(move |d| d.endpoint == endpoint && d.token == AUTH_TOKEN);
    let distinct = |endpoint: &'static str| -> BTreeSet<u64> { valid(endpoint).map(|d| d.id).collect() };
    let listed_leads: BTreeSet<String> = valid("text-optout").map(|d| opting_out_lead(d.id)).collect();
    let mut report = LoadReport {
        deliveries: deliveries.len(),
        expected_texts: distinct("send-text").into_iter().filter(|id| !to_opted_out_lead(*id)).count(),
        expected_calls: distinct("post-call").len(),
        expected_unauthorized: deliveries.iter().filter(|d| d.token != AUTH_TOKEN).count(),
        expected_opt_outs: 1 + listed_leads.len(),
        expected_opted_out_answers: valid("send-text").filter(|d| to_opted_out_lead(d.id)).count(),
        expected_lead_events: distinct("text").len(),
        ..LoadReport::default()
    };
    let outage_deliveries = (deliveries.len() as f64 * plan.outage_share) as usize;
    let outage = &deliveries[..outage_deliveries.min(deliveries.len())];
    let queued = |d: &&Delivery| d.token == AUTH_TOKEN && (d.endpoint == "post-call" || is_text_to_send(d));
    report.expected_queued = outage.iter().filter(queued).count();
    let payloads = Arc::new([
        ("send-text", SampleEvent::named("send-text-pre-call")?.payload()?),
        ("post-call", SampleEvent::named("post-call-transferred")?.payload()?),
        ("text-optout", SampleEvent::named("text-optout-10-digit")?.payload()?),
        ("text", SampleEvent::named("lead-events-text-question")?.payload()?),
    ]);
    let url = |endpoint: &'static str| match endpoint {
        "text" => (endpoint, format!("{}/lead-events/text", functions.base_url())),
        function => (endpoint, functions.url(function)),
    };
    let urls = Arc::new(["send-text", "post-call", "text-optout", "text"].map(url));
    let client = reqwest::Client::builder().timeout(Duration::from_secs(60)).build()?;

    // The lead who opted out before the load.
    let mut before = payloads[2].1.clone();
    before["record_phone_number"] = OPTED_OUT_LEAD.into();
    let opted_out = client.post(functions.url("text-optout")).header("Authorization", AUTH_TOKEN).json(&before);
    if opted_out.send().await?.status() != 200 {
        return Err("the lead could not opt out before the load".into());
    }
    // The outage: the calls and sent-texts tables gone (DynamoDB refusing every request to them) for the first
    // deliveries; they are queued. Then the tables are back, and the redrive drains the queue while the rest of
    // the load arrives (a repeat of a queued id may reach send-text while the redrive sends it).
    let mut deliveries = deliveries;
    let rest = deliveries.split_off(outage_deliveries.min(deliveries.len()));
    emulator.delete_table(Table::Calls).await?;
    emulator.delete_table(Table::SentTexts).await?;
    let pool = Pool { client, payloads, urls, concurrency: plan.concurrency.max(1) };
    let started = Instant::now();
    for (endpoint, status, outcome, attempts) in pool.deliver(deliveries).await? {
        report.requests += attempts.len();
        *report.outage_answers.entry((endpoint.to_owned(), status, outcome.clone())).or_default() += 1;
        *report.answers.entry((endpoint.to_owned(), status, outcome)).or_default() += 1;
    }
    emulator.create_table(Table::Calls).await?;
    emulator.create_table(Table::SentTexts).await?;
    let (results, drained) = tokio::join!(pool.deliver(rest), crate::drain_fallback_queue(emulator, functions));
    report.elapsed = started.elapsed();
    report.redriven = drained?.messages;
    for (endpoint, status, outcome, attempts) in results? {
        report.requests += attempts.len();
        report.latencies.extend(attempts);
        *report.answers.entry((endpoint.to_owned(), status, outcome)).or_default() += 1;
    }
    report.texts_sent = emulator.sms().await?.len();
    report.text_items_sent =
        emulator.items(SENT_TEXTS_TABLE).await?.iter().filter(|item| item["status"] == "sent").count();
    report.call_items = emulator.items(CALLS_TABLE).await?.len();
    report.opt_out_items = emulator.items(OPT_OUTS_TABLE).await?.len();
    report.lead_event_items = emulator.items(LEAD_EVENTS_TABLE).await?.len();
    Ok(report)
}
