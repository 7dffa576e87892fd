//! What a request came to, and the metrics it writes as CloudWatch Embedded Metric Format (EMF): one JSON
//! document per request, written as its own log line, from which CloudWatch Logs extracts the metrics. No API
//! call, no extra latency.
//! Format: <https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html>
//!
//! Every metric name the functions write is a [`Metric`]: the template's alarms and dashboard name them, and a
//! test holds the template to this list.

use serde_json::{Map, Value, json};

/// The default metrics namespace (`METRICS_NAMESPACE` overrides it).
pub const DEFAULT_NAMESPACE: &str = "TwoXWebhooks";

/// What a request came to: its summary log line's `outcome`, a 2xx body's `status`, and a metric counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Sent,
    Duplicate,
    OptedOut,
    Unconfirmed,
    Stored,
    /// Not done now (a dependency failed), but durably queued: the redrive function completes it (202).
    Queued,
    /// On the fallback queue waiting for a time, not for a dependency: the sending rate or the lead's legal
    /// hours. Answered as [`Self::Queued`] (2X needs no difference), counted apart: not an outage.
    Waiting,
    /// A queued text older than its maximum age: never sent.
    Expired,
    /// A text whose lead's legal hours do not open before its maximum age: never sent (200).
    OutsideHours,
    /// SNS refused the text for good: settled `failed`, never sent (422).
    SmsRefused,
    InProgress,
    Unauthorized,
    Invalid,
    TooLarge,
    DependencyFailed,
    MethodNotAllowed,
}

impl Outcome {
    pub const ALL: [Self; 16] = [
        Self::Sent,
        Self::Duplicate,
        Self::OptedOut,
        Self::Unconfirmed,
        Self::Stored,
        Self::Queued,
        Self::Waiting,
        Self::Expired,
        Self::OutsideHours,
        Self::SmsRefused,
        Self::InProgress,
        Self::Unauthorized,
        Self::Invalid,
        Self::TooLarge,
        Self::DependencyFailed,
        Self::MethodNotAllowed,
    ];

    /// As logged and, for a 2xx, as the body's `status`.
    pub const fn label(self) -> &'static str {
        match self {
            Self::Sent => "sent",
            Self::Duplicate => "duplicate",
            Self::OptedOut => "opted_out",
            Self::Unconfirmed => "unconfirmed",
            Self::Stored => "stored",
            Self::Queued | Self::Waiting => "queued",
            Self::Expired => "expired",
            Self::OutsideHours => "outside_hours",
            Self::SmsRefused => "sms_refused",
            Self::InProgress => "in_progress",
            Self::Unauthorized => "unauthorized",
            Self::Invalid => "invalid",
            Self::TooLarge => "too_large",
            Self::DependencyFailed => "dependency_failed",
            Self::MethodNotAllowed => "method_not_allowed",
        }
    }

    /// The metric counting it.
    pub const fn metric(self) -> &'static str {
        match self {
            Self::Sent => "Sent",
            Self::Duplicate => "Duplicate",
            Self::OptedOut => "OptedOut",
            Self::Unconfirmed => "Unconfirmed",
            Self::Stored => "Stored",
            Self::Queued => "Queued",
            Self::Waiting => "Waiting",
            Self::Expired => "Expired",
            Self::OutsideHours => "OutsideHours",
            Self::SmsRefused => "SmsRefused",
            Self::InProgress => "InProgress",
            Self::Unauthorized => "Unauthorized",
            Self::Invalid => "Invalid",
            Self::TooLarge => "TooLarge",
            Self::DependencyFailed => "DependencyFailed",
            Self::MethodNotAllowed => "MethodNotAllowed",
        }
    }
}

