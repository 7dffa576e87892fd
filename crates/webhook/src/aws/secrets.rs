use super::{dependency_error, fail_open_timeouts};
use crate::auth::{Authenticator, TokenPair, TokenStore};
use crate::config::{AuthSettings, TokenSetting};
use crate::error::DependencyError;
use aws_config::SdkConfig;
use aws_sdk_secretsmanager::Client;
use std::future::Future;
use std::pin::Pin;

/// The auth tokens kept in a Secrets Manager secret (see [`TokenPair::from_secret_string`] for its format).
#[derive(Debug, Clone)]
pub struct SecretsManagerTokens {
    client: Client,
    secret_id: String,
}

impl SecretsManagerTokens {
    pub fn new(sdk: &SdkConfig, secret_id: impl Into<String>) -> Self {
        Self::from_client(Client::new(sdk), secret_id)
    }

    pub fn from_client(client: Client, secret_id: impl Into<String>) -> Self {
        Self { client, secret_id: secret_id.into() }
    }

    async fn read(&self) -> Result<TokenPair, DependencyError> {
        const OPERATION: &str = "Secrets Manager GetSecretValue (auth token)";
        let output = self
            .client
            .get_secret_value()
            .secret_id(&self.secret_id)
            // Only a re-read can be slow on a request, and a failed re-read keeps the cached token.
            .customize()
            .config_override(aws_sdk_secretsmanager::config::Builder::default().timeout_config(fail_open_timeouts()))
            .send()
            .await
            .map_err(|error| dependency_error(OPERATION, &error))?;
        output
            .secret_string()
            .and_then(TokenPair::from_secret_string)
            .ok_or_else(|| DependencyError::new(OPERATION, "the secret holds no usable token"))
    }
}

impl TokenStore for SecretsManagerTokens {
    fn fetch(&self) -> Pin<Box<dyn Future<Output = Result<TokenPair, DependencyError>> + Send + '_>> {
        Box::pin(self.read())
    }
}

/// The authenticator the settings ask for: fixed tokens from the environment, or a secret read now and
/// re-read when due. Fails when the secret cannot be read at start: the function could accept nothing.
pub async fn authenticator(settings: &AuthSettings, sdk: &SdkConfig) -> Result<Authenticator, DependencyError> {
    match &settings.tokens {
        TokenSetting::Environment(tokens) => Ok(Authenticator::fixed(settings.header.clone(), tokens.clone())),
        TokenSetting::SecretsManager { secret_id, refresh_every } => {
            let store = Box::new(SecretsManagerTokens::new(sdk, secret_id));
            Authenticator::refreshing(settings.header.clone(), store, *refresh_every).await
        }
    }
}
