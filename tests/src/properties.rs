//! What any request body must come to, whatever its bytes: checked by the property tests below on generated
//! bodies and by the fuzz target (`fuzz/`) on fuzzed ones. The webhooks run on the in-memory fakes, sharing one
//! suppression list.
//!
//! Strict only where the product needs a value: a text is sent if and only if its id, phone number and message
//! are usable (and the number may be texted), a call is stored if and only if its id is usable, an opt-out is
//! listed if and only if its number is, a lead event is kept if and only if its number is usable, a transfer set
//! on its call if and only if its id is. No other field, whatever JSON it holds, may cost a 4xx; what is stored
//! is what was sent.

// Test fixtures: one that cannot be built should stop the test at once, loudly.
#![allow(clippy::expect_used)]

use crate::fakes::{FakeLeadEventsHandler, FakePostCall, FakeSendText, FakeTextOptOut, Fakes};
use calls::record::CallRecord;
use lambda_http::Body;
use lambda_http::http::Method;
use lead_events::config::LEAD_EVENTS_MAX_BODY_BYTES;
use leads::event::{LeadEventRecord, LeadRoute, event_key};
use post_call::config::{POST_CALL_MAX_BODY_BYTES, PostCallConfig};
use send_text::config::{SEND_TEXT_MAX_BODY_BYTES, SendTextConfig};
use serde_json::Value;
use text_optout::config::TEXT_OPTOUT_MAX_BODY_BYTES;
use texts::ledger::{TextKey, TextStatus};
use texts::sms::SmsText;
use texts::text::{AllowedRecipients, TextType};
use webhook::config::FromEnvironment;
use webhook::config::SuppressingValues;
use webhook::item::DYNAMODB_ITEM_LIMIT;
use webhook::payload::{Fields, WebhookId, parse_object};
use webhook::phone::{CountryCode, PhoneNumber};
use webhook::pipeline::{Webhook, handle};
use webhook_test_support::events::{TOKEN, env};
use webhook_test_support::stored::{fields_as_sent, same_json, stored_as_sent};

/// The webhooks, their state kept across bodies so that repeated ids meet their first delivery.
pub struct BodyCheck {
    send_text: FakeSendText,
    post_call: FakePostCall,
    text_optout: FakeTextOptOut,
    lead_events: FakeLeadEventsHandler,
    fakes: Fakes,
    /// Who send-text may text, and which end reasons list a number, as the webhooks are configured.
    allowed_recipients: AllowedRecipients,
    suppressing: SuppressingValues,
    /// Drives the handlers: one for every body, as a fuzz iteration must be cheap.
    runtime: tokio::runtime::Runtime,
}

/// What a webhook answered: the HTTP status, and the body's `status` (a 2xx's outcome, such as `sent`).
pub type Answered = (u16, Option<String>);

/// The status and the body parsed as JSON, or why the answer is not JSON.
fn deliver<W: Webhook>(runtime: &tokio::runtime::Runtime, webhook: &W, body: &[u8]) -> Result<(u16, Value), String> {
    deliver_to(runtime, webhook, "/", body)
}

/// [`deliver`] to `path` (a route of lead-events).
fn deliver_to<W: Webhook>(
    runtime: &tokio::runtime::Runtime,
    webhook: &W,
    path: &str,
    body: &[u8],
) -> Result<(u16, Value), String> {
    let request = lambda_http::http::Request::builder()
        .method(Method::POST)
        .uri(path)
        .header("authorization", TOKEN)
        .body(Body::from(body.to_vec()))
        .map_err(|error| format!("test request: {error}"))?;
    let response = runtime.block_on(handle(webhook, request));
    if response.headers().get("content-type").is_none_or(|value| value != "application/json") {
        return Err("not answered as application/json".into());
    }
    let Body::Text(text) = response.body() else { return Err("not a text body".into()) };
    let answer = serde_json::from_str(text).map_err(|error| format!("body is not JSON ({error}): {text}"))?;
    Ok((response.status().as_u16(), answer))
}

/// An item the handler wrote is within DynamoDB's size limit (an [`webhook::item::Item`] holds nothing DynamoDB
/// refuses: it cannot be built with it).
fn storable(item_bytes: usize) -> Result<(), String> {
    match item_bytes <= DYNAMODB_ITEM_LIMIT {
        true => Ok(()),
        false => Err(format!("an item of {item_bytes} bytes")),
    }
}

/// A 4xx must say why, in `error`.
fn client_error(status: u16, answer: &Value) -> Result<(), String> {
    match matches!(status, 400 | 413 | 422) && answer["error"].is_string() {
        true => Ok(()),
        false => Err(format!("answer {status} {answer} is neither a success nor a client error")),
    }
}

