//! redrive: consumes the fallback queue (SQS, partial batch responses). Each queued delivery is completed with
//! the same rules as the webhook that queued it: a call record stored once (`calls::recorder`), a text sent at
//! most once and never after its maximum age (`texts::sender`), a number listed (`webhook::opt_out_lister`).

pub mod config;
pub mod handler;
