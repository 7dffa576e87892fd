//! post-call's configuration: what every function reads and the calls table.

use webhook::config::{CommonConfig, ConfigError, Env};

/// post-call bodies carry whole transcripts; Lambda's own limit for a synchronous payload is 6 MB.
pub const POST_CALL_MAX_BODY_BYTES: usize = 5 * 1024 * 1024;

#[derive(Debug, Clone)]
pub struct PostCallConfig {
    pub common: CommonConfig,
    pub calls_table: String,
}

impl PostCallConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let env = Env::new(lookup);
        Ok(Self {
            common: CommonConfig::from_env(&env, POST_CALL_MAX_BODY_BYTES)?,
            calls_table: env.required("CALLS_TABLE")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_calls_table_is_required_and_the_body_limit_fits_transcripts() {
        let lookup = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| pairs.iter().find(|(key, _)| *key == name).map(|(_, value)| (*value).to_owned())
        };
        let config = PostCallConfig::from_lookup(lookup(&[("AUTH_TOKEN", "t"), ("CALLS_TABLE", "c")])).unwrap();
        assert_eq!((config.calls_table.as_str(), config.common.max_body_bytes), ("c", POST_CALL_MAX_BODY_BYTES));
        assert_eq!(
            PostCallConfig::from_lookup(lookup(&[("AUTH_TOKEN", "t"), ("CALLS_TABLE", "  ")])).unwrap_err(),
            ConfigError::Missing("CALLS_TABLE")
        );
    }
}
