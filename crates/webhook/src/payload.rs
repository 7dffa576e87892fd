//! What 2X's webhook bodies share, parsed leniently and losslessly.
//!
//! 2X's documents contradict themselves (see `../shared/seeds/README.md`), so: only `id` is required
//! everywhere; enumerations are open sets ([`open_set!`]); every field we do not know is kept in each body's
//! `extra` and stored again as it came.

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};
use std::fmt;

/// The webhook's `id`: 2X's reference for the text or call, our idempotency key.
/// Accepts a non-negative integer or a string of ASCII digits; always stored as a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct WebhookId(u64);

impl WebhookId {
    pub const fn new(value: u64) -> Self {
        Self(value)
    }

    pub const fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for WebhookId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl Serialize for WebhookId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u64(self.0)
    }
}

impl<'de> Deserialize<'de> for WebhookId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct IdVisitor;

        impl Visitor<'_> for IdVisitor {
            type Value = WebhookId;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a non-negative integer or a string of digits")
            }

            fn visit_u64<E: de::Error>(self, value: u64) -> Result<WebhookId, E> {
                Ok(WebhookId(value))
            }

            fn visit_i64<E: de::Error>(self, value: i64) -> Result<WebhookId, E> {
                u64::try_from(value).map(WebhookId).map_err(|_| E::invalid_value(de::Unexpected::Signed(value), &self))
            }

            fn visit_str<E: de::Error>(self, value: &str) -> Result<WebhookId, E> {
                if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(E::invalid_value(de::Unexpected::Str(value), &self));
                }
                value.parse().map(WebhookId).map_err(|_| E::invalid_value(de::Unexpected::Str(value), &self))
            }
        }

        deserializer.deserialize_any(IdVisitor)
    }
}

/// Declares an open set of string values: the documented ones as variants, anything else kept verbatim.
#[macro_export]
macro_rules! open_set {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $wire:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
        pub enum $name {
            $(#[serde(rename = $wire)] $variant,)+
            /// A value 2X's documents do not list, kept exactly as received.
            #[serde(untagged)]
            Other(String),
        }

        impl $name {
            /// The value as 2X sent it.
            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => $wire,)+
                    Self::Other(value) => value,
                }
            }
        }
    };
}

/// The lead's fields and workflow position, common to both webhooks.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct LeadFields {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record_first_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record_last_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record_zip_code: Option<String>,
    /// A fixed offset such as `UTC-8`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record_timezone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Map<String, Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workflow_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workflow_day: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workflow_call: Option<u32>,
    /// Documented as "included when the workflow ends", yet sent as `false` too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workflow_end: Option<bool>,
}
