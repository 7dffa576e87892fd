//! The only authentication 2X offers: a header name and a token value configured in 2X.

use crate::error::DependencyError;
use lambda_http::http::{HeaderMap, HeaderName};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Mutex, PoisonError, RwLock};
use std::time::Duration;
// Tokio's clock, which tests can pause and advance; outside a paused test it is the system's monotonic clock.
use subtle::{Choice, ConstantTimeEq};
use tokio::time::Instant;

/// A token 2X sends. Its `Debug` never shows the value.
#[derive(Clone)]
pub struct AuthToken(Box<[u8]>);

impl AuthToken {
    /// `None` for an empty value: an empty token would let an empty header in. Surrounding whitespace is not
    /// part of the token (it cannot be part of a header value either).
    pub fn new(value: &str) -> Option<Self> {
        let value = value.trim();
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

/// The tokens accepted right now: the current one and, during a rotation, the previous one.
#[derive(Debug, Clone)]
pub struct TokenPair {
    pub current: AuthToken,
    pub previous: Option<AuthToken>,
}

impl TokenPair {
    /// Reads a secret's value: `{"current": "…", "previous": "…"}` (`previous` optional or empty), or a plain
    /// string that is the current token. `None` when there is no usable current token.
    pub fn from_secret_string(value: &str) -> Option<Self> {
        #[derive(serde::Deserialize)]
        struct Stored {
            current: String,
            #[serde(default)]
            previous: Option<String>,
        }
        match serde_json::from_str::<Stored>(value) {
            Ok(stored) => Some(Self {
                current: AuthToken::new(&stored.current)?,
                previous: stored.previous.as_deref().and_then(AuthToken::new),
            }),
            Err(_) if !value.trim_start().starts_with('{') => {
                Some(Self { current: AuthToken::new(value)?, previous: None })
            }
            Err(_) => None,
        }
    }
}

/// A store the tokens are re-read from (Secrets Manager), so a rotation needs no redeploy.
pub trait TokenStore: Send + Sync {
    fn fetch(&self) -> Pin<Box<dyn Future<Output = Result<TokenPair, DependencyError>> + Send + '_>>;
}

struct Refresh {
    store: Box<dyn TokenStore>,
    every: Duration,
    next_at: Mutex<Instant>,
}

/// Checks the configured header against the accepted tokens, re-reading them from their store when due.
pub struct Authenticator {
    header: HeaderName,
    tokens: RwLock<TokenPair>,
    refresh: Option<Refresh>,
}

impl fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Authenticator").field("header", &self.header).finish_non_exhaustive()
    }
}

impl Authenticator {
    /// Tokens that never change while the process lives (from the environment).
    pub fn fixed(header: HeaderName, tokens: TokenPair) -> Self {
        Self { header, tokens: RwLock::new(tokens), refresh: None }
    }

    /// Reads the tokens from `store` now (failing if it cannot), then again at most every `every`.
    pub async fn refreshing(
        header: HeaderName,
        store: Box<dyn TokenStore>,
        every: Duration,
    ) -> Result<Self, DependencyError> {
        let tokens = store.fetch().await?;
        let refresh = Refresh { store, every, next_at: Mutex::new(Instant::now() + every) };
        Ok(Self { header, tokens: RwLock::new(tokens), refresh: Some(refresh) })
    }

    /// True only when the header appears exactly once and its value equals an accepted token. Whitespace around
    /// the value is ignored (RFC 9110: it is not part of a field value, though some proxies keep it); nothing
    /// else is: no `Bearer ` prefix is stripped, the token is the whole value as configured in 2X.
    ///
    /// Both tokens are always compared, in constant time, so timing tells nothing about either.
    ///
    /// A request without the header never reaches the token store. One that presents a value does, when the
    /// refresh is due, before its value is judged: the value may be a token rotated in since the last read
    /// (2X may have switched before this process saw the new secret). So whoever sends the header can cause
    /// at most one read per refresh interval per process — the reads legitimate traffic causes anyway.
    pub async fn is_authorized(&self, headers: &HeaderMap) -> bool {
        let mut values = headers.get_all(&self.header).iter();
        let (Some(presented), None) = (values.next(), values.next()) else {
            return false;
        };
        self.refresh_if_due().await;
        let presented = presented.as_bytes().trim_ascii();
        let tokens = self.tokens.read().unwrap_or_else(PoisonError::into_inner);
        let previous = tokens.previous.as_ref().map_or_else(|| Choice::from(0), |token| token.matches(presented));
        bool::from(tokens.current.matches(presented) | previous)
    }

