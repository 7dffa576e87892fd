//! Configuration from the environment, read once at start. A missing or malformed value stops the function
//! before it takes any request, with a log line naming the variable.

use crate::auth::{AuthToken, TokenPair};
use crate::metrics::DEFAULT_NAMESPACE;
use crate::phone::CountryCode;
use lambda_http::http::HeaderName;
use std::str::FromStr;
use std::time::Duration;

/// How often a token kept in Secrets Manager is re-read: a rotation is picked up within this time.
pub const DEFAULT_TOKEN_REFRESH: Duration = Duration::from_secs(300);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("environment variable {0} is required but not set")]
    Missing(&'static str),
    #[error("environment variable {name} is invalid: {reason}")]
    Invalid { name: &'static str, reason: &'static str },
}

/// How long stored items are kept before DynamoDB's TTL removes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention(Duration);

impl Retention {
    pub fn days(days: u32) -> Self {
        Self(Duration::from_secs(u64::from(days) * 86_400))
    }

    pub fn duration(self) -> Duration {
        self.0
    }

    /// This retention, or `minimum` if that is longer.
    pub fn at_least(self, minimum: Self) -> Self {
        Self(self.0.max(minimum.0))
    }
}

/// Where the accepted tokens come from.
#[derive(Debug, Clone)]
pub enum TokenSetting {
    /// `AUTH_TOKEN` / `AUTH_TOKEN_PREVIOUS`: for local runs and tests.
    Environment(TokenPair),
    /// `AUTH_TOKEN_SECRET_ID`: read at start and again at most every `refresh_every` (the deployed way).
    SecretsManager { secret_id: String, refresh_every: Duration },
}

#[derive(Debug, Clone)]
pub struct AuthSettings {
    /// Lower-cased, so matching is case-insensitive as HTTP requires.
    pub header: HeaderName,
    pub tokens: TokenSetting,
}

/// How every function reads and keeps data: what the webhooks read, and the redrive too (it has no auth).
#[derive(Debug, Clone)]
pub struct DataSettings {
    /// The country of a number sent without a country code (`DEFAULT_COUNTRY`).
    pub default_country: CountryCode,
    pub retention: Option<Retention>,
    /// CloudWatch namespace of the EMF metrics.
    pub metrics_namespace: String,
}

/// The suppression list of a function that reads or adds to it: a table, unless disabled in so many words. A
/// deployment that forgot `OPT_OUTS_TABLE` would otherwise text leads who said STOP, and nobody would know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SuppressionList {
    /// `OPT_OUTS_TABLE`.
    Table(String),
    /// `SUPPRESSION_LIST=disabled` (and no `OPT_OUTS_TABLE`): only SNS's own opt-outs stop a text.
    Disabled,
}

impl SuppressionList {
    pub fn from_env<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<Self, ConfigError> {
        let disabled = match env.optional("SUPPRESSION_LIST").map(|value| value.trim().to_ascii_lowercase()) {
            None => false,
            Some(value) if value == "disabled" => true,
            Some(_) => {
                return Err(ConfigError::Invalid {
                    name: "SUPPRESSION_LIST",
                    reason: "must be disabled, or unset (the list is then OPT_OUTS_TABLE)",
                });
            }
        };
        match (env.optional("OPT_OUTS_TABLE"), disabled) {
            (Some(table), false) => Ok(Self::Table(table)),
            (None, true) => Ok(Self::Disabled),
            (None, false) => {
                Err(ConfigError::Missing("OPT_OUTS_TABLE (or SUPPRESSION_LIST=disabled to run without one)"))
            }
            (Some(_), true) => Err(ConfigError::Invalid {
                name: "SUPPRESSION_LIST",
                reason: "is disabled while OPT_OUTS_TABLE names a table: unset one of them",
            }),
        }
    }

    pub fn table(&self) -> Option<&str> {
        match self {
            Self::Table(table) => Some(table),
            Self::Disabled => None,
        }
    }

    /// Says at every start that the list is disabled, where CloudWatch keeps it.
    pub fn log_at_start(&self, function: &str) {
        if *self == Self::Disabled {
            tracing::warn!(
                function,
                "the suppression list is disabled (SUPPRESSION_LIST=disabled): only SNS's own opt-outs stop a text"
            );
        }
    }
}

/// Values 2X sends that put the lead's number on the suppression list, as one variable lists them (separated by
/// commas): call end reasons (`SUPPRESS_TEXTS_ON`), text classifications (`SUPPRESS_TEXTS_ON_CLASSIFICATIONS`).
/// Compared without regard to case, `-` or a space counting as `_` (2X documents neither set).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SuppressingValues(Vec<String>);

