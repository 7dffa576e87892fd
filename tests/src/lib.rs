//! Test harness: the AWS emulator (moto's server) and the functions under `cargo lambda watch`, started and
//! stopped by the process that uses them; every function on in-memory fakes ([`fakes`]) and the property every
//! request body must hold ([`properties`]). Shared by the integration tests, the `local-demo` binary and the fuzz
//! target.
//!
//! Both tools come from the project's virtual environment (`scripts/bootstrap` creates it).

use aws_config::{BehaviorVersion, SdkConfig};
use aws_sdk_dynamodb::config::{Credentials, Region};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection, ProjectionType,
    ScalarAttributeType,
};
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

pub mod burst;
pub mod fakes;
pub mod load;
pub mod log_scan;
pub mod properties;
pub mod template;

pub use template::Template;

pub type Error = Box<dyn std::error::Error + Send + Sync>;

pub const AUTH_TOKEN: &str = "local-dev-token";
pub const REGION: &str = "us-east-1";

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

pub fn venv_bin(tool: &str) -> Result<PathBuf, Error> {
    let path = repo_root().join(".venv/bin").join(tool);
    if path.exists() {
        Ok(path)
    } else {
        Err(format!("{} is missing: run scripts/bootstrap first", path.display()).into())
    }
}

/// What a sample event in `events/` is sent to and must be answered with.
#[derive(Debug, Clone, Copy)]
pub struct SampleEvent {
    pub name: &'static str,
    pub function: &'static str,
    pub status: u16,
    /// `status` of a 2xx body; `None` for errors.
    pub outcome: Option<&'static str>,
}

const fn sample(name: &'static str, function: &'static str, status: u16, outcome: Option<&'static str>) -> SampleEvent {
    SampleEvent { name, function, status, outcome }
}

/// Every file in `events/`, with its expected answer on a first delivery in this order: the calls, then leads
/// opting out (one's number in both of 2X's forms), then the texts, the last one to that lead. The `odd-types`
/// samples carry fields of other types than 2X's documents give them, as another JSON library sends them.
pub const SAMPLE_EVENTS: &[SampleEvent] = &[
    sample("post-call-do-not-call", "post-call", 200, Some("stored")),
    sample("post-call-failure-reason", "post-call", 200, Some("stored")),
    sample("post-call-malformed-json", "post-call", 400, None),
    sample("post-call-no-answer", "post-call", 200, Some("stored")),
    sample("post-call-odd-types", "post-call", 200, Some("stored")),
    sample("post-call-transferred", "post-call", 200, Some("stored")),
    // After its call (123): the transfer lands on the stored record. The odd-typed one (9001) comes before its call.
    sample("lead-events-transfer-type-qualified", "lead-events", 200, Some("stored")),
    sample("lead-events-transfer-type-odd-types", "lead-events", 200, Some("stored")),
    sample("lead-events-text-question", "lead-events", 200, Some("stored")),
    sample("lead-events-text-unsubscribe", "lead-events", 200, Some("opted_out")),
    sample("lead-events-text-odd-types", "lead-events", 200, Some("stored")),
    sample("lead-events-text-classification-pricing", "lead-events", 200, Some("stored")),
    sample("lead-events-text-classification-opt-out", "lead-events", 200, Some("opted_out")),
    sample("lead-events-text-response", "lead-events", 200, Some("stored")),
    sample("lead-events-text-reply", "lead-events", 200, Some("stored")),
    sample("lead-events-inbound-call", "lead-events", 200, Some("stored")),
    sample("lead-events-inbound-call-unmatched", "lead-events", 200, Some("stored")),
    sample("text-optout-10-digit", "text-optout", 200, Some("opted_out")),
    sample("text-optout-odd-types", "text-optout", 200, Some("opted_out")),
    sample("text-optout-plus-1", "text-optout", 200, Some("opted_out")),
    sample("send-text-bad-token", "send-text", 401, None),
    sample("send-text-invalid-phone", "send-text", 422, None),
    sample("send-text-missing-phone", "send-text", 400, None),
    sample("send-text-odd-types", "send-text", 200, Some("sent")),
    sample("send-text-post-voicemail", "send-text", 200, Some("sent")),
    sample("send-text-pre-call", "send-text", 200, Some("sent")),
    // A Florida lead (zip and offset as 2X sends them): sent here, where the legal-hours guard is off; the
    // guard's tests hold it to Florida's 8 am to 8 pm.
    sample("send-text-florida-lead", "send-text", 200, Some("sent")),
    sample("send-text-opted-out", "send-text", 200, Some("opted_out")),
];

/// `events/<name>.json`.
fn event_path(name: &str) -> PathBuf {
    repo_root().join("events").join(format!("{name}.json"))
}

