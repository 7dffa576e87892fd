//! Phone numbers as SNS needs them: E.164, validated against libphonenumber's metadata.

use phonenumber::Mode;
pub use phonenumber::Type as LineType;
pub use phonenumber::country::Id as CountryCode;
use std::fmt;

/// A valid phone number in E.164 form (`+` and up to 15 digits). Only [`PhoneNumber::parse`] makes one.
///
/// Its `Debug` shows the last four digits only, so it cannot leak into logs by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct PhoneNumber {
    e164: String,
    parsed: phonenumber::PhoneNumber,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PhoneError {
    #[error("the phone number could not be read as a phone number")]
    Unparseable,
    #[error("the phone number is not a valid number for its country")]
    Invalid,
}

impl PhoneNumber {
    /// Parses what 2X sends (`+1…` or a bare national number), reading national numbers as `default_country`.
    pub fn parse(raw: &str, default_country: CountryCode) -> Result<Self, PhoneError> {
        let number = phonenumber::parse(Some(default_country), raw.trim()).map_err(|_| PhoneError::Unparseable)?;
        if !phonenumber::is_valid(&number) {
            return Err(PhoneError::Invalid);
        }
        Ok(Self { e164: number.format().mode(Mode::E164).to_string(), parsed: number })
    }

    /// The region the number belongs to (`None` for a non-geographic number, such as +800's).
    pub fn country(&self) -> Option<CountryCode> {
        self.parsed.country().id()
    }

    /// What kind of line it is, by libphonenumber's metadata (a mobile, a premium-rate service…).
    pub fn line_type(&self) -> LineType {
        self.parsed.number_type(&phonenumber::metadata::DATABASE)
    }

    /// Loads libphonenumber's metadata, which otherwise happens on the first parse, and compiles the patterns
    /// of `country`'s numbers and of their kinds (on first use too): call it during init so the first request
    /// after a cold start pays for neither.
    pub fn load_metadata(country: CountryCode) {
        for form in WARM_UP_FORMS {
            Self::warm_up(form, country);
        }
    }

    fn warm_up(form: &str, country: CountryCode) {
        if let Ok(number) = Self::parse(form, country) {
            let _ = number.line_type();
        }
    }

    /// Runs [`PhoneNumber::load_metadata`] on threads of its own, one per form, and returns at once, so that this
    /// CPU-bound work (~8 ms) overlaps the network-bound rest of initialisation, and the `+` form's own patterns
    /// compile beside the national form's. A later `load_metadata` (the handlers' constructors make one) waits for
    /// the work in progress instead of repeating it.
    pub fn start_loading_metadata(country: CountryCode) {
        for form in WARM_UP_FORMS {
            std::thread::spawn(move || Self::warm_up(form, country));
        }
    }

    /// The full E.164 number, for SNS and storage only: never log it.
    pub fn e164(&self) -> &str {
        &self.e164
    }

    /// The last four digits: all of a number that may be logged.
    pub fn last4(&self) -> &str {
        last4(&self.e164)
    }
}

/// A fictional number (555-01XX), national and international, parsed during init for the side effect of
/// compiling the patterns each form takes: the `+` form's are its own (~1.5 ms on the first request without them).
const WARM_UP_FORMS: [&str; 2] = ["2025550100", "+12025550100"];

/// The last four characters of a (possibly unvalidated) number, for logs.
pub fn last4(raw: &str) -> &str {
    let start = raw.char_indices().rev().nth(3).map_or(0, |(index, _)| index);
    &raw[start..]
}