impl SuppressingValues {
    /// The list `name` sets, else (unset or empty) `default`; `none` lists nothing.
    pub fn from_env<F: Fn(&str) -> Option<String>>(
        env: &Env<F>,
        name: &'static str,
        default: &str,
    ) -> Result<Self, ConfigError> {
        let list = env.optional(name).unwrap_or_else(|| default.into());
        if list.trim().eq_ignore_ascii_case("none") {
            return Ok(Self(Vec::new()));
        }
        let values: Vec<String> = list.split(',').map(|value| value.trim().to_ascii_lowercase()).collect();
        let valid = |value: &String| {
            !value.is_empty() && value.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        };
        match values.iter().all(valid) {
            true => Ok(Self(values)),
            false => {
                Err(ConfigError::Invalid { name, reason: "must be values (letters, digits, _) separated by commas" })
            }
        }
    }

    /// Whether `value` (as 2X sent it) is listed.
    pub fn suppresses(&self, value: &str) -> bool {
        let folded = |byte: u8| match byte {
            b'-' | b' ' => b'_',
            other => other.to_ascii_lowercase(),
        };
        let value = value.trim().as_bytes();
        self.0
            .iter()
            .any(|listed| listed.len() == value.len() && listed.bytes().zip(value).all(|(l, &v)| l == folded(v)))
    }
}

/// What every webhook needs.
#[derive(Debug, Clone)]
pub struct CommonConfig {
    pub auth: AuthSettings,
    pub data: DataSettings,
    /// Larger bodies answer 413 unread (`MAX_BODY_BYTES`; the default depends on the function).
    pub max_body_bytes: usize,
}

/// The environment, read through a lookup function so tests need not touch the process's.
pub struct Env<F>(F);

impl<F: Fn(&str) -> Option<String>> Env<F> {
    pub fn new(lookup: F) -> Self {
        Self(lookup)
    }

    /// A set, non-blank value (a blank one counts as unset).
    pub fn optional(&self, name: &'static str) -> Option<String> {
        (self.0)(name).filter(|value| !value.trim().is_empty())
    }

    pub fn required(&self, name: &'static str) -> Result<String, ConfigError> {
        self.optional(name).ok_or(ConfigError::Missing(name))
    }
}

/// `METRICS_NAMESPACE`, or [`DEFAULT_NAMESPACE`]. CloudWatch drops metrics in a namespace outside its rules:
/// better not to start than to count nothing.
pub fn metrics_namespace<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<String, ConfigError> {
    let namespace = env.optional("METRICS_NAMESPACE").unwrap_or_else(|| DEFAULT_NAMESPACE.into());
    let valid = (1..=255).contains(&namespace.len())
        && namespace.bytes().all(|b| b.is_ascii_alphanumeric() || b"._/#:-".contains(&b))
        && !namespace.starts_with("AWS/");
    if !valid {
        return Err(ConfigError::Invalid {
            name: "METRICS_NAMESPACE",
            reason: "must be 1 to 255 letters, digits and . _ / # : - characters, not beginning with AWS/",
        });
    }
    Ok(namespace)
}

/// A function's configuration, read once at start from its environment.
pub trait FromEnvironment: Sized {
    /// Read through `lookup` (a variable's value, if set): the tests give their own.
    fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError>;

    fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }
}

/// A webhook function's configuration: its own settings around the ones every webhook reads.
pub trait WebhookConfig: FromEnvironment {
    fn common(&self) -> &CommonConfig;
}

/// A webhook's configuration: what every webhook reads, its fallback queue, and its own settings.
#[derive(Debug, Clone)]
pub struct WebhookSettings<Own> {
    pub common: CommonConfig,
    /// Where deliveries not done now wait for the redrive (`FALLBACK_QUEUE_URL`), when set.
    pub fallback_queue_url: Option<String>,
    pub own: Own,
}

/// What one webhook reads besides what every webhook reads.
pub trait OwnSettings: Sized {
    /// Its body limit, unless `MAX_BODY_BYTES` sets another.
    const MAX_BODY_BYTES: usize;

    /// Read after the common settings, which tell `data` (the default country among them).
    fn from_env<F: Fn(&str) -> Option<String>>(env: &Env<F>, data: &DataSettings) -> Result<Self, ConfigError>;
}

impl<Own: OwnSettings> FromEnvironment for WebhookSettings<Own> {
    fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let env = Env::new(lookup);
        let common = CommonConfig::from_env(&env, Own::MAX_BODY_BYTES)?;
        let own = Own::from_env(&env, &common.data)?;
        Ok(Self { common, fallback_queue_url: env.optional("FALLBACK_QUEUE_URL"), own })
    }
}

