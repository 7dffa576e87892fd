//! post-call: after each call 2X sends the call record (end reason, answers, transcript, the lead's fields); it
//! is stored whole in DynamoDB, keyed by its webhook id, the first delivery's kept.
//!
//! [`handler`] is pure over the [`ports`]; [`adapters`] implements them with DynamoDB. The request pipeline
//! around the handler is the shared crate's (`webhook::pipeline`).

pub mod adapters;
pub mod config;
pub mod handler;
pub mod payload;
pub mod ports;
pub mod record;
