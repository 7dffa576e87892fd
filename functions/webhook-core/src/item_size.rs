//! The size DynamoDB counts for an item, and the values it refuses in any item.

use serde::Serialize;
use serde::ser::{self, Impossible};
use std::borrow::Cow;
use std::fmt;

/// A value DynamoDB refuses in any item (a ValidationException), so no retry could ever store the record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("DynamoDB cannot store {problem}")]
pub struct UnstorableValue {
    /// Where, as `name.name[index]`.
    pub field: String,
    pub problem: &'static str,
}

/// DynamoDB's deepest nesting: a top-level attribute counts as level 1, so 31 lists or maps inside each other.
const MAX_NESTED_CONTAINERS: usize = 31;

/// The size DynamoDB counts for an item (the 400 KB limit, the capacity billed), computed with AWS's
/// published rules: attribute names and values in UTF-8 bytes, numbers about one byte per two digits plus one,
/// 1 byte for booleans and nulls, 3 bytes per list or map plus 1 per element. Or the first value DynamoDB
/// would refuse: an empty field name, nesting deeper than 32 levels, a number outside its range.
///
/// `record` is measured as serde_dynamo would write it, without building the item ([`ItemSize`]); only when
/// that finds a value DynamoDB refuses is the item built, to name the field.
pub fn dynamodb_item_size(record: &(impl Serialize + ?Sized)) -> Result<usize, UnstorableValue> {
    record.serialize(ItemSize).or_else(|Refused| walked_size(record))
}

/// [`dynamodb_item_size`] by building serde_dynamo's item and walking it: slower, but it can say where.
fn walked_size(record: &(impl Serialize + ?Sized)) -> Result<usize, UnstorableValue> {
    use serde_dynamo::AttributeValue;

    fn value_size(value: &AttributeValue, field: &mut String, containers: usize) -> Result<usize, UnstorableValue> {
        let refuse = |field: &String, problem| Err(UnstorableValue { field: field.clone(), problem });
        if matches!(value, AttributeValue::L(_) | AttributeValue::M(_)) && containers >= MAX_NESTED_CONTAINERS {
            return refuse(field, "values nested more than 32 levels deep");
        }
        let size = match value {
            AttributeValue::S(text) => text.len(),
            AttributeValue::N(number) => number_size(number).map_or_else(|| refuse(field, NUMBER_RANGE), Ok)?,
            AttributeValue::B(bytes) => bytes.len(),
            AttributeValue::Bool(_) | AttributeValue::Null(_) => 1,
            AttributeValue::L(list) => {
                let mut size = 3;
                for (index, element) in list.iter().enumerate() {
                    let parent = field.len();
                    field.push_str(&format!("[{index}]"));
                    size += value_size(element, field, containers + 1)? + 1;
                    field.truncate(parent);
                }
                size
            }
            AttributeValue::M(map) => 3 + fields_size(map.iter(), field, containers + 1)?,
            AttributeValue::Ss(texts) => texts.iter().map(String::len).sum(),
            AttributeValue::Ns(numbers) => numbers
                .iter()
                .map(|n| number_size(n))
                .sum::<Option<usize>>()
                .map_or_else(|| refuse(field, NUMBER_RANGE), Ok)?,
            AttributeValue::Bs(blobs) => blobs.iter().map(Vec::len).sum(),
        };
        Ok(size)
    }

    fn fields_size<'a>(
        fields: impl Iterator<Item = (&'a String, &'a AttributeValue)>,
        field: &mut String,
        containers: usize,
    ) -> Result<usize, UnstorableValue> {
        let mut size = 0;
        for (name, value) in fields {
            let parent = field.len();
            if parent > 0 {
                field.push('.');
            }
            field.push_str(name);
            if name.is_empty() {
                return Err(UnstorableValue { field: field.clone(), problem: "an empty field name" });
            }
            size += name.len() + value_size(value, field, containers)? + usize::from(containers > 0);
            field.truncate(parent);
        }
        Ok(size)
    }

    let item: serde_dynamo::Item = serde_dynamo::to_item(record)
        .map_err(|_| UnstorableValue { field: String::new(), problem: "a record that is not a map of fields" })?;
    fields_size(item.inner().iter(), &mut String::new(), 0)
}

const NUMBER_RANGE: &str = "a number outside its range (38 significant digits, magnitude 1E-130 to 1E+126)";

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