/// A sample subscription event of SNS delivery records (`events/sms-delivery-status-*.json`): what it comes to
/// when the text it reports on was sent.
#[derive(Debug, Clone, Copy)]
pub struct DeliverySample {
    pub name: &'static str,
    /// The sample text (webhook id) the record reports on; `None` for a record of no text of ours, or no record.
    pub text_id: Option<u64>,
    /// The record's `outcome` in the function's log.
    pub outcome: &'static str,
}

pub const DELIVERY_SAMPLES: &[DeliverySample] = &[
    DeliverySample { name: "sms-delivery-status-success", text_id: Some(1234), outcome: "delivered" },
    DeliverySample { name: "sms-delivery-status-carrier-failure", text_id: Some(1235), outcome: "delivery_failed" },
    DeliverySample { name: "sms-delivery-status-unknown-message", text_id: None, outcome: "unmatched" },
    DeliverySample { name: "sms-delivery-status-not-a-record", text_id: None, outcome: "unreadable" },
];

impl DeliverySample {
    /// The subscription event as stored.
    pub fn event(&self) -> Result<String, Error> {
        Ok(std::fs::read_to_string(event_path(self.name))?)
    }

    /// The event as SNS would write it for the text it reports on, sent in this run: its record carries the
    /// message id SNS gave that text (`message_ids`: text id → message id). Other samples as stored.
    pub fn event_for_sent_texts(&self, message_ids: &BTreeMap<u64, String>) -> Result<String, Error> {
        let Some(text_id) = self.text_id else { return self.event() };
        let message_id = message_ids.get(&text_id).ok_or_else(|| format!("text {text_id} was not sent"))?;
        let mut data = webhook_test_support::delivery_logs::log_data_of(&self.event()?);
        for event in data["logEvents"].as_array_mut().ok_or("no logEvents")? {
            let mut record: Value = serde_json::from_str(event["message"].as_str().ok_or("no message")?)?;
            record["notification"]["messageId"] = message_id.as_str().into();
            event["message"] = record.to_string().into();
        }
        Ok(webhook_test_support::delivery_logs::subscription_event(&data))
    }
}

/// A sample SQS event of the fallback queue (`events/redrive-*.json`): one queued delivery, and what the redrive
/// makes of it as stored.
#[derive(Debug, Clone, Copy)]
pub struct RedriveSample {
    pub name: &'static str,
    /// The queued delivery's id.
    pub id: u64,
    /// Its summary line's `outcome`.
    pub outcome: &'static str,
}

/// The call is stored; the text, received days ago, is past any maximum age: settled expired, never sent.
pub const REDRIVE_SAMPLES: &[RedriveSample] = &[
    RedriveSample { name: "redrive-post-call", id: 127, outcome: "stored" },
    RedriveSample { name: "redrive-send-text", id: 1236, outcome: "expired" },
];

impl RedriveSample {
    pub fn event(&self) -> Result<String, Error> {
        Ok(std::fs::read_to_string(event_path(self.name))?)
    }

    /// The webhook body each record carries, as 2X sent it.
    pub fn payloads(&self) -> Result<Vec<Value>, Error> {
        let event: Value = serde_json::from_str(&self.event()?)?;
        let records = event["Records"].as_array().ok_or("no Records")?;
        records
            .iter()
            .map(|record| {
                let delivery: webhook::fallback::QueuedDelivery =
                    serde_json::from_str(record["body"].as_str().ok_or("no body")?)?;
                let body = delivery.body.decode().ok_or("the queued body does not decode")?;
                Ok(serde_json::from_slice(&body)?)
            })
            .collect()
    }
}

/// What the outage scenario saw: DynamoDB "down" (the calls and sent-texts tables deleted), deliveries answered
/// while it was, then the tables back and the fallback queue drained through the redrive.
#[derive(Debug)]
pub struct OutageScenario {
    /// (function, id, status, body) of each delivery during the outage.
    pub answers: Vec<(&'static str, u64, u16, Value)>,
    pub drained: Drained,
}

/// Ids the outage scenario delivers (new ones: the samples' own ids are taken).
pub const OUTAGE_CALL_IDS: [u64; 3] = [201, 202, 203];
pub const OUTAGE_TEXT_ID: u64 = 2001;

/// The outage scenario on a [`start_stack`]: with the calls and sent-texts tables gone, three post-calls and a
/// pre-call text (delivered twice, as 2X might) are answered 202 `queued`; then the tables are created again and
/// the queue is drained through the redrive. Leaves those tables holding only what the redrive wrote.
pub async fn dynamodb_outage(emulator: &Emulator, functions: &Functions) -> Result<OutageScenario, Error> {
    emulator.delete_table(Table::Calls).await?;
    emulator.delete_table(Table::SentTexts).await?;
    let mut answers = Vec::new();
    let mut deliver = async |function: &'static str, sample: &str, id: u64| -> Result<(), Error> {
        let mut event: Value = serde_json::from_str(&SampleEvent::named(sample)?.event()?)?;
        let mut payload = SampleEvent::named(sample)?.payload()?;
        payload["id"] = id.into();
        event["body"] = payload.to_string().into();
        let (status, body) = functions.invoke(function, &event.to_string()).await?;
        answers.push((function, id, status, body));
        Ok(())
    };
    for (id, sample) in
        OUTAGE_CALL_IDS.into_iter().zip(["post-call-transferred", "post-call-no-answer", "post-call-do-not-call"])
    {
        deliver("post-call", sample, id).await?;
    }
    deliver("send-text", "send-text-pre-call", OUTAGE_TEXT_ID).await?;
    deliver("send-text", "send-text-pre-call", OUTAGE_TEXT_ID).await?;
    emulator.create_table(Table::Calls).await?;
    emulator.create_table(Table::SentTexts).await?;
    let drained = drain_fallback_queue(emulator, functions).await?;
    Ok(OutageScenario { answers, drained })
}