impl<Own: OwnSettings> WebhookConfig for WebhookSettings<Own> {
    fn common(&self) -> &CommonConfig {
        &self.common
    }
}

impl CommonConfig {
    /// The settings every function reads; `default_max_body_bytes` is the function's own body limit.
    pub fn from_env<F: Fn(&str) -> Option<String>>(
        env: &Env<F>,
        default_max_body_bytes: usize,
    ) -> Result<Self, ConfigError> {
        let token = |name| {
            env.optional(name)
                .map(|value| AuthToken::new(&value).ok_or(ConfigError::Invalid { name, reason: "empty" }))
                .transpose()
        };
        let tokens = match env.optional("AUTH_TOKEN_SECRET_ID") {
            Some(secret_id) => {
                let refresh_every = match env.optional("AUTH_TOKEN_REFRESH_SECONDS") {
                    None => DEFAULT_TOKEN_REFRESH,
                    Some(seconds) => {
                        seconds.trim().parse().map(Duration::from_secs).map_err(|_| ConfigError::Invalid {
                            name: "AUTH_TOKEN_REFRESH_SECONDS",
                            reason: "not a whole number of seconds",
                        })?
                    }
                };
                TokenSetting::SecretsManager { secret_id, refresh_every }
            }
            None => TokenSetting::Environment(TokenPair {
                current: token("AUTH_TOKEN")?.ok_or(ConfigError::Missing("AUTH_TOKEN or AUTH_TOKEN_SECRET_ID"))?,
                previous: token("AUTH_TOKEN_PREVIOUS")?,
            }),
        };

        let header = env.optional("AUTH_HEADER_NAME").unwrap_or_else(|| "Authorization".into());
        // HeaderName::from_str lower-cases, so matching is case-insensitive as HTTP requires.
        let header = HeaderName::from_str(header.trim())
            .map_err(|_| ConfigError::Invalid { name: "AUTH_HEADER_NAME", reason: "not a valid HTTP header name" })?;

        let max_body_bytes = match env.optional("MAX_BODY_BYTES") {
            None => default_max_body_bytes,
            Some(bytes) => match bytes.trim().parse::<usize>() {
                Ok(bytes @ 1024..=6_000_000) => bytes,
                _ => {
                    return Err(ConfigError::Invalid {
                        name: "MAX_BODY_BYTES",
                        reason: "not a whole number of bytes from 1024 to 6000000 (Lambda's payload limit)",
                    });
                }
            },
        };
        Ok(Self { auth: AuthSettings { header, tokens }, data: DataSettings::from_env(env)?, max_body_bytes })
    }
}