/// The size of a number as serde_dynamo writes it (`to_string`), formatted on the stack when it fits.
fn formatted_number_size(number: impl fmt::Display) -> Result<usize, Refused> {
    use std::io::Write;
    let mut buffer = [0u8; 64];
    let mut free = &mut buffer[..];
    let text = match write!(free, "{number}") {
        Ok(()) => {
            let used = 64 - free.len();
            std::str::from_utf8(&buffer[..used]).map(Cow::Borrowed).map_err(|_| Refused)?
        }
        Err(_) => Cow::Owned(number.to_string()),
    };
    number_size(&text).ok_or(Refused)
}

/// Something [`ItemSize`] does not count: a value DynamoDB refuses, or a shape serde_dynamo would not write as
/// an item. [`walked_size`] then says which, and where.
#[derive(Debug)]
struct Refused;

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("not countable")
    }
}

impl std::error::Error for Refused {}

impl ser::Error for Refused {
    fn custom<T: fmt::Display>(_: T) -> Self {
        Refused
    }
}

/// Serialises an item (a struct or map at the top) to its DynamoDB size alone, mirroring serde_dynamo's
/// mapping; nothing is allocated except numbers too long for the stack.
struct ItemSize;

/// Serialises one attribute value to its size; `containers` lists and maps hold it (0 for an item's own
/// attributes).
#[derive(Clone, Copy)]
struct ValueSize {
    containers: usize,
}

/// The fields of an item (no overhead) or of a map value (3 bytes, plus 1 per field).
struct FieldsSize {
    /// Where the fields' values sit.
    containers: usize,
    nested: bool,
    size: usize,
}

/// The elements of a list (3 bytes, plus 1 per element).
struct ElementsSize {
    containers: usize,
    size: usize,
}

impl ValueSize {
    /// A list or map may sit here only above DynamoDB's deepest nesting.
    fn container(self) -> Result<(), Refused> {
        if self.containers >= MAX_NESTED_CONTAINERS {
            return Err(Refused);
        }
        Ok(())
    }
}

impl FieldsSize {
    fn field(&mut self, name_len: usize, value: &(impl Serialize + ?Sized)) -> Result<(), Refused> {
        if name_len == 0 {
            return Err(Refused);
        }
        let value = value.serialize(ValueSize { containers: self.containers })?;
        self.size += name_len + value + usize::from(self.nested);
        Ok(())
    }

    fn total(self) -> usize {
        self.size + if self.nested { 3 } else { 0 }
    }
}

impl ElementsSize {
    fn element(&mut self, value: &(impl Serialize + ?Sized)) -> Result<(), Refused> {
        self.size += value.serialize(ValueSize { containers: self.containers })? + 1;
        Ok(())
    }
}

/// Variants that carry data: serde_dynamo wraps them in a one-field map. No record of ours has one, so they
/// are left to [`walked_size`].
macro_rules! refuse_variants {
    () => {
        fn serialize_newtype_variant<T: Serialize + ?Sized>(
            self,
            _: &'static str,
            _: u32,
            _: &'static str,
            _: &T,
        ) -> Result<usize, Refused> {
            Err(Refused)
        }
        fn serialize_tuple_variant(
            self,
            _: &'static str,
            _: u32,
            _: &'static str,
            _: usize,
        ) -> Result<Self::SerializeTupleVariant, Refused> {
            Err(Refused)
        }
        fn serialize_struct_variant(
            self,
            _: &'static str,
            _: u32,
            _: &'static str,
            _: usize,
        ) -> Result<Self::SerializeStructVariant, Refused> {
            Err(Refused)
        }
    };
}

/// Lists, which neither an item nor a key can be.
macro_rules! refuse_lists {
    () => {
        fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, Refused> {
            Err(Refused)
        }
        fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, Refused> {
            Err(Refused)
        }
        fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeTupleStruct, Refused> {
            Err(Refused)
        }
    };
}

/// A map key: serde_dynamo's item keys are strings.
struct KeySize;

macro_rules! refuse {
    ($($method:ident($($arg:ty),*)),* $(,)?) => {
        $(fn $method(self, $(_: $arg),*) -> Result<Self::Ok, Refused> { Err(Refused) })*
    };
}

impl ser::Serializer for KeySize {
    type Ok = usize;
    type Error = Refused;
    type SerializeSeq = Impossible<usize, Refused>;
    type SerializeTuple = Impossible<usize, Refused>;
    type SerializeTupleStruct = Impossible<usize, Refused>;
    type SerializeTupleVariant = Impossible<usize, Refused>;
    type SerializeMap = Impossible<usize, Refused>;
    type SerializeStruct = Impossible<usize, Refused>;
    type SerializeStructVariant = Impossible<usize, Refused>;