/// Each sent text's SNS message id, by text id, from the sent-texts table.
pub async fn message_ids(emulator: &Emulator) -> Result<BTreeMap<u64, String>, Error> {
    let items = emulator.items(SENT_TEXTS_TABLE).await?;
    Ok(items.iter().filter_map(|item| Some((item["id"].as_u64()?, item["message_id"].as_str()?.to_owned()))).collect())
}

impl SampleEvent {
    pub fn path(&self) -> PathBuf {
        event_path(self.name)
    }

    /// The API Gateway event as stored.
    pub fn event(&self) -> Result<String, Error> {
        Ok(std::fs::read_to_string(self.path())?)
    }

    /// The webhook body inside the event, as 2X sent it.
    pub fn payload(&self) -> Result<Value, Error> {
        let event: Value = serde_json::from_str(&self.event()?)?;
        let body = event["body"].as_str().ok_or("event has no body")?;
        Ok(serde_json::from_str(body)?)
    }

    pub fn named(name: &str) -> Result<&'static SampleEvent, Error> {
        SAMPLE_EVENTS.iter().find(|sample| sample.name == name).ok_or_else(|| format!("no sample {name}").into())
    }
}

/// moto's server on a free loopback port, for as long as this value lives (and never longer than this
/// process: it exits when its standard input closes).
pub struct Emulator {
    pub endpoint: String,
    child: Child,
    _stdin: ChildStdin,
}

impl Emulator {
    pub fn start() -> Result<Self, Error> {
        let mut child = Command::new(venv_bin("python")?)
            .arg(repo_root().join("scripts/emulator.py"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()?;
        let stdin = child.stdin.take().ok_or("emulator stdin")?;
        let stdout = child.stdout.take().ok_or("emulator stdout")?;
        let mut endpoint = String::new();
        BufReader::new(stdout).read_line(&mut endpoint)?;
        let endpoint = endpoint.trim().to_owned();
        if !endpoint.starts_with("http://") {
            return Err(format!("the emulator did not start (printed {endpoint:?})").into());
        }
        Ok(Self { endpoint, child, _stdin: stdin })
    }

    /// Environment for a process whose AWS SDK must talk to this emulator.
    pub fn aws_env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", self.endpoint.clone()),
            ("AWS_REGION", REGION.into()),
            ("AWS_ACCESS_KEY_ID", "testing".into()),
            ("AWS_SECRET_ACCESS_KEY", "testing".into()),
            ("AWS_EC2_METADATA_DISABLED", "true".into()),
        ]
    }

    /// An SDK config for this emulator, built in-process (no environment variables involved).
    pub async fn sdk_config(&self) -> SdkConfig {
        aws_config::defaults(BehaviorVersion::latest())
            .endpoint_url(&self.endpoint)
            .region(Region::new(REGION))
            .credentials_provider(Credentials::new("testing", "testing", None, None, "emulator"))
            .load()
            .await
    }