/// What the body holds, as the receiver must read it (`webhook::payload::parse_object`: the JSON object sent, a
/// lone surrogate or a byte that is not UTF-8 as U+FFFD, a number no double holds as its digits).
fn payload(body: &[u8]) -> Option<Fields> {
    parse_object(body).ok()
}

/// A non-negative whole number written as a JSON number (`7`, or `7.0` within a double's exact range).
fn whole(number: &serde_json::Number) -> Option<u64> {
    number.as_u64().or_else(|| {
        let float = number.as_f64()?;
        (float.fract() == 0.0 && (0.0..=9_007_199_254_740_992.0).contains(&float)).then_some(float as u64)
    })
}

/// The id the payload really carried, read independently of the handler's reader: a non-negative whole number,
/// as a number or as digits.
fn payload_id(payload: &Fields) -> Option<WebhookId> {
    match payload.get("id")? {
        Value::Number(number) => whole(number),
        Value::String(digits) => {
            let digits = digits.trim();
            (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())).then(|| digits.parse().ok()).flatten()
        }
        _ => None,
    }
    .map(WebhookId::new)
}

/// The payload's number at `field` in E.164, read independently of the handler (a string or a number's digits;
/// the fakes' default country).
fn payload_phone(payload: &Fields, field: &str) -> Option<PhoneNumber> {
    let raw = match payload.get(field)? {
        Value::String(text) => text.clone(),
        Value::Number(number) => whole(number)?.to_string(),
        _ => return None,
    };
    PhoneNumber::parse(&raw, CountryCode::US).ok()
}

/// A text send-text must send: its key, number and the message as it goes out (smart encoded: the fakes run the
/// default settings), when the id, phone and message are usable and the number may be texted (`allowed`).
fn usable_text(payload: &Fields, allowed: &AllowedRecipients) -> Option<(TextKey, PhoneNumber, String)> {
    let id = payload_id(payload)?;
    let phone = payload_phone(payload, "record_phone_number")?;
    allowed.check(&phone).ok()?;
    let message = payload.get("message")?.as_str()?;
    let sent = SmsText::parse(message).ok()?.smart_encoded().as_str().to_owned();
    Some((TextKey { id, text_type: TextType::read(payload.get("type")) }, phone, sent))
}

impl Default for BodyCheck {
    fn default() -> Self {
        let fakes = Fakes::default();
        let send_text_config = SendTextConfig::from_lookup(env(&[])).expect("the fakes' send-text configuration");
        let post_call_config = PostCallConfig::from_lookup(env(&[])).expect("the fakes' post-call configuration");
        Self {
            send_text: fakes.send_text(&[]),
            post_call: fakes.post_call(&[]),
            text_optout: fakes.text_optout(&[]),
            lead_events: fakes.lead_events(&[]),
            fakes,
            allowed_recipients: send_text_config.own.texts.allowed_recipients,
            suppressing: post_call_config.own.calls.suppress_texts_on,
            runtime: tokio::runtime::Builder::new_current_thread().build().expect("a runtime for the handlers"),
        }
    }
}

impl BodyCheck {
    /// send-text answers 200 for a usable text (id, phone, message): `sent` (exactly the payload's message as smart
    /// encoding sends it, once, to its number, its parts kept on its claim), `duplicate` (nothing sent: the text was claimed before) or `opted_out` (nothing sent to a
    /// listed number); a JSON 4xx for any other body (or one over its size limit), sending nothing. Never a panic,
    /// a 5xx, a second text or a text to a listed number.
    pub fn send_text(&self, body: &[u8]) -> Result<Answered, String> {
        let sent_before = self.fakes.sms.sent().len();
        let (status, answer) = deliver(&self.runtime, &self.send_text, body)?;
        let sent = self.fakes.sms.sent();
        let usable = payload(body)
            .and_then(|payload| usable_text(&payload, &self.allowed_recipients))
            .filter(|_| body.len() <= SEND_TEXT_MAX_BODY_BYTES);
        match (status, answer["status"].as_str(), usable) {
            (200, Some("sent"), Some((key, to, message))) => {
                let texted = sent.get(sent_before).filter(|_| sent.len() == sent_before + 1);
                let texted = texted.ok_or("answered sent without exactly one new text")?;
                if self.fakes.opt_outs.item(&texted.to).is_some() {
                    return Err(format!("texted a number on the suppression list: {answer}"));
                }
                let claim = self.fakes.ledger.entry(&key).ok_or("sent without a claim")?;
                storable(claim.item_bytes)
                    .map_err(|refused| format!("claimed what DynamoDB would refuse: {refused}"))?;
                if texted.text != message || texted.to != to.e164() || answer["id"] != key.id.get() {
                    return Err(format!("sent another message, to another number, or answered another id: {answer}"));
                }
                let parts = SmsText::parse(&texted.text).map(|sms| sms.segments().count).map_err(|e| e.to_string())?;
                if claim.item["sms_parts"] != parts {
                    return Err(format!("kept {} parts for a text of {parts}", claim.item["sms_parts"]));
                }
            }
            (200, Some("opted_out"), Some((_, to, _))) => {
                if self.fakes.opt_outs.item(to.e164()).is_none() || sent.len() != sent_before {
                    return Err(format!("opted_out for a number not on the list, or a text sent: {answer}"));
                }
            }
            (200, Some("duplicate"), Some((key, _, _))) => {
                let entry = self.fakes.ledger.entry(&key).ok_or("a duplicate of a text never claimed")?;
                if sent.len() != sent_before || entry.status != TextStatus::Sent {
                    return Err("a duplicate sent a text, or its text was never sent".into());
                }
            }
            (_, _, Some(_)) if status != 413 => {
                return Err(format!("a usable text was answered {status} {answer}"));
            }
            _ => {
                client_error(status, &answer)?;
                if sent.len() != sent_before {
                    return Err(format!("answered {status} but sent a text"));
                }
            }
        }
        Ok((status, answer["status"].as_str().map(str::to_owned)))
    }

