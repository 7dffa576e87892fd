//! The body of 2X's Text Opt-out webhook: the lead's fields and workflow position, **no `id`**, the phone as
//! 10 digits or `+1…`. Only `record_phone_number` is required; every field we do not know is kept.

/// The Text Opt-out body is what every opt-out keeps of what 2X sent.
pub use webhook::opt_out::LeadReport as TextOptOut;
