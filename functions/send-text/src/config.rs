//! send-text's configuration: what every function reads, the sent-texts table and the SMS attributes.

use webhook::config::{CommonConfig, ConfigError, Env};

/// send-text bodies are small: the message is capped at 1,600 bytes.
pub const SEND_TEXT_MAX_BODY_BYTES: usize = 64 * 1024;

/// SNS SMS attributes sent with every text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmsSettings {
    /// `AWS.SNS.SMS.SMSType`: `Transactional` (time-critical, the default) or `Promotional`.
    pub sms_type: String,
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
    /// The suppression list (`OPT_OUTS_TABLE`), when there is one.
    pub opt_outs_table: Option<String>,
    /// Where texts that could not be sent now wait for the redrive (`FALLBACK_QUEUE_URL`), when set.
    pub fallback_queue_url: Option<String>,
}

impl SendTextConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let env = Env::new(lookup);
        let sms_type = env.optional("SMS_TYPE").unwrap_or_else(|| "Transactional".into());
        if sms_type != "Transactional" && sms_type != "Promotional" {
            return Err(ConfigError::Invalid { name: "SMS_TYPE", reason: "must be Transactional or Promotional" });
        }
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
        Ok(Self {
            common: CommonConfig::from_env(&env, SEND_TEXT_MAX_BODY_BYTES)?,
            sent_texts_table: env.required("SENT_TEXTS_TABLE")?,
            sms: SmsSettings { sms_type, origination_number, sender_id },
            opt_outs_table: env.optional("OPT_OUTS_TABLE"),
            fallback_queue_url: env.optional("FALLBACK_QUEUE_URL"),
        })
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
        let config =
            SendTextConfig::from_lookup(lookup(&[("AUTH_TOKEN", "t"), ("SENT_TEXTS_TABLE", "texts")])).unwrap();
        assert_eq!(config.sent_texts_table, "texts");
        assert_eq!(
            config.sms,
            SmsSettings { sms_type: "Transactional".into(), origination_number: None, sender_id: None }
        );
        assert_eq!(config.common.max_body_bytes, SEND_TEXT_MAX_BODY_BYTES);
    }

    #[test]
    fn every_sms_setting_is_read() {
        let config = SendTextConfig::from_lookup(lookup(&[
            ("AUTH_TOKEN", "t"),
            ("SENT_TEXTS_TABLE", "texts"),
            ("SMS_TYPE", "Promotional"),
            ("SMS_ORIGINATION_NUMBER", "+18005550100"),
            ("SMS_SENDER_ID", "Acme2X"),
        ]))
        .unwrap();
        assert_eq!(config.sms.sms_type, "Promotional");
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
        ] {
            let pairs = [("AUTH_TOKEN", "t"), ("SENT_TEXTS_TABLE", "texts"), (name, value)];
            assert!(
                matches!(SendTextConfig::from_lookup(lookup(&pairs)), Err(ConfigError::Invalid { name: n, .. }) if n == name),
                "{name}={value} was accepted"
            );
        }
    }
}
