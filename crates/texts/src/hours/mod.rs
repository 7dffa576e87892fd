//! When a lead may be texted: within `TEXT_HOURS` (default 08:00 to 21:00, the TCPA's) at the lead's location,
//! narrowed by the lead's state's own law (`TEXT_HOURS_STATE_RULES`, [`rules`]). Where the lead is comes from the
//! body and the number ([`LeadPlace::of`]); every place the lead may be must allow the text, so an unknown place
//! is held to the strictest of the country's.

mod places;
pub mod rules;

use jiff::civil::{Date, Weekday};
use jiff::tz::{Offset, TimeZone};
use jiff::{Timestamp, ToSpan};
use rules::state_hours;
use serde_json::Value;
use webhook::phone::PhoneNumber;

/// Minutes after local midnight, `start` before `end`: when texting is allowed on a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub start: u16,
    pub end: u16,
}

/// `TEXT_HOURS` or `TEXT_HOURS_STATE_RULES` not as documented.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum HoursError {
    #[error("TEXT_HOURS is not `off` or `HH:MM-HH:MM` with the start before the end")]
    Window,
    #[error("TEXT_HOURS_STATE_RULES is not `on` or `off`")]
    StateRules,
}

impl Window {
    /// The TCPA's: 8 am to 9 pm at the called party's location (47 CFR § 64.1200(c)(1)).
    pub const FEDERAL: Self = Self { start: 8 * 60, end: 21 * 60 };

    /// `HH:MM-HH:MM`, the start before the end.
    pub fn parse(text: &str) -> Result<Self, HoursError> {
        let minute = |clock: &str| -> Option<u16> {
            let (hour, minute) = clock.trim().split_once(':')?;
            let (hour, minute) = (hour.parse::<u16>().ok()?, minute.parse::<u16>().ok()?);
            (hour <= 24 && minute < 60 && hour * 60 + minute <= 24 * 60).then_some(hour * 60 + minute)
        };
        let (start, end) = text.split_once('-').ok_or(HoursError::Window)?;
        match (minute(start), minute(end)) {
            (Some(start), Some(end)) if start < end => Ok(Self { start, end }),
            _ => Err(HoursError::Window),
        }
    }

    fn contains(self, minute: u16) -> bool {
        (self.start..self.end).contains(&minute)
    }

    fn within(self, other: Self) -> Option<Self> {
        let (start, end) = (self.start.max(other.start), self.end.min(other.end));
        (start < end).then_some(Self { start, end })
    }
}

/// When texts may go out (`TEXT_HOURS`, `TEXT_HOURS_STATE_RULES`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextHours {
    /// Any time (accounts that text outside the US).
    Off,
    Guarded {
        window: Window,
        state_rules: bool,
    },
}

/// Whether a text may go out now, and if not, when it first may.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Open,
    /// Closed now; opens at that time, before the deadline asked about.
    OpensAt(Timestamp),
    /// Closed until past the deadline.
    Closed,
}

impl TextHours {
    pub const DEFAULT: Self = Self::Guarded { window: Window::FEDERAL, state_rules: true };

    /// From `TEXT_HOURS` (`off`, or `HH:MM-HH:MM`; unset: 08:00-21:00) and `TEXT_HOURS_STATE_RULES` (`on` or
    /// `off`; unset: on).
    pub fn parse(hours: Option<&str>, state_rules: Option<&str>) -> Result<Self, HoursError> {
        let state_rules = match state_rules.map(|rules| rules.trim().to_ascii_lowercase()).as_deref() {
            None | Some("on" | "true") => true,
            Some("off" | "false") => false,
            Some(_) => return Err(HoursError::StateRules),
        };
        match hours.map(str::trim) {
            Some(hours) if hours.eq_ignore_ascii_case("off") => Ok(Self::Off),
            Some(hours) => Ok(Self::Guarded { window: Window::parse(hours)?, state_rules }),
            None => Ok(Self::Guarded { window: Window::FEDERAL, state_rules }),
        }
    }

