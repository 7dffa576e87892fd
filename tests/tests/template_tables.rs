//! The attributes the template gives a meaning to (the TTL attribute, every key of an index, and the suppression
//! list's key, which is our normalised number) are ones the functions write themselves, so a sender's field of
//! the same name is set aside and can never set them. (The other tables' key is the webhook's own `id`.)

use calls::record::CallRecord;
use integration_tests::{Error, Table, Template};
use serde_yaml_ng::Value;
use sms_delivery_status::ports::DELIVERY_ATTRIBUTES;
use texts::ledger::TextClaimRecord;
use webhook::opt_out::OptOutRecord;

fn names_under(value: Option<&Value>, key: &str) -> Vec<String> {
    value
        .and_then(Value::as_sequence)
        .into_iter()
        .flatten()
        .filter_map(|item| item.get(key).and_then(Value::as_str).map(str::to_owned))
        .collect()
}

#[test]
fn the_ttl_and_index_keys_are_attributes_we_write() -> Result<(), Error> {
    let template = Template::load()?;
    let tables = [
        (Table::Calls, CallRecord::ATTRIBUTES),
        (Table::SentTexts, TextClaimRecord::ATTRIBUTES),
        (Table::OptOuts, OptOutRecord::ATTRIBUTES),
    ];
    for (table, ours) in tables {
        let properties = template.properties(table.resource())?;
        let ttl = properties.get("TimeToLiveSpecification").and_then(|ttl| ttl.get("AttributeName"));
        let mut meaningful: Vec<String> = ttl.and_then(Value::as_str).map(str::to_owned).into_iter().collect();
        if table == Table::OptOuts {
            meaningful.extend(names_under(properties.get("KeySchema"), "AttributeName"));
        }
        for index in properties.get("GlobalSecondaryIndexes").and_then(Value::as_sequence).into_iter().flatten() {
            meaningful.extend(names_under(index.get("KeySchema"), "AttributeName"));
        }
        assert!(!meaningful.is_empty(), "{table:?}: no TTL or index found");
        for name in meaningful {
            assert!(ours.contains(&name.as_str()), "{table:?}: {name} could be set by a sender's body");
        }
    }
    Ok(())
}

/// sms-delivery-status sets its attributes on send-text's items: send-text must treat them as its own.
#[test]
fn the_delivery_attributes_are_sent_texts_own() {
    for name in DELIVERY_ATTRIBUTES {
        assert!(TextClaimRecord::ATTRIBUTES.contains(&name), "{name} could be set by a sender's body");
    }
    // sms-delivery-status reads back the parts send-text kept (it does not depend on the text work).
    assert_eq!(sms_delivery_status::ports::SMS_PARTS, texts::ledger::SMS_PARTS);
}
