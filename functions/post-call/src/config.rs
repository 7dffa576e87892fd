//! post-call's configuration: what every function reads, the calls table, and which end reasons put the lead's
//! number on the suppression list.

use webhook::config::{CommonConfig, ConfigError, Env, FromEnvironment, SuppressionList, WebhookConfig};

/// post-call bodies carry whole transcripts; Lambda's own limit for a synchronous payload is 6 MB.
pub const POST_CALL_MAX_BODY_BYTES: usize = 5 * 1024 * 1024;

#[derive(Debug, Clone)]
pub struct PostCallConfig {
    pub common: CommonConfig,
    pub calls_table: String,
    pub suppression_list: SuppressionList,
    pub suppress_texts_on: SuppressingEndReasons,
    /// Where deliveries DynamoDB could not take now wait for the redrive (`FALLBACK_QUEUE_URL`), when set.
    pub fallback_queue_url: Option<String>,
}

impl FromEnvironment for PostCallConfig {
    fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let env = Env::new(lookup);
        Ok(Self {
            common: CommonConfig::from_env(&env, POST_CALL_MAX_BODY_BYTES)?,
            calls_table: env.required("CALLS_TABLE")?,
            suppression_list: SuppressionList::from_env(&env)?,
            suppress_texts_on: SuppressingEndReasons::from_env(&env)?,
            fallback_queue_url: env.optional("FALLBACK_QUEUE_URL"),
        })
    }
}

impl WebhookConfig for PostCallConfig {
    fn common(&self) -> &CommonConfig {
        &self.common
    }
}

/// The call end reasons that put the lead's number on the suppression list (`SUPPRESS_TEXTS_ON`, separated by
/// commas), compared without regard to case (the redrive reads them too).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SuppressingEndReasons(Vec<String>);

impl SuppressingEndReasons {
    /// A lead who asked not to be contacted again, and a number that belongs to someone else, who never agreed
    /// to be texted.
    pub const DEFAULT: &str = "do_not_call,wrong_number";

    pub fn from_env<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<Self, ConfigError> {
        let list = env.optional("SUPPRESS_TEXTS_ON").unwrap_or_else(|| Self::DEFAULT.into());
        let reasons: Vec<String> = list.split(',').map(|reason| reason.trim().to_ascii_lowercase()).collect();
        let valid = |reason: &String| {
            !reason.is_empty() && reason.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        };
        if !reasons.iter().all(valid) {
            return Err(ConfigError::Invalid {
                name: "SUPPRESS_TEXTS_ON",
                reason: "must be end reasons (letters, digits, _) separated by commas",
            });
        }
        Ok(Self(reasons))
    }

    /// Whether a call that ended with `end_reason` (as 2X sent it) puts the number on the list.
    pub fn suppresses(&self, end_reason: &str) -> bool {
        self.0.iter().any(|reason| reason.eq_ignore_ascii_case(end_reason.trim()))
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
        assert_eq!((config.calls_table.as_str(), config.common.max_body_bytes), ("c", POST_CALL_MAX_BODY_BYTES));
        assert_eq!(config.suppression_list, SuppressionList::Table("o".into()));
        assert_eq!(
            PostCallConfig::from_lookup(lookup(&[("AUTH_TOKEN", "t"), ("CALLS_TABLE", "  "), ("OPT_OUTS_TABLE", "o")]))
                .unwrap_err(),
            ConfigError::Missing("CALLS_TABLE")
        );
        let without_list = PostCallConfig::from_lookup(lookup(&[("AUTH_TOKEN", "t"), ("CALLS_TABLE", "c")]));
        assert!(matches!(without_list, Err(ConfigError::Missing(name)) if name.starts_with("OPT_OUTS_TABLE")));
    }

    #[test]
    fn suppressing_end_reasons_default_to_do_not_call_and_wrong_number_and_ignore_case() {
        let read = |value: Option<&'static str>| {
            SuppressingEndReasons::from_env(&Env::new(move |name: &str| match name {
                "SUPPRESS_TEXTS_ON" => value.map(str::to_owned),
                _ => None,
            }))
        };
        let default = read(None).unwrap();
        assert!(default.suppresses("do_not_call") && default.suppresses("wrong_number"));
        assert!(default.suppresses("DO_NOT_CALL") && default.suppresses(" Wrong_Number "));
        assert!(!default.suppresses("not_interested") && !default.suppresses("do_not"));
        let custom = read(Some("Do_Not_Call, not_interested")).unwrap();
        assert!(custom.suppresses("do_not_call") && custom.suppresses("NOT_INTERESTED"));
        assert!(!custom.suppresses("wrong_number"));
        for refused in ["do_not_call,", ",x", "do-not-call", "do not call"] {
            assert!(
                matches!(read(Some(refused)), Err(ConfigError::Invalid { name: "SUPPRESS_TEXTS_ON", .. })),
                "{refused}"
            );
        }
    }
}
