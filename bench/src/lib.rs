//! The benchmark harness: each function (ours, released; and the Python peer) started again and again under a
//! local Runtime API with AWS answered by an instant stub (or by the emulator); cold init, first and warm
//! invocation latency, CPU time per warm invocation, peak memory, artifact size. `scripts/bench` runs it in full; a small form runs in the test suite.

pub mod aws_stub;
pub mod emulator;
pub mod http;
pub mod runtime_api;

use runtime_api::RuntimeApi;
use serde_json::{Value, json};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::process::{Child, Command};

pub type Error = Box<dyn std::error::Error + Send + Sync>;

pub const TOKEN: &str = "bench-token";

/// One function to measure: how to start it, what to send it, what it must answer.
#[derive(Debug, Clone)]
pub struct Subject {
    /// `rust`, `python`, or `baseline` (our functions from an earlier build).
    pub implementation: &'static str,
    pub function: &'static str,
    pub program: PathBuf,
    pub args: Vec<String>,
    pub event: Vec<u8>,
    /// The body `status` every answer must carry.
    pub expected_status: &'static str,
    pub zip: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy)]
pub struct Plan {
    pub starts: usize,
    pub invocations: usize,
    /// Give every invocation an id of its own (against an emulator that remembers: the same id would be a
    /// `duplicate` after the first).
    pub unique_ids: bool,
}

/// The repository root (the harness runs from anywhere).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Where cargo builds: `CARGO_TARGET_DIR` (`scripts/test` makes it absolute) or the workspace's `target/`.
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| repo_root().join("target"), PathBuf::from)
}

/// A sample event from `events/`, its token replaced by the harness's.
pub fn sample_event(name: &str) -> Result<Vec<u8>, Error> {
    let mut event: Value =
        serde_json::from_str(&std::fs::read_to_string(repo_root().join(format!("events/{name}.json")))?)?;
    event["headers"]["authorization"] = TOKEN.into();
    Ok(serde_json::to_vec(&event)?)
}

/// Our two functions as built in `target_dir/profile`, and (when `python` is given) the same two handlers as
/// most teams would write them, in `bench/peer/`.
pub fn subjects(target_dir: &Path, profile: &str, python: Option<&Path>) -> Result<Vec<Subject>, Error> {
    let functions = [("send-text", "send-text-pre-call", "sent"), ("post-call", "post-call-transferred", "stored")];
    let mut subjects = Vec::new();
    for (function, sample, expected_status) in functions {
        let zip = target_dir.join(format!("lambda/{function}/bootstrap.zip"));
        subjects.push(Subject {
            implementation: "rust",
            function,
            program: target_dir.join(profile).join(function),
            args: Vec::new(),
            event: sample_event(sample)?,
            expected_status,
            zip: zip.exists().then_some(zip),
        });
        if let Some(python) = python {
            subjects.push(Subject {
                implementation: "python",
                function,
                program: python.to_path_buf(),
                args: vec![
                    repo_root().join("bench/peer/bootstrap.py").display().to_string(),
                    function.replace('-', "_"),
                ],
                event: sample_event(sample)?,
                expected_status,
                zip: None,
            });
        }
    }
    Ok(subjects)
}

/// What Lambda itself sets in a function's environment (runtime API, region, role credentials), with AWS at
/// `aws_endpoint`: the rest of a process's environment is the function's own configuration.
pub fn lambda_environment<'a>(
    function: &'a str,
    runtime_api: &'a str,
    aws_endpoint: &'a str,
) -> [(&'static str, &'a str); 13] {
    [
        ("AWS_LAMBDA_RUNTIME_API", runtime_api),
        ("AWS_ENDPOINT_URL", aws_endpoint),
        ("AWS_REGION", "us-east-1"),
        ("AWS_DEFAULT_REGION", "us-east-1"),
        ("AWS_ACCESS_KEY_ID", "bench"),
        ("AWS_SECRET_ACCESS_KEY", "bench"),
        ("AWS_SESSION_TOKEN", "bench"),
        ("AWS_EC2_METADATA_DISABLED", "true"),
        ("AWS_LAMBDA_FUNCTION_NAME", function),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256"),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
        ("AWS_LAMBDA_LOG_GROUP_NAME", "bench"),
        ("AWS_LAMBDA_LOG_STREAM_NAME", "bench"),
    ]
}