impl fmt::Debug for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PhoneNumber(…{})", self.last4())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn us(raw: &str) -> Result<String, PhoneError> {
        PhoneNumber::parse(raw, CountryCode::US).map(|n| n.e164().to_owned())
    }

    #[test]
    fn e164_input_is_kept() {
        assert_eq!(us("+12025550143"), Ok("+12025550143".into()));
    }

    #[test]
    fn bare_ten_digit_us_numbers_get_the_country_code() {
        assert_eq!(us("2025550143"), Ok("+12025550143".into()));
        assert_eq!(us("(202) 555-0143"), Ok("+12025550143".into()));
        assert_eq!(us(" 202.555.0143 "), Ok("+12025550143".into()));
    }

    #[test]
    fn national_numbers_follow_the_default_country() {
        let uk = PhoneNumber::parse("020 7946 0018", CountryCode::GB).map(|n| n.e164().to_owned());
        assert_eq!(uk, Ok("+442079460018".into()));
    }

    #[test]
    fn foreign_e164_ignores_the_default_country() {
        assert_eq!(us("+44 20 7946 0018"), Ok("+442079460018".into()));
    }

    #[test]
    fn placeholders_and_impossible_numbers_are_refused() {
        assert_eq!(us("+1..."), Err(PhoneError::Unparseable));
        assert_eq!(us("..."), Err(PhoneError::Unparseable));
        assert_eq!(us(""), Err(PhoneError::Unparseable));
        assert!(us("12345").is_err());
        assert!(us("+1 000 000 0000").is_err());
        // Well-formed, but no US area code starts with 1.
        assert_eq!(us("+1 123 555 0143"), Err(PhoneError::Invalid));
    }

    /// Our patched regex-cache (vendor/regex-cache/FORK.md) no longer checks the metadata's patterns while
    /// loading them, so prove here that every one compiles, with the flags phonenumber compiles them with.
    #[test]
    fn every_metadata_pattern_compiles() {
        let mut patterns: Vec<&str> = Vec::new();
        for country in phonenumber::metadata::DATABASE.iter() {
            let descriptors = country.descriptors();
            let general = std::iter::once(descriptors.general());
            let others = [
                descriptors.fixed_line(),
                descriptors.mobile(),
                descriptors.toll_free(),
                descriptors.premium_rate(),
                descriptors.shared_cost(),
                descriptors.personal_number(),
                descriptors.voip(),
                descriptors.pager(),
                descriptors.uan(),
                descriptors.emergency(),
                descriptors.voicemail(),
                descriptors.short_code(),
                descriptors.standard_rate(),
                descriptors.carrier(),
                descriptors.no_international(),
            ];
            patterns.extend(general.chain(others.into_iter().flatten()).map(|d| d.national_number().as_str()));
            for format in country.formats().iter().chain(country.international_formats()) {
                patterns.push(format.pattern().as_str());
                patterns.extend(format.leading_digits().iter().map(|r| r.as_str()));
            }
            let prefixes =
                [country.international_prefix(), country.national_prefix_for_parsing(), country.leading_digits()];
            patterns.extend(prefixes.into_iter().flatten().map(|r| r.as_str()));
        }
        // 4,734 in libphonenumber 9.0.33: a floor, so an empty iteration cannot pass.
        assert!(patterns.len() > 4_000, "only {} patterns found", patterns.len());
        let broken: Vec<(&str, regex::Error)> = patterns
            .into_iter()
            .filter_map(|p| regex::RegexBuilder::new(p).ignore_whitespace(true).build().err().map(|e| (p, e)))
            .collect();
        assert!(broken.is_empty(), "patterns that do not compile: {broken:#?}");
    }

    #[test]
    fn a_number_knows_its_country_and_kind_of_line() {
        let kind = |raw: &str| PhoneNumber::parse(raw, CountryCode::US).map(|n| (n.country(), n.line_type()));
        assert_eq!(kind("2025550143"), Ok((Some(CountryCode::US), LineType::FixedLineOrMobile)));
        assert_eq!(kind("+1 416 555 0143").map(|(country, _)| country), Ok(Some(CountryCode::CA)));
        assert_eq!(kind("+1 800 234 5678"), Ok((Some(CountryCode::US), LineType::TollFree)));
        assert_eq!(kind("+1 900 234 5678"), Ok((Some(CountryCode::US), LineType::PremiumRate)));
        assert_eq!(kind("+44 7400 123456"), Ok((Some(CountryCode::GB), LineType::Mobile)));
    }

    #[test]
    fn debug_and_last4_show_only_four_digits() {
        let number = PhoneNumber::parse("+12025550143", CountryCode::US).unwrap();
        assert_eq!(number.last4(), "0143");
        assert_eq!(format!("{number:?}"), "PhoneNumber(…0143)");
        assert_eq!(last4("12"), "12");
    }
}
