//! Every metric of our namespace that the template's alarms and dashboard name is one the functions write
//! (`webhook::metrics`): a renamed metric would otherwise leave an alarm that can never fire. And every alarm
//! reads its metric from every function that can write it.

use integration_tests::template::{ReadFrom, alarms_blind_to};
use integration_tests::{Error, Template};
use serde_yaml_ng::Value;
use std::collections::{BTreeMap, BTreeSet};
use webhook::metrics::Metric;

/// The metric names of our namespace (`${Ns}`) on the dashboard; `"."` repeats the line before's value.
fn dashboard_metrics(template: &Template) -> Result<BTreeSet<String>, Error> {
    let body = &template.properties("Dashboard")?["DashboardBody"];
    let Value::Tagged(sub) = body else { return Err("DashboardBody is not a !Sub".into()) };
    let text = sub.value.as_sequence().and_then(|parts| parts.first()).and_then(Value::as_str).ok_or("no body")?;
    let dashboard: serde_json::Value = serde_json::from_str(text)?;
    let mut names = BTreeSet::new();
    for widget in dashboard["widgets"].as_array().ok_or("no widgets")? {
        let (mut namespace, mut name) = (String::new(), String::new());
        for line in widget["properties"]["metrics"].as_array().into_iter().flatten() {
            let field = |index: usize, previous: &str| match line[index].as_str() {
                Some(".") | None => previous.to_owned(),
                Some(value) => value.to_owned(),
            };
            if line[0] == "..." {
                continue;
            }
            (namespace, name) = (field(0, &namespace), field(1, &name));
            if namespace == "${Ns}" {
                names.insert(name.clone());
            }
        }
    }
    Ok(names)
}

#[test]
fn every_metric_the_template_names_is_one_the_functions_write() -> Result<(), Error> {
    let template = Template::load()?;
    let written: BTreeSet<&str> = Metric::all_names().collect();
    let alarms: BTreeSet<String> = template.alarm_reads()?.into_values().flat_map(BTreeMap::into_keys).collect();
    let dashboard = dashboard_metrics(&template)?;
    for expected in ["Unauthorized", "SmsPublishFailed", "Unconfirmed", "DependencyFailed"] {
        assert!(alarms.contains(expected), "{expected} not read from the alarms: {alarms:?}");
    }
    for expected in ["StoredItemBytes", "SmsSegments", "SmsThrottled", "TextAgeWhenSent"] {
        assert!(dashboard.contains(expected), "{expected} not on the dashboard: {dashboard:?}");
    }
    for name in alarms.iter().chain(&dashboard) {
        assert!(written.contains(name.as_str()), "the template names {name}, which no function writes");
    }
    Ok(())
}

/// Which functions can write each metric an alarm reads: the webhooks their own outcomes, and the redrive whatever
/// the work it completes for send-text, post-call, text-optout and lead-events can come to. (The suite's log scan checks this
/// against every metric the functions really wrote while tested.)
const WRITERS: &[(&str, &[&str])] = &[
    ("Unauthorized", &["send-text", "post-call", "text-optout", "lead-events"]),
    ("Sent", &["send-text", "redrive"]),
    ("SmsPublishFailed", &["send-text", "redrive"]),
    ("Unconfirmed", &["send-text", "redrive"]),
    ("OptOutLookupFailed", &["send-text", "redrive"]),
    ("IdReused", &["send-text", "redrive"]),
    ("Expired", &["send-text", "redrive"]),
    ("Queued", &["send-text", "post-call", "text-optout", "lead-events", "redrive"]),
    ("Refused", &["send-text", "post-call", "text-optout", "lead-events", "redrive"]),
    ("DependencyFailed", &["send-text", "post-call", "text-optout", "lead-events", "redrive", "sms-delivery-status"]),
    ("Delivered", &["sms-delivery-status"]),
    ("DeliveryFailed", &["sms-delivery-status"]),
];

/// An alarm on an outcome reads it from every function that can write it: the redrive completes the webhooks'
/// work under its own name, so an alarm reading only theirs would miss an outage the redrive meets.
#[test]
fn every_alarm_reads_its_metric_from_every_function_that_writes_it() -> Result<(), Error> {
    let template = Template::load()?;
    let writers: BTreeMap<&str, &[&str]> = WRITERS.iter().copied().collect();
    let mut alarmed = BTreeSet::new();
    let all_reads = template.alarm_reads()?;
    for (alarm, reads) in &all_reads {
        for metric in reads.keys() {
            let functions = writers.get(metric.as_str()).ok_or_else(|| format!("{alarm}: who writes {metric}?"))?;
            for function in *functions {
                assert!(alarms_blind_to(&all_reads, function, metric).is_empty(), "{metric} from {function} unread");
            }
            alarmed.insert(metric.as_str().to_owned());
        }
    }
    assert_eq!(alarmed, writers.keys().map(|name| (*name).to_owned()).collect(), "a writer listed for no alarm");
    Ok(())
}

/// The check can see a blind alarm: the delivery-failure share reads sms-delivery-status's values only, and
/// the outcome sums read every function's.
#[test]
fn an_alarm_reading_some_functions_is_blind_to_the_others() -> Result<(), Error> {
    let reads = Template::load()?.alarm_reads()?;
    assert_eq!(
        alarms_blind_to(&reads, "redrive", "Delivered"),
        ["SmsDeliveryFailuresAlarm", "SmsDeliveryStatusMissingAlarm"]
    );
    assert!(alarms_blind_to(&reads, "a-function-added-later", "Unconfirmed").is_empty());
    assert_eq!(reads["SmsUnconfirmedAlarm"]["Unconfirmed"], ReadFrom::EveryFunction);
    assert_eq!(
        reads["SmsDeliveryStatusMissingAlarm"]["Sent"],
        ReadFrom::Functions(["redrive", "send-text"].map(str::to_owned).into())
    );
    Ok(())
}