impl DataSettings {
    pub fn from_env<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<Self, ConfigError> {
        let default_country = match env.optional("DEFAULT_COUNTRY") {
            None => CountryCode::US,
            Some(code) => CountryCode::from_str(&code.trim().to_ascii_uppercase()).map_err(|_| {
                ConfigError::Invalid { name: "DEFAULT_COUNTRY", reason: "not an ISO 3166 alpha-2 country code" }
            })?,
        };

        let retention = env
            .optional("RETENTION_DAYS")
            .map(|days| match days.trim().parse::<u32>() {
                Ok(days @ 1..=36_500) => Ok(Retention::days(days)),
                _ => Err(ConfigError::Invalid {
                    name: "RETENTION_DAYS",
                    reason: "not a whole number of days from 1 to 36500",
                }),
            })
            .transpose()?;

        Ok(Self { default_country, retention, metrics_namespace: metrics_namespace(env)? })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn common(pairs: &[(&str, &str)]) -> Result<CommonConfig, ConfigError> {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        CommonConfig::from_env(&Env::new(move |name: &str| map.get(name).cloned()), 4096)
    }

    #[test]
    fn defaults_apply_when_only_the_token_is_set() {
        let config = common(&[("AUTH_TOKEN", "t")]).unwrap();
        assert_eq!(config.data.default_country, CountryCode::US);
        assert_eq!(config.data.retention, None);
        assert_eq!(config.data.metrics_namespace, "TwoXWebhooks");
        assert_eq!(config.max_body_bytes, 4096, "the function's own default");
        assert_eq!(config.auth.header, "authorization");
        assert!(matches!(config.auth.tokens, TokenSetting::Environment(TokenPair { previous: None, .. })));
    }

    #[test]
    fn every_setting_is_read() {
        let config = common(&[
            ("AUTH_TOKEN", "new"),
            ("AUTH_TOKEN_PREVIOUS", "old"),
            ("AUTH_HEADER_NAME", "X-TwoX-Token"),
            ("DEFAULT_COUNTRY", "gb"),
            ("RETENTION_DAYS", "30"),
            ("METRICS_NAMESPACE", "Acme/2X"),
            ("MAX_BODY_BYTES", "2048"),
        ])
        .unwrap();
        assert_eq!(config.data.metrics_namespace, "Acme/2X");
        assert_eq!(config.data.default_country, CountryCode::GB);
        assert_eq!(config.data.retention, Some(Retention::days(30)));
        assert_eq!(config.max_body_bytes, 2048);
        assert_eq!(config.auth.header, "x-twox-token");
        assert!(matches!(config.auth.tokens, TokenSetting::Environment(TokenPair { previous: Some(_), .. })));
    }

    #[test]
    fn a_secret_id_replaces_the_token_variables() {
        let config = common(&[("AUTH_TOKEN_SECRET_ID", "arn:secret")]).unwrap();
        assert!(matches!(
            config.auth.tokens,
            TokenSetting::SecretsManager { ref secret_id, refresh_every } if secret_id == "arn:secret" && refresh_every == DEFAULT_TOKEN_REFRESH
        ));
        let config = common(&[("AUTH_TOKEN_SECRET_ID", "arn:secret"), ("AUTH_TOKEN_REFRESH_SECONDS", "0")]).unwrap();
        assert!(
            matches!(config.auth.tokens, TokenSetting::SecretsManager { refresh_every, .. } if refresh_every.is_zero())
        );
    }

    #[test]
    fn a_missing_token_is_named() {
        assert_eq!(common(&[]).unwrap_err(), ConfigError::Missing("AUTH_TOKEN or AUTH_TOKEN_SECRET_ID"));
        assert_eq!(
            common(&[("AUTH_TOKEN", "  ")]).unwrap_err(),
            ConfigError::Missing("AUTH_TOKEN or AUTH_TOKEN_SECRET_ID")
        );
    }

    #[test]
    fn malformed_values_are_refused() {
        for (name, value) in [
            ("DEFAULT_COUNTRY", "USA"),
            ("DEFAULT_COUNTRY", "ZZ"),
            ("RETENTION_DAYS", "0"),
            ("RETENTION_DAYS", "-3"),
            ("RETENTION_DAYS", "36501"),
            ("AUTH_HEADER_NAME", "bad header"),
            ("AUTH_TOKEN_REFRESH_SECONDS", "soon"),
            ("MAX_BODY_BYTES", "10"),
            ("MAX_BODY_BYTES", "7000000"),
            ("METRICS_NAMESPACE", "AWS/Lambda"),
            ("METRICS_NAMESPACE", "has space"),
        ] {
            let mut pairs = vec![("AUTH_TOKEN", "t")];
            if name == "AUTH_TOKEN_REFRESH_SECONDS" {
                pairs.push(("AUTH_TOKEN_SECRET_ID", "arn:secret"));
            }
            pairs.push((name, value));
            assert!(
                matches!(common(&pairs), Err(ConfigError::Invalid { name: n, .. }) if n == name),
                "{name}={value} was accepted"
            );
        }
    }

    #[test]
    fn the_suppression_list_is_a_table_unless_disabled_in_so_many_words() {
        let read = |pairs: &[(&str, &str)]| {
            let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
            SuppressionList::from_env(&Env::new(move |name: &str| map.get(name).cloned()))
        };
        assert_eq!(read(&[("OPT_OUTS_TABLE", "o")]), Ok(SuppressionList::Table("o".into())));
        assert_eq!(read(&[("SUPPRESSION_LIST", " Disabled ")]), Ok(SuppressionList::Disabled));
        assert!(matches!(read(&[]), Err(ConfigError::Missing(name)) if name.starts_with("OPT_OUTS_TABLE")));
        for contradictory in
            [&[("SUPPRESSION_LIST", "disabled"), ("OPT_OUTS_TABLE", "o")][..], &[("SUPPRESSION_LIST", "off")]]
        {
            assert!(matches!(read(contradictory), Err(ConfigError::Invalid { name: "SUPPRESSION_LIST", .. })));
        }
        assert_eq!(read(&[("OPT_OUTS_TABLE", "o")]).unwrap().table(), Some("o"));
        assert_eq!(SuppressionList::Disabled.table(), None);
    }

    #[test]
    fn errors_never_show_the_token() {
        let error = common(&[("AUTH_TOKEN", "s3cret"), ("RETENTION_DAYS", "x")]).unwrap_err();
        assert!(!error.to_string().contains("s3cret"));
    }
}
