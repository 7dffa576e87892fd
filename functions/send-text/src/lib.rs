//! send-text: 2X asks us to text a lead (a `pre-call` text minutes before a call, or a `post-voicemail` one);
//! the text is published through SNS at once, at most once per webhook id.
//!
//! [`handler`] is pure over the [`ports`]; [`adapters`] implements them with DynamoDB (the claim ledger) and SNS.
//! The request pipeline around the handler is the shared crate's (`webhook::pipeline`).

pub mod adapters;
pub mod config;
pub mod handler;
pub mod payload;
pub mod ports;
pub mod recipient;
pub mod record;
pub mod sms;
