//! A DynamoDB item built once from a record: checked against the values DynamoDB refuses in any item, measured
//! by DynamoDB's own size rules, then handed whole to the adapter that writes it.

use crate::error::UnstorableValue;
use aws_sdk_dynamodb::types::AttributeValue;
use serde::Serialize;
use std::collections::HashMap;

/// DynamoDB refuses items over 400 KB.
pub const DYNAMODB_ITEM_LIMIT: usize = 400 * 1024;

/// DynamoDB's deepest nesting: a top-level attribute counts as level 1, so 31 lists or maps inside each other.
const MAX_NESTED_CONTAINERS: usize = 31;

const NUMBER_RANGE: &str = "a number outside its range (38 significant digits, magnitude 1E-130 to 1E+126)";

/// An item DynamoDB accepts (no empty field name, no nesting past 32 levels, no number outside its range), and
/// its size. Only [`Item::new`] makes one.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    attributes: HashMap<String, AttributeValue>,
    size: usize,
}

impl Item {
    /// Builds `record`'s item as serde_dynamo writes it, or names the first value DynamoDB would refuse.
    pub fn new(record: &(impl Serialize + ?Sized)) -> Result<Self, UnstorableValue> {
        let attributes: HashMap<String, AttributeValue> = serde_dynamo::aws_sdk_dynamodb_1::to_item(record)
            .map_err(|_| UnstorableValue { field: String::new(), problem: "a record that is not a map of fields" })?;
        let size = fields_size(attributes.iter(), 0).map_err(Refusal::into_unstorable)?;
        Ok(Self { attributes, size })
    }

    /// The size DynamoDB counts (the 400 KB limit, the capacity billed), by AWS's published rules: attribute
    /// names and values in UTF-8 bytes, numbers about one byte per two digits plus one, 1 byte for booleans and
    /// nulls, 3 bytes per list or map plus 1 per element.
    pub fn size(&self) -> usize {
        self.size
    }

    pub fn attributes(&self) -> &HashMap<String, AttributeValue> {
        &self.attributes
    }

    pub fn into_attributes(self) -> HashMap<String, AttributeValue> {
        self.attributes
    }
}

/// A refused value and its path, innermost segment first: the path is only spelt out for a refusal, so measuring
/// an item that is fine allocates nothing.
struct Refusal {
    segments: Vec<Segment>,
    problem: &'static str,
}

enum Segment {
    Field(String),
    Index(usize),
}

impl Refusal {
    fn new(problem: &'static str) -> Self {
        Self { segments: Vec::new(), problem }
    }

    fn within(mut self, segment: Segment) -> Self {
        self.segments.push(segment);
        self
    }

    /// The path as `name.name[index]`.
    fn into_unstorable(self) -> UnstorableValue {
        let mut field = String::new();
        for segment in self.segments.iter().rev() {
            match segment {
                Segment::Field(name) if field.is_empty() => field.push_str(name),
                Segment::Field(name) => {
                    field.push('.');
                    field.push_str(name);
                }
                Segment::Index(index) => field.push_str(&format!("[{index}]")),
            }
        }
        UnstorableValue { field, problem: self.problem }
    }
}

fn value_size(value: &AttributeValue, containers: usize) -> Result<usize, Refusal> {
    if matches!(value, AttributeValue::L(_) | AttributeValue::M(_)) && containers >= MAX_NESTED_CONTAINERS {
        return Err(Refusal::new("values nested more than 32 levels deep"));
    }
    let size = match value {
        AttributeValue::S(text) => text.len(),
        AttributeValue::N(number) => number_size(number).ok_or_else(|| Refusal::new(NUMBER_RANGE))?,
        AttributeValue::B(bytes) => bytes.as_ref().len(),
        AttributeValue::Bool(_) | AttributeValue::Null(_) => 1,
        AttributeValue::L(list) => {
            let mut size = 3;
            for (index, element) in list.iter().enumerate() {
                size +=
                    value_size(element, containers + 1).map_err(|refusal| refusal.within(Segment::Index(index)))? + 1;
            }
            size
        }
        AttributeValue::M(map) => 3 + fields_size(map.iter(), containers + 1)?,
        AttributeValue::Ss(texts) => texts.iter().map(String::len).sum(),
        AttributeValue::Ns(numbers) => {
            numbers.iter().map(|n| number_size(n)).sum::<Option<usize>>().ok_or_else(|| Refusal::new(NUMBER_RANGE))?
        }
        AttributeValue::Bs(blobs) => blobs.iter().map(|blob| blob.as_ref().len()).sum(),
        // serde_dynamo writes none other; a future SDK variant is refused rather than mis-measured.
        _ => return Err(Refusal::new("a value of an unknown DynamoDB type")),
    };
    Ok(size)
}

fn fields_size<'a>(
    fields: impl Iterator<Item = (&'a String, &'a AttributeValue)>,
    containers: usize,
) -> Result<usize, Refusal> {
    let mut size = 0;
    for (name, value) in fields {
        let within = |refusal: Refusal| refusal.within(Segment::Field(name.clone()));
        if name.is_empty() {
            return Err(within(Refusal::new("an empty field name")));
        }
        size += name.len() + value_size(value, containers).map_err(within)? + usize::from(containers > 0);
    }
    Ok(size)
}

