//! text-optout: 2X tells us a lead replied STOP to a text; the lead's number goes on the suppression list, so
//! send-text never texts it again.
//!
//! [`handler`] is pure over the shared list's writer port (`webhook::opt_out::OptOutWriter`), whose DynamoDB
//! adapter is `webhook::aws::DynamoOptOuts`, and the fallback queue's (`webhook::fallback::FallbackQueue`). The
//! request pipeline around the handler is `webhook::pipeline`.

pub mod config;
pub mod handler;
