//! The two webhook bodies 2X sends, parsed leniently and losslessly.
//!
//! 2X's documents contradict themselves (see `../shared/seeds/README.md`), so: only `id` is required
//! everywhere; `type`, `end_reason` and `failure_reason` are open sets; every field we do not know is kept in
//! `extra` and stored again as it came.

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Number, Value};
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
macro_rules! open_set {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $wire:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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

open_set!(
    /// `type` of a send-text webhook.
    TextType { PreCall => "pre-call", PostVoicemail => "post-voicemail" }
);

open_set!(
    /// `call.end_reason` of a post-call webhook. 2X's own sample sends `transferred`, which lands in `Other`.
    EndReason {
        CallTransferred => "call_transferred",
        ScheduleCallBack => "schedule_call_back",
        NotInterested => "not_interested",
        DoNotCall => "do_not_call",
        WrongNumber => "wrong_number",
        EndCall => "end_call",
        HungUp => "hung_up",
        VoicemailDetected => "voicemail_detected",
        NoAnswer => "no_answer",
    }
);

open_set!(
    /// `call.failure_reason` of a post-call webhook.
    FailureReason {
        InvalidNumber => "invalid_number",
        NumberNoService => "number_no_service",
        Unreachable => "unreachable",
    }
);

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

/// Body of the CRM Send Text webhook.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SendText {
    pub id: WebhookId,
    /// As 2X sent it: E.164 or a bare national number; normalised by [`crate::phone::PhoneNumber`].
    pub record_phone_number: String,
    pub message: String,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub text_type: Option<TextType>,
    #[serde(flatten)]
    pub lead: LeadFields,
    /// Fields 2X may add that we do not know yet.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Body of the Post-Call webhook.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PostCall {
    pub id: WebhookId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call: Option<CallDetails>,
    /// Answers to the script's questions, as 2X sent them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub question_fields: Option<Map<String, Value>>,
    /// Set when a voicemail was left (`"Y"`/`"N"` in 2X's sample).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_left: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record_phone_number: Option<String>,
    /// Only for answered calls.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transcript: Option<Vec<TranscriptTurn>>,
    #[serde(flatten)]
    pub lead: LeadFields,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallDetails {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_reason: Option<EndReason>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_reason: Option<FailureReason>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub telnyx_call_control_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answered: Option<bool>,
    /// Seconds; kept as the exact number sent (integer or not).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<Number>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call_direction: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TranscriptTurn {
    pub role: String,
    pub content: String,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl PostCall {
    pub fn end_reason(&self) -> Option<&EndReason> {
        self.call.as_ref()?.end_reason.as_ref()
    }
}