    /// Whether a text to `place` may go out at `now`, or when it first may before `deadline`.
    pub fn verdict<'a>(&self, place: &'a LeadPlace, now: Timestamp, deadline: Timestamp) -> Verdict {
        let Self::Guarded { window, state_rules } = *self else { return Verdict::Open };
        let day_window = |state: Option<&str>, weekday: Weekday| -> Option<Window> {
            let Some(own) = state.and_then(state_hours) else { return Some(window) };
            let own = match weekday {
                Weekday::Saturday => own.saturday,
                Weekday::Sunday => own.sunday,
                _ => own.weekdays,
            };
            own.and_then(|own| own.within(window))
        };
        // Without the state rules, no place has a state of its own.
        let states_of = |states: &'a [&'static str]| -> &'a [&'static str] { if state_rules { states } else { &[] } };
        let open_at = |at: Timestamp| {
            place.zones.iter().all(|(zone, states)| {
                let states = states_of(states);
                let local = at.to_zoned(zone.clone());
                let minute = u16::try_from(i32::from(local.hour()) * 60 + i32::from(local.minute())).unwrap_or(0);
                let weekday = local.weekday();
                let allowed = |window: Option<Window>| window.is_some_and(|window| window.contains(minute));
                match states.is_empty() {
                    true => allowed(day_window(None, weekday)),
                    false => states.iter().all(|state| allowed(day_window(Some(state), weekday))),
                }
            })
        };
        if open_at(now) {
            return Verdict::Open;
        }
        // It opens when the last of its places' windows opens: at one of their starts.
        let days = (deadline.as_second() - now.as_second()).div_euclid(86_400) + 2;
        let mut starts: Vec<Timestamp> = place
            .zones
            .iter()
            .flat_map(|(zone, states)| {
                let states = states_of(states);
                let today = now.to_zoned(zone.clone()).date();
                let state_starts = |date: Date| -> Vec<u16> {
                    let mut starts: Vec<u16> = states
                        .iter()
                        .map(|state| day_window(Some(state), date.weekday()))
                        .chain([day_window(None, date.weekday())])
                        .flatten()
                        .map(|window| window.start)
                        .collect();
                    starts.sort_unstable();
                    starts.dedup();
                    starts
                };
                (0..days)
                    .filter_map(move |day| today.checked_add(day.days()).ok())
                    .flat_map(move |date| {
                        state_starts(date).into_iter().filter_map(move |start| {
                            let (hour, minute) = (i8::try_from(start / 60).ok()?, i8::try_from(start % 60).ok()?);
                            date.at(hour, minute, 0, 0).to_zoned(zone.clone()).ok().map(|zoned| zoned.timestamp())
                        })
                    })
                    .collect::<Vec<_>>()
            })
            .filter(|start| *start > now && *start <= deadline)
            .collect();
        starts.sort();
        starts.into_iter().find(|start| open_at(*start)).map_or(Verdict::Closed, Verdict::OpensAt)
    }
}