    /// Creates `table` as template.yaml defines it (keys, attribute types, indexes), named `table.name()`.
    pub async fn create_table(&self, table: Table) -> Result<(), Error> {
        let definition = Template::load()?;
        let properties = definition.properties(table.resource())?;
        let list =
            |key: &str| properties.get(key).and_then(serde_yaml_ng::Value::as_sequence).cloned().unwrap_or_default();
        let field = |value: &serde_yaml_ng::Value, key: &str| -> Result<String, Error> {
            value
                .get(key)
                .and_then(serde_yaml_ng::Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| format!("{} has no {key}", table.resource()).into())
        };
        let key_schema = |keys: &[serde_yaml_ng::Value]| -> Result<Vec<KeySchemaElement>, Error> {
            keys.iter()
                .map(|key| {
                    Ok(KeySchemaElement::builder()
                        .attribute_name(field(key, "AttributeName")?)
                        .key_type(KeyType::from(field(key, "KeyType")?.as_str()))
                        .build()?)
                })
                .collect()
        };
        let mut request = aws_sdk_dynamodb::Client::new(&self.sdk_config().await)
            .create_table()
            .table_name(table.name())
            .billing_mode(BillingMode::PayPerRequest)
            .set_key_schema(Some(key_schema(&list("KeySchema"))?));
        for attribute in list("AttributeDefinitions") {
            request = request.attribute_definitions(
                AttributeDefinition::builder()
                    .attribute_name(field(&attribute, "AttributeName")?)
                    .attribute_type(ScalarAttributeType::from(field(&attribute, "AttributeType")?.as_str()))
                    .build()?,
            );
        }
        for index in list("GlobalSecondaryIndexes") {
            let keys = index.get("KeySchema").and_then(serde_yaml_ng::Value::as_sequence).cloned().unwrap_or_default();
            let projection = index.get("Projection").ok_or("an index without Projection")?;
            let included = projection.get("NonKeyAttributes").and_then(serde_yaml_ng::Value::as_sequence);
            request = request.global_secondary_indexes(
                GlobalSecondaryIndex::builder()
                    .index_name(field(&index, "IndexName")?)
                    .set_key_schema(Some(key_schema(&keys)?))
                    .projection(
                        Projection::builder()
                            .projection_type(ProjectionType::from(field(projection, "ProjectionType")?.as_str()))
                            .set_non_key_attributes(included.map(|names| {
                                names.iter().filter_map(serde_yaml_ng::Value::as_str).map(str::to_owned).collect()
                            }))
                            .build(),
                    )
                    .build()?,
            );
        }
        request.send().await?;
        Ok(())
    }

    /// Deletes `table`: every request to it fails from then on (DynamoDB "down" for it) until it is created
    /// again.
    pub async fn delete_table(&self, table: Table) -> Result<(), Error> {
        aws_sdk_dynamodb::Client::new(&self.sdk_config().await).delete_table().table_name(table.name()).send().await?;
        Ok(())
    }

    /// Creates the fallback queue (`FALLBACK_QUEUE_URL`), a message the redrive reports failed received again
    /// after `visibility` (the deployed queue: the template's): its URL.
    pub async fn create_fallback_queue(&self, visibility: Duration) -> Result<String, Error> {
        let sqs = aws_sdk_sqs::Client::new(&self.sdk_config().await);
        let name = aws_sdk_sqs::types::QueueAttributeName::VisibilityTimeout;
        let seconds = visibility.as_secs().to_string();
        let created = sqs.create_queue().queue_name(FALLBACK_QUEUE).attributes(name, seconds).send().await?;
        Ok(created.queue_url().ok_or("no queue url")?.to_owned())
    }

    /// Every item of a table as JSON, sorted by id; a Binary attribute becomes its base64 string.
    pub async fn items(&self, table: &str) -> Result<Vec<Value>, Error> {
        use aws_sdk_dynamodb::types::AttributeValue;
        let client = aws_sdk_dynamodb::Client::new(&self.sdk_config().await);
        // All pages: a scan returns at most 1 MB at a time.
        let pages: Vec<_> = client.scan().table_name(table).into_paginator().items().send().collect().await;
        let pages = pages.into_iter().collect::<Result<Vec<_>, _>>()?;
        let raw = pages.into_iter().map(|item| {
            item.into_iter()
                .map(|(name, value)| match value {
                    AttributeValue::B(blob) => (
                        name,
                        AttributeValue::S(base64::Engine::encode(&base64::engine::general_purpose::STANDARD, blob)),
                    ),
                    other => (name, other),
                })
                .collect::<std::collections::HashMap<_, _>>()
        });
        let mut items: Vec<Value> = serde_dynamo::aws_sdk_dynamodb_1::from_items(raw.collect())?;
        let key = |item: &Value| {
            let text = |name: &str| item[name].as_str().map(str::to_owned);
            (item["id"].as_u64(), text("text_type"), text("phone"))
        };
        items.sort_by_key(key);
        Ok(items)
    }

    async fn get_json(&self, path: &str) -> Result<reqwest::Response, Error> {
        Ok(reqwest::get(format!("{}{path}", self.endpoint)).await?.error_for_status()?)
    }

    /// The texts SNS accepted, in order: (phone number, message).
    pub async fn sms(&self) -> Result<Vec<(String, String)>, Error> {
        let data: Value = self.get_json("/moto-api/data.json").await?.json().await?;
        let texts = data["sns"]["SMS"].as_array().cloned().unwrap_or_default();
        Ok(texts
            .iter()
            .map(|sms| {
                (sms["phone_number"].as_str().unwrap_or("").into(), sms["message"].as_str().unwrap_or("").into())
            })
            .collect())
    }

