//! Any bytes as the body of an authenticated request to each webhook must come to a JSON 4xx or a success the
//! in-memory fakes confirm (the same property the proptest suite checks; see `integration_tests::properties`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::LazyLock;
use integration_tests::properties::BodyCheck;

static WEBHOOKS: LazyLock<BodyCheck> = LazyLock::new(BodyCheck::default);

fuzz_target!(|body: &[u8]| {
    let checked = WEBHOOKS.send_text(body).and_then(|_| WEBHOOKS.post_call(body)).and_then(|_| WEBHOOKS.text_optout(body));
    if let Err(broken) = checked {
        panic!("{broken}");
    }
});
