use super::{dependency_error, fail_open_timeouts};
use crate::config::SmsSettings;
use crate::error::DependencyError;
use crate::phone::PhoneNumber;
use crate::ports::SmsSender;
use crate::sms::SmsText;
use aws_config::SdkConfig;
use aws_sdk_sns::Client;
use aws_sdk_sns::types::MessageAttributeValue;

/// Sends texts with SNS direct publish, the SMS attributes on every message.
#[derive(Debug, Clone)]
pub struct SnsSmsSender {
    client: Client,
    attributes: Vec<(&'static str, MessageAttributeValue)>,
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
        let mut attributes = vec![("AWS.SNS.SMS.SMSType", attribute(&settings.sms_type)?)];
        if let Some(sender_id) = &settings.sender_id {
            attributes.push(("AWS.SNS.SMS.SenderID", attribute(sender_id)?));
        }
        if let Some(number) = &settings.origination_number {
            attributes.push(("AWS.MM.SMS.OriginationNumber", attribute(number)?));
        }
        Ok(Self { client, attributes })
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

    async fn send(&self, to: &PhoneNumber, text: SmsText<'_>) -> Result<String, DependencyError> {
        let request =
            self.attributes.iter().fold(
                self.client.publish().phone_number(to.e164()).message(text.as_str()),
                |request, (name, value)| request.message_attributes(*name, value.clone()),
            );
        let output = request.send().await.map_err(|error| dependency_error("SNS Publish", &error))?;
        output.message_id.ok_or_else(|| DependencyError::new("SNS Publish", "no message id in the response"))
    }
}
