//! lead-events' configuration: what every webhook reads, the lead-event work's settings (`leads::settings`), the
//! suppression list and the fallback queue.

use leads::settings::LeadSettings;
use webhook::config::{ConfigError, DataSettings, Env, OwnSettings, SuppressionList, WebhookSettings};

/// A lead event is a lead's fields and a text or two: small.
pub const LEAD_EVENTS_MAX_BODY_BYTES: usize = 64 * 1024;

pub type LeadEventsConfig = WebhookSettings<LeadEventsSettings>;

/// What lead-events reads besides what every webhook reads.
#[derive(Debug, Clone)]
pub struct LeadEventsSettings {
    pub leads: LeadSettings,
    pub suppression_list: SuppressionList,
}

impl OwnSettings for LeadEventsSettings {
    const MAX_BODY_BYTES: usize = LEAD_EVENTS_MAX_BODY_BYTES;

    fn from_env<F: Fn(&str) -> Option<String>>(env: &Env<F>, _data: &DataSettings) -> Result<Self, ConfigError> {
        Ok(Self { leads: LeadSettings::from_env(env)?, suppression_list: SuppressionList::from_env(env)? })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use webhook::config::FromEnvironment;
    use webhook_test_support::events::lookup;

    #[test]
    fn the_tables_and_the_list_are_required() {
        let all = [("AUTH_TOKEN", "t"), ("LEAD_EVENTS_TABLE", "e"), ("CALLS_TABLE", "c"), ("OPT_OUTS_TABLE", "o")];
        let config = LeadEventsConfig::from_lookup(lookup(&all)).unwrap();
        assert_eq!(
            (config.own.leads.lead_events_table.as_str(), config.common.max_body_bytes),
            ("e", LEAD_EVENTS_MAX_BODY_BYTES)
        );
        assert_eq!(config.own.suppression_list, SuppressionList::Table("o".into()));
        let without_list = LeadEventsConfig::from_lookup(lookup(&all[..3]));
        assert!(matches!(without_list, Err(ConfigError::Missing(name)) if name.starts_with("OPT_OUTS_TABLE")));
    }
}
