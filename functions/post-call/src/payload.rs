//! The body of 2X's Post-Call webhook, parsed leniently and losslessly: only `id` is required, `end_reason`
//! and `failure_reason` are open sets, every field we do not know is kept in `extra` (at each level).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Number, Value};
use webhook::open_set;
use webhook::payload::{LeadFields, WebhookId};

open_set!(
    /// `call.end_reason` of a post-call webhook. 2X's own sample sends `transferred`, which lands in `Other`.
    EndReason {
        CallTransferred => "call_transferred",
        ScheduleCallBack => "schedule_call_back",
        NotInterested => "not_interested",
        DoNotCall => "do_not_call",
        WrongNumber => "wrong_number",
        EndCall => "end_call",
        HungUp => "hung_up",
        VoicemailDetected => "voicemail_detected",
        NoAnswer => "no_answer",
    }
);

open_set!(
    /// `call.failure_reason` of a post-call webhook.
    FailureReason {
        InvalidNumber => "invalid_number",
        NumberNoService => "number_no_service",
        Unreachable => "unreachable",
    }
);

/// Body of the Post-Call webhook.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PostCall {
    pub id: WebhookId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call: Option<CallDetails>,
    /// Answers to the script's questions, as 2X sent them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub question_fields: Option<Map<String, Value>>,
    /// Set when a voicemail was left (`"Y"`/`"N"` in 2X's sample).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_left: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record_phone_number: Option<String>,
    /// Only for answered calls.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transcript: Option<Vec<TranscriptTurn>>,
    #[serde(flatten)]
    pub lead: LeadFields,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallDetails {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_reason: Option<EndReason>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_reason: Option<FailureReason>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub telnyx_call_control_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answered: Option<bool>,
    /// Seconds; kept as the exact number sent (integer or not).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<Number>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call_direction: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TranscriptTurn {
    pub role: String,
    pub content: String,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl PostCall {
    pub fn end_reason(&self) -> Option<&EndReason> {
        self.call.as_ref()?.end_reason.as_ref()
    }
}
