//! Every AWS call × every fault, through the handlers on the real SDK clients. aws-smithy-mocks answers the
//! calls that work; under it, an HTTP layer gives the one call under test its fault. The SDK's own retries,
//! timeouts and error classification run exactly as in production (`timeouts()`, standard retries).

use super::{DynamoCallStore, DynamoTextLedger, SecretsManagerTokens, SnsSmsSender, timeouts};
use crate::auth::{AuthToken, Authenticator, TokenPair};
use crate::config::{PostCallConfig, SendTextConfig};
use crate::handlers::{PostCallHandler, SendTextHandler, Webhook, handle};
use aws_sdk_dynamodb::config::retry::RetryConfig;
use aws_sdk_dynamodb::config::{SharedAsyncSleep, SharedHttpClient};
use aws_sdk_dynamodb::operation::delete_item::DeleteItemOutput;
use aws_sdk_dynamodb::operation::put_item::PutItemOutput;
use aws_sdk_dynamodb::operation::update_item::UpdateItemOutput;
use aws_sdk_secretsmanager::operation::get_secret_value::GetSecretValueOutput;
use aws_sdk_sns::operation::check_if_phone_number_is_opted_out::CheckIfPhoneNumberIsOptedOutOutput;
use aws_sdk_sns::operation::publish::PublishOutput;
use aws_smithy_async::rt::sleep::TokioSleep;
use aws_smithy_mocks::{Rule, RuleMode, create_mock_http_client, mock, mock_client};
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;
use lambda_http::http::{HeaderName, HeaderValue};
use lambda_http::{Body, Context, Request, RequestExt};
use serde_json::Value;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    /// The service answers 400 with its throttling error code.
    Throttling,
    /// The service answers 500.
    ServerError,
    /// No connection can be made.
    Refused,
    /// The request is sent and no answer ever comes.
    Hang,
}

const FAULTS: [Fault; 4] = [Fault::Throttling, Fault::ServerError, Fault::Refused, Fault::Hang];

/// The operation a request calls: `X-Amz-Target` for the JSON protocols (DynamoDB, Secrets Manager), the
/// `Action` form field for SNS's query protocol.
fn operation_of(request: &HttpRequest) -> String {
    if let Some(target) = request.headers().get("x-amz-target") {
        return target.rsplit('.').next().unwrap_or_default().to_owned();
    }
    let form = String::from_utf8_lossy(request.body().bytes().unwrap_or_default()).into_owned();
    form.split('&').find_map(|pair| pair.strip_prefix("Action=")).unwrap_or_default().to_owned()
}

/// The error a service of `request`'s protocol answers with.
fn error_response(request: &HttpRequest, status: u16, json_code: &str, query_code: &str) -> HttpResponse {
    let status = StatusCode::try_from(status).unwrap();
    let (body, content_type) = match request.headers().get("x-amz-target") {
        Some(_) => (format!(r#"{{"__type":"{json_code}","message":"x"}}"#), "application/x-amz-json-1.0"),
        None => (
            format!(
                "<ErrorResponse><Error><Type>Sender</Type><Code>{query_code}</Code><Message>x</Message></Error>\
                 <RequestId>r</RequestId></ErrorResponse>"
            ),
            "text/xml",
        ),
    };
    let mut response = HttpResponse::new(status, SdkBody::from(body));
    response.headers_mut().insert("content-type", content_type);
    response
}

/// Gives `operation` the fault from its `skip`+1-th attempt on; every other request goes to the mocks.
/// Records each attempt's operation.
#[derive(Debug, Clone)]
struct FaultInjector {
    operation: &'static str,
    fault: Fault,
    skip: usize,
    attempts: Arc<Mutex<Vec<String>>>,
    mocks: SharedHttpClient,
}

impl FaultInjector {
    fn new(operation: &'static str, fault: Fault) -> Self {
        Self { operation, fault, skip: 0, attempts: Arc::default(), mocks: create_mock_http_client() }
    }

    fn attempts(&self, operation: &str) -> usize {
        self.attempts.lock().unwrap().iter().filter(|called| *called == operation).count()
    }
}

impl HttpClient for FaultInjector {
    fn http_connector(&self, settings: &HttpConnectorSettings, components: &RuntimeComponents) -> SharedHttpConnector {
        let mocks = self.mocks.http_connector(settings, components);
        SharedHttpConnector::new(FaultyConnector { injector: self.clone(), mocks })
    }
}

#[derive(Debug)]
struct FaultyConnector {
    injector: FaultInjector,
    mocks: SharedHttpConnector,
}

impl HttpConnector for FaultyConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let operation = operation_of(&request);
        let earlier = self.injector.attempts(&operation);
        self.injector.attempts.lock().unwrap().push(operation.clone());
        if operation != self.injector.operation || earlier < self.injector.skip {
            return self.mocks.call(request);
        }
        match self.injector.fault {
            Fault::Throttling => {
                HttpConnectorFuture::ready(Ok(error_response(&request, 400, "ThrottlingException", "Throttling")))
            }
            Fault::ServerError => {
                HttpConnectorFuture::ready(Ok(error_response(&request, 500, "InternalServerError", "InternalError")))
            }
            Fault::Refused => HttpConnectorFuture::ready(Err(ConnectorError::io(
                std::io::Error::from(std::io::ErrorKind::ConnectionRefused).into(),
            ))),
            Fault::Hang => HttpConnectorFuture::new(std::future::pending()),
        }
    }
}

