//! The only code that names the AWS SDK: one shared SDK config and the adapters for the ports.

mod dynamodb;
mod secrets;
mod sns;

pub use dynamodb::{DynamoCallStore, DynamoTextLedger};
pub use secrets::{SecretsManagerTokens, authenticator};
pub use sns::SnsSmsSender;

use crate::error::DependencyError;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use std::time::Duration;

/// Loads region, credentials and endpoint (`AWS_ENDPOINT_URL` included) as the SDK does, once per process.
///
/// The timeouts bound a hung dependency well inside API Gateway's 30 s: each attempt gets 3 s and the whole
/// call, retries included (standard mode: 3 attempts with backoff), 10 s; then the delivery answers 503.
pub async fn load_aws_config() -> SdkConfig {
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(2))
        .operation_attempt_timeout(Duration::from_secs(3))
        .operation_timeout(Duration::from_secs(10))
        .build();
    aws_config::defaults(BehaviorVersion::latest()).timeout_config(timeouts).load().await
}

/// Classifies an SDK failure without its service message, which may echo request data.
fn dependency_error<E: ProvideErrorMetadata, R>(operation: &'static str, error: &SdkError<E, R>) -> DependencyError {
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

#[cfg(test)]
mod tests;
