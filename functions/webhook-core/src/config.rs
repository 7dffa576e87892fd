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
}

/// SNS SMS attributes sent with every text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmsSettings {
    /// `AWS.SNS.SMS.SMSType`: `Transactional` (time-critical, the default) or `Promotional`.
    pub sms_type: String,
    /// `AWS.MM.SMS.OriginationNumber`, E.164.
    pub origination_number: Option<String>,
    /// `AWS.SNS.SMS.SenderID`: 3–11 alphanumerics, ignored by US carriers.
    pub sender_id: Option<String>,
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

/// What both functions need.
#[derive(Debug, Clone)]
pub struct CommonConfig {
    pub auth: AuthSettings,
    pub default_country: CountryCode,
    pub retention: Option<Retention>,
    /// CloudWatch namespace of the EMF metrics.
    pub metrics_namespace: String,
    /// Larger bodies answer 413 unread (`MAX_BODY_BYTES`; the default depends on the function).
    pub max_body_bytes: usize,
}

/// send-text bodies are small: the message is capped at 1,600 bytes.
pub const SEND_TEXT_MAX_BODY_BYTES: usize = 64 * 1024;
/// post-call bodies carry whole transcripts; Lambda's own limit for a synchronous payload is 6 MB.
pub const POST_CALL_MAX_BODY_BYTES: usize = 5 * 1024 * 1024;

#[derive(Debug, Clone)]
pub struct SendTextConfig {
    pub common: CommonConfig,
    pub sent_texts_table: String,
    pub sms: SmsSettings,
}

#[derive(Debug, Clone)]
pub struct PostCallConfig {
    pub common: CommonConfig,
    pub calls_table: String,
}

/// Reads variables through a lookup function so tests need not touch the process environment.
struct Env<F>(F);

impl<F: Fn(&str) -> Option<String>> Env<F> {
    /// A set, non-blank value (a blank one counts as unset).
    fn optional(&self, name: &'static str) -> Option<String> {
        (self.0)(name).filter(|value| !value.trim().is_empty())
    }

    fn required(&self, name: &'static str) -> Result<String, ConfigError> {
        self.optional(name).ok_or(ConfigError::Missing(name))
    }
}

impl CommonConfig {
    fn from_env<F: Fn(&str) -> Option<String>>(
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

        let metrics_namespace = env.optional("METRICS_NAMESPACE").unwrap_or_else(|| DEFAULT_NAMESPACE.into());
        // CloudWatch drops metrics in a namespace outside its rules: better not to start than to count nothing.
        let namespace_valid = (1..=255).contains(&metrics_namespace.len())
            && metrics_namespace.bytes().all(|b| b.is_ascii_alphanumeric() || b"._/#:-".contains(&b))
            && !metrics_namespace.starts_with("AWS/");
        if !namespace_valid {
            return Err(ConfigError::Invalid {
                name: "METRICS_NAMESPACE",
                reason: "must be 1 to 255 letters, digits and . _ / # : - characters, not beginning with AWS/",
            });
        }
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
        Ok(Self {
            auth: AuthSettings { header, tokens },
            default_country,
            retention,
            metrics_namespace,
            max_body_bytes,
        })
    }
}

impl SendTextConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let env = Env(lookup);
        let sms_type = env.optional("SMS_TYPE").unwrap_or_else(|| "Transactional".into());
        if sms_type != "Transactional" && sms_type != "Promotional" {
            return Err(ConfigError::Invalid { name: "SMS_TYPE", reason: "must be Transactional or Promotional" });
        }
        let sender_id = env.optional("SMS_SENDER_ID");
        if let Some(id) = &sender_id {
            let valid = (3..=11).contains(&id.len())
                && id.bytes().all(|b| b.is_ascii_alphanumeric())
                && id.bytes().any(|b| b.is_ascii_alphabetic());
            if !valid {
                return Err(ConfigError::Invalid {
                    name: "SMS_SENDER_ID",
                    reason: "must be 3 to 11 letters and digits with at least one letter",
                });
            }
        }
        let origination_number = env.optional("SMS_ORIGINATION_NUMBER");
        if let Some(number) = &origination_number {
            let digits = number.strip_prefix('+').unwrap_or_default();
            let e164 = (2..=15).contains(&digits.len())
                && digits.bytes().all(|b| b.is_ascii_digit())
                && !digits.starts_with('0');
            if !e164 {
                return Err(ConfigError::Invalid {
                    name: "SMS_ORIGINATION_NUMBER",
                    reason: "must be in E.164 form: + and 2 to 15 digits, the first not 0",
                });
            }
        }
        Ok(Self {
            common: CommonConfig::from_env(&env, SEND_TEXT_MAX_BODY_BYTES)?,
            sent_texts_table: env.required("SENT_TEXTS_TABLE")?,
            sms: SmsSettings { sms_type, origination_number, sender_id },
        })
    }
}