/// Our two functions as an earlier build left them in `target_dir/profile`, for a before/after in one run.
pub fn subjects_baseline(target_dir: &Path, profile: &str) -> Result<Vec<Subject>, Error> {
    let mut baseline = subjects(target_dir, profile, None)?;
    for subject in &mut baseline {
        subject.implementation = "baseline";
        subject.zip = None;
    }
    Ok(baseline)
}

fn spawn(subject: &Subject, runtime_api: &str, aws_endpoint: &str) -> Result<Child, Error> {
    let mut command = Command::new(&subject.program);
    command
        .args(&subject.args)
        .env_clear()
        .envs(lambda_environment(subject.function, runtime_api, aws_endpoint))
        // The peer's interpreter finds its libraries through it.
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs([
            ("AUTH_TOKEN", TOKEN),
            ("CALLS_TABLE", "calls"),
            ("SENT_TEXTS_TABLE", "sent-texts"),
            ("OPT_OUTS_TABLE", "opt-outs"),
            // The sent path, at any time of day.
            ("TEXT_HOURS", "off"),
            ("PYTHONDONTWRITEBYTECODE", "1"),
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true);
    Ok(command.spawn()?)
}

/// The CPU time a live process has used so far, user and system, all its threads (dead ones included), from
/// the kernel (`/proc/PID/stat`, fields 14 and 15, in clock ticks).
fn cpu_time(child: &Child) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{}/stat", child.id()?)).ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces: state is field 3.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // USER_HZ: 100 on every Linux architecture Lambda runs (x86_64, arm64).
    Some(Duration::from_millis(ticks * 10))
}

/// `event` with its webhook body's `id` set to `id`.
fn with_id(event: &[u8], id: u64) -> Result<Vec<u8>, Error> {
    let mut event: Value = serde_json::from_slice(event)?;
    let mut body: Value = serde_json::from_str(event["body"].as_str().ok_or("the event has no body")?)?;
    body["id"] = id.into();
    event["body"] = body.to_string().into();
    Ok(serde_json::to_vec(&event)?)
}

/// Peak resident memory of a live process, from the kernel (`VmHWM`).
fn peak_rss_bytes(child: &Child) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{}/status", child.id()?)).ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse::<u64>().ok().map(|kib| kib * 1024)
}

fn check_answer(subject: &Subject, answer: &runtime_api::Answer) -> Result<(), Error> {
    let response: Value = serde_json::from_slice(&answer.body)?;
    let body: Value = serde_json::from_str(response["body"].as_str().unwrap_or("null"))?;
    match answer.ok && response["statusCode"] == 200 && body["status"] == subject.expected_status {
        true => Ok(()),
        false => Err(format!("{} {}: unexpected answer {response}", subject.implementation, subject.function).into()),
    }
}

const LIMIT: Duration = Duration::from_secs(30);

/// The TCP connections a live process holds open to `port` on the loopback (the AWS stub's, kept alive between
/// invocations), as socket inodes: its descriptors' sockets, looked up in the kernel's TCP tables.
fn connections_to(child: &Child, port: u16) -> Option<HashSet<u64>> {
    let pid = child.id()?;
    let sockets: HashSet<u64> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .ok()?
        .filter_map(|entry| {
            let target = std::fs::read_link(entry.ok()?.path()).ok()?;
            target.to_str()?.strip_prefix("socket:[")?.strip_suffix(']')?.parse().ok()
        })
        .collect();
    let mut connections = HashSet::new();
    for table in ["tcp", "tcp6"] {
        let text = std::fs::read_to_string(format!("/proc/{pid}/net/{table}")).unwrap_or_default();
        for line in text.lines().skip(1) {
            // sl, local_address, rem_address (hex ADDRESS:PORT), st, …, inode (the tenth field).
            let fields: Vec<&str> = line.split_whitespace().collect();
            let remote_port = fields.get(2).and_then(|remote| remote.rsplit_once(':'));
            let remote_port = remote_port.and_then(|(_, port)| u16::from_str_radix(port, 16).ok());
            let inode = fields.get(9).and_then(|inode| inode.parse::<u64>().ok());
            if let (Some(remote_port), Some(inode)) = (remote_port, inode)
                && remote_port == port
                && sockets.contains(&inode)
            {
                connections.insert(inode);
            }
        }
    }
    Some(connections)
}