/// Where a lead may be: each time zone whose clock may be the lead's, with the US states the lead may be in on
/// that clock (none: no state's own rule applies).
#[derive(Debug, Clone)]
pub struct LeadPlace {
    zones: Vec<(TimeZone, Vec<&'static str>)>,
}

impl LeadPlace {
    /// The lead of `phone`, whose body sent `record_timezone` and `record_zip_code` (as any JSON).
    ///
    /// The clock: `record_timezone`, a fixed offset (`UTC-8`, `UTC+5:30`, `-5`), and with it each zone of the
    /// number's area code (else of the country) whose standard offset it is, as 2X may send a zone's standard
    /// offset all year; unusable or absent, the area code's zones; unknown, every zone of the US's states. The
    /// state: the ZIP code's, else the area code's, else (unknown) every state.
    pub fn of(record_timezone: Option<&Value>, record_zip_code: Option<&Value>, phone: &PhoneNumber) -> Self {
        let area = area_code(phone).and_then(|npa| places::AREA_CODES.iter().find(|(code, ..)| *code == npa));
        let zip_states = record_zip_code.and_then(zip_prefix).and_then(|prefix| {
            places::ZIP_PREFIXES.iter().find(|(known, _)| *known == prefix).map(|(_, states)| states.to_vec())
        });
        // Each zone the lead's clock may be, with the states the lead may be in on it.
        let mut zones: Vec<(TimeZone, Vec<&'static str>)> = match (area, &zip_states) {
            (Some((_, state, zones)), _) => {
                let states = zip_states.clone().unwrap_or_else(|| vec![*state]);
                zones.iter().filter_map(|zone| TimeZone::get(zone).ok()).map(|zone| (zone, states.clone())).collect()
            }
            // Unknown number: each state on each of its own zones (a ZIP code's states only, when sent).
            (None, _) => state_zones(zip_states.as_deref()),
        };
        if let Some(offset) = record_timezone.and_then(fixed_offset) {
            let every_state = zones.iter().flat_map(|(_, states)| states.iter().copied()).collect::<Vec<_>>();
            let standard = |(zone, _): &(TimeZone, Vec<&'static str>)| zone.to_offset(JANUARY) == offset;
            zones.retain(standard);
            zones.push((TimeZone::fixed(offset), dedup(every_state)));
        }
        Self { zones }
    }
}

fn dedup(mut states: Vec<&'static str>) -> Vec<&'static str> {
    states.sort_unstable();
    states.dedup();
    states
}

/// Each zone of the US's states (or of `only` these), with the states that keep it.
fn state_zones(only: Option<&[&'static str]>) -> Vec<(TimeZone, Vec<&'static str>)> {
    let mut zones: Vec<(&'static str, Vec<&'static str>)> = Vec::new();
    let wanted = |state: &str| match only {
        Some(only) => only.contains(&state),
        None => !matches!(state, "PR" | "GU" | "VI" | "AS" | "MP"),
    };
    for (_, state, names) in places::AREA_CODES.iter().filter(|(_, state, _)| wanted(state)) {
        for name in *names {
            match zones.iter_mut().find(|(known, _)| known == name) {
                Some((_, states)) => states.push(state),
                None => zones.push((name, vec![state])),
            }
        }
    }
    zones.into_iter().filter_map(|(name, states)| Some((TimeZone::get(name).ok()?, dedup(states)))).collect()
}

/// A winter instant: a zone's offset then is its standard offset (in the northern hemisphere, where the US is).
const JANUARY: Timestamp = Timestamp::constant(1_767_225_600, 0);

/// The area code of a North American number.
fn area_code(phone: &PhoneNumber) -> Option<u16> {
    let national = phone.e164().strip_prefix("+1")?;
    national.get(..3)?.parse().ok()
}

/// `UTC-8`, `GMT+5:30`, `UTC`, `-5`, or a JSON number of hours.
fn fixed_offset(value: &Value) -> Option<Offset> {
    let minutes = match value {
        Value::Number(hours) => {
            let minutes = hours.as_f64()? * 60.0;
            (minutes.fract() == 0.0).then_some(minutes as i32)?
        }
        Value::String(text) => {
            let text = text.trim().to_ascii_uppercase();
            let signed = text.strip_prefix("UTC").or_else(|| text.strip_prefix("GMT")).unwrap_or(&text).trim();
            if signed.is_empty() && text.len() == 3 {
                0
            } else {
                let (sign, rest) = match signed.split_at_checked(1)? {
                    ("+", rest) => (1, rest),
                    ("-", rest) => (-1, rest),
                    _ => return None,
                };
                let (hours, minutes) = rest.split_once(':').unwrap_or((rest, "0"));
                let (hours, minutes) = (hours.parse::<i32>().ok()?, minutes.parse::<i32>().ok()?);
                (minutes < 60).then_some(sign * (hours * 60 + minutes))?
            }
        }
        _ => return None,
    };
    ((-12 * 60)..=(14 * 60)).contains(&minutes).then(|| Offset::from_seconds(minutes * 60).ok())?
}

/// The first three digits of a US ZIP code sent as a string (`"02110"`, `"02110-1234"`) or a number (`2110`).
fn zip_prefix(value: &Value) -> Option<String> {
    let digits: String = match value {
        Value::Number(number) => format!("{:05}", number.as_u64().filter(|zip| *zip <= 99_999)?),
        Value::String(text) => text.trim().chars().take_while(char::is_ascii_digit).collect(),
        _ => return None,
    };
    (digits.len() == 5).then(|| digits[..3].to_owned())
}

#[cfg(test)]
mod tests;
