//! Reading the token from Secrets Manager × every fault (throttling, 500, refused, hung), on the real SDK client
//! (`webhook_test_support::faults`).

// Tests: a step that fails should stop the test at once (helpers are outside `#[test]` functions).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use lambda_http::http::{HeaderName, HeaderValue};
use std::time::Duration;
use webhook::auth::Authenticator;
use webhook::aws::SecretsManagerTokens;
use webhook_test_support::events::TOKEN;
use webhook_test_support::faults::{self, FAULTS, FaultInjector};

#[tokio::test]
async fn a_secret_that_cannot_be_read_at_start_stops_the_function() {
    for fault in FAULTS {
        let injector = FaultInjector::new("GetSecretValue", fault);
        let store = Box::new(SecretsManagerTokens::from_client(faults::secrets(&injector), "token"));
        let started = Authenticator::refreshing(HeaderName::from_static("authorization"), store, Duration::ZERO).await;
        assert!(started.is_err(), "{fault:?}");
    }
}

#[tokio::test]
async fn a_secret_that_cannot_be_re_read_keeps_the_cached_token() {
    for fault in FAULTS {
        let injector = FaultInjector::new("GetSecretValue", fault).after(1);
        let store = Box::new(SecretsManagerTokens::from_client(faults::secrets(&injector), "token"));
        let authenticator =
            Authenticator::refreshing(HeaderName::from_static("authorization"), store, Duration::ZERO).await.unwrap();
        let mut headers = lambda_http::http::HeaderMap::new();
        headers.insert("authorization", HeaderValue::from_static(TOKEN));
        assert!(authenticator.is_authorized(&headers).await, "{fault:?}");
        headers.insert("authorization", HeaderValue::from_static("wrong"));
        assert!(!authenticator.is_authorized(&headers).await, "{fault:?}");
        assert!(injector.attempts("GetSecretValue") >= 3, "{fault:?}: read at start, then re-read per request");
    }
}
