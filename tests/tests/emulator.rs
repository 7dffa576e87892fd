//! The handlers with the real AWS adapters against the emulator (moto's server), one emulator per test.

use calls::aws::DynamoCallStore;
use integration_tests::{AUTH_TOKEN, Emulator, Error, SampleEvent, Table, free_port};
use lambda_http::{Body, Context, Request, RequestExt};
use leads::aws::DynamoLeadEvents;
use post_call::config::PostCallConfig;
use post_call::handler::{PostCallDeps, PostCallHandler};
use send_text::config::SendTextConfig;
use send_text::handler::{SendTextDeps, SendTextHandler};
use serde_json::{Value, json};
use texts::aws::{DynamoTextLedger, SnsSmsSender};
use webhook::aws::{DynamoOptOuts, OnTable, SqsRedelivery, authenticator};
use webhook::config::FromEnvironment;
use webhook::pipeline::{Webhook, handle};
use webhook_test_support::whole_invocation;

const TEXTS: &str = Table::SentTexts.name();
const CALLS: &str = Table::Calls.name();
const OPT_OUTS: &str = Table::OptOuts.name();
const LEAD_EVENTS: &str = Table::LeadEvents.name();

fn env(extra: &[(&'static str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
    let tables = [
        ("AUTH_TOKEN", AUTH_TOKEN),
        ("SENT_TEXTS_TABLE", TEXTS),
        ("CALLS_TABLE", CALLS),
        ("OPT_OUTS_TABLE", OPT_OUTS),
        ("LEAD_EVENTS_TABLE", LEAD_EVENTS),
        // What is sent must not depend on the time of day the suite runs (the samples' leads are in WA and DC).
        ("TEXT_HOURS", "off"),
    ];
    webhook_test_support::events::lookup(&[tables.as_slice(), extra].concat())
}

/// An API Gateway event as lambda_http hands it to the handler, with a Lambda request id.
fn invocation(event: &str, request_id: &str) -> Result<Request, Error> {
    let mut context = Context::default();
    context.request_id = request_id.into();
    Ok(lambda_http::request::from_str(event)?.with_lambda_context(context))
}

/// A sample event exactly as stored.
fn request(name: &str, request_id: &str) -> Result<Request, Error> {
    invocation(&SampleEvent::named(name)?.event()?, request_id)
}

/// A sample event carrying `payload` as its body.
fn request_with_payload(name: &str, payload: &Value, request_id: &str) -> Result<Request, Error> {
    let mut envelope: Value = serde_json::from_str(&SampleEvent::named(name)?.event()?)?;
    envelope["body"] = payload.to_string().into();
    invocation(&envelope.to_string(), request_id)
}

async fn answer<W: Webhook>(webhook: &W, request: Request) -> Result<(u16, Value), Error> {
    let response = handle(webhook, request).await;
    let Body::Text(body) = response.body() else { return Err("not a text body".into()) };
    Ok((response.status().as_u16(), serde_json::from_str(body)?))
}

async fn deliver<W: Webhook>(webhook: &W, name: &str, request_id: &str) -> Result<(u16, Value), Error> {
    answer(webhook, request(name, request_id)?).await
}

type SendText =
    SendTextHandler<DynamoTextLedger, SnsSmsSender, Option<DynamoOptOuts>, Option<webhook::aws::SqsFallbackQueue>>;

async fn send_text_handler(emulator: &Emulator, sns_endpoint: Option<String>) -> Result<SendText, Error> {
    let config = SendTextConfig::from_lookup(env(&[("SMS_SENDER_ID", "Acme2X")]))?;
    let sdk = emulator.sdk_config().await;
    let sns_sdk = match sns_endpoint {
        Some(endpoint) => sdk.to_builder().endpoint_url(endpoint).build(),
        None => sdk.clone(),
    };
    let sms = SnsSmsSender::new(&sns_sdk, &config.own.texts.sms)?;
    let authenticator = authenticator(&config.common.auth, &sdk).await?;
    let opt_outs = Some(DynamoOptOuts::new(&sdk, OPT_OUTS));
    let ledger = DynamoTextLedger::new(&sdk, TEXTS);
    Ok(send_text::handler::build(config, authenticator, SendTextDeps { ledger, sms, opt_outs, queue: None }))
}

type PostCall = PostCallHandler<DynamoCallStore, DynamoOptOuts, Option<webhook::aws::SqsFallbackQueue>>;

async fn post_call_handler(emulator: &Emulator) -> Result<PostCall, Error> {
    let config = PostCallConfig::from_lookup(env(&[("RETENTION_DAYS", "30")]))?;
    let sdk = emulator.sdk_config().await;
    let authenticator = authenticator(&config.common.auth, &sdk).await?;
    let opt_outs = Some(DynamoOptOuts::new(&sdk, OPT_OUTS));
    let calls = DynamoCallStore::new(&sdk, CALLS);
    Ok(post_call::handler::build(config, authenticator, PostCallDeps { calls, opt_outs, queue: None }))
}

#[tokio::test]
async fn send_text_publishes_to_the_e164_number_with_the_sms_attributes() -> Result<(), Error> {
    let emulator = Emulator::start()?;
    emulator.create_table(Table::SentTexts).await?;
    emulator.create_table(Table::OptOuts).await?;
    let handler = send_text_handler(&emulator, None).await?;

    let (status, body) = deliver(&handler, "send-text-post-voicemail", "req-1").await?;
    assert_eq!((status, &body["status"]), (200, &json!("sent")), "{body}");

    let payload = SampleEvent::named("send-text-post-voicemail")?.payload()?;
    assert_eq!(payload["record_phone_number"], "2025550187", "the sample sends a bare 10-digit number");
    assert_eq!(
        emulator.sms().await?,
        [("+12025550187".to_owned(), payload["message"].as_str().unwrap_or("").to_owned())]
    );

    let publishes = emulator.publish_requests().await?;
    assert_eq!(publishes.len(), 1);
    let attributes = message_attributes(&publishes[0]);
    assert_eq!(attributes.get("AWS.SNS.SMS.SMSType").map(String::as_str), Some("Transactional"));
    assert_eq!(attributes.get("AWS.SNS.SMS.SenderID").map(String::as_str), Some("Acme2X"));

    let items = emulator.items(TEXTS).await?;
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["status"], "sent");
    assert_eq!(items[0]["message_id"], body["message_id"]);
    assert_eq!(items[0]["phone_e164"], "+12025550187");
    Ok(())
}

/// `MessageAttributes.entry.N.Name` / `.Value.StringValue` pairs of a recorded Publish form.
fn message_attributes(form: &[(String, String)]) -> std::collections::HashMap<String, String> {
    let field = |key: &str| form.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone());
    (1..=10)
        .filter_map(|n| {
            let name = field(&format!("MessageAttributes.entry.{n}.Name"))?;
            let value = field(&format!("MessageAttributes.entry.{n}.Value.StringValue"))?;
            Some((name, value))
        })
        .collect()
}

#[tokio::test]
async fn the_same_text_id_delivered_twice_is_texted_once() -> Result<(), Error> {
    let emulator = Emulator::start()?;
    emulator.create_table(Table::SentTexts).await?;
    emulator.create_table(Table::OptOuts).await?;
    let handler = send_text_handler(&emulator, None).await?;

    let first = deliver(&handler, "send-text-pre-call", "req-1").await?;
    let second = deliver(&handler, "send-text-pre-call", "req-2").await?;

    assert_eq!(first.1["status"], "sent");
    assert_eq!(second, (200, json!({"status": "duplicate", "id": 1234})));
    assert_eq!(emulator.sms().await?.len(), 1);
    Ok(())
}

#[tokio::test]
async fn a_failed_publish_releases_the_claim_and_the_retry_texts_once() -> Result<(), Error> {
    let emulator = Emulator::start()?;
    emulator.create_table(Table::SentTexts).await?;
    emulator.create_table(Table::OptOuts).await?;
    let unreachable_sns = format!("http://127.0.0.1:{}", free_port()?);
    let broken = send_text_handler(&emulator, Some(unreachable_sns)).await?;

    let (status, body) = deliver(&broken, "send-text-pre-call", "req-1").await?;
    assert_eq!(status, 503, "{body}");
    assert!(emulator.items(TEXTS).await?.is_empty(), "the claim was released");

    let working = send_text_handler(&emulator, None).await?;
    assert_eq!(deliver(&working, "send-text-pre-call", "req-2").await?.1["status"], "sent");
    assert_eq!(deliver(&working, "send-text-pre-call", "req-3").await?.1["status"], "duplicate");
    assert_eq!(emulator.sms().await?.len(), 1);
    Ok(())
}

