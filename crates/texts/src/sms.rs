//! The text of an SMS as SNS accepts it, the parts carriers bill it as (GSM-7 or UCS-2), and smart encoding, which
//! sends a text's look-alike characters as GSM-7 when that makes the whole text GSM-7. Counted here rather than
//! with `sms_splitter`, the one crate for it (unchanged since 2022, little used, and it builds each part where
//! only the count is needed). Checked against Twilio's published calculator (`tests/sms_oracle.rs`).

use std::borrow::Cow;

/// SNS refuses a direct publish over 1,600 bytes.
pub const MAX_SMS_BYTES: usize = 1600;

/// A message that is not blank and fits one SNS publish, with how carriers will encode and split it. Only
/// [`SmsText::parse`] makes one; [`SmsText::smart_encoded`] may replace its look-alike characters.
#[derive(Clone, PartialEq, Eq)]
pub struct SmsText<'a> {
    text: Cow<'a, str>,
    billing: SmsBilling,
}

/// What a text is billed as, and what smart encoding saved on it: kept on the sent text and in the metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SmsBilling {
    pub segments: Segments,
    /// Characters smart encoding replaced: 0 when the text goes out as 2X wrote it.
    pub characters_replaced: usize,
    /// The parts smart encoding saved against the text as written.
    pub parts_saved: usize,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SmsTextError {
    #[error("the message is empty")]
    Empty,
    #[error("the message is {0} bytes; SNS accepts at most 1600")]
    TooLong(usize),
}

