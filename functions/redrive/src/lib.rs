//! redrive: consumes the fallback queue (SQS, partial batch responses). Each queued delivery is completed with
//! the same rules as the webhook that queued it: a call record stored once (post-call's `CallRecorder`). WIP
//! (issue 14): texts are not redriven yet and stay on the queue.

pub mod handler;