/// A metric a request may write besides its outcome's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    /// Every request.
    Received,
    /// SNS refused or failed to take a text (after the SDK's retries).
    SmsPublishFailed,
    /// The parts a sent text is billed as; dimensions `encoding` and `text_type` too.
    SmsSegments,
    /// The parts smart encoding saved on a sent text; dimension `text_type` too.
    SmsPartsSaved,
    /// The characters smart encoding replaced in a sent text.
    SmsCharactersReplaced,
    /// A delivery record whose `numberOfMessageParts` is not the parts we counted for the text: a bug in our
    /// counting, or a carrier's surprise.
    SmsPartsMismatch,
    /// The DynamoDB size of a stored call record.
    StoredItemBytes,
    /// The suppression list could not be read: the text was not sent (503).
    OptOutLookupFailed,
    /// A call's end reason put its number on the suppression list.
    OptOutListed,
    /// SNS reported a sent text delivered to the carrier (`SUCCESS`); dimension `sms_type` too.
    Delivered,
    /// SNS reported a sent text not delivered (`FAILURE`); dimension `sms_type` too.
    DeliveryFailed,
    /// What SNS charged for a reported text, in US dollars; dimensions `sms_type` and `text_type` too.
    DeliveryPriceUSD,
    /// A delivery record for a message id no sent text has (another sender in the account).
    DeliveryUnmatched,
    /// A delivery-status log line that is not a delivery record.
    DeliveryUnreadable,
    /// The redrive completed a queued delivery (its outcome says how); dimension `queued_by` too (the function
    /// that queued it).
    Redriven,
    /// A body was refused (a 4xx other than for its token, method or an id in progress); dimension `reason` too
    /// (`error::Refusal`).
    Refused,
    /// A text id and type delivered again with another phone number or message: 2X reused an id. Not sent.
    IdReused,
    /// Publishes SNS refused for the rate the account or the sending number allows, per text (the value: how
    /// many). A webhook queues such a text; the redrive waits and tries again at its pace, and gives back for SQS
    /// to deliver again soon what it could not send in time.
    SmsThrottled,
    /// How long a sent text waited, from its arrival here (2X's delivery, authenticated) to SNS's acceptance, in
    /// milliseconds.
    TextAgeWhenSent,
    /// How long the redrive waited for the sending rate before a text's publish went through or was given back,
    /// in milliseconds.
    TextWaitedForRate,
}

impl Metric {
    pub const ALL: [Self; 20] = [
        Self::Received,
        Self::SmsPublishFailed,
        Self::SmsSegments,
        Self::SmsPartsSaved,
        Self::SmsCharactersReplaced,
        Self::SmsPartsMismatch,
        Self::StoredItemBytes,
        Self::OptOutLookupFailed,
        Self::OptOutListed,
        Self::Delivered,
        Self::DeliveryFailed,
        Self::DeliveryPriceUSD,
        Self::DeliveryUnmatched,
        Self::DeliveryUnreadable,
        Self::Redriven,
        Self::Refused,
        Self::IdReused,
        Self::SmsThrottled,
        Self::TextAgeWhenSent,
        Self::TextWaitedForRate,
    ];

    pub const fn name(self) -> &'static str {
        match self {
            Self::Received => "Received",
            Self::SmsPublishFailed => "SmsPublishFailed",
            Self::SmsSegments => "SmsSegments",
            Self::SmsPartsSaved => "SmsPartsSaved",
            Self::SmsCharactersReplaced => "SmsCharactersReplaced",
            Self::SmsPartsMismatch => "SmsPartsMismatch",
            Self::StoredItemBytes => "StoredItemBytes",
            Self::OptOutLookupFailed => "OptOutLookupFailed",
            Self::OptOutListed => "OptOutListed",
            Self::Delivered => "Delivered",
            Self::DeliveryFailed => "DeliveryFailed",
            Self::DeliveryPriceUSD => "DeliveryPriceUSD",
            Self::DeliveryUnmatched => "DeliveryUnmatched",
            Self::DeliveryUnreadable => "DeliveryUnreadable",
            Self::Redriven => "Redriven",
            Self::Refused => "Refused",
            Self::IdReused => "IdReused",
            Self::SmsThrottled => "SmsThrottled",
            Self::TextAgeWhenSent => "TextAgeWhenSent",
            Self::TextWaitedForRate => "TextWaitedForRate",
        }
    }

    /// Every metric name the functions write: the outcomes' and these.
    pub fn all_names() -> impl Iterator<Item = &'static str> {
        Outcome::ALL.into_iter().map(Outcome::metric).chain(Self::ALL.map(Self::name))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Count,
    Bytes,
    Milliseconds,
    /// CloudWatch's unit for a plain number, such as an amount in US dollars.
    None,
}

