//! Whether a lead's reply says stop. Since 11 April 2025 the FCC counts a reply of *stop, quit, end, revoke, opt
//! out, cancel* or *unsubscribe* as revoking consent (47 CFR 64.1200(a)(10)). 2X's Text Opt-out webhook fires
//! for STOP only; every other way arrives as an inbound text.
//!
//! The boundary, chosen to list every reply that is such a word and nothing a person writes for another reason:
//! the message, case-folded, split into words at anything but a letter or a digit (punctuation, emoji, spaces;
//! a hyphen or an apostrophe joins, so `opt-out` is `optout` and `don't` is `dont`), `opt … out` read as `optout`
//! (with only filler between: "opt me out"), must hold at least one of [`OPT_OUT_WORDS`] and otherwise only
//! [`FILLER_WORDS`], in any number. "STOP", "Unsubscribe 🙏", "opt-out please", "please unsubscribe me from your
//! list", "No. Stop calling me" list the number; "Stop by at 5?", "What time will you call?", "cancel my
//! appointment" do not. A reply in other words ("don't text me again", "remove me") is left to 2X's
//! classification (`SUPPRESS_TEXTS_ON_CLASSIFICATIONS`).

/// The FCC's words, as [`words`] reads them (`opt out` joined), and CTIA's `stopall`.
pub const OPT_OUT_WORDS: [&str; 8] = ["stop", "quit", "end", "revoke", "optout", "cancel", "unsubscribe", "stopall"];

/// Words that may stand beside an opt-out word without changing what the reply says.
pub const FILLER_WORDS: [&str; 52] = [
    "please",
    "pls",
    "plz",
    "me",
    "now",
    "thanks",
    "thank",
    "you",
    "thx",
    "ty",
    "i",
    "want",
    "to",
    "from",
    "this",
    "the",
    "list",
    "all",
    "messages",
    "message",
    "msgs",
    "texts",
    "text",
    "texting",
    "txt",
    "sms",
    "it",
    "just",
    "right",
    "immediately",
    "asap",
    "ok",
    "okay",
    "yes",
    "y",
    "sorry",
    "of",
    "us",
    "no",
    "your",
    "my",
    "u",
    "calling",
    "call",
    "calls",
    "contacting",
    "messaging",
    "sending",
    "send",
    "these",
    "anymore",
    "again",
];

/// The reply's words: case-folded letters and digits; a hyphen or an apostrophe joins, anything else separates.
pub fn words(message: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    for character in message.chars() {
        if character.is_alphanumeric() {
            word.extend(character.to_lowercase());
        } else if !matches!(character, '-' | '\u{2010}' | '\u{2011}' | '\'' | '\u{2018}' | '\u{2019}')
            && !word.is_empty()
        {
            words.push(std::mem::take(&mut word));
        }
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}

/// The opt-out word the reply `message` says stop with, as [`OPT_OUT_WORDS`] spells it; `None` for any other
/// reply.
pub fn opt_out_word(message: &str) -> Option<&'static str> {
    let mut said = None;
    // An `opt` waiting for its `out` (filler between allowed).
    let mut opt = false;
    for word in words(message) {
        match word.as_str() {
            "opt" => opt = true,
            "out" if opt => {
                opt = false;
                said.get_or_insert("optout");
            }
            word => match OPT_OUT_WORDS.iter().find(|opt_out| **opt_out == word) {
                Some(opt_out) => {
                    said.get_or_insert(*opt_out);
                }
                None if FILLER_WORDS.contains(&word) => {}
                None => return None,
            },
        }
    }
    said.filter(|_| !opt)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn every_fcc_word_alone_or_with_filler_says_stop() {
        let cases = [
            ("STOP", "stop"),
            ("stop.", "stop"),
            ("  Quit  ", "quit"),
            ("End", "end"),
            ("Revoke", "revoke"),
            ("REVOKE!!!", "revoke"),
            ("opt out", "optout"),
            ("Opt-Out", "optout"),
            ("optout", "optout"),
            ("opt\u{2011}out please", "optout"),
            ("cancel", "cancel"),
            ("Unsubscribe", "unsubscribe"),
            ("Unsubscribe 🙏", "unsubscribe"),
            ("🛑 stop 🛑", "stop"),
            ("stop please", "stop"),
            ("please unsubscribe me", "unsubscribe"),
            ("Stop texting me", "stop"),
            ("STOP ALL", "stop"),
            ("stopall", "stopall"),
            ("Unsubscribe me from this list, thanks", "unsubscribe"),
            ("yes, cancel", "cancel"),
            ("Please please STOP texting me right now, thank you!!", "stop"),
            ("Stop calling me", "stop"),
            ("stop contacting me", "stop"),
            ("Please stop messaging me", "stop"),
            ("stop sending me texts", "stop"),
            ("Unsubscribe me from your list", "unsubscribe"),
            ("No. STOP", "stop"),
            ("Opt me out", "optout"),
            ("opt out, opt out", "optout"),
        ];
        for (message, word) in cases {
            assert_eq!(opt_out_word(message), Some(word), "{message:?}");
        }
    }

    #[test]
    fn an_ordinary_reply_says_nothing() {
        for message in [
            "What time will you call?",
            "Stop by at 5?",
            "cancel my appointment",
            "I'll be at the end of the street",
            "Can you stop calling during work hours? Evenings are fine",
            "Yes",
            "OK thanks",
            "",
            "🛑",
            "stopping by later",
            "don't",
            "opt in",
            "opt",
            "out",
            "I'm out",
            "No more texts please",
        ] {
            assert_eq!(opt_out_word(message), None, "{message:?}");
        }
    }

    fn reply_that_only_says_stop() -> impl Strategy<Value = (String, &'static str)> {
        let filler = prop::sample::select(FILLER_WORDS.to_vec());
        let separator = prop::sample::select(vec![" ", ", ", "! ", "  ", " 🙏 ", "\n", "... "]);
        (prop::sample::select(OPT_OUT_WORDS.to_vec()), prop::collection::vec((filler, separator), 0..4), 0..4usize)
            .prop_map(|(word, fillers, at): (&str, Vec<(&str, &str)>, usize)| {
                let mut parts: Vec<String> = fillers.iter().map(|(f, s)| format!("{f}{s}")).collect();
                parts.insert(at.min(parts.len()), format!("{} ", word.to_uppercase()));
                (parts.concat(), word)
            })
    }

    proptest! {
        #[test]
        fn a_word_with_filler_in_any_case_and_punctuation_says_stop((message, word) in reply_that_only_says_stop()) {
            prop_assert_eq!(opt_out_word(&message), Some(word));
        }

        #[test]
        fn one_word_that_is_neither_says_nothing(
            (message, _) in reply_that_only_says_stop(),
            other in "[a-z]{2,9}".prop_filter("neither", |w| {
                !OPT_OUT_WORDS.contains(&w.as_str()) && !FILLER_WORDS.contains(&w.as_str()) && w != "opt"
            }),
        ) {
            prop_assert_eq!(opt_out_word(&format!("{message} {other}")), None);
        }

        #[test]
        fn any_text_is_read_without_panicking(message in any::<String>()) {
            let _ = opt_out_word(&message);
        }
    }
}
