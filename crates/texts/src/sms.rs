//! The text of an SMS as SNS accepts it, and the parts carriers bill it as (GSM-7 or UCS-2). Counted here rather
//! than with `sms_splitter`, the one crate for it (unchanged since 2022, little used, and it builds each part
//! where only the count is needed).

/// SNS refuses a direct publish over 1,600 bytes.
pub const MAX_SMS_BYTES: usize = 1600;

/// A message that is not blank and fits one SNS publish. Only [`SmsText::parse`] makes one.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SmsText<'a>(&'a str);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SmsTextError {
    #[error("the message is empty")]
    Empty,
    #[error("the message is {0} bytes; SNS accepts at most 1600")]
    TooLong(usize),
}

impl<'a> SmsText<'a> {
    pub fn parse(message: &'a str) -> Result<Self, SmsTextError> {
        if message.trim().is_empty() {
            Err(SmsTextError::Empty)
        } else if message.len() > MAX_SMS_BYTES {
            Err(SmsTextError::TooLong(message.len()))
        } else {
            Ok(Self(message))
        }
    }

    pub fn as_str(&self) -> &'a str {
        self.0
    }

    /// How carriers will encode and split this text, which is what SNS bills.
    pub fn segments(&self) -> Segments {
        segments(self.0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmsEncoding {
    /// The GSM 03.38 7-bit alphabet: 160 characters in one part, 153 per part when split.
    Gsm7,
    /// Any character outside GSM-7 (an emoji, most non-Latin scripts) switches the whole text to UCS-2:
    /// 70 UTF-16 units in one part, 67 per part when split.
    Ucs2,
}

impl SmsEncoding {
    pub fn name(self) -> &'static str {
        match self {
            Self::Gsm7 => "GSM-7",
            Self::Ucs2 => "UCS-2",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segments {
    pub encoding: SmsEncoding,
    pub count: usize,
}

/// GSM 03.38 basic character set (one septet each).
const GSM7_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?\
    ¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
/// GSM 03.38 extension table: an escape septet plus one, so two each.
const GSM7_EXTENSION: &str = "\u{c}^{}\\[~]|€";

fn segments(text: &str) -> Segments {
    let septets = |c: char| match (GSM7_BASIC.contains(c), GSM7_EXTENSION.contains(c)) {
        (true, _) => Some(1),
        (false, true) => Some(2),
        (false, false) => None,
    };
    match text.chars().map(septets).collect::<Option<Vec<usize>>>() {
        Some(widths) => Segments { encoding: SmsEncoding::Gsm7, count: parts(&widths, 160, 153) },
        None => {
            let widths: Vec<usize> = text.chars().map(char::len_utf16).collect();
            Segments { encoding: SmsEncoding::Ucs2, count: parts(&widths, 70, 67) }
        }
    }
}

/// The parts a text of characters `widths` (septets, or UTF-16 units) is split into: one up to `single`, else
/// parts of `per_part` filled in order, a character never split across two (an extension character's escape
/// and septet, a surrogate pair's halves), as carriers split.
fn parts(widths: &[usize], single: usize, per_part: usize) -> usize {
    if widths.iter().sum::<usize>() <= single {
        return 1;
    }
    let (mut parts, mut used) = (1, 0);
    for width in widths {
        if used + width > per_part {
            (parts, used) = (parts + 1, 0);
        }
        used += width;
    }
    parts
}

/// Never shows the text: message texts stay out of logs.
impl std::fmt::Debug for SmsText<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SmsText({} bytes)", self.0.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_messages_are_refused() {
        assert_eq!(SmsText::parse(""), Err(SmsTextError::Empty));
        assert_eq!(SmsText::parse(" \n\t"), Err(SmsTextError::Empty));
    }

    #[test]
    fn the_limit_is_1600_bytes_not_characters() {
        assert!(SmsText::parse(&"a".repeat(1600)).is_ok());
        assert_eq!(SmsText::parse(&"a".repeat(1601)), Err(SmsTextError::TooLong(1601)));
        // 401 four-byte emoji: 401 characters but 1,604 bytes.
        assert_eq!(SmsText::parse(&"😀".repeat(401)), Err(SmsTextError::TooLong(1604)));
    }

    fn parts(text: &str) -> (SmsEncoding, usize) {
        let segments = SmsText::parse(text).unwrap().segments();
        (segments.encoding, segments.count)
    }

    #[test]
    fn gsm7_texts_fit_160_characters_in_one_part_and_153_per_part_after() {
        assert_eq!(parts("We will call you in several minutes."), (SmsEncoding::Gsm7, 1));
        assert_eq!(parts(&"a".repeat(160)), (SmsEncoding::Gsm7, 1));
        assert_eq!(parts(&"a".repeat(161)), (SmsEncoding::Gsm7, 2));
        assert_eq!(parts(&"a".repeat(306)), (SmsEncoding::Gsm7, 2));
        assert_eq!(parts(&"a".repeat(307)), (SmsEncoding::Gsm7, 3));
        assert_eq!(parts("Ça coûte 5€? Ñandú, Øre, ß, Δ @ £ ¥ §"), (SmsEncoding::Ucs2, 1), "û is not GSM-7");
        assert_eq!(parts("Ça coute 5€? Ñandú @ £ ¥ § Δ"), (SmsEncoding::Ucs2, 1), "ú is not GSM-7 either");
        assert_eq!(parts("Ça coute 5€? Ñandu @ £ ¥ § Δ\nnew line"), (SmsEncoding::Gsm7, 1));
    }

    #[test]
    fn extension_characters_take_two_septets() {
        assert_eq!(parts(&"€".repeat(80)), (SmsEncoding::Gsm7, 1));
        assert_eq!(parts(&"€".repeat(81)), (SmsEncoding::Gsm7, 2));
        assert_eq!(parts(&"{}".repeat(41)), (SmsEncoding::Gsm7, 2));
    }

    #[test]
    fn one_emoji_switches_the_whole_text_to_ucs2() {
        assert_eq!(parts("Sorry we missed you! 📞"), (SmsEncoding::Ucs2, 1));
        assert_eq!(parts(&"a".repeat(70)), (SmsEncoding::Gsm7, 1));
        assert_eq!(parts(&format!("{}📞", "a".repeat(68))), (SmsEncoding::Ucs2, 1), "an emoji is two UTF-16 units");
        assert_eq!(parts(&format!("{}📞", "a".repeat(69))), (SmsEncoding::Ucs2, 2));
        assert_eq!(parts(&"я".repeat(134)), (SmsEncoding::Ucs2, 2));
        assert_eq!(parts(&"я".repeat(135)), (SmsEncoding::Ucs2, 3));
    }

    /// A character is never split across parts: a part may end one septet (or unit) short.
    #[test]
    fn an_extension_character_or_a_surrogate_pair_at_a_part_boundary_starts_the_next_part() {
        let a = |n: usize| "a".repeat(n);
        assert_eq!(parts(&format!("{}€{}", a(152), a(152))), (SmsEncoding::Gsm7, 3), "306 septets, yet 3 parts");
        assert_eq!(parts(&format!("{}€{}", a(151), a(153))), (SmsEncoding::Gsm7, 2), "the € ends part 1 exactly");
        let ya = |n: usize| "я".repeat(n);
        assert_eq!(parts(&format!("{}📞{}", ya(66), ya(66))), (SmsEncoding::Ucs2, 3), "134 units, yet 3 parts");
        assert_eq!(parts(&format!("{}📞{}", ya(65), ya(67))), (SmsEncoding::Ucs2, 2), "the pair ends part 1 exactly");
    }

    proptest::proptest! {
        /// Without a character of two (septets or units), the parts are the plain division.
        #[test]
        fn texts_of_single_width_characters_split_by_plain_division(n in 1usize..1600, latin in proptest::bool::ANY) {
            let (text, single, per_part) = if latin { ("a".repeat(n), 160, 153) } else { ("я".repeat(n / 2), 70, 67) };
            let units = text.chars().count();
            proptest::prop_assume!(units > 0);
            let expected = if units <= single { 1 } else { units.div_ceil(per_part) };
            proptest::prop_assert_eq!(parts(&text).1, expected);
        }
    }

    #[test]
    fn debug_hides_the_text() {
        assert_eq!(format!("{:?}", SmsText::parse("secret plans").unwrap()), "SmsText(12 bytes)");
    }
}
