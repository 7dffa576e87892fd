//! `template.yaml` as the tests read it, so what they create and start cannot drift from what gets deployed:
//! the tables (created in the emulator from their definitions), the parameters and their constraints, and the
//! environment each function receives for given parameter values.

use crate::{Error, repo_root};
use serde_yaml_ng::Value;
use serde_yaml_ng::value::TaggedValue;
use std::collections::{BTreeMap, BTreeSet};

pub struct Template(Value);

/// A template parameter and the constraints CloudFormation applies to a value before deploying it.
#[derive(Debug, Clone)]
pub struct Parameter {
    pub name: String,
    /// A `CommaDelimitedList`: CloudFormation checks each of its values against the constraints.
    pub list: bool,
    pub default: Option<String>,
    pub allowed_values: Option<Vec<String>>,
    pub allowed_pattern: Option<String>,
    /// A `Number`: CloudFormation accepts any number within `MinValue` and `MaxValue`, fractions included.
    pub number: bool,
    /// `MinValue` and `MaxValue` of a `Number` parameter (whole numbers here).
    pub min_value: Option<i64>,
    pub max_value: Option<i64>,
    /// Any other constraint keys (`MinLength`, `MinValue`, ...), for a test to refuse what it cannot judge.
    pub other_constraints: Vec<String>,
}

impl Parameter {
    /// Whether CloudFormation accepts `value` for this parameter (AllowedPattern must match the whole value; each
    /// value of a list's).
    pub fn accepts(&self, value: &str) -> Result<bool, Error> {
        if self.list {
            let single = Self { list: false, ..self.clone() };
            return value.split(',').try_fold(true, |all, element| Ok(all && single.accepts(element.trim())?));
        }
        if let Some(allowed) = &self.allowed_values
            && !allowed.iter().any(|candidate| candidate == value)
        {
            return Ok(false);
        }
        if let Some(pattern) = &self.allowed_pattern
            && !regex_full_match(pattern, value)?
        {
            return Ok(false);
        }
        if self.number {
            let Ok(number) = value.parse::<f64>() else { return Ok(false) };
            let below = self.min_value.is_some_and(|min| number < min as f64);
            if !number.is_finite() || below || self.max_value.is_some_and(|max| number > max as f64) {
                return Ok(false);
            }
        }
        Ok(true)
    }
}

/// CloudFormation matches AllowedPattern against the whole value (Java's `Pattern.matches`).
fn regex_full_match(pattern: &str, value: &str) -> Result<bool, Error> {
    let anchored = regex::Regex::new(&format!("^(?:{pattern})$"))?;
    Ok(anchored.is_match(value))
}

fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        Value::Bool(flag) => Some(flag.to_string()),
        _ => None,
    }
}

impl Template {
    pub fn load() -> Result<Self, Error> {
        let path = repo_root().join("template.yaml");
        Ok(Self(serde_yaml_ng::from_str(&std::fs::read_to_string(path)?)?))
    }

    pub fn section(&self, name: &str) -> Result<&serde_yaml_ng::Mapping, Error> {
        self.0.get(name).and_then(Value::as_mapping).ok_or_else(|| format!("template.yaml has no {name}").into())
    }

    pub fn resource(&self, name: &str) -> Result<&Value, Error> {
        self.section("Resources")?.get(name).ok_or_else(|| format!("template.yaml has no resource {name}").into())
    }

    /// The `Properties` of resource `name`.
    pub fn properties(&self, name: &str) -> Result<&Value, Error> {
        self.resource(name)?.get("Properties").ok_or_else(|| format!("{name} has no Properties").into())
    }

    /// Function resource `name`'s `Timeout`: its own, or the `Globals` one.
    pub fn timeout(&self, name: &str) -> Result<std::time::Duration, Error> {
        let own = self.properties(name)?.get("Timeout");
        let global = self.0.get("Globals").and_then(|globals| globals.get("Function")).and_then(|f| f.get("Timeout"));
        let seconds = own.or(global).and_then(Value::as_u64).ok_or_else(|| format!("{name} has no Timeout"))?;
        Ok(std::time::Duration::from_secs(seconds))
    }

