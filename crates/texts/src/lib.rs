//! The text work, shared by send-text's webhook and the redrive: a text as 2X sends it ([`payload`]), who may
//! be texted ([`recipient`]), the SMS and its parts ([`sms`]), the claim ledger's words and the ports
//! ([`ports`]), the sent-texts item ([`record`]), the sender itself ([`sender`]), what it reads from the
//! environment ([`settings`]), and its AWS adapters ([`aws`]: DynamoDB and SNS, the only code here that names
//! the SDK). The `fakes` feature adds in-memory ports for tests.

pub mod aws;
#[cfg(feature = "fakes")]
pub mod fakes;
pub mod payload;
pub mod ports;
pub mod recipient;
pub mod record;
pub mod sender;
pub mod settings;
pub mod sms;
