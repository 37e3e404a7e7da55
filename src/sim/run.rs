//! A headless run: scenario → pipeline → gateway → scorecard, for `warden simulate` and tests.

use crate::action::{Action, Gateway, GatewayError};
use crate::model::{ChatId, Event, MessageId, UserId};
use crate::sim::scenario::{FaultConfig, Scenario};
use crate::sim::score::{ScoreReport, Scorecard};
use crate::sim::world::Suppressed;
use crate::sim::{FaultStats, Simulator};

/// What the pipeline decided about one event.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Judged spam (also implied by a delete action).
    Flag {
        chat_id: ChatId,
        message_id: MessageId,
    },
    /// An action to carry out (raid alerts, bunker and punitive actions are scored from these).
    Act(Action),
    /// The clusters the detector reports now (the last one given is scored).
    Clusters(Vec<Vec<UserId>>),
}

#[derive(Debug, Clone)]
pub struct RunResult {
    pub report: ScoreReport,
    /// Actions the gateway refused (after fault injection), with why. One attempt each.
    pub failed: Vec<(Action, GatewayError)>,
    pub faults: FaultStats,
    pub suppressed: Suppressed,
}

/// Run `scenario` with `seed` to its end, handing every event to `pipeline` and its actions to the
/// simulator's gateway at the event's time.
pub fn run_scenario(
    scenario: &Scenario,
    seed: u64,
    faults: FaultConfig,
    mut pipeline: impl FnMut(&Event) -> Vec<Decision>,
) -> RunResult {
    let mut sim = Simulator::new(scenario, seed);
    let mut gateway = sim.gateway(faults);
    let mut card = Scorecard::new(&scenario.name, seed);
    let mut failed = Vec::new();
    while let Some((event, truth)) = sim.next_event() {
        card.observe(&event, &truth);
        let now = event.date();
        for decision in pipeline(&event) {
            match decision {
                Decision::Flag {
                    chat_id,
                    message_id,
                } => card.flag(chat_id, message_id),
                Decision::Clusters(clusters) => card.clusters(clusters),
                Decision::Act(action) => {
                    card.action(&action, now);
                    if let Err(err) = gateway.execute(&action, now) {
                        failed.push((action, err));
                    }
                }
            }
        }
    }
    RunResult {
        report: card.report(),
        failed,
        faults: gateway.fault_stats(),
        suppressed: sim.suppressed(),
    }
}