#[tokio::test]
async fn a_claim_left_by_a_dead_delivery_blocks_then_counts_as_unconfirmed() -> Result<(), Error> {
    let emulator = Emulator::start()?;
    emulator.create_table(Table::SentTexts).await?;
    emulator.create_table(Table::OptOuts).await?;
    let handler = send_text_handler(&emulator, None).await?;
    let client = aws_sdk_dynamodb::Client::new(&emulator.sdk_config().await);
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let put_claim = |lease_expires_at: i64| {
        client
            .put_item()
            .table_name(TEXTS)
            .item("id", aws_sdk_dynamodb::types::AttributeValue::N("1234".into()))
            .item("text_type", aws_sdk_dynamodb::types::AttributeValue::S("pre-call".into()))
            .item("status", aws_sdk_dynamodb::types::AttributeValue::S("claimed".into()))
            .item("claimed_by", aws_sdk_dynamodb::types::AttributeValue::S("dead-delivery".into()))
            .item("lease_expires_at", aws_sdk_dynamodb::types::AttributeValue::N(lease_expires_at.to_string()))
            .send()
    };

    put_claim(now + 60).await?;
    let (status, _) = deliver(&handler, "send-text-pre-call", "req-1").await?;
    assert_eq!(status, 409, "a live claim may still be sending");
    assert!(emulator.sms().await?.is_empty());

    // The dead delivery may have published before it died: never send again.
    put_claim(now - 1).await?;
    let (status, body) = deliver(&handler, "send-text-pre-call", "req-2").await?;
    assert_eq!((status, body), (202, json!({"status": "unconfirmed", "id": 1234})));
    assert!(emulator.sms().await?.is_empty());
    assert_eq!(emulator.items(TEXTS).await?[0]["claimed_by"], "dead-delivery");
    Ok(())
}

/// A call's id as stored: a string of digits is stored as a number.
fn stored_id(payload: &Value) -> Option<u64> {
    payload["id"].as_u64().or_else(|| payload["id"].as_str().and_then(|id| id.parse().ok()))
}

#[tokio::test]
async fn every_post_call_sample_is_stored_equal_to_its_payload() -> Result<(), Error> {
    use calls::record::CallRecord;
    use webhook_test_support::stored::{same_json, stored_as_sent};
    let emulator = Emulator::start()?;
    emulator.create_table(Table::Calls).await?;
    emulator.create_table(Table::OptOuts).await?;
    let handler = post_call_handler(&emulator).await?;
    let samples = ["post-call-transferred", "post-call-failure-reason", "post-call-no-answer", "post-call-odd-types"];

    for name in samples {
        let (status, body) = deliver(&handler, name, name).await?;
        assert_eq!((status, &body["status"]), (200, &json!("stored")), "{name}: {body}");
    }
    let items = emulator.items(CALLS).await?;
    assert_eq!(items.len(), samples.len());
    for name in samples {
        let mut payload = SampleEvent::named(name)?.payload()?;
        let id = stored_id(&payload).ok_or("no id")?;
        let item = items.iter().find(|item| item["id"] == id).cloned().ok_or("item missing")?;
        let received_at = item["received_at"].as_str().ok_or("no received_at")?;
        let received_at = time::OffsetDateTime::parse(received_at, &time::format_description::well_known::Rfc3339)?;
        assert_eq!(item["expires_at"], received_at.unix_timestamp() + 30 * 86_400);
        assert!(item["phone_e164"].as_str().is_some_and(|phone| phone.starts_with("+1")), "{name}");
        payload.as_object_mut().ok_or("not an object")?.remove("id");
        let kept = stored_as_sent(&item, CallRecord::ATTRIBUTES);
        assert!(same_json(&payload, &kept), "{name}: stored {kept}, sent {payload}");
    }
    let odd = items.iter().find(|item| item["id"] == 128).ok_or("call 128")?;
    assert_eq!(
        (&odd["meta"], &odd["record_last_name"], &odd["call"]["answered"]),
        (&json!([]), &Value::Null, &json!("yes"))
    );
    let failed = items.iter().find(|item| item["id"] == 124).ok_or("call 124")?;
    assert_eq!(failed["call"]["sip_code"], 404, "unknown nested fields are kept");
    assert_eq!(failed["meta"]["source"], json!({"list": "october", "row": 17}));

    let (status, body) = deliver(&handler, "post-call-transferred", "again").await?;
    assert_eq!((status, body), (200, json!({"status": "duplicate", "id": 123})));
    assert_eq!(emulator.items(CALLS).await?, items, "a repeat changes nothing");
    Ok(())
}

