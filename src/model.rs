//! Events that every source (Telegram, simulator, export replay) turns into, and that the engine,
//! policy, raid and cluster detectors consume. Plain data: no I/O, no Telegram types.

use serde::{Deserialize, Serialize};

pub type ChatId = i64;
pub type UserId = i64;
pub type MessageId = i64;
/// Unix time in seconds (UTC). Real or simulated: nothing in the engine reads the wall clock.
pub type Timestamp = i64;

/// Seconds since the Unix epoch by the wall clock (0 if the clock is before 1970).
pub fn unix_now() -> Timestamp {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as Timestamp)
        .unwrap_or(0)
}

/// Who sent a message or joined: what Telegram tells a bot about a user.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    pub id: UserId,
    pub first_name: String,
    #[serde(default)]
    pub last_name: Option<String>,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub is_bot: bool,
    #[serde(default)]
    pub is_premium: bool,
    /// `None` when the source cannot tell (bots see no profile photos of strangers).
    #[serde(default)]
    pub has_photo: Option<bool>,
    /// Only the user account can read bios; `None` when unknown.
    #[serde(default)]
    pub bio: Option<String>,
    /// A hash of the profile photo's tiny preview, where Telegram sends one: accounts of a ring
    /// often share the same picture.
    #[serde(default)]
    pub avatar_hash: Option<u64>,
}

impl Person {
    pub fn display_name(&self) -> String {
        match &self.last_name {
            Some(last) if !last.is_empty() => format!("{} {}", self.first_name, last),
            _ => self.first_name.clone(),
        }
    }
}

/// Telegram message entity. Offsets and lengths are in UTF-16 code units, as Telegram sends them;
/// they may be wrong or point outside the text, and every consumer must cope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entity {
    pub kind: EntityKind,
    pub offset: u32,
    pub length: u32,
    /// Target of a `TextUrl` (hidden link), or the user id of a `MentionName` as text.
    #[serde(default)]
    pub url: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntityKind {
    Url,
    TextUrl,
    Mention,
    MentionName,
    Hashtag,
    Cashtag,
    BotCommand,
    Email,
    Phone,
    Bold,
    Italic,
    Underline,
    Strike,
    Spoiler,
    Code,
    Pre,
    Blockquote,
    CustomEmoji,
    Other,
}

/// An inline keyboard button under a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Button {
    pub text: String,
    #[serde(default)]
    pub url: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MediaKind {
    #[default]
    None,
    Photo,
    Video,
    Animation,
    Document,
    Audio,
    Voice,
    VideoNote,
    Sticker,
    Contact,
    Location,
    Poll,
    Story,
    Giveaway,
    Other,
}

/// Where a forwarded message came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Forward {
    /// True when forwarded from a channel (the classic spam funnel).
    pub from_channel: bool,
    #[serde(default)]
    pub from_id: Option<i64>,
    #[serde(default)]
    pub from_name: Option<String>,
}

/// A chat a message was posted as (anonymous admin or a linked channel).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SenderChat {
    pub id: ChatId,
    pub title: String,
    #[serde(default)]
    pub username: Option<String>,
}

/// One message as every source delivers it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    pub chat_id: ChatId,
    pub id: MessageId,
    pub date: Timestamp,
    pub from: Person,
    #[serde(default)]
    pub text: String,
    #[serde(default)]
    pub entities: Vec<Entity>,
    #[serde(default)]
    pub buttons: Vec<Button>,
    #[serde(default)]
    pub forward: Option<Forward>,
    #[serde(default)]
    pub sender_chat: Option<SenderChat>,
    #[serde(default)]
    pub media: MediaKind,
    /// A reply whose original lives in another chat (a common way to smuggle ads).
    #[serde(default)]
    pub reply_to_other_chat: bool,
    /// The message this one replies to, in the same chat (admin-chat commands answer reports).
    #[serde(default)]
    pub reply_to: Option<MessageId>,
    /// Set on the edited version of a message: it is checked again.
    #[serde(default)]
    pub edited: bool,
}

