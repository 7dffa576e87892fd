//! The call work, shared by post-call's webhook and the redrive: the end reason, the calls item and the store
//! port ([`record`]), the recorder itself ([`recorder`]), a call's transfer set on its record ([`transfer`],
//! lead-events' `/transfer-type/`), what it reads from the
//! environment ([`settings`]), and its DynamoDB adapter ([`aws`], the only code here that names the SDK). The
//! `fakes` feature adds an in-memory calls table for tests.

pub mod aws;
#[cfg(feature = "fakes")]
pub mod fakes;
pub mod record;
pub mod recorder;
pub mod settings;
pub mod transfer;