    /// Makes SMS publishes beyond `parts_per_second` message parts per second answer SNS's `Throttling`
    /// (0: no limit), and starts a new [`Self::sms_log`].
    pub async fn limit_sms_rate(&self, parts_per_second: f64) -> Result<(), Error> {
        let url = format!("{}/emulator/sms-rate", self.endpoint);
        let body = serde_json::json!({ "parts_per_second": parts_per_second });
        reqwest::Client::new().post(url).json(&body).send().await?.error_for_status()?;
        Ok(())
    }

    /// The SMS publishes accepted since [`Self::limit_sms_rate`], in order, and how many were throttled.
    pub async fn sms_log(&self) -> Result<SmsLog, Error> {
        let log: Value = self.get_json("/emulator/sms-log").await?.json().await?;
        let accepted = log["accepted"].as_array().into_iter().flatten();
        Ok(SmsLog {
            accepted: accepted
                .map(|sms| AcceptedSms {
                    at: sms["at"].as_f64().unwrap_or_default(),
                    number: sms["number"].as_str().unwrap_or_default().to_owned(),
                    parts: sms["parts"].as_u64().unwrap_or_default(),
                })
                .collect(),
            throttled: log["throttled"].as_u64().unwrap_or_default(),
        })
    }

    /// How many requests the emulator has received, of any service (moto's recorder).
    pub async fn requests_received(&self) -> Result<usize, Error> {
        let recording = self.get_json("/moto-api/recorder/download-recording").await?.text().await?;
        Ok(recording.lines().filter(|line| !line.trim().is_empty()).count())
    }

    /// The form parameters of every SNS `Publish` request the emulator received (moto's recorder).
    pub async fn publish_requests(&self) -> Result<Vec<Vec<(String, String)>>, Error> {
        let recording = self.get_json("/moto-api/recorder/download-recording").await?.text().await?;
        let mut publishes = Vec::new();
        for line in recording.lines().filter(|line| !line.trim().is_empty()) {
            let entry: Value = serde_json::from_str(line)?;
            let body = entry["body"].as_str().unwrap_or("");
            let body = match entry["body_encoded"].as_bool() {
                Some(true) => base64::Engine::decode(&base64::engine::general_purpose::STANDARD, body)?,
                _ => body.as_bytes().to_vec(),
            };
            let form: Vec<(String, String)> = form_urlencoded::parse(&body).into_owned().collect();
            if form.iter().any(|(key, value)| key == "Action" && value == "Publish") {
                publishes.push(form);
            }
        }
        Ok(publishes)
    }
}

/// What the emulator's SNS accepted and throttled since its rate was set.
#[derive(Debug, Default)]
pub struct SmsLog {
    pub accepted: Vec<AcceptedSms>,
    pub throttled: u64,
}

/// One SMS publish SNS accepted.
#[derive(Debug, Clone)]
pub struct AcceptedSms {
    /// When, in seconds since the Unix epoch.
    pub at: f64,
    pub number: String,
    /// Message parts, as carriers count them.
    pub parts: u64,
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `cargo metadata` of the workspace as locked, offline, for this host's packages only: the suite has built (so
/// downloaded) every one of them, while a package only another platform uses (Android's, Windows') is never
/// downloaded on a fresh machine, and without `--filter-platform` cargo would need it.
pub fn locked_metadata() -> Result<Value, Error> {
    let rustc = cargo_command("rustc").arg("-vV").output()?;
    let text = String::from_utf8(rustc.stdout)?;
    let host = text.lines().find_map(|line| line.strip_prefix("host: ")).ok_or("rustc -vV names no host")?;
    let output = cargo_command("cargo")
        .args(["metadata", "--format-version", "1", "--locked", "--offline", "--filter-platform", host])
        .output()?;
    if !output.status.success() {
        return Err(format!("cargo metadata: {}", String::from_utf8_lossy(&output.stderr)).into());
    }
    Ok(serde_json::from_slice(&output.stdout)?)
}

/// A cargo command run from the repository root without the variables cargo sets for the process that runs
/// it (a test): build scripts track some of them (ring: `CARGO_MANIFEST_DIR`), and a changed value rebuilds
/// half the dependency tree.
pub fn cargo_command(program: impl AsRef<std::ffi::OsStr>) -> Command {
    let mut command = Command::new(program);
    command.current_dir(repo_root());
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        let set_for_tests = ["CARGO_MANIFEST_", "CARGO_PKG_", "CARGO_CRATE_", "CARGO_BIN_", "CARGO_PRIMARY_PACKAGE"]
            .iter()
            .any(|prefix| name.starts_with(prefix))
            || name == "CARGO_TARGET_TMPDIR";
        if set_for_tests {
            command.env_remove(name.as_ref());
        }
    }
    command
}

/// A free loopback port (closed again at once, so a process can take it).
pub fn free_port() -> Result<u16, Error> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Every function under `cargo lambda watch`, their output in a log file, for as long as this value lives.
pub struct Functions {
    pub port: u16,
    pub log_path: PathBuf,
    child: Child,
}

