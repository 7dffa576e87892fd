//! The lead-events webhook: the lead-event work (`leads::recorder`) behind the shared intake, and on the fallback
//! queue when DynamoDB fails (`webhook::fallback::QueueingWebhook`).

use crate::config::LeadEventsConfig;
use calls::transfer::TransferStore;
use leads::event::LeadEventStore;
use leads::recorder::{LeadEventRecorder, LeadPorts};
use std::time::Duration;
use webhook::auth::Authenticator;
use webhook::budget;
use webhook::fallback::{FallbackQueue, QueueingWebhook};
use webhook::opt_out::OptOutWriter;
use webhook::pipeline::Intake;

/// The slowest delivery the webhook answers: the token re-read, the listing and the store failing at their
/// timeouts, then the fallback queue.
pub const WORST_CASE: Duration = budget::calls(3, 1);

/// What lead-events talks to: the lead-events table, the calls table (transfers), the suppression list (unless
/// disabled), the fallback queue.
#[derive(Debug, Clone, Default)]
pub struct LeadEventsDeps<E, T, W, Q> {
    pub events: E,
    pub transfers: T,
    pub opt_outs: Option<W>,
    pub queue: Q,
}

/// The lead-events webhook.
pub type LeadEventsHandler<E, T, W, Q> = QueueingWebhook<LeadEventRecorder<E, T, W>, Q>;

/// lead-events' webhook on `deps`.
pub fn build<E: LeadEventStore, T: TransferStore, W: OptOutWriter, Q: FallbackQueue>(
    config: LeadEventsConfig,
    authenticator: Authenticator,
    deps: LeadEventsDeps<E, T, W, Q>,
) -> LeadEventsHandler<E, T, W, Q> {
    let LeadEventsDeps { events, transfers, opt_outs, queue } = deps;
    let ports = LeadPorts { events, transfers, opt_outs };
    let recorder = LeadEventRecorder::new(&config.common.data, &config.own.leads, ports);
    QueueingWebhook::new(Intake::new(authenticator, config.common), recorder, queue)
}