    fn serialize_str(self, key: &str) -> Result<usize, Refused> {
        Ok(key.len())
    }
    refuse!(
        serialize_bool(bool),
        serialize_i8(i8),
        serialize_i16(i16),
        serialize_i32(i32),
        serialize_i64(i64),
        serialize_u8(u8),
        serialize_u16(u16),
        serialize_u32(u32),
        serialize_u64(u64),
        serialize_f32(f32),
        serialize_f64(f64),
        serialize_char(char),
        serialize_bytes(&[u8]),
        serialize_none(),
        serialize_unit(),
        serialize_unit_struct(&'static str),
        serialize_unit_variant(&'static str, u32, &'static str),
    );
    fn serialize_some<T: Serialize + ?Sized>(self, _: &T) -> Result<usize, Refused> {
        Err(Refused)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _: &'static str, key: &T) -> Result<usize, Refused> {
        key.serialize(self)
    }
    refuse_lists!();
    refuse_variants!();
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, Refused> {
        Err(Refused)
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeStruct, Refused> {
        Err(Refused)
    }
}

impl ser::Serializer for ItemSize {
    type Ok = usize;
    type Error = Refused;
    type SerializeSeq = Impossible<usize, Refused>;
    type SerializeTuple = Impossible<usize, Refused>;
    type SerializeTupleStruct = Impossible<usize, Refused>;
    type SerializeTupleVariant = Impossible<usize, Refused>;
    type SerializeMap = MapSize;
    type SerializeStruct = FieldsSize;
    type SerializeStructVariant = Impossible<usize, Refused>;

    fn serialize_map(self, _: Option<usize>) -> Result<MapSize, Refused> {
        Ok(MapSize { fields: FieldsSize { containers: 0, nested: false, size: 0 }, key_len: None })
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<FieldsSize, Refused> {
        Ok(FieldsSize { containers: 0, nested: false, size: 0 })
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _: &'static str, item: &T) -> Result<usize, Refused> {
        item.serialize(self)
    }
    fn serialize_some<T: Serialize + ?Sized>(self, item: &T) -> Result<usize, Refused> {
        item.serialize(self)
    }
    refuse!(
        serialize_bool(bool),
        serialize_i8(i8),
        serialize_i16(i16),
        serialize_i32(i32),
        serialize_i64(i64),
        serialize_u8(u8),
        serialize_u16(u16),
        serialize_u32(u32),
        serialize_u64(u64),
        serialize_f32(f32),
        serialize_f64(f64),
        serialize_char(char),
        serialize_str(&str),
        serialize_bytes(&[u8]),
        serialize_none(),
        serialize_unit(),
        serialize_unit_struct(&'static str),
        serialize_unit_variant(&'static str, u32, &'static str),
    );
    refuse_lists!();
    refuse_variants!();
}

impl ser::Serializer for ValueSize {
    type Ok = usize;
    type Error = Refused;
    type SerializeSeq = ElementsSize;
    type SerializeTuple = ElementsSize;
    type SerializeTupleStruct = ElementsSize;
    type SerializeTupleVariant = Impossible<usize, Refused>;
    type SerializeMap = MapSize;
    type SerializeStruct = FieldsSize;
    type SerializeStructVariant = Impossible<usize, Refused>;

    fn serialize_bool(self, _: bool) -> Result<usize, Refused> {
        Ok(1)
    }
    fn serialize_i8(self, value: i8) -> Result<usize, Refused> {
        formatted_number_size(value)
    }
    fn serialize_i16(self, value: i16) -> Result<usize, Refused> {
        formatted_number_size(value)
    }
    fn serialize_i32(self, value: i32) -> Result<usize, Refused> {
        formatted_number_size(value)
    }
    fn serialize_i64(self, value: i64) -> Result<usize, Refused> {
        formatted_number_size(value)
    }
    fn serialize_u8(self, value: u8) -> Result<usize, Refused> {
        formatted_number_size(value)
    }
    fn serialize_u16(self, value: u16) -> Result<usize, Refused> {
        formatted_number_size(value)
    }
    fn serialize_u32(self, value: u32) -> Result<usize, Refused> {
        formatted_number_size(value)
    }
    fn serialize_u64(self, value: u64) -> Result<usize, Refused> {
        formatted_number_size(value)
    }
    fn serialize_f32(self, value: f32) -> Result<usize, Refused> {
        formatted_number_size(value)
    }
    fn serialize_f64(self, value: f64) -> Result<usize, Refused> {
        formatted_number_size(value)
    }
    fn serialize_char(self, value: char) -> Result<usize, Refused> {
        Ok(value.len_utf8())
    }
    fn serialize_str(self, value: &str) -> Result<usize, Refused> {
        Ok(value.len())
    }
    fn serialize_bytes(self, value: &[u8]) -> Result<usize, Refused> {
        Ok(value.len())
    }
    // serde_dynamo writes these as NULL.
    fn serialize_none(self) -> Result<usize, Refused> {
        Ok(1)
    }
    fn serialize_unit(self) -> Result<usize, Refused> {
        Ok(1)
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<usize, Refused> {
        Ok(1)
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, variant: &'static str) -> Result<usize, Refused> {
        Ok(variant.len())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<usize, Refused> {
        value.serialize(self)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, name: &'static str, value: &T) -> Result<usize, Refused> {
        // serde_dynamo's sets travel as newtype structs with reserved names; this project writes none.
        if name.starts_with('\u{037E}') {
            return Err(Refused);
        }
        value.serialize(self)
    }
    refuse_variants!();
    fn serialize_seq(self, _: Option<usize>) -> Result<ElementsSize, Refused> {
        self.container()?;
        Ok(ElementsSize { containers: self.containers + 1, size: 3 })
    }
    fn serialize_tuple(self, len: usize) -> Result<ElementsSize, Refused> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(self, _: &'static str, len: usize) -> Result<ElementsSize, Refused> {
        self.serialize_seq(Some(len))
    }
    fn serialize_map(self, _: Option<usize>) -> Result<MapSize, Refused> {
        Ok(MapSize { fields: self.serialize_struct("", 0)?, key_len: None })
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<FieldsSize, Refused> {
        self.container()?;
        Ok(FieldsSize { containers: self.containers + 1, nested: true, size: 0 })
    }
}

impl ser::SerializeSeq for ElementsSize {
    type Ok = usize;
    type Error = Refused;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Refused> {
        self.element(value)
    }
    fn end(self) -> Result<usize, Refused> {
        Ok(self.size)
    }
}

impl ser::SerializeTuple for ElementsSize {
    type Ok = usize;
    type Error = Refused;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Refused> {
        self.element(value)
    }
    fn end(self) -> Result<usize, Refused> {
        Ok(self.size)
    }
}

impl ser::SerializeTupleStruct for ElementsSize {
    type Ok = usize;
    type Error = Refused;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Refused> {
        self.element(value)
    }
    fn end(self) -> Result<usize, Refused> {
        Ok(self.size)
    }
}

impl ser::SerializeStruct for FieldsSize {
    type Ok = usize;
    type Error = Refused;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, name: &'static str, value: &T) -> Result<(), Refused> {
        self.field(name.len(), value)
    }
    fn end(self) -> Result<usize, Refused> {
        Ok(self.total())
    }
}

/// A map's fields; its keys arrive apart from their values.
struct MapSize {
    fields: FieldsSize,
    key_len: Option<usize>,
}

impl ser::SerializeMap for MapSize {
    type Ok = usize;
    type Error = Refused;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Refused> {
        self.key_len = Some(key.serialize(KeySize)?);
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Refused> {
        let key_len = self.key_len.take().ok_or(Refused)?;
        self.fields.field(key_len, value)
    }
    fn end(self) -> Result<usize, Refused> {
        Ok(self.fields.total())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::payload::{PostCall, SendText};
    use crate::phone::{CountryCode, PhoneNumber};
    use crate::records::{CallRecord, TextClaimRecord};
    use proptest::prelude::*;
    use serde_json::{Value, json};
    use time::OffsetDateTime;

    /// The counter and the walk over serde_dynamo's item agree: the same size, or both refuse.
    fn assert_agree(record: &(impl Serialize + fmt::Debug)) {
        let counted = record.serialize(ItemSize).ok();
        let walked = walked_size(record).ok();
        assert_eq!(counted, walked, "{record:?}");
    }

    fn any_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            any::<f64>().prop_map(|n| serde_json::Number::from_f64(n).map_or(Value::Null, Value::Number)),
            prop_oneof![Just(0.0), Just(1e125), Just(1e126), Just(1.5e-129), Just(1e-131), Just(100.5)]
                .prop_map(Value::from),
            prop_oneof![any::<String>(), Just(String::new()), Just("😀 ".repeat(10))].prop_map(Value::from),
        ];
        leaf.prop_recursive(6, 64, 5, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..5).prop_map(Value::from),
                proptest::collection::vec(("[a-z]{0,3}", inner), 0..5)
                    .prop_map(|fields| Value::Object(fields.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 3_000, ..ProptestConfig::default() })]
        #[test]
        fn counting_agrees_with_the_built_item(fields in proptest::collection::vec(("[a-z]{0,4}", any_json()), 0..6)) {
            assert_agree(&Value::Object(fields.into_iter().collect()));
        }
    }

    #[test]
    fn counting_agrees_at_the_nesting_limit() {
        for depth in 29..=33 {
            let maps = (0..depth).fold(json!(1), |inner, _| json!({ "a": inner }));
            let lists = (0..depth).fold(json!(1), |inner, _| json!([inner]));
            let mixed =
                (0..depth).fold(json!(1), |inner, n| if n % 2 == 0 { json!([inner]) } else { json!({"b": inner}) });
            for value in [maps, lists, mixed] {
                assert_agree(&json!({ "v": value }));
            }
        }
    }

    #[test]
    fn counting_agrees_on_the_records_we_store() {
        let sample = |name: &str| -> Value {
            let path = format!("{}/../../events/{name}.json", env!("CARGO_MANIFEST_DIR"));
            let event: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
            serde_json::from_str(event["body"].as_str().unwrap()).unwrap()
        };
        let now = OffsetDateTime::UNIX_EPOCH;
        let phone = PhoneNumber::parse("+12025550143", CountryCode::US).unwrap();
        for name in ["post-call-transferred", "post-call-failure-reason", "post-call-no-answer"] {
            let call: PostCall = serde_json::from_value(sample(name)).unwrap();
            assert_agree(&CallRecord::new(call, Some(&phone), now, None));
        }
        let mut call: PostCall = serde_json::from_value(sample("post-call-transferred")).unwrap();
        call.transcript = Some(vec![]);
        let mut compressed = CallRecord::new(call, None, now, None);
        compressed.transcript_gzip = Some(serde_bytes::ByteBuf::from(vec![0x1f, 0x8b, 0, 1]));
        compressed.transcript_compressed = Some(true);
        assert_agree(&compressed);
        for name in ["send-text-pre-call", "send-text-post-voicemail"] {
            let text: SendText = serde_json::from_value(sample(name)).unwrap();
            assert_agree(&TextClaimRecord::new(text, &phone, "request-1", now, None));
        }
    }

    #[test]
    fn item_size_follows_dynamodbs_rules() {
        // "id" (2) + 1 digit (2); "name" (4) + "Ann" (3); "ok" (2) + 1.
        assert_eq!(dynamodb_item_size(&json!({"id": 7, "name": "Ann", "ok": true})), Ok(2 + 2 + 4 + 3 + 2 + 1));
        // "id" (2) + 20 significant digits (11).
        assert_eq!(dynamodb_item_size(&json!({"id": 12345678901234567890u64})), Ok(2 + 11));
        // "t" (1) + list: 3 + one map (3 + "role" 4 + "User" 4 + 1) + 1.
        assert_eq!(dynamodb_item_size(&json!({"t": [{"role": "User"}]})), Ok(1 + 3 + (3 + 4 + 4 + 1) + 1));
        assert!(dynamodb_item_size(&json!("not an item")).is_err());
    }

    fn refusal(item: serde_json::Value) -> Option<(String, &'static str)> {
        dynamodb_item_size(&item).err().map(|refused| (refused.field, refused.problem))
    }

    /// Each would be a ValidationException from DynamoDB on every delivery: refused up front instead.
    #[test]
    fn values_dynamodb_refuses_are_found_with_their_field() {
        let nested = |depth: usize| (0..depth).fold(json!(1), |inner, _| json!({ "a": inner }));
        assert_eq!(refusal(json!({"id": 1, "meta": nested(31)})), None, "31 maps inside each other are fine");
        let (field, problem) = refusal(json!({"id": 1, "meta": nested(32)})).unwrap();
        assert_eq!((field.matches(".a").count(), problem), (31, "values nested more than 32 levels deep"));
        assert_eq!(refusal(json!({"id": 1, "l": [[[[]]]]})), None);

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
