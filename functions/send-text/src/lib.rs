//! send-text: 2X asks us to text a lead (a `pre-call` text minutes before a call, or a `post-voicemail` one);
//! the text is published through SNS at once, at most once per webhook id.
//!
//! The work itself is the `texts` crate's (its sender, ports and AWS adapters); this crate is its webhook:
//! [`config`], and [`handler`] (the sender behind the shared pipeline, `webhook::pipeline`, with the fallback
//! queue).

pub mod config;
pub mod handler;
