//! Who may be texted: a number of a country the customer texts (`ALLOWED_COUNTRIES`, by default the default
//! country alone) and of a kind a lead's own phone can be. Any other valid number is refused before any AWS
//! call: a leaked token, or a bug upstream, must not become texts to premium-rate or foreign numbers (SMS
//! pumping) that the customer pays for.

use webhook::phone::{CountryCode, LineType, PhoneNumber};

/// The countries whose numbers may be texted (`ALLOWED_COUNTRIES`, read by `config`).
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

    fn allowed(countries: &[CountryCode]) -> AllowedRecipients {
        AllowedRecipients::new(countries.to_vec())
    }

    fn check(allowed: &AllowedRecipients, raw: &str) -> Result<(), NotAllowed> {
        allowed.check(&PhoneNumber::parse(raw, CountryCode::US).unwrap_or_else(|error| panic!("{raw}: {error}")))
    }

    #[test]
    fn only_numbers_of_the_allowed_countries_are_texted() {
        let us = allowed(&[CountryCode::US]);
        assert_eq!(check(&us, "2025550143"), Ok(()));
        assert_eq!(check(&us, "+44 7400 123456"), Err(NotAllowed::Country));
        assert_eq!(check(&us, "+1 416 555 0143"), Err(NotAllowed::Country), "Canada shares +1");
        let more = allowed(&[CountryCode::US, CountryCode::CA, CountryCode::GB]);
        assert_eq!(check(&more, "+1 416 555 0143"), Ok(()));
        assert_eq!(check(&more, "+44 7400 123456"), Ok(()));
        assert_eq!(check(&more, "+33 6 12 34 56 78"), Err(NotAllowed::Country));
    }

    #[test]
    fn only_the_kinds_of_number_a_leads_phone_can_be_are_texted() {
        // Example numbers of each kind from libphonenumber's metadata.
        let allowed = allowed(&[CountryCode::US, CountryCode::GB, CountryCode::ES]);
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
