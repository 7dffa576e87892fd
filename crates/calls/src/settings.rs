//! What the call work reads from the environment, post-call and the redrive alike.

use webhook::config::{ConfigError, Env};

/// The settings of the call work, read once by each function that records calls.
#[derive(Debug, Clone)]
pub struct CallSettings {
    pub calls_table: String,
    pub suppress_texts_on: SuppressingEndReasons,
}

impl CallSettings {
    pub fn from_env<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<Self, ConfigError> {
        Ok(Self { calls_table: env.required("CALLS_TABLE")?, suppress_texts_on: SuppressingEndReasons::from_env(env)? })
    }
}

/// The call end reasons that put the lead's number on the suppression list (`SUPPRESS_TEXTS_ON`, separated by
/// commas), compared without regard to case.
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
