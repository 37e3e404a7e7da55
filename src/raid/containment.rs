//! Per-chat containment modes (normal, slow, bunker, lockdown), the actions that switch between
//! them, and the memory of which mode to restore when an emergency mode is released.

use crate::action::ActionKind;
use crate::model::{ChatId, Timestamp};
use serde::{Deserialize, Serialize};

/// Slow-mode delays Telegram accepts, in seconds.
pub const SLOW_MODE_STEPS: [u64; 6] = [10, 30, 60, 300, 900, 3600];

/// How tightly a chat is closed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Containment {
    #[default]
    Normal,
    /// Telegram slow mode: one message per `seconds` per member.
    Slow { seconds: u64 },
    /// New joiners restricted and non-trusted members cannot post.
    Bunker,
    /// Only admins post.
    Lockdown,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ContainmentError {
    #[error("slow mode of {0} s is not one Telegram offers (10, 30, 60, 300, 900 or 3600)")]
    BadSlowMode(u64),
}

impl Containment {
    /// Slow mode with a delay Telegram accepts.
    pub fn slow(seconds: u64) -> Result<Self, ContainmentError> {
        if SLOW_MODE_STEPS.contains(&seconds) {
            Ok(Containment::Slow { seconds })
        } else {
            Err(ContainmentError::BadSlowMode(seconds))
        }
    }

    /// Bunker and lockdown are emergency modes that remember what to restore; normal and slow are
    /// the chat's resting settings.
    pub fn is_emergency(self) -> bool {
        matches!(self, Containment::Bunker | Containment::Lockdown)
    }

    /// Ordering by how closed the chat is.
    pub fn severity(self) -> u8 {
        match self {
            Containment::Normal => 0,
            Containment::Slow { .. } => 1,
            Containment::Bunker => 2,
            Containment::Lockdown => 3,
        }
    }

    pub fn name(self) -> String {
        match self {
            Containment::Normal => "normal".into(),
            Containment::Slow { seconds } => format!("slow {seconds}s"),
            Containment::Bunker => "bunker".into(),
            Containment::Lockdown => "lockdown".into(),
        }
    }

    /// Actions that put a chat from normal into this mode.
    pub fn enter_actions(self) -> Vec<ActionKind> {
        match self {
            Containment::Normal => vec![],
            Containment::Slow { seconds } => vec![ActionKind::SlowMode { seconds }],
            Containment::Bunker => vec![ActionKind::BunkerOn],
            Containment::Lockdown => vec![ActionKind::LockdownOn],
        }
    }

    /// Actions that bring a chat from this mode back to normal.
    pub fn leave_actions(self) -> Vec<ActionKind> {
        match self {
            Containment::Normal => vec![],
            Containment::Slow { .. } => vec![ActionKind::SlowMode { seconds: 0 }],
            Containment::Bunker => vec![ActionKind::BunkerOff],
            Containment::Lockdown => vec![ActionKind::LockdownOff],
        }
    }
}

/// Who put a chat into an emergency mode: raids release it themselves, moderators do by hand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "by")]
pub enum EngagedBy {
    Raid { raid_id: u64 },
    Moderator,
}

/// One mode change, with the actions that carry it out in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContainmentChange {
    pub chat: ChatId,
    pub from: Containment,
    pub to: Containment,
    pub actions: Vec<ActionKind>,
    pub reason: String,
    pub at: Timestamp,
}

/// A chat's current mode and the resting mode an emergency mode returns to.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContainmentState {
    pub mode: Containment,
    /// The resting mode (normal or slow) that releasing restores exactly.
    pub restore_to: Containment,
    pub engaged_by: Option<EngagedBy>,
    pub since: Timestamp,
}

/// What Telegram actually has set: slow mode is a chat setting that stays on under an emergency mode.
fn effective(mode: Containment, resting: Containment) -> (u64, Option<Containment>) {
    let slow = match resting {
        Containment::Slow { seconds } => seconds,
        _ => 0,
    };
    if mode.is_emergency() {
        (slow, Some(mode))
    } else {
        (slow, None)
    }
}

impl ContainmentState {
    /// Start from a chat's known resting mode (e.g. loaded from the store).
    pub fn resting(mode: Containment, since: Timestamp) -> Self {
        let mode = if mode.is_emergency() {
            Containment::Normal
        } else {
            mode
        };
        ContainmentState {
            mode,
            restore_to: mode,
            engaged_by: None,
            since,
        }
    }

    fn resting_mode(&self) -> Containment {
        if self.mode.is_emergency() {
            self.restore_to
        } else {
            self.mode
        }
    }

    fn apply(
        &mut self,
        chat: ChatId,
        to: Containment,
        resting: Containment,
        engaged_by: Option<EngagedBy>,
        now: Timestamp,
        reason: String,
    ) -> Option<ContainmentChange> {
        let (slow_from, emergency_from) = effective(self.mode, self.resting_mode());
        let (slow_to, emergency_to) = effective(to, resting);
        let from = self.mode;
        self.mode = to;
        self.restore_to = resting;
        self.engaged_by = engaged_by;
        if from == to && slow_from == slow_to {
            return None;
        }
        self.since = now;
        let mut actions = Vec::new();
        if emergency_from != emergency_to {
            // Close the new gate before opening the old one so the chat is never open in between.
            if let Some(mode) = emergency_to {
                actions.extend(mode.enter_actions());
            }
            if let Some(mode) = emergency_from {
                actions.extend(mode.leave_actions());
            }
        }
        if slow_from != slow_to {
            actions.push(ActionKind::SlowMode { seconds: slow_to });
        }
        Some(ContainmentChange {
            chat,
            from,
            to,
            actions,
            reason,
            at: now,
        })
    }

    /// Enter an emergency mode (or a stricter one), remembering the resting mode.
    pub fn engage(
        &mut self,
        chat: ChatId,
        to: Containment,
        by: EngagedBy,
        now: Timestamp,
        reason: impl Into<String>,
    ) -> Option<ContainmentChange> {
        if !to.is_emergency() {
            return self.set(chat, to, now, reason);
        }
        let resting = self.resting_mode();
        self.apply(chat, to, resting, Some(by), now, reason.into())
    }

    /// A moderator's choice: a resting mode replaces the remembered one, an emergency mode is engaged.
    pub fn set(
        &mut self,
        chat: ChatId,
        to: Containment,
        now: Timestamp,
        reason: impl Into<String>,
    ) -> Option<ContainmentChange> {
        if to.is_emergency() {
            return self.engage(chat, to, EngagedBy::Moderator, now, reason);
        }
        self.apply(chat, to, to, None, now, reason.into())
    }

    /// Leave the emergency mode and restore the resting mode exactly. `None` when not engaged.
    pub fn release(
        &mut self,
        chat: ChatId,
        now: Timestamp,
        reason: impl Into<String>,
    ) -> Option<ContainmentChange> {
        self.engaged_by?;
        let resting = self.restore_to;
        self.apply(chat, resting, resting, None, now, reason.into())
    }
}
