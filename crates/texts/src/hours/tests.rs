use super::*;
use jiff::civil::date;
use serde_json::json;
use webhook::phone::CountryCode;

fn phone(raw: &str) -> PhoneNumber {
    PhoneNumber::parse(raw, CountryCode::US).unwrap_or_else(|error| panic!("{raw}: {error}"))
}

/// `hour:minute` on `day` (of 2026) in `zone`.
fn at(zone: &str, (month, day): (i8, i8), (hour, minute): (i8, i8)) -> Timestamp {
    let zone = TimeZone::get(zone).unwrap();
    date(2026, month, day).at(hour, minute, 0, 0).to_zoned(zone).unwrap().timestamp()
}

fn place(timezone: Option<Value>, zip: Option<Value>, raw_phone: &str) -> LeadPlace {
    LeadPlace::of(timezone.as_ref(), zip.as_ref(), &phone(raw_phone))
}

/// The verdict for `place` at `now`, waiting at most `hours`.
fn verdict(hours: TextHours, place: &LeadPlace, now: Timestamp, wait_hours: i64) -> Verdict {
    hours.verdict(place, now, now.checked_add(wait_hours.hours()).unwrap())
}

const NEW_YORK: &str = "America/New_York";
// 2026-12-02 is a Wednesday, 2026-12-06 a Sunday.
const WEDNESDAY: (i8, i8) = (12, 2);
const SUNDAY: (i8, i8) = (12, 6);

#[test]
fn a_lead_at_noon_is_texted_and_at_23_00_waits_for_8_00_or_is_outside_hours() {
    let new_yorker = place(None, None, "+1 212 555 0143");
    assert_eq!(verdict(TextHours::DEFAULT, &new_yorker, at(NEW_YORK, WEDNESDAY, (12, 0)), 1), Verdict::Open);

    let late = at(NEW_YORK, WEDNESDAY, (23, 0));
    assert_eq!(verdict(TextHours::DEFAULT, &new_yorker, late, 1), Verdict::Closed, "a pre-call text cannot wait 9 h");
    let morning = at(NEW_YORK, (12, 3), (8, 0));
    assert_eq!(verdict(TextHours::DEFAULT, &new_yorker, late, 12), Verdict::OpensAt(morning));
    assert_eq!(verdict(TextHours::Off, &new_yorker, late, 1), Verdict::Open);
}

#[test]
fn a_florida_zip_at_20_30_waits_beside_a_new_york_zip_that_is_texted() {
    let evening = at(NEW_YORK, WEDNESDAY, (20, 30));
    // The sample event's lead, as 2X sends it (`events/send-text-florida-lead.json`).
    let lead = webhook_test_support::events::sample_body("send-text-florida-lead");
    let field = |name: &str| lead.get(name).cloned();
    let number = lead["record_phone_number"].as_str().unwrap_or_default();
    let miami = place(field("record_timezone"), field("record_zip_code"), number);
    let manhattan = place(Some(json!("UTC-5")), Some(json!("10001")), "+1 212 555 0143");
    assert_eq!(verdict(TextHours::DEFAULT, &miami, evening, 1), Verdict::Closed, "Florida: 8 am to 8 pm");
    assert_eq!(verdict(TextHours::DEFAULT, &manhattan, evening, 1), Verdict::Open);
    let without_state_rules = TextHours::Guarded { window: Window::FEDERAL, state_rules: false };
    assert_eq!(verdict(without_state_rules, &miami, evening, 1), Verdict::Open);
}

#[test]
fn a_texas_zip_on_a_sunday_morning_waits_for_noon() {
    let austin = place(None, Some(json!(78701)), "+1 512 555 0143");
    let chicago_time = "America/Chicago";
    let sunday_morning = at(chicago_time, SUNDAY, (10, 0));
    assert_eq!(
        verdict(TextHours::DEFAULT, &austin, sunday_morning, 4),
        Verdict::OpensAt(at(chicago_time, SUNDAY, (12, 0)))
    );
    assert_eq!(verdict(TextHours::DEFAULT, &austin, at(chicago_time, WEDNESDAY, (10, 0)), 1), Verdict::Open);
}

#[test]
fn an_offset_with_minutes_is_the_leads_clock() {
    let mumbai = place(Some(json!("UTC+5:30")), None, "+91 98765 43210");
    let rules_off = TextHours::Guarded { window: Window::FEDERAL, state_rules: false };
    let kolkata = "Asia/Kolkata";
    let early = at(kolkata, WEDNESDAY, (7, 45));
    assert_eq!(verdict(rules_off, &mumbai, early, 1), Verdict::OpensAt(at(kolkata, WEDNESDAY, (8, 0))));
    assert_eq!(verdict(rules_off, &mumbai, at(kolkata, WEDNESDAY, (20, 59)), 1), Verdict::Open);
}

