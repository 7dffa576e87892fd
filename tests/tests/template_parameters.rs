//! The template and the functions agree on every parameter value CloudFormation would deploy. For each
//! parameter that reaches a function's environment, the values at the edges of what the template allows (its
//! default, every AllowedValue, a Number's MinValue and MaxValue, their neighbours and a fraction, and for an AllowedPattern
//! the ends of each class, range, repetition and alternative) each start the real binary under a local Lambda
//! Runtime API, with its environment evaluated from the template. Otherwise a value the binary refuses passes
//! `sam deploy` and stops the function at every start.

use bench::runtime_api::RuntimeApi;
use integration_tests::template::{Parameter, Template};
use integration_tests::{Error, cargo_command};
use regex_syntax::hir::{Class, Hir, HirKind};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use tokio::io::AsyncReadExt;

/// The strings `hir` matches at its edges, its lowest first and its highest last: both ends of every range of a
/// class, every repetition at its fewest, one more, and its most (three more than the fewest when unbounded),
/// every alternative.
fn edges(hir: &Hir) -> Vec<String> {
    let values = match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => vec![String::new()],
        HirKind::Literal(literal) => vec![String::from_utf8_lossy(&literal.0).into_owned()],
        HirKind::Class(Class::Unicode(class)) => {
            class.ranges().iter().flat_map(|range| [range.start(), range.end()]).map(String::from).collect()
        }
        HirKind::Class(Class::Bytes(class)) => class
            .ranges()
            .iter()
            .flat_map(|range| [range.start(), range.end()])
            .map(|byte| char::from(byte).to_string())
            .collect(),
        HirKind::Capture(capture) => edges(&capture.sub),
        HirKind::Alternation(alternatives) => alternatives.iter().flat_map(edges).collect(),
        HirKind::Concat(parts) => {
            let parts: Vec<Vec<String>> = parts.iter().map(edges).collect();
            let widest = parts.iter().map(Vec::len).max().unwrap_or(1);
            // The i-th value takes each part's i-th edge (or its last): all lowest first, all highest last.
            (0..widest)
                .map(|i| parts.iter().filter_map(|edges| edges.get(i).or(edges.last())).map(String::as_str).collect())
                .collect()
        }
        HirKind::Repetition(repetition) => {
            let items = edges(&repetition.sub);
            let fewest = repetition.min as usize;
            let most = repetition.max.map_or(fewest + 3, |max| max as usize);
            let mut counts = vec![fewest, (fewest + 1).min(most), most];
            counts.dedup();
            counts.iter().flat_map(|&count| items.iter().map(move |item| item.repeat(count))).collect()
        }
    };
    without_repeats(values)
}

fn without_repeats(values: Vec<String>) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    values.into_iter().filter(|value| seen.insert(value.clone())).collect()
}

/// The values of `parameter` each function it reaches is started with.
fn boundary_values(parameter: &Parameter) -> Result<Vec<String>, Error> {
    let name = &parameter.name;
    if !parameter.other_constraints.is_empty() {
        return Err(format!("{name}: this test cannot judge {:?}; teach it", parameter.other_constraints).into());
    }
    let mut values: Vec<String> = parameter.default.iter().cloned().collect();
    match (&parameter.allowed_values, &parameter.allowed_pattern, parameter.min_value.zip(parameter.max_value)) {
        (Some(allowed), _, _) => {
            values.extend(allowed.iter().cloned());
            if parameter.list {
                // A list of every allowed value at once, and one with an empty value among others.
                let every: Vec<&str> = allowed.iter().map(String::as_str).filter(|value| !value.is_empty()).collect();
                values.push(every.join(","));
                values.extend(every.first().map(|first| format!("{first},")));
            }
        }
        (None, Some(pattern), _) => values.extend(edges(&regex_syntax::parse(pattern)?)),
        // A Number: both ends of its range, their neighbours inside it, and a fraction (CloudFormation takes one).
        (None, None, Some((min, max))) => {
            values.extend([min, min + 1, max - 1, max].map(|n| n.to_string()));
            values.push(format!("{min}.5"));
        }
        (None, None, None) => {
            return Err(format!(
                "{name} reaches a function but the template allows any value: give it the AllowedPattern, \
                 AllowedValues or MinValue and MaxValue the function's configuration accepts"
            )
            .into());
        }
    }
    let values = without_repeats(values);
    for value in &values {
        if !parameter.accepts(value)? {
            return Err(
                format!("{name}: derived {value:?}, which the template refuses: the derivation is wrong").into()
            );
        }
    }
    Ok(values)
}

fn binary(name: &str) -> Result<PathBuf, Error> {
    let status = cargo_command("cargo").args(["build", "--quiet", "--bin", name]).status()?;
    if !status.success() {
        return Err(format!("building {name} failed").into());
    }
    Ok(bench::target_dir().join("debug").join(name))
}

/// Starts `program` as Lambda would with `environment`: `Ok` once it asks the Runtime API for work, `Err` with its
/// last output lines if it exits first.
async fn start(
    program: &Path,
    function: &str,
    environment: &BTreeMap<String, String>,
    aws: &str,
) -> Result<Result<(), String>, Error> {
    let mut api = RuntimeApi::start().await?;
    let mut child = tokio::process::Command::new(program)
        .env_clear()
        .envs(bench::lambda_environment(function, &api.address, aws))
        .envs(environment)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()?;
    let exited = tokio::select! {
        polled = api.next_poll(Duration::from_secs(30)) => match polled {
            Some(_) => return Ok(Ok(())),
            None => return Ok(Err("it neither asked for work nor exited within 30 s".into())),
        },
        status = child.wait() => status?,
    };
    let mut output = String::new();
    if let Some(mut stdout) = child.stdout.take() {
        stdout.read_to_string(&mut output).await?;
    }
    if let Some(mut stderr) = child.stderr.take() {
        stderr.read_to_string(&mut output).await?;
    }
    let last: Vec<&str> = output.lines().rev().take(3).collect();
    Ok(Err(format!("it exited ({exited}): {}", last.join(" | "))))
}

