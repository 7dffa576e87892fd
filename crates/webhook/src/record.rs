//! What every stored record shares: timestamps, the TTL attribute, and a sender's fields set aside when their
//! names are attributes we write, or names DynamoDB refuses at the top of an item.

use crate::config::Retention;
use crate::item::storable_name;
use serde_json::{Map, Value};
use std::time::Duration;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

pub fn rfc3339(at: OffsetDateTime) -> String {
    // Formatting a UTC OffsetDateTime as RFC 3339 only fails for years outside 0..=9999.
    at.format(&Rfc3339).unwrap_or_else(|_| at.unix_timestamp().to_string())
}

/// Epoch seconds `after` past `at`.
pub fn epoch_after(at: OffsetDateTime, after: Duration) -> i64 {
    at.unix_timestamp().saturating_add(i64::try_from(after.as_secs()).unwrap_or(i64::MAX))
}

/// The TTL attribute's value (`expires_at`, epoch seconds) when retention is configured.
pub fn expires_at(at: OffsetDateTime, retention: Option<Retention>) -> Option<i64> {
    retention.map(|retention| epoch_after(at, retention.duration()))
}

/// A sender's top-level fields whose names are attributes we write ourselves, or names DynamoDB refuses for an
/// attribute (empty, over 64 KB), kept under [`SHADOWED_FIELDS`] exactly as sent. Unknown fields are stored next
/// to ours, so without this a body could set the TTL (`expires_at`), an index key (`phone_e164`) or a sent text's
/// state, or have its whole record refused; and dropping them would lose what 2X sent.
pub type ShadowedFields = Map<String, Value>;

/// The map attribute holding a sender's fields that carry one of our attribute names (its own name included).
pub const SHADOWED_FIELDS: &str = "shadowed_fields";

/// Moves every field of `fields` named in `ours`, or with a name DynamoDB refuses, into the returned map (absent
/// when there is none). A name DynamoDB refuses there too makes that map stored as its JSON text
/// ([`crate::item::STORED_AS_JSON`]).
pub fn set_aside(fields: &mut Map<String, Value>, ours: &[&str]) -> Option<ShadowedFields> {
    let mut shadowed: ShadowedFields = ours.iter().filter_map(|name| fields.remove_entry(*name)).collect();
    if !fields.keys().all(|name| storable_name(name)) {
        let refused: Vec<String> = fields.keys().filter(|name| !storable_name(name)).cloned().collect();
        shadowed.extend(refused.into_iter().filter_map(|name| fields.remove_entry(&name)));
    }
    (!shadowed.is_empty()).then_some(shadowed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_the_named_fields_are_set_aside_as_sent() {
        let mut fields = json!({"status": {"x": 1}, "kept": 2, "shadowed_fields": 3}).as_object().unwrap().clone();
        let shadowed = set_aside(&mut fields, &["status", "absent", SHADOWED_FIELDS]).unwrap();
        assert_eq!(Value::Object(shadowed), json!({"status": {"x": 1}, "shadowed_fields": 3}));
        assert_eq!(Value::Object(fields.clone()), json!({"kept": 2}));
        assert_eq!(set_aside(&mut fields, &["status"]), None);

        let mut fields = json!({"": 1, "kept": 2}).as_object().unwrap().clone();
        assert_eq!(set_aside(&mut fields, &[]).map(Value::Object), Some(json!({"": 1})), "a name DynamoDB refuses");
        assert_eq!(Value::Object(fields), json!({"kept": 2}));
    }

    #[test]
    fn the_ttl_is_the_retention_after_the_time_given() {
        let at = OffsetDateTime::UNIX_EPOCH;
        assert_eq!(expires_at(at, Some(Retention::days(2))), Some(172_800));
        assert_eq!(expires_at(at, None), None);
        assert_eq!(rfc3339(at), "1970-01-01T00:00:00Z");
    }
}
