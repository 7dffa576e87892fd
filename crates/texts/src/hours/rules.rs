//! States whose law allows texting a lead in fewer hours than the federal 08:00 to 21:00 (47 CFR
//! § 64.1200(c)(1)), as data. Where the sources differ, the stricter reading is kept. Legal holidays, which some
//! of these states also close (Alabama, Louisiana, Mississippi, Rhode Island), are not modelled.
//!
//! Sources: the statutes named on each row, as summarised by Drop Cowboy's state guide
//! (<https://www.dropcowboy.com/state-compliance>, updated 2025-11-01), Stello's compliance table
//! (<https://usestello.com/compliance>, reviewed 2026-04-08) and Referrizer's quiet-hours article
//! (<https://support.referrizer.com/en/category/text-campaigns/article/tcpa-quiet-hours-and-state-specific-rules-for-text-campaigns>).

use super::Window;

/// A state's hours: Monday to Friday, Saturday, Sunday; `None` closes the day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StateHours {
    pub state: &'static str,
    pub weekdays: Option<Window>,
    pub saturday: Option<Window>,
    pub sunday: Option<Window>,
    /// The law the hours come from.
    pub source: &'static str,
}

const fn hours(from: u16, to: u16) -> Option<Window> {
    Some(Window { start: from * 60, end: to * 60 })
}

const fn every_day(state: &'static str, window: Option<Window>, source: &'static str) -> StateHours {
    StateHours { state, weekdays: window, saturday: window, sunday: window, source }
}

const fn no_sunday(state: &'static str, window: Option<Window>, source: &'static str) -> StateHours {
    StateHours { state, weekdays: window, saturday: window, sunday: None, source }
}

pub const STATE_HOURS: &[StateHours] = &[
    no_sunday("AL", hours(8, 20), "Ala. Code § 8-19A-1 et seq.; Ala. Admin. Code r. 770-X-5-.17"),
    every_day("CA", hours(9, 21), "Cal. Pub. Util. Code § 2872(c)"),
    every_day("CT", hours(9, 20), "Conn. Gen. Stat. § 42-288a (SB 1058, 2023)"),
    every_day("FL", hours(8, 20), "Fla. Stat. §§ 501.059, 501.616(6)(a)"),
    every_day("IL", hours(9, 21), "815 ILCS 413/15"),
    every_day("KY", hours(10, 21), "KRS 367.46955"),
    no_sunday("LA", hours(8, 20), "La. R.S. 45:844.31 et seq."),
    every_day("MA", hours(8, 20), "Mass. Gen. Laws ch. 159C § 3"),
    every_day("MD", hours(8, 20), "Md. Code Com. Law § 14-3201 et seq. (Stop the Spam Calls Act)"),
    every_day("MI", hours(9, 21), "MCL 750.540e"),
    every_day("MN", hours(9, 21), "Minn. Stat. § 325E.30"),
    no_sunday("MS", hours(8, 20), "Miss. Code § 77-3-725"),
    every_day("NJ", hours(8, 20), "N.J. mini-TCPA (2024), per Referrizer"),
    every_day("NM", hours(9, 21), "New Mexico, per Drop Cowboy"),
    every_day("NV", hours(9, 20), "Nevada, per Drop Cowboy"),
    every_day("OK", hours(8, 20), "Okla. Stat. tit. 15 § 775C.4"),
    // Drop Cowboy's table reads Sunday afternoons only; its Pennsylvania page says federal hours: the stricter.
    StateHours {
        state: "PA",
        weekdays: hours(8, 21),
        saturday: hours(8, 21),
        sunday: Some(Window { start: 13 * 60 + 30, end: 21 * 60 }),
        source: "73 P.S. § 2245.2, per Drop Cowboy",
    },
    StateHours {
        state: "RI",
        weekdays: hours(9, 18),
        saturday: hours(10, 17),
        sunday: None,
        source: "R.I. Gen. Laws § 5-61-3.5",
    },
    StateHours {
        state: "TX",
        weekdays: hours(9, 21),
        saturday: hours(9, 21),
        sunday: hours(12, 21),
        source: "Tex. Bus. & Com. Code § 301.051",
    },
    every_day("WA", hours(8, 20), "RCW 80.36.390"),
];

/// `state`'s own hours, when it has any.
pub fn state_hours(state: &str) -> Option<&'static StateHours> {
    STATE_HOURS.iter().find(|hours| hours.state == state)
}
