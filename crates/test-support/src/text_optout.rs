//! text-optout on the in-memory suppression list and fallback queue.

use crate::events::{authenticator, env};
use crate::fallback::FakeQueue;
use crate::opt_outs::FakeOptOuts;
use text_optout::config::TextOptOutConfig;
use text_optout::handler::TextOptOutHandler;
use webhook::config::FromEnvironment;

/// text-optout as the tests run it: on fakes, with the suppression list the others read.
pub type FakeTextOptOut = TextOptOutHandler<FakeOptOuts, FakeQueue>;

/// text-optout on `opt_outs` and a fresh fallback queue, configured by the sample events' environment and
/// `extra_env`.
pub fn text_optout_with(opt_outs: FakeOptOuts, extra_env: &[(&str, &str)]) -> FakeTextOptOut {
    let config = TextOptOutConfig::from_lookup(env(extra_env)).expect("a valid test configuration");
    let authenticator = authenticator(&config.common.auth);
    TextOptOutHandler::new(config, authenticator, opt_outs, FakeQueue::default())
}