    /// For each alarm, each metric of our namespace it reads and whose values: {alarm: {metric: read from}}.
    pub fn alarm_reads(&self) -> Result<AlarmReads, Error> {
        let mut alarms = BTreeMap::new();
        for (name, resource) in self.section("Resources")? {
            if resource.get("Type").and_then(Value::as_str) != Some("AWS::CloudWatch::Alarm") {
                continue;
            }
            let name = name.as_str().ok_or("an alarm name is not a string")?.to_owned();
            let mut reads: BTreeMap<String, ReadFrom> = BTreeMap::new();
            let mut read = |metric: &Value, from: ReadFrom| -> Result<(), Error> {
                let metric = metric.as_str().ok_or_else(|| format!("{name}: a metric name is not a string"))?;
                match (reads.entry(metric.to_owned()).or_insert(ReadFrom::Functions(BTreeSet::new())), from) {
                    (ReadFrom::Functions(functions), ReadFrom::Functions(more)) => functions.extend(more),
                    (entry, _) => *entry = ReadFrom::EveryFunction,
                }
                Ok(())
            };
            let by_function = |dimensions: &Value| -> ReadFrom {
                let values = dimensions.as_sequence().into_iter().flatten();
                ReadFrom::Functions(
                    values.filter_map(|dimension| dimension["Value"].as_str().map(str::to_owned)).collect(),
                )
            };
            let properties = &resource["Properties"];
            if is_our_namespace(properties.get("Namespace")) {
                read(&properties["MetricName"], by_function(&properties["Dimensions"]))?;
            }
            for query in properties.get("Metrics").and_then(Value::as_sequence).into_iter().flatten() {
                let metric = &query["MetricStat"]["Metric"];
                if is_our_namespace(metric.get("Namespace")) {
                    read(&metric["MetricName"], by_function(&metric["Dimensions"]))?;
                }
                if let Some(summed) = query.get("Expression").and_then(insights_sum) {
                    read(&Value::String(summed), ReadFrom::EveryFunction)?;
                }
            }
            alarms.insert(name, reads);
        }
        Ok(alarms)
    }

    /// Every Lambda function of the template: (resource name, the binary `sam build` builds for it).
    pub fn functions(&self) -> Result<Vec<(String, String)>, Error> {
        let mut functions = Vec::new();
        for (name, resource) in self.section("Resources")? {
            if resource.get("Type").and_then(Value::as_str) != Some("AWS::Serverless::Function") {
                continue;
            }
            let name = name.as_str().ok_or("a resource name is not a string")?;
            let binary = resource["Metadata"]["BuildProperties"]["Binary"].as_str();
            functions.push((name.to_owned(), binary.ok_or_else(|| format!("{name} names no binary"))?.to_owned()));
        }
        Ok(functions)
    }

    pub fn parameters(&self) -> Result<Vec<Parameter>, Error> {
        const KNOWN: [&str; 8] = [
            "Type",
            "Default",
            "Description",
            "ConstraintDescription",
            "AllowedValues",
            "AllowedPattern",
            "MinValue",
            "MaxValue",
        ];
        let mut parameters = Vec::new();
        for (name, definition) in self.section("Parameters")? {
            let name = name.as_str().ok_or("a parameter name is not a string")?.to_owned();
            let definition = definition.as_mapping().ok_or_else(|| format!("{name} is not a mapping"))?;
            let field = |key: &str| definition.get(key);
            parameters.push(Parameter {
                list: field("Type").and_then(Value::as_str) == Some("CommaDelimitedList"),
                number: field("Type").and_then(Value::as_str) == Some("Number"),
                default: field("Default").and_then(text),
                allowed_values: field("AllowedValues")
                    .and_then(Value::as_sequence)
                    .map(|values| values.iter().filter_map(text).collect()),
                allowed_pattern: field("AllowedPattern").and_then(text),
                min_value: field("MinValue").and_then(Value::as_i64),
                max_value: field("MaxValue").and_then(Value::as_i64),
                other_constraints: definition
                    .keys()
                    .filter_map(Value::as_str)
                    .filter(|key| !KNOWN.contains(key))
                    .map(str::to_owned)
                    .collect(),
                name,
            });
        }
        Ok(parameters)
    }

