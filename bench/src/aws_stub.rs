//! AWS answered instantly: every call the functions make succeeds with a minimal valid answer, so the
//! measurement is our code and the SDK, not an emulator or the network. Any secret holds the harness's token.

use crate::http::{Request, Response, serve};
use tokio::net::TcpListener;

/// Starts the stub; returns its endpoint URL.
pub async fn start() -> std::io::Result<String> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let endpoint = format!("http://{}", listener.local_addr()?);
    tokio::spawn(serve(listener, |request| async move { answer(&request) }));
    Ok(endpoint)
}

fn answer(request: &Request) -> Response {
    // DynamoDB and Secrets Manager speak JSON (`X-Amz-Target: DynamoDB_20120810.PutItem`), SNS the query
    // protocol (`Action=`).
    if request.header("x-amz-target") == Some("secretsmanager.GetSecretValue") {
        let secret = serde_json::json!({ "current": crate::TOKEN, "previous": "" }).to_string();
        let body = serde_json::json!({ "ARN": "arn:aws:secretsmanager:us-east-1:000000000000:secret:stub", "SecretString": secret });
        let mut response = Response::new(200, "application/x-amz-json-1.1", body.to_string());
        response.headers.push(("x-amzn-RequestId", "stub".into()));
        return response;
    }
    if request.header("x-amz-target").is_some() {
        let mut response = Response::new(200, "application/x-amz-json-1.0", "{}");
        response.headers.push(("x-amzn-RequestId", "stub".into()));
        return response;
    }
    let form = String::from_utf8_lossy(&request.body);
    let action = form.split('&').find_map(|pair| pair.strip_prefix("Action=")).unwrap_or_default();
    let result = match action {
        "Publish" => "<PublishResult><MessageId>stub-message</MessageId></PublishResult>",
        "CheckIfPhoneNumberIsOptedOut" => {
            "<CheckIfPhoneNumberIsOptedOutResult><isOptedOut>false</isOptedOut></CheckIfPhoneNumberIsOptedOutResult>"
        }
        _ => return Response::new(400, "text/plain", format!("the stub does not know {action:?}")),
    };
    let body = format!(
        "<{action}Response xmlns=\"http://sns.amazonaws.com/doc/2010-03-31/\">{result}\
         <ResponseMetadata><RequestId>stub</RequestId></ResponseMetadata></{action}Response>"
    );
    Response::new(200, "text/xml", body)
}