    /// post-call answers 200 for a body with a usable id: `stored` (every field as sent, by DynamoDB's rules
    /// storable) or `duplicate` (kept from an earlier delivery); a JSON 4xx for a body without one (or too large
    /// to store at all). Whatever it answers, a call whose end reason suppresses texts lists its number. Never a
    /// panic or a 5xx.
    pub fn post_call(&self, body: &[u8]) -> Result<Answered, String> {
        let stored_before = self.fakes.calls.len();
        let (status, answer) = deliver(&self.runtime, &self.post_call, body)?;
        let stored_now = self.fakes.calls.len();
        let payload = payload(body);
        let id = payload.as_ref().and_then(payload_id).filter(|_| body.len() <= POST_CALL_MAX_BODY_BYTES);
        match (status, answer["status"].as_str(), id) {
            (200, Some(outcome @ ("stored" | "duplicate")), Some(id)) => {
                let item = self.fakes.calls.item(id).ok_or("answered 200 without an item for the id")?;
                let bytes = self.fakes.calls.item_bytes(id).unwrap_or(usize::MAX);
                storable(bytes).map_err(|refused| format!("stored what DynamoDB would refuse: {refused}"))?;
                let added = if outcome == "stored" { 1 } else { 0 };
                if stored_now != stored_before + added || item["id"] != id.get() || answer["id"] != id.get() {
                    return Err(format!("{outcome}, but the table disagrees: {answer}"));
                }
                if let (Some(payload), "stored") = (&payload, outcome) {
                    let mut sent = payload.clone();
                    sent.remove("id");
                    let kept = stored_as_sent(&item, CallRecord::ATTRIBUTES);
                    if !same_json(&Value::Object(sent), &kept) {
                        return Err(format!("stored something other than what was sent: {kept}"));
                    }
                }
            }
            (_, _, Some(_)) if status != 413 => {
                return Err(format!("a call with a usable id was answered {status} {answer}"));
            }
            _ => {
                client_error(status, &answer)?;
                if stored_now != stored_before {
                    return Err(format!("answered {status} but stored an item"));
                }
            }
        }
        let suppressing = payload
            .as_ref()
            .and_then(calls::record::end_reason)
            .is_some_and(|reason| self.suppressing.suppresses(reason));
        let phone = payload.as_ref().and_then(|payload| payload_phone(payload, "record_phone_number"));
        if let (true, Some(phone), false) = (suppressing, phone, body.len() > POST_CALL_MAX_BODY_BYTES)
            && self.fakes.opt_outs.item(phone.e164()).is_none()
        {
            return Err(format!("a suppressing call, answered {status}, did not list its number"));
        }
        Ok((status, answer["status"].as_str().map(str::to_owned)))
    }

    /// text-optout answers 200 `opted_out` with the payload's number on the suppression list (its first record
    /// kept) for a body with a usable number; a JSON 4xx for any other. Never a panic or a 5xx.
    pub fn text_optout(&self, body: &[u8]) -> Result<Answered, String> {
        let listed_before = self.fakes.opt_outs.len();
        let (status, answer) = deliver(&self.runtime, &self.text_optout, body)?;
        let phone = payload(body)
            .and_then(|payload| payload_phone(&payload, "record_phone_number"))
            .filter(|_| body.len() <= TEXT_OPTOUT_MAX_BODY_BYTES);
        match (status, answer["status"].as_str(), phone) {
            (200, Some("opted_out"), Some(phone)) => {
                if self.fakes.opt_outs.item(phone.e164()).is_none() || self.fakes.opt_outs.len() > listed_before + 1 {
                    return Err(format!("opted_out, but the list disagrees: {answer}"));
                }
            }
            (_, _, Some(_)) => return Err(format!("an opt-out of a usable number was answered {status} {answer}")),
            _ => {
                client_error(status, &answer)?;
                if self.fakes.opt_outs.len() != listed_before {
                    return Err(format!("answered {status} but listed a number"));
                }
            }
        }
        Ok((status, answer["status"].as_str().map(str::to_owned)))
    }