    /// The environment of function resource `function` once deployed with `values` for the parameters (the
    /// defaults for the rest): the `Globals` variables, then the function's own. A `!Ref` to a resource
    /// becomes `placeholder(resource)`, its physical id or ARN being unknown before deployment.
    pub fn function_environment(
        &self,
        function: &str,
        values: &BTreeMap<String, String>,
        placeholder: impl Fn(&str) -> String,
    ) -> Result<BTreeMap<String, String>, Error> {
        let parameters: BTreeMap<String, String> = self
            .parameters()?
            .into_iter()
            .filter_map(|parameter| {
                let value = values.get(&parameter.name).cloned().or(parameter.default)?;
                Some((parameter.name, value))
            })
            .collect();
        let evaluator = Evaluator { template: self, parameters: &parameters, placeholder: &placeholder };
        let global = self.0.get("Globals").and_then(|globals| globals.get("Function"));
        let own = self.resource(function)?.get("Properties");
        let mut environment = BTreeMap::new();
        for scope in [global, own].into_iter().flatten() {
            let variables = scope.get("Environment").and_then(|environment| environment.get("Variables"));
            for (name, value) in variables.and_then(Value::as_mapping).into_iter().flatten() {
                let name = name.as_str().ok_or("a variable name is not a string")?;
                environment.insert(name.to_owned(), evaluator.evaluate(value)?);
            }
        }
        Ok(environment)
    }

    /// The parameters whose value reaches `function`'s environment (directly or through a condition).
    pub fn parameters_reaching(&self, function: &str) -> Result<Vec<String>, Error> {
        let global = self.0.get("Globals").and_then(|globals| globals.get("Function"));
        let own = self.resource(function)?.get("Properties");
        let mut references = Vec::new();
        for scope in [global, own].into_iter().flatten() {
            if let Some(variables) = scope.get("Environment").and_then(|environment| environment.get("Variables")) {
                collect_refs(variables, &mut references);
            }
        }
        let parameters = self.section("Parameters")?;
        // A condition's parameters reach the function too: they choose the value.
        let conditions = self.0.get("Conditions").and_then(Value::as_mapping);
        let mut reaching = Vec::new();
        for reference in references {
            if let Some(condition) = conditions.and_then(|conditions| conditions.get(reference.as_str())) {
                let mut inner = Vec::new();
                collect_refs(condition, &mut inner);
                reaching.extend(inner);
            }
            reaching.push(reference);
        }
        reaching.retain(|name| parameters.contains_key(name.as_str()));
        reaching.sort();
        reaching.dedup();
        Ok(reaching)
    }
}

/// Whose values of a metric an alarm reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadFrom {
    /// A Metrics Insights sum over `SCHEMA(namespace, function)`: every function's, present and future.
    EveryFunction,
    /// These functions' (`function` dimension values).
    Functions(BTreeSet<String>),
}

impl ReadFrom {
    pub fn includes(&self, function: &str) -> bool {
        match self {
            Self::EveryFunction => true,
            Self::Functions(functions) => functions.contains(function),
        }
    }
}

/// For each alarm, each metric of our namespace it reads and whose values ([`Template::alarm_reads`]).
pub type AlarmReads = BTreeMap<String, BTreeMap<String, ReadFrom>>;

/// The alarms of `reads` that read `metric` but not `function`'s values of it.
pub fn alarms_blind_to(reads: &AlarmReads, function: &str, metric: &str) -> Vec<String> {
    reads
        .iter()
        .filter(|(_, metrics)| metrics.get(metric).is_some_and(|from| !from.includes(function)))
        .map(|(alarm, _)| alarm.clone())
        .collect()
}

