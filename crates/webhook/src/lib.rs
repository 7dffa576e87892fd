//! What every 2X webhook function shares: the request pipeline ([`pipeline`]: method, auth, body limit, the
//! one error enum mapped to a status, JSON answers, the summary log line and its metrics), the token and its
//! store, configuration common to all, phone numbers, the webhook id and lead fields, DynamoDB items built and
//! checked once ([`item`]), the suppression list every function reads or adds to ([`opt_out`]), the time each
//! AWS call and each function's slowest path may take ([`budget`]), telemetry.
//!
//! A webhook function crate (`functions/<name>`) puts the work of a domain crate (`crates/texts`, `crates/calls`)
//! or of [`opt_out_lister`] in a [`fallback::QueueingWebhook`], which implements [`pipeline::Webhook`]. The
//! `fakes` feature adds in-memory fakes of the ports defined here. Only [`item`] (the DynamoDB item type), the
//! files under [`aws`] and the fakes here, the domain crates' `aws` modules and sms-delivery-status's `adapters`
//! name the AWS SDK. The modules depend on each other without a cycle (the workspace's
//! `tests/tests/module_graph.rs` checks it).

pub mod auth;
pub mod aws;
pub mod budget;
pub mod config;
pub mod error;
#[cfg(any(test, feature = "fakes"))]
pub mod fakes;
pub mod fallback;
pub mod item;
pub mod metrics;
pub mod opt_out;
pub mod opt_out_lister;
pub mod payload;
pub mod phone;
pub mod pipeline;
pub mod telemetry;
