//! The body of 2X's CRM Send Text webhook, parsed leniently and losslessly: only `id`, `record_phone_number`
//! and `message` are required, `type` is an open set, every field we do not know is kept in `extra`.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use webhook::open_set;
use webhook::payload::{LeadFields, WebhookId};

open_set!(
    /// `type` of a send-text webhook.
    TextType { PreCall => "pre-call", PostVoicemail => "post-voicemail" }
);

/// Body of the CRM Send Text webhook.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SendText {
    pub id: WebhookId,
    /// As 2X sent it: E.164 or a bare national number; normalised by [`webhook::phone::PhoneNumber`].
    pub record_phone_number: String,
    pub message: String,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub text_type: Option<TextType>,
    #[serde(flatten)]
    pub lead: LeadFields,
    /// Fields 2X may add that we do not know yet.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}