impl PostCallConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let env = Env(lookup);
        Ok(Self {
            common: CommonConfig::from_env(&env, POST_CALL_MAX_BODY_BYTES)?,
            calls_table: env.required("CALLS_TABLE")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn lookup(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn defaults_apply_when_only_required_values_are_set() {
        let config =
            SendTextConfig::from_lookup(lookup(&[("AUTH_TOKEN", "t"), ("SENT_TEXTS_TABLE", "texts")])).unwrap();
        assert_eq!(config.sent_texts_table, "texts");
        assert_eq!(
            config.sms,
            SmsSettings { sms_type: "Transactional".into(), origination_number: None, sender_id: None }
        );
        assert_eq!(config.common.default_country, CountryCode::US);
        assert_eq!(config.common.retention, None);
        assert_eq!(config.common.metrics_namespace, "TwoXWebhooks");
        assert_eq!(config.common.max_body_bytes, SEND_TEXT_MAX_BODY_BYTES);
        let calls = PostCallConfig::from_lookup(lookup(&[("AUTH_TOKEN", "t"), ("CALLS_TABLE", "c")])).unwrap();
        assert_eq!(calls.common.max_body_bytes, POST_CALL_MAX_BODY_BYTES);
        assert_eq!(config.common.auth.header, "authorization");
        assert!(matches!(config.common.auth.tokens, TokenSetting::Environment(TokenPair { previous: None, .. })));
    }

    #[test]
    fn every_setting_is_read() {
        let config = SendTextConfig::from_lookup(lookup(&[
            ("AUTH_TOKEN", "new"),
            ("AUTH_TOKEN_PREVIOUS", "old"),
            ("AUTH_HEADER_NAME", "X-TwoX-Token"),
            ("SENT_TEXTS_TABLE", "texts"),
            ("SMS_TYPE", "Promotional"),
            ("SMS_ORIGINATION_NUMBER", "+18005550100"),
            ("SMS_SENDER_ID", "Acme2X"),
            ("DEFAULT_COUNTRY", "gb"),
            ("RETENTION_DAYS", "30"),
            ("METRICS_NAMESPACE", "Acme/2X"),
        ]))
        .unwrap();
        assert_eq!(config.common.metrics_namespace, "Acme/2X");
        assert_eq!(config.sms.sms_type, "Promotional");
        assert_eq!(config.sms.origination_number.as_deref(), Some("+18005550100"));
        assert_eq!(config.sms.sender_id.as_deref(), Some("Acme2X"));
        assert_eq!(config.common.default_country, CountryCode::GB);
        assert_eq!(config.common.retention, Some(Retention::days(30)));
        assert_eq!(config.common.auth.header, "x-twox-token");
        assert!(matches!(config.common.auth.tokens, TokenSetting::Environment(TokenPair { previous: Some(_), .. })));
    }

    #[test]
    fn a_secret_id_replaces_the_token_variables() {
        let config =
            PostCallConfig::from_lookup(lookup(&[("AUTH_TOKEN_SECRET_ID", "arn:secret"), ("CALLS_TABLE", "c")]))
                .unwrap();
        assert!(matches!(
            config.common.auth.tokens,
            TokenSetting::SecretsManager { ref secret_id, refresh_every } if secret_id == "arn:secret" && refresh_every == DEFAULT_TOKEN_REFRESH
        ));
        let config = PostCallConfig::from_lookup(lookup(&[
            ("AUTH_TOKEN_SECRET_ID", "arn:secret"),
            ("AUTH_TOKEN_REFRESH_SECONDS", "0"),
            ("CALLS_TABLE", "c"),
        ]))
        .unwrap();
        assert!(
            matches!(config.common.auth.tokens, TokenSetting::SecretsManager { refresh_every, .. } if refresh_every.is_zero())
        );
    }

    #[test]
    fn missing_required_values_are_named() {
        assert_eq!(
            PostCallConfig::from_lookup(lookup(&[("CALLS_TABLE", "calls")])).unwrap_err(),
            ConfigError::Missing("AUTH_TOKEN or AUTH_TOKEN_SECRET_ID")
        );
        assert_eq!(
            PostCallConfig::from_lookup(lookup(&[("AUTH_TOKEN", "t"), ("CALLS_TABLE", "  ")])).unwrap_err(),
            ConfigError::Missing("CALLS_TABLE")
        );
        assert_eq!(
            SendTextConfig::from_lookup(lookup(&[("AUTH_TOKEN", "t")])).unwrap_err(),
            ConfigError::Missing("SENT_TEXTS_TABLE")
        );
    }

    #[test]
    fn malformed_values_are_refused() {
        let base = [("AUTH_TOKEN", "t"), ("SENT_TEXTS_TABLE", "texts")];
        for (name, value) in [
            ("SMS_TYPE", "Urgent"),
            ("SMS_SENDER_ID", "A"),
            ("SMS_SENDER_ID", "has space"),
            ("DEFAULT_COUNTRY", "USA"),
            ("RETENTION_DAYS", "0"),
            ("RETENTION_DAYS", "-3"),
            ("AUTH_HEADER_NAME", "bad header"),
            ("AUTH_TOKEN_REFRESH_SECONDS", "soon"),
            ("MAX_BODY_BYTES", "10"),
            ("MAX_BODY_BYTES", "7000000"),
            ("METRICS_NAMESPACE", "AWS/Lambda"),
            ("METRICS_NAMESPACE", "has space"),
            ("SMS_ORIGINATION_NUMBER", "18005550100"),
            ("SMS_ORIGINATION_NUMBER", "+0800555"),
            ("SMS_ORIGINATION_NUMBER", "+1"),
            ("SMS_ORIGINATION_NUMBER", "+1234567890123456"),
        ] {
            let mut pairs = base.to_vec();
            if name == "AUTH_TOKEN_REFRESH_SECONDS" {
                pairs.push(("AUTH_TOKEN_SECRET_ID", "arn:secret"));
            }
            pairs.push((name, value));
            assert!(
                matches!(SendTextConfig::from_lookup(lookup(&pairs)), Err(ConfigError::Invalid { name: n, .. }) if n == name),
                "{name}={value} was accepted"
            );
        }
    }

    #[test]
    fn errors_never_show_the_token() {
        let error = SendTextConfig::from_lookup(lookup(&[("AUTH_TOKEN", "s3cret")])).unwrap_err();
        assert!(!error.to_string().contains("s3cret"));
    }
}
