//! The lead-event work, shared by lead-events' webhook and the redrive: 2X's webhooks about a lead and the
//! lead-events item with its store port ([`event`]), whether a reply says stop ([`opt_out_words`]), the recorder
//! itself ([`recorder`]: events stored once, opt-outs listed first, transfers set on their calls through
//! `calls::transfer`), what it reads from the environment ([`settings`]), and its DynamoDB adapter ([`aws`], the
//! only code here that names the SDK). The `fakes` feature adds an in-memory lead-events table for tests.

pub mod aws;
pub mod event;
#[cfg(feature = "fakes")]
pub mod fakes;
pub mod opt_out_words;
pub mod recorder;
pub mod settings;