impl Unit {
    pub const fn name(self) -> &'static str {
        match self {
            Self::Count => "Count",
            Self::Bytes => "Bytes",
            Self::Milliseconds => "Milliseconds",
            Self::None => "None",
        }
    }
}

/// One EMF directive: `metrics` (name, unit) in `namespace`, published under each of `dimension_sets`.
pub fn directive(namespace: &str, dimension_sets: &[&[&str]], metrics: &[(&str, Unit)]) -> Value {
    let metrics: Vec<Value> = metrics.iter().map(|(name, unit)| json!({"Name": name, "Unit": unit.name()})).collect();
    json!({"Namespace": namespace, "Dimensions": dimension_sets, "Metrics": metrics})
}

/// The EMF document of `root` (every metric's value and every dimension's, plus properties) and its directives.
pub fn emf_document(mut root: Map<String, Value>, timestamp_ms: i64, directives: Vec<Value>) -> Value {
    root.insert("_aws".into(), json!({"Timestamp": timestamp_ms, "CloudWatchMetrics": directives}));
    Value::Object(root)
}

/// A text type (`pre-call`, or any `type` 2X sends) as a metric's `text_type` dimension: the types 2X documents,
/// any other as `other` (a dimension's values must stay few: each is a metric CloudWatch bills).
pub fn text_type_dimension(text_type: &str) -> &'static str {
    match text_type {
        "pre-call" => "pre-call",
        "post-voicemail" => "post-voicemail",
        "unspecified" => "unspecified",
        _ => "other",
    }
}

/// A value a request measured; published by `function`, and by `function` and each of its dimensions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Measurement {
    pub metric: Metric,
    pub unit: Unit,
    pub value: u64,
    /// (name, value), e.g. `("encoding", "GSM-7")`: each a dimension set with `function`, never combined (a
    /// dashboard breaks a metric down one way at a time, and each set is a metric CloudWatch bills).
    pub dimensions: Vec<(&'static str, &'static str)>,
}

/// What one request contributes to the metrics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestMetrics<'a> {
    pub function: &'static str,
    /// A property, not a dimension: finds the request's log lines from a metric.
    pub request_id: Option<&'a str>,
    /// The webhook's id, a property too: a saved query lists the texts a metric measured (the costliest).
    pub id: Option<u64>,
    pub outcome: Outcome,
    /// Counted once each, like the outcome.
    pub counts: &'a [Metric],
    pub measurements: &'a [Measurement],
}

