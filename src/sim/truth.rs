//! Ground truth: what the simulator knows about every event it produces.

use crate::model::UserId;
use crate::sim::scenario::Tactic;
use serde::{Deserialize, Serialize};

/// Who the subject of an event really is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Regular,
    Newcomer,
    Lurker,
    Spammer,
    Raider,
    RingMember,
    /// A human admin of the chat (not Warden).
    Admin,
    /// No person: the chat itself (ChatSeen).
    System,
}

impl Role {
    /// Legitimate members: acting on them is a mistake.
    pub fn is_legit(self) -> bool {
        matches!(
            self,
            Role::Regular | Role::Newcomer | Role::Lurker | Role::Admin
        )
    }

    pub fn name(self) -> &'static str {
        match self {
            Role::Regular => "regular",
            Role::Newcomer => "newcomer",
            Role::Lurker => "lurker",
            Role::Spammer => "spammer",
            Role::Raider => "raider",
            Role::RingMember => "ring_member",
            Role::Admin => "admin",
            Role::System => "system",
        }
    }
}

/// Ground truth of one event. For messages and edits `spam` says whether this version is spam; for
/// joins, leaves and bans it is false and `role`/`user_id` describe the subject.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Truth {
    pub spam: bool,
    pub role: Role,
    /// The subject: the sender (a channel's id when posting as a channel), the joiner, the banned.
    pub user_id: Option<UserId>,
    pub raid_id: Option<u32>,
    pub ring_id: Option<u32>,
    /// Set for evasion accounts.
    pub tactic: Option<Tactic>,
}

impl Truth {
    pub fn system() -> Truth {
        Truth {
            spam: false,
            role: Role::System,
            user_id: None,
            raid_id: None,
            ring_id: None,
            tactic: None,
        }
    }
}
