//! The text of an SMS as SNS accepts it.

/// SNS refuses a direct publish over 1,600 bytes.
pub const MAX_SMS_BYTES: usize = 1600;

/// A message that is not blank and fits one SNS publish. Only [`SmsText::parse`] makes one.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SmsText<'a>(&'a str);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SmsTextError {
    #[error("the message is empty")]
    Empty,
    #[error("the message is {0} bytes; SNS accepts at most 1600")]
    TooLong(usize),
}

impl<'a> SmsText<'a> {
    pub fn parse(message: &'a str) -> Result<Self, SmsTextError> {
        if message.trim().is_empty() {
            Err(SmsTextError::Empty)
        } else if message.len() > MAX_SMS_BYTES {
            Err(SmsTextError::TooLong(message.len()))
        } else {
            Ok(Self(message))
        }
    }

    pub fn as_str(&self) -> &'a str {
        self.0
    }
}

/// Never shows the text: message texts stay out of logs.
impl std::fmt::Debug for SmsText<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SmsText({} bytes)", self.0.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_messages_are_refused() {
        assert_eq!(SmsText::parse(""), Err(SmsTextError::Empty));
        assert_eq!(SmsText::parse(" \n\t"), Err(SmsTextError::Empty));
    }

    #[test]
    fn the_limit_is_1600_bytes_not_characters() {
        assert!(SmsText::parse(&"a".repeat(1600)).is_ok());
        assert_eq!(SmsText::parse(&"a".repeat(1601)), Err(SmsTextError::TooLong(1601)));
        // 401 four-byte emoji: 401 characters but 1,604 bytes.
        assert_eq!(SmsText::parse(&"😀".repeat(401)), Err(SmsTextError::TooLong(1604)));
    }

    #[test]
    fn debug_hides_the_text() {
        assert_eq!(format!("{:?}", SmsText::parse("secret plans").unwrap()), "SmsText(12 bytes)");
    }
}