impl Functions {
    /// Starts the functions with `env`. They are built first, each on its own exactly as `watch` builds it
    /// (`cargo run --bin NAME`: features resolved for that package alone), so no invocation waits for a
    /// compile.
    pub fn start(env: &[(&str, String)], log_path: PathBuf, instances: usize) -> Result<Self, Error> {
        for function in FUNCTIONS {
            let status = cargo_command("cargo").args(["build", "--quiet", "--bin", function]).status()?;
            if !status.success() {
                return Err(format!("building {function} failed").into());
            }
        }
        let port = free_port()?;
        let log = std::fs::File::create(&log_path)?;
        let path = format!("{}:{}", repo_root().join(".venv/bin").display(), std::env::var("PATH").unwrap_or_default());
        let mut command = cargo_command(venv_bin("cargo-lambda")?);
        command
            .args(["lambda", "watch", "--ignore-changes", "--quiet", "-A", "127.0.0.1", "-P", &port.to_string()])
            .args(["--concurrency", &instances.to_string()])
            .env("PATH", path)
            .envs(env.iter().map(|(key, value)| (*key, value.as_str())))
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log);
        // Its own process group, so stopping it stops the function processes it started too.
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let child = command.spawn()?;
        let functions = Self { port, log_path, child };
        functions.wait_until_listening(Duration::from_secs(60))?;
        Ok(functions)
    }

    fn wait_until_listening(&self, limit: Duration) -> Result<(), Error> {
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            if started.elapsed() > limit {
                return Err(format!("cargo lambda watch did not listen on {} within {limit:?}", self.port).into());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(())
    }

    /// Where `cargo lambda watch` serves the functions: `/send-text/...` reaches send-text, as on API Gateway.
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}/lambda-url", self.port)
    }

    /// The function URL `cargo lambda watch` serves for `function`.
    pub fn url(&self, function: &str) -> String {
        format!("{}/{function}/", self.base_url())
    }

    /// Invokes a function that is not behind HTTP (sms-delivery-status) with `event`: the runtime's HTTP status
    /// and the function's JSON answer (`null` when it returns nothing, Lambda's error document when it fails).
    pub async fn invoke_raw(&self, function: &str, event: &str) -> Result<(u16, Value), Error> {
        let url = format!("http://127.0.0.1:{}/2015-03-31/functions/{function}/invocations", self.port);
        let client = reqwest::Client::builder().timeout(Duration::from_secs(120)).build()?;
        let response = client.post(url).body(event.to_owned()).send().await?;
        Ok((response.status().as_u16(), response.json().await?))
    }

    /// Invokes `function` with an API Gateway event, as `cargo lambda invoke --data-file` does; returns the
    /// HTTP status and JSON body of the function's answer.
    pub async fn invoke(&self, function: &str, event: &str) -> Result<(u16, Value), Error> {
        let url = format!("http://127.0.0.1:{}/2015-03-31/functions/{function}/invocations", self.port);
        let client = reqwest::Client::builder().timeout(Duration::from_secs(120)).build()?;
        let response: Value = client.post(url).body(event.to_owned()).send().await?.error_for_status()?.json().await?;
        let status = response["statusCode"].as_u64().ok_or_else(|| format!("no statusCode in {response}"))?;
        let body = serde_json::from_str(response["body"].as_str().ok_or_else(|| format!("no body in {response}"))?)?;
        Ok((u16::try_from(status)?, body))
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }
}

impl Drop for Functions {
    fn drop(&mut self) {
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-TERM", "--", &group]).status();
        let _ = self.child.wait();
        webhook_test_support::archive_log("functions", &self.log());
    }
}

pub const CALLS_TABLE: &str = "calls";
pub const SENT_TEXTS_TABLE: &str = "sent-texts";
pub const OPT_OUTS_TABLE: &str = "opt-outs";
pub const LEAD_EVENTS_TABLE: &str = "lead-events";
pub const FALLBACK_QUEUE: &str = "fallback";

/// Our tables, as the tests name them in the emulator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    Calls,
    SentTexts,
    OptOuts,
    LeadEvents,
}

impl Table {
    pub const ALL: [Self; 4] = [Self::Calls, Self::SentTexts, Self::OptOuts, Self::LeadEvents];

    pub const fn name(self) -> &'static str {
        match self {
            Self::Calls => CALLS_TABLE,
            Self::SentTexts => SENT_TEXTS_TABLE,
            Self::OptOuts => OPT_OUTS_TABLE,
            Self::LeadEvents => LEAD_EVENTS_TABLE,
        }
    }

    /// The template resource that defines it.
    pub const fn resource(self) -> &'static str {
        match self {
            Self::Calls => "CallsTable",
            Self::SentTexts => "SentTextsTable",
            Self::OptOuts => "OptOutsTable",
            Self::LeadEvents => "LeadEventsTable",
        }
    }
}

