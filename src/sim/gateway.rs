//! The simulator's side of the action seam: actions change the simulated chats, after fault
//! injection decides whether the call "reached Telegram".

use crate::action::{Action, Gateway, GatewayError, Poster};
use crate::model::{ButtonPress, ChatId, MessageId, OutgoingMessage, Timestamp};
use crate::sim::rng::Rng;
use crate::sim::scenario::FaultConfig;
use crate::sim::world::{AppliedAction, World};
use serde::{Deserialize, Serialize};
use std::sync::{Arc, Mutex};

/// What fault injection did, for tests and reports.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultStats {
    pub calls: u64,
    pub ok: u64,
    pub transient: u64,
    pub permanent: u64,
    pub flood_waits: u64,
    pub disconnected: u64,
}

/// Decides, deterministically by seed, whether a call fails.
#[derive(Debug, Clone)]
pub struct Faults {
    config: FaultConfig,
    start: Timestamp,
    rng: Rng,
    flood_until: Option<Timestamp>,
    pub stats: FaultStats,
}

impl Faults {
    /// `start` anchors the disconnect windows (`at_minute` counts from it).
    pub fn new(config: FaultConfig, start: Timestamp, seed: u64) -> Faults {
        Faults {
            config,
            start,
            rng: Rng::derive(seed, "faults"),
            flood_until: None,
            stats: FaultStats::default(),
        }
    }

    pub fn none() -> Faults {
        Faults::new(FaultConfig::default(), 0, 0)
    }

    /// Whether `now` falls in a disconnect window.
    pub fn disconnected_at(&self, now: Timestamp) -> bool {
        self.config.disconnects.iter().any(|d| {
            let from = self.start + (d.at_minute * 60.0).round() as i64;
            (from..from + d.seconds as i64).contains(&now)
        })
    }

    /// `Ok` when the call goes through.
    pub fn check(&mut self, now: Timestamp) -> Result<(), GatewayError> {
        self.stats.calls += 1;
        if self.disconnected_at(now) {
            self.stats.disconnected += 1;
            return Err(GatewayError::Transient(
                "disconnected from Telegram (simulated)".into(),
            ));
        }
        if let Some(until) = self.flood_until {
            if now < until {
                self.stats.flood_waits += 1;
                return Err(GatewayError::FloodWait {
                    seconds: (until - now) as u64,
                });
            }
            self.flood_until = None;
        }
        // One draw per call keeps the fault stream independent of which branch fires.
        let draw = self.rng.unit();
        let c = &self.config;
        if draw < c.flood_wait_rate {
            self.stats.flood_waits += 1;
            self.flood_until = Some(now + c.flood_wait_seconds as i64);
            return Err(GatewayError::FloodWait {
                seconds: c.flood_wait_seconds,
            });
        }
        if draw < c.flood_wait_rate + c.failure_rate {
            self.stats.transient += 1;
            return Err(GatewayError::Transient(
                "request timed out (simulated)".into(),
            ));
        }
        if draw < c.flood_wait_rate + c.failure_rate + c.permanent_failure_rate {
            self.stats.permanent += 1;
            return Err(GatewayError::Permanent(
                "CHAT_ADMIN_REQUIRED (simulated)".into(),
            ));
        }
        Ok(())
    }
}

/// Actions into the simulated community. Clone-free handle; several may exist for one simulator.
pub struct SimGateway {
    pub(crate) world: Arc<Mutex<World>>,
    pub faults: Faults,
}

impl SimGateway {
    /// Every action the simulated Telegram accepted, in order (each idempotency key once).
    pub fn applied(&self) -> Vec<AppliedAction> {
        self.world().applied.clone()
    }

    fn world(&self) -> std::sync::MutexGuard<'_, World> {
        self.world.lock().expect("sim world lock")
    }

    pub fn fault_stats(&self) -> FaultStats {
        self.faults.stats.clone()
    }
}

impl Gateway for SimGateway {
    fn execute(&mut self, action: &Action, now: Timestamp) -> Result<(), GatewayError> {
        self.faults.check(now)?;
        let result = self.world().apply(action, now);
        match &result {
            Ok(()) => self.faults.stats.ok += 1,
            Err(_) => self.faults.stats.permanent += 1,
        }
        result
    }
}

/// Warden's own messages reach the simulated chat (after the same fault injection as actions).
impl Poster for SimGateway {
    fn post(
        &mut self,
        chat: ChatId,
        message: OutgoingMessage,
        now: Timestamp,
    ) -> Result<MessageId, GatewayError> {
        self.faults.check(now)?;
        self.world().post_as_warden(chat, &message, now)
    }

    fn unpost(
        &mut self,
        chat: ChatId,
        message: MessageId,
        now: Timestamp,
    ) -> Result<(), GatewayError> {
        self.faults.check(now)?;
        self.world().unpost_as_warden(chat, message)
    }

    /// Simulated people do not read button notes.
    fn answer(&mut self, _: &ButtonPress, _: &str, _: Timestamp) -> Result<(), GatewayError> {
        Ok(())
    }
}
