//! Every metric of our namespace that the template's alarms and dashboard name is one the functions write
//! (`webhook::metrics`): a renamed metric would otherwise leave an alarm that can never fire.

use integration_tests::{Error, Template};
use serde_yaml_ng::Value;
use std::collections::BTreeSet;
use webhook::metrics::Metric;

/// Whether `value` is `!Ref MetricsNamespace`.
fn is_our_namespace(value: Option<&Value>) -> bool {
    matches!(value, Some(Value::Tagged(tagged)) if tagged.tag == "Ref" && tagged.value == "MetricsNamespace")
}

/// The metric names of our namespace in every alarm: single-metric alarms and metric-math queries.
fn alarm_metrics(template: &Template) -> Result<BTreeSet<String>, Error> {
    let mut names = BTreeSet::new();
    let resources = template.section("Resources")?;
    for resource in resources.values().filter(|resource| resource["Type"] == "AWS::CloudWatch::Alarm") {
        let properties = &resource["Properties"];
        if is_our_namespace(properties.get("Namespace")) {
            names.insert(properties["MetricName"].as_str().ok_or("an alarm without MetricName")?.to_owned());
        }
        for query in properties.get("Metrics").and_then(Value::as_sequence).into_iter().flatten() {
            let metric = &query["MetricStat"]["Metric"];
            if is_our_namespace(metric.get("Namespace")) {
                names.insert(metric["MetricName"].as_str().ok_or("a query without MetricName")?.to_owned());
            }
        }
    }
    Ok(names)
}

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
    let alarms = alarm_metrics(&template)?;
    let dashboard = dashboard_metrics(&template)?;
    for expected in ["Unauthorized", "SmsPublishFailed", "Unconfirmed", "DependencyFailed"] {
        assert!(alarms.contains(expected), "{expected} not read from the alarms: {alarms:?}");
    }
    assert!(dashboard.contains("StoredItemBytes") && dashboard.contains("SmsSegments"), "{dashboard:?}");
    for name in alarms.iter().chain(&dashboard) {
        assert!(written.contains(name.as_str()), "the template names {name}, which no function writes");
    }
    Ok(())
}