/// An HTTP answer the injector never passes on.
fn ignored() -> HttpResponse {
    HttpResponse::new(StatusCode::try_from(200).unwrap(), SdkBody::empty())
}

/// The mocked call that `works`, or, for the operation under test, one (`through`) that lets the request reach
/// the injector: a modeled mock answer would replace the injected fault.
fn pick(injector: &FaultInjector, operation: &str, works: Rule, through: Rule) -> Rule {
    if injector.operation == operation { through } else { works }
}

fn sns(injector: &FaultInjector) -> aws_sdk_sns::Client {
    let rules = [
        pick(
            injector,
            "CheckIfPhoneNumberIsOptedOut",
            mock!(aws_sdk_sns::Client::check_if_phone_number_is_opted_out)
                .then_output(|| CheckIfPhoneNumberIsOptedOutOutput::builder().is_opted_out(false).build()),
            mock!(aws_sdk_sns::Client::check_if_phone_number_is_opted_out).then_http_response(ignored),
        ),
        pick(
            injector,
            "Publish",
            mock!(aws_sdk_sns::Client::publish).then_output(|| PublishOutput::builder().message_id("sns-1").build()),
            mock!(aws_sdk_sns::Client::publish).then_http_response(ignored),
        ),
    ];
    let injector = injector.clone();
    mock_client!(aws_sdk_sns, RuleMode::MatchAny, &rules, move |config| config
        .http_client(injector.clone())
        .timeout_config(timeouts())
        .retry_config(RetryConfig::standard())
        .sleep_impl(SharedAsyncSleep::new(TokioSleep::new())))
}

fn dynamodb(injector: &FaultInjector) -> aws_sdk_dynamodb::Client {
    let rules = [
        pick(
            injector,
            "PutItem",
            mock!(aws_sdk_dynamodb::Client::put_item).then_output(|| PutItemOutput::builder().build()),
            mock!(aws_sdk_dynamodb::Client::put_item).then_http_response(ignored),
        ),
        pick(
            injector,
            "UpdateItem",
            mock!(aws_sdk_dynamodb::Client::update_item).then_output(|| UpdateItemOutput::builder().build()),
            mock!(aws_sdk_dynamodb::Client::update_item).then_http_response(ignored),
        ),
        mock!(aws_sdk_dynamodb::Client::delete_item).then_output(|| DeleteItemOutput::builder().build()),
    ];
    let injector = injector.clone();
    mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, &rules, move |config| config
        .http_client(injector.clone())
        .timeout_config(timeouts())
        .retry_config(RetryConfig::standard())
        .sleep_impl(SharedAsyncSleep::new(TokioSleep::new())))
}

const TOKEN: &str = "local-dev-token";

fn env(name: &str) -> Option<String> {
    [("AUTH_TOKEN", TOKEN), ("SENT_TEXTS_TABLE", "texts"), ("CALLS_TABLE", "calls")]
        .iter()
        .find(|(key, _)| *key == name)
        .map(|(_, value)| (*value).to_owned())
}

fn fixed_authenticator() -> Authenticator {
    let tokens = TokenPair { current: AuthToken::new(TOKEN).unwrap(), previous: None };
    Authenticator::fixed(HeaderName::from_static("authorization"), tokens)
}

