//! The seam between Warden's moderation logic and grammers: plain ids in, [`TgError`] out.
//! `GrammersApi` (in [`super::client`]) implements it for real; tests use a recording fake.

pub use crate::model::OutgoingMessage;
use crate::model::{ChatId, Timestamp, UserId};
use grammers_client::tl;
use serde::{Deserialize, Serialize};
use std::future::Future;

/// Which of the two logins a call goes through.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    clap::ValueEnum,
)]
#[serde(rename_all = "snake_case")]
pub enum AccountKind {
    Bot,
    User,
}

impl AccountKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AccountKind::Bot => "bot",
            AccountKind::User => "user",
        }
    }

    pub fn other(self) -> AccountKind {
        match self {
            AccountKind::Bot => AccountKind::User,
            AccountKind::User => AccountKind::Bot,
        }
    }

    /// The session file's name inside the sessions directory.
    pub fn session_file(self) -> &'static str {
        match self {
            AccountKind::Bot => "bot.session",
            AccountKind::User => "user.session",
        }
    }
}

impl std::fmt::Display for AccountKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One failed Telegram call, classified once; every error-name string lives in [`TgError::from_rpc`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TgError {
    #[error("flood wait of {seconds} s")]
    FloodWait { seconds: u64 },
    /// The account lacks the admin right the call needs.
    #[error("not an admin with the needed right")]
    NotAdmin,
    /// The target is an admin (or the creator) and cannot be restricted.
    #[error("the target is an admin")]
    TargetIsAdmin,
    #[error("the user is not a member")]
    NotParticipant,
    /// Chat, user or message unknown to this account (or no access hash for it).
    #[error("{0} not found")]
    NotFound(String),
    /// Setting what is already set; callers treat it as success.
    #[error("nothing to change")]
    NotModified,
    /// The chat kind or account kind cannot do this (basic group, bot-only or user-only method).
    #[error("{0}")]
    Unsupported(String),
    #[error("the account is logged out")]
    LoggedOut,
    #[error("network: {0}")]
    Network(String),
    #[error("Telegram error {code} {name}")]
    Rpc { code: i32, name: String },
}

impl TgError {
    /// Classifies an RPC error by Telegram's code and name (digits already stripped by grammers).
    pub fn from_rpc(code: i32, name: &str, value: Option<u32>) -> TgError {
        match (code, name) {
            (420, _) | (_, "FLOOD_WAIT" | "FLOOD_PREMIUM_WAIT" | "SLOWMODE_WAIT") => {
                TgError::FloodWait {
                    seconds: u64::from(value.unwrap_or(1)).max(1),
                }
            }
            (
                _,
                "CHAT_ADMIN_REQUIRED"
                | "RIGHT_FORBIDDEN"
                | "CHAT_WRITE_FORBIDDEN"
                | "MESSAGE_DELETE_FORBIDDEN"
                | "ADMIN_RIGHTS_EMPTY",
            ) => TgError::NotAdmin,
            (_, "USER_ADMIN_INVALID" | "USER_CREATOR") => TgError::TargetIsAdmin,
            (_, "USER_NOT_PARTICIPANT") => TgError::NotParticipant,
            (_, "CHAT_NOT_MODIFIED" | "MESSAGE_NOT_MODIFIED") => TgError::NotModified,
            (
                _,
                "PEER_ID_INVALID"
                | "CHANNEL_INVALID"
                | "CHANNEL_PRIVATE"
                | "CHAT_ID_INVALID"
                | "USER_ID_INVALID"
                | "PARTICIPANT_ID_INVALID"
                | "MESSAGE_ID_INVALID"
                | "INPUT_USER_DEACTIVATED"
                | "USERNAME_NOT_OCCUPIED",
            ) => TgError::NotFound(name.to_lowercase().replace('_', " ")),
            (_, "CHAT_INVALID") => TgError::Unsupported(
                "basic groups only support full bans; upgrade the group to a supergroup".into(),
            ),
            (_, "BOT_METHOD_INVALID") => {
                TgError::Unsupported("bots cannot do this; it needs the user account".into())
            }
            (_, "USER_BOT_REQUIRED") => {
                TgError::Unsupported("only a bot can do this; it needs the bot account".into())
            }
            (401, _) | (_, "AUTH_KEY_UNREGISTERED" | "SESSION_REVOKED" | "USER_DEACTIVATED") => {
                TgError::LoggedOut
            }
            (code, _) if code >= 500 || code == -503 => TgError::Network(format!("{code} {name}")),
            (code, name) => TgError::Rpc {
                code,
                name: name.to_string(),
            },
        }
    }

    /// Worth retrying later without anyone changing anything.
    pub fn is_transient(&self) -> bool {
        matches!(self, TgError::FloodWait { .. } | TgError::Network(_))
    }
}

impl From<grammers_client::InvocationError> for TgError {
    fn from(err: grammers_client::InvocationError) -> TgError {
        use grammers_client::InvocationError as E;
        match err {
            E::Rpc(rpc) => TgError::from_rpc(rpc.code, &rpc.name, rpc.value),
            E::Dropped(why) => TgError::Network(format!("connection closed ({why})")),
            E::Io(e) => TgError::Network(e.to_string()),
            other => TgError::Network(other.to_string()),
        }
    }
}

macro_rules! banned_rights {
    ($($field:ident),* $(,)?) => {
        /// Telegram's banned rights; `true` means *forbidden*. Kept field-for-field so a snapshot
        /// restores exactly what was there.
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(default)]
        pub struct Rights {
            $(pub $field: bool,)*
        }

        impl Rights {
            pub fn to_tl(self, until_date: i32) -> tl::types::ChatBannedRights {
                tl::types::ChatBannedRights { $($field: self.$field,)* until_date }
            }

            pub fn from_tl(raw: &tl::types::ChatBannedRights) -> Rights {
                Rights { $($field: raw.$field,)* }
            }

            /// Every right forbidden in either.
            pub fn union(self, other: Rights) -> Rights {
                Rights { $($field: self.$field || other.$field,)* }
            }
        }
    };
}

