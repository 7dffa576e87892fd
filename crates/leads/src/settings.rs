//! What the lead-event work reads from the environment, lead-events and the redrive alike.

use webhook::config::{ConfigError, Env, SuppressingValues};

/// The settings of the lead-event work.
#[derive(Debug, Clone)]
pub struct LeadSettings {
    /// `LEAD_EVENTS_TABLE`.
    pub lead_events_table: String,
    /// `CALLS_TABLE`: where a transfer is set on its call.
    pub calls_table: String,
    /// The classifications that put the lead's number on the suppression list
    /// (`SUPPRESS_TEXTS_ON_CLASSIFICATIONS`; `none`: none).
    pub suppress_texts_on_classifications: SuppressingValues,
}

/// 2X publishes no list of its classes (its one example is `pricing`): the names a classifier gives a request
/// to stop, written the ways classifiers write them (`-` and spaces count as `_`). An intent such as
/// `not_interested` is not a revocation of consent, and is not listed.
pub const DEFAULT_SUPPRESSING_CLASSIFICATIONS: &str =
    "opt_out,optout,stop,unsubscribe,do_not_contact,do_not_text,do_not_call,remove_me,revoke_consent";

impl LeadSettings {
    pub fn from_env<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<Self, ConfigError> {
        Ok(Self {
            lead_events_table: env.required("LEAD_EVENTS_TABLE")?,
            calls_table: env.required("CALLS_TABLE")?,
            suppress_texts_on_classifications: SuppressingValues::from_env(
                env,
                "SUPPRESS_TEXTS_ON_CLASSIFICATIONS",
                DEFAULT_SUPPRESSING_CLASSIFICATIONS,
            )?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(pairs: &'static [(&'static str, &'static str)]) -> Result<LeadSettings, ConfigError> {
        LeadSettings::from_env(&Env::new(|name: &str| {
            pairs.iter().find(|(named, _)| *named == name).map(|(_, value)| (*value).to_owned())
        }))
    }

    #[test]
    fn both_tables_are_required_and_the_classifications_default_to_opt_out_like_ones() {
        let settings = read(&[("LEAD_EVENTS_TABLE", "events"), ("CALLS_TABLE", "calls")]).unwrap();
        assert_eq!((settings.lead_events_table.as_str(), settings.calls_table.as_str()), ("events", "calls"));
        let listed = &settings.suppress_texts_on_classifications;
        assert!(listed.suppresses("opt_out") && listed.suppresses("Opt-Out") && listed.suppresses("do not contact"));
        assert!(!listed.suppresses("pricing") && !listed.suppresses("not_interested"));
        assert_eq!(read(&[("CALLS_TABLE", "calls")]).unwrap_err(), ConfigError::Missing("LEAD_EVENTS_TABLE"));
        assert_eq!(read(&[("LEAD_EVENTS_TABLE", "events")]).unwrap_err(), ConfigError::Missing("CALLS_TABLE"));
        let none =
            read(&[("LEAD_EVENTS_TABLE", "e"), ("CALLS_TABLE", "c"), ("SUPPRESS_TEXTS_ON_CLASSIFICATIONS", "none")]);
        assert!(!none.unwrap().suppress_texts_on_classifications.suppresses("opt_out"));
        let refused =
            read(&[("LEAD_EVENTS_TABLE", "e"), ("CALLS_TABLE", "c"), ("SUPPRESS_TEXTS_ON_CLASSIFICATIONS", "a b")]);
        assert!(matches!(refused, Err(ConfigError::Invalid { name: "SUPPRESS_TEXTS_ON_CLASSIFICATIONS", .. })));
    }
}
