//! send-text's configuration: what every function reads, the sent-texts table, the suppression list, the SMS
//! attributes, who may be texted and how long a queued text may wait.

use crate::payload::TextType;
use crate::recipient::AllowedRecipients;
use std::time::Duration;
use webhook::config::{CommonConfig, ConfigError, Env, FromEnvironment, SuppressionList, WebhookConfig};
use webhook::phone::CountryCode;

/// send-text bodies are small: the message is capped at 1,600 bytes.
pub const SEND_TEXT_MAX_BODY_BYTES: usize = 64 * 1024;

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
}

#[derive(Debug, Clone)]
pub struct SendTextConfig {
    pub common: CommonConfig,
    pub sent_texts_table: String,
    pub sms: SmsSettings,
    pub suppression_list: SuppressionList,
    pub allowed_recipients: AllowedRecipients,
    /// Where texts that could not be sent now wait for the redrive (`FALLBACK_QUEUE_URL`), when set.
    pub fallback_queue_url: Option<String>,
    pub queued_max_age: QueuedTextMaxAge,
}

impl FromEnvironment for SendTextConfig {
    fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let env = Env::new(lookup);
        let common = CommonConfig::from_env(&env, SEND_TEXT_MAX_BODY_BYTES)?;
        Ok(Self {
            sent_texts_table: env.required("SENT_TEXTS_TABLE")?,
            sms: SmsSettings::from_env(&env)?,
            suppression_list: SuppressionList::from_env(&env)?,
            allowed_recipients: allowed_recipients(&env, common.data.default_country)?,
            fallback_queue_url: env.optional("FALLBACK_QUEUE_URL"),
            queued_max_age: QueuedTextMaxAge::from_env(&env)?,
            common,
        })
    }
}

impl WebhookConfig for SendTextConfig {
    fn common(&self) -> &CommonConfig {
        &self.common
    }
}

/// The regions of the United States that libphonenumber gives codes of their own (they share +1): a number in
/// Puerto Rico is a US lead's to a US business, and 2X sends it as 10 bare digits like any other.
const US_TERRITORIES: [CountryCode; 5] =
    [CountryCode::PR, CountryCode::VI, CountryCode::GU, CountryCode::AS, CountryCode::MP];