banned_rights!(
    view_messages,
    send_messages,
    send_media,
    send_stickers,
    send_gifs,
    send_games,
    send_inline,
    embed_links,
    send_polls,
    change_info,
    invite_users,
    pin_messages,
    manage_topics,
    send_photos,
    send_videos,
    send_roundvideos,
    send_audios,
    send_voices,
    send_docs,
    send_plain,
    edit_rank,
    send_reactions,
    manage_linked_peers,
);

impl Rights {
    /// Nothing forbidden: lifts a ban or a mute.
    pub fn none() -> Rights {
        Rights::default()
    }

    /// Kicked out and kept out.
    pub fn ban() -> Rights {
        Rights {
            view_messages: true,
            ..Rights::read_only()
        }
    }

    /// Can read, cannot post anything.
    pub fn read_only() -> Rights {
        Rights {
            send_messages: true,
            send_plain: true,
            ..Rights::media_locked()
        }
    }

    /// Bunker mode for everybody: plain text only, no media, links, stickers, polls or invites.
    pub fn media_locked() -> Rights {
        Rights {
            send_media: true,
            send_stickers: true,
            send_gifs: true,
            send_games: true,
            send_inline: true,
            embed_links: true,
            send_polls: true,
            invite_users: true,
            send_photos: true,
            send_videos: true,
            send_roundvideos: true,
            send_audios: true,
            send_voices: true,
            send_docs: true,
            ..Rights::default()
        }
    }
}

/// The Telegram calls moderation needs, on one account. Ids are Bot-API ids; the implementation
/// finds the access hashes for its own account.
pub trait ModerationApi: Send + Sync {
    fn delete_messages(
        &self,
        chat: ChatId,
        ids: Vec<i32>,
    ) -> impl Future<Output = Result<usize, TgError>> + Send;
    /// `until` None = forever; `Rights::none()` lifts everything.
    fn restrict(
        &self,
        chat: ChatId,
        user: UserId,
        rights: Rights,
        until: Option<Timestamp>,
    ) -> impl Future<Output = Result<(), TgError>> + Send;
    fn kick(&self, chat: ChatId, user: UserId) -> impl Future<Output = Result<(), TgError>> + Send;
    /// Deletes every message of `user` in the supergroup.
    fn purge_user(
        &self,
        chat: ChatId,
        user: UserId,
    ) -> impl Future<Output = Result<(), TgError>> + Send;
    fn default_rights(&self, chat: ChatId) -> impl Future<Output = Result<Rights, TgError>> + Send;
    fn set_default_rights(
        &self,
        chat: ChatId,
        rights: Rights,
    ) -> impl Future<Output = Result<(), TgError>> + Send;
    fn slow_mode(
        &self,
        chat: ChatId,
        seconds: i32,
    ) -> impl Future<Output = Result<(), TgError>> + Send;
    /// Telegram's own aggressive anti-spam (user account with admin rights only).
    fn set_antispam(
        &self,
        chat: ChatId,
        enabled: bool,
    ) -> impl Future<Output = Result<(), TgError>> + Send;
    fn send_message(
        &self,
        chat: ChatId,
        message: OutgoingMessage,
    ) -> impl Future<Output = Result<i32, TgError>> + Send;
    /// Answers a button press: stops its spinner, with a short note to the presser (bot only).
    fn answer_button(
        &self,
        query_id: i64,
        text: Option<String>,
    ) -> impl Future<Output = Result<(), TgError>> + Send;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rpc_errors_are_classified() {
        assert_eq!(
            TgError::from_rpc(420, "FLOOD_WAIT", Some(31)),
            TgError::FloodWait { seconds: 31 }
        );
        assert_eq!(
            TgError::from_rpc(420, "SLOWMODE_WAIT", None),
            TgError::FloodWait { seconds: 1 }
        );
        assert_eq!(
            TgError::from_rpc(400, "CHAT_ADMIN_REQUIRED", None),
            TgError::NotAdmin
        );
        assert_eq!(
            TgError::from_rpc(400, "USER_ADMIN_INVALID", None),
            TgError::TargetIsAdmin
        );
        assert_eq!(
            TgError::from_rpc(401, "AUTH_KEY_UNREGISTERED", None),
            TgError::LoggedOut
        );
        assert!(TgError::from_rpc(500, "INTERNAL", None).is_transient());
        assert_eq!(
            TgError::from_rpc(400, "PEER_FLOOD", None),
            TgError::Rpc {
                code: 400,
                name: "PEER_FLOOD".into()
            }
        );
    }

    #[test]
    fn rights_round_trip_through_tl_exactly() {
        let mut r = Rights::media_locked();
        r.pin_messages = true;
        r.manage_linked_peers = true;
        let raw = r.to_tl(0);
        assert_eq!(Rights::from_tl(&raw), r);
        assert!(Rights::ban().view_messages && Rights::ban().send_messages);
        assert!(!Rights::read_only().view_messages);
        assert_eq!(
            Rights::none().union(Rights::read_only()),
            Rights::read_only()
        );
    }
}
