//! Who may be texted: a number of a country the customer texts (`ALLOWED_COUNTRIES`, by default the default
//! country alone) and of a kind a lead's own phone can be. Any other valid number is refused before any AWS
//! call: a leaked token, or a bug upstream, must not become texts to premium-rate or foreign numbers (SMS
//! pumping) that the customer pays for.

use webhook::config::{ConfigError, Env};
use webhook::phone::{CountryCode, LineType, PhoneNumber};

/// The countries whose numbers may be texted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedRecipients {
    countries: Vec<CountryCode>,
}

/// Why a valid number may not be texted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NotAllowed {
    #[error("the phone number is of a country this receiver does not text (ALLOWED_COUNTRIES)")]
    Country,
    #[error("the phone number is {0}, not a lead's own phone")]
    Kind(&'static str),
}

impl AllowedRecipients {
    pub fn new(countries: Vec<CountryCode>) -> Self {
        Self { countries }
    }

    /// `ALLOWED_COUNTRIES`: ISO 3166 codes separated by commas (blank ones ignored); unset or blank, the default
    /// country alone.
    pub fn from_env<F: Fn(&str) -> Option<String>>(
        env: &Env<F>,
        default_country: CountryCode,
    ) -> Result<Self, ConfigError> {
        let Some(list) = env.optional("ALLOWED_COUNTRIES") else { return Ok(Self::new(vec![default_country])) };
        let codes: Vec<&str> = list.split(',').map(str::trim).filter(|code| !code.is_empty()).collect();
        if codes.is_empty() {
            return Ok(Self::new(vec![default_country]));
        }
        let countries = codes
            .iter()
            .map(|code| code.to_ascii_uppercase().parse::<CountryCode>())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| ConfigError::Invalid {
                name: "ALLOWED_COUNTRIES",
                reason: "must be ISO 3166 alpha-2 country codes separated by commas",
            })?;
        Ok(Self::new(countries))
    }

    /// Whether `phone` may be texted.
    pub fn check(&self, phone: &PhoneNumber) -> Result<(), NotAllowed> {
        if !phone.country().is_some_and(|country| self.countries.contains(&country)) {
            return Err(NotAllowed::Country);
        }
        match phone.line_type() {
            LineType::Mobile
            | LineType::FixedLine
            | LineType::FixedLineOrMobile
            | LineType::Voip
            | LineType::PersonalNumber => Ok(()),
            LineType::TollFree => Err(NotAllowed::Kind("a toll-free number")),
            LineType::PremiumRate => Err(NotAllowed::Kind("a premium-rate number")),
            LineType::SharedCost => Err(NotAllowed::Kind("a shared-cost number")),
            _ => Err(NotAllowed::Kind("a service number")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn from(pairs: &[(&str, &str)]) -> Result<AllowedRecipients, ConfigError> {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        AllowedRecipients::from_env(&Env::new(move |name: &str| map.get(name).cloned()), CountryCode::US)
    }

    fn check(allowed: &AllowedRecipients, raw: &str) -> Result<(), NotAllowed> {
        allowed.check(&PhoneNumber::parse(raw, CountryCode::US).unwrap_or_else(|error| panic!("{raw}: {error}")))
    }

    #[test]
    fn by_default_only_the_default_countrys_numbers_are_texted() {
        let allowed = from(&[]).unwrap();
        assert_eq!(allowed, AllowedRecipients::new(vec![CountryCode::US]));
        assert_eq!(from(&[("ALLOWED_COUNTRIES", " , ")]).unwrap(), allowed);
        assert_eq!(check(&allowed, "2025550143"), Ok(()));
        assert_eq!(check(&allowed, "+44 7400 123456"), Err(NotAllowed::Country));
        assert_eq!(check(&allowed, "+1 416 555 0143"), Err(NotAllowed::Country), "Canada shares +1");
    }

    #[test]
    fn more_countries_may_be_allowed() {
        let allowed = from(&[("ALLOWED_COUNTRIES", "us, ca,GB")]).unwrap();
        assert_eq!(check(&allowed, "+1 416 555 0143"), Ok(()));
        assert_eq!(check(&allowed, "+44 7400 123456"), Ok(()));
        assert_eq!(check(&allowed, "+33 6 12 34 56 78"), Err(NotAllowed::Country));
        for refused in ["USA", "ZZ", "US;CA"] {
            assert!(
                matches!(
                    from(&[("ALLOWED_COUNTRIES", refused)]),
                    Err(ConfigError::Invalid { name: "ALLOWED_COUNTRIES", .. })
                ),
                "{refused}"
            );
        }
    }

    #[test]
    fn only_the_kinds_of_number_a_leads_phone_can_be_are_texted() {
        // Example numbers of each kind from libphonenumber's metadata.
        let allowed = from(&[("ALLOWED_COUNTRIES", "US,GB,ES")]).unwrap();
        assert_eq!(check(&allowed, "+1 201 555 0123"), Ok(()), "a US fixed line or mobile");
        assert_eq!(check(&allowed, "+1 500 234 5678"), Ok(()), "a US personal number");
        assert_eq!(check(&allowed, "+1 900 234 5678"), Err(NotAllowed::Kind("a premium-rate number")));
        assert_eq!(check(&allowed, "+1 800 234 5678"), Err(NotAllowed::Kind("a toll-free number")));
        assert_eq!(check(&allowed, "+44 7400 123456"), Ok(()), "a UK mobile");
        assert_eq!(check(&allowed, "+44 20 7946 0018"), Ok(()), "a UK fixed line");
        assert_eq!(check(&allowed, "+44 56 1234 5678"), Ok(()), "a UK VoIP number");
        assert_eq!(check(&allowed, "+44 70 1234 5678"), Ok(()), "a UK personal number");
        assert_eq!(check(&allowed, "+44 901 234 5678"), Err(NotAllowed::Kind("a premium-rate number")));
        assert_eq!(check(&allowed, "+44 7640 123456"), Err(NotAllowed::Kind("a service number")), "a UK pager");
        assert_eq!(check(&allowed, "+44 55 1234 5678"), Err(NotAllowed::Kind("a service number")), "a UK UAN");
        assert_eq!(check(&allowed, "+34 901 123 456"), Err(NotAllowed::Kind("a shared-cost number")));
    }
}
