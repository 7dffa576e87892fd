//! The only authentication 2X offers: a header name and a token value configured in 2X.

use lambda_http::http::{HeaderMap, HeaderName};
use std::fmt;
use subtle::{Choice, ConstantTimeEq};

/// A token 2X sends. Its `Debug` never shows the value.
#[derive(Clone)]
pub struct AuthToken(Box<[u8]>);

impl AuthToken {
    /// `None` for an empty value: an empty token would let an empty header in.
    pub fn new(value: &str) -> Option<Self> {
        (!value.is_empty()).then(|| Self(value.as_bytes().into()))
    }

    fn matches(&self, presented: &[u8]) -> Choice {
        // Length is not secret (the token's length is visible on the wire); the bytes are.
        self.0.as_ref().ct_eq(presented)
    }
}

impl fmt::Debug for AuthToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AuthToken(<redacted>)")
    }
}

/// Checks the configured header against the current token and, during a rotation, the previous one.
#[derive(Debug, Clone)]
pub struct Authenticator {
    header: HeaderName,
    current: AuthToken,
    previous: Option<AuthToken>,
}

impl Authenticator {
    pub fn new(header: HeaderName, current: AuthToken, previous: Option<AuthToken>) -> Self {
        Self { header, current, previous }
    }

    /// True only when the header appears exactly once and its value equals an accepted token.
    ///
    /// Both tokens are always compared, in constant time, so timing tells nothing about either.
    pub fn is_authorized(&self, headers: &HeaderMap) -> bool {
        let mut values = headers.get_all(&self.header).iter();
        let (Some(presented), None) = (values.next(), values.next()) else {
            return false;
        };
        let presented = presented.as_bytes();
        let previous = self.previous.as_ref().map_or_else(|| Choice::from(0), |token| token.matches(presented));
        bool::from(self.current.matches(presented) | previous)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_http::http::HeaderValue;

    fn authenticator(previous: Option<&str>) -> Authenticator {
        Authenticator::new(
            HeaderName::from_static("x-2x-token"),
            AuthToken::new("current-secret").unwrap(),
            previous.and_then(AuthToken::new),
        )
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn accepts_the_current_token_under_any_header_case() {
        let auth = authenticator(None);
        // HeaderMap lower-cases names as they are parsed; lambda_http does the same for API Gateway events.
        assert!(auth.is_authorized(&headers(&[("x-2x-token", "current-secret")])));
    }

    #[test]
    fn accepts_the_previous_token_only_while_it_is_configured() {
        let during_rotation = authenticator(Some("old-secret"));
        assert!(during_rotation.is_authorized(&headers(&[("x-2x-token", "old-secret")])));
        assert!(during_rotation.is_authorized(&headers(&[("x-2x-token", "current-secret")])));
        assert!(!authenticator(None).is_authorized(&headers(&[("x-2x-token", "old-secret")])));
    }

    #[test]
    fn refuses_missing_wrong_prefixed_or_repeated_tokens() {
        let auth = authenticator(None);
        assert!(!auth.is_authorized(&headers(&[])));
        assert!(!auth.is_authorized(&headers(&[("authorization", "current-secret")])));
        assert!(!auth.is_authorized(&headers(&[("x-2x-token", "current-secre")])));
        assert!(!auth.is_authorized(&headers(&[("x-2x-token", "current-secret2")])));
        assert!(!auth.is_authorized(&headers(&[("x-2x-token", "")])));
        assert!(!auth.is_authorized(&headers(&[("x-2x-token", "Bearer current-secret")])));
        assert!(!auth.is_authorized(&headers(&[("x-2x-token", "current-secret"), ("x-2x-token", "current-secret")])));
    }

    #[test]
    fn empty_tokens_cannot_be_configured() {
        assert!(AuthToken::new("").is_none());
    }

    #[test]
    fn debug_output_never_shows_a_token() {
        let shown = format!("{:?}", authenticator(Some("old-secret")));
        assert!(!shown.contains("current-secret") && !shown.contains("old-secret"), "{shown}");
    }
}