/// One start of a subject, its process and Runtime API still up.
struct Started {
    init: Duration,
    first_invocation: Duration,
    /// Connections to AWS the first invocation opened (and kept) beyond those its initialisation left open: each
    /// one a TCP (and, on AWS, TLS) handshake on the first, throttled request instead of during init at full CPU.
    /// Only meaningful against the stub: the emulator closes every connection after its answer.
    first_invocation_connections: usize,
    child: Child,
    api: RuntimeApi,
}

async fn start(subject: &Subject, event: &[u8], aws: &str) -> Result<Started, Error> {
    let mut api = RuntimeApi::start().await?;
    let started = Instant::now();
    let child = spawn(subject, &api.address, aws)?;
    let polled = api.next_poll(LIMIT).await.ok_or("the function never asked for work")?;
    let aws_port = aws.rsplit_once(':').and_then(|(_, port)| port.trim_end_matches('/').parse().ok()).unwrap_or(0);
    let after_init = connections_to(&child, aws_port).unwrap_or_default();
    let (answer, first_invocation) = api.invoke(event, LIMIT).await.ok_or("no answer to the first event")?;
    check_answer(subject, &answer)?;
    let after_first = connections_to(&child, aws_port).unwrap_or_default();
    let first_invocation_connections = after_first.difference(&after_init).count();
    let init = polled.saturating_duration_since(started);
    Ok(Started { init, first_invocation, first_invocation_connections, child, api })
}

fn stats(mut samples: Vec<Duration>) -> Value {
    samples.sort();
    let at = |share: f64| {
        let index = ((samples.len() as f64 * share).ceil() as usize).saturating_sub(1);
        samples.get(index).map_or(0.0, |d| d.as_secs_f64() * 1e3)
    };
    json!({ "n": samples.len(), "min_ms": at(0.0), "p50_ms": at(0.5), "p99_ms": at(0.99), "max_ms": at(1.0) })
}

/// Measures one subject: `plan.starts` cold starts (init, first invocation), then `plan.invocations` warm ones
/// in the last process (and the CPU time they took), then its peak memory. With `plan.unique_ids`, ids from
/// `first_id` on.
pub async fn measure(subject: &Subject, plan: Plan, aws: &str, first_id: u64) -> Result<Value, Error> {
    let (mut inits, mut firsts, mut first_connections) = (Vec::new(), Vec::new(), 0);
    let mut last = None;
    // Ids the sample events never use, and no other subject (they share the emulator's tables).
    let event = |id: u64| match plan.unique_ids {
        true => with_id(&subject.event, id),
        false => Ok(subject.event.clone()),
    };
    for n in 0..plan.starts.max(1) {
        let started = start(subject, &event(first_id + n as u64)?, aws).await?;
        inits.push(started.init);
        firsts.push(started.first_invocation);
        first_connections = first_connections.max(started.first_invocation_connections);
        last = Some((started.child, started.api));
    }
    let (mut child, mut api) = last.ok_or("no start")?;
    let events: Vec<Vec<u8>> = match plan.unique_ids {
        true => (0..plan.invocations as u64).map(|n| event(first_id + 100_000 + n)).collect::<Result<_, _>>()?,
        false => vec![subject.event.clone()],
    };
    let mut warm = Vec::with_capacity(plan.invocations);
    let cpu_before = cpu_time(&child);
    for n in 0..plan.invocations {
        let (answer, latency) = api.invoke(&events[n % events.len()], LIMIT).await.ok_or("no answer")?;
        check_answer(subject, &answer)?;
        warm.push(latency);
    }
    let cpu = cpu_time(&child).zip(cpu_before).map(|(after, before)| after.saturating_sub(before));
    let cpu_us_per_invocation = cpu.map(|cpu| cpu.as_secs_f64() * 1e6 / plan.invocations.max(1) as f64);
    let rss = peak_rss_bytes(&child);
    let _ = child.kill().await;
    Ok(json!({
        "implementation": subject.implementation,
        "function": subject.function,
        "init": stats(inits),
        "first_invocation": stats(firsts),
        "first_invocation_connections_max": first_connections,
        "warm": stats(warm),
        "warm_cpu_us": cpu_us_per_invocation,
        "peak_rss_mb": rss.map(|bytes| bytes as f64 / 1_048_576.0),
        "zip_bytes": subject.zip.as_ref().and_then(|zip| std::fs::metadata(zip).ok()).map(|meta| meta.len()),
    }))
}

