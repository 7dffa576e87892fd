//! Every row of post-call's HTTP contract, on the handler with an in-memory store, driven by the sample events.

// Tests: a step that fails should stop the test at once (helpers are outside `#[test]` functions).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use calls::fakes::FakeCallStore;
use calls::record::CallRecord;
use lambda_http::http::{HeaderValue, StatusCode};
use post_call::handler::{PostCallDeps, PostCallHandler};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use webhook::fakes::{FakeOptOuts, FakeQueue};
use webhook::fallback::QueuedFunction;
use webhook::item::{SHADOWED_FIELDS, STORED_AS_JSON};
use webhook::payload::WebhookId;
use webhook_test_support::LogCapture;
use webhook_test_support::events::{
    answer, body_carrying, configured, edited_body, event, event_with_body, lambda_answer, metas_dynamodb_refuses,
    request_from, sample, sample_body,
};
use webhook_test_support::stored::{same_json, stored_as_sent};

/// post-call's fakes. A clone shares each one's state: the test keeps its own handles.
type Fakes = PostCallDeps<FakeCallStore, FakeOptOuts, FakeQueue>;
type FakePostCall = PostCallHandler<FakeCallStore, FakeOptOuts, FakeQueue>;

/// post-call on `fakes`, configured by the sample events' environment and `extra_env`.
fn post_call_on(fakes: &Fakes, extra_env: &[(&str, &str)]) -> FakePostCall {
    let (config, authenticator) = configured(extra_env);
    post_call::handler::build(config, authenticator, fakes.clone())
}

/// post-call on fresh fakes (an empty suppression list).
fn post_call_on_fakes(extra_env: &[(&str, &str)]) -> (FakePostCall, Fakes) {
    post_call_listing_to(&FakeOptOuts::default(), extra_env)
}

/// post-call on fresh fakes listing to `list`.
fn post_call_listing_to(list: &FakeOptOuts, extra_env: &[(&str, &str)]) -> (FakePostCall, Fakes) {
    let fakes = Fakes { opt_outs: Some(list.clone()), ..Fakes::default() };
    (post_call_on(&fakes, extra_env), fakes)
}

fn id(value: u64) -> WebhookId {
    WebhookId::new(value)
}

/// The stored item as the payload it came from (what storing did undone): a string `id` is stored as a number.
fn payload_part(item: Value) -> Value {
    let mut sent = stored_as_sent(&item, CallRecord::ATTRIBUTES);
    sent["id"] = item["id"].clone();
    sent
}

#[tokio::test]
async fn a_call_carrying_our_attribute_names_keeps_ours_and_the_senders_values_aside() {
    for retention in [None, Some("30")] {
        let (handler, fakes) =
            post_call_on_fakes(&retention.map(|days| [("RETENTION_DAYS", days)]).unwrap_or_default());
        let mut body = body_carrying("post-call-transferred", CallRecord::ATTRIBUTES);
        body["record_phone_number"] = "not a number".into();
        let (status, _) = answer(&handler, event_with_body("post-call-transferred", &body.to_string())).await;
        assert_eq!(status, StatusCode::OK);

        let item = fakes.calls.item(id(123)).unwrap();
        // No index key and no TTL from the body: `phone_e164` only from a valid number, `expires_at` only from
        // RETENTION_DAYS.
        assert_eq!(item.get("phone_e164"), None);
        let received_at = OffsetDateTime::parse(item["received_at"].as_str().unwrap(), &Rfc3339).unwrap();
        let expected_ttl = retention.map(|_| json!(received_at.unix_timestamp() + 30 * 86_400));
        assert_eq!(item.get("expires_at"), expected_ttl.as_ref(), "{retention:?}");
        assert_eq!(item.get("transcript_gzip").or(item.get("transcript_compressed")), None);
        assert!(item["transcript"].is_array());
        for name in CallRecord::ATTRIBUTES {
            assert_eq!(item[SHADOWED_FIELDS][*name], body[*name], "the sender's {name} is kept");
        }
    }
}

