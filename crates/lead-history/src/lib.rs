//! lead-history: everything the stack keeps about one lead, oldest first. The timeline is built from the records
//! as stored ([`history`], pure); [`aws`] reads them from the four tables (the only code here that names the SDK).

pub mod aws;
pub mod history;
