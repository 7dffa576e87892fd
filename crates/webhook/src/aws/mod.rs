//! What every function's AWS adapters share: one SDK config per process, the timeouts, the classification of
//! SDK failures, opening connections during initialisation, DynamoDB items, and the token in Secrets Manager.
//! With the domain crates' `aws` modules and sms-delivery-status's `adapters`, the only code that names the AWS
//! SDK (besides the item type and the fakes).

mod fallback_queue;
mod opt_outs;
mod secrets;

pub use fallback_queue::{SqsFallbackQueue, SqsRedelivery};
pub use opt_outs::DynamoOptOuts;
pub use secrets::{SecretsManagerTokens, authenticator};

use crate::auth::Authenticator;
use crate::budget;
use crate::config::WebhookConfig;
use crate::error::DependencyError;
use crate::payload::WebhookId;
use crate::phone::PhoneNumber;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use std::time::Duration;

/// One DynamoDB table as its adapter holds it: the client (one per function, its set-up paid once and its
/// connections shared by every table) and the table's name.
#[derive(Debug, Clone)]
pub struct DynamoTable {
    pub client: aws_sdk_dynamodb::Client,
    pub name: String,
}

impl DynamoTable {
    pub fn new(sdk: &SdkConfig, name: impl Into<String>) -> Self {
        Self::from_client(aws_sdk_dynamodb::Client::new(sdk), name)
    }

    pub fn from_client(client: aws_sdk_dynamodb::Client, name: impl Into<String>) -> Self {
        Self { client, name: name.into() }
    }
}

/// An adapter over one DynamoDB table, built the same way whatever the table holds.
pub trait OnTable: From<DynamoTable> {
    /// On `name`, with a client of its own.
    fn new(sdk: &SdkConfig, name: impl Into<String>) -> Self {
        DynamoTable::new(sdk, name).into()
    }

    /// On `name`, through `client` (shared with the function's other tables).
    fn from_client(client: aws_sdk_dynamodb::Client, name: impl Into<String>) -> Self {
        DynamoTable::from_client(client, name).into()
    }
}

impl<Adapter: From<DynamoTable>> OnTable for Adapter {}

/// Loads region, credentials and endpoint (`AWS_ENDPOINT_URL` included) as the SDK does, once per process.
///
/// Lambda puts the region and the role's credentials in the environment; taking them from there directly skips
/// the SDK's default provider chains (profile files, SSO, web identity, IMDS), which cost 11–27 ms of every
/// cold start (measured). Without those variables (a developer's machine) the default chains apply.
pub async fn load_aws_config() -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest()).timeout_config(timeouts());
    if let Ok(region) = std::env::var("AWS_REGION") {
        loader = loader.region(aws_config::Region::new(region));
    }
    if std::env::var_os("AWS_ACCESS_KEY_ID").is_some() {
        loader = loader.credentials_provider(aws_config::environment::EnvironmentVariableCredentialsProvider::new());
    }
    loader.load().await
}

/// What every webhook function starts with, read and built once, in this order: JSON logs; its configuration
/// (a bad value stops it with a log line naming the function); the phone metadata for its default country (in
/// the background); the SDK config; the token (the function cannot start without it).
pub struct Started<C> {
    pub config: C,
    pub aws: SdkConfig,
    pub authenticator: Authenticator,
}

/// A webhook function's start, before it builds its own adapters and handler.
pub async fn start_webhook<C: WebhookConfig>(function: &'static str) -> Result<Started<C>, lambda_http::Error> {
    crate::telemetry::init();
    let config =
        C::from_env().inspect_err(|error| tracing::error!(%error, "{function} cannot start: invalid configuration"))?;
    PhoneNumber::start_loading_metadata(config.common().data.default_country);
    let aws = load_aws_config().await;
    let authenticator = authenticator(&config.common().auth, &aws)
        .await
        .inspect_err(|error| tracing::error!(%error, "cannot start: the auth token could not be read"))?;
    Ok(Started { config, aws, authenticator })
}

/// Bounds a hung dependency: each attempt gets 2 s and a whole call, retries included (standard mode: 3
/// attempts with backoff), [`budget::CALL`]; then the delivery is queued or answers 503. Each function's slowest
/// path is a sum of these ([`crate::budget`]).
pub fn timeouts() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(1))
        .operation_attempt_timeout(Duration::from_secs(2))
        .operation_timeout(budget::CALL)
        .build()
}

/// For calls whose failure is tolerated (the opt-out check, re-reading the token) and those made during
/// initialisation only to open a connection: not worth waiting long for ([`budget::QUICK_CALL`]).
pub fn fail_open_timeouts() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(1))
        .operation_attempt_timeout(Duration::from_secs(1))
        .operation_timeout(budget::QUICK_CALL)
        .build()
}

/// Notes the outcome of a request made while the function initialises only to open its service's connection:
/// the TLS handshake and the SDK's first-request set-up then use Lambda's full initialisation CPU instead of
/// delaying the first, time-critical delivery. Each such request is one the function's IAM role already allows
/// and changes nothing, so its outcome (`expected_code`, or any other failure) only earns a debug line.
pub fn connection_opened<T, E: ProvideErrorMetadata, R>(
    operation: &'static str,
    result: Result<T, SdkError<E, R>>,
    expected_code: Option<&str>,
) {
    if let Err(error) = result
        && error.as_service_error().and_then(ProvideErrorMetadata::code) != expected_code
    {
        tracing::debug!(error = %dependency_error(operation, &error), "could not open the connection at start");
    }
}

/// Classifies an SDK failure without its service message, which may echo request data.
pub fn dependency_error<E: ProvideErrorMetadata, R>(
    operation: &'static str,
    error: &SdkError<E, R>,
) -> DependencyError {
    let cause = match error {
        SdkError::TimeoutError(_) => "timed out".to_owned(),
        SdkError::DispatchFailure(failure) if failure.is_timeout() => "connection timed out".to_owned(),
        SdkError::DispatchFailure(failure) if failure.is_io() => "connection failed".to_owned(),
        SdkError::DispatchFailure(_) => "request could not be sent".to_owned(),
        SdkError::ServiceError(service) => format!("service error {}", service.err().code().unwrap_or("(no code)")),
        SdkError::ResponseError(_) => "response could not be read".to_owned(),
        SdkError::ConstructionFailure(_) => "request could not be built".to_owned(),
        _ => "unclassified SDK error".to_owned(),
    };
    DependencyError::new(operation, cause)
}

/// Our tables' partition key, `id` (a Number), for a webhook id.
pub fn id_key(id: WebhookId) -> aws_sdk_dynamodb::types::AttributeValue {
    aws_sdk_dynamodb::types::AttributeValue::N(id.get().to_string())
}

/// A DynamoDB condition no item meets, for requests sent only to open the connection (they change nothing).
pub const NEVER: &str = "attribute_exists(id) AND attribute_not_exists(id)";

/// DynamoDB settings for such a request: initialisation waits for it, so not long.
pub fn quick_dynamodb() -> aws_sdk_dynamodb::config::Builder {
    aws_sdk_dynamodb::config::Builder::default().timeout_config(fail_open_timeouts())
}
