//! What any request body must come to, whatever its bytes: checked by the property tests below on generated
//! bodies and by the fuzz target (`fuzz/`) on fuzzed ones. The webhooks run on the in-memory fakes, sharing one
//! suppression list.

use crate::events::TOKEN;
use crate::opt_outs::FakeOptOuts;
use crate::post_call::{FakePostCall, post_call_with};
use crate::send_text::{FakeSendText, send_text_with};
use crate::text_optout::text_optout_with;
use lambda_http::Body;
use lambda_http::http::Method;
use send_text::record::TextStatus;
use serde_json::Value;
use text_optout::handler::TextOptOutHandler;
use webhook::item::DYNAMODB_ITEM_LIMIT;
use webhook::payload::WebhookId;
use webhook::phone::{CountryCode, PhoneNumber};
use webhook::pipeline::{Webhook, handle};

/// The webhooks, their state kept across bodies so that repeated ids meet their first delivery.
pub struct BodyCheck {
    send_text: FakeSendText,
    post_call: FakePostCall,
    text_optout: TextOptOutHandler<FakeOptOuts>,
    opt_outs: FakeOptOuts,
    /// Drives the handlers: one for every body, as a fuzz iteration must be cheap.
    runtime: tokio::runtime::Runtime,
}

/// A status, and the body parsed as JSON (or why it is not).
fn deliver<W: Webhook>(runtime: &tokio::runtime::Runtime, webhook: &W, body: &[u8]) -> Result<(u16, Value), String> {
    let request = lambda_http::http::Request::builder()
        .method(Method::POST)
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

/// An item the handler wrote is within DynamoDB's size limit (an [`webhook::item::Item`] holds no value
/// DynamoDB refuses: it cannot be built with one).
fn storable(item_bytes: usize) -> Result<(), String> {
    match item_bytes <= DYNAMODB_ITEM_LIMIT {
        true => Ok(()),
        false => Err(format!("an item of {item_bytes} bytes")),
    }
}

/// A 4xx must say why, in `error`.
fn client_error(status: u16, answer: &Value, allowed: &[u16]) -> Result<(), String> {
    match allowed.contains(&status) && answer["error"].is_string() {
        true => Ok(()),
        false => Err(format!("answer {status} {answer} is neither a success nor an allowed client error")),
    }
}

/// The id the body really carried, read independently of the handler's parser.
fn payload_id(payload: &Value) -> Option<WebhookId> {
    match &payload["id"] {
        Value::Number(number) => number.as_u64(),
        Value::String(digits) => digits.parse().ok(),
        _ => None,
    }
    .map(WebhookId::new)
}

impl Default for BodyCheck {
    fn default() -> Self {
        let opt_outs = FakeOptOuts::default();
        Self {
            send_text: send_text_with(opt_outs.clone(), &[]),
            post_call: post_call_with(opt_outs.clone(), &[]),
            text_optout: text_optout_with(opt_outs.clone(), &[]),
            opt_outs,
            runtime: tokio::runtime::Builder::new_current_thread().build().expect("a runtime for the handlers"),
        }
    }
}

impl BodyCheck {
    /// send-text answers a JSON 4xx, or 200 having sent exactly the payload's message once (`sent`), or having
    /// sent nothing for an id it already sent (`duplicate`) or to a listed number (`opted_out`). Never a panic, a
    /// 5xx, a second text or a text to a listed number.
    pub fn send_text(&self, body: &[u8]) -> Result<(), String> {
        let sent_before = self.send_text.sms().sent().len();
        let (status, answer) = deliver(&self.runtime, &self.send_text, body)?;
        let sent = self.send_text.sms().sent();
        let payload: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
        match (status, answer["status"].as_str()) {
            (200, Some("sent")) => {
                let id = payload_id(&payload).ok_or("sent a text for a body without a valid id")?;
                let texted = sent.get(sent_before).filter(|_| sent.len() == sent_before + 1);
                let texted = texted.ok_or("answered sent without exactly one new text")?;
                if self.opt_outs.item(&texted.to).is_some() {
                    return Err(format!("texted a number on the suppression list: {answer}"));
                }
                let claim = self.send_text.ledger().entry(id).ok_or("sent without a claim")?;
                storable(claim.item_bytes)
                    .map_err(|refused| format!("claimed what DynamoDB would refuse: {refused}"))?;
                if Some(texted.text.as_str()) != payload["message"].as_str() || answer["id"] != id.get() {
                    return Err(format!(
                        "sent something other than the payload's message, or answered another id: {answer}"
                    ));
                }
            }
            (200, Some("opted_out")) => {
                let listed = listed_number(&payload, "record_phone_number")
                    .is_some_and(|e164| self.opt_outs.item(&e164).is_some());
                if !listed || sent.len() != sent_before {
                    return Err(format!("opted_out for a number not on the list, or a text sent: {answer}"));
                }
            }
            (200, Some("duplicate")) => {
                let id = payload_id(&payload).ok_or("a duplicate of a body without a valid id")?;
                let entry = self.send_text.ledger().entry(id).ok_or("a duplicate of an id never claimed")?;
                if sent.len() != sent_before || entry.status != TextStatus::Sent {
                    return Err("a duplicate sent a text, or its id was never sent".into());
                }
            }
            _ => {
                client_error(status, &answer, &[400, 413, 422])?;
                if sent.len() != sent_before {
                    return Err(format!("answered {status} but sent a text"));
                }
            }
        }
        Ok(())
    }

    /// post-call answers a JSON 4xx, or 200 with the record stored under the payload's id (`stored`, and storable
    /// by DynamoDB's rules), or kept from an earlier delivery (`duplicate`). Never a panic or a 5xx.
    pub fn post_call(&self, body: &[u8]) -> Result<(), String> {
        let stored_before = self.post_call.calls().len();
        let (status, answer) = deliver(&self.runtime, &self.post_call, body)?;
        let stored_now = self.post_call.calls().len();
        let payload: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
        match (status, answer["status"].as_str()) {
            (200, Some(outcome @ ("stored" | "duplicate"))) => {
                let id = payload_id(&payload).ok_or("stored a body without a valid id")?;
                let item = self.post_call.calls().item(id).ok_or("answered 200 without an item for the id")?;
                let bytes = self.post_call.calls().item_bytes(id).unwrap_or(usize::MAX);
                storable(bytes).map_err(|refused| format!("stored what DynamoDB would refuse: {refused}"))?;
                let added = if outcome == "stored" { 1 } else { 0 };
                if stored_now != stored_before + added || item["id"] != id.get() || answer["id"] != id.get() {
                    return Err(format!("{outcome}, but the table disagrees: {answer}"));
                }
            }
            _ => {
                client_error(status, &answer, &[400, 413, 422])?;
                if stored_now != stored_before {
                    return Err(format!("answered {status} but stored an item"));
                }
            }
        }
        Ok(())
    }

    /// text-optout answers a JSON 4xx, or 200 `opted_out` with the payload's number on the suppression list (its
    /// first record kept). Never a panic or a 5xx.
    pub fn text_optout(&self, body: &[u8]) -> Result<(), String> {
        let listed_before = self.opt_outs.len();
        let (status, answer) = deliver(&self.runtime, &self.text_optout, body)?;
        let payload: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
        match (status, answer["status"].as_str()) {
            (200, Some("opted_out")) => {
                let e164 = listed_number(&payload, "record_phone_number").ok_or("listed an unreadable number")?;
                if self.opt_outs.item(&e164).is_none() || self.opt_outs.len() > listed_before + 1 {
                    return Err(format!("opted_out, but the list disagrees: {answer}"));
                }
            }
            _ => {
                client_error(status, &answer, &[400, 413, 422])?;
                if self.opt_outs.len() != listed_before {
                    return Err(format!("answered {status} but listed a number"));
                }
            }
        }
        Ok(())
    }
}

/// The payload's number at `field` in E.164, read independently of the handler (the fakes' default country).
fn listed_number(payload: &Value, field: &str) -> Option<String> {
    let raw = payload[field].as_str()?;
    PhoneNumber::parse(raw, CountryCode::US).ok().map(|phone| phone.e164().to_owned())
}

#[cfg(test)]
mod tests;
