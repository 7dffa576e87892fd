//! Metrics as CloudWatch Embedded Metric Format (EMF): one JSON document per request, written as its own log
//! line, from which CloudWatch Logs extracts the metrics. No API call, no extra latency.
//! Format: <https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html>

use crate::sms::Segments;
use serde_json::{Map, Value, json};

/// The default metrics namespace (`METRICS_NAMESPACE` overrides it).
pub const DEFAULT_NAMESPACE: &str = "TwoXWebhooks";

/// What one request contributes to the metrics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestMetrics {
    pub function: &'static str,
    /// A property, not a dimension: finds the request's log lines from a metric.
    pub request_id: Option<String>,
    /// The request's outcome (`sent`, `stored`, `unauthorized`, …): counted as a metric of that name.
    pub outcome: &'static str,
    pub sms_segments: Option<Segments>,
    pub stored_item_bytes: Option<usize>,
    pub sms_publish_failed: bool,
}

/// `dependency_failed` → `DependencyFailed`.
fn metric_name(outcome: &str) -> String {
    outcome
        .split('_')
        .map(|word| {
            let mut chars = word.chars();
            chars.next().map(|first| first.to_ascii_uppercase().to_string() + chars.as_str()).unwrap_or_default()
        })
        .collect()
}

impl RequestMetrics {
    /// The EMF document: every request counts as `Received` and under its outcome; a sent text adds its
    /// segments (dimension `encoding`), a stored call its item size. Dimension `function` throughout.
    pub fn to_emf(&self, namespace: &str, timestamp_ms: i64) -> Value {
        let outcome = metric_name(self.outcome);
        let mut counts = vec![json!({"Name": "Received", "Unit": "Count"}), json!({"Name": outcome, "Unit": "Count"})];
        let mut document = Map::new();
        document.insert("function".into(), self.function.into());
        if let Some(request_id) = &self.request_id {
            document.insert("request_id".into(), request_id.as_str().into());
        }
        document.insert("Received".into(), 1.into());
        document.insert(outcome.clone(), 1.into());
        if self.sms_publish_failed {
            counts.push(json!({"Name": "SmsPublishFailed", "Unit": "Count"}));
            document.insert("SmsPublishFailed".into(), 1.into());
        }
        let mut directives = vec![json!({"Namespace": namespace, "Dimensions": [["function"]], "Metrics": counts})];
        if let Some(bytes) = self.stored_item_bytes {
            directives.push(json!({"Namespace": namespace, "Dimensions": [["function"]],
                "Metrics": [{"Name": "StoredItemBytes", "Unit": "Bytes"}]}));
            document.insert("StoredItemBytes".into(), bytes.into());
        }
        if let Some(segments) = self.sms_segments {
            directives.push(json!({"Namespace": namespace, "Dimensions": [["function", "encoding"]],
                "Metrics": [{"Name": "SmsSegments", "Unit": "Count"}]}));
            document.insert("encoding".into(), segments.encoding.name().into());
            document.insert("SmsSegments".into(), segments.count.into());
        }
        document.insert("_aws".into(), json!({"Timestamp": timestamp_ms, "CloudWatchMetrics": directives}));
        Value::Object(document)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sms::SmsEncoding;

    fn metrics(outcome: &'static str) -> RequestMetrics {
        RequestMetrics {
            function: "send-text",
            request_id: Some("req-1".into()),
            outcome,
            sms_segments: None,
            stored_item_bytes: None,
            sms_publish_failed: false,
        }
    }

    /// Checks the document against the specification's rules: every metric a directive names is a number at
    /// the root, every dimension a string at the root.
    fn assert_valid_emf(document: &Value) {
        let directives = document["_aws"]["CloudWatchMetrics"].as_array().expect("CloudWatchMetrics");
        assert!(document["_aws"]["Timestamp"].is_i64());
        for directive in directives {
            assert!(directive["Namespace"].is_string());
            for dimension_set in directive["Dimensions"].as_array().unwrap() {
                for dimension in dimension_set.as_array().unwrap() {
                    assert!(document[dimension.as_str().unwrap()].is_string(), "{dimension} in {document}");
                }
            }
            for metric in directive["Metrics"].as_array().unwrap() {
                assert!(document[metric["Name"].as_str().unwrap()].is_number(), "{metric} in {document}");
            }
        }
    }

    #[test]
    fn every_request_counts_as_received_and_under_its_outcome() {
        let document = metrics("dependency_failed").to_emf("Acme/2X", 1_700_000_000_000);
        assert_valid_emf(&document);
        assert_eq!(document["Received"], 1);
        assert_eq!(document["DependencyFailed"], 1);
        assert_eq!(document["function"], "send-text");
        assert_eq!(document["request_id"], "req-1");
        assert_eq!(document["_aws"]["Timestamp"], 1_700_000_000_000i64);
        assert_eq!(document["_aws"]["CloudWatchMetrics"][0]["Namespace"], "Acme/2X");
        assert_eq!(document["_aws"]["CloudWatchMetrics"].as_array().unwrap().len(), 1);
    }

    #[test]
    fn segments_publish_failures_and_item_sizes_are_added_when_known() {
        let document = RequestMetrics {
            sms_segments: Some(Segments { encoding: SmsEncoding::Ucs2, count: 3 }),
            stored_item_bytes: Some(2048),
            sms_publish_failed: true,
            ..metrics("sent")
        }
        .to_emf(DEFAULT_NAMESPACE, 1);
        assert_valid_emf(&document);
        assert_eq!((&document["encoding"], &document["SmsSegments"]), (&json!("UCS-2"), &json!(3)));
        assert_eq!(document["StoredItemBytes"], 2048);
        assert_eq!(document["SmsPublishFailed"], 1);
    }

    #[test]
    fn outcomes_become_metric_names() {
        assert_eq!(metric_name("sent"), "Sent");
        assert_eq!(metric_name("dependency_failed"), "DependencyFailed");
        assert_eq!(metric_name("method_not_allowed"), "MethodNotAllowed");
    }
}
