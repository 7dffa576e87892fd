//! A lead's timeline from the records the stack keeps: every call (and its transfer), text (with its delivery
//! status), inbound text, classification, response and inbound call, oldest first, and the suppression list's
//! entry for the number. Records are read as stored (JSON), leniently: a field of another type is shown as sent.

use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// What the tables hold about one number (E.164).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LeadRecords {
    pub phone: String,
    /// The calls items of the number, each whole (its transfer among its attributes).
    pub calls: Vec<Value>,
    /// The sent-texts items of the number, as the `by-phone` index projects them.
    pub texts: Vec<Value>,
    /// The lead-events items of the number.
    pub events: Vec<Value>,
    /// The number's opt-outs item, when it is listed.
    pub suppression: Option<Value>,
    /// What could not be read, and why (an index an attached older table lacks).
    pub notes: Vec<String>,
}

/// One line of the timeline.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// RFC 3339 (UTC), as stored.
    pub at: String,
    pub kind: &'static str,
    pub summary: String,
    /// The record it is read from, as stored.
    pub record: Value,
}

/// `value` as a person reads it: a string bare, anything else as its JSON; absent as `-`.
fn shown(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => "-".into(),
        Some(Value::String(text)) => text.clone(),
        Some(other) => other.to_string(),
    }
}

/// A lead's or 2X's words, quoted, on one line, clipped.
fn quoted(value: Option<&Value>) -> String {
    let text = shown(value);
    let line: String = text.chars().map(|c| if c.is_control() { ' ' } else { c }).take(80).collect();
    let clipped = if text.chars().count() > 80 { "…" } else { "" };
    format!("\"{line}{clipped}\"")
}

fn at(record: &Value, name: &str) -> String {
    record.get(name).and_then(Value::as_str).unwrap_or_default().to_owned()
}

/// `→ listed (source)` when the event put the number on the suppression list.
fn listing(record: &Value) -> String {
    record
        .get("opt_out_source")
        .map(|source| format!(" → suppression list ({})", shown(Some(source))))
        .unwrap_or_default()
}

fn call_entries(call: &Value) -> Vec<Entry> {
    let details = call.get("call");
    let field = |name: &str| shown(details.and_then(|details| details.get(name)));
    let summary = format!(
        "call {}: {}, answered {}, {} s",
        shown(call.get("id")),
        field("end_reason"),
        field("answered"),
        field("duration")
    );
    let mut entries = vec![Entry { at: at(call, "received_at"), kind: "call", summary, record: call.clone() }];
    if let Some(transfer) = call.get("transfer") {
        let field = |name: &str| shown(transfer.get(name));
        let summary = format!(
            "transfer of call {}: {} ({} s after the transfer, {})",
            shown(call.get("id")),
            field("transfer_type"),
            field("duration"),
            field("call_direction")
        );
        entries.push(Entry {
            at: at(call, "transfer_received_at"),
            kind: "transfer",
            summary,
            record: transfer.clone(),
        });
    }
    entries
}

fn text_entry(text: &Value) -> Entry {
    let delivery =
        text.get("delivery_status").map(|status| format!(", delivery {}", shown(Some(status)))).unwrap_or_default();
    let summary = format!(
        "text {} {}: {}{delivery} {}",
        shown(text.get("id")),
        shown(text.get("text_type")),
        shown(text.get("status")),
        quoted(text.get("message"))
    );
    Entry { at: at(text, "received_at"), kind: "text", summary, record: text.clone() }
}

fn event_entry(event: &Value) -> Entry {
    let (kind, summary) = match event.get("kind").and_then(Value::as_str) {
        Some("inbound-text") => ("inbound text", format!("the lead wrote {}", quoted(event.get("message")))),
        Some("text-classification") => {
            ("classification", format!("{} for {}", shown(event.get("classification")), quoted(event.get("message"))))
        }
        Some("text-response") => {
            ("response", format!("{} answered {}", quoted(event.get("response")), quoted(event.get("message"))))
        }
        Some("inbound-call") => {
            let call = event.get("call");
            let field = |name: &str| shown(call.and_then(|call| call.get(name)));
            (
                "inbound call",
                format!("call {}: {}, {} s", shown(event.get("id")), field("end_reason"), field("duration")),
            )
        }
        _ => ("event", shown(event.get("kind"))),
    };
    Entry { at: at(event, "received_at"), kind, summary: format!("{summary}{}", listing(event)), record: event.clone() }
}

/// Every entry of `records`, oldest first.
pub fn timeline(records: &LeadRecords) -> Vec<Entry> {
    let mut entries: Vec<Entry> = records.calls.iter().flat_map(call_entries).collect();
    entries.extend(records.texts.iter().map(text_entry));
    entries.extend(records.events.iter().map(event_entry));
    // By the instant: RFC 3339 texts with fractions of different lengths do not sort as text.
    let instant = |entry: &Entry| OffsetDateTime::parse(&entry.at, &Rfc3339).ok();
    entries.sort_by(|a, b| instant(a).cmp(&instant(b)).then_with(|| a.at.cmp(&b.at)));
    entries
}