#[tokio::test]
async fn the_seed_call_is_stored_whole_with_what_we_add() {
    let (handler, fakes) = post_call_on_fakes(&[]);
    let (status, body) = answer(&handler, event("post-call-transferred")).await;

    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({"status": "stored", "id": 123}));
    let item = fakes.calls.item(id(123)).unwrap();
    assert_eq!(payload_part(item.clone()), sample_body("post-call-transferred"));
    assert_eq!(item["call"]["end_reason"], "transferred", "an undocumented end_reason is kept verbatim");
    assert_eq!(item["transcript"][1], json!({"role": "Assistant", "content": "Hi, is John available?"}));
    assert_eq!(item["phone_e164"], "+12025550143");
    assert!(OffsetDateTime::parse(item["received_at"].as_str().unwrap(), &Rfc3339).is_ok());
    assert_eq!(item.get("expires_at"), None, "no TTL unless RETENTION_DAYS is set");
}

#[tokio::test]
async fn a_failed_call_keeps_its_failure_reason_and_unknown_fields() {
    let (handler, fakes) = post_call_on_fakes(&[]);
    let (status, _) = answer(&handler, event("post-call-failure-reason")).await;

    assert_eq!(status, StatusCode::OK);
    let item = fakes.calls.item(id(124)).unwrap();
    assert_eq!(payload_part(item.clone()), sample_body("post-call-failure-reason"));
    assert_eq!(item["call"]["failure_reason"], "number_no_service");
    assert_eq!(item["call"]["sip_code"], 404);
    assert_eq!(item["recording_url"], "https://example.com/recordings/124.mp3");
    assert_eq!(item["phone_e164"], "+12025550111", "a bare 10-digit number is normalised");
}

#[tokio::test]
async fn an_unanswered_call_without_transcript_or_workflow_end_and_a_null_last_name_is_stored_as_sent() {
    let (handler, fakes) = post_call_on_fakes(&[]);
    let (status, body) = answer(&handler, event("post-call-no-answer")).await;

    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["id"], 125);
    let item = fakes.calls.item(id(125)).unwrap();
    let mut expected = sample_body("post-call-no-answer");
    expected["id"] = 125.into();
    assert_eq!(payload_part(item.clone()), expected);
    assert_eq!(item["record_last_name"], Value::Null, "a null is kept as sent");
    assert_eq!(item.get("transcript"), None);
    assert_eq!(item.get("workflow_end"), None);
}

#[tokio::test]
async fn the_seeds_invalid_json_is_400() {
    let (handler, fakes) = post_call_on_fakes(&[]);
    let (status, body) = answer(&handler, event("post-call-malformed-json")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["error"].as_str().unwrap().starts_with("the request body is not valid JSON"), "{body}");
    assert!(fakes.calls.is_empty());
}

/// A field of another type than 2X's documents say, as another JSON library writes it, costs nothing: the call
/// is stored with it as sent.
#[tokio::test]
async fn fields_of_other_types_are_stored_as_sent() {
    let (handler, fakes) = post_call_on_fakes(&[]);
    for (n, edit) in [
        json!({"call": {"answered": "yes", "end_reason": 4, "duration": "33"}}),
        json!({"transcript": [{"role": "User", "content": null}, {"role": "Assistant", "content": 5}, "Hello?"]}),
        json!({"transcript": "Hello?"}),
        json!({"call": "transferred", "question_fields": [], "meta": []}),
        json!({"record_zip_code": 98765, "workflow_day": "1", "workflow_end": "false", "message_left": false}),
        json!({"record_phone_number": 2025550143u64, "record_timezone": -8, "workflow_call": 1.0}),
    ]
    .into_iter()
    .enumerate()
    {
        let body = edited_body("post-call-transferred", |body| {
            for (key, value) in edit.as_object().unwrap() {
                body[key] = value.clone();
            }
            body["id"] = (500 + n).into();
        });
        let (status, answer_body) = answer(&handler, event_with_body("post-call-transferred", &body)).await;
        assert_eq!((status, &answer_body["status"]), (StatusCode::OK, &json!("stored")), "{edit}");
        let item = fakes.calls.item(id(500 + n as u64)).unwrap();
        let sent: Value = serde_json::from_str(&body).unwrap();
        assert!(same_json(&sent, &payload_part(item.clone())), "{edit}: stored {item}");
    }
    let item = fakes.calls.item(id(505)).unwrap();
    assert_eq!(item["phone_e164"], "+12025550143", "a number sent as digits is still a number");
}

