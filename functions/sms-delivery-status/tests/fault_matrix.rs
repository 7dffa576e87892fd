//! sms-delivery-status's two AWS calls (the message-id look-up, the update) × every fault (throttling, 500,
//! refused, hung), through the handler on the real SDK client (`webhook_test_support::faults`): the batch fails
//! (Lambda delivers it again) after the SDK's own attempts, and works once DynamoDB answers.

// Tests: a step that fails should stop the test at once (helpers are outside `#[test]` functions).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use sms_delivery_status::adapters::DynamoDeliveryLedger;
use sms_delivery_status::handler::{BatchSummary, DeliveryStatusHandler};
use webhook::aws::OnTable;
use webhook::metrics::DEFAULT_NAMESPACE;
use webhook_test_support::delivery_logs::decode;
use webhook_test_support::events::sample;
use webhook_test_support::faults::{self, FAULTS, Fault, FaultInjector};
use webhook_test_support::whole_invocation;

fn handler(injector: &FaultInjector) -> DeliveryStatusHandler<DynamoDeliveryLedger> {
    let ledger = DynamoDeliveryLedger::from_client(faults::dynamodb(injector), "texts");
    DeliveryStatusHandler::new(ledger, DEFAULT_NAMESPACE)
}

#[tokio::test]
async fn a_failing_look_up_or_update_fails_the_batch_so_it_is_delivered_again() {
    let batch = decode(&sample("sms-delivery-status-success"));
    for operation in ["Query", "UpdateItem"] {
        for fault in FAULTS {
            let injector = FaultInjector::new(operation, fault);
            let failed = handler(&injector).handle(&batch, "req-1", whole_invocation()).await.unwrap_err();
            assert_eq!(failed.summary.failed, 1, "{operation} {fault:?}");
            assert!(failed.first.operation.starts_with(&format!("DynamoDB {operation}")), "{failed}");
            assert!((1..=3).contains(&injector.attempts(operation)), "{operation} {fault:?}");
            if operation == "Query" {
                assert_eq!(injector.attempts("UpdateItem"), 0, "nothing is updated without the text's id");
            }
        }
    }
}

#[tokio::test]
async fn with_dynamodb_answering_the_record_is_applied_in_one_look_up_and_one_update() {
    let injector = FaultInjector::new("none", Fault::Hang);
    let summary =
        handler(&injector).handle(&decode(&sample("sms-delivery-status-success")), "req-1", whole_invocation()).await;
    assert_eq!(summary, Ok(BatchSummary { applied: 1, ..BatchSummary::default() }));
    assert_eq!((injector.attempts("Query"), injector.attempts("UpdateItem")), (1, 1));
}
