//! text-optout's configuration: what every function reads, the opt-outs table, the fallback queue.

use webhook::config::{CommonConfig, ConfigError, Env, FromEnvironment, WebhookConfig};

/// An opt-out is a lead's fields: small.
pub const TEXT_OPTOUT_MAX_BODY_BYTES: usize = 64 * 1024;

#[derive(Debug, Clone)]
pub struct TextOptOutConfig {
    pub common: CommonConfig,
    pub opt_outs_table: String,
    /// Where opt-outs DynamoDB could not take now wait for the redrive (`FALLBACK_QUEUE_URL`), when set.
    pub fallback_queue_url: Option<String>,
}

impl FromEnvironment for TextOptOutConfig {
    fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let env = Env::new(lookup);
        Ok(Self {
            common: CommonConfig::from_env(&env, TEXT_OPTOUT_MAX_BODY_BYTES)?,
            opt_outs_table: env.required("OPT_OUTS_TABLE")?,
            fallback_queue_url: env.optional("FALLBACK_QUEUE_URL"),
        })
    }
}

impl WebhookConfig for TextOptOutConfig {
    fn common(&self) -> &CommonConfig {
        &self.common
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_opt_outs_table_is_required() {
        let lookup = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| pairs.iter().find(|(key, _)| *key == name).map(|(_, value)| (*value).to_owned())
        };
        let config = TextOptOutConfig::from_lookup(lookup(&[("AUTH_TOKEN", "t"), ("OPT_OUTS_TABLE", "o")])).unwrap();
        assert_eq!((config.opt_outs_table.as_str(), config.common.max_body_bytes), ("o", TEXT_OPTOUT_MAX_BODY_BYTES));
        assert_eq!(
            TextOptOutConfig::from_lookup(lookup(&[("AUTH_TOKEN", "t")])).unwrap_err(),
            ConfigError::Missing("OPT_OUTS_TABLE")
        );
    }
}
