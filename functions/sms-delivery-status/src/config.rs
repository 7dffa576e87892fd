//! sms-delivery-status's configuration: the sent-texts table and the metrics namespace (no auth: CloudWatch
//! Logs invokes it, not 2X).

use webhook::config::{ConfigError, Env, FromEnvironment, metrics_namespace};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryStatusConfig {
    pub sent_texts_table: String,
    pub metrics_namespace: String,
}

impl FromEnvironment for DeliveryStatusConfig {
    fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let env = Env::new(lookup);
        Ok(Self { sent_texts_table: env.required("SENT_TEXTS_TABLE")?, metrics_namespace: metrics_namespace(&env)? })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name: &str| pairs.iter().find(|(key, _)| *key == name).map(|(_, value)| (*value).to_owned())
    }

    #[test]
    fn the_sent_texts_table_is_required_and_the_namespace_checked() {
        let config = DeliveryStatusConfig::from_lookup(lookup(&[("SENT_TEXTS_TABLE", "t")])).unwrap();
        assert_eq!(
            config,
            DeliveryStatusConfig { sent_texts_table: "t".into(), metrics_namespace: "TwoXWebhooks".into() }
        );
        assert_eq!(DeliveryStatusConfig::from_lookup(lookup(&[])), Err(ConfigError::Missing("SENT_TEXTS_TABLE")));
        let refused =
            DeliveryStatusConfig::from_lookup(lookup(&[("SENT_TEXTS_TABLE", "t"), ("METRICS_NAMESPACE", "AWS/X")]));
        assert!(matches!(refused, Err(ConfigError::Invalid { name: "METRICS_NAMESPACE", .. })), "{refused:?}");
    }
}
