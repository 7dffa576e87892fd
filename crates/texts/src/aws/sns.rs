use crate::ledger::{SendFailure, SmsSender};
use crate::settings::SmsSettings;
use crate::sms::SmsText;
use aws_config::SdkConfig;
use aws_sdk_sns::Client;
use aws_sdk_sns::config::interceptors::InterceptorContext;
use aws_sdk_sns::config::retry::{ClassifyRetry, RetryAction};
use aws_sdk_sns::error::{ConnectorError, ProvideErrorMetadata, SdkError};
use aws_sdk_sns::operation::publish::PublishError;
use aws_sdk_sns::types::MessageAttributeValue;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::retries::classifiers::RetryClassifierPriority;
use std::error::Error;
use webhook::aws::{connection_opened, dependency_error, fail_open_timeouts};
use webhook::error::DependencyError;
use webhook::phone::PhoneNumber;

/// Sends texts with SNS direct publish, the SMS attributes on every message.
#[derive(Debug, Clone)]
pub struct SnsSmsSender {
    client: Client,
    attributes: Vec<(&'static str, MessageAttributeValue)>,
    /// Whether the SDK backs off and repeats a throttled publish itself (the webhook), or answers it at once to
    /// a caller that paces itself (the redrive).
    sdk_retries_throttles: bool,
}

impl SnsSmsSender {
    pub fn new(sdk: &SdkConfig, settings: &SmsSettings) -> Result<Self, DependencyError> {
        Self::from_client(Client::new(sdk), settings)
    }

    pub fn from_client(client: Client, settings: &SmsSettings) -> Result<Self, DependencyError> {
        let attribute = |value: &str| {
            MessageAttributeValue::builder()
                .data_type("String")
                .string_value(value)
                .build()
                .map_err(|_| DependencyError::new("SNS message attribute", "could not be built"))
        };
        let mut attributes = vec![("AWS.SNS.SMS.SMSType", attribute(settings.sms_type.as_str())?)];
        if let Some(sender_id) = &settings.sender_id {
            attributes.push(("AWS.SNS.SMS.SenderID", attribute(sender_id)?));
        }
        if let Some(number) = &settings.origination_number {
            attributes.push(("AWS.MM.SMS.OriginationNumber", attribute(number)?));
        }
        Ok(Self { client, attributes, sdk_retries_throttles: true })
    }

    /// This sender, answering a throttled publish at once: the caller's pace decides when to try again.
    pub fn throttles_to_caller(self) -> Self {
        Self { sdk_retries_throttles: false, ..self }
    }

    /// Opens the connection during initialisation ([`connection_opened`]) with the opt-out question the
    /// function asks anyway, about a fictional number (555-0100 is reserved for fiction).
    pub async fn open_connection(&self) {
        let request = self.client.check_if_phone_number_is_opted_out().phone_number("+12025550100");
        let quick = aws_sdk_sns::config::Builder::default().timeout_config(fail_open_timeouts());
        let result = request.customize().config_override(quick).send().await;
        connection_opened("SNS CheckIfPhoneNumberIsOptedOut", result, None);
    }
}

impl SmsSender for SnsSmsSender {
    async fn is_opted_out(&self, to: &PhoneNumber) -> Result<bool, DependencyError> {
        let output = self
            .client
            .check_if_phone_number_is_opted_out()
            .phone_number(to.e164())
            .customize()
            .config_override(aws_sdk_sns::config::Builder::default().timeout_config(fail_open_timeouts()))
            .send()
            .await
            .map_err(|error| dependency_error("SNS CheckIfPhoneNumberIsOptedOut", &error))?;
        Ok(output.is_opted_out())
    }

