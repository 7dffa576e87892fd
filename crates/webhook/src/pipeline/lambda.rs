//! The Lambda runtime loop in front of [`handle`]: lambda_http's event conversion, made total.

use super::{Webhook, handle};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use lambda_http::request::LambdaRequest;
use lambda_http::{Adapter, Error, LambdaEvent, Service, service_fn};
use serde::Serialize;
use std::convert::Infallible;

/// Marks a request whose event flagged its body base64 but did not carry valid base64; the body is dropped.
#[derive(Debug, Clone, Copy)]
pub struct UndecodableBody;

/// Serves `webhook` until the runtime stops.
pub async fn serve<W: Webhook>(webhook: &W) -> Result<(), Error> {
    lambda_http::lambda_runtime::run(service_fn(|event| answer(webhook, event))).await
}

/// Answers one API Gateway (REST or HTTP API) or ALB event, in that event source's response format.
pub async fn answer<W: Webhook>(
    webhook: &W,
    mut event: LambdaEvent<LambdaRequest>,
) -> Result<impl Serialize + Send + use<W>, Infallible> {
    // lambda_http panics converting an event whose base64 body does not decode; API Gateway never sends one,
    // but anything that can invoke the function could. Such a body is taken out here and answered 400.
    let undecodable = take_undecodable_body(&mut event.payload);
    let mut adapter = Adapter::from(service_fn(|mut request: lambda_http::Request| async move {
        if undecodable {
            request.extensions_mut().insert(UndecodableBody);
        }
        Ok::<_, Infallible>(handle(webhook, request).await)
    }));
    adapter.call(event).await
}

/// Removes a body flagged base64 that is not; true when it did.
fn take_undecodable_body(event: &mut LambdaRequest) -> bool {
    let (body, is_base64_encoded) = match event {
        LambdaRequest::ApiGatewayV1(event) => (&mut event.body, &mut event.is_base64_encoded),
        LambdaRequest::ApiGatewayV2(event) => (&mut event.body, &mut event.is_base64_encoded),
        LambdaRequest::Alb(event) => (&mut event.body, &mut event.is_base64_encoded),
        _ => return false,
    };
    let undecodable = *is_base64_encoded && body.as_deref().is_some_and(|body| STANDARD.decode(body).is_err());
    if undecodable {
        *body = None;
        *is_base64_encoded = false;
    }
    undecodable
}
