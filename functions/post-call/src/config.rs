//! post-call's configuration: what every webhook reads, the call work's settings (`calls::settings`), the
//! suppression list and the fallback queue.

use calls::settings::CallSettings;
use webhook::config::{ConfigError, DataSettings, Env, OwnSettings, SuppressionList, WebhookSettings};

/// post-call bodies carry whole transcripts; Lambda's own limit for a synchronous payload is 6 MB.
pub const POST_CALL_MAX_BODY_BYTES: usize = 5 * 1024 * 1024;

pub type PostCallConfig = WebhookSettings<PostCallSettings>;

/// What post-call reads besides what every webhook reads.
#[derive(Debug, Clone)]
pub struct PostCallSettings {
    pub calls: CallSettings,
    pub suppression_list: SuppressionList,
}

impl OwnSettings for PostCallSettings {
    const MAX_BODY_BYTES: usize = POST_CALL_MAX_BODY_BYTES;

    fn from_env<F: Fn(&str) -> Option<String>>(env: &Env<F>, _data: &DataSettings) -> Result<Self, ConfigError> {
        Ok(Self { calls: CallSettings::from_env(env)?, suppression_list: SuppressionList::from_env(env)? })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use webhook::config::FromEnvironment;
    use webhook_test_support::events::lookup;

    #[test]
    fn the_calls_table_and_the_list_are_required_and_the_body_limit_fits_transcripts() {
        let config =
            PostCallConfig::from_lookup(lookup(&[("AUTH_TOKEN", "t"), ("CALLS_TABLE", "c"), ("OPT_OUTS_TABLE", "o")]))
                .unwrap();
        assert_eq!(
            (config.own.calls.calls_table.as_str(), config.common.max_body_bytes),
            ("c", POST_CALL_MAX_BODY_BYTES)
        );
        assert_eq!(config.own.suppression_list, SuppressionList::Table("o".into()));
        assert_eq!(
            PostCallConfig::from_lookup(lookup(&[("AUTH_TOKEN", "t"), ("CALLS_TABLE", "  "), ("OPT_OUTS_TABLE", "o")]))
                .unwrap_err(),
            ConfigError::Missing("CALLS_TABLE")
        );
        let without_list = PostCallConfig::from_lookup(lookup(&[("AUTH_TOKEN", "t"), ("CALLS_TABLE", "c")]));
        assert!(matches!(without_list, Err(ConfigError::Missing(name)) if name.starts_with("OPT_OUTS_TABLE")));
    }
}