#[tokio::test]
async fn the_token_is_read_from_secrets_manager_and_a_rotation_is_picked_up() -> Result<(), Error> {
    let emulator = Emulator::start()?;
    emulator.create_table(Table::Calls).await?;
    emulator.create_table(Table::OptOuts).await?;
    let sdk = emulator.sdk_config().await;
    let secrets = aws_sdk_secretsmanager::Client::new(&sdk);
    let created = secrets
        .create_secret()
        .name("twox-webhooks/auth-token")
        .secret_string(format!(r#"{{"current":"{AUTH_TOKEN}"}}"#))
        .send()
        .await?;
    let arn = created.arn().ok_or("no ARN")?;
    // The secret wins over AUTH_TOKEN; refresh on every request so the test needs no waiting.
    let config =
        PostCallConfig::from_lookup(env(&[("AUTH_TOKEN_SECRET_ID", arn), ("AUTH_TOKEN_REFRESH_SECONDS", "0")]))?;
    let authenticator = authenticator(&config.common.auth, &sdk).await?;
    let calls = DynamoCallStore::new(&sdk, CALLS);
    let deps = PostCallDeps { calls, opt_outs: None::<DynamoOptOuts>, queue: None::<webhook::aws::SqsFallbackQueue> };
    let handler = post_call::handler::build(config, authenticator, deps);
    let with_token = |token: &'static str| -> Result<Request, Error> {
        let mut request = request("post-call-transferred", "req")?;
        request.headers_mut().insert("authorization", lambda_http::http::HeaderValue::from_static(token));
        Ok(request)
    };
    let status = |request: Request| async { handle(&handler, request).await.status().as_u16() };

    assert_eq!(status(with_token(AUTH_TOKEN)?).await, 200);
    assert_eq!(status(with_token("rotated-token")?).await, 401);

    secrets
        .put_secret_value()
        .secret_id(arn)
        .secret_string(format!(r#"{{"current":"rotated-token","previous":"{AUTH_TOKEN}"}}"#))
        .send()
        .await?;
    assert_eq!(status(with_token("rotated-token")?).await, 200, "the rotated token is picked up");
    assert_eq!(status(with_token(AUTH_TOKEN)?).await, 200, "the previous token still works during the rotation");

    secrets.put_secret_value().secret_id(arn).secret_string(r#"{"current":"rotated-token"}"#).send().await?;
    assert_eq!(status(with_token(AUTH_TOKEN)?).await, 401, "the old token stops working once dropped");
    Ok(())
}

#[tokio::test]
async fn a_missing_secret_stops_the_function_at_start() -> Result<(), Error> {
    let emulator = Emulator::start()?;
    let config = PostCallConfig::from_lookup(env(&[("AUTH_TOKEN_SECRET_ID", "no-such-secret")]))?;
    let error = authenticator(&config.common.auth, &emulator.sdk_config().await).await.err().ok_or("it started")?;
    assert_eq!(error.cause, "service error ResourceNotFoundException");
    Ok(())
}

#[tokio::test]
async fn a_number_that_opted_out_is_not_texted() -> Result<(), Error> {
    let emulator = Emulator::start()?;
    emulator.create_table(Table::SentTexts).await?;
    emulator.create_table(Table::OptOuts).await?;
    let handler = send_text_handler(&emulator, None).await?;
    // moto treats numbers ending in 99 as opted out.
    let mut payload = SampleEvent::named("send-text-pre-call")?.payload()?;
    payload["record_phone_number"] = "2025550199".into();

    let answered = answer(&handler, request_with_payload("send-text-pre-call", &payload, "req-1")?).await?;
    assert_eq!(answered, (200, json!({"status": "opted_out", "id": 1234})));
    assert!(emulator.sms().await?.is_empty());
    assert!(emulator.items(TEXTS).await?.is_empty());
    Ok(())
}

#[tokio::test]
async fn a_transcript_too_big_for_one_item_is_stored_compressed_and_reads_back_equal() -> Result<(), Error> {
    let emulator = Emulator::start()?;
    emulator.create_table(Table::Calls).await?;
    emulator.create_table(Table::OptOuts).await?;
    let handler = post_call_handler(&emulator).await?;
    let mut payload = SampleEvent::named("post-call-transferred")?.payload()?;
    let transcript: Vec<Value> = (0..3000)
        .map(|turn| {
            json!({"role": if turn % 2 == 0 { "User" } else { "Assistant" },
                            "content": format!("{turn}: {}", "I can help you schedule that appointment. ".repeat(5))})
        })
        .collect();
    payload["transcript"] = transcript.clone().into();
    assert!(payload.to_string().len() > 600_000, "over DynamoDB's 400 KB inline");

    let (status, body) = answer(&handler, request_with_payload("post-call-transferred", &payload, "req-1")?).await?;
    assert_eq!(status, 200, "{body}");
    let items = emulator.items(CALLS).await?;
    let item = items.first().ok_or("not stored")?;
    assert_eq!(item["transcript_compressed"], true);
    assert_eq!(item.get("transcript"), None);
    assert_eq!(item["call"], payload["call"], "everything else is stored as usual");
    let gzip = item["transcript_gzip"].as_str().ok_or("transcript_gzip is not a Binary attribute")?;
    let gzip = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, gzip)?;
    let stored: Vec<Value> = serde_json::from_reader(flate2::read::GzDecoder::new(gzip.as_slice()))?;
    assert_eq!(stored, transcript);
    Ok(())
}

#[tokio::test]
async fn a_hung_sns_publish_is_202_unconfirmed_after_one_attempt_and_never_repeated() -> Result<(), Error> {
    let emulator = Emulator::start()?;
    emulator.create_table(Table::SentTexts).await?;
    emulator.create_table(Table::OptOuts).await?;
    // Accepts connections, reads the requests and never answers: SNS may have sent the text.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let hung = format!("http://{}", listener.local_addr()?);
    let held = tokio::spawn(async move {
        let mut connections = Vec::new();
        while let Ok((connection, _)) = listener.accept().await {
            connections.push(connection);
        }
        connections.len()
    });
    let config = SendTextConfig::from_lookup(env(&[]))?;
    let sdk = emulator.sdk_config().await.to_builder().timeout_config(webhook::aws::timeouts()).build();
    let sms = SnsSmsSender::new(&sdk.to_builder().endpoint_url(hung).build(), &config.own.texts.sms)?;
    let authenticator = authenticator(&config.common.auth, &sdk).await?;
    let opt_outs = Some(DynamoOptOuts::new(&sdk, OPT_OUTS));
    let ledger = DynamoTextLedger::new(&sdk, TEXTS);
    let queue = None::<webhook::aws::SqsFallbackQueue>;
    let handler = send_text::handler::build(config, authenticator, SendTextDeps { ledger, sms, opt_outs, queue });

    let started = std::time::Instant::now();
    let (status, body) = deliver(&handler, "send-text-pre-call", "req-1").await?;
    let took = started.elapsed();
    held.abort();

    assert_eq!((status, &body["status"]), (202, &json!("unconfirmed")), "{body}");
    // The opt-out check gives up after 2 s (the text is sent anyway), the publish after its one 2 s attempt: the
    // SDK does not repeat a publish SNS may have received. Far inside the functions' 20 s timeout.
    assert!(took < std::time::Duration::from_secs(7), "took {took:?}");
    let items = emulator.items(TEXTS).await?;
    assert_eq!((items.len(), &items[0]["status"]), (1, &json!("unconfirmed")));

    let working = send_text_handler(&emulator, None).await?;
    assert_eq!(
        deliver(&working, "send-text-pre-call", "req-2").await?,
        (202, json!({"status": "unconfirmed", "id": 1234}))
    );
    assert!(emulator.sms().await?.is_empty(), "a retry never publishes it again");
    Ok(())
}

/// `name`'s payload with a field for each of `ours`, each valued as the attribute would never be by us.
fn payload_carrying(name: &str, ours: &[&str]) -> Result<Value, Error> {
    let mut payload = SampleEvent::named(name)?.payload()?;
    for (n, field) in ours.iter().enumerate() {
        payload[*field] = [json!(1), json!("from the sender"), json!({"nested": [true]})][n % 3].clone();
    }
    Ok(payload)
}

/// Every attribute of `item` is the payload's (a field not set aside) or one of `ours`.
fn assert_only_payload_fields_and_ours(item: &Value, payload: &Value, ours: &[&str]) {
    for name in item.as_object().map(|fields| fields.keys()).into_iter().flatten() {
        let from_payload = payload.get(name).is_some() && !ours.contains(&name.as_str());
        assert!(from_payload || ours.contains(&name.as_str()), "{name} is neither the sender's nor declared ours");
    }
}

#[tokio::test]
async fn a_call_carrying_our_attribute_names_keeps_the_ttl_and_the_phone_index_ours() -> Result<(), Error> {
    use calls::record::CallRecord;
    use webhook::item::SHADOWED_FIELDS;
    let emulator = Emulator::start()?;
    emulator.create_table(Table::Calls).await?;
    emulator.create_table(Table::OptOuts).await?;
    let handler = post_call_handler(&emulator).await?;

    // `"expires_at": 1` would have DynamoDB's TTL delete the record; `"phone_e164": 5` (a Number) would break the
    // by-phone index's String key for every delivery of the id.
    let mut unparseable = payload_carrying("post-call-transferred", CallRecord::ATTRIBUTES)?;
    unparseable["record_phone_number"] = "+1...".into();
    let mut valid = payload_carrying("post-call-failure-reason", CallRecord::ATTRIBUTES)?;
    valid["record_phone_number"] = "+12025550143".into();
    for payload in [&unparseable, &valid] {
        let name = if payload["id"] == 123 { "post-call-transferred" } else { "post-call-failure-reason" };
        let (status, body) = answer(&handler, request_with_payload(name, payload, name)?).await?;
        assert_eq!((status, &body["status"]), (200, &json!("stored")), "{body}");
    }

    for (item, payload) in emulator.items(CALLS).await?.iter().zip([&unparseable, &valid]) {
        assert_only_payload_fields_and_ours(item, payload, CallRecord::ATTRIBUTES);
        let received_at = item["received_at"].as_str().ok_or("no received_at")?;
        let received_at = time::OffsetDateTime::parse(received_at, &time::format_description::well_known::Rfc3339)?;
        assert_eq!(item["expires_at"], received_at.unix_timestamp() + 30 * 86_400, "RETENTION_DAYS's, not the body's");
        assert_eq!(item.get("transcript_gzip").or(item.get("transcript_compressed")), None);
        for name in CallRecord::ATTRIBUTES {
            assert_eq!(item[SHADOWED_FIELDS][*name], payload[*name], "the sender's {name} is kept");
        }
    }
    let items = emulator.items(CALLS).await?;
    assert_eq!(items[0].get("phone_e164"), None, "no index key from the body");
    assert_eq!(items[1]["phone_e164"], "+12025550143");

    let client = aws_sdk_dynamodb::Client::new(&emulator.sdk_config().await);
    let by_phone = client
        .query()
        .table_name(CALLS)
        .index_name("by-phone")
        .key_condition_expression("phone_e164 = :phone")
        .expression_attribute_values(":phone", aws_sdk_dynamodb::types::AttributeValue::S("+12025550143".into()))
        .send()
        .await?;
    let ids: Vec<_> = by_phone.items().iter().filter_map(|item| item.get("id")?.as_n().ok().cloned()).collect();
    assert_eq!(ids, ["124"], "the lead's call is found by its number, the other not at all");
    Ok(())
}

#[tokio::test]
async fn a_text_carrying_our_attribute_names_keeps_its_state_ours() -> Result<(), Error> {
    use texts::ledger::TextClaimRecord;
    use webhook::item::SHADOWED_FIELDS;
    let emulator = Emulator::start()?;
    emulator.create_table(Table::SentTexts).await?;
    emulator.create_table(Table::OptOuts).await?;
    let handler = send_text_handler(&emulator, None).await?;
    // A body saying the text is already `sent`, with a message id, would otherwise pass for an earlier delivery.
    let payload = payload_carrying("send-text-pre-call", TextClaimRecord::ATTRIBUTES)?;

    let (status, body) = answer(&handler, request_with_payload("send-text-pre-call", &payload, "req-1")?).await?;
    assert_eq!((status, &body["status"]), (200, &json!("sent")), "{body}");
    assert_eq!(emulator.sms().await?.len(), 1);

    let items = emulator.items(TEXTS).await?;
    let item = items.first().ok_or("no item")?;
    assert_only_payload_fields_and_ours(item, &payload, TextClaimRecord::ATTRIBUTES);
    assert_eq!((&item["status"], &item["message_id"]), (&json!("sent"), &body["message_id"]));
    assert_eq!((&item["claimed_by"], &item["phone_e164"]), (&json!("req-1"), &json!("+12025550143")));
    assert!(item["sent_at"].is_string() && item["claimed_at"].is_string() && item["lease_expires_at"].is_number());
    assert_eq!(item.get("expires_at").or(item.get("unconfirmed_at")), None);
    for name in TextClaimRecord::ATTRIBUTES {
        assert_eq!(item[SHADOWED_FIELDS][*name], payload[*name], "the sender's {name} is kept");
    }
    assert_eq!(deliver(&handler, "send-text-pre-call", "req-2").await?.1["status"], "duplicate");
    Ok(())
}

#[tokio::test]
async fn a_lead_who_opted_out_through_2x_is_never_texted() -> Result<(), Error> {
    use text_optout::config::TextOptOutConfig;
    use text_optout::handler::TextOptOutDeps;
    let emulator = Emulator::start()?;
    emulator.create_table(Table::SentTexts).await?;
    emulator.create_table(Table::OptOuts).await?;
    let sdk = emulator.sdk_config().await;
    let config = TextOptOutConfig::from_lookup(env(&[]))?;
    let authenticator = authenticator(&config.common.auth, &sdk).await?;
    let queue = None::<webhook::aws::SqsFallbackQueue>;
    let opt_out = text_optout::handler::build(
        config,
        authenticator,
        TextOptOutDeps { opt_outs: DynamoOptOuts::new(&sdk, OPT_OUTS), queue },
    );

    assert_eq!(deliver(&opt_out, "text-optout-10-digit", "req-1").await?, (200, json!({"status": "opted_out"})));
    assert_eq!(deliver(&opt_out, "text-optout-plus-1", "req-2").await?, (200, json!({"status": "opted_out"})));
    let listed = emulator.items(OPT_OUTS).await?;
    assert_eq!(listed.len(), 1, "one item per number, the first kept: {listed:?}");
    assert_eq!((&listed[0]["phone"], &listed[0]["source"]), (&json!("+12025550177"), &json!("text-optout")));
    assert_eq!(listed[0]["record_phone_number"], "2025550177", "the first delivery's form");

    let texts = send_text_handler(&emulator, None).await?;
    let (status, body) = deliver(&texts, "send-text-opted-out", "req-3").await?;
    assert_eq!((status, body), (200, json!({"status": "opted_out", "id": 1236})));
    assert!(emulator.sms().await?.is_empty(), "no SMS to the lead");
    assert!(emulator.items(TEXTS).await?.is_empty(), "the id is left free");
    assert_eq!(deliver(&texts, "send-text-pre-call", "req-4").await?.1["status"], "sent", "others are texted");
    Ok(())
}

#[tokio::test]
async fn a_do_not_call_puts_the_number_on_the_list_beside_the_record() -> Result<(), Error> {
    let emulator = Emulator::start()?;
    emulator.create_table(Table::Calls).await?;
    emulator.create_table(Table::OptOuts).await?;
    let handler = post_call_handler(&emulator).await?;

    assert_eq!(
        deliver(&handler, "post-call-do-not-call", "req-1").await?,
        (200, json!({"status": "stored", "id": 126}))
    );
    assert_eq!(emulator.items(CALLS).await?.len(), 1);
    let listed = emulator.items(OPT_OUTS).await?;
    assert_eq!(listed.len(), 1);
    assert_eq!(
        (&listed[0]["phone"], &listed[0]["source"], &listed[0]["call_id"]),
        (&json!("+12025550188"), &json!("post-call:do_not_call"), &json!(126))
    );
    assert_eq!(deliver(&handler, "post-call-do-not-call", "req-2").await?.1["status"], "duplicate");
    assert_eq!(emulator.items(OPT_OUTS).await?, listed, "a repeat changes nothing");
    Ok(())
}

/// Texts sent through SNS, then SNS's delivery records for them (as the log subscription hands them over): each
/// sent-texts item gets its status through the message-id index; a repeated or older record, a stranger's
/// message id and a line that is not a record change nothing.
#[tokio::test]
async fn delivery_records_set_the_status_on_the_texts_sns_sent() -> Result<(), Error> {
    use sms_delivery_status::adapters::DynamoDeliveryLedger;
    use sms_delivery_status::handler::{BatchSummary, DeliveryStatusHandler};
    use texts::ledger::TextClaimRecord;
    use webhook_test_support::delivery_logs::{delivery_line, log_data, log_group};
    let emulator = Emulator::start()?;
    emulator.create_table(Table::SentTexts).await?;
    emulator.create_table(Table::OptOuts).await?;
    let send_text = send_text_handler(&emulator, None).await?;
    let mut message_ids = Vec::new();
    for name in ["send-text-pre-call", "send-text-post-voicemail"] {
        let (status, body) = deliver(&send_text, name, &format!("req-{name}")).await?;
        assert_eq!(status, 200, "{body}");
        message_ids.push(body["message_id"].as_str().ok_or("no message id")?.to_owned());
    }
    let sdk = emulator.sdk_config().await;
    let handler = DeliveryStatusHandler::new(DynamoDeliveryLedger::new(&sdk, TEXTS), "TwoXWebhooks");
    // SNS says the pre-call text took 2 parts, where we counted 1: a mismatch to count.
    let mut two_parts: Value =
        serde_json::from_str(&delivery_line(&message_ids[0], true, "2026-11-24 09:00:05.120", "+12025550143"))?;
    two_parts["delivery"]["numberOfMessageParts"] = 2.into();
    let lines = [
        two_parts.to_string(),
        delivery_line(&message_ids[1], false, "2026-11-24 09:00:06.480", "+12025550187"),
        delivery_line("5d0e8a71-2b9c-5f3e-8d4a-c6b1e09f7a22", true, "2026-11-24 09:00:07.002", "+12025550111"),
        r#"{"level":"INFO","message":"not a delivery record"}"#.to_owned(),
    ];

    let capture = webhook_test_support::LogCapture::default();
    let guard = capture.install();
    let first = handler.handle(&log_data(&log_group(false), &lines), "req-1", whole_invocation()).await?;
    drop(guard);
    assert_eq!(first, BatchSummary { applied: 2, unmatched: 1, unreadable: 1, ..BatchSummary::default() });
    let items = emulator.items(TEXTS).await?;
    let (pre_call, post_voicemail) = (&items[0], &items[1]);
    // What send-text kept of each text as it went out, and what SNS billed beside it.
    let billed = |item: &Value| {
        [&item["sms_encoding"], &item["sms_parts"], &item["sms_characters_replaced"], &item["delivery_parts"]]
            .map(Value::clone)
    };
    assert_eq!(billed(pre_call), [json!("GSM-7"), json!(1), json!(1), json!(2)]);
    assert_eq!(billed(post_voicemail), [json!("UCS-2"), json!(1), Value::Null, json!(1)]);
    let metrics = capture.metrics();
    let mismatches: Vec<(&Value, &Value, &Value)> =
        metrics.iter().map(|m| (&m["SmsPartsMismatch"], &m["sms_parts"], &m["delivery_parts"])).take(2).collect();
    assert_eq!(mismatches, [(&json!(1), &json!(1), &json!(2)), (&Value::Null, &json!(1), &json!(1))]);
    assert_eq!((&pre_call["id"], &pre_call["delivery_status"]), (&json!(1234), &json!("SUCCESS")));
    assert_eq!(pre_call["delivery_provider_response"], "Message has been accepted by phone carrier");
    assert_eq!(pre_call["delivery_price_usd"], json!(0.00645));
    assert_eq!(pre_call["delivery_reported_at"], "2026-11-24T09:00:05.120Z");
    assert_eq!((&post_voicemail["id"], &post_voicemail["delivery_status"]), (&json!(1235), &json!("FAILURE")));
    assert_eq!(post_voicemail["delivery_provider_response"], "Unknown error attempting to reach phone");
    assert_eq!(items.len(), 2, "a stranger's message id creates no item");
    for (item, sample) in items.iter().zip(["send-text-pre-call", "send-text-post-voicemail"]) {
        assert_only_payload_fields_and_ours(item, &SampleEvent::named(sample)?.payload()?, TextClaimRecord::ATTRIBUTES);
    }

    let repeated_and_older =
        [lines[0].clone(), delivery_line(&message_ids[1], true, "2026-11-24 09:00:06.479", "+12025550187")];
    let again = handler.handle(&log_data(&log_group(false), &repeated_and_older), "req-2", whole_invocation()).await?;
    assert_eq!(again, BatchSummary { already_current: 2, ..BatchSummary::default() });
    assert_eq!(emulator.items(TEXTS).await?, items, "nothing changed");
    Ok(())
}

/// The fallback queue's adapter against SQS (moto): a queued delivery reads back as it was sent.
#[tokio::test]
async fn a_queued_delivery_reads_back_from_sqs_as_sent() -> Result<(), Error> {
    use webhook::aws::SqsFallbackQueue;
    use webhook::fallback::{FallbackQueue, QueuedBody, QueuedDelivery, QueuedFunction};
    use webhook::payload::WebhookId;
    let emulator = Emulator::start()?;
    let sqs = aws_sdk_sqs::Client::new(&emulator.sdk_config().await);
    let queue_url = sqs.create_queue().queue_name("fallback").send().await?.queue_url().ok_or("no url")?.to_owned();
    let delivery = QueuedDelivery {
        function: QueuedFunction::PostCall,
        id: Some(WebhookId::new(123)),
        request_id: "req-1".into(),
        received_at: "2026-11-24T09:00:00Z".into(),
        not_before: None,
        route: "post-call".into(),
        body: QueuedBody::plain(SampleEvent::named("post-call-transferred")?.payload()?.to_string().as_bytes()),
    };

    SqsFallbackQueue::new(&emulator.sdk_config().await, &queue_url).enqueue(&delivery).await?;

    let received = sqs.receive_message().queue_url(&queue_url).send().await?;
    let bodies: Vec<QueuedDelivery> =
        received.messages().iter().filter_map(|m| serde_json::from_str(m.body()?).ok()).collect();
    assert_eq!(bodies, std::slice::from_ref(&delivery));

    // A delivery not to be done yet (a text waiting for its lead's hours) is delayed by SQS itself.
    let in_a_minute = time::OffsetDateTime::now_utc() + time::Duration::seconds(60);
    let later = QueuedDelivery { not_before: Some(webhook::item::rfc3339(in_a_minute)), ..delivery };
    SqsFallbackQueue::new(&emulator.sdk_config().await, &queue_url).enqueue(&later).await?;
    let received = sqs.receive_message().queue_url(&queue_url).send().await?;
    assert!(received.messages().is_empty(), "delayed, not yet visible");
    let attributes = sqs
        .get_queue_attributes()
        .queue_url(&queue_url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessagesDelayed)
        .send()
        .await?;
    let delayed = attributes
        .attributes()
        .and_then(|all| all.get(&aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessagesDelayed));
    assert_eq!(delayed.map(String::as_str), Some("1"));
    Ok(())
}

/// Everything on the fallback queue, as the SQS event Lambda would hand the redrive.
async fn queued_event(sqs: &aws_sdk_sqs::Client, queue_url: &str) -> Result<aws_lambda_events::sqs::SqsEvent, Error> {
    let mut messages = Vec::new();
    loop {
        let received = sqs.receive_message().queue_url(queue_url).max_number_of_messages(10).send().await?;
        if received.messages().is_empty() {
            break;
        }
        messages.extend(received.messages().iter().map(|message| {
            json!({"messageId": message.message_id(), "receiptHandle": message.receipt_handle(), "body": message.body()})
        }));
    }
    Ok(serde_json::from_value(json!({"Records": messages}))?)
}

type Redrive = redrive::handler::RedriveHandler<
    DynamoCallStore,
    DynamoTextLedger,
    SnsSmsSender,
    DynamoLeadEvents,
    DynamoOptOuts,
    SqsRedelivery,
>;

/// Whether the redrive (on the emulator, with the template's defaults) completes every message of `event`.
async fn redrives_without_failure(
    sdk: &aws_config::SdkConfig,
    event: &aws_lambda_events::sqs::SqsEvent,
) -> Result<bool, Error> {
    let response = redrive_handler(sdk, &[])?.handle(event, "redrive-1", whole_invocation()).await;
    Ok(response.batch_item_failures.is_empty())
}

/// The redrive as `main` wires it, on the emulator.
fn redrive_handler(sdk: &aws_config::SdkConfig, extra_env: &[(&'static str, &str)]) -> Result<Redrive, Error> {
    let config = redrive::config::RedriveConfig::from_lookup(env(extra_env))?;
    let deps = redrive::handler::RedriveDeps {
        calls: DynamoCallStore::new(sdk, CALLS),
        ledger: DynamoTextLedger::new(sdk, TEXTS),
        sms: SnsSmsSender::new(sdk, &config.texts.sms)?.throttles_to_caller(),
        lead_events: DynamoLeadEvents::new(sdk, LEAD_EVENTS),
        opt_outs: Some(DynamoOptOuts::new(sdk, OPT_OUTS)),
        queue: SqsRedelivery::new(sdk),
    };
    Ok(redrive::handler::RedriveHandler::new(&config, deps))
}

async fn fallback_queue(sdk: &aws_config::SdkConfig) -> Result<(aws_sdk_sqs::Client, String), Error> {
    let sqs = aws_sdk_sqs::Client::new(sdk);
    let queue_url = sqs.create_queue().queue_name("fallback").send().await?.queue_url().ok_or("no url")?.to_owned();
    Ok((sqs, queue_url))
}

/// Issue 14's first "done when", for calls: with DynamoDB unreachable, 50 post-calls answer 202 `queued`; once
/// it is back, redrive (fed what SQS holds) stores exactly those 50 records, once each, and a redelivery of the
/// same messages changes nothing.
#[tokio::test]
async fn with_dynamodb_down_fifty_calls_are_queued_and_the_redrive_stores_each_once() -> Result<(), Error> {
    use webhook::aws::SqsFallbackQueue;
    let emulator = Emulator::start()?;
    emulator.create_table(Table::Calls).await?;
    emulator.create_table(Table::SentTexts).await?;
    emulator.create_table(Table::OptOuts).await?;
    let sdk = emulator.sdk_config().await;
    let (sqs, queue_url) = fallback_queue(&sdk).await?;
    let unreachable = sdk.to_builder().endpoint_url(format!("http://127.0.0.1:{}", free_port()?)).build();
    let config = PostCallConfig::from_lookup(env(&[]))?;
    let authenticator = authenticator(&config.common.auth, &sdk).await?;
    let deps = PostCallDeps {
        calls: DynamoCallStore::new(&unreachable, CALLS),
        opt_outs: Some(DynamoOptOuts::new(&unreachable, OPT_OUTS)),
        queue: SqsFallbackQueue::new(&sdk, &queue_url),
    };
    let down = post_call::handler::build(config, authenticator, deps);
    let mut payload = SampleEvent::named("post-call-transferred")?.payload()?;
    for id in 1..=50u64 {
        payload["id"] = id.into();
        let (status, body) =
            answer(&down, request_with_payload("post-call-transferred", &payload, &format!("req-{id}"))?).await?;
        assert_eq!((status, body), (202, json!({"status": "queued", "id": id})));
    }
    assert!(emulator.items(CALLS).await?.is_empty());

    let event = queued_event(&sqs, &queue_url).await?;
    assert_eq!(event.records.len(), 50, "every queued delivery is on the queue");
    let redrive = redrive_handler(&sdk, &[])?;
    assert!(redrive.handle(&event, "redrive-1", whole_invocation()).await.batch_item_failures.is_empty());
    let stored = emulator.items(CALLS).await?;
    let ids: Vec<u64> = stored.iter().filter_map(|item| item["id"].as_u64()).collect();
    assert_eq!(ids, (1..=50).collect::<Vec<_>>());
    assert!(stored.iter().all(|item| item["transcript"] == payload["transcript"]));
    assert!(
        redrive.handle(&event, "redrive-2", whole_invocation()).await.batch_item_failures.is_empty(),
        "SQS delivers it twice"
    );
    assert_eq!(emulator.items(CALLS).await?, stored, "nothing changed");
    Ok(())
}

/// Issue 14's "done when", for texts: with SNS unreachable, texts answer 202 `queued` and nothing is sent; once
/// SNS is back, the redrive sends exactly one SMS per id (a redelivered batch and 2X delivering again send
/// nothing more), and a text queued longer than its maximum age is never sent.
#[tokio::test]
async fn with_sns_down_texts_are_queued_then_sent_once_each_and_a_stale_one_never() -> Result<(), Error> {
    use webhook::aws::SqsFallbackQueue;
    let emulator = Emulator::start()?;
    emulator.create_table(Table::Calls).await?;
    emulator.create_table(Table::SentTexts).await?;
    emulator.create_table(Table::OptOuts).await?;
    let sdk = emulator.sdk_config().await;
    let (sqs, queue_url) = fallback_queue(&sdk).await?;
    let config = SendTextConfig::from_lookup(env(&[]))?;
    let unreachable_sns = sdk.to_builder().endpoint_url(format!("http://127.0.0.1:{}", free_port()?)).build();
    let authenticator = authenticator(&config.common.auth, &sdk).await?;
    let deps = SendTextDeps {
        ledger: DynamoTextLedger::new(&sdk, TEXTS),
        sms: SnsSmsSender::new(&unreachable_sns, &config.own.texts.sms)?,
        opt_outs: Some(DynamoOptOuts::new(&sdk, OPT_OUTS)),
        queue: Some(SqsFallbackQueue::new(&sdk, &queue_url)),
    };
    let down = send_text::handler::build(config, authenticator, deps);
    let mut payload = SampleEvent::named("send-text-pre-call")?.payload()?;
    let numbers: Vec<String> = (1..=10u64).map(|id| format!("+120255501{}", 10 + id)).collect();
    for (id, number) in (1..=10u64).zip(&numbers) {
        (payload["id"], payload["record_phone_number"]) = (id.into(), number.as_str().into());
        let (status, body) =
            answer(&down, request_with_payload("send-text-pre-call", &payload, &format!("req-{id}"))?).await?;
        assert_eq!((status, body), (202, json!({"status": "queued", "id": id})));
    }
    let (status, body) = answer(&down, request_with_payload("send-text-pre-call", &payload, "req-again")?).await?;
    assert_eq!((status, body), (202, json!({"status": "queued", "id": 10})), "a queued id is left to the redrive");
    assert!(emulator.sms().await?.is_empty());
    let items = emulator.items(TEXTS).await?;
    assert!(items.iter().all(|item| item["status"] == "queued"), "{items:?}");

    let mut event = queued_event(&sqs, &queue_url).await?;
    assert_eq!(event.records.len(), 10);
    // The tenth waited 16 minutes: past a pre-call text's 15.
    let stale = event.records.iter_mut().find(|m| m.body.as_deref().is_some_and(|b| b.contains("\"req-10\"")));
    let stale = stale.ok_or("the tenth text is queued")?;
    let mut delivery: Value = serde_json::from_str(stale.body.as_deref().unwrap_or_default())?;
    let waited = time::OffsetDateTime::now_utc() - time::Duration::minutes(16);
    delivery["received_at"] = waited.format(&time::format_description::well_known::Rfc3339)?.into();
    stale.body = Some(delivery.to_string());

    let redrive = redrive_handler(&sdk, &[])?;
    assert!(redrive.handle(&event, "redrive-1", whole_invocation()).await.batch_item_failures.is_empty());
    assert!(
        redrive.handle(&event, "redrive-2", whole_invocation()).await.batch_item_failures.is_empty(),
        "SQS delivers it twice"
    );
    let working = send_text_handler(&emulator, None).await?;
    assert_eq!(deliver(&working, "send-text-pre-call", "req-2x").await?.1["status"], "sent", "another id");

    let mut sent: Vec<String> = emulator.sms().await?.into_iter().map(|(number, _)| number).collect();
    sent.sort();
    let mut expected: Vec<String> = numbers[..9].to_vec();
    expected.push("+12025550143".into());
    expected.sort();
    assert_eq!(sent, expected, "one SMS per id, none for the stale one");
    let items = emulator.items(TEXTS).await?;
    let status_of = |id: u64| items.iter().find(|item| item["id"] == id).map(|item| item["status"].clone());
    assert!((1..=9).all(|id| status_of(id) == Some(json!("sent"))));
    assert_eq!(status_of(10), Some(json!("expired")));
    Ok(())
}

// ---- Issue 21: what a real sender sends, and every opt-out first ----

/// A do-not-call whose body DynamoDB would refuse as it is (an empty field name, 40-deep nesting, a number outside
/// DynamoDB's range, a lone surrogate, `DO_NOT_CALL` in capitals): stored, each such value as its JSON text, and
/// the number listed.
#[tokio::test]
async fn a_do_not_call_whose_body_dynamodb_refuses_as_it_is_is_stored_and_listed() -> Result<(), Error> {
    use calls::record::CallRecord;
    use webhook_test_support::stored::{same_json, stored_as_sent};
    let emulator = Emulator::start()?;
    emulator.create_table(Table::Calls).await?;
    emulator.create_table(Table::OptOuts).await?;
    let handler = post_call_handler(&emulator).await?;
    let mut payload = SampleEvent::named("post-call-do-not-call")?.payload()?;
    let deep = (0..40).fold(json!("bottom"), |inner, _| json!({ "a": inner }));
    payload["call"]["end_reason"] = "DO_NOT_CALL".into();
    payload["meta"] = json!({"": "no name", "deep": deep, "score": 1e300, "note": "LONE"});
    payload["transcript"] = json!([{"role": "User", "content": null}]);
    let body = payload.to_string().replace("\"LONE\"", r#""half \ud83d""#);
    let mut event: Value = serde_json::from_str(&SampleEvent::named("post-call-do-not-call")?.event()?)?;
    event["body"] = body.into();
    let (status, answer_body) = answer(&handler, invocation(&event.to_string(), "req-1")?).await?;
    assert_eq!((status, answer_body), (200, json!({"status": "stored", "id": 126})));

    let items = emulator.items(CALLS).await?;
    let item = items.first().ok_or("not stored")?;
    assert_eq!(item["stored_as_json"], json!(["meta"]), "the map with an empty name, whole");
    payload["meta"]["note"] = "half \u{FFFD}".into();
    payload.as_object_mut().ok_or("not an object")?.remove("id");
    assert!(same_json(&payload, &stored_as_sent(item, CallRecord::ATTRIBUTES)), "{item}");
    let listed = emulator.items(OPT_OUTS).await?;
    assert_eq!(listed.len(), 1);
    assert_eq!((&listed[0]["phone"], &listed[0]["source"]), (&json!("+12025550188"), &json!("post-call:do_not_call")));
    Ok(())
}

/// The calls table down (deleted: DynamoDB refuses every request to it): a do-not-call is answered 202 queued,
/// its number listed at once; the redrive stores the call once the table is back.
#[tokio::test]
async fn with_the_calls_table_down_a_do_not_call_is_listed_at_once_and_the_call_queued() -> Result<(), Error> {
    use webhook::aws::SqsFallbackQueue;
    let emulator = Emulator::start()?;
    emulator.create_table(Table::OptOuts).await?;
    emulator.create_table(Table::SentTexts).await?;
    let sdk = emulator.sdk_config().await;
    let (sqs, queue_url) = fallback_queue(&sdk).await?;
    let config = PostCallConfig::from_lookup(env(&[]))?;
    let authenticator = authenticator(&config.common.auth, &sdk).await?;
    let deps = PostCallDeps {
        calls: DynamoCallStore::new(&sdk, CALLS),
        opt_outs: Some(DynamoOptOuts::new(&sdk, OPT_OUTS)),
        queue: SqsFallbackQueue::new(&sdk, &queue_url),
    };
    let handler = post_call::handler::build(config, authenticator, deps);

    let (status, body) = deliver(&handler, "post-call-do-not-call", "req-1").await?;
    assert_eq!((status, body), (202, json!({"status": "queued", "id": 126})));
    let listed = emulator.items(OPT_OUTS).await?;
    assert_eq!(listed.len(), 1, "listed while the calls table was down");

    emulator.create_table(Table::Calls).await?;
    let event = queued_event(&sqs, &queue_url).await?;
    assert!(redrives_without_failure(&sdk, &event).await?);
    assert_eq!(emulator.items(CALLS).await?.len(), 1);
    assert_eq!(emulator.items(OPT_OUTS).await?, listed, "the first listing kept");
    Ok(())
}

/// The suppression list down: a STOP is answered 202 queued; the redrive lists it once the table is back, and the
/// lead is then never texted.
#[tokio::test]
async fn with_the_suppression_list_down_an_opt_out_is_queued_and_the_redrive_lists_it() -> Result<(), Error> {
    use text_optout::config::TextOptOutConfig;
    use text_optout::handler::TextOptOutDeps;
    use webhook::aws::SqsFallbackQueue;
    let emulator = Emulator::start()?;
    emulator.create_table(Table::Calls).await?;
    emulator.create_table(Table::SentTexts).await?;
    let sdk = emulator.sdk_config().await;
    let (sqs, queue_url) = fallback_queue(&sdk).await?;
    let config = TextOptOutConfig::from_lookup(env(&[]))?;
    let authenticator = authenticator(&config.common.auth, &sdk).await?;
    let queue = SqsFallbackQueue::new(&sdk, &queue_url);
    let handler = text_optout::handler::build(
        config,
        authenticator,
        TextOptOutDeps { opt_outs: DynamoOptOuts::new(&sdk, OPT_OUTS), queue },
    );

    let (status, body) = deliver(&handler, "text-optout-odd-types", "req-1").await?;
    assert_eq!((status, body), (202, json!({"status": "queued"})));

    emulator.create_table(Table::OptOuts).await?;
    let event = queued_event(&sqs, &queue_url).await?;
    assert_eq!(event.records.len(), 1);
    assert!(redrives_without_failure(&sdk, &event).await?);
    let listed = emulator.items(OPT_OUTS).await?;
    assert_eq!((listed.len(), &listed[0]["phone"], &listed[0]["meta"]), (1, &json!("+12025550179"), &json!([])));

    let texts = send_text_handler(&emulator, None).await?;
    let mut payload = SampleEvent::named("send-text-pre-call")?.payload()?;
    payload["record_phone_number"] = "2025550179".into();
    let (status, body) = answer(&texts, request_with_payload("send-text-pre-call", &payload, "req-2")?).await?;
    assert_eq!((status, &body["status"]), (200, &json!("opted_out")));
    assert!(emulator.sms().await?.is_empty());
    Ok(())
}

/// A pre-call text and the post-voicemail text after that call, with 2X's one id: both sent, each once.
#[tokio::test]
async fn a_pre_call_and_a_post_voicemail_text_with_one_id_are_both_sent_once() -> Result<(), Error> {
    let emulator = Emulator::start()?;
    emulator.create_table(Table::SentTexts).await?;
    emulator.create_table(Table::OptOuts).await?;
    let handler = send_text_handler(&emulator, None).await?;
    let mut voicemail = SampleEvent::named("send-text-post-voicemail")?.payload()?;
    voicemail["id"] = 1234.into();
    for attempt in 0..2 {
        deliver(&handler, "send-text-pre-call", &format!("req-pre-{attempt}")).await?;
        let request = request_with_payload("send-text-post-voicemail", &voicemail, &format!("req-vm-{attempt}"))?;
        answer(&handler, request).await?;
    }
    assert_eq!(emulator.sms().await?.len(), 2);
    let items = emulator.items(TEXTS).await?;
    let keys: Vec<(Value, Value, Value)> =
        items.iter().map(|item| (item["id"].clone(), item["text_type"].clone(), item["status"].clone())).collect();
    assert_eq!(
        keys,
        [(json!(1234), json!("post-voicemail"), json!("sent")), (json!(1234), json!("pre-call"), json!("sent"))]
    );
    Ok(())
}

/// Rewrites what SNS answers a Publish, after SNS took it (`status` 500: SNS had the request and failed), or
/// rewrites the request before SNS sees it (a number SNS refuses: its InvalidParameter, for good).
#[derive(Debug)]
struct SnsMishap {
    kind: Mishap,
    /// Whether the request under way is a Publish (the answer's context no longer holds the request).
    publishing: std::sync::atomic::AtomicBool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mishap {
    AnswersServerErrorAfterTakingIt,
    RefusesTheNumber,
}

impl SnsMishap {
    fn new(kind: Mishap) -> Self {
        Self { kind, publishing: std::sync::atomic::AtomicBool::new(false) }
    }
}

impl aws_sdk_sns::config::Intercept for SnsMishap {
    fn name(&self) -> &'static str {
        "SNS mishap"
    }

    fn modify_before_signing(
        &self,
        context: &mut aws_sdk_sns::config::interceptors::BeforeTransmitInterceptorContextMut<'_>,
        _: &aws_sdk_sns::config::RuntimeComponents,
        _: &mut aws_sdk_sns::config::ConfigBag,
    ) -> Result<(), aws_smithy_runtime_api::box_error::BoxError> {
        let request = context.request_mut();
        let form = String::from_utf8_lossy(request.body().bytes().unwrap_or_default()).into_owned();
        let publishing = form.contains("Action=Publish");
        self.publishing.store(publishing, std::sync::atomic::Ordering::SeqCst);
        if self.kind == Mishap::RefusesTheNumber && publishing {
            let refused =
                regex::Regex::new("PhoneNumber=[^&]*")?.replace(&form, "PhoneNumber=not-a-number").into_owned();
            request.headers_mut().insert("content-length", refused.len().to_string());
            *request.body_mut() = aws_smithy_types::body::SdkBody::from(refused);
        }
        Ok(())
    }

    fn modify_before_deserialization(
        &self,
        context: &mut aws_sdk_sns::config::interceptors::BeforeDeserializationInterceptorContextMut<'_>,
        _: &aws_sdk_sns::config::RuntimeComponents,
        _: &mut aws_sdk_sns::config::ConfigBag,
    ) -> Result<(), aws_smithy_runtime_api::box_error::BoxError> {
        let publishing = self.publishing.load(std::sync::atomic::Ordering::SeqCst);
        if self.kind == Mishap::AnswersServerErrorAfterTakingIt && publishing {
            let response = context.response_mut();
            *response.status_mut() = aws_smithy_runtime_api::http::StatusCode::try_from(500)?;
            let body = "<ErrorResponse><Error><Type>Receiver</Type><Code>InternalError</Code><Message>x</Message>\
                        </Error><RequestId>r</RequestId></ErrorResponse>";
            response.headers_mut().insert("content-length", body.len().to_string());
            *response.body_mut() = aws_smithy_types::body::SdkBody::from(body);
        }
        Ok(())
    }
}

/// send-text on the emulator whose SNS client meets `mishap`, with the fallback queue.
async fn send_text_meeting(emulator: &Emulator, mishap: Mishap) -> Result<(SendTextWithQueue, String), Error> {
    let config = SendTextConfig::from_lookup(env(&[]))?;
    let sdk = emulator.sdk_config().await;
    let sns = aws_sdk_sns::config::Builder::from(&sdk).interceptor(SnsMishap::new(mishap)).build();
    let sms = SnsSmsSender::from_client(aws_sdk_sns::Client::from_conf(sns), &config.own.texts.sms)?;
    let (_, queue_url) = fallback_queue(&sdk).await?;
    let authenticator = authenticator(&config.common.auth, &sdk).await?;
    let queue = Some(webhook::aws::SqsFallbackQueue::new(&sdk, &queue_url));
    let ledger = DynamoTextLedger::new(&sdk, TEXTS);
    let opt_outs = Some(DynamoOptOuts::new(&sdk, OPT_OUTS));
    let handler = send_text::handler::build(config, authenticator, SendTextDeps { ledger, sms, opt_outs, queue });
    Ok((handler, queue_url))
}

type SendTextWithQueue =
    SendTextHandler<DynamoTextLedger, SnsSmsSender, Option<DynamoOptOuts>, Option<webhook::aws::SqsFallbackQueue>>;

/// SNS takes the text, then answers 500: exactly one SMS. The publish is not repeated (by the SDK, the queue or 2X):
/// the text is settled unconfirmed.
#[tokio::test]
async fn an_sns_that_takes_the_text_then_answers_500_sends_exactly_one_sms() -> Result<(), Error> {
    let emulator = Emulator::start()?;
    emulator.create_table(Table::SentTexts).await?;
    emulator.create_table(Table::OptOuts).await?;
    let (handler, queue_url) = send_text_meeting(&emulator, Mishap::AnswersServerErrorAfterTakingIt).await?;
    let (status, body) = deliver(&handler, "send-text-pre-call", "req-1").await?;
    assert_eq!((status, body), (202, json!({"status": "unconfirmed", "id": 1234})));
    let (status, body) = deliver(&handler, "send-text-pre-call", "req-2").await?;
    assert_eq!((status, body), (202, json!({"status": "unconfirmed", "id": 1234})), "2X delivering again");
    assert_eq!(emulator.sms().await?.len(), 1, "SNS's one text");
    assert_eq!(emulator.publish_requests().await?.len(), 1, "never published again");
    assert_eq!(emulator.items(TEXTS).await?[0]["status"], "unconfirmed");
    let sqs = aws_sdk_sqs::Client::new(&emulator.sdk_config().await);
    assert!(queued_event(&sqs, &queue_url).await?.records.is_empty(), "never queued");
    Ok(())
}

/// SNS refusing a text for good (moto's InvalidParameter for a number it cannot text): 422, settled failed with
/// SNS's code, tried once, never queued.
#[tokio::test]
async fn a_text_sns_refuses_for_good_is_settled_failed_and_never_queued() -> Result<(), Error> {
    let emulator = Emulator::start()?;
    emulator.create_table(Table::SentTexts).await?;
    emulator.create_table(Table::OptOuts).await?;
    let (handler, queue_url) = send_text_meeting(&emulator, Mishap::RefusesTheNumber).await?;
    let (status, body) = deliver(&handler, "send-text-pre-call", "req-1").await?;
    assert_eq!(status, 422, "{body}");
    assert!(emulator.sms().await?.is_empty());
    assert_eq!(emulator.publish_requests().await?.len(), 1, "tried once");
    let items = emulator.items(TEXTS).await?;
    assert_eq!((&items[0]["status"], &items[0]["failure_code"]), (&json!("failed"), &json!("InvalidParameter")));
    let sqs = aws_sdk_sqs::Client::new(&emulator.sdk_config().await);
    assert!(queued_event(&sqs, &queue_url).await?.records.is_empty(), "never queued");
    assert_eq!(deliver(&handler, "send-text-pre-call", "req-2").await?.0, 422);
    assert_eq!(emulator.publish_requests().await?.len(), 1, "and never tried again");
    Ok(())
}

/// A UK number and a US premium-rate number: refused (422 naming the field) before any request reaches AWS.
#[tokio::test]
async fn numbers_that_may_not_be_texted_are_refused_before_any_aws_call() -> Result<(), Error> {
    let emulator = Emulator::start()?;
    emulator.create_table(Table::SentTexts).await?;
    emulator.create_table(Table::OptOuts).await?;
    let handler = send_text_handler(&emulator, None).await?;
    let mut payload = SampleEvent::named("send-text-pre-call")?.payload()?;
    let before = emulator.requests_received().await?;
    for number in ["+44 7400 123456", "+1 900 234 5678"] {
        payload["record_phone_number"] = number.into();
        let (status, body) = answer(&handler, request_with_payload("send-text-pre-call", &payload, number)?).await?;
        assert_eq!((status, &body["field"]), (422, &json!("record_phone_number")), "{number}: {body}");
    }
    assert_eq!(emulator.requests_received().await?, before, "no request reached AWS");
    Ok(())
}

type LeadEvents = lead_events::handler::LeadEventsHandler<
    DynamoLeadEvents,
    DynamoCallStore,
    DynamoOptOuts,
    Option<webhook::aws::SqsFallbackQueue>,
>;

async fn lead_events_handler(emulator: &Emulator) -> Result<LeadEvents, Error> {
    let config = lead_events::config::LeadEventsConfig::from_lookup(env(&[("RETENTION_DAYS", "30")]))?;
    let sdk = emulator.sdk_config().await;
    let authenticator = authenticator(&config.common.auth, &sdk).await?;
    let deps = lead_events::handler::LeadEventsDeps {
        events: DynamoLeadEvents::new(&sdk, LEAD_EVENTS),
        transfers: DynamoCallStore::new(&sdk, CALLS),
        opt_outs: Some(DynamoOptOuts::new(&sdk, OPT_OUTS)),
        queue: None,
    };
    Ok(lead_events::handler::build(config, authenticator, deps))
}

/// The lead's "Unsubscribe" on DynamoDB: listed, kept once; the next text to the number is not sent.
#[tokio::test]
async fn a_reply_that_says_stop_is_listed_and_kept_once_and_the_next_text_is_not_sent() -> Result<(), Error> {
    let emulator = Emulator::start()?;
    for table in Table::ALL {
        emulator.create_table(table).await?;
    }
    let handler = lead_events_handler(&emulator).await?;
    let (status, body) = deliver(&handler, "lead-events-text-unsubscribe", "req-1").await?;
    assert_eq!((status, body), (200, json!({"status": "opted_out"})));
    let (status, body) = deliver(&handler, "lead-events-text-unsubscribe", "req-2").await?;
    assert_eq!((status, body), (200, json!({"status": "opted_out"})), "listed already, the event kept once");
    let events = emulator.items(LEAD_EVENTS).await?;
    assert_eq!(events.len(), 1);
    assert_eq!((&events[0]["phone"], &events[0]["message"]), (&json!("+12025550166"), &json!("Unsubscribe")));
    assert!(events[0]["expires_at"].is_i64(), "kept for RETENTION_DAYS");
    let listed = emulator.items(OPT_OUTS).await?;
    assert_eq!((&listed[0]["phone"], &listed[0]["source"]), (&json!("+12025550166"), &json!("text:unsubscribe")));

    let send_text = send_text_handler(&emulator, None).await?;
    let mut text = SampleEvent::named("send-text-pre-call")?.payload()?;
    text["record_phone_number"] = "+12025550166".into();
    let (status, body) = answer(&send_text, request_with_payload("send-text-pre-call", &text, "req-3")?).await?;
    assert_eq!((status, &body["status"]), (200, &json!("opted_out")));
    assert!(emulator.sms().await?.is_empty());
    Ok(())
}

/// On DynamoDB, whichever of a call's post-call and its transfer type arrives first, the call ends the same:
/// the record, with the transfer.
#[tokio::test]
async fn a_transfer_lands_on_its_call_in_either_order_with_the_same_record() -> Result<(), Error> {
    let mut finals = Vec::new();
    for transfer_first in [false, true] {
        let emulator = Emulator::start()?;
        for table in Table::ALL {
            emulator.create_table(table).await?;
        }
        let (lead_events, post_call) = (lead_events_handler(&emulator).await?, post_call_handler(&emulator).await?);
        if transfer_first {
            deliver(&lead_events, "lead-events-transfer-type-qualified", "req-transfer").await?;
        }
        let (status, body) = deliver(&post_call, "post-call-transferred", "req-call").await?;
        assert_eq!((status, body), (200, json!({"status": "stored", "id": 123})), "transfer first: {transfer_first}");
        if !transfer_first {
            let (status, body) = deliver(&lead_events, "lead-events-transfer-type-qualified", "req-transfer").await?;
            assert_eq!((status, body), (200, json!({"status": "stored", "id": 123})));
        }
        let (status, body) = deliver(&post_call, "post-call-transferred", "req-again").await?;
        assert_eq!((status, body), (200, json!({"status": "duplicate", "id": 123})), "a stored call is kept");
        let mut calls = emulator.items(CALLS).await?;
        assert_eq!(calls.len(), 1);
        let mut call = calls.remove(0);
        assert_eq!(
            call["transfer"],
            json!({"transfer_type": "qualified", "duration": 70, "call_direction": "outbound"})
        );
        assert_eq!(call["call"]["end_reason"], "transferred");
        for varies in ["received_at", "transfer_received_at", "expires_at"] {
            assert!(call.as_object_mut().and_then(|call| call.remove(varies)).is_some(), "{varies}");
        }
        finals.push(call);
    }
    assert_eq!(finals[0], finals[1]);
    Ok(())
}

/// lead-history's reading of the four tables: each kind of record of one lead, by the indexes the template
/// defines.
#[tokio::test]
async fn lead_history_reads_every_record_of_a_lead_by_its_number() -> Result<(), Error> {
    let emulator = Emulator::start()?;
    for table in Table::ALL {
        emulator.create_table(table).await?;
    }
    let (lead_events, post_call) = (lead_events_handler(&emulator).await?, post_call_handler(&emulator).await?);
    let send_text = send_text_handler(&emulator, None).await?;
    deliver(&post_call, "post-call-transferred", "req-1").await?;
    deliver(&send_text, "send-text-pre-call", "req-2").await?;
    for (n, sample) in [
        "lead-events-transfer-type-qualified",
        "lead-events-text-question",
        "lead-events-text-classification-pricing",
        "lead-events-text-response",
        "lead-events-inbound-call",
    ]
    .into_iter()
    .enumerate()
    {
        assert_eq!(deliver(&lead_events, sample, &format!("req-event-{n}")).await?.0, 200, "{sample}");
    }
    let mut stop = SampleEvent::named("lead-events-text-question")?.payload()?;
    stop["message"] = "STOP please".into();
    answer(&lead_events, request_with_payload("lead-events-text-question", &stop, "req-stop")?).await?;

    let tables = lead_history::aws::HistoryTables {
        calls: CALLS.into(),
        sent_texts: TEXTS.into(),
        lead_events: LEAD_EVENTS.into(),
        opt_outs: OPT_OUTS.into(),
    };
    let client = aws_sdk_dynamodb::Client::new(&emulator.sdk_config().await);
    let history = lead_history::aws::DynamoHistory { client, tables };
    let records = history.records("+12025550143").await?;
    let kinds: Vec<&str> = lead_history::history::timeline(&records).iter().map(|entry| entry.kind).collect();
    assert_eq!(
        kinds,
        ["call", "text", "transfer", "inbound text", "classification", "response", "inbound call", "inbound text"]
    );
    assert_eq!(records.texts[0]["status"], "sent");
    assert_eq!(records.suppression.as_ref().map(|listed| &listed["source"]), Some(&json!("text:stop")));
    assert!(records.notes.is_empty(), "{:?}", records.notes);
    let none = history.records("+12025550100").await?;
    assert!(none.calls.is_empty() && none.texts.is_empty() && none.events.is_empty() && none.suppression.is_none());
    Ok(())
}