fn request(sample: &str) -> Request {
    let path = format!("{}/../../events/{sample}.json", env!("CARGO_MANIFEST_DIR"));
    let mut context = Context::default();
    context.request_id = "req-fault".into();
    lambda_http::request::from_str(&std::fs::read_to_string(path).unwrap()).unwrap().with_lambda_context(context)
}

async fn status_of<W: Webhook>(handler: &W, sample: &str) -> (u16, Value) {
    let response = handle(handler, request(sample)).await;
    let Body::Text(body) = response.body() else { panic!("not a text body") };
    (response.status().as_u16(), serde_json::from_str(body).unwrap())
}

/// One send-text delivery with `operation` under `fault`: its answer and the attempts per operation.
async fn send_text_with(operation: &'static str, fault: Fault) -> (u16, Value, FaultInjector) {
    let injector = FaultInjector::new(operation, fault);
    let config = SendTextConfig::from_lookup(env).unwrap();
    let sms = SnsSmsSender::from_client(sns(&injector), &config.sms).unwrap();
    let ledger = DynamoTextLedger::from_client(dynamodb(&injector), "texts");
    let handler = SendTextHandler::new(config, fixed_authenticator(), ledger, sms);
    let (status, body) = status_of(&handler, "send-text-pre-call").await;
    (status, body, injector)
}

/// `[PutItem, Publish, UpdateItem, DeleteItem]` attempts.
fn send_text_attempts(injector: &FaultInjector) -> [usize; 4] {
    ["PutItem", "Publish", "UpdateItem", "DeleteItem"].map(|operation| injector.attempts(operation))
}

#[tokio::test]
async fn a_failing_opt_out_check_is_tolerated_and_the_text_sent() {
    for fault in FAULTS {
        let (status, body, injector) = send_text_with("CheckIfPhoneNumberIsOptedOut", fault).await;
        assert_eq!((status, body["status"].as_str()), (200, Some("sent")), "{fault:?}");
        assert_eq!(send_text_attempts(&injector), [1, 1, 1, 0], "{fault:?}");
    }
}

#[tokio::test]
async fn a_failing_claim_is_503_and_nothing_is_sent() {
    for fault in FAULTS {
        let (status, _, injector) = send_text_with("PutItem", fault).await;
        assert_eq!(status, 503, "{fault:?}");
        let [claims, publishes, marks, releases] = send_text_attempts(&injector);
        assert!((1..=3).contains(&claims), "{fault:?}: {claims} claim attempts");
        assert_eq!([publishes, marks, releases], [0, 0, 0], "{fault:?}");
    }
}

#[tokio::test]
async fn a_publish_sns_refused_or_never_got_is_503_with_the_claim_released() {
    for fault in [Fault::Throttling, Fault::ServerError, Fault::Refused] {
        let (status, _, injector) = send_text_with("Publish", fault).await;
        assert_eq!(status, 503, "{fault:?}");
        // The SDK's standard retries (3 attempts) apply: SNS did not take the text.
        assert_eq!(send_text_attempts(&injector), [1, 3, 0, 1], "{fault:?}");
    }
}

#[tokio::test]
async fn a_publish_sns_got_but_never_answered_is_tried_once_and_settled_unconfirmed() {
    let started = std::time::Instant::now();
    let (status, body, injector) = send_text_with("Publish", Fault::Hang).await;
    assert_eq!((status, body["status"].as_str()), (202, Some("unconfirmed")));
    // One attempt: a second could text the lead twice. The claim is marked, not released.
    assert_eq!(send_text_attempts(&injector), [1, 1, 1, 0]);
    assert!(started.elapsed() < Duration::from_secs(4), "one 2 s attempt, took {:?}", started.elapsed());
}

#[tokio::test]
async fn a_failure_to_record_the_sent_text_still_answers_200() {
    for fault in FAULTS {
        let (status, body, injector) = send_text_with("UpdateItem", fault).await;
        assert_eq!((status, body["status"].as_str()), (200, Some("sent")), "{fault:?}");
        let [claims, publishes, marks, releases] = send_text_attempts(&injector);
        assert_eq!([claims, publishes, releases], [1, 1, 0], "{fault:?}: the text was not published again");
        assert!((1..=3).contains(&marks), "{fault:?}");
    }
}