#[test]
fn an_unknown_offset_falls_back_to_the_area_code() {
    let evening = at(NEW_YORK, WEDNESDAY, (20, 30));
    for unknown in [json!("Mars/Olympus"), json!("UTC-99"), json!({"tz": -5}), json!("")] {
        let new_yorker = place(Some(unknown.clone()), None, "+1 212 555 0143");
        assert_eq!(verdict(TextHours::DEFAULT, &new_yorker, evening, 1), Verdict::Open, "{unknown}");
        let seattle = place(Some(unknown.clone()), None, "+1 206 555 0143");
        let seattle_evening = at("America/Los_Angeles", WEDNESDAY, (20, 30));
        assert_eq!(verdict(TextHours::DEFAULT, &seattle, seattle_evening, 1), Verdict::Closed, "{unknown}: WA 8 pm");
    }
}

#[test]
fn a_standard_offset_sent_in_summer_is_held_to_the_zones_daylight_time_too() {
    // 2X's `UTC-5` for a New Yorker in July: 8:30 daylight time is 7:30 at UTC-5, so the text waits for 9:00
    // daylight time (8:00 at UTC-5), and stops at 21:00 daylight time.
    let new_yorker = place(Some(json!("UTC-5")), None, "+1 212 555 0143");
    let july = (7, 15);
    let (morning, nine) = (at(NEW_YORK, july, (8, 30)), at(NEW_YORK, july, (9, 0)));
    assert_eq!(verdict(TextHours::DEFAULT, &new_yorker, morning, 2), Verdict::OpensAt(nine));
    assert_eq!(verdict(TextHours::DEFAULT, &new_yorker, at(NEW_YORK, july, (20, 59)), 1), Verdict::Open);
    assert_eq!(verdict(TextHours::DEFAULT, &new_yorker, at(NEW_YORK, july, (21, 0)), 1), Verdict::Closed);
}

#[test]
fn a_number_of_no_known_place_is_held_to_every_states_hours() {
    // A personal (5XX) number, no offset, no ZIP code: Eastern's evening and Hawaii's morning both bound it,
    // and Kentucky's 10 am and Rhode Island's 6 pm.
    let anywhere = place(None, None, "+1 500 234 5678");
    let noon_eastern = at(NEW_YORK, WEDNESDAY, (12, 0));
    assert_ne!(verdict(TextHours::DEFAULT, &anywhere, noon_eastern, 1), Verdict::Open, "7 am in Hawaii");
    let afternoon = at(NEW_YORK, WEDNESDAY, (15, 30));
    assert_eq!(verdict(TextHours::DEFAULT, &anywhere, afternoon, 1), Verdict::Open, "10:30 in Hawaii, 3:30 pm in RI");
    assert_eq!(
        verdict(TextHours::DEFAULT, &anywhere, at(NEW_YORK, SUNDAY, (15, 30)), 48),
        Verdict::OpensAt(at("Pacific/Honolulu", (12, 7), (8, 0)))
    );
}

#[test]
fn text_hours_are_read_as_documented() {
    assert_eq!(TextHours::parse(None, None), Ok(TextHours::DEFAULT));
    assert_eq!(TextHours::parse(Some(" OFF "), None), Ok(TextHours::Off));
    assert_eq!(
        TextHours::parse(Some("09:30-20:00"), Some("off")),
        Ok(TextHours::Guarded { window: Window { start: 570, end: 1200 }, state_rules: false })
    );
    for wrong in ["21:00-08:00", "8-21", "08:00", "25:00-26:00", "08:60-09:00", ""] {
        assert_eq!(TextHours::parse(Some(wrong), None), Err(HoursError::Window), "{wrong}");
    }
    assert_eq!(TextHours::parse(None, Some("sometimes")), Err(HoursError::StateRules));
}

#[test]
fn offsets_and_zip_codes_are_read_as_any_sender_writes_them() {
    let minutes = |value: Value| fixed_offset(&value).map(|offset| offset.seconds() / 60);
    assert_eq!(minutes(json!("UTC-8")), Some(-480));
    assert_eq!(minutes(json!("utc+5:30")), Some(330));
    assert_eq!(minutes(json!("GMT-03:30")), Some(-210));
    assert_eq!(minutes(json!("UTC")), Some(0));
    assert_eq!(minutes(json!(-5)), Some(-300));
    assert_eq!(minutes(json!(5.75)), Some(345));
    assert_eq!(minutes(json!("-5")), Some(-300));
    for unusable in [json!("PST"), json!("UTC-15"), json!("UTC+5:75"), json!(null), json!(-5.01)] {
        assert_eq!(minutes(unusable.clone()), None, "{unusable}");
    }
    assert_eq!(zip_prefix(&json!("02110-1234")).as_deref(), Some("021"));
    assert_eq!(zip_prefix(&json!(2110)).as_deref(), Some("021"), "a ZIP code sent as a number loses its zero");
    assert_eq!(zip_prefix(&json!("2110")), None);
    assert_eq!(zip_prefix(&json!(123_456)), None);
}

#[test]
fn the_state_rules_are_windows_inside_a_day() {
    for hours in rules::STATE_HOURS {
        for window in [hours.weekdays, hours.saturday, hours.sunday].into_iter().flatten() {
            assert!(window.start < window.end && window.end <= 24 * 60, "{}", hours.state);
        }
        assert!(!hours.source.is_empty(), "{} names its source", hours.state);
    }
}
