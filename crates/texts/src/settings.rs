//! What the text sender reads from the environment, send-text and the redrive alike: the sent-texts table, the
//! SMS attributes, who may be texted and how long a queued text may wait.

use crate::hours::{HoursError, TextHours};
use crate::text::{AllowedRecipients, TextType};
use std::time::Duration;
use webhook::config::{ConfigError, Env};
use webhook::phone::CountryCode;

/// The settings of the text work, read once by each function that sends texts.
#[derive(Debug, Clone)]
pub struct TextSettings {
    pub sent_texts_table: String,
    pub sms: SmsSettings,
    pub allowed_recipients: AllowedRecipients,
    pub queued_max_age: QueuedTextMaxAge,
    /// `TEXT_HOURS`, `TEXT_HOURS_STATE_RULES`: when a lead may be texted.
    pub hours: TextHours,
}

impl TextSettings {
    pub fn from_env<F: Fn(&str) -> Option<String>>(
        env: &Env<F>,
        default_country: CountryCode,
    ) -> Result<Self, ConfigError> {
        Ok(Self {
            sent_texts_table: env.required("SENT_TEXTS_TABLE")?,
            sms: SmsSettings::from_env(env)?,
            allowed_recipients: allowed_recipients(env, default_country)?,
            queued_max_age: QueuedTextMaxAge::from_env(env)?,
            hours: TextHours::parse(
                env.optional("TEXT_HOURS").as_deref(),
                env.optional("TEXT_HOURS_STATE_RULES").as_deref(),
            )
            .map_err(|error| match error {
                HoursError::Window => ConfigError::Invalid {
                    name: "TEXT_HOURS",
                    reason: "not `off` or HH:MM-HH:MM, the start before the end",
                },
                HoursError::StateRules => {
                    ConfigError::Invalid { name: "TEXT_HOURS_STATE_RULES", reason: "not `on` or `off`" }
                }
            })?,
        })
    }
}

/// `AWS.SNS.SMS.SMSType`: how SNS routes a text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmsType {
    /// Time-critical (a pre-call text): the default.
    Transactional,
    /// Marketing: cheaper routes, lower priority.
    Promotional,
}

impl SmsType {
    /// As SNS spells it, and `SMS_TYPE` takes it.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Transactional => "Transactional",
            Self::Promotional => "Promotional",
        }
    }

    fn parse(value: &str) -> Option<Self> {
        [Self::Transactional, Self::Promotional].into_iter().find(|kind| kind.as_str() == value)
    }
}

/// SNS SMS attributes sent with every text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmsSettings {
    pub sms_type: SmsType,
    /// `AWS.MM.SMS.OriginationNumber`, E.164.
    pub origination_number: Option<String>,
    /// `AWS.SNS.SMS.SenderID`: 3–11 alphanumerics, ignored by US carriers.
    pub sender_id: Option<String>,
    /// `SMS_SMART_ENCODING` (`true`, the default, or `false`): send look-alike characters as GSM-7 when that makes
    /// the whole text GSM-7 ([`crate::sms::SmsText::smart_encoded`]).
    pub smart_encoding: bool,
}

/// The regions of the United States that libphonenumber gives codes of their own (they share +1): a number in
/// Puerto Rico is a US lead's to a US business, and 2X sends it as 10 bare digits like any other.
pub const US_TERRITORIES: [CountryCode; 5] =
    [CountryCode::PR, CountryCode::VI, CountryCode::GU, CountryCode::AS, CountryCode::MP];

/// `ALLOWED_COUNTRIES`: ISO 3166 codes separated by commas (blank ones ignored: what CloudFormation's empty list
/// becomes); unset or blank, the default country alone (for the US, with its territories).
pub fn allowed_recipients<F: Fn(&str) -> Option<String>>(
    env: &Env<F>,
    default_country: CountryCode,
) -> Result<AllowedRecipients, ConfigError> {
    let list = env.optional("ALLOWED_COUNTRIES").unwrap_or_default();
    let codes: Vec<&str> = list.split(',').map(str::trim).filter(|code| !code.is_empty()).collect();
    if codes.is_empty() {
        let territories = if default_country == CountryCode::US { &US_TERRITORIES[..] } else { &[] };
        return Ok(AllowedRecipients::new([&[default_country][..], territories].concat()));
    }
    let countries = codes
        .iter()
        .map(|code| code.to_ascii_uppercase().parse::<CountryCode>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| ConfigError::Invalid {
            name: "ALLOWED_COUNTRIES",
            reason: "must be ISO 3166 alpha-2 country codes separated by commas",
        })?;
    Ok(AllowedRecipients::new(countries))
}