impl<'a> SmsText<'a> {
    /// Refuses a message with nothing to read: blank, or only invisible characters (zero-width spaces, a byte
    /// order mark, control characters), which would cost a part and say nothing.
    pub fn parse(message: &'a str) -> Result<Self, SmsTextError> {
        if message.chars().all(|c| c.is_whitespace() || look_alike(c) == Some("")) {
            Err(SmsTextError::Empty)
        } else if message.len() > MAX_SMS_BYTES {
            Err(SmsTextError::TooLong(message.len()))
        } else {
            let billing = SmsBilling { segments: segments(message), characters_replaced: 0, parts_saved: 0 };
            Ok(Self { text: Cow::Borrowed(message), billing })
        }
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// How carriers will encode and split this text, which is what SNS bills.
    pub fn segments(&self) -> Segments {
        self.billing.segments
    }

    /// The segments, and what [`SmsText::smart_encoded`] replaced and saved.
    pub fn billing(&self) -> SmsBilling {
        self.billing
    }

    /// This text with its look-alike characters (a curly quote, a dash, a non-breaking space…) replaced by their
    /// GSM-7 equivalents, as Twilio, Telnyx and others do and SNS does not: only when that makes the whole text
    /// GSM-7 in no more parts. Otherwise the text as written: replacing a quote saves nothing in a text that an
    /// emoji or another script keeps in UCS-2. Letters are never changed (but fullwidth ones, the same letter in
    /// another width), nor anything transliterated.
    pub fn smart_encoded(self) -> Self {
        let written = self.billing.segments;
        if written.encoding == SmsEncoding::Gsm7 {
            return self;
        }
        let (mut replaced, mut characters_replaced) = (String::with_capacity(self.text.len()), 0);
        let mut characters = self.text.chars().peekable();
        while let Some(character) = characters.next() {
            match look_alike(character) {
                Some(equivalent) => {
                    // "1½" is one and a half, "½2" a half and two: not "11/2", eleven halves, nor "1/22".
                    let fraction = is_vulgar_fraction(character);
                    if fraction && replaced.ends_with(is_digit) {
                        replaced.push(' ');
                    }
                    replaced.push_str(equivalent);
                    let digit_next = characters.peek().is_some_and(|next| is_digit(*next));
                    if fraction && digit_next {
                        replaced.push(' ');
                    }
                    characters_replaced += 1;
                }
                None => replaced.push(character),
            }
        }
        let segments = segments(&replaced);
        let better = segments.encoding == SmsEncoding::Gsm7 && segments.count <= written.count;
        // A fraction grows the text, and SNS's limit is in bytes. (Nothing blank is left: `parse` refuses a message
        // of only what the table drops or turns to spaces.)
        if characters_replaced == 0 || !better || replaced.len() > MAX_SMS_BYTES {
            return self;
        }
        let parts_saved = written.count - segments.count;
        Self { text: Cow::Owned(replaced), billing: SmsBilling { segments, characters_replaced, parts_saved } }
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

/// The septets of each ASCII character in GSM-7 (0: outside it), from the two tables: most texts are ASCII, and
/// a look-up spares a scan of the alphabet per character.
const ASCII_SEPTETS: [u8; 128] = {
    /// `septets` with each ASCII character of `alphabet` set to `width`. (A byte below 128 in UTF-8 is an ASCII
    /// character, never part of another.)
    const fn with(mut septets: [u8; 128], alphabet: &str, width: u8) -> [u8; 128] {
        let bytes = alphabet.as_bytes();
        let mut at = 0;
        while at < bytes.len() {
            if bytes[at] < 128 {
                septets[bytes[at] as usize] = width;
            }
            at += 1;
        }
        septets
    }
    with(with([0; 128], GSM7_BASIC, 1), GSM7_EXTENSION, 2)
};

/// A character's septets in GSM-7; `None` outside it.
fn septets(character: char) -> Option<usize> {
    if let Some(ascii) = ASCII_SEPTETS.get(character as usize) {
        return (*ascii > 0).then_some(usize::from(*ascii));
    }
    match (GSM7_BASIC.contains(character), GSM7_EXTENSION.contains(character)) {
        (true, _) => Some(1),
        (false, true) => Some(2),
        (false, false) => None,
    }
}

fn segments(text: &str) -> Segments {
    match text.chars().map(septets).collect::<Option<Vec<usize>>>() {
        Some(widths) => Segments { encoding: SmsEncoding::Gsm7, count: parts(&widths, 160, 153) },
        None => {
            let widths: Vec<usize> = text.chars().map(char::len_utf16).collect();
            Segments { encoding: SmsEncoding::Ucs2, count: parts(&widths, 70, 67) }
        }
    }
}

/// The GSM-7 equivalent of a look-alike character: Twilio's smart-encoding table (sms-segments-calculator 1.3.0,
/// `SmartEncodingMap.ts`), each entry checked, with these changes (`tests/sms_oracle.rs` holds each one):
/// - a space of any width is one space (Twilio: two), a tab one space (Twilio: seven), a line or paragraph
///   separator a line break (Twilio: a space);
/// - `‹ ›` and the low `‚` are quotes, `'` (Twilio: `< >`, `,`); the vertical commas U+FE10 and U+FE11 are
///   commas (Twilio: `'`);
/// - combining marks are left as written: `n` + U+0303 is `ñ`, which Twilio would send as `n~`;
/// - letters are left as written: the small capitals (`ʀ`, `ɪ`, `ʏ` are IPA letters) and the click letter `ǃ`
///   (the only letters replaced are fullwidth ones, the same letters in another width by Unicode's compatibility
///   mapping, and the modifier letters written as apostrophes and quotes, `ʻ ʼ ʽ ʹ ʺ ˮ ˈ ˊ ˋ`, and `ː ˆ`);
/// - C1 control characters are left as written (Twilio: five of them a space): U+0080 is mostly a `€` decoded
///   as Latin-1, which a space would lose;
/// - a fraction beside a digit is set apart by a space: `1½` is `1 1/2`, not `11/2`;
/// - added: the non-breaking hyphen, the figure dash, the minus and the small em dash (`-`), the primes (`'`
///   `"`), the fullwidth small letters, and every other ASCII control character and the soft hyphen (invisible:
///   dropped).
///
/// Every key is outside GSM-7 and every equivalent inside it (tested), which keeps smart encoding idempotent.
fn look_alike(character: char) -> Option<&'static str> {
    Some(match character {
        '\u{ab}' | '\u{bb}' | '\u{201c}' | '\u{201d}' | '\u{2ba}' | '\u{2ee}' | '\u{201f}' | '\u{201e}'
        | '\u{275d}' | '\u{275e}' | '\u{301d}' | '\u{301e}' | '\u{ff02}' | '\u{2033}' => "\"",
        '\u{2018}' | '\u{2019}' | '\u{2bb}' | '\u{2c8}' | '\u{2bc}' | '\u{2bd}' | '\u{2b9}' | '\u{201b}'
        | '\u{ff07}' | '\u{b4}' | '\u{2ca}' | '`' | '\u{2cb}' | '\u{275b}' | '\u{275c}' | '\u{2039}' | '\u{203a}'
        | '\u{2032}' | '\u{201a}' => "'",
        '\u{f7}' | '\u{29f8}' | '\u{2044}' | '\u{2215}' | '\u{ff0f}' => "/",
        '\u{bc}' => "1/4",
        '\u{bd}' => "1/2",
        '\u{be}' => "3/4",
        '\u{29f9}' | '\u{29f5}' | '\u{fe68}' | '\u{ff3c}' => "\\",
        '\u{ff3f}' | '\u{2017}' => "_",
        '\u{2223}' | '\u{ff5c}' | '\u{23b8}' | '\u{23b9}' | '\u{23d0}' | '\u{239c}' | '\u{239f}' => "|",
        '\u{23bc}' | '\u{23bd}' | '\u{2015}' | '\u{fe63}' | '\u{ff0d}' | '\u{2010}' | '\u{2043}' | '\u{2014}'
        | '\u{2013}' | '\u{2022}' | '\u{2011}' | '\u{2012}' | '\u{2212}' | '\u{fe58}' => "-",
        '\u{fe6b}' | '\u{ff20}' => "@",
        '\u{fe69}' | '\u{ff04}' => "$",
        '\u{fe15}' | '\u{fe57}' | '\u{ff01}' => "!",
        '\u{203c}' => "!!",
        '\u{fe5f}' | '\u{ff03}' => "#",
        '\u{fe6a}' | '\u{ff05}' => "%",
        '\u{fe60}' | '\u{ff06}' => "&",
        '\u{fe50}' | '\u{fe51}' | '\u{ff0c}' | '\u{ff64}' | '\u{3001}' | '\u{fe10}' | '\u{fe11}' => ",",
        '\u{2768}' | '\u{276a}' | '\u{fe59}' | '\u{ff08}' | '\u{27ee}' | '\u{2985}' => "(",
        '\u{2769}' | '\u{276b}' | '\u{fe5a}' | '\u{ff09}' | '\u{27ef}' | '\u{2986}' => ")",
        '\u{204e}'
        | '\u{2217}'
        | '\u{229b}'
        | '\u{2722}'..='\u{2725}'
        | '\u{2731}'..='\u{2733}'
        | '\u{273a}'..='\u{273d}'
        | '\u{2743}'
        | '\u{2749}'..='\u{274b}'
        | '\u{29c6}'
        | '\u{fe61}'
        | '\u{ff0a}' => "*",
        '\u{2d6}' | '\u{fe62}' | '\u{ff0b}' => "+",
        '\u{3002}' | '\u{fe52}' | '\u{ff0e}' | '\u{ff61}' => ".",
        '\u{2026}' => "...",
        '\u{2d0}' | '\u{2f8}' | '\u{2982}' | '\u{a789}' | '\u{fe13}' | '\u{ff1a}' => ":",
        '\u{204f}' | '\u{fe14}' | '\u{fe54}' | '\u{ff1b}' => ";",
        '\u{fe64}' | '\u{ff1c}' => "<",
        '\u{a78a}' | '\u{fe66}' | '\u{ff1d}' => "=",
        '\u{fe65}' | '\u{ff1e}' => ">",
        '\u{fe16}' | '\u{fe56}' | '\u{ff1f}' => "?",
        '\u{2c6}' | '\u{ff3e}' => "^",
        '\u{2774}' | '\u{fe5b}' | '\u{ff5b}' => "{",
        '\u{2775}' | '\u{fe5c}' | '\u{ff5d}' => "}",
        '\u{ff3b}' => "[",
        '\u{ff3d}' => "]",
        '\u{2dc}' | '\u{2f7}' | '\u{223c}' | '\u{ff5e}' => "~",
        // Fullwidth digits and capitals are the ASCII ones in another width (Unicode's compatibility mapping).
        '\u{ff10}'..='\u{ff19}' | '\u{ff21}'..='\u{ff3a}' | '\u{ff41}'..='\u{ff5a}' => return fullwidth(character),
        '\u{a0}' | '\u{2000}'..='\u{200a}' | '\u{202f}' | '\u{205f}' | '\u{3000}' | '\t' => " ",
        '\u{2028}' | '\u{2029}' => "\n",
        '\u{200b}' | '\u{200c}' | '\u{2060}' | '\u{feff}' | '\u{ad}' => "",
        // Invisible controls (not GSM-7's line feed, carriage return and form feed).
        '\0'..='\u{1f}' | '\u{7f}' if !matches!(character, '\n' | '\r' | '\u{c}') => "",
        _ => return None,
    })
}

/// A fullwidth digit or letter (`０`, `Ａ`, `ａ`) as its ASCII character: U+FF01 to U+FF5E are U+0021 to U+007E.
fn fullwidth(character: char) -> Option<&'static str> {
    const ASCII: &str =
        "!\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~";
    let at = usize::try_from(u32::from(character).checked_sub(0xff01)?).ok()?;
    ASCII.get(at..=at)
}

/// A digit, ASCII or fullwidth (which becomes ASCII).
fn is_digit(character: char) -> bool {
    character.is_ascii_digit() || ('\u{ff10}'..='\u{ff19}').contains(&character)
}

fn is_vulgar_fraction(character: char) -> bool {
    matches!(character, '\u{bc}' | '\u{bd}' | '\u{be}')
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
        write!(f, "SmsText({} bytes)", self.text.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_messages_are_refused() {
        assert_eq!(SmsText::parse(""), Err(SmsTextError::Empty));
        assert_eq!(SmsText::parse(" \n\t"), Err(SmsTextError::Empty));
        assert_eq!(
            SmsText::parse("\u{200b}\u{feff} \u{ad}\u{0}"),
            Err(SmsTextError::Empty),
            "only invisible characters"
        );
        assert!(SmsText::parse("\u{200b}hi").is_ok());
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

    fn smart(text: &str) -> (String, SmsEncoding, usize, usize) {
        let sent = SmsText::parse(text).unwrap().smart_encoded();
        let billing = sent.billing();
        (sent.as_str().to_owned(), billing.segments.encoding, billing.segments.count, billing.characters_replaced)
    }

    #[test]
    fn every_look_alike_is_outside_gsm7_and_its_equivalent_inside() {
        let mut looked = 0;
        for character in (0..=0x3_ffff).filter_map(char::from_u32) {
            if let Some(equivalent) = look_alike(character) {
                looked += 1;
                assert_eq!(septets(character), None, "U+{:04X} is GSM-7 already", u32::from(character));
                assert!(equivalent.chars().all(|c| septets(c).is_some()), "U+{:04X}", u32::from(character));
            }
        }
        // Twilio's 271, less 40 combining marks and letters and 5 C1 controls, plus 7 dashes, primes and the soft
        // hyphen, 26 fullwidth small letters and 19 more invisible controls.
        assert_eq!(looked, 278, "the table's size: a change to it is deliberate");
    }

    /// The letters the table replaces: fullwidth ones (the same letter) and the modifier letters written as
    /// apostrophes, quotes, a colon and a caret. No other letter, of any script.
    #[test]
    fn the_only_letters_replaced_are_fullwidth_and_punctuation_like_modifiers() {
        let modifiers = "\u{2bb}\u{2bc}\u{2bd}\u{2b9}\u{2ba}\u{2ee}\u{2c8}\u{2ca}\u{2cb}\u{2d0}\u{2c6}";
        for character in (0..=0x3_ffff).filter_map(char::from_u32).filter(|c| look_alike(*c).is_some()) {
            if character.is_alphabetic() {
                let fullwidth = ('\u{ff21}'..='\u{ff5a}').contains(&character);
                assert!(fullwidth || modifiers.contains(character), "U+{:04X} is a letter", u32::from(character));
            }
        }
    }

    #[test]
    fn the_ascii_look_up_agrees_with_the_alphabet() {
        for character in (0u8..128).map(char::from) {
            let scanned = match (GSM7_BASIC.contains(character), GSM7_EXTENSION.contains(character)) {
                (true, _) => Some(1),
                (false, true) => Some(2),
                (false, false) => None,
            };
            assert_eq!(septets(character), scanned, "{character:?}");
        }
    }

    #[test]
    fn a_pasted_text_goes_out_as_gsm7_with_its_look_alikes_replaced() {
        let pasted = "Hi Dana, it\u{2019}s Sam from Brightside Solar. I\u{2019}ll call you in about 5 minutes \u{2014} talk soon!";
        let expected = "Hi Dana, it's Sam from Brightside Solar. I'll call you in about 5 minutes - talk soon!";
        assert_eq!(smart(pasted), (expected.to_owned(), SmsEncoding::Gsm7, 1, 3));
        let sent = SmsText::parse(pasted).unwrap().smart_encoded();
        assert_eq!((SmsText::parse(pasted).unwrap().segments().count, sent.billing().parts_saved), (2, 1));
    }

    #[test]
    fn texts_smart_encoding_would_not_make_gsm7_go_out_as_written() {
        for written in [
            "It\u{2019}s Sam \u{1f4de} we\u{2019}ll call in 5",
            "\u{41f}\u{440}\u{438}\u{432}\u{435}\u{442} \u{2014} \u{43c}\u{44b} \u{43f}\u{43e}\u{437}\u{432}\u{43e}\u{43d}\u{438}\u{43c}",
            "\u{60a8}\u{597d}\u{ff01}\u{6211}\u{4eec}\u{5c06}\u{7ed9}\u{60a8}\u{6253}\u{7535}\u{8bdd}\u{3002}",
            // n + combining tilde is ñ: never sent as n~.
            "Se\u{f1}or Pen\u{303}a, we\u{2019}ll call",
            // Letters are never transliterated, small capitals included.
            "\u{1d04}\u{29c}\u{1d07}\u{1d04}\u{1d0b} it\u{2019}s here",
        ] {
            let sms = SmsText::parse(written).unwrap();
            let written_segments = sms.segments();
            let sent = sms.smart_encoded();
            assert_eq!(
                (sent.as_str(), sent.segments(), sent.billing().characters_replaced),
                (written, written_segments, 0)
            );
        }
    }

    #[test]
    fn smart_encoding_never_costs_a_part() {
        // 70 ellipses are one UCS-2 part; as 210 full stops they would be two GSM-7 parts.
        let ellipses = "\u{2026}".repeat(70);
        assert_eq!(smart(&ellipses), (ellipses.clone(), SmsEncoding::Ucs2, 1, 0));
        assert_eq!(smart(&"\u{2026}".repeat(50)), (".".repeat(150), SmsEncoding::Gsm7, 1, 50));
    }

    /// SNS's limit is in bytes, and a fraction grows: a text it would take past 1,600 goes out as written.
    #[test]
    fn a_text_smart_encoding_would_take_past_1600_bytes_goes_out_as_written() {
        let written = format!("{}{}", "a".repeat(1300), "\u{bd} ".repeat(100));
        assert_eq!(written.len(), 1600);
        assert_eq!(smart(&written), (written.clone(), SmsEncoding::Ucs2, 23, 0));
    }

    #[test]
    fn a_fraction_beside_a_digit_keeps_its_value() {
        assert_eq!(smart("Call in 1\u{bd} hours").0, "Call in 1 1/2 hours");
        assert_eq!(smart("At 5\u{bc}30").0, "At 5 1/4 30");
        assert_eq!(smart("\u{ff15}\u{bd} miles").0, "5 1/2 miles", "a fullwidth digit too");
        assert_eq!(smart("\u{bd} hour").0, "1/2 hour");
        assert_eq!(smart("Take \u{bc}").0, "Take 1/4");
    }

    #[test]
    fn spaces_are_one_space_line_separators_a_line_break_and_invisible_characters_go() {
        assert_eq!(smart("a\u{a0}b\u{2009}c\u{3000}d\te").0, "a b c d e");
        assert_eq!(smart("line\u{2028}next\u{2029}end").0, "line\nnext\nend");
        assert_eq!(smart("zero\u{200b}width\u{ad}soft\u{7}bell\u{feff}").0, "zerowidthsoftbell");
        assert_eq!(smart("\u{2039}quoted\u{203a} \u{2032}5\u{2033}").0, "'quoted' '5\"");
        assert_eq!(smart("non\u{2011}breaking \u{2012} \u{2212}5").0, "non-breaking - -5");
        assert_eq!(smart("\u{ff21}\u{ff3a}\u{ff41}\u{ff5a}\u{ff10}\u{ff19}").0, "AZaz09");
        assert_eq!(smart("\u{201a}low\u{2018}").0, "'low'", "a low quote is a quote, not a comma");
        assert_eq!(smart("5\u{80} \u{2019}").0, "5\u{80} \u{2019}", "a C1 control (a Latin-1 euro?) is kept");
        assert_eq!(smart("keep\r\nlines\u{c}").0, "keep\r\nlines\u{c}", "GSM-7 already: unchanged");
    }

    /// Characters a sender's text is made of: GSM-7 (basic and extension), look-alikes, and what keeps a text
    /// UCS-2 (an emoji, Cyrillic, a combining mark, a small capital).
    const ALPHABET: &[char] = &[
        'a',
        'Z',
        ' ',
        '.',
        '\n',
        '\r',
        '\'',
        '"',
        '-',
        '5',
        '\u{c}',
        '\u{e9}',
        '\u{c7}',
        '\u{20ac}',
        '{',
        '\\',
        '~',
        '\u{2019}',
        '\u{201c}',
        '\u{201d}',
        '\u{2014}',
        '\u{2013}',
        '\u{2026}',
        '\u{a0}',
        '\u{200b}',
        '\u{bd}',
        '\u{ff01}',
        '\t',
        '\u{2028}',
        '\u{2039}',
        '\u{1f4de}',
        '\u{44f}',
        '\u{303}',
        '\u{1d00}',
        '\u{e7}',
    ];

    fn text_of(alphabet: Vec<char>) -> impl proptest::strategy::Strategy<Value = String> {
        proptest::collection::vec(proptest::sample::select(alphabet), 1..420)
            .prop_map(|characters| characters.into_iter().collect::<String>())
            .prop_filter("an SMS", |text| SmsText::parse(text).is_ok())
    }

    use proptest::strategy::Strategy;

    proptest::proptest! {
        #[test]
        fn smart_encoding_never_adds_a_part_and_is_idempotent(text in text_of(ALPHABET.to_vec())) {
            let written = SmsText::parse(&text).unwrap();
            let once = written.clone().smart_encoded();
            proptest::prop_assert!(once.segments().count <= written.segments().count);
            proptest::prop_assert_eq!(once.segments().count + once.billing().parts_saved, written.segments().count);
            let once_text = once.as_str().to_owned();
            let twice = SmsText::parse(&once_text).unwrap().smart_encoded();
            proptest::prop_assert_eq!(twice.as_str(), once.as_str());
            proptest::prop_assert_eq!(twice.billing().characters_replaced, 0);
            if once.billing().characters_replaced > 0 {
                proptest::prop_assert_eq!(once.segments().encoding, SmsEncoding::Gsm7);
            } else {
                proptest::prop_assert_eq!(once.as_str(), text.as_str());
            }
        }

        #[test]
        fn a_gsm7_text_is_left_as_written(text in text_of(GSM7_BASIC.chars().chain(GSM7_EXTENSION.chars()).collect())) {
            let written = SmsText::parse(&text).unwrap();
            proptest::prop_assert_eq!(written.segments().encoding, SmsEncoding::Gsm7);
            let sent = written.smart_encoded();
            proptest::prop_assert_eq!(sent.as_str(), text.as_str());
            proptest::prop_assert_eq!(sent.billing().characters_replaced, 0);
        }
    }

    #[test]
    fn debug_hides_the_text() {
        assert_eq!(format!("{:?}", SmsText::parse("secret plans").unwrap()), "SmsText(12 bytes)");
    }
}
