//! post-call's configuration: what every webhook reads, the call work's settings (`calls::settings`), the
//! suppression list and the fallback queue.

use calls::settings::CallSettings;
use webhook::config::{CommonConfig, ConfigError, Env, FromEnvironment, SuppressionList, WebhookConfig};

/// post-call bodies carry whole transcripts; Lambda's own limit for a synchronous payload is 6 MB.
pub const POST_CALL_MAX_BODY_BYTES: usize = 5 * 1024 * 1024;

#[derive(Debug, Clone)]
pub struct PostCallConfig {
    pub common: CommonConfig,
    pub calls: CallSettings,
    pub suppression_list: SuppressionList,
    /// Where deliveries DynamoDB could not take now wait for the redrive (`FALLBACK_QUEUE_URL`), when set.
    pub fallback_queue_url: Option<String>,
}

impl FromEnvironment for PostCallConfig {
    fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let env = Env::new(lookup);
        Ok(Self {
            common: CommonConfig::from_env(&env, POST_CALL_MAX_BODY_BYTES)?,
            calls: CallSettings::from_env(&env)?,
            suppression_list: SuppressionList::from_env(&env)?,
            fallback_queue_url: env.optional("FALLBACK_QUEUE_URL"),
        })
    }
}

impl WebhookConfig for PostCallConfig {
    fn common(&self) -> &CommonConfig {
        &self.common
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_calls_table_and_the_list_are_required_and_the_body_limit_fits_transcripts() {
        let lookup = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| pairs.iter().find(|(key, _)| *key == name).map(|(_, value)| (*value).to_owned())
        };
        let config =
            PostCallConfig::from_lookup(lookup(&[("AUTH_TOKEN", "t"), ("CALLS_TABLE", "c"), ("OPT_OUTS_TABLE", "o")]))
                .unwrap();
        assert_eq!((config.calls.calls_table.as_str(), config.common.max_body_bytes), ("c", POST_CALL_MAX_BODY_BYTES));
        assert_eq!(config.suppression_list, SuppressionList::Table("o".into()));
        assert_eq!(
            PostCallConfig::from_lookup(lookup(&[("AUTH_TOKEN", "t"), ("CALLS_TABLE", "  "), ("OPT_OUTS_TABLE", "o")]))
                .unwrap_err(),
            ConfigError::Missing("CALLS_TABLE")
        );
        let without_list = PostCallConfig::from_lookup(lookup(&[("AUTH_TOKEN", "t"), ("CALLS_TABLE", "c")]));
        assert!(matches!(without_list, Err(ConfigError::Missing(name)) if name.starts_with("OPT_OUTS_TABLE")));
    }
}
