//! text-optout's configuration: what every webhook reads, the opt-outs table, the fallback queue.

use webhook::config::{ConfigError, DataSettings, Env, OwnSettings, WebhookSettings};

/// An opt-out is a lead's fields: small.
pub const TEXT_OPTOUT_MAX_BODY_BYTES: usize = 64 * 1024;

pub type TextOptOutConfig = WebhookSettings<TextOptOutSettings>;

/// What text-optout reads besides what every webhook reads.
#[derive(Debug, Clone)]
pub struct TextOptOutSettings {
    pub opt_outs_table: String,
}

impl OwnSettings for TextOptOutSettings {
    const MAX_BODY_BYTES: usize = TEXT_OPTOUT_MAX_BODY_BYTES;

    fn from_env<F: Fn(&str) -> Option<String>>(env: &Env<F>, _data: &DataSettings) -> Result<Self, ConfigError> {
        Ok(Self { opt_outs_table: env.required("OPT_OUTS_TABLE")? })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use webhook::config::FromEnvironment;
    use webhook_test_support::events::lookup;

    #[test]
    fn the_opt_outs_table_is_required() {
        let config = TextOptOutConfig::from_lookup(lookup(&[("AUTH_TOKEN", "t"), ("OPT_OUTS_TABLE", "o")])).unwrap();
        assert_eq!(
            (config.own.opt_outs_table.as_str(), config.common.max_body_bytes),
            ("o", TEXT_OPTOUT_MAX_BODY_BYTES)
        );
        assert_eq!(
            TextOptOutConfig::from_lookup(lookup(&[("AUTH_TOKEN", "t")])).unwrap_err(),
            ConfigError::Missing("OPT_OUTS_TABLE")
        );
    }
}