/// `ALLOWED_COUNTRIES`: ISO 3166 codes separated by commas (blank ones ignored: what CloudFormation's empty list
/// becomes); unset or blank, the default country alone (for the US, with its territories). The redrive reads it
/// too.
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
        Ok(Self { sms_type, origination_number, sender_id })
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn lookup(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn defaults_apply_when_only_required_values_are_set() {
        let config = SendTextConfig::from_lookup(lookup(&[
            ("AUTH_TOKEN", "t"),
            ("SENT_TEXTS_TABLE", "texts"),
            ("OPT_OUTS_TABLE", "o"),
        ]))
        .unwrap();
        assert_eq!(config.sent_texts_table, "texts");
        assert_eq!(
            config.sms,
            SmsSettings { sms_type: SmsType::Transactional, origination_number: None, sender_id: None }
        );
        assert_eq!(config.common.max_body_bytes, SEND_TEXT_MAX_BODY_BYTES);
        assert_eq!(config.queued_max_age, QueuedTextMaxAge::DEFAULT);
        assert_eq!(config.suppression_list, SuppressionList::Table("o".into()));
        assert!(
            config
                .allowed_recipients
                .check(&webhook::phone::PhoneNumber::parse("+1 787 234 5678", CountryCode::US).unwrap())
                .is_ok(),
            "Puerto Rico"
        );
    }

    #[test]
    fn allowed_countries_default_to_the_default_country() {
        let read = |pairs: &[(&str, &str)]| {
            let mut all = vec![("AUTH_TOKEN", "t"), ("SENT_TEXTS_TABLE", "texts"), ("OPT_OUTS_TABLE", "o")];
            all.extend_from_slice(pairs);
            SendTextConfig::from_lookup(lookup(&all)).map(|config| config.allowed_recipients)
        };
        let us = AllowedRecipients::new([&[CountryCode::US][..], &US_TERRITORIES].concat());
        assert_eq!(read(&[]), Ok(us.clone()), "the US and its territories");
        assert_eq!(read(&[("ALLOWED_COUNTRIES", " , ")]), Ok(us), "CloudFormation's empty list");
        assert_eq!(read(&[("DEFAULT_COUNTRY", "GB")]), Ok(AllowedRecipients::new(vec![CountryCode::GB])));
        assert_eq!(
            read(&[("ALLOWED_COUNTRIES", "US")]),
            Ok(AllowedRecipients::new(vec![CountryCode::US])),
            "as listed"
        );
        let listed = AllowedRecipients::new(vec![CountryCode::US, CountryCode::CA, CountryCode::GB]);
        assert_eq!(read(&[("ALLOWED_COUNTRIES", "us, ca,GB")]), Ok(listed));
        for refused in ["USA", "ZZ", "US;CA"] {
            assert!(
                matches!(
                    read(&[("ALLOWED_COUNTRIES", refused)]),
                    Err(ConfigError::Invalid { name: "ALLOWED_COUNTRIES", .. })
                ),
                "{refused}"
            );
        }
    }

    #[test]
    fn the_suppression_list_is_required_unless_disabled() {
        let without = SendTextConfig::from_lookup(lookup(&[("AUTH_TOKEN", "t"), ("SENT_TEXTS_TABLE", "texts")]));
        assert!(matches!(without, Err(ConfigError::Missing(name)) if name.starts_with("OPT_OUTS_TABLE")));
        let disabled = SendTextConfig::from_lookup(lookup(&[
            ("AUTH_TOKEN", "t"),
            ("SENT_TEXTS_TABLE", "texts"),
            ("SUPPRESSION_LIST", "disabled"),
        ]));
        assert_eq!(disabled.unwrap().suppression_list, SuppressionList::Disabled);
    }

    #[test]
    fn each_kind_of_text_has_its_own_maximum_age_on_the_queue() {
        let config = SendTextConfig::from_lookup(lookup(&[
            ("AUTH_TOKEN", "t"),
            ("SENT_TEXTS_TABLE", "texts"),
            ("OPT_OUTS_TABLE", "o"),
            ("QUEUED_TEXT_MAX_AGE_SECONDS", "600"),
            ("QUEUED_POST_VOICEMAIL_TEXT_MAX_AGE_SECONDS", "7200"),
        ]))
        .unwrap();
        let max_age = config.queued_max_age;
        assert_eq!(max_age.of(&TextType::PreCall), Duration::from_secs(600));
        assert_eq!(max_age.of(&TextType::PostVoicemail), Duration::from_secs(7200));
        assert_eq!(max_age.of(&TextType::Other("reminder".into())), Duration::from_secs(600));
        assert_eq!(max_age.of(&TextType::Unspecified), Duration::from_secs(600));
    }

    #[test]
    fn every_sms_setting_is_read() {
        let config = SendTextConfig::from_lookup(lookup(&[
            ("AUTH_TOKEN", "t"),
            ("SENT_TEXTS_TABLE", "texts"),
            ("OPT_OUTS_TABLE", "o"),
            ("SMS_TYPE", "Promotional"),
            ("SMS_ORIGINATION_NUMBER", "+18005550100"),
            ("SMS_SENDER_ID", "Acme2X"),
        ]))
        .unwrap();
        assert_eq!(config.sms.sms_type, SmsType::Promotional);
        assert_eq!(config.sms.origination_number.as_deref(), Some("+18005550100"));
        assert_eq!(config.sms.sender_id.as_deref(), Some("Acme2X"));
    }

    #[test]
    fn missing_required_values_are_named() {
        assert_eq!(
            SendTextConfig::from_lookup(lookup(&[("AUTH_TOKEN", "t")])).unwrap_err(),
            ConfigError::Missing("SENT_TEXTS_TABLE")
        );
        assert_eq!(
            SendTextConfig::from_lookup(lookup(&[("SENT_TEXTS_TABLE", "texts")])).unwrap_err(),
            ConfigError::Missing("AUTH_TOKEN or AUTH_TOKEN_SECRET_ID")
        );
    }

    #[test]
    fn malformed_values_are_refused() {
        for (name, value) in [
            ("SMS_TYPE", "Urgent"),
            ("SMS_SENDER_ID", "A"),
            ("SMS_SENDER_ID", "has space"),
            ("SMS_SENDER_ID", "12345"),
            ("SMS_ORIGINATION_NUMBER", "18005550100"),
            ("SMS_ORIGINATION_NUMBER", "+0800555"),
            ("SMS_ORIGINATION_NUMBER", "+1"),
            ("SMS_ORIGINATION_NUMBER", "+1234567890123456"),
            ("DEFAULT_COUNTRY", "USA"),
            ("QUEUED_TEXT_MAX_AGE_SECONDS", "59"),
            ("QUEUED_TEXT_MAX_AGE_SECONDS", "15m"),
            ("QUEUED_POST_VOICEMAIL_TEXT_MAX_AGE_SECONDS", "1209601"),
            ("ALLOWED_COUNTRIES", "US,XX"),
        ] {
            let pairs = [("AUTH_TOKEN", "t"), ("SENT_TEXTS_TABLE", "texts"), ("OPT_OUTS_TABLE", "o"), (name, value)];
            assert!(
                matches!(SendTextConfig::from_lookup(lookup(&pairs)), Err(ConfigError::Invalid { name: n, .. }) if n == name),
                "{name}={value} was accepted"
            );
        }
    }
}