    /// lead-events at an event's `route` (`/text`, `/text-classification`, `/text-response`, `/inbound-call`)
    /// answers 200 for a body with a usable number: `stored` or `duplicate` (the body kept once, every field as
    /// sent) or `opted_out` (the number listed: a lead's message that is one of the FCC's words alone always is);
    /// a JSON 4xx for any other body, keeping and listing nothing. Never a panic or a 5xx.
    pub fn lead_event(&self, route: &str, body: &[u8]) -> Result<Answered, String> {
        let (listed_before, kept_before) = (self.fakes.opt_outs.len(), self.fakes.lead_events.len());
        let (status, answer) = deliver_to(&self.runtime, &self.lead_events, route, body)?;
        let payload = payload(body).filter(|_| body.len() <= LEAD_EVENTS_MAX_BODY_BYTES);
        let phone = payload.as_ref().and_then(|payload| payload_phone(payload, "record_phone_number"));
        match (status, answer["status"].as_str(), phone, payload) {
            (200, Some(outcome @ ("stored" | "duplicate" | "opted_out")), Some(phone), Some(payload)) => {
                let kind = LeadRoute::parse(route.trim_start_matches('/')).and_then(LeadRoute::event_kind);
                let key = event_key(kind.ok_or("not an event's route")?, &payload);
                let kept = self.fakes.lead_events.item(phone.e164(), &key).ok_or("no event under the body's key")?;
                if !same_json(&Value::Object(payload.clone()), &fields_as_sent(&kept, LeadEventRecord::ATTRIBUTES)) {
                    return Err(format!("{outcome}, but the event kept is not the body as sent: {kept}"));
                }
                let words = payload.get("message").and_then(Value::as_str).map(|message| message.trim().to_lowercase());
                let fcc_word = route != "/inbound-call"
                    && words.is_some_and(|word| {
                        ["stop", "quit", "end", "revoke", "opt out", "cancel", "unsubscribe"].contains(&word.as_str())
                    });
                let listed = self.fakes.opt_outs.item(phone.e164()).is_some();
                if (outcome == "opted_out" && !listed) || (fcc_word && outcome != "opted_out") {
                    return Err(format!("{outcome} for a reply that said stop or not, the list disagreeing: {answer}"));
                }
            }
            (_, _, Some(_), Some(_)) => return Err(format!("a usable event was answered {status} {answer}")),
            _ => {
                client_error(status, &answer)?;
                if self.fakes.opt_outs.len() != listed_before || self.fakes.lead_events.len() != kept_before {
                    return Err(format!("answered {status} but kept an event or listed a number"));
                }
            }
        }
        Ok((status, answer["status"].as_str().map(str::to_owned)))
    }

    /// lead-events at `/transfer-type` answers 200 `stored` for a body with a usable id, the call's `transfer` then
    /// holding the body as sent (but `id`); a JSON 4xx for any other body, setting nothing. Never a panic or a 5xx.
    pub fn transfer_type(&self, body: &[u8]) -> Result<Answered, String> {
        let calls_before = self.fakes.calls.len();
        let (status, answer) = deliver_to(&self.runtime, &self.lead_events, "/transfer-type", body)?;
        let payload = payload(body).filter(|_| body.len() <= LEAD_EVENTS_MAX_BODY_BYTES);
        let id = payload.as_ref().and_then(payload_id);
        match (status, answer["status"].as_str(), id, payload) {
            (200, Some("stored"), Some(id), Some(mut payload)) => {
                let item = self.fakes.calls.item(id).ok_or("stored, but the call has no item")?;
                let view = serde_json::json!({"transfer": item["transfer"], "stored_as_json": item["transfer_stored_as_json"]});
                payload.remove("id");
                if answer["id"] != id.get()
                    || !same_json(&Value::Object(payload), &stored_as_sent(&view, &[])["transfer"])
                {
                    return Err(format!("the transfer set is not the body as sent: {}", item["transfer"]));
                }
            }
            (_, _, Some(_), Some(_)) => {
                return Err(format!("a transfer with a usable id was answered {status} {answer}"));
            }
            _ => {
                client_error(status, &answer)?;
                if self.fakes.calls.len() != calls_before {
                    return Err(format!("answered {status} but set a transfer"));
                }
            }
        }
        Ok((status, answer["status"].as_str().map(str::to_owned)))
    }
}

#[cfg(test)]
mod tests;
