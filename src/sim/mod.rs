//! The simulator: a deterministic, seeded community that feeds the engine through the same seam as
//! Telegram (events in, actions out, actions take effect), with ground truth on every event and a
//! [`Scorecard`] to grade the pipeline against it.
//!
//! ```no_run
//! use warden::sim::{Scenario, Simulator};
//! use warden::sim::scenario::FaultConfig;
//! let scenario = Scenario::load("demo").unwrap();
//! let mut sim = Simulator::new(&scenario, 7);
//! let mut gateway = sim.gateway(FaultConfig::default());
//! while let Some((event, truth)) = sim.next_event() {
//!     // engine.handle(&event) -> actions; gateway.execute(&action, event.date())
//!     let _ = (event, truth, &mut gateway);
//! }
//! ```

pub mod chatter;
pub mod clock;
pub mod gateway;
pub mod rng;
pub mod run;
pub mod scenario;
pub mod score;
pub mod truth;
mod world;

pub use chatter::Chatter;
pub use clock::{Pacer, Speed};
pub use gateway::{FaultStats, Faults, SimGateway};
pub use run::{Decision, RunResult, run_scenario};
pub use scenario::{FaultConfig, Scenario, ScenarioError};
pub use score::{ScoreReport, Scorecard};
pub use truth::{Role, Truth};
pub use world::{
    AppliedAction, CHANNEL_BOT_ID, CaptchaTally, ChatStatus, SimItem, Suppressed, url_entities,
};

use crate::model::{ChatId, Event, MessageId, Timestamp, UserId};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use world::World;

/// A running simulation. Events come out in simulated-time order; actions sent through its
/// [`SimGateway`]s change what comes out next.
pub struct Simulator {
    world: Arc<Mutex<World>>,
    scenario_name: String,
}

impl Simulator {
    /// Same scenario and seed → the same event stream (as long as the same actions come back).
    pub fn new(scenario: &Scenario, seed: u64) -> Simulator {
        Simulator::with_chatter(scenario, seed, Chatter::new())
    }

    /// With a custom text generator (e.g. after `Chatter::add_ham` with the shipped ham samples).
    pub fn with_chatter(scenario: &Scenario, seed: u64, chatter: Chatter) -> Simulator {
        Simulator {
            world: Arc::new(Mutex::new(World::new(scenario, seed, chatter))),
            scenario_name: scenario.name.clone(),
        }
    }

    fn world(&self) -> std::sync::MutexGuard<'_, World> {
        self.world.lock().expect("sim world lock")
    }

    pub fn scenario_name(&self) -> &str {
        &self.scenario_name
    }

    /// The next event and its ground truth; `None` once the scenario's duration is over.
    pub fn next_event(&mut self) -> Option<(Event, Truth)> {
        self.world().next_event()
    }

    /// The next event or press of one of Warden's buttons; `None` once the run is over.
    pub fn next_item(&mut self) -> Option<SimItem> {
        self.world().next_item()
    }

    /// How the join captcha went so far, by ground truth.
    pub fn captcha_tally(&self) -> CaptchaTally {
        self.world().captcha.clone()
    }

    /// A gateway into this simulation with its own fault injection (seeded from the run's seed).
    pub fn gateway(&self, faults: FaultConfig) -> SimGateway {
        let (start, seed) = {
            let w = self.world();
            (w.start, w.seed)
        };
        SimGateway {
            world: Arc::clone(&self.world),
            faults: Faults::new(faults, start, seed),
        }
    }

    /// Simulated time of the latest event.
    pub fn now(&self) -> Timestamp {
        self.world().now
    }

    pub fn start(&self) -> Timestamp {
        self.world().start
    }

    pub fn end(&self) -> Timestamp {
        self.world().end
    }

    pub fn events_emitted(&self) -> u64 {
        self.world().events_out
    }

    pub fn chats(&self) -> Vec<ChatStatus> {
        self.world().status()
    }

    pub fn is_deleted(&self, chat_id: ChatId, message_id: MessageId) -> bool {
        self.world().is_deleted(chat_id, message_id)
    }

    /// Planned messages that actions stopped, by cause.
    pub fn suppressed(&self) -> Suppressed {
        self.world().suppressed.clone()
    }

    /// Every action accepted so far, across all gateways.
    pub fn applied_actions(&self) -> Vec<AppliedAction> {
        self.world().applied.clone()
    }

    /// The true role of every simulated account (channels by their negative id).
    pub fn roles(&self) -> BTreeMap<UserId, Role> {
        self.world().roles()
    }
}

impl Iterator for Simulator {
    type Item = (Event, Truth);

    fn next(&mut self) -> Option<(Event, Truth)> {
        self.next_event()
    }
}