/// `!Sub 'SELECT SUM("<metric>") FROM SCHEMA("${MetricsNamespace}", "function")'`: the one Metrics Insights query
/// the alarms use. Every identifier is quoted: `FUNCTION` is one of Metrics Insights' reserved keywords (in any
/// case), and so may a metric name be.
fn insights_sum(value: &Value) -> Option<String> {
    let Value::Tagged(tagged) = value else { return None };
    let text = tagged.value.as_str()?;
    let pattern =
        regex::Regex::new(r#"^SELECT SUM\("(\w+)"\) FROM SCHEMA\("\$\{MetricsNamespace\}", "function"\)$"#).ok()?;
    Some(pattern.captures(text)?[1].to_owned())
}

/// Whether `value` is `!Ref MetricsNamespace`.
fn is_our_namespace(value: Option<&Value>) -> bool {
    matches!(value, Some(Value::Tagged(tagged)) if tagged.tag == "Ref" && tagged.value == "MetricsNamespace")
}

/// Every name a `!Ref` or an `!If`'s condition names inside `value`.
fn collect_refs(value: &Value, found: &mut Vec<String>) {
    match value {
        Value::Tagged(tagged) => {
            let TaggedValue { tag, value } = tagged.as_ref();
            match (tag.to_string().trim_start_matches('!'), value) {
                ("Ref", Value::String(name)) => found.push(name.clone()),
                ("If", Value::Sequence(arguments)) => {
                    if let Some(Value::String(condition)) = arguments.first() {
                        found.push(condition.clone());
                    }
                    arguments.iter().skip(1).for_each(|argument| collect_refs(argument, found));
                }
                (_, inner) => collect_refs(inner, found),
            }
        }
        Value::Sequence(items) => items.iter().for_each(|item| collect_refs(item, found)),
        Value::Mapping(map) => map.values().for_each(|item| collect_refs(item, found)),
        _ => {}
    }
}

/// The few intrinsic functions a function's environment uses; anything else is an error, so a template change
/// the tests cannot follow fails them instead of passing unchecked.
struct Evaluator<'a> {
    template: &'a Template,
    parameters: &'a BTreeMap<String, String>,
    placeholder: &'a dyn Fn(&str) -> String,
}

impl Evaluator<'_> {
    fn evaluate(&self, value: &Value) -> Result<String, Error> {
        let Value::Tagged(tagged) = value else {
            return text(value).ok_or_else(|| format!("not a scalar: {value:?}").into());
        };
        let TaggedValue { tag, value } = tagged.as_ref();
        match (tag.to_string().trim_start_matches('!'), value) {
            ("Ref", Value::String(name)) => Ok(match self.parameters.get(name) {
                Some(parameter) => parameter.clone(),
                None => {
                    self.template.resource(name)?;
                    (self.placeholder)(name)
                }
            }),
            ("If", Value::Sequence(arguments)) if arguments.len() == 3 => {
                let condition = arguments[0].as_str().ok_or("an !If without a condition name")?;
                let chosen = if self.condition(condition)? { &arguments[1] } else { &arguments[2] };
                self.evaluate(chosen)
            }
            // A list parameter joined (its value is the list as given, comma-separated).
            ("Join", Value::Sequence(arguments)) if arguments.len() == 2 => {
                let separator = arguments[0].as_str().ok_or("a !Join without a separator")?;
                let list = self.evaluate(&arguments[1])?;
                Ok(list.split(',').map(str::trim).collect::<Vec<_>>().join(separator))
            }
            (other, _) => Err(format!("the tests cannot evaluate !{other} in a function's environment").into()),
        }
    }

    fn condition(&self, name: &str) -> Result<bool, Error> {
        let conditions = self.template.section("Conditions")?;
        let definition = conditions.get(name).ok_or_else(|| format!("no condition {name}"))?;
        self.truth(definition)
    }

    fn truth(&self, value: &Value) -> Result<bool, Error> {
        let Value::Tagged(tagged) = value else { return Err(format!("not a condition: {value:?}").into()) };
        let TaggedValue { tag, value } = tagged.as_ref();
        match (tag.to_string().trim_start_matches('!'), value) {
            ("Equals", Value::Sequence(pair)) if pair.len() == 2 => {
                Ok(self.evaluate(&pair[0])? == self.evaluate(&pair[1])?)
            }
            ("Not", Value::Sequence(inner)) if inner.len() == 1 => Ok(!self.truth(&inner[0])?),
            ("Condition", Value::String(name)) => self.condition(name),
            (other, _) => Err(format!("the tests cannot evaluate the condition !{other}").into()),
        }
    }
}
