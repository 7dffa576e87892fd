//! text-optout on the in-memory suppression list.

use crate::events::{authenticator, env};
use crate::opt_outs::FakeOptOuts;
use text_optout::config::TextOptOutConfig;
use text_optout::handler::TextOptOutHandler;

/// text-optout on `opt_outs`, configured by the sample events' environment and `extra_env`.
pub fn text_optout_with(opt_outs: FakeOptOuts, extra_env: &[(&str, &str)]) -> TextOptOutHandler<FakeOptOuts> {
    let config = TextOptOutConfig::from_lookup(env(extra_env)).expect("a valid test configuration");
    let authenticator = authenticator(&config.common.auth);
    TextOptOutHandler::new(config, authenticator, opt_outs)
}