    async fn send(&self, to: &PhoneNumber, text: &SmsText<'_>) -> Result<String, SendFailure> {
        let request =
            self.attributes.iter().fold(
                self.client.publish().phone_number(to.e164()).message(text.as_str()),
                |request, (name, value)| request.message_attributes(*name, value.clone()),
            );
        let mut retries = aws_sdk_sns::config::Builder::default().retry_classifier(NoRepeatOnceReceived);
        if !self.sdk_retries_throttles {
            retries = retries.retry_classifier(ThrottlesToCaller);
        }
        let output = request.customize().config_override(retries).send().await.map_err(|error| failure_of(&error))?;
        // SNS answered success: the text is out even if the answer lacks its id.
        Ok(output.message_id.unwrap_or_default())
    }
}

/// Whether SNS refused the publish for good: the request itself is wrong for it (a number it cannot text, a
/// parameter it refuses), and sending it again changes nothing. Matched on the SDK's modelled errors, not on
/// their wire codes (`ParameterValueInvalid` is the code of `InvalidParameterValueException`). Every other 4xx is
/// of the moment or of the account, fixed without touching the text: throttling, access denied (an IAM policy),
/// a KMS key, an expired credential.
fn refused_for_good(error: &PublishError) -> bool {
    matches!(
        error,
        PublishError::InvalidParameterException(_)
            | PublishError::InvalidParameterValueException(_)
            | PublishError::ValidationException(_)
            | PublishError::EndpointDisabledException(_)
            | PublishError::NotFoundException(_)
            | PublishError::PlatformApplicationDisabledException(_)
    )
}

/// The codes SNS answers a publish beyond the account's or the number's rate with ("Rate exceeded"): `Throttling`
/// (its query protocol's), or `ThrottlingException`. Both are codes the SDK's standard retry backs off and
/// retries first. Publish models no throttling error of its own, hence the codes. Not KMS's `KMSThrottling`: a
/// limit of the key, not of texting.
const THROTTLED: [&str; 2] = ["Throttling", "ThrottlingException"];

/// What a failed publish means for the text. SNS has no idempotency key for direct SMS: a publish repeated after
/// SNS received the first one may text the lead twice. Safe to repeat: SNS refused it with a 4xx, or no
/// connection was ever made. A 5xx means SNS received it (and may have sent it before failing).
fn failure_of(error: &SdkError<PublishError, HttpResponse>) -> SendFailure {
    let failure = dependency_error("SNS Publish", error);
    match error {
        SdkError::ServiceError(service) if service.raw().status().is_server_error() => {
            SendFailure::Unconfirmed(failure)
        }
        SdkError::ServiceError(service) if refused_for_good(service.err()) => {
            let code = service.err().code().unwrap_or("(no code)").to_owned();
            SendFailure::Refused { error: failure, code }
        }
        SdkError::ServiceError(service) if THROTTLED.contains(&service.err().code().unwrap_or_default()) => {
            SendFailure::Throttled(failure)
        }
        SdkError::ServiceError(_) => SendFailure::NotSent(failure),
        SdkError::ConstructionFailure(_) => SendFailure::NotSent(failure),
        SdkError::DispatchFailure(dispatch) if dispatch.as_connector_error().is_some_and(never_connected) => {
            SendFailure::NotSent(failure)
        }
        // An attempt timed out or its answer could not be read, after the request went out.
        _ => SendFailure::Unconfirmed(failure),
    }
}

/// A connection refused, unresolvable or not established in time (our clients set no read timeout, so a
/// connector timeout is a connect timeout).
fn never_connected(error: &ConnectorError) -> bool {
    let mut source: Option<&(dyn Error + 'static)> = Some(error);
    let is_connect_error = std::iter::from_fn(|| {
        let current = source?;
        source = current.source();
        Some(current)
    })
    .any(|cause| {
        cause.downcast_ref::<hyper_util::client::legacy::Error>().is_some_and(|e| e.is_connect())
            || cause.downcast_ref::<std::io::Error>().is_some_and(|e| e.kind() == std::io::ErrorKind::ConnectionRefused)
    });
    error.is_timeout() || is_connect_error
}

/// Overrides the SDK's retry decision for Publish: the standard classifiers retry timeouts, dropped connections
/// and 5xx answers, which for a publish SNS may have received means a second text.
#[derive(Debug)]
struct NoRepeatOnceReceived;

impl ClassifyRetry for NoRepeatOnceReceived {
    fn classify_retry(&self, context: &InterceptorContext) -> RetryAction {
        let Some(Err(error)) = context.output_or_error() else {
            return RetryAction::NoActionIndicated;
        };
        let reached = error.is_timeout_error()
            || error.is_response_error()
            || error.as_connector_error().is_some_and(|connector| !never_connected(connector))
            || context.response().is_some_and(|response| response.status().is_server_error());
        match reached {
            true => RetryAction::RetryForbidden,
            false => RetryAction::NoActionIndicated,
        }
    }

    fn name(&self) -> &'static str {
        "no repeat of a publish SNS may have received"
    }

    fn priority(&self) -> RetryClassifierPriority {
        RetryClassifierPriority::run_after(RetryClassifierPriority::transient_error_classifier())
    }
}

/// For a caller that paces itself: a throttled publish is not repeated by the SDK after its own backoff (up to
/// seconds), it is answered at once.
#[derive(Debug)]
struct ThrottlesToCaller;

impl ClassifyRetry for ThrottlesToCaller {
    fn classify_retry(&self, context: &InterceptorContext) -> RetryAction {
        let code = context
            .output_or_error()
            .and_then(Result::err)
            .and_then(|error| error.as_operation_error())
            .and_then(|error| error.downcast_ref::<PublishError>())
            .and_then(ProvideErrorMetadata::code);
        match code.is_some_and(|code| THROTTLED.contains(&code)) {
            true => RetryAction::RetryForbidden,
            false => RetryAction::NoActionIndicated,
        }
    }

    fn name(&self) -> &'static str {
        "a throttled publish answered to the caller's pace"
    }

    fn priority(&self) -> RetryClassifierPriority {
        RetryClassifierPriority::run_after(RetryClassifierPriority::transient_error_classifier())
    }
}