/// A value short enough to read in a failure message.
fn abridged(value: &str) -> String {
    match value.char_indices().nth(24) {
        Some((end, _)) => format!("{}… ({} characters)", &value[..end], value.chars().count()),
        None => value.to_owned(),
    }
}

/// What a `!Ref` to a resource becomes: its physical id is only known once deployed, and the functions treat
/// table names and secret ids as opaque.
fn deployed(resource: &str) -> String {
    format!("twox-webhooks-{resource}-1A2B3C4D5E6F")
}

/// Starts function resource `resource` (binary `name`) once per value of the parameters that reach it; the
/// failures, and how many starts there were.
async fn check(template: &Template, resource: &str, name: &str, aws: &str) -> Result<(Vec<String>, usize), Error> {
    let program = binary(name)?;
    let reaching = template.parameters_reaching(resource)?;
    for expected in ["AuthHeaderName", "DefaultCountry", "ExistingAuthSecretArn", "MetricsNamespace"] {
        assert!(reaching.iter().any(|name| name == expected), "{resource}: {expected} not found in {reaching:?}");
    }
    let mut values = BTreeMap::new();
    for parameter in template.parameters()?.iter().filter(|parameter| reaching.contains(&parameter.name)) {
        values.insert(parameter.name.clone(), boundary_values(parameter)?);
    }
    // Start k gives each parameter its k-th value (cycling through shorter lists), so every value is started
    // with at least once; a refusal names its variable in the function's log line.
    let runs = values.values().map(Vec::len).max().unwrap_or(1);
    let mut starts = Vec::new();
    for run in 0..runs {
        let chosen: BTreeMap<String, String> =
            values.iter().map(|(name, list)| (name.clone(), list[run % list.len()].clone())).collect();
        let environment = template.function_environment(resource, &chosen, deployed)?;
        starts.push((chosen, environment));
    }
    let mut failures = Vec::new();
    // Two at a time: a start mostly waits on its process.
    for pair in starts.chunks(2) {
        let second = async {
            match pair.get(1) {
                Some((_, environment)) => Some(start(&program, name, environment, aws).await),
                None => None,
            }
        };
        let (first, second) = tokio::join!(start(&program, name, &pair[0].1, aws), second);
        for ((chosen, _), result) in pair.iter().zip([Some(first), second].into_iter().flatten()) {
            if let Err(why) = result? {
                let shown: BTreeMap<&String, String> =
                    chosen.iter().map(|(name, value)| (name, abridged(value))).collect();
                failures.push(format!("{name} with {shown:?}: {why}"));
            }
        }
    }
    let counts: BTreeMap<&String, usize> = values.iter().map(|(name, list)| (name, list.len())).collect();
    println!("{name}: {runs} starts; values per parameter {counts:?}");
    Ok((failures, runs))
}

#[tokio::test]
async fn every_value_the_template_allows_starts_the_functions_it_reaches() -> Result<(), Error> {
    let template = Template::load()?;
    let aws = bench::aws_stub::start().await?;
    let functions = template.functions()?;
    assert!(functions.len() >= 2, "{functions:?}");
    let (mut failures, mut starts) = (Vec::new(), 0);
    for (resource, binary) in &functions {
        let (more, count) = check(&template, resource, binary, &aws).await?;
        failures.extend(more);
        starts += count;
    }
    assert!(failures.is_empty(), "{} of {starts} starts failed:\n{}", failures.len(), failures.join("\n"));
    Ok(())
}

/// The check above can see a refusal: the binary with a value its configuration refuses does not start.
#[tokio::test]
async fn a_value_the_function_refuses_is_seen_not_to_start() -> Result<(), Error> {
    let template = Template::load()?;
    let aws = bench::aws_stub::start().await?;
    let program = binary("post-call")?;
    let values = BTreeMap::from([("RetentionDays".to_owned(), "36501".to_owned())]);
    let environment = template.function_environment("PostCallFunction", &values, deployed)?;
    let refused = start(&program, "post-call", &environment, &aws).await?.expect_err("RETENTION_DAYS=36501 started");
    assert!(refused.contains("RETENTION_DAYS"), "{refused}");
    Ok(())
}

#[test]
fn the_edges_of_a_pattern_are_its_extremes() -> Result<(), Error> {
    let of = |pattern: &str| edges(&regex_syntax::parse(pattern).unwrap());
    // The old RetentionDays pattern: its highest value, 99999, is what the functions refused.
    let days = of("^([1-9][0-9]{0,4})?$");
    assert_eq!((days.first().map(String::as_str), days.last().map(String::as_str)), (Some(""), Some("99999")));
    assert!(days.contains(&"1".to_owned()));
    assert_eq!(of("^(A|BC)$"), ["A", "BC"]);
    let sender = of("^[A-Za-z0-9]{3,11}$");
    for expected in ["000", "999", "AAAA", "zzzzzzzzzzz"] {
        assert!(sender.contains(&expected.to_owned()), "{expected} in {sender:?}");
    }
    Ok(())
}