#[tokio::test]
async fn the_odd_types_sample_is_stored_as_sent() {
    let (handler, fakes) = post_call_on_fakes(&[]);
    let (status, body) = answer(&handler, event("post-call-odd-types")).await;
    assert_eq!((status, body), (StatusCode::OK, json!({"status": "stored", "id": 128})));
    let item = fakes.calls.item(id(128)).unwrap();
    let mut sent = sample_body("post-call-odd-types");
    sent["id"] = 128.into();
    assert!(same_json(&sent, &payload_part(item.clone())), "{item}");
    assert_eq!((&item["call"]["answered"], &item["meta"]), (&json!("yes"), &json!([])));
}

#[tokio::test]
async fn a_call_without_a_usable_id_is_400_naming_it() {
    let (handler, fakes) = post_call_on_fakes(&[]);
    for unusable in [json!(null), json!(-1), json!(1.5), json!("12a"), json!([123]), json!(true)] {
        let body = edited_body("post-call-transferred", |body| body["id"] = unusable.clone());
        let (status, answer_body) = answer(&handler, event_with_body("post-call-transferred", &body)).await;
        assert_eq!((status, answer_body["field"].as_str()), (StatusCode::BAD_REQUEST, Some("id")), "{unusable}");
    }
    assert!(fakes.calls.is_empty());
}

#[tokio::test]
async fn a_repeated_call_keeps_the_first_record() {
    let (handler, fakes) = post_call_on_fakes(&[]);
    answer(&handler, event("post-call-transferred")).await;
    let first = fakes.calls.item(id(123)).unwrap();
    let (status, body) = answer(&handler, event("post-call-transferred")).await;

    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({"status": "duplicate", "id": 123}));
    assert_eq!(fakes.calls.item(id(123)).unwrap(), first);
    assert_eq!(fakes.calls.len(), 1);
}

#[tokio::test]
async fn a_failed_store_is_queued_202_with_the_delivery() {
    let (handler, fakes) = post_call_on_fakes(&[]);
    fakes.calls.operations.fail("store");
    let (status, body) = answer(&handler, event("post-call-transferred")).await;
    assert_eq!((status, body), (StatusCode::ACCEPTED, json!({"status": "queued", "id": 123})));
    let queued = fakes.queue.queued();
    assert_eq!(queued.len(), 1);
    assert_eq!((queued[0].function, queued[0].id), (QueuedFunction::PostCall, Some(id(123))));
    assert!(fakes.calls.is_empty());
}

/// The queue refusing too: 503 (2X's next delivery stores it), as without a queue; each failure logged once.
#[tokio::test]
async fn a_failed_store_the_queue_refuses_too_is_503_and_the_retry_stores() {
    let logs = LogCapture::default();
    let _guard = logs.install();
    let (handler, fakes) = post_call_on_fakes(&[]);
    fakes.calls.operations.fail("store");
    fakes.queue.operations.fail("enqueue");
    let (status, body) = answer(&handler, event("post-call-transferred")).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(body["error"].is_string());
    assert!(fakes.calls.is_empty());
    assert_eq!(
        logs.summaries()[0]["errors"],
        "enqueue failed: injected failure; store failed: injected failure",
        "the queue's failure, then the store's the answer is made of"
    );

    fakes.calls.operations.heal("store");
    assert_eq!(answer(&handler, event("post-call-transferred")).await.1["status"], "stored");
}

#[tokio::test]
async fn a_call_with_an_unusable_number_is_stored_without_phone_e164() {
    let (handler, fakes) = post_call_on_fakes(&[]);
    let body = edited_body("post-call-transferred", |body| body["record_phone_number"] = "+1...".into());
    let (status, _) = answer(&handler, event_with_body("post-call-transferred", &body)).await;
    assert_eq!(status, StatusCode::OK);
    let item = fakes.calls.item(id(123)).unwrap();
    assert_eq!(item["record_phone_number"], "+1...");
    assert_eq!(item.get("phone_e164"), None);
}

