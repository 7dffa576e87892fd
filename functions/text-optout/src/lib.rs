//! text-optout: 2X tells us a lead replied STOP to a text; the lead's number goes on the suppression list, so
//! send-text never texts it again.
//!
//! The work is the shared crate's (`webhook::opt_out_lister`, over the list's writer port, whose DynamoDB adapter
//! is `webhook::aws::DynamoOptOuts`); this crate is its webhook: [`config`] and [`handler`].

pub mod config;
pub mod handler;