    /// Lambda freezes the process between invocations, so a background timer would not run: refresh here.
    /// A failed read keeps the cached tokens (a store outage must not lock 2X out) and is retried when next due.
    async fn refresh_if_due(&self) {
        let Some(refresh) = &self.refresh else { return };
        {
            let mut next_at = refresh.next_at.lock().unwrap_or_else(PoisonError::into_inner);
            if Instant::now() < *next_at {
                return;
            }
            *next_at = Instant::now() + refresh.every;
        }
        match refresh.store.fetch().await {
            Ok(tokens) => *self.tokens.write().unwrap_or_else(PoisonError::into_inner) = tokens,
            Err(error) => tracing::warn!(%error, "could not re-read the auth token; the cached one stays in use"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_http::http::HeaderValue;
    use std::sync::Arc;

    fn pair(current: &str, previous: Option<&str>) -> TokenPair {
        TokenPair { current: AuthToken::new(current).unwrap(), previous: previous.and_then(AuthToken::new) }
    }

    fn authenticator(previous: Option<&str>) -> Authenticator {
        Authenticator::fixed(HeaderName::from_static("x-2x-token"), pair("current-secret", previous))
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[tokio::test]
    async fn accepts_the_current_token_under_any_header_case() {
        let auth = authenticator(None);
        // HeaderMap lower-cases names as they are parsed; lambda_http does the same for API Gateway events.
        assert!(auth.is_authorized(&headers(&[("x-2x-token", "current-secret")])).await);
    }

    #[tokio::test]
    async fn accepts_the_previous_token_only_while_it_is_configured() {
        let during_rotation = authenticator(Some("old-secret"));
        assert!(during_rotation.is_authorized(&headers(&[("x-2x-token", "old-secret")])).await);
        assert!(during_rotation.is_authorized(&headers(&[("x-2x-token", "current-secret")])).await);
        assert!(!authenticator(None).is_authorized(&headers(&[("x-2x-token", "old-secret")])).await);
    }

    #[tokio::test]
    async fn refuses_missing_wrong_prefixed_or_repeated_tokens() {
        let auth = authenticator(None);
        assert!(!auth.is_authorized(&headers(&[])).await);
        assert!(!auth.is_authorized(&headers(&[("authorization", "current-secret")])).await);
        assert!(!auth.is_authorized(&headers(&[("x-2x-token", "current-secre")])).await);
        assert!(!auth.is_authorized(&headers(&[("x-2x-token", "current-secret2")])).await);
        assert!(!auth.is_authorized(&headers(&[("x-2x-token", "")])).await);
        assert!(!auth.is_authorized(&headers(&[("x-2x-token", "Bearer current-secret")])).await);
        assert!(
            !auth.is_authorized(&headers(&[("x-2x-token", "current-secret"), ("x-2x-token", "current-secret")])).await
        );
    }

    #[test]
    fn empty_tokens_cannot_be_configured() {
        assert!(AuthToken::new("").is_none());
        assert!(AuthToken::new(" \t").is_none());
    }

    #[tokio::test]
    async fn whitespace_around_the_value_is_not_part_of_it_but_a_bearer_prefix_is() {
        let auth = authenticator(None);
        assert!(auth.is_authorized(&headers(&[("x-2x-token", " current-secret ")])).await);
        assert!(auth.is_authorized(&headers(&[("x-2x-token", "\tcurrent-secret")])).await);
        assert!(!auth.is_authorized(&headers(&[("x-2x-token", "current -secret")])).await);
        assert!(!auth.is_authorized(&headers(&[("x-2x-token", "   ")])).await);

        // A customer who configures `Authorization: Bearer <token>` in 2X stores the whole value as the token.
        let bearer = Authenticator::fixed(HeaderName::from_static("authorization"), pair(" Bearer abc123 ", None));
        assert!(bearer.is_authorized(&headers(&[("authorization", "Bearer abc123")])).await);
        assert!(!bearer.is_authorized(&headers(&[("authorization", "abc123")])).await);
    }

    /// A store whose value the test changes, and can make fail.
    struct ScriptedStore(Arc<Mutex<Result<TokenPair, DependencyError>>>);

    impl TokenStore for ScriptedStore {
        fn fetch(&self) -> Pin<Box<dyn Future<Output = Result<TokenPair, DependencyError>> + Send + '_>> {
            let value = self.0.lock().unwrap().clone();
            Box::pin(async move { value })
        }
    }

    #[tokio::test]
    async fn a_rotated_secret_is_picked_up_when_the_refresh_is_due_and_an_outage_keeps_the_cache() {
        let value = Arc::new(Mutex::new(Ok(pair("first", None))));
        let store = Box::new(ScriptedStore(value.clone()));
        let auth =
            Authenticator::refreshing(HeaderName::from_static("x-2x-token"), store, Duration::ZERO).await.unwrap();
        let presenting = |token: &'static str| headers(&[("x-2x-token", token)]);
        assert!(auth.is_authorized(&presenting("first")).await);

        *value.lock().unwrap() = Ok(pair("second", Some("first")));
        assert!(auth.is_authorized(&presenting("second")).await);
        assert!(auth.is_authorized(&presenting("first")).await);

        *value.lock().unwrap() = Err(DependencyError::new("GetSecretValue", "timed out"));
        assert!(auth.is_authorized(&presenting("second")).await, "an outage keeps the cached tokens");

        *value.lock().unwrap() = Ok(pair("second", None));
        assert!(!auth.is_authorized(&presenting("first")).await, "the previous token is dropped after rotation");
    }

    #[tokio::test]
    async fn the_store_is_not_read_again_before_the_refresh_is_due() {
        let value = Arc::new(Mutex::new(Ok(pair("first", None))));
        let store = Box::new(ScriptedStore(value.clone()));
        let hour = Duration::from_secs(3600);
        let auth = Authenticator::refreshing(HeaderName::from_static("x-2x-token"), store, hour).await.unwrap();
        *value.lock().unwrap() = Ok(pair("second", None));
        assert!(auth.is_authorized(&headers(&[("x-2x-token", "first")])).await);
        assert!(!auth.is_authorized(&headers(&[("x-2x-token", "second")])).await);
    }

    /// A store that counts its reads.
    struct CountingStore(Arc<std::sync::atomic::AtomicUsize>);

    impl TokenStore for CountingStore {
        fn fetch(&self) -> Pin<Box<dyn Future<Output = Result<TokenPair, DependencyError>> + Send + '_>> {
            self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Box::pin(async { Ok(pair("current-secret", None)) })
        }
    }

    /// The bound the README states: no read for a request without the header; with one, at most one read per
    /// refresh interval per process, however many requests and whatever they present.
    #[tokio::test(start_paused = true)]
    async fn unauthenticated_requests_cause_at_most_one_store_read_per_refresh_interval() {
        let reads = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let store = Box::new(CountingStore(reads.clone()));
        let every = Duration::from_secs(300);
        let auth = Authenticator::refreshing(HeaderName::from_static("x-2x-token"), store, every).await.unwrap();
        let reads = || reads.load(std::sync::atomic::Ordering::SeqCst);
        assert_eq!(reads(), 1, "the read at start");

        let wrong = headers(&[("x-2x-token", "guess")]);
        let repeated = headers(&[("x-2x-token", "a"), ("x-2x-token", "b")]);
        for _ in 0..1000 {
            assert!(!auth.is_authorized(&wrong).await);
        }
        assert_eq!(reads(), 1, "not due yet: no read");

        tokio::time::advance(every).await;
        for _ in 0..1000 {
            assert!(!auth.is_authorized(&headers(&[])).await);
            assert!(!auth.is_authorized(&repeated).await);
        }
        assert_eq!(reads(), 1, "due, but no request presented one value: no read");
        for _ in 0..1000 {
            assert!(!auth.is_authorized(&wrong).await);
        }
        assert_eq!(reads(), 2, "due: one read for a thousand wrong tokens");

        tokio::time::advance(every / 2).await;
        for _ in 0..1000 {
            assert!(!auth.is_authorized(&wrong).await);
        }
        assert_eq!(reads(), 2, "the next read is an interval after the last one");
    }

    #[tokio::test]
    async fn a_store_that_cannot_be_read_at_start_is_an_error() {
        let value = Arc::new(Mutex::new(Err(DependencyError::new("GetSecretValue", "denied"))));
        let store = Box::new(ScriptedStore(value));
        assert!(Authenticator::refreshing(HeaderName::from_static("x"), store, Duration::ZERO).await.is_err());
    }

    #[test]
    fn secret_values_are_read_as_json_pairs_or_plain_tokens() {
        let read = |value: &str| {
            TokenPair::from_secret_string(value)
                .map(|pair| (pair.current.0.to_vec(), pair.previous.map(|p| p.0.to_vec())))
        };
        assert_eq!(read(r#"{"current":"a","previous":"b"}"#), Some((b"a".to_vec(), Some(b"b".to_vec()))));
        assert_eq!(read(r#"{"current":"a","previous":""}"#), Some((b"a".to_vec(), None)));
        assert_eq!(read(r#"{"current":"a"}"#), Some((b"a".to_vec(), None)));
        assert_eq!(read("plain-token"), Some((b"plain-token".to_vec(), None)));
        assert_eq!(read(r#"{"current":""}"#), None);
        assert_eq!(read(r#"{"token":"a"}"#), None);
        assert_eq!(read(""), None);
    }

    #[test]
    fn debug_output_never_shows_a_token() {
        let shown = format!("{:?}", authenticator(Some("old-secret")));
        assert!(!shown.contains("current-secret") && !shown.contains("old-secret"), "{shown}");
    }
}
