//! post-call's configuration: what every function reads, the calls table, and which end reasons put the lead's
//! number on the suppression list.

use webhook::config::{CommonConfig, ConfigError, Env};

/// post-call bodies carry whole transcripts; Lambda's own limit for a synchronous payload is 6 MB.
pub const POST_CALL_MAX_BODY_BYTES: usize = 5 * 1024 * 1024;

#[derive(Debug, Clone)]
pub struct PostCallConfig {
    pub common: CommonConfig,
    pub calls_table: String,
    /// The suppression list (`OPT_OUTS_TABLE`), when there is one.
    pub opt_outs_table: Option<String>,
    /// The `call.end_reason` values that put the number on the list (`SUPPRESS_TEXTS_ON`, comma-separated).
    pub suppress_texts_on: Vec<String>,
    /// Where deliveries DynamoDB could not take now wait for the redrive (`FALLBACK_QUEUE_URL`), when set.
    pub fallback_queue_url: Option<String>,
}

/// By default only a lead who asked not to be contacted again is suppressed.
pub const DEFAULT_SUPPRESS_TEXTS_ON: &str = "do_not_call";

impl PostCallConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let env = Env::new(lookup);
        Ok(Self {
            common: CommonConfig::from_env(&env, POST_CALL_MAX_BODY_BYTES)?,
            calls_table: env.required("CALLS_TABLE")?,
            opt_outs_table: env.optional("OPT_OUTS_TABLE"),
            suppress_texts_on: suppress_texts_on(&env)?,
            fallback_queue_url: env.optional("FALLBACK_QUEUE_URL"),
        })
    }
}

/// `SUPPRESS_TEXTS_ON`: the end reasons that put the lead's number on the suppression list (the redrive reads
/// it too).
pub fn suppress_texts_on<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<Vec<String>, ConfigError> {
    let suppress = env.optional("SUPPRESS_TEXTS_ON").unwrap_or_else(|| DEFAULT_SUPPRESS_TEXTS_ON.into());
    let suppress_texts_on: Vec<String> = suppress.split(',').map(str::to_owned).collect();
    let valid = |reason: &String| {
        !reason.is_empty() && reason.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    };
    if !suppress_texts_on.iter().all(valid) {
        return Err(ConfigError::Invalid {
            name: "SUPPRESS_TEXTS_ON",
            reason: "must be end reasons (lower-case letters, digits, _) separated by commas, without spaces",
        });
    }
    Ok(suppress_texts_on)
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

    #[test]
    fn suppressing_end_reasons_default_to_do_not_call_and_are_read_as_a_list() {
        let read = |value: Option<&'static str>| {
            PostCallConfig::from_lookup(move |name: &str| match name {
                "AUTH_TOKEN" => Some("t".into()),
                "CALLS_TABLE" => Some("c".into()),
                "SUPPRESS_TEXTS_ON" => value.map(str::to_owned),
                _ => None,
            })
        };
        assert_eq!(read(None).unwrap().suppress_texts_on, ["do_not_call"]);
        assert_eq!(read(None).unwrap().opt_outs_table, None);
        assert_eq!(
            read(Some("do_not_call,not_interested")).unwrap().suppress_texts_on,
            ["do_not_call", "not_interested"]
        );
        for refused in ["do_not_call,", "Do_Not_Call", "do_not_call, wrong_number", ",x"] {
            assert!(
                matches!(read(Some(refused)), Err(ConfigError::Invalid { name: "SUPPRESS_TEXTS_ON", .. })),
                "{refused}"
            );
        }
    }
}
