//! redrive's configuration: what post-call, send-text, text-optout and lead-events read to do their work (the
//! call work's, the text work's and the lead-event work's settings, the suppression list), without the webhooks'
//! auth settings.

use calls::settings::CallSettings;
use leads::settings::LeadSettings;
use texts::pacing::PacingSettings;
use texts::settings::TextSettings;
use webhook::config::{ConfigError, DataSettings, Env, FromEnvironment, SuppressionList};

#[derive(Debug, Clone)]
pub struct RedriveConfig {
    pub data: DataSettings,
    pub calls: CallSettings,
    pub texts: TextSettings,
    pub leads: LeadSettings,
    /// The sending number's rate, and the instances that share it.
    pub pacing: PacingSettings,
    pub suppression_list: SuppressionList,
}

impl FromEnvironment for RedriveConfig {
    fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let env = Env::new(lookup);
        let data = DataSettings::from_env(&env)?;
        Ok(Self {
            calls: CallSettings::from_env(&env)?,
            texts: TextSettings::from_env(&env, data.default_country)?,
            leads: LeadSettings::from_env(&env)?,
            pacing: PacingSettings::from_env(&env)?,
            suppression_list: SuppressionList::from_env(&env)?,
            data,
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
    fn needs_every_table_and_no_auth_settings() {
        const ALL: &[(&str, &str)] = &[
            ("CALLS_TABLE", "calls"),
            ("SENT_TEXTS_TABLE", "texts"),
            ("OPT_OUTS_TABLE", "o"),
            ("LEAD_EVENTS_TABLE", "e"),
        ];
        let config = read(ALL).unwrap();
        assert_eq!((config.calls.calls_table.as_str(), config.texts.sent_texts_table.as_str()), ("calls", "texts"));
        assert!(config.calls.suppress_texts_on.suppresses("wrong_number"));
        assert_eq!(config.suppression_list, SuppressionList::Table("o".into()));
        assert_eq!(config.leads.lead_events_table, "e");
        assert_eq!(config.texts.queued_max_age.pre_call, Duration::from_secs(900));
        let missing = |pairs| read(pairs).unwrap_err();
        assert_eq!(
            missing(&[("CALLS_TABLE", "calls"), ("OPT_OUTS_TABLE", "o"), ("LEAD_EVENTS_TABLE", "e")]),
            ConfigError::Missing("SENT_TEXTS_TABLE")
        );
        assert_eq!(
            missing(&[("SENT_TEXTS_TABLE", "texts"), ("OPT_OUTS_TABLE", "o"), ("LEAD_EVENTS_TABLE", "e")]),
            ConfigError::Missing("CALLS_TABLE")
        );
        assert_eq!(
            missing(&[("CALLS_TABLE", "calls"), ("SENT_TEXTS_TABLE", "texts"), ("OPT_OUTS_TABLE", "o")]),
            ConfigError::Missing("LEAD_EVENTS_TABLE")
        );
        assert!(matches!(
            missing(&[("CALLS_TABLE", "calls"), ("SENT_TEXTS_TABLE", "texts"), ("LEAD_EVENTS_TABLE", "e")]),
            ConfigError::Missing(name) if name.starts_with("OPT_OUTS_TABLE")
        ));
    }

    #[test]
    fn reads_the_settings_the_webhooks_validate_the_same_way() {
        let base = [
            ("CALLS_TABLE", "calls"),
            ("SENT_TEXTS_TABLE", "texts"),
            ("OPT_OUTS_TABLE", "o"),
            ("LEAD_EVENTS_TABLE", "e"),
        ];
        for (name, value) in [
            ("SMS_TYPE", "Urgent"),
            ("SUPPRESS_TEXTS_ON", "do-not-call"),
            ("SUPPRESS_TEXTS_ON_CLASSIFICATIONS", "opt out"),
            ("ALLOWED_COUNTRIES", "XX"),
            ("QUEUED_TEXT_MAX_AGE_SECONDS", "0"),
            ("DEFAULT_COUNTRY", "USA"),
            ("METRICS_NAMESPACE", "AWS/Lambda"),
            ("SMS_PARTS_PER_SECOND", "0"),
            ("REDRIVE_MAXIMUM_CONCURRENCY", "1.5"),
        ] {
            let pairs: Vec<(String, String)> =
                base.iter().chain([&(name, value)]).map(|(k, v)| ((*k).into(), (*v).into())).collect();
            let config = RedriveConfig::from_lookup(|key| pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone()));
            assert!(matches!(config, Err(ConfigError::Invalid { name: n, .. }) if n == name), "{name}={value}");
        }
    }
}
