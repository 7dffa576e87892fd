//! Domain, ports and AWS adapters shared by the two 2X webhook functions.
//!
//! The handlers in [`handlers`] are pure over the narrow ports in [`ports`]; only the files in [`adapters`]
//! name the AWS SDK.

pub mod adapters;
pub mod auth;
pub mod config;
pub mod error;
pub mod handlers;
pub mod http;
pub mod item_size;
pub mod metrics;
pub mod payload;
pub mod phone;
pub mod ports;
pub mod records;
pub mod sms;
pub mod telemetry;

#[cfg(any(test, feature = "test-fakes"))]
pub mod fakes;
#[cfg(any(test, feature = "test-fakes"))]
pub mod properties;
