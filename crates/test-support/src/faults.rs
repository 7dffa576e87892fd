//! The fault matrix's machinery: real SDK clients whose calls aws-smithy-mocks answers, except the one call under
//! test, which an HTTP layer under them gives its fault. The SDK's own retries, timeouts and error
//! classification run exactly as in production (`timeouts()`, standard retries). Each crate's
//! `tests/fault_matrix.rs` drives its own calls through it.

use aws_sdk_dynamodb::config::retry::RetryConfig;
use aws_sdk_dynamodb::config::{SharedAsyncSleep, SharedHttpClient};
use aws_sdk_dynamodb::operation::delete_item::DeleteItemOutput;
use aws_sdk_dynamodb::operation::get_item::GetItemOutput;
use aws_sdk_dynamodb::operation::put_item::PutItemOutput;
use aws_sdk_dynamodb::operation::query::QueryOutput;
use aws_sdk_dynamodb::operation::update_item::UpdateItemOutput;
use aws_sdk_dynamodb::types::AttributeValue;
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
use std::sync::{Arc, Mutex};
use webhook::aws::timeouts;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The service answers 400 with its throttling error code.
    Throttling,
    /// The service answers 500.
    ServerError,
    /// No connection can be made.
    Refused,
    /// The request is sent and no answer ever comes.
    Hang,
    /// The service answers 400 refusing the request itself (`InvalidParameter` from SNS, `ValidationException`
    /// from the JSON services): sending it again changes nothing. Not in [`FAULTS`]: only a refused SMS has a
    /// path of its own.
    Rejected,
}

pub const FAULTS: [Fault; 4] = [Fault::Throttling, Fault::ServerError, Fault::Refused, Fault::Hang];

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
pub struct FaultInjector {
    pub operation: &'static str,
    /// Only `operation`'s requests to this DynamoDB table, when set.
    table: Option<&'static str>,
    pub fault: Fault,
    /// Attempts of `operation` that still go to the mocks before the fault starts.
    skip: usize,
    pub attempts: Arc<Mutex<Vec<String>>>,
    mocks: SharedHttpClient,
}

impl FaultInjector {
    pub fn new(operation: &'static str, fault: Fault) -> Self {
        Self { operation, table: None, fault, skip: 0, attempts: Arc::default(), mocks: create_mock_http_client() }
    }

    /// The fault only for `operation`'s requests to DynamoDB table `table` (a function may put to two tables).
    pub fn on_table(self, table: &'static str) -> Self {
        Self { table: Some(table), ..self }
    }

    /// The fault only from `operation`'s `skip`+1-th attempt on.
    pub fn after(self, skip: usize) -> Self {
        Self { skip, ..self }
    }

