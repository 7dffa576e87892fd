//! Time budgets that add up: each function's slowest path, every AWS call on it at its SDK timeout
//! (`webhook::budget`), ends with its answer inside the template's `Timeout`, with the margin to spare. A webhook
//! stopped by Lambda mid-request leaves 2X without an answer and a text's claim unsettled; a batch function
//! stops starting items when its deadline leaves less than one item's worst case, which must fit at least once.

use integration_tests::{Error, Template};
use std::time::Duration;
use webhook::aws::{fail_open_timeouts, timeouts};
use webhook::budget::{CALL, MARGIN, QUICK_CALL};

/// Each function resource and its slowest path (for a batch function, its slowest item).
fn worst_cases() -> [(&'static str, Duration); 6] {
    [
        ("SendTextFunction", send_text::handler::WORST_CASE),
        ("PostCallFunction", post_call::handler::WORST_CASE),
        ("TextOptOutFunction", text_optout::handler::WORST_CASE),
        ("LeadEventsFunction", lead_events::handler::WORST_CASE),
        ("RedriveFunction", redrive::handler::MESSAGE_WORST_CASE),
        ("SmsDeliveryStatusFunction", sms_delivery_status::handler::RECORD_WORST_CASE),
    ]
}

#[test]
fn the_budgets_are_the_timeouts_the_sdk_clients_are_given() {
    assert_eq!(timeouts().operation_timeout(), Some(CALL));
    assert_eq!(fail_open_timeouts().operation_timeout(), Some(QUICK_CALL));
}

#[test]
fn every_functions_slowest_path_ends_inside_its_timeout_with_margin() -> Result<(), Error> {
    let template = Template::load()?;
    let budgeted: Vec<&str> = worst_cases().iter().map(|(resource, _)| *resource).collect();
    for (resource, _) in template.functions()? {
        assert!(budgeted.contains(&resource.as_str()), "{resource} has no worst case here");
    }
    for (resource, worst_case) in worst_cases() {
        let timeout = template.timeout(resource)?;
        assert!(
            worst_case + MARGIN <= timeout,
            "{resource}: slowest path {worst_case:?} + margin {MARGIN:?} exceeds its Timeout {timeout:?}"
        );
    }
    // send-text's slowest path, spelled out: the token re-read, the claim with the opt-out checks, the publish,
    // the fallback queue, the claim marked queued.
    assert_eq!(send_text::handler::WORST_CASE, QUICK_CALL + 4 * CALL);
    Ok(())
}

/// The redrive's batch is as large as surely finishes: every message at its slowest, one after another, with the
/// margin, inside the timeout. A larger batch would leave messages unstarted at the deadline, each then waiting
/// the queue's whole visibility timeout before its next try.
#[test]
fn every_message_of_a_redrive_batch_surely_starts() -> Result<(), Error> {
    let template = Template::load()?;
    let timeout = template.timeout("RedriveFunction")?;
    let own = &template.properties("RedriveFunction")?["Events"]["Queued"]["Properties"]["BatchSize"];
    let existing = &template.properties("ExistingFallbackQueueEventSource")?["BatchSize"];
    for batch_size in [own, existing] {
        let batch_size = batch_size.as_u64().and_then(|size| u32::try_from(size).ok()).ok_or("no BatchSize")?;
        let slowest = redrive::handler::MESSAGE_WORST_CASE * batch_size + MARGIN;
        assert!(slowest <= timeout, "a batch of {batch_size} takes up to {slowest:?}, over the {timeout:?} timeout");
    }
    Ok(())
}