impl SmsSettings {
    pub fn from_env<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<Self, ConfigError> {
        let sms_type = match env.optional("SMS_TYPE") {
            None => SmsType::Transactional,
            Some(value) => SmsType::parse(&value)
                .ok_or(ConfigError::Invalid { name: "SMS_TYPE", reason: "must be Transactional or Promotional" })?,
        };
        let sender_id = env.optional("SMS_SENDER_ID");
        if let Some(id) = &sender_id {
            let valid = (3..=11).contains(&id.len())
                && id.bytes().all(|b| b.is_ascii_alphanumeric())
                && id.bytes().any(|b| b.is_ascii_alphabetic());
            if !valid {
                return Err(ConfigError::Invalid {
                    name: "SMS_SENDER_ID",
                    reason: "must be 3 to 11 letters and digits with at least one letter",
                });
            }
        }
        let origination_number = env.optional("SMS_ORIGINATION_NUMBER");
        if let Some(number) = &origination_number {
            let digits = number.strip_prefix('+').unwrap_or_default();
            let e164 = (2..=15).contains(&digits.len())
                && digits.bytes().all(|b| b.is_ascii_digit())
                && !digits.starts_with('0');
            if !e164 {
                return Err(ConfigError::Invalid {
                    name: "SMS_ORIGINATION_NUMBER",
                    reason: "must be in E.164 form: + and 2 to 15 digits, the first not 0",
                });
            }
        }
        let smart_encoding = match env.optional("SMS_SMART_ENCODING").map(|value| value.trim().to_ascii_lowercase()) {
            None => true,
            Some(value) => match value.as_str() {
                "true" => true,
                "false" => false,
                _ => return Err(ConfigError::Invalid { name: "SMS_SMART_ENCODING", reason: "must be true or false" }),
            },
        };
        Ok(Self { sms_type, origination_number, sender_id, smart_encoding })
    }
}

/// How long a text may wait on the fallback queue: the redrive never sends an older one, it settles it as
/// `expired`. A pre-call text announces a call minutes away; after the call it is worse than none. A
/// post-voicemail text goes with the voicemail the lead may listen to later, so it keeps its sense longer, but
/// hours late it lands out of context (and maybe at night in the lead's time zone).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueuedTextMaxAge {
    /// `QUEUED_TEXT_MAX_AGE_SECONDS`: pre-call texts, and texts of a type 2X's documents do not list.
    pub pre_call: Duration,
    /// `QUEUED_POST_VOICEMAIL_TEXT_MAX_AGE_SECONDS`.
    pub post_voicemail: Duration,
}

impl QueuedTextMaxAge {
    pub const DEFAULT: Self = Self { pre_call: Duration::from_secs(900), post_voicemail: Duration::from_secs(3600) };

    /// Bounds of either setting: at least a minute (the redrive's first try must have a chance), at most the
    /// queue's 14-day retention.
    pub const SECONDS: std::ops::RangeInclusive<u64> = 60..=1_209_600;

    pub fn from_env<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<Self, ConfigError> {
        let seconds = |name: &'static str, default: Duration| match env.optional(name) {
            None => Ok(default),
            Some(value) => match value.trim().parse::<u64>() {
                Ok(seconds) if Self::SECONDS.contains(&seconds) => Ok(Duration::from_secs(seconds)),
                _ => Err(ConfigError::Invalid { name, reason: "not a whole number of seconds from 60 to 1209600" }),
            },
        };
        Ok(Self {
            pre_call: seconds("QUEUED_TEXT_MAX_AGE_SECONDS", Self::DEFAULT.pre_call)?,
            post_voicemail: seconds("QUEUED_POST_VOICEMAIL_TEXT_MAX_AGE_SECONDS", Self::DEFAULT.post_voicemail)?,
        })
    }

    /// The maximum age of a text of `kind`.
    pub fn of(&self, kind: &TextType) -> Duration {
        match kind {
            TextType::PostVoicemail => self.post_voicemail,
            _ => self.pre_call,
        }
    }
}
