//! The body of 2X's CRM Send Text webhook, read leniently and losslessly: `id`, `record_phone_number` and
//! `message` are required with a usable value; `type` is read when it is a string; every field is kept as sent.

use serde_json::Value;
use std::borrow::Cow;
use webhook::error::WebhookError;
use webhook::payload::{Fields, WebhookId, required_id, required_phone, required_text, text_of};

/// `type` of a send-text webhook, an open set: what sets a text's maximum age on the queue, and, with its id,
/// which text it is (a pre-call text and the post-voicemail text after that call may share an id).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TextType {
    PreCall,
    PostVoicemail,
    /// A value 2X's documents do not list: its words, trimmed and lower-cased (JSON other than a string: its
    /// JSON text), at most [`TextType::MAX_BYTES`].
    Other(String),
    /// No `type`, or an empty one.
    Unspecified,
}

impl TextType {
    /// The longest `type` kept as a text's key (a DynamoDB sort key holds at most 1,024 bytes).
    pub const MAX_BYTES: usize = 256;

    /// Reads `type` as sent: `Pre-Call ` is `pre-call`.
    pub fn read(value: Option<&Value>) -> Self {
        let words: Cow<'_, str> = match value {
            None | Some(Value::Null) => return Self::Unspecified,
            Some(Value::String(_)) => match text_of(value) {
                Some(text) => Cow::Owned(text.to_lowercase()),
                None => return Self::Unspecified,
            },
            Some(other) => Cow::Owned(other.to_string()),
        };
        match &*words {
            "pre-call" => Self::PreCall,
            "post-voicemail" => Self::PostVoicemail,
            "unspecified" => Self::Unspecified,
            other => Self::Other(clip(other, Self::MAX_BYTES).to_owned()),
        }
    }

    /// As a text's key and the summary line's `kind`.
    pub fn as_str(&self) -> &str {
        match self {
            Self::PreCall => "pre-call",
            Self::PostVoicemail => "post-voicemail",
            Self::Other(words) => words,
            Self::Unspecified => "unspecified",
        }
    }
}

/// The longest start of `text` of at most `bytes` bytes that ends on a character.
fn clip(text: &str, bytes: usize) -> &str {
    let end = (0..=bytes.min(text.len())).rev().find(|&end| text.is_char_boundary(end)).unwrap_or(0);
    &text[..end]
}

/// A CRM Send Text body: what send-text needs of it, and every field as sent.
#[derive(Debug, Clone, PartialEq)]
pub struct SendText {
    pub id: WebhookId,
    /// As 2X sent it (E.164, a bare national number, or its digits as a JSON number); normalised by
    /// [`webhook::phone::PhoneNumber`].
    pub record_phone_number: String,
    pub message: String,
    pub text_type: TextType,
    /// Every field as sent but `id` (stored as a number, the key).
    pub fields: Fields,
}

impl SendText {
    /// 400 naming `id`, `record_phone_number` or `message` when one is missing or of a type that cannot be used.
    pub fn read(mut fields: Fields) -> Result<Self, WebhookError> {
        let id = required_id(&fields)?;
        let record_phone_number = required_phone(&fields)?.into_owned();
        let message = required_text(&fields, "message")?.to_owned();
        let text_type = TextType::read(fields.get("type"));
        fields.remove("id");
        Ok(Self { id, record_phone_number, message, text_type, fields })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_type_is_read_as_any_sender_writes_it() {
        for (value, expected) in [
            (Some(json!("pre-call")), TextType::PreCall),
            (Some(json!(" Post-Voicemail ")), TextType::PostVoicemail),
            (Some(json!("Appointment Reminder")), TextType::Other("appointment reminder".into())),
            (Some(json!(2)), TextType::Other("2".into())),
            (Some(json!({"kind": "pre-call"})), TextType::Other(r#"{"kind":"pre-call"}"#.into())),
            (Some(json!("")), TextType::Unspecified),
            (Some(json!(null)), TextType::Unspecified),
            (None, TextType::Unspecified),
        ] {
            assert_eq!(TextType::read(value.as_ref()), expected, "{value:?}");
        }
        let long = TextType::read(Some(&json!("é".repeat(200))));
        assert_eq!(long.as_str().len(), TextType::MAX_BYTES, "clipped on a character");
    }

    #[test]
    fn the_fields_are_kept_as_sent_and_the_required_ones_read() {
        let body = json!({"id": "7", "record_phone_number": 2025550143u64, "message": "hi", "type": "pre-call",
            "workflow_day": "1", "meta": []});
        let text = SendText::read(body.as_object().cloned().unwrap()).unwrap();
        assert_eq!((text.id.get(), text.record_phone_number.as_str(), text.message.as_str()), (7, "2025550143", "hi"));
        assert_eq!(text.text_type, TextType::PreCall);
        assert_eq!(
            Value::Object(text.fields),
            json!({"record_phone_number": 2025550143u64, "message": "hi", "type": "pre-call", "workflow_day": "1",
                   "meta": []})
        );
    }
}