/// The suppression list's line: listed since when and why, or not listed.
fn suppression_line(records: &LeadRecords) -> String {
    match &records.suppression {
        Some(listed) => format!(
            "on the suppression list since {} ({}): no text is sent to it",
            shown(listed.get("opted_out_at")),
            shown(listed.get("source"))
        ),
        None => "not on the suppression list".into(),
    }
}

/// The timeline for a person: the number, its suppression, one line per entry.
pub fn render_text(records: &LeadRecords) -> String {
    let mut text = format!("{}: {}\n", records.phone, suppression_line(records));
    for entry in timeline(records) {
        text += &format!("  {:<30} {:<15} {}\n", entry.at, entry.kind, entry.summary);
    }
    for note in &records.notes {
        text += &format!("  note: {note}\n");
    }
    text
}

/// The timeline for a machine: every record whole, with its time and kind.
pub fn render_json(records: &LeadRecords) -> Value {
    let entries: Vec<Value> = timeline(records)
        .into_iter()
        .map(|entry| json!({"at": entry.at, "kind": entry.kind, "summary": entry.summary, "record": entry.record}))
        .collect();
    json!({"phone": records.phone, "suppression": records.suppression, "timeline": entries, "notes": records.notes})
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records() -> LeadRecords {
        LeadRecords {
            phone: "+12025550143".into(),
            calls: vec![json!({"id": 123, "received_at": "2026-12-05T10:00:00Z",
                "call": {"end_reason": "transferred", "answered": true, "duration": 33},
                "transfer": {"transfer_type": "qualified", "duration": 70, "call_direction": "outbound"},
                "transfer_type": "qualified", "transfer_received_at": "2026-12-05T10:01:00Z"})],
            texts: vec![json!({"id": 1234, "text_type": "pre-call", "status": "sent", "delivery_status": "SUCCESS",
                "message": "Hi David,\nwe call at 5", "received_at": "2026-12-05T09:55:00Z"})],
            events: vec![
                json!({"kind": "inbound-text", "message": "Unsubscribe", "opt_out_source": "text:unsubscribe",
                       "received_at": "2026-12-05T10:05:00Z"}),
                json!({"kind": "text-classification", "message": "How much?", "classification": "pricing",
                       "received_at": "2026-12-05T10:02:00Z"}),
                json!({"kind": "text-response", "message": "How much?", "response": "$49", "received_at": "2026-12-05T10:03:00Z"}),
                json!({"kind": "inbound-call", "id": 7001, "call": {"end_reason": "call_transferred", "duration": "95"},
                       "received_at": "2026-12-05T10:04:00Z"}),
            ],
            suppression: Some(json!({"source": "text:unsubscribe", "opted_out_at": "2026-12-05T10:05:00Z"})),
            notes: vec![],
        }
    }

    #[test]
    fn every_kind_of_record_is_one_line_oldest_first() {
        let kinds: Vec<&str> = timeline(&records()).iter().map(|entry| entry.kind).collect();
        assert_eq!(kinds, ["text", "call", "transfer", "classification", "response", "inbound call", "inbound text"]);
        let mut later_by_text = records();
        later_by_text.texts[0]["received_at"] = "2026-12-05T10:00:00Z".into();
        later_by_text.calls[0]["received_at"] = "2026-12-05T10:00:00.1Z".into();
        let kinds: Vec<&str> = timeline(&later_by_text).iter().map(|entry| entry.kind).collect();
        assert_eq!(&kinds[..2], ["text", "call"], "by the instant, not the text (\".1Z\" sorts before \"Z\")");
        let text = render_text(&records());
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "+12025550143: on the suppression list since 2026-12-05T10:05:00Z (text:unsubscribe): no text is sent to it"
        );
        assert!(
            lines[1].ends_with("text 1234 pre-call: sent, delivery SUCCESS \"Hi David, we call at 5\""),
            "{}",
            lines[1]
        );
        assert!(
            lines[3].contains("transfer of call 123: qualified (70 s after the transfer, outbound)"),
            "{}",
            lines[3]
        );
        assert!(lines[6].contains("call 7001: call_transferred, 95 s"), "a string shown bare: {}", lines[6]);
        assert!(
            lines[7].ends_with("the lead wrote \"Unsubscribe\" → suppression list (text:unsubscribe)"),
            "{}",
            lines[7]
        );
    }

    #[test]
    fn the_json_form_carries_every_record_whole() {
        let json = render_json(&records());
        assert_eq!(json["timeline"].as_array().map(Vec::len), Some(7));
        assert_eq!(json["timeline"][2]["record"]["transfer_type"], "qualified");
        assert_eq!(json["suppression"]["source"], "text:unsubscribe");
        let nothing = LeadRecords { phone: "+12025550100".into(), ..LeadRecords::default() };
        assert_eq!(render_text(&nothing), "+12025550100: not on the suppression list\n");
        assert_eq!(render_json(&nothing)["timeline"], json!([]));
    }
}
