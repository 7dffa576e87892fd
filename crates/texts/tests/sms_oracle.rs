//! Our encoding, parts and smart encoding against an independent oracle: Twilio's published segment calculator
//! (npm `sms-segments-calculator`), whose answers `scripts/record-sms-oracle` recorded in `twilio-oracle.json`
//! (recorded, so the tests need no Node). Each case: the text's encoding and parts as written, and the text
//! smart encoding sends. Where our table deliberately differs from Twilio's (`sms.rs`, `look_alike`), the
//! difference is listed here, character by character.

#![allow(clippy::unwrap_used)]

use serde_json::Value;
use texts::sms::SmsText;

/// Twilio's entries we answer otherwise: `Some(equivalent)`, or `None` for a character left as written.
fn ours_instead_of_twilios(code: u32) -> Option<Option<&'static str>> {
    Some(match code {
        // One space, not two (Twilio's wide spaces) or seven (its tab).
        0xa0 | 0x2000 | 0x2002..=0x200a | 0x202f | 0x205f | 0x3000 | 0x09 => Some(" "),
        0x2028 | 0x2029 => Some("\n"),
        0x2039 | 0x203a | 0x201a => Some("'"),
        0xfe10 | 0xfe11 => Some(","),
        // Between digits, as in these cases: "5½30" is five and a half, then 30; not 51/230.
        0xbc => Some(" 1/4 "),
        0xbd => Some(" 1/2 "),
        0xbe => Some(" 3/4 "),
        // C1 controls: U+0080 is mostly a euro sign decoded as Latin-1, which a space would lose.
        0x80 | 0x8d | 0x90 | 0x9b | 0x9f => None,
        // Combining marks change the letter before them.
        0x302 | 0x303 | 0x313 | 0x314 | 0x326 | 0x330 | 0x332 | 0x334 | 0x337 | 0x338 | 0x347 | 0x1dcd | 0x20d2
        | 0x20d3 | 0x20e5 => None,
        // Letters: the click letter and the small capitals.
        0x1c3 | 0x1d00 | 0x299 | 0x1d04 | 0x1d05 | 0x1d07 | 0xa730 | 0x262 | 0x29c | 0x26a | 0x1d0a | 0x1d0b
        | 0x29f | 0x1d0d | 0x274 | 0x1d0f | 0x1d18 | 0x280 | 0xa731 | 0x1d1b | 0x1d1c | 0x1d20 | 0x1d21 | 0x28f
        | 0x1d22 => None,
        _ => return None,
    })
}

/// The cases we count otherwise than Twilio's calculator, with our parts. Twilio keeps a grapheme (an emoji and
/// its skin tone: 4 UTF-16 units) in one part; a carrier's concatenation splits UTF-16 units and keeps only a
/// surrogate pair whole, and so do we. SNS's own count on each delivery record (`SmsPartsMismatch`) would show
/// otherwise.
fn counted_otherwise(name: &str) -> Option<u64> {
    (name == "UCS-2: an emoji with a skin tone across the end of part 1").then_some(2)
}

struct Answer<'a> {
    text: &'a str,
    encoding: &'a str,
    parts: u64,
}

fn answer(value: &Value) -> Answer<'_> {
    Answer {
        text: value["text"].as_str().unwrap(),
        encoding: value["encoding"].as_str().unwrap(),
        parts: value["parts"].as_u64().unwrap(),
    }
}

fn ours(text: &str) -> (&'static str, u64) {
    let segments = SmsText::parse(text).unwrap().segments();
    (segments.encoding.name(), segments.count as u64)
}

#[test]
fn encoding_parts_and_smart_encoding_agree_with_twilios_calculator() {
    let oracle: Value = serde_json::from_str(include_str!("twilio-oracle.json")).unwrap();
    assert_eq!(oracle["calculator"], "sms-segments-calculator@1.3.0");
    let cases = oracle["cases"].as_array().unwrap();
    let (mut replacements, mut differences) = (0, 0);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let written = answer(case);
        let twilio = answer(&case["smart"]);
        match counted_otherwise(name) {
            Some(parts) => {
                assert_ne!(parts, written.parts, "{name}: listed as counted otherwise, yet Twilio agrees");
                assert_eq!(ours(written.text), (written.encoding, parts), "{name}: as written, counted our way");
                continue;
            }
            None => assert_eq!(ours(written.text), (written.encoding, written.parts), "{name}: as written"),
        }

        let sent = SmsText::parse(written.text).unwrap().smart_encoded();
        let code = name
            .strip_prefix("replacement U+")
            .map(|rest| u32::from_str_radix(&rest[..rest.find(' ').unwrap()], 16).unwrap());
        replacements += usize::from(code.is_some());
        match code.and_then(ours_instead_of_twilios) {
            Some(instead) => {
                differences += 1;
                let expected = match instead {
                    Some(equivalent) => written.text.replacen(|c: char| u32::from(c) == code.unwrap(), equivalent, 1),
                    None => written.text.to_owned(),
                };
                assert_eq!(sent.as_str(), expected, "{name}: our table differs here");
                assert_ne!(sent.as_str(), twilio.text, "{name}: listed as a difference, yet the same as Twilio's");
            }
            None => {
                // Ours replaces only when the whole text becomes GSM-7 in no more parts; Twilio's always.
                let worth_it = twilio.encoding == "GSM-7" && twilio.parts <= written.parts;
                let (text, encoding, parts) = match worth_it {
                    true => (twilio.text, twilio.encoding, twilio.parts),
                    false => (written.text, written.encoding, written.parts),
                };
                assert_eq!(sent.as_str(), text, "{name}: sent");
                let segments = sent.segments();
                assert_eq!((segments.encoding.name(), segments.count as u64), (encoding, parts), "{name}: sent");
            }
        }
    }
    assert_eq!(replacements, 271, "every entry of Twilio's table");
    assert_eq!(differences, 70, "the entries we answer otherwise");
}