/// `None` when DynamoDB refuses the number. serde_dynamo writes plain decimals, never exponents.
fn number_size(number: &str) -> Option<usize> {
    let unsigned = number.trim_start_matches('-');
    let (integer, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    let integer = integer.trim_start_matches('0');
    let fraction_kept = fraction.trim_end_matches('0');
    // Digits from the first non-zero one to the last non-zero one.
    let significant = match (integer.is_empty(), fraction_kept.is_empty()) {
        (_, true) => integer.trim_end_matches('0').len(),
        (true, false) => fraction_kept.trim_start_matches('0').len(),
        (false, false) => integer.len() + fraction_kept.len(),
    };
    let magnitude_ok = match integer.is_empty() {
        true => significant == 0 || fraction.len() - fraction.trim_start_matches('0').len() < 130,
        false => integer.len() <= 126,
    };
    (magnitude_ok && significant <= 38).then(|| significant.div_ceil(2) + 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn size(record: serde_json::Value) -> Result<usize, UnstorableValue> {
        Item::new(&record).map(|item| item.size())
    }

    fn refusal(record: serde_json::Value) -> Option<(String, &'static str)> {
        size(record).err().map(|refused| (refused.field, refused.problem))
    }

    #[test]
    fn item_size_follows_dynamodbs_rules() {
        // "id" (2) + 1 digit (2); "name" (4) + "Ann" (3); "ok" (2) + 1.
        assert_eq!(size(json!({"id": 7, "name": "Ann", "ok": true})), Ok(2 + 2 + 4 + 3 + 2 + 1));
        // "id" (2) + 20 significant digits (11).
        assert_eq!(size(json!({"id": 12345678901234567890u64})), Ok(2 + 11));
        // "t" (1) + list: 3 + one map (3 + "role" 4 + "User" 4 + 1) + 1.
        assert_eq!(size(json!({"t": [{"role": "User"}]})), Ok(1 + 3 + (3 + 4 + 4 + 1) + 1));
        // "n" (1) + null (1); "b" (1) + 4 bytes.
        assert_eq!(size(json!({"n": null})), Ok(2));
        #[derive(Serialize)]
        struct Blob {
            b: serde_bytes::ByteBuf,
        }
        assert_eq!(
            Item::new(&Blob { b: serde_bytes::ByteBuf::from(vec![1, 2, 3, 4]) }).map(|item| item.size()),
            Ok(1 + 4)
        );
        assert!(size(json!("not an item")).is_err());
    }

    #[test]
    fn the_built_item_is_the_one_serde_dynamo_writes() {
        let record = json!({"id": 7, "call": {"answered": true}, "turns": [{"role": "User"}]});
        let item = Item::new(&record).unwrap();
        let expected: HashMap<String, AttributeValue> = serde_dynamo::aws_sdk_dynamodb_1::to_item(&record).unwrap();
        assert_eq!(item.attributes(), &expected);
        assert_eq!(item.into_attributes()["id"], AttributeValue::N("7".into()));
    }

    /// Each would be a ValidationException from DynamoDB on every delivery: refused up front instead.
    #[test]
    fn values_dynamodb_refuses_are_found_with_their_field() {
        let nested = |depth: usize| (0..depth).fold(json!(1), |inner, _| json!({ "a": inner }));
        assert_eq!(refusal(json!({"id": 1, "meta": nested(31)})), None, "31 maps inside each other are fine");
        let (field, problem) = refusal(json!({"id": 1, "meta": nested(32)})).unwrap();
        assert_eq!((field.matches(".a").count(), problem), (31, "values nested more than 32 levels deep"));
        assert_eq!(refusal(json!({"id": 1, "l": [[[[]]]]})), None);
        let lists = |depth: usize| (0..depth).fold(json!(1), |inner, _| json!([inner]));
        assert_eq!(refusal(json!({ "v": lists(31) })), None);
        assert!(refusal(json!({ "v": lists(32) })).is_some());

        assert_eq!(refusal(json!({"id": 1, "meta": {"": 1}})), Some(("meta.".into(), "an empty field name")));
        assert_eq!(refusal(json!({"id": 1, "": 1})).map(|(field, _)| field), Some(String::new()));
        assert_eq!(refusal(json!({"q": [{"x": {"": []}}]})).map(|(field, _)| field), Some("q[0].x.".into()));

        for fine in [json!(0), json!(-1.5), json!(1e125), json!(1.5e-129), json!(u64::MAX), json!(i64::MIN), json!(0.1)]
        {
            assert_eq!(refusal(json!({ "n": fine })), None, "{fine}");
        }
        for huge in [json!(1e126), json!(-1e300), json!(1e-131), json!(5e-324), json!(f64::MAX)] {
            let (field, problem) = refusal(json!({ "call": { "duration": huge } })).unwrap();
            assert_eq!(field, "call.duration", "{huge}");
            assert!(problem.starts_with("a number outside its range"), "{huge}");
        }
    }
}