    /// How many attempts of `operation` were made (any operation name: the injector records them all).
    pub fn attempts(&self, operation: &str) -> usize {
        webhook::fakes::lock(&self.attempts).iter().filter(|called| *called == operation).count()
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
        webhook::fakes::lock(&self.injector.attempts).push(operation.clone());
        let other_table = self.injector.table.is_some_and(|table| {
            let body = request.body().bytes().unwrap_or_default();
            !String::from_utf8_lossy(body).contains(&format!(r#""TableName":"{table}""#))
        });
        if operation != self.injector.operation || other_table || earlier < self.injector.skip {
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
            Fault::Rejected => {
                HttpConnectorFuture::ready(Ok(error_response(&request, 400, "ValidationException", "InvalidParameter")))
            }
        }
    }
}

/// An HTTP answer the injector never passes on.
pub fn ignored() -> HttpResponse {
    HttpResponse::new(StatusCode::try_from(200).unwrap(), SdkBody::empty())
}

/// The mocked call that `works`, or, for the operation under test, one (`through`) that lets the request reach
/// the injector: a modeled mock answer would replace the injected fault.
fn pick(injector: &FaultInjector, operation: &str, works: Rule, through: Rule) -> Rule {
    if injector.operation == operation { through } else { works }
}

/// SNS answering both of send-text's calls, the one under test reaching the injector.
pub fn sns(injector: &FaultInjector) -> aws_sdk_sns::Client {
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

/// DynamoDB answering puts, updates, deletes, gets (no item: the number is not listed) and queries (text 1234),
/// the operation under test (on its table, when the injector names one) reaching the injector.
pub fn dynamodb(injector: &FaultInjector) -> aws_sdk_dynamodb::Client {
    let faulted = |operation: &str| injector.operation == operation;
    let table = injector.table;
    let on_table = move |name: Option<&str>| table.is_none_or(|table| name == Some(table));
    let mut rules = Vec::new();
    // Each operation's answer; the one under test first gets a rule (on its table) that lets it through.
    macro_rules! answer {
        ($operation:literal, $method:ident, $output:expr) => {
            if faulted($operation) {
                rules.push(
                    mock!(aws_sdk_dynamodb::Client::$method)
                        .match_requests(move |request| on_table(request.table_name()))
                        .then_http_response(ignored),
                );
            }
            rules.push(mock!(aws_sdk_dynamodb::Client::$method).then_output($output));
        };
    }
    answer!("PutItem", put_item, || PutItemOutput::builder().build());
    answer!("UpdateItem", update_item, || UpdateItemOutput::builder().build());
    answer!("GetItem", get_item, || GetItemOutput::builder().build());
    answer!("DeleteItem", delete_item, || DeleteItemOutput::builder().build());
    // The sent-texts index finds pre-call text 1234 for any message id.
    answer!("Query", query, || {
        let item = std::collections::HashMap::from([
            ("id".to_owned(), AttributeValue::N("1234".into())),
            ("text_type".to_owned(), AttributeValue::S("pre-call".into())),
        ]);
        QueryOutput::builder().items(item).build()
    });
    let injector = injector.clone();
    mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, &rules, move |config| config
        .http_client(injector.clone())
        .timeout_config(timeouts())
        .retry_config(RetryConfig::standard())
        .sleep_impl(SharedAsyncSleep::new(TokioSleep::new())))
}

/// Secrets Manager holding the token; its reads from the `injector.skip`+1-th on reach the injector.
pub fn secrets(injector: &FaultInjector) -> aws_sdk_secretsmanager::Client {
    let secret = || {
        let secret = format!(r#"{{"current":"{}"}}"#, crate::events::TOKEN);
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

/// SNS with no mocked call at all: any request panics the test (aws-smithy-mocks' `must_match`), and the
/// injector under it records any that got that far.
pub fn unmocked_sns(injector: &FaultInjector) -> aws_sdk_sns::Client {
    let (injector, none): (_, [&Rule; 0]) = (injector.clone(), []);
    mock_client!(aws_sdk_sns, RuleMode::MatchAny, none, move |config| config.http_client(injector.clone()))
}

/// DynamoDB with no mocked call at all, as [`unmocked_sns`].
pub fn unmocked_dynamodb(injector: &FaultInjector) -> aws_sdk_dynamodb::Client {
    let (injector, none): (_, [&Rule; 0]) = (injector.clone(), []);
    mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, none, move |config| config.http_client(injector.clone()))
}

/// Sample `name` once without its auth header and once with each of several values that are not the token.
pub fn wrong_token_requests(name: &str) -> Vec<lambda_http::Request> {
    let wrong_values = ["", "local-dev-toke", "local-dev-token2", "Bearer local-dev-token", "LOCAL-DEV-TOKEN"];
    let mut requests = Vec::new();
    for value in wrong_values.iter().map(|value| Some(*value)).chain([None]) {
        let mut request = crate::events::event(name);
        match value {
            Some(value) => {
                request.headers_mut().insert("authorization", lambda_http::http::HeaderValue::from_static(value))
            }
            None => request.headers_mut().remove("authorization"),
        };
        requests.push(request);
    }
    requests
}
