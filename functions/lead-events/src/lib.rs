//! lead-events: 2X's webhooks about a lead, one function with a route each. `/text/` (Inbound Text),
//! `/text-classification/`, `/text-response/` and `/text-reply/` (Inbound Text Response), `/inbound-call/`
//! (Inbound Call) are kept once each by the lead's number; `/transfer-type/` (Call Transfer Type) is set on its
//! call record. A reply that says stop lists the number first.
//!
//! One function, not five: the webhooks share everything (the intake, the body's lead fields, the suppression
//! list, one table) but a route, so one configuration, log group, alarm set and cold start serve them all. The
//! work is the domain crate's (`leads::recorder`); this crate is its webhook: [`config`] and [`handler`].

pub mod config;
pub mod handler;
