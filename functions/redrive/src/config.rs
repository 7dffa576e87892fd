//! redrive's configuration: what post-call and send-text read to do their work (tables, the end reasons that
//! suppress texts, the SMS attributes, how long a queued text may wait), without the webhooks' auth settings.

use post_call::config::suppress_texts_on;
use send_text::config::{QueuedTextMaxAge, SmsSettings};
use webhook::config::{ConfigError, DataSettings, Env};

#[derive(Debug, Clone)]
pub struct RedriveConfig {
    pub data: DataSettings,
    pub calls_table: String,
    pub suppress_texts_on: Vec<String>,
    pub sent_texts_table: String,
    pub sms: SmsSettings,
    /// The suppression list (`OPT_OUTS_TABLE`), when there is one.
    pub opt_outs_table: Option<String>,
    pub queued_max_age: QueuedTextMaxAge,
}

impl RedriveConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let env = Env::new(lookup);
        Ok(Self {
            data: DataSettings::from_env(&env)?,
            calls_table: env.required("CALLS_TABLE")?,
            suppress_texts_on: suppress_texts_on(&env)?,
            sent_texts_table: env.required("SENT_TEXTS_TABLE")?,
            sms: SmsSettings::from_env(&env)?,
            opt_outs_table: env.optional("OPT_OUTS_TABLE"),
            queued_max_age: QueuedTextMaxAge::from_env(&env)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn read(pairs: &'static [(&'static str, &'static str)]) -> Result<RedriveConfig, ConfigError> {
        RedriveConfig::from_lookup(move |name| pairs.iter().find(|(key, _)| *key == name).map(|(_, v)| (*v).into()))
    }

    #[test]
    fn needs_both_tables_and_no_auth_settings() {
        let config = read(&[("CALLS_TABLE", "calls"), ("SENT_TEXTS_TABLE", "texts")]).unwrap();
        assert_eq!((config.calls_table.as_str(), config.sent_texts_table.as_str()), ("calls", "texts"));
        assert_eq!(config.suppress_texts_on, ["do_not_call"]);
        assert_eq!(config.queued_max_age.pre_call, Duration::from_secs(900));
        assert_eq!(read(&[("CALLS_TABLE", "calls")]).unwrap_err(), ConfigError::Missing("SENT_TEXTS_TABLE"));
        assert_eq!(read(&[("SENT_TEXTS_TABLE", "texts")]).unwrap_err(), ConfigError::Missing("CALLS_TABLE"));
    }

    #[test]
    fn reads_the_settings_the_webhooks_validate_the_same_way() {
        let base = [("CALLS_TABLE", "calls"), ("SENT_TEXTS_TABLE", "texts")];
        for (name, value) in [
            ("SMS_TYPE", "Urgent"),
            ("SUPPRESS_TEXTS_ON", "Do_Not_Call"),
            ("QUEUED_TEXT_MAX_AGE_SECONDS", "0"),
            ("DEFAULT_COUNTRY", "USA"),
            ("METRICS_NAMESPACE", "AWS/Lambda"),
        ] {
            let pairs: Vec<(String, String)> =
                base.iter().chain([&(name, value)]).map(|(k, v)| ((*k).into(), (*v).into())).collect();
            let config = RedriveConfig::from_lookup(|key| pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone()));
            assert!(matches!(config, Err(ConfigError::Invalid { name: n, .. }) if n == name), "{name}={value}");
        }
    }
}