#[tokio::test]
async fn retention_sets_the_ttl_on_the_call() {
    let (handler, fakes) = post_call_on_fakes(&[("RETENTION_DAYS", "90")]);
    answer(&handler, event("post-call-transferred")).await;
    let item = fakes.calls.item(id(123)).unwrap();
    let received_at = OffsetDateTime::parse(item["received_at"].as_str().unwrap(), &Rfc3339).unwrap();
    assert_eq!(item["expires_at"], received_at.unix_timestamp() + 90 * 86_400);
}

#[tokio::test]
async fn post_call_401s_make_no_store_call() {
    let (handler, fakes) = post_call_on_fakes(&[]);
    let mut request = event("post-call-transferred");
    request.headers_mut().insert("authorization", HeaderValue::from_static("local-dev-token2"));
    assert_eq!(answer(&handler, request).await.0, StatusCode::UNAUTHORIZED);
    assert!(fakes.calls.operations.called().is_empty());
}

#[tokio::test]
async fn a_call_too_big_even_compressed_is_413_logged_and_counted() {
    let logs = LogCapture::default();
    let _guard = logs.install();
    let (handler, fakes) = post_call_on_fakes(&[]);
    // Incompressible data in `meta`, not in the transcript: compression cannot save it.
    let noise: String = (0..500_000u64).map(|n| char::from(b'!' + ((n * 7919 + n / 13) % 90) as u8)).collect();
    let body = edited_body("post-call-transferred", |body| body["meta"]["blob"] = noise.into());
    let (status, body) = answer(&handler, event_with_body("post-call-transferred", &body)).await;

    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(body["error"].as_str().unwrap().contains("DynamoDB stores at most 400 KB"), "{body}");
    assert!(fakes.calls.is_empty());
    assert_eq!((&logs.summaries()[0]["outcome"], &logs.summaries()[0]["id"]), (&json!("too_large"), &json!(123)));
    assert_eq!(logs.metrics()[0]["TooLarge"], 1);
}

#[tokio::test]
async fn the_body_is_read_as_json_whatever_the_content_type_says() {
    let (handler, fakes) = post_call_on_fakes(&[]);
    let content_types =
        [None, Some("text/plain"), Some("application/x-www-form-urlencoded"), Some("image/png"), Some("")];
    for (n, content_type) in content_types.into_iter().enumerate() {
        let (status, body) = lambda_answer(&handler, "post-call-transferred", |event| {
            let mut payload: Value = serde_json::from_str(event["body"].as_str().unwrap()).unwrap();
            payload["id"] = (9000 + n).into();
            event["body"] = payload.to_string().into();
            let headers = event["headers"].as_object_mut().unwrap();
            headers.remove("content-type");
            if let Some(content_type) = content_type {
                headers.insert("content-type".into(), content_type.into());
            }
        })
        .await;
        assert_eq!((status, body["status"].as_str()), (200, Some("stored")), "{content_type:?}");
    }
    assert_eq!(fakes.calls.len(), content_types.len());
}

#[tokio::test]
async fn a_rest_api_event_is_answered_in_its_own_format() {
    let (handler, _) = post_call_on_fakes(&[]);
    let (status, body) = lambda_answer(&handler, "post-call-transferred", |event| {
        // API Gateway REST (v1) shape: `httpMethod`/`path`, no `requestContext.http`.
        let v2 = event.clone();
        *event = json!({
            "resource": "/post-call", "path": "/post-call", "httpMethod": "POST",
            "headers": v2["headers"], "multiValueHeaders": {}, "queryStringParameters": null,
            "requestContext": {"accountId": "123456789012", "resourceId": "r", "stage": "prod", "requestId": "v1",
                "identity": {"sourceIp": "127.0.0.1"}, "resourcePath": "/post-call", "httpMethod": "POST",
                "apiId": "api"},
            "body": v2["body"], "isBase64Encoded": false
        });
    })
    .await;
    assert_eq!((status, body["status"].as_str()), (200, Some("stored")));
}

