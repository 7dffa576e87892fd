//! The text work, shared by send-text's webhook and the redrive: a text as 2X sends it and who may be texted
//! ([`text`]), the SMS and its parts ([`sms`]), the claim ledger: its words, the sent-texts item and the ports
//! ([`ledger`]), the sender itself ([`sender`]) and its pace at the number's rate ([`pacing`]), what it reads from the environment ([`settings`]), and its AWS
//! adapters ([`aws`]: DynamoDB and SNS, the only code here that names the SDK). The `fakes` feature adds
//! in-memory ports for tests.

pub mod aws;
#[cfg(feature = "fakes")]
pub mod fakes;
pub mod hours;
pub mod ledger;
pub mod pacing;
pub mod sender;
pub mod settings;
pub mod sms;
pub mod text;
