//! The action vocabulary and the gateway seam every action goes out through (Telegram, the simulator,
//! or a test fake). Policy decides actions; the executor takes them from the store's outbox and hands
//! them to a [`Gateway`].

use crate::model::{ButtonPress, ChatId, MessageId, OutgoingMessage, Timestamp, UserId};
use serde::{Deserialize, Serialize};

/// What can be done. Durations are seconds; `None` for a ban means permanent.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum ActionKind {
    /// Delete one message, with a notice where the policy says so.
    Delete,
    /// Delete one message without any notice.
    DeleteSilently,
    /// Delete every recent message of a user in a chat.
    Purge,
    Warn,
    Strike,
    Mute {
        seconds: u64,
    },
    /// Restrict to read-only until lifted (soft-ban mode uses this instead of ban).
    Restrict,
    Kick,
    Ban {
        seconds: Option<u64>,
    },
    Unban,
    /// Lift a mute or restriction.
    Unrestrict,
    Trust,
    LabelSpam,
    LabelHam,
    RaidAlert,
    BunkerOn,
    BunkerOff,
    /// Only admins may post.
    LockdownOn,
    LockdownOff,
    /// 0 turns slow mode off.
    SlowMode {
        seconds: u64,
    },
    NotifyAdmin,
    /// Telegram's own aggressive anti-spam for the chat (needs the user account as admin).
    AntiSpamOn,
    AntiSpamOff,
    /// The user's new messages vanish as they arrive; nothing is shown to them.
    ShadowMute,
    /// At most one message per `minutes`; extra ones are deleted silently.
    Throttle {
        minutes: u64,
    },
}

impl ActionKind {
    /// Stable snake_case name, used in the store, rules and audit log.
    pub fn name(&self) -> &'static str {
        match self {
            ActionKind::Delete => "delete",
            ActionKind::DeleteSilently => "delete_silently",
            ActionKind::Purge => "purge",
            ActionKind::Warn => "warn",
            ActionKind::Strike => "strike",
            ActionKind::Mute { .. } => "mute",
            ActionKind::Restrict => "restrict",
            ActionKind::Kick => "kick",
            ActionKind::Ban { .. } => "ban",
            ActionKind::Unban => "unban",
            ActionKind::Unrestrict => "unrestrict",
            ActionKind::Trust => "trust",
            ActionKind::LabelSpam => "label_spam",
            ActionKind::LabelHam => "label_ham",
            ActionKind::RaidAlert => "raid_alert",
            ActionKind::BunkerOn => "bunker_on",
            ActionKind::BunkerOff => "bunker_off",
            ActionKind::LockdownOn => "lockdown_on",
            ActionKind::LockdownOff => "lockdown_off",
            ActionKind::SlowMode { .. } => "slow_mode",
            ActionKind::NotifyAdmin => "notify_admin",
            ActionKind::AntiSpamOn => "antispam_on",
            ActionKind::AntiSpamOff => "antispam_off",
            ActionKind::ShadowMute => "shadow_mute",
            ActionKind::Throttle { .. } => "throttle",
        }
    }

    /// Actions a moderator must confirm in the console, and that bans-on-strong-evidence protects.
    pub fn is_destructive(&self) -> bool {
        matches!(
            self,
            ActionKind::Purge
                | ActionKind::Kick
                | ActionKind::Ban { .. }
                | ActionKind::Mute { .. }
                | ActionKind::Restrict
                | ActionKind::BunkerOn
                | ActionKind::LockdownOn
                | ActionKind::ShadowMute
        )
    }

    /// Actions that reach Telegram (the rest only change Warden's own records).
    pub fn goes_out(&self) -> bool {
        !matches!(
            self,
            ActionKind::Strike
                | ActionKind::Trust
                | ActionKind::LabelSpam
                | ActionKind::LabelHam
                | ActionKind::ShadowMute
                | ActionKind::Throttle { .. }
        )
    }
}

/// Who caused an action: shown in the console and kept in the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "by", content = "name")]
pub enum Actor {
    Rule(String),
    Moderator(String),
    System,
}

impl std::fmt::Display for Actor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Actor::Rule(name) => write!(f, "rule:{name}"),
            Actor::Moderator(name) => write!(f, "mod:{name}"),
            Actor::System => f.write_str("system"),
        }
    }
}

/// One action as it goes to a gateway.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Action {
    pub kind: ActionKind,
    pub chat_id: ChatId,
    #[serde(default)]
    pub user_id: Option<UserId>,
    #[serde(default)]
    pub message_id: Option<MessageId>,
    pub reason: String,
    pub requested_by: Actor,
    /// Unique per intended effect, so a resumed action is carried out once.
    pub idempotency_key: String,
}

/// Why a gateway could not carry out an action, in words a moderator understands.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GatewayError {
    /// Telegram asked us to wait; retry after that many seconds.
    #[error("Telegram asks to wait {seconds} s before the next request")]
    FloodWait { seconds: u64 },
    /// Worth retrying later (network, disconnect, server hiccup).
    #[error("temporary failure: {0}")]
    Transient(String),
    /// Retrying cannot help (not an admin, user not found, message gone).
    #[error("{0}")]
    Permanent(String),
}

/// Where actions take effect.
pub trait Gateway: Send {
    /// Carry out one action. Must be idempotent for the same `idempotency_key`.
    fn execute(&mut self, action: &Action, now: Timestamp) -> Result<(), GatewayError>;
}

/// Warden's own short-lived messages (captcha challenges) and answers to its buttons: done at
/// once, not through the outbox — a lost one is asked again, not owed.
pub trait Poster {
    fn post(
        &mut self,
        chat: ChatId,
        message: OutgoingMessage,
        now: Timestamp,
    ) -> Result<MessageId, GatewayError>;

    fn unpost(
        &mut self,
        chat: ChatId,
        message: MessageId,
        now: Timestamp,
    ) -> Result<(), GatewayError>;

    /// A short note to whoever pressed one of Warden's buttons (empty: just acknowledge it).
    fn answer(
        &mut self,
        press: &ButtonPress,
        text: &str,
        now: Timestamp,
    ) -> Result<(), GatewayError>;
}
