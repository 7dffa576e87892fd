//! A text as 2X sends it and as we may send it. The body of 2X's CRM Send Text webhook is read leniently and
//! losslessly: `id`, `record_phone_number` and `message` are required with a usable value; `type` is read when it
//! is a string; every field is kept as sent. Then who may be texted: a number of a country the customer texts
//! (`ALLOWED_COUNTRIES`, by default the default country alone) and of a kind a lead's own phone can be. Any other
//! valid number is refused before any AWS call: a leaked token, or a bug upstream, must not become texts to
//! premium-rate or foreign numbers (SMS pumping) that the customer pays for.

use crate::sms::SmsText;
use serde_json::Value;
use std::borrow::Cow;
use webhook::error::{Refusal, WebhookError};
use webhook::payload::{Fields, WebhookId, required_id, required_phone, required_text, text_of};
use webhook::phone::{CountryCode, LineType, PhoneNumber};

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

    /// As a metric's `text_type` dimension ([`webhook::metrics::text_type_dimension`]).
    pub fn dimension(&self) -> &'static str {
        webhook::metrics::text_type_dimension(self.as_str())
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

/// The number to text, in E.164, and the SMS: 422 naming the field when `record_phone_number` is not a number or
/// may not be texted (`recipients`), or `message` is not an SMS SNS accepts.
pub fn recipient_and_sms<'m>(
    record_phone_number: &str,
    message: &'m str,
    default_country: CountryCode,
    recipients: &AllowedRecipients,
) -> Result<(PhoneNumber, SmsText<'m>), WebhookError> {
    let unprocessable = |message: String, field: &str, refusal| WebhookError::Unprocessable {
        message,
        field: Some(field.to_owned()),
        refusal,
    };
    let to = PhoneNumber::parse(record_phone_number, default_country)
        .map_err(|error| unprocessable(error.to_string(), "record_phone_number", Refusal::InvalidPhone))?;
    recipients
        .check(&to)
        .map_err(|error| unprocessable(error.to_string(), "record_phone_number", Refusal::PhoneNotAllowed))?;
    let sms = SmsText::parse(message)
        .map_err(|error| unprocessable(error.to_string(), "message", Refusal::InvalidMessage))?;
    Ok((to, sms))
}

/// The countries whose numbers may be texted (`ALLOWED_COUNTRIES`, read by `config`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedRecipients {
    countries: Vec<CountryCode>,
}

/// Why a valid number may not be texted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NotAllowed {
    #[error("the phone number is of a country this receiver does not text (ALLOWED_COUNTRIES)")]
    Country,
    #[error("the phone number is {0}, not a lead's own phone")]
    Kind(&'static str),
}

impl AllowedRecipients {
    pub fn new(countries: Vec<CountryCode>) -> Self {
        Self { countries }
    }

    /// Whether `phone` may be texted.
    pub fn check(&self, phone: &PhoneNumber) -> Result<(), NotAllowed> {
        if !phone.country().is_some_and(|country| self.countries.contains(&country)) {
            return Err(NotAllowed::Country);
        }
        match phone.line_type() {
            LineType::Mobile
            | LineType::FixedLine
            | LineType::FixedLineOrMobile
            | LineType::Voip
            | LineType::PersonalNumber => Ok(()),
            LineType::TollFree => Err(NotAllowed::Kind("a toll-free number")),
            LineType::PremiumRate => Err(NotAllowed::Kind("a premium-rate number")),
            LineType::SharedCost => Err(NotAllowed::Kind("a shared-cost number")),
            _ => Err(NotAllowed::Kind("a service number")),
        }
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

    fn allowed(countries: &[CountryCode]) -> AllowedRecipients {
        AllowedRecipients::new(countries.to_vec())
    }

    fn check(allowed: &AllowedRecipients, raw: &str) -> Result<(), NotAllowed> {
        allowed.check(&PhoneNumber::parse(raw, CountryCode::US).unwrap_or_else(|error| panic!("{raw}: {error}")))
    }

    #[test]
    fn only_numbers_of_the_allowed_countries_are_texted() {
        let us = allowed(&[CountryCode::US]);
        assert_eq!(check(&us, "2025550143"), Ok(()));
        assert_eq!(check(&us, "+44 7400 123456"), Err(NotAllowed::Country));
        assert_eq!(check(&us, "+1 416 555 0143"), Err(NotAllowed::Country), "Canada shares +1");
        let more = allowed(&[CountryCode::US, CountryCode::CA, CountryCode::GB]);
        assert_eq!(check(&more, "+1 416 555 0143"), Ok(()));
        assert_eq!(check(&more, "+44 7400 123456"), Ok(()));
        assert_eq!(check(&more, "+33 6 12 34 56 78"), Err(NotAllowed::Country));
    }

    #[test]
    fn only_the_kinds_of_number_a_leads_phone_can_be_are_texted() {
        // Example numbers of each kind from libphonenumber's metadata.
        let allowed = allowed(&[CountryCode::US, CountryCode::GB, CountryCode::ES]);
        assert_eq!(check(&allowed, "+1 201 555 0123"), Ok(()), "a US fixed line or mobile");
        assert_eq!(check(&allowed, "+1 500 234 5678"), Ok(()), "a US personal number");
        assert_eq!(check(&allowed, "+1 900 234 5678"), Err(NotAllowed::Kind("a premium-rate number")));
        assert_eq!(check(&allowed, "+1 800 234 5678"), Err(NotAllowed::Kind("a toll-free number")));
        assert_eq!(check(&allowed, "+44 7400 123456"), Ok(()), "a UK mobile");
        assert_eq!(check(&allowed, "+44 20 7946 0018"), Ok(()), "a UK fixed line");
        assert_eq!(check(&allowed, "+44 56 1234 5678"), Ok(()), "a UK VoIP number");
        assert_eq!(check(&allowed, "+44 70 1234 5678"), Ok(()), "a UK personal number");
        assert_eq!(check(&allowed, "+44 901 234 5678"), Err(NotAllowed::Kind("a premium-rate number")));
        assert_eq!(check(&allowed, "+44 7640 123456"), Err(NotAllowed::Kind("a service number")), "a UK pager");
        assert_eq!(check(&allowed, "+44 55 1234 5678"), Err(NotAllowed::Kind("a service number")), "a UK UAN");
        assert_eq!(check(&allowed, "+34 901 123 456"), Err(NotAllowed::Kind("a shared-cost number")));
    }
}