/// Measures every subject against AWS at `aws` (the instant stub, or an emulator); the results, and for each
/// function the peer's figures divided by ours.
pub async fn run(subjects: &[Subject], plan: Plan, aws: &str) -> Result<Value, Error> {
    let mut results = Vec::new();
    for (n, subject) in (1..).zip(subjects) {
        results.push(measure(subject, plan, aws, n * 10_000_000).await?);
    }
    let ratio = |function: &str, path: &[&str]| -> Option<f64> {
        let pick = |implementation: &str| {
            let result = results.iter().find(|r| r["implementation"] == implementation && r["function"] == function)?;
            path.iter().try_fold(result, |value, key| value.get(key))?.as_f64()
        };
        Some(pick("python")? / pick("rust")?)
    };
    let ratios: Vec<Value> = ["send-text", "post-call"]
        .iter()
        .map(|function| {
            json!({
                "function": function,
                "init_p50": ratio(function, &["init", "p50_ms"]),
                "warm_p50": ratio(function, &["warm", "p50_ms"]),
                "warm_cpu": ratio(function, &["warm_cpu_us"]),
                "peak_rss": ratio(function, &["peak_rss_mb"]),
            })
        })
        .collect();
    Ok(json!({
        "plan": { "starts": plan.starts, "invocations": plan.invocations, "unique_ids": plan.unique_ids },
        "machine": machine(),
        "results": results,
        "peer_over_ours": ratios,
    }))
}

fn machine() -> Value {
    let cpu = std::fs::read_to_string("/proc/cpuinfo").ok().and_then(|info| {
        info.lines().find(|l| l.starts_with("model name")).map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
    });
    json!({
        "cpus": std::thread::available_parallelism().map(usize::from).unwrap_or(0),
        "cpu": cpu,
        "arch": std::env::consts::ARCH,
    })
}

/// The results as a table, for the terminal and the README.
pub fn table(report: &Value) -> String {
    let ms = |value: &Value| {
        value.as_f64().map_or("–".to_owned(), |v| if v < 1.0 { format!("{:.3}", v) } else { format!("{v:.1}") })
    };
    let mut lines = vec![
        "| function | impl | cold init p50 (min–max) ms | first invocation p50 ms (connections opened) | warm p50 / p99 ms | warm CPU µs | peak RSS MB | zip bytes |".to_owned(),
        "|---|---|---|---|---|---|---|---|".to_owned(),
    ];
    for result in report["results"].as_array().into_iter().flatten() {
        lines.push(format!(
            "| {} | {} | {} ({}–{}) | {} ({}) | {} / {} | {} | {} | {} |",
            result["function"].as_str().unwrap_or(""),
            result["implementation"].as_str().unwrap_or(""),
            ms(&result["init"]["p50_ms"]),
            ms(&result["init"]["min_ms"]),
            ms(&result["init"]["max_ms"]),
            ms(&result["first_invocation"]["p50_ms"]),
            result["first_invocation_connections_max"],
            ms(&result["warm"]["p50_ms"]),
            ms(&result["warm"]["p99_ms"]),
            result["warm_cpu_us"].as_f64().map_or("–".into(), |us| format!("{us:.0}")),
            result["peak_rss_mb"].as_f64().map_or("–".into(), |mb| format!("{mb:.1}")),
            result["zip_bytes"].as_u64().map_or("–".into(), |bytes| bytes.to_string()),
        ));
    }
    for ratio in report["peer_over_ours"].as_array().into_iter().flatten() {
        let x = |key: &str| ratio[key].as_f64().map_or("–".to_owned(), |r| format!("{r:.1}×"));
        lines.push(format!(
            "\n{}: Python peer / Rust — cold init {}, warm p50 {}, warm CPU {}, peak RSS {}",
            ratio["function"].as_str().unwrap_or(""),
            x("init_p50"),
            x("warm_p50"),
            x("warm_cpu"),
            x("peak_rss")
        ));
    }
    lines.join("\n")
}
