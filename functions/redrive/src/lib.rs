//! redrive: consumes the fallback queue (SQS, partial batch responses). Each queued delivery is completed with
//! the same rules as the webhook that queued it: a call record stored once (post-call's `CallRecorder`), a text
//! sent at most once and never after its maximum age (send-text's `TextSender`).

pub mod config;
pub mod handler;