#[tokio::test]
async fn a_failing_call_store_is_503_so_2x_delivers_again() {
    for fault in FAULTS {
        let injector = FaultInjector::new("PutItem", fault);
        let config = PostCallConfig::from_lookup(env).unwrap();
        let store = DynamoCallStore::from_client(dynamodb(&injector), "calls");
        let handler = PostCallHandler::new(config, fixed_authenticator(), store);
        assert_eq!(status_of(&handler, "post-call-transferred").await.0, 503, "{fault:?}");
        assert!((1..=3).contains(&injector.attempts("PutItem")), "{fault:?}");
    }
}

/// Secrets Manager holding the token; its reads from the `injector.skip`+1-th on reach the injector.
fn secrets(injector: &FaultInjector) -> aws_sdk_secretsmanager::Client {
    let secret = || {
        let secret = format!(r#"{{"current":"{TOKEN}"}}"#);
        GetSecretValueOutput::builder().secret_string(secret).build()
    };
    let through = mock!(aws_sdk_secretsmanager::Client::get_secret_value).sequence();
    let secret = match injector.skip {
        0 => through.http_response(ignored).repeatedly().build(),
        skip => through.output(secret).times(skip).http_response(ignored).repeatedly().build(),
    };
    let injector = injector.clone();
    mock_client!(aws_sdk_secretsmanager, RuleMode::MatchAny, [&secret], move |config| config
        .http_client(injector.clone())
        .timeout_config(timeouts())
        .retry_config(RetryConfig::standard())
        .sleep_impl(SharedAsyncSleep::new(TokioSleep::new())))
}

#[tokio::test]
async fn a_secret_that_cannot_be_read_at_start_stops_the_function() {
    for fault in FAULTS {
        let injector = FaultInjector::new("GetSecretValue", fault);
        let store = Box::new(SecretsManagerTokens::from_client(secrets(&injector), "token"));
        let started = Authenticator::refreshing(HeaderName::from_static("authorization"), store, Duration::ZERO).await;
        assert!(started.is_err(), "{fault:?}");
    }
}

#[tokio::test]
async fn a_secret_that_cannot_be_re_read_keeps_the_cached_token() {
    for fault in FAULTS {
        let injector = FaultInjector { skip: 1, ..FaultInjector::new("GetSecretValue", fault) };
        let store = Box::new(SecretsManagerTokens::from_client(secrets(&injector), "token"));
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

/// Clients with no mocked call at all: any request panics the test (aws-smithy-mocks' `must_match`), and the
/// injector under them counts any that got that far.
#[tokio::test]
async fn requests_without_the_right_token_make_no_aws_call() {
    let injector = FaultInjector::new("none", Fault::Hang);
    let (no_sns_rules, no_dynamodb_rules): ([&Rule; 0], [&Rule; 0]) = ([], []);
    let sns = {
        let injector = injector.clone();
        mock_client!(aws_sdk_sns, RuleMode::MatchAny, no_sns_rules, move |config| config.http_client(injector.clone()))
    };
    let dynamodb = {
        let injector = injector.clone();
        mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, no_dynamodb_rules, move |config| config
            .http_client(injector.clone()))
    };
    let send_text = SendTextHandler::new(
        SendTextConfig::from_lookup(env).unwrap(),
        fixed_authenticator(),
        DynamoTextLedger::from_client(dynamodb.clone(), "texts"),
        SnsSmsSender::from_client(sns, &SendTextConfig::from_lookup(env).unwrap().sms).unwrap(),
    );
    let post_call = PostCallHandler::new(
        PostCallConfig::from_lookup(env).unwrap(),
        fixed_authenticator(),
        DynamoCallStore::from_client(dynamodb, "calls"),
    );

    let wrong_values = ["", "local-dev-toke", "local-dev-token2", "Bearer local-dev-token", "LOCAL-DEV-TOKEN"];
    for sample in ["send-text-pre-call", "send-text-bad-token", "post-call-transferred", "post-call-malformed-json"] {
        for value in wrong_values.iter().map(|value| Some(*value)).chain([None]) {
            let mut request = request(sample);
            match value {
                Some(value) => request.headers_mut().insert("authorization", HeaderValue::from_static(value)),
                None => request.headers_mut().remove("authorization"),
            };
            let response = match sample.starts_with("send-text") {
                true => handle(&send_text, request).await,
                false => handle(&post_call, request).await,
            };
            assert_eq!(response.status(), 401, "{sample} with {value:?}");
        }
    }
    assert!(injector.attempts.lock().unwrap().is_empty());
}
