//! post-call: after each call 2X sends the call record (end reason, answers, transcript, the lead's fields); it
//! is stored whole in DynamoDB, keyed by its webhook id, the first delivery's kept.
//!
//! The work itself is the `calls` crate's (its recorder, port and DynamoDB adapter); this crate is its webhook:
//! [`config`], and [`handler`] (the recorder behind the shared pipeline, `webhook::pipeline`, with the fallback
//! queue).

pub mod config;
pub mod handler;
