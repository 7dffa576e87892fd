//! send-text's configuration: what every webhook reads, the text work's settings (`texts::settings`), the
//! suppression list and the fallback queue.

use texts::settings::TextSettings;
use webhook::config::{ConfigError, DataSettings, Env, OwnSettings, SuppressionList, WebhookSettings};

/// send-text bodies are small: the message is capped at 1,600 bytes.
pub const SEND_TEXT_MAX_BODY_BYTES: usize = 64 * 1024;

pub type SendTextConfig = WebhookSettings<SendTextSettings>;

/// What send-text reads besides what every webhook reads.
#[derive(Debug, Clone)]
pub struct SendTextSettings {
    pub texts: TextSettings,
    pub suppression_list: SuppressionList,
}

impl OwnSettings for SendTextSettings {
    const MAX_BODY_BYTES: usize = SEND_TEXT_MAX_BODY_BYTES;

    fn from_env<F: Fn(&str) -> Option<String>>(env: &Env<F>, data: &DataSettings) -> Result<Self, ConfigError> {
        Ok(Self {
            texts: TextSettings::from_env(env, data.default_country)?,
            suppression_list: SuppressionList::from_env(env)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;
    use texts::settings::{QueuedTextMaxAge, SmsSettings, SmsType, US_TERRITORIES};
    use texts::text::{AllowedRecipients, TextType};
    use webhook::config::FromEnvironment;
    use webhook::phone::CountryCode;
    use webhook_test_support::events::lookup;

    #[test]
    fn defaults_apply_when_only_required_values_are_set() {
        let config = SendTextConfig::from_lookup(lookup(&[
            ("AUTH_TOKEN", "t"),
            ("SENT_TEXTS_TABLE", "texts"),
            ("OPT_OUTS_TABLE", "o"),
        ]))
        .unwrap();
        assert_eq!(config.own.texts.sent_texts_table, "texts");
        assert_eq!(
            config.own.texts.sms,
            SmsSettings {
                sms_type: SmsType::Transactional,
                origination_number: None,
                sender_id: None,
                smart_encoding: true
            }
        );
        assert_eq!(config.common.max_body_bytes, SEND_TEXT_MAX_BODY_BYTES);
        assert_eq!(config.own.texts.queued_max_age, QueuedTextMaxAge::DEFAULT);
        assert_eq!(config.own.suppression_list, SuppressionList::Table("o".into()));
        assert!(
            config
                .own
                .texts
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
            SendTextConfig::from_lookup(lookup(&all)).map(|config| config.own.texts.allowed_recipients)
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
    fn smart_encoding_is_on_unless_set_false() {
        let read = |value: Option<&str>| {
            let mut all = vec![("AUTH_TOKEN", "t"), ("SENT_TEXTS_TABLE", "texts"), ("OPT_OUTS_TABLE", "o")];
            all.extend(value.map(|value| ("SMS_SMART_ENCODING", value)));
            SendTextConfig::from_lookup(lookup(&all)).map(|config| config.own.texts.sms.smart_encoding)
        };
        assert_eq!(read(None), Ok(true));
        assert_eq!(read(Some("")), Ok(true), "blank is unset");
        for (value, on) in [("true", true), ("false", false), (" FALSE ", false), ("True", true)] {
            assert_eq!(read(Some(value)), Ok(on), "{value:?}");
        }
        for refused in ["yes", "0", "off"] {
            let refusal = read(Some(refused));
            assert!(
                matches!(refusal, Err(ConfigError::Invalid { name: "SMS_SMART_ENCODING", .. })),
                "{refused:?}: {refusal:?}"
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
        assert_eq!(disabled.unwrap().own.suppression_list, SuppressionList::Disabled);
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
        let max_age = config.own.texts.queued_max_age;
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
        assert_eq!(config.own.texts.sms.sms_type, SmsType::Promotional);
        assert_eq!(config.own.texts.sms.origination_number.as_deref(), Some("+18005550100"));
        assert_eq!(config.own.texts.sms.sender_id.as_deref(), Some("Acme2X"));
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
