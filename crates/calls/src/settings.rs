//! What the call work reads from the environment, post-call and the redrive alike.

use webhook::config::{ConfigError, Env, SuppressingValues};

/// The settings of the call work, read once by each function that records calls.
#[derive(Debug, Clone)]
pub struct CallSettings {
    pub calls_table: String,
    /// The call end reasons that put the lead's number on the suppression list (`SUPPRESS_TEXTS_ON`).
    pub suppress_texts_on: SuppressingValues,
}

/// A lead who asked not to be contacted again, and a number that belongs to someone else, who never agreed to be
/// texted.
pub const DEFAULT_SUPPRESSING_END_REASONS: &str = "do_not_call,wrong_number";

impl CallSettings {
    pub fn from_env<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<Self, ConfigError> {
        Ok(Self {
            calls_table: env.required("CALLS_TABLE")?,
            suppress_texts_on: SuppressingValues::from_env(env, "SUPPRESS_TEXTS_ON", DEFAULT_SUPPRESSING_END_REASONS)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suppressing_end_reasons_default_to_do_not_call_and_wrong_number_and_ignore_case() {
        let read = |value: Option<&'static str>| {
            CallSettings::from_env(&Env::new(move |name: &str| match name {
                "SUPPRESS_TEXTS_ON" => value.map(str::to_owned),
                "CALLS_TABLE" => Some("calls".into()),
                _ => None,
            }))
            .map(|settings| settings.suppress_texts_on)
        };
        let default = read(None).unwrap();
        assert!(default.suppresses("do_not_call") && default.suppresses("wrong_number"));
        assert!(default.suppresses("DO_NOT_CALL") && default.suppresses(" Wrong_Number "));
        assert!(default.suppresses("do-not-call") && default.suppresses("Wrong Number"), "2X's spelling may vary");
        assert!(!default.suppresses("not_interested") && !default.suppresses("do_not"));
        let custom = read(Some("Do_Not_Call, not_interested")).unwrap();
        assert!(custom.suppresses("do_not_call") && custom.suppresses("NOT_INTERESTED"));
        assert!(!custom.suppresses("wrong_number"));
        assert!(!read(Some("none")).unwrap().suppresses("do_not_call"), "`none` lists nothing");
        assert_eq!(read(Some("")).unwrap(), default, "empty is unset");
        for refused in ["do_not_call,", ",x", "do-not-call", "do not call"] {
            assert!(
                matches!(read(Some(refused)), Err(ConfigError::Invalid { name: "SUPPRESS_TEXTS_ON", .. })),
                "{refused}"
            );
        }
    }
}
