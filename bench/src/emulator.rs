//! AWS answered by the emulator (moto's server, from the project's `.venv`), as the suite and `scripts/run-local`
//! use it: every call really parsed, stored and answered, so the functions do all their work (each invocation
//! needs an id of its own). Its latency is moto's, not AWS's; the functions' CPU time is theirs.

use crate::{Error, repo_root};
use std::process::Stdio;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// The emulator with the three tables the functions use; it stops when this value drops.
pub struct Emulator {
    pub endpoint: String,
    _server: Child,
}

const TABLES: &str = r#"
import sys, boto3
dynamodb = boto3.client("dynamodb", endpoint_url=sys.argv[1], region_name="us-east-1",
                        aws_access_key_id="bench", aws_secret_access_key="bench")
# The keys template.yaml gives them: a sent text is its id and its type.
for name, keys in [("calls", [("id", "N")]), ("sent-texts", [("id", "N"), ("text_type", "S")]),
                   ("opt-outs", [("phone", "S")])]:
    dynamodb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                          KeySchema=[{"AttributeName": key, "KeyType": kind}
                                     for (key, _), kind in zip(keys, ["HASH", "RANGE"])],
                          AttributeDefinitions=[{"AttributeName": key, "AttributeType": kind} for key, kind in keys])
"#;

impl Emulator {
    pub async fn start() -> Result<Self, Error> {
        let python = repo_root().join(".venv/bin/python");
        let mut server = Command::new(&python)
            .arg(repo_root().join("scripts/emulator.py"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()?;
        let stdout = server.stdout.take().ok_or("no emulator stdout")?;
        let endpoint = BufReader::new(stdout).lines().next_line().await?.ok_or("the emulator printed nothing")?;
        if !endpoint.starts_with("http://") {
            return Err(format!("the emulator did not start: {endpoint}").into());
        }
        let created = Command::new(&python).args(["-c", TABLES, &endpoint]).status().await?;
        if !created.success() {
            return Err("the emulator's tables could not be created".into());
        }
        Ok(Self { endpoint, _server: server })
    }
}
