//! Every function on one set of in-memory fakes, as a deployed stack shares its tables, list and queue: what a
//! test of more than one function (a STOP then a text, a delivery queued then redriven) is built on. A clone of a
//! fake shares its state, so a test keeps its own handles (`fakes.sms.sent()`).

// Test fixtures: one that cannot be built should stop the test at once, loudly.
#![allow(clippy::expect_used)]

use calls::fakes::FakeCallStore;
use lead_events::handler::{LeadEventsDeps, LeadEventsHandler};
use leads::fakes::FakeLeadEvents;
use post_call::handler::{PostCallDeps, PostCallHandler};
use redrive::config::RedriveConfig;
use redrive::handler::{RedriveDeps, RedriveHandler};
use send_text::handler::{SendTextDeps, SendTextHandler};
use text_optout::handler::{TextOptOutDeps, TextOptOutHandler};
use texts::fakes::{FakeLedger, FakeSms};
use webhook::config::FromEnvironment;
use webhook::fakes::{FakeOptOuts, FakeQueue};
use webhook_test_support::events::{configured, env};

pub type FakeSendText = SendTextHandler<FakeLedger, FakeSms, FakeOptOuts, Option<FakeQueue>>;
pub type FakePostCall = PostCallHandler<FakeCallStore, FakeOptOuts, FakeQueue>;
pub type FakeTextOptOut = TextOptOutHandler<FakeOptOuts, FakeQueue>;
pub type FakeLeadEventsHandler = LeadEventsHandler<FakeLeadEvents, FakeCallStore, FakeOptOuts, FakeQueue>;
pub type FakeRedrive = RedriveHandler<FakeCallStore, FakeLedger, FakeSms, FakeLeadEvents, FakeOptOuts, FakeQueue>;

/// The stack's state in memory: the sent-texts table, SNS, the suppression list, the calls table, the
/// lead-events table, the fallback queue.
#[derive(Debug, Clone, Default)]
pub struct Fakes {
    pub ledger: FakeLedger,
    pub sms: FakeSms,
    pub opt_outs: FakeOptOuts,
    pub calls: FakeCallStore,
    pub lead_events: FakeLeadEvents,
    pub queue: FakeQueue,
}

impl Fakes {
    /// send-text on these fakes without a fallback queue (a text not sent is 503), configured by the sample
    /// events' environment and `extra_env`.
    pub fn send_text(&self, extra_env: &[(&str, &str)]) -> FakeSendText {
        self.send_text_queueing(None, extra_env)
    }

    /// send-text on these fakes, queueing to `queue`.
    pub fn send_text_queueing(&self, queue: Option<FakeQueue>, extra_env: &[(&str, &str)]) -> FakeSendText {
        let (config, authenticator) = configured(extra_env);
        let deps =
            SendTextDeps { ledger: self.ledger.clone(), sms: self.sms.clone(), opt_outs: self.opt_outs.clone(), queue };
        send_text::handler::build(config, authenticator, deps)
    }

    pub fn post_call(&self, extra_env: &[(&str, &str)]) -> FakePostCall {
        let (config, authenticator) = configured(extra_env);
        let deps = PostCallDeps {
            calls: self.calls.clone(),
            opt_outs: Some(self.opt_outs.clone()),
            queue: self.queue.clone(),
        };
        post_call::handler::build(config, authenticator, deps)
    }

    pub fn text_optout(&self, extra_env: &[(&str, &str)]) -> FakeTextOptOut {
        let (config, authenticator) = configured(extra_env);
        text_optout::handler::build(
            config,
            authenticator,
            TextOptOutDeps { opt_outs: self.opt_outs.clone(), queue: self.queue.clone() },
        )
    }

    pub fn lead_events(&self, extra_env: &[(&str, &str)]) -> FakeLeadEventsHandler {
        let (config, authenticator) = configured(extra_env);
        let deps = LeadEventsDeps {
            events: self.lead_events.clone(),
            transfers: self.calls.clone(),
            opt_outs: Some(self.opt_outs.clone()),
            queue: self.queue.clone(),
        };
        lead_events::handler::build(config, authenticator, deps)
    }

    /// The redrive on these fakes: it completes what the webhooks on them queued.
    pub fn redrive(&self, extra_env: &[(&str, &str)]) -> FakeRedrive {
        let config = RedriveConfig::from_lookup(env(extra_env)).expect("a valid test configuration");
        let deps = RedriveDeps {
            calls: self.calls.clone(),
            ledger: self.ledger.clone(),
            sms: self.sms.clone(),
            lead_events: self.lead_events.clone(),
            opt_outs: Some(self.opt_outs.clone()),
            queue: self.queue.clone(),
        };
        RedriveHandler::new(&config, deps)
    }
}
