//! The body of 2X's Post-Call webhook, read leniently and losslessly: only `id` is required; every field, at
//! every level, is kept as sent. `call.end_reason` (an open set: 2X's own sample sends `transferred`, not the
//! documented `call_transferred`) is read when it is a string, and compared without regard to case.

use serde_json::Value;
use webhook::payload::{Fields, text_of};

/// `call.end_reason` as sent, trimmed; `None` when `call` is not an object or the reason not a string.
pub fn end_reason(fields: &Fields) -> Option<&str> {
    text_of(fields.get("call").and_then(Value::as_object).and_then(|call| call.get("end_reason")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_end_reason_is_read_when_it_is_a_string() {
        let reason = |body: Value| end_reason(body.as_object().unwrap()).map(str::to_owned);
        assert_eq!(reason(json!({"call": {"end_reason": " do_not_call "}})).as_deref(), Some("do_not_call"));
        assert_eq!(reason(json!({"call": {"end_reason": 3}})), None);
        assert_eq!(reason(json!({"call": "do_not_call"})), None);
        assert_eq!(reason(json!({"call": [{"end_reason": "do_not_call"}]})), None);
        assert_eq!(reason(json!({})), None);
    }
}
