//! Prometheus metrics for `warden daemon --metrics ADDR`. Recording is cheap and a no-op until
//! [`serve`] installs the exporter, so the pipeline's callers record unconditionally.

use crate::app::pipeline::Outcome;
use crate::model::Event;
use crate::policy::RunReport;
use anyhow::{Context, Result};
use metrics::{counter, histogram};
use std::net::SocketAddr;
use std::time::Duration;

/// Starts the exporter's HTTP listener on `addr` (`GET /metrics`); it runs on its own thread.
pub fn serve(addr: SocketAddr) -> Result<()> {
    metrics_exporter_prometheus::PrometheusBuilder::new()
        .with_http_listener(addr)
        .set_quantiles(&[0.5, 0.99])
        .context("bad quantiles")?
        .install()
        .with_context(|| format!("cannot serve metrics on {addr}"))
}

/// One event through the pipeline: messages, check latency, flagged, raids, actions by kind.
pub fn event_handled(event: &Event, outcome: &Outcome, took: Duration) {
    if matches!(event, Event::Message(_) | Event::Edited(_)) {
        counter!("warden_messages_total").increment(1);
        histogram!("warden_check_seconds").record(took.as_secs_f64());
        if outcome.flagged() {
            counter!("warden_flagged_total").increment(1);
        }
    }
    for signal in &outcome.raid_signals {
        if matches!(signal, crate::raid::RaidSignal::RaidStarted { .. }) {
            counter!("warden_raids_total").increment(1);
        }
    }
    if let Some(decision) = &outcome.decision {
        for planned in decision.planned.iter().filter(|p| !p.dry_run) {
            let kind = planned.action.kind.name();
            counter!("warden_actions_total", "kind" => kind).increment(1);
        }
    }
}

/// One executor pass: how many actions failed or will be retried.
pub fn executor_ran(report: &RunReport) {
    counter!("warden_action_errors_total", "outcome" => "failed").increment(report.failed as u64);
    counter!("warden_action_errors_total", "outcome" => "retried").increment(report.retried as u64);
}

/// A message Warden flagged that a moderator labelled ham: a false positive.
pub fn flagged_then_ham() {
    counter!("warden_flagged_then_ham_total").increment(1);
}