impl Message {
    /// Who speaks: the channel or group a message was posted as, else its sender. The Bot API and
    /// Telegram's exports send every channel post from one stand-in account (Channel_Bot), so
    /// per-sender state, trust and actions keyed on `from` would lump all channels together.
    pub fn author(&self) -> std::borrow::Cow<'_, Person> {
        match &self.sender_chat {
            Some(chat) if chat.id != self.from.id => std::borrow::Cow::Owned(Person {
                id: chat.id,
                first_name: chat.title.clone(),
                username: chat.username.clone(),
                ..Person::default()
            }),
            _ => std::borrow::Cow::Borrowed(&self.from),
        }
    }

    /// The id of [`Message::author`].
    pub fn author_id(&self) -> UserId {
        self.sender_chat
            .as_ref()
            .map_or(self.from.id, |chat| chat.id)
    }
}

/// How somebody came into a chat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "how")]
pub enum JoinKind {
    /// Pressed join on a public chat.
    Direct,
    /// Added by a member.
    AddedBy { by: UserId },
    /// Came through an invite link, created by `inviter` when known.
    InviteLink {
        link: String,
        #[serde(default)]
        inviter: Option<UserId>,
    },
    /// Join request approved by an admin.
    Request {
        #[serde(default)]
        approved_by: Option<UserId>,
    },
}

/// Everything that happens in a watched chat, in the order it happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "event")]
pub enum Event {
    Message(Message),
    Edited(Message),
    Deleted {
        chat_id: ChatId,
        ids: Vec<MessageId>,
        date: Timestamp,
    },
    Joined {
        chat_id: ChatId,
        user: Person,
        date: Timestamp,
        how: JoinKind,
    },
    Left {
        chat_id: ChatId,
        user_id: UserId,
        date: Timestamp,
    },
    /// Another admin (not Warden) banned or restricted somebody: a label candidate.
    RestrictedByAdmin {
        chat_id: ChatId,
        user_id: UserId,
        admin_id: UserId,
        date: Timestamp,
        banned: bool,
        #[serde(default)]
        until: Option<Timestamp>,
    },
    /// The chat's title or kind as a source first sees it.
    ChatSeen {
        chat_id: ChatId,
        title: String,
        kind: ChatKind,
        date: Timestamp,
    },
}

impl Event {
    pub fn date(&self) -> Timestamp {
        match self {
            Event::Message(m) | Event::Edited(m) => m.date,
            Event::Deleted { date, .. }
            | Event::Joined { date, .. }
            | Event::Left { date, .. }
            | Event::RestrictedByAdmin { date, .. }
            | Event::ChatSeen { date, .. } => *date,
        }
    }

    pub fn chat_id(&self) -> ChatId {
        match self {
            Event::Message(m) | Event::Edited(m) => m.chat_id,
            Event::Deleted { chat_id, .. }
            | Event::Joined { chat_id, .. }
            | Event::Left { chat_id, .. }
            | Event::RestrictedByAdmin { chat_id, .. }
            | Event::ChatSeen { chat_id, .. } => *chat_id,
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChatKind {
    #[default]
    Supergroup,
    Group,
    Channel,
    Private,
}

impl ChatKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ChatKind::Supergroup => "supergroup",
            ChatKind::Group => "group",
            ChatKind::Channel => "channel",
            ChatKind::Private => "private",
        }
    }
}

/// An inline button under one of Warden's own messages was pressed (admin report, captcha).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ButtonPress {
    pub chat_id: ChatId,
    pub message_id: MessageId,
    pub user_id: UserId,
    pub data: String,
    pub date: Timestamp,
    /// Telegram's id for answering the press (stops the button's spinner); 0 when none.
    pub query_id: i64,
}

/// A message Warden posts (admin chat reports, captcha challenges, warnings).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutgoingMessage {
    pub text: String,
    /// Rows of (label, callback data ≤ 64 bytes).
    pub buttons: Vec<Vec<(String, String)>>,
    pub reply_to: Option<i32>,
}

/// One member as a chat's member list shows them, with Telegram's own join date (the creator
/// has none) and, where Telegram says, who added them.
#[derive(Debug, Clone, PartialEq)]
pub struct ListedMember {
    pub person: Person,
    pub joined_at: Option<Timestamp>,
    pub inviter: Option<UserId>,
}