/// A put DynamoDB applied but whose answer was lost, the queue refusing too: 503, and the retry finds the record
/// (the conditional put keeps the first one) and answers 200. Every 2xx has its item; every non-2xx leaves the
/// retry able to finish. (With the queue: 202 queued, the fault matrix's hung put.)
#[tokio::test]
async fn a_store_whose_answer_was_lost_is_503_and_the_retry_finds_it_stored() {
    let (handler, fakes) = post_call_on_fakes(&[]);
    fakes.calls.operations.lose_answers("store");
    fakes.queue.operations.fail("enqueue");
    assert_eq!(answer(&handler, event("post-call-transferred")).await.0, StatusCode::SERVICE_UNAVAILABLE);
    fakes.calls.operations.heal("store");

    let (status, body) = answer(&handler, request_from(&sample("post-call-transferred"), "req-retry")).await;
    assert_eq!((status, body), (StatusCode::OK, json!({"status": "duplicate", "id": 123})));
    assert_eq!(fakes.calls.len(), 1);
}

/// An empty field name, nesting past 32 levels, a number outside DynamoDB's range: each would be refused by
/// DynamoDB on every delivery. The call is stored, that value as its JSON text, its path listed.
#[tokio::test]
async fn values_dynamodb_refuses_are_stored_as_their_json_text() {
    let (handler, fakes) = post_call_on_fakes(&[]);
    for (n, (meta, path)) in metas_dynamodb_refuses().into_iter().enumerate() {
        let body = edited_body("post-call-transferred", |body| {
            body["meta"] = meta.clone();
            body["id"] = (600 + n).into();
        });
        let (status, _) = answer(&handler, event_with_body("post-call-transferred", &body)).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        let item = fakes.calls.item(id(600 + n as u64)).unwrap();
        assert_eq!(item[STORED_AS_JSON], json!([path]));
        assert!(same_json(&serde_json::from_str(&body).unwrap(), &payload_part(item)), "{path}");
    }
    // A top-level field without a name is set aside, the map holding it kept as its JSON text.
    let body = edited_body("post-call-transferred", |body| body[""] = json!("no name"));
    assert_eq!(answer(&handler, event_with_body("post-call-transferred", &body)).await.0, StatusCode::OK);
    let item = fakes.calls.item(id(123)).unwrap();
    assert_eq!(
        (&item[SHADOWED_FIELDS], &item[STORED_AS_JSON]),
        (&json!(r#"{"":"no name"}"#), &json!([SHADOWED_FIELDS]))
    );
}

/// The bodies a JavaScript or a non-UTF-8 sender produces are still the call: stored, the broken characters as
/// U+FFFD.
#[tokio::test]
async fn lone_surrogates_and_bytes_that_are_not_utf8_are_stored_as_the_replacement_character() {
    let (handler, fakes) = post_call_on_fakes(&[]);
    let body = b"{\"id\": 701, \"record_first_name\": \"Jos\xe9\", \"transcript\": [{\"content\": \"ok \\ud83d\"}]}";
    let mut request = event("post-call-transferred");
    *request.body_mut() = lambda_http::Body::Binary(body.to_vec());
    assert_eq!(answer(&handler, request).await.0, StatusCode::OK);
    let item = fakes.calls.item(id(701)).unwrap();
    let names = (&item["record_first_name"], &item["transcript"][0]["content"]);
    assert_eq!(names, (&json!("Jos\u{FFFD}"), &json!("ok \u{FFFD}")));
}

// ---- the suppression list ----

#[tokio::test]
async fn a_do_not_call_puts_the_number_on_the_list_with_the_leads_fields() {
    let logs = LogCapture::default();
    let _guard = logs.install();
    let list = FakeOptOuts::default();
    let (handler, fakes) = post_call_listing_to(&list, &[]);
    let (status, body) = answer(&handler, event("post-call-do-not-call")).await;

    assert_eq!((status, body), (StatusCode::OK, json!({"status": "stored", "id": 126})));
    assert!(fakes.calls.item(id(126)).is_some());
    let item = list.item("+12025550188").expect("listed");
    assert_eq!((&item["source"], &item["call_id"]), (&json!("post-call:do_not_call"), &json!(126)));
    assert_eq!((&item["record_phone_number"], &item["record_first_name"]), (&json!("2025550188"), &json!("Maria")));
    assert_eq!(item.get("transcript"), None, "the call's record stays in the calls table");
    assert_eq!(logs.metrics()[0]["OptOutListed"], 1);
}

/// The listing is written first, from the number and the lead's fields alone: a call too large to store (413)
/// still lists its number, the lead's fields left out when they are what is too large.
#[tokio::test]
async fn a_do_not_call_lists_the_number_before_the_record_is_even_built() {
    let list = FakeOptOuts::default();
    let (handler, fakes) = post_call_listing_to(&list, &[]);
    let noise: String = (0..500_000u64).map(|n| char::from(b'!' + ((n * 7919 + n / 13) % 90) as u8)).collect();
    let body = edited_body("post-call-do-not-call", |body| body["meta"] = json!({"blob": noise}));
    let (status, _) = answer(&handler, event_with_body("post-call-do-not-call", &body)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "the call itself cannot be stored");
    let item = list.item("+12025550188").expect("listed all the same");
    assert_eq!((&item["source"], &item["details_omitted"]), (&json!("post-call:do_not_call"), &json!(true)));
    assert!(fakes.calls.is_empty());
}

/// The calls table failing does not hold the listing back: the number is listed now, the call queued; with the
/// queue refusing too (503), listed all the same.
#[tokio::test]
async fn the_calls_table_failing_still_lists_the_number_at_once() {
    let list = FakeOptOuts::default();
    let (handler, fakes) = post_call_listing_to(&list, &[]);
    fakes.calls.operations.fail("store");
    let (status, body) = answer(&handler, event("post-call-do-not-call")).await;
    assert_eq!((status, body), (StatusCode::ACCEPTED, json!({"status": "queued", "id": 126})));
    assert!(list.item("+12025550188").is_some(), "listed before the record was tried");
    assert_eq!(fakes.queue.queued().len(), 1);

    fakes.queue.operations.fail("enqueue");
    let other = edited_body("post-call-do-not-call", |body| body["record_phone_number"] = "2025550189".into());
    let (status, _) = answer(&handler, event_with_body("post-call-do-not-call", &other)).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "nothing stored, nothing queued");
    assert!(list.item("+12025550189").is_some(), "listed all the same");
}

/// A body whose id is unusable is refused (400), but its number is listed first: a lead who said stop is not
/// texted because 2X sent a bad id.
#[tokio::test]
async fn a_do_not_call_without_a_usable_id_is_still_listed() {
    let list = FakeOptOuts::default();
    let (handler, fakes) = post_call_listing_to(&list, &[]);
    let body = edited_body("post-call-do-not-call", |body| body["id"] = json!({"call": 126}));
    let (status, answer_body) = answer(&handler, event_with_body("post-call-do-not-call", &body)).await;
    assert_eq!((status, answer_body["field"].as_str()), (StatusCode::BAD_REQUEST, Some("id")));
    let item = list.item("+12025550188").expect("listed");
    assert_eq!(item.get("call_id"), None);
    assert!(fakes.calls.is_empty());
}

/// The listing failing for a body that is refused besides (an unusable id, a record too large to store): not
/// lost with the refusal, but queued, so that the redrive lists the number.
#[tokio::test]
async fn a_failed_listing_is_queued_even_when_the_body_is_refused_besides() {
    let noise: String = (0..500_000u64).map(|n| char::from(b'!' + ((n * 7919 + n / 13) % 90) as u8)).collect();
    for (edit, id) in [(json!({"id": "not an id"}), None), (json!({"meta": {"blob": noise}}), Some(126))] {
        let list = FakeOptOuts::default();
        let (handler, fakes) = post_call_listing_to(&list, &[]);
        list.operations.fail("add");
        let body = edited_body("post-call-do-not-call", |body| {
            for (key, value) in edit.as_object().unwrap() {
                body[key] = value.clone();
            }
        });
        let (status, answer_body) = answer(&handler, event_with_body("post-call-do-not-call", &body)).await;
        assert_eq!((status, &answer_body["status"]), (StatusCode::ACCEPTED, &json!("queued")), "{id:?}");
        let queued = fakes.queue.queued();
        assert_eq!((queued.len(), queued[0].id), (1, id.map(WebhookId::new)));
        assert!(fakes.calls.is_empty());
    }
}

#[tokio::test]
async fn end_reasons_suppress_whatever_their_case_and_wrong_number_by_default() {
    let list = FakeOptOuts::default();
    let (handler, _) = post_call_listing_to(&list, &[]);
    let cases = [(" DO_NOT_CALL ", "2025550161"), ("wrong_number", "2025550162"), ("Wrong_Number", "2025550163")];
    for (n, (reason, phone)) in cases.into_iter().enumerate() {
        let body = edited_body("post-call-do-not-call", |body| {
            body["call"]["end_reason"] = reason.into();
            body["record_phone_number"] = phone.into();
            body["id"] = (800 + n).into();
        });
        assert_eq!(answer(&handler, event_with_body("post-call-do-not-call", &body)).await.0, StatusCode::OK);
        let item = list.item(&format!("+1{phone}")).unwrap_or_else(|| panic!("{reason:?} did not list"));
        assert_eq!(item["source"], format!("post-call:{}", reason.trim().to_ascii_lowercase()));
    }
    let (status, _) = answer(&handler, event("post-call-odd-types")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(list.item("+12025550190").is_some(), "the odd-types sample's Wrong_Number, its number sent as digits");
}

#[tokio::test]
async fn other_end_reasons_suppress_only_when_configured() {
    let not_interested =
        edited_body("post-call-do-not-call", |body| body["call"]["end_reason"] = "not_interested".into());
    let list = FakeOptOuts::default();
    let (handler, _) = post_call_listing_to(&list, &[]);
    answer(&handler, event_with_body("post-call-do-not-call", &not_interested)).await;
    answer(&handler, event("post-call-transferred")).await;
    assert!(list.is_empty(), "not_interested and the rest do not suppress by default");

    let (configured, _) = post_call_listing_to(&list, &[("SUPPRESS_TEXTS_ON", "DO_NOT_CALL,Not_Interested")]);
    answer(&configured, event_with_body("post-call-do-not-call", &not_interested)).await;
    assert_eq!(list.item("+12025550188").unwrap()["source"], "post-call:not_interested");
}

/// A listing that failed is queued with the call (202): the call is stored now, the redrive lists the number.
#[tokio::test]
async fn a_failed_list_write_is_queued_and_the_call_stored_all_the_same() {
    let list = FakeOptOuts::default();
    let (handler, fakes) = post_call_listing_to(&list, &[]);
    list.operations.fail("add");
    let (status, body) = answer(&handler, event("post-call-do-not-call")).await;
    assert_eq!((status, body), (StatusCode::ACCEPTED, json!({"status": "queued", "id": 126})));
    assert_eq!(fakes.calls.len(), 1, "the record is stored");
    assert_eq!(fakes.queue.queued().len(), 1);
}

/// The record is durable, the list write is not: 503, so 2X delivers again; the retry finds the record stored
/// (not duplicated) and lists the number.
#[tokio::test]
async fn a_failed_list_write_the_queue_refuses_too_is_503_and_the_retry_lists_without_a_second_record() {
    let list = FakeOptOuts::default();
    let (handler, fakes) = post_call_listing_to(&list, &[]);
    list.operations.fail("add");
    fakes.queue.operations.fail("enqueue");
    assert_eq!(answer(&handler, event("post-call-do-not-call")).await.0, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(fakes.calls.len(), 1, "the record is stored");
    assert!(list.is_empty());

    list.operations.heal("add");
    let (status, body) = answer(&handler, event("post-call-do-not-call")).await;
    assert_eq!((status, body), (StatusCode::OK, json!({"status": "duplicate", "id": 126})));
    assert_eq!(fakes.calls.len(), 1);
    assert!(list.item("+12025550188").is_some());
}

#[tokio::test]
async fn a_do_not_call_with_an_unreadable_number_is_stored_and_lists_nothing() {
    let list = FakeOptOuts::default();
    let (handler, _) = post_call_listing_to(&list, &[]);
    let body = edited_body("post-call-do-not-call", |body| body["record_phone_number"] = "+1...".into());
    assert_eq!(answer(&handler, event_with_body("post-call-do-not-call", &body)).await.0, StatusCode::OK);
    assert!(list.is_empty() && list.operations.called().is_empty());
}

#[tokio::test]
async fn without_a_suppression_list_nothing_is_listed() {
    let handler = post_call_on(&Fakes::default(), &[]);
    assert_eq!(answer(&handler, event("post-call-do-not-call")).await.0, StatusCode::OK);
}