/// The emulator with every table and the fallback queue, and every function under `cargo lambda watch` against
/// it, logging to `log_path`.
pub async fn start_stack(log_path: PathBuf) -> Result<(Emulator, Functions), Error> {
    start_stack_with(log_path, StackSettings::default()).await
}

/// What a stack is started with besides [`function_env`].
#[derive(Debug, Clone)]
pub struct StackSettings {
    /// Added to (or replacing) the functions' environment.
    pub env: Vec<(&'static str, String)>,
    /// Instances of each function `cargo lambda watch` runs at once.
    pub instances: usize,
    /// The fallback queue's visibility timeout: short by default, so that a drain does not wait long for a
    /// message the redrive reported failed; the template's for a run that must behave as deployed.
    pub queue_visibility: Duration,
}

impl Default for StackSettings {
    fn default() -> Self {
        Self { env: Vec::new(), instances: 1, queue_visibility: Duration::from_secs(2) }
    }
}

/// [`start_stack`], with `settings`.
pub async fn start_stack_with(log_path: PathBuf, settings: StackSettings) -> Result<(Emulator, Functions), Error> {
    let emulator = Emulator::start()?;
    for table in Table::ALL {
        emulator.create_table(table).await?;
    }
    let mut env = function_env(&emulator);
    env.push(("FALLBACK_QUEUE_URL", emulator.create_fallback_queue(settings.queue_visibility).await?));
    for (name, value) in settings.env {
        env.retain(|(existing, _)| *existing != name);
        env.push((name, value));
    }
    let instances = settings.instances;
    let functions = tokio::task::spawn_blocking(move || Functions::start(&env, log_path, instances)).await??;
    Ok((emulator, functions))
}

/// Table names and function settings used by local runs and tests.
pub fn function_env(emulator: &Emulator) -> Vec<(&'static str, String)> {
    let mut env = lead_history_env(emulator);
    env.extend([
        ("AUTH_TOKEN", AUTH_TOKEN.into()),
        // The samples' leads are in Washington State and DC: with the legal-hours guard on, a run at night
        // would hold every text. The guard has its own tests.
        ("TEXT_HOURS", "off".into()),
    ]);
    env
}

/// The emulator's AWS settings and every table's name: lead-history's environment for the tables of a stack on
/// `emulator` (what the stack's `LeadHistoryEnvironment` output gives a real account), and the functions'.
pub fn lead_history_env(emulator: &Emulator) -> Vec<(&'static str, String)> {
    let mut env = emulator.aws_env();
    env.extend([
        ("CALLS_TABLE", CALLS_TABLE.into()),
        ("SENT_TEXTS_TABLE", SENT_TEXTS_TABLE.into()),
        ("LEAD_EVENTS_TABLE", LEAD_EVENTS_TABLE.into()),
        ("OPT_OUTS_TABLE", OPT_OUTS_TABLE.into()),
    ]);
    env
}

/// `lead-history ARGS` run against the stack on `emulator`: what it printed, or why it failed.
pub fn lead_history(emulator: &Emulator, args: &[&str]) -> Result<String, Error> {
    let output = cargo_command("cargo")
        .args(["run", "--quiet", "-p", "lead-history", "--"])
        .args(args)
        .envs(lead_history_env(emulator))
        .output()?;
    match output.status.success() {
        true => Ok(String::from_utf8(output.stdout)?),
        false => Err(format!("lead-history failed: {}", String::from_utf8_lossy(&output.stderr)).into()),
    }
}

/// Every function's binary.
pub const FUNCTIONS: [&str; 6] =
    ["send-text", "post-call", "text-optout", "lead-events", "sms-delivery-status", "redrive"];

/// What one drain of the fallback queue came to.
#[derive(Debug, Default)]
pub struct Drained {
    /// Messages the redrive completed (deleted from the queue).
    pub messages: usize,
    /// Messages it reported failed, received again later.
    pub retried: usize,
    /// Each invocation's answer (its `batchItemFailures`).
    pub answers: Vec<Value>,
}

/// Does what Lambda's SQS event source does with the fallback queue until it is empty, with one poller; `Err` if
/// it is not empty within a minute. See [`poll_fallback_queue`].
pub async fn drain_fallback_queue(emulator: &Emulator, functions: &Functions) -> Result<Drained, Error> {
    let ((), drained) = poll_fallback_queue(emulator, functions, 1, Duration::from_secs(60), async {}).await?;
    drained
}

/// Does what Lambda's SQS event source does with the fallback queue while `arrivals` runs, then until the queue
/// is empty (messages in flight and delayed included): `pollers` at once (as the event source's
/// `MaximumConcurrency`), each receiving up to the template's `BatchSize` messages, invoking the redrive with them,
/// and deleting those it did not report failed; a failed one comes back when its visibility timeout ends.
/// `arrivals`' output, and what the pollers did (`Err` if that took longer than `limit`).
pub async fn poll_fallback_queue<T>(
    emulator: &Emulator,
    functions: &Functions,
    pollers: usize,
    limit: Duration,
    arrivals: impl Future<Output = T>,
) -> Result<(T, Result<Drained, Error>), Error> {
    let sqs = aws_sdk_sqs::Client::new(&emulator.sdk_config().await);
    let queue = sqs.get_queue_url().queue_name(FALLBACK_QUEUE).send().await?;
    let batch_size = Template::load()?.properties("RedriveFunction")?["Events"]["Queued"]["Properties"]["BatchSize"]
        .as_i64()
        .and_then(|size| i32::try_from(size).ok())
        .ok_or("the redrive's event has no BatchSize")?;
    let poller = RedrivePoller {
        sqs,
        queue_url: queue.queue_url().ok_or("no queue url")?.to_owned(),
        invocations: format!("http://127.0.0.1:{}/2015-03-31/functions/redrive/invocations", functions.port),
        batch_size,
        arrived: Arc::new(AtomicBool::new(false)),
        deadline: Instant::now() + limit,
    };
    let mut running = tokio::task::JoinSet::new();
    for _ in 0..pollers.max(1) {
        running.spawn(poller.clone().poll());
    }
    let arrived = arrivals.await;
    poller.arrived.store(true, Ordering::Release);
    let mut drained = Ok(Drained::default());
    while let Some(done) = running.join_next().await {
        drained = match (drained, done?) {
            (Ok(total), Ok(one)) => Ok(Drained {
                messages: total.messages + one.messages,
                retried: total.retried + one.retried,
                answers: [total.answers, one.answers].concat(),
            }),
            (Err(error), _) | (_, Err(error)) => Err(error),
        };
    }
    Ok((arrived, drained))
}

/// One of [`poll_fallback_queue`]'s pollers.
#[derive(Clone)]
struct RedrivePoller {
    sqs: aws_sdk_sqs::Client,
    queue_url: String,
    invocations: String,
    batch_size: i32,
    /// Set once no more deliveries arrive: an empty queue then ends the poll.
    arrived: Arc<AtomicBool>,
    deadline: Instant,
}

impl RedrivePoller {
    async fn poll(self) -> Result<Drained, Error> {
        use aws_sdk_sqs::types::QueueAttributeName;
        let client = reqwest::Client::builder().timeout(Duration::from_secs(900)).build()?;
        let mut drained = Drained::default();
        loop {
            if Instant::now() > self.deadline {
                return Err(format!("the fallback queue was not drained in time: {drained:?}").into());
            }
            let arrived = self.arrived.load(Ordering::Acquire);
            let received =
                self.sqs.receive_message().queue_url(&self.queue_url).max_number_of_messages(self.batch_size).send();
            let received = received.await?;
            if received.messages().is_empty() {
                let waiting = [
                    QueueAttributeName::ApproximateNumberOfMessages,
                    QueueAttributeName::ApproximateNumberOfMessagesNotVisible,
                    QueueAttributeName::ApproximateNumberOfMessagesDelayed,
                ];
                let attributes = self
                    .sqs
                    .get_queue_attributes()
                    .queue_url(&self.queue_url)
                    .set_attribute_names(Some(waiting.to_vec()))
                    .send()
                    .await?;
                let counts = attributes.attributes().cloned().unwrap_or_default();
                if arrived && waiting.iter().all(|name| counts.get(name).is_none_or(|count| count == "0")) {
                    return Ok(drained);
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
                continue;
            }
            let records: Vec<Value> = received
                .messages()
                .iter()
                .map(|message| {
                    serde_json::json!({"messageId": message.message_id(), "receiptHandle": message.receipt_handle(),
                        "body": message.body(), "eventSource": "aws:sqs",
                        "eventSourceARN": format!("arn:aws:sqs:{REGION}:123456789012:{FALLBACK_QUEUE}")})
                })
                .collect();
            let event = serde_json::json!({"Records": records}).to_string();
            let response = client.post(&self.invocations).body(event).send().await?;
            let (status, answer): (u16, Value) = (response.status().as_u16(), response.json().await?);
            if status != 200 {
                return Err(format!("the redrive failed: {status} {answer}").into());
            }
            let failed: Vec<&str> = answer["batchItemFailures"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|failure| failure["itemIdentifier"].as_str())
                .collect();
            for message in received.messages() {
                if failed.contains(&message.message_id().unwrap_or_default()) {
                    drained.retried += 1;
                } else {
                    let receipt = message.receipt_handle().unwrap_or_default();
                    self.sqs.delete_message().queue_url(&self.queue_url).receipt_handle(receipt).send().await?;
                    drained.messages += 1;
                }
            }
            drained.answers.push(answer);
        }
    }
}