impl RequestMetrics<'_> {
    /// The EMF document: every request counts as `Received` and under its outcome, plus its other counts (all
    /// with dimension `function`), then each measurement in a directive of its own: by `function` (what an alarm
    /// reads), and by `function` and each of its dimensions (what a dashboard breaks it down by).
    pub fn to_emf(&self, namespace: &str, timestamp_ms: i64) -> Value {
        let mut document = Map::new();
        document.insert("function".into(), self.function.into());
        if let Some(request_id) = self.request_id {
            document.insert("request_id".into(), request_id.into());
        }
        if let Some(id) = self.id {
            document.insert("id".into(), id.into());
        }
        let counted: Vec<(&str, Unit)> = [Metric::Received.name(), self.outcome.metric()]
            .into_iter()
            .chain(self.counts.iter().map(|metric| metric.name()))
            .map(|name| (name, Unit::Count))
            .collect();
        for (name, _) in &counted {
            document.insert((*name).into(), 1.into());
        }
        let mut directives = vec![directive(namespace, &[&["function"]], &counted)];
        for measurement in self.measurements {
            let name = measurement.metric.name();
            let sets: Vec<[&str; 2]> =
                measurement.dimensions.iter().map(|(dimension, _)| ["function", dimension]).collect();
            let mut dimension_sets: Vec<&[&str]> = vec![&["function"]];
            dimension_sets.extend(sets.iter().map(<[&str; 2]>::as_slice));
            for (dimension, value) in &measurement.dimensions {
                document.insert((*dimension).into(), (*value).into());
            }
            directives.push(directive(namespace, &dimension_sets, &[(name, measurement.unit)]));
            document.insert(name.into(), measurement.value.into());
        }
        emf_document(document, timestamp_ms, directives)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use webhook_test_support::assert_valid_emf;

    fn metrics(outcome: Outcome) -> RequestMetrics<'static> {
        RequestMetrics {
            function: "send-text",
            request_id: Some("req-1"),
            id: Some(1234),
            outcome,
            counts: &[],
            measurements: &[],
        }
    }

    #[test]
    fn every_request_counts_as_received_and_under_its_outcome() {
        let document = metrics(Outcome::DependencyFailed).to_emf("Acme/2X", 1_700_000_000_000);
        assert_valid_emf(&document);
        assert_eq!(document["Received"], 1);
        assert_eq!(document["DependencyFailed"], 1);
        assert_eq!(document["function"], "send-text");
        assert_eq!(document["request_id"], "req-1");
        assert_eq!(document["id"], 1234);
        assert_eq!(document["_aws"]["Timestamp"], 1_700_000_000_000i64);
        assert_eq!(document["_aws"]["CloudWatchMetrics"][0]["Namespace"], "Acme/2X");
        assert_eq!(document["_aws"]["CloudWatchMetrics"].as_array().unwrap().len(), 1);
    }

    #[test]
    fn counts_and_measurements_are_added_when_given() {
        let measurements = [
            Measurement {
                metric: Metric::SmsSegments,
                unit: Unit::Count,
                value: 3,
                dimensions: vec![("encoding", "UCS-2"), ("text_type", "pre-call")],
            },
            Measurement { metric: Metric::StoredItemBytes, unit: Unit::Bytes, value: 2048, dimensions: vec![] },
        ];
        let document = RequestMetrics {
            counts: &[Metric::SmsPublishFailed],
            measurements: &measurements,
            ..metrics(Outcome::Sent)
        }
        .to_emf(DEFAULT_NAMESPACE, 1);
        assert_valid_emf(&document);
        assert_eq!((&document["encoding"], &document["SmsSegments"]), (&json!("UCS-2"), &json!(3)));
        assert_eq!(document["text_type"], "pre-call");
        assert_eq!(document["StoredItemBytes"], 2048);
        assert_eq!(document["SmsPublishFailed"], 1);
        assert_eq!(document["_aws"]["CloudWatchMetrics"][2]["Metrics"][0]["Unit"], "Bytes");
        assert_eq!(
            document["_aws"]["CloudWatchMetrics"][1]["Dimensions"],
            json!([["function"], ["function", "encoding"], ["function", "text_type"]])
        );
        assert_eq!(document["_aws"]["CloudWatchMetrics"][2]["Dimensions"], json!([["function"]]));
    }

    #[test]
    fn outcomes_have_a_label_and_a_metric_of_the_same_words() {
        // Waiting is answered as queued: 2X's contract has no word for it.
        for outcome in Outcome::ALL.into_iter().filter(|outcome| *outcome != Outcome::Waiting) {
            let words: String = outcome.label().split('_').collect();
            assert_eq!(words, outcome.metric().to_ascii_lowercase(), "{outcome:?}");
        }
        let names: Vec<_> = Metric::all_names().collect();
        let unique: std::collections::HashSet<_> = names.iter().collect();
        assert_eq!(unique.len(), names.len(), "{names:?}");
    }
}
