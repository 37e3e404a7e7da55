//! Reading real history: Telegram Desktop's "Export chat history" JSON (`result.json`), streamed one
//! message at a time so a 1 GB export never sits in memory, mapped to [`model::Event`]s in time
//! order. And [`samples`]: spam/ham sample files in and out.
//!
//! Time order: exports list messages by id, which is Telegram's order. Events go out in file order;
//! a date earlier than the previous one is counted in [`ImportStats::out_of_order`], not reordered.
//! Edits are the exception: an edited message goes out as a `Message` at its date and an `Edited`
//! at its edit time, held back (in a small heap) until the stream reaches that time.
//!
//! [`model::Event`]: crate::model::Event

pub mod samples;

use crate::model::{
    Button, ChatId, ChatKind, Entity, EntityKind, Event, Forward, JoinKind, MediaKind, Message,
    Person, SenderChat, Timestamp, UserId,
};
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use std::cell::Cell;
use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap};
use std::fmt;
use std::io::{BufReader, Read};
use std::path::Path;
use std::rc::Rc;

/// Ids handed to people known only by display name (invite/removal lists): far above real ids.
pub const SYNTHETIC_ID_BASE: UserId = 1 << 60;
/// The Bot API's placeholder sender of messages posted on behalf of a channel.
pub const CHANNEL_BOT_ID: UserId = 136_817_688;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportOptions {
    /// Use this chat id instead of the one derived from the export.
    pub chat_id: Option<ChatId>,
    /// Offset of the exporting computer's clock from UTC, for old exports that only have local
    /// `date` strings (newer ones carry `date_unixtime`). Seconds east of UTC.
    pub utc_offset_seconds: i64,
}

/// The chat the export belongs to.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportHeader {
    pub name: String,
    /// The export's `type` (`private_supergroup`, `public_channel`, ...).
    pub kind: String,
    /// The export's `id` (no -100 prefix).
    pub id: i64,
    /// The Bot API chat id used on the events.
    pub chat_id: ChatId,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportStats {
    pub messages: u64,
    pub service_messages: u64,
    pub events: u64,
    pub edits: u64,
    /// Service actions with no event of their own (`pin_message`, `create_group`, ...), by action.
    pub skipped_service: BTreeMap<String, u64>,
    pub out_of_order: u64,
    /// People known only by name who were given a synthetic id.
    pub synthetic_ids: u64,
    pub bytes_read: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportSummary {
    pub header: ExportHeader,
    pub stats: ImportStats,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{path}: {error}")]
    File {
        path: String,
        error: Box<ImportError>,
    },
    #[error("cannot read: {0}")]
    Io(#[from] std::io::Error),
    #[error("malformed export at byte {offset} (line {line}, column {column}{}): {message}", after_id(*.after_message_id))]
    Malformed {
        offset: u64,
        line: usize,
        column: usize,
        /// The last message read successfully.
        after_message_id: Option<i64>,
        message: String,
    },
    #[error("message {id}: {message}")]
    Message { id: i64, message: String },
    #[error("not a single-chat export: {0}")]
    NotAnExport(String),
    #[error("stopped by the consumer: {0:#}")]
    Sink(anyhow::Error),
}

fn after_id(id: Option<i64>) -> String {
    id.map(|id| format!(", after message {id}"))
        .unwrap_or_default()
}

/// Stream an export from `reader`, calling `on_event` for each event in order.
pub fn read_export<R: Read>(
    reader: R,
    options: &ImportOptions,
    on_event: impl FnMut(Event) -> anyhow::Result<()>,
) -> Result<ImportSummary, ImportError> {
    let count = Rc::new(Cell::new(0u64));
    let counting = CountingReader {
        inner: BufReader::with_capacity(256 * 1024, reader),
        count: Rc::clone(&count),
    };
    let mut state = Mapper::new(options, on_event);
    let mut de = serde_json::Deserializer::from_reader(counting);
    let parsed = ExportSeed { state: &mut state }
        .deserialize(&mut de)
        .and_then(|()| de.end());
    if let Some(failure) = state.failure.take() {
        return Err(failure);
    }
    if let Err(err) = parsed {
        let mut message = err.to_string();
        if let Some(cut) = message.find(" at line ") {
            message.truncate(cut);
        }
        if message.contains("unicode") || message.contains("UTF-8") {
            message.push_str(" (is the file UTF-8? it may have been re-saved in another encoding)");
        }
        return Err(ImportError::Malformed {
            offset: count.get(),
            line: err.line(),
            column: err.column(),
            after_message_id: state.last_id,
            message,
        });
    }
    if !state.saw_messages {
        return Err(ImportError::NotAnExport(
            "no `messages` array (use Telegram Desktop's \"Export chat history\" with JSON format)"
                .into(),
        ));
    }
    state
        .flush_edits(Timestamp::MAX)
        .map_err(|e| state.failure.take().unwrap_or(e))?;
    state.stats.bytes_read = count.get();
    Ok(ImportSummary {
        header: state.header,
        stats: state.stats,
    })
}

/// [`read_export`] on a file; errors name the file.
pub fn read_export_file(
    path: &Path,
    options: &ImportOptions,
    on_event: impl FnMut(Event) -> anyhow::Result<()>,
) -> Result<ImportSummary, ImportError> {
    let wrap = |error: ImportError| ImportError::File {
        path: path.display().to_string(),
        error: Box::new(error),
    };
    let file = std::fs::File::open(path).map_err(|e| wrap(e.into()))?;
    read_export(file, options, on_event).map_err(wrap)
}

struct CountingReader<R> {
    inner: R,
    count: Rc<Cell<u64>>,
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.set(self.count.get() + n as u64);
        Ok(n)
    }
}

// ---- raw shapes of the export -------------------------------------------------------------------

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum RawId {
    Int(i64),
    Text(String),
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum RawText {
    Plain(String),
    Parts(Vec<RawPart>),
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum RawPart {
    Plain(String),
    Entity(RawEntity),
}

#[derive(Debug, Deserialize)]
struct RawEntity {
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    href: Option<String>,
    #[serde(default)]
    user_id: Option<i64>,
}

#[derive(Debug, Deserialize)]
struct RawButton {
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    data: Option<String>,
}

#[derive(Debug, Deserialize)]
struct RawMessage {
    id: i64,
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    date: Option<String>,
    #[serde(default)]
    date_unixtime: Option<String>,
    #[serde(default)]
    edited: Option<String>,
    #[serde(default)]
    edited_unixtime: Option<String>,
    #[serde(default)]
    from: Option<String>,
    #[serde(default)]
    from_id: Option<RawId>,
    #[serde(default)]
    actor: Option<String>,
    #[serde(default)]
    actor_id: Option<RawId>,
    #[serde(default)]
    action: Option<String>,
    #[serde(default)]
    members: Option<Vec<Option<String>>>,
    #[serde(default)]
    inviter: Option<String>,
    #[serde(default)]
    text: Option<RawText>,
    #[serde(default)]
    text_entities: Option<Vec<RawEntity>>,
    #[serde(default)]
    forwarded_from: Option<String>,
    #[serde(default)]
    forwarded_from_id: Option<RawId>,
    #[serde(default)]
    saved_from: Option<String>,
    #[serde(default)]
    reply_to_peer_id: Option<RawId>,
    #[serde(default)]
    photo: Option<IgnoredAny>,
    #[serde(default)]
    file: Option<IgnoredAny>,
    #[serde(default)]
    media_type: Option<String>,
    #[serde(default)]
    poll: Option<IgnoredAny>,
    #[serde(default)]
    contact_information: Option<IgnoredAny>,
    #[serde(default)]
    location_information: Option<IgnoredAny>,
    #[serde(default)]
    inline_bot_buttons: Option<Vec<Vec<RawButton>>>,
}

// ---- streaming --------------------------------------------------------------------------------

struct ExportSeed<'a, F> {
    state: &'a mut Mapper<F>,
}

impl<'de, F: FnMut(Event) -> anyhow::Result<()>> DeserializeSeed<'de> for ExportSeed<'_, F> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de, F: FnMut(Event) -> anyhow::Result<()>> Visitor<'de> for ExportSeed<'_, F> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a Telegram chat export object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "name" => {
                    self.state.header.name = map.next_value::<Option<String>>()?.unwrap_or_default()
                }
                "type" => self.state.header.kind = map.next_value()?,
                "id" => self.state.header.id = map.next_value()?,
                "messages" => {
                    self.state.saw_messages = true;
                    map.next_value_seed(MessagesSeed {
                        state: &mut *self.state,
                    })?
                }
                "chats" if !self.state.saw_messages => {
                    self.state.failure = Some(ImportError::NotAnExport(
                        "this is a full-account export; export a single chat with \"Export chat history\"".into(),
                    ));
                    return Err(de::Error::custom("full-account export"));
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

struct MessagesSeed<'a, F> {
    state: &'a mut Mapper<F>,
}

impl<'de, F: FnMut(Event) -> anyhow::Result<()>> DeserializeSeed<'de> for MessagesSeed<'_, F> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de, F: FnMut(Event) -> anyhow::Result<()>> Visitor<'de> for MessagesSeed<'_, F> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of messages")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(raw) = seq.next_element::<RawMessage>()? {
            let id = raw.id;
            if let Err(err) = self.state.handle(raw) {
                if self.state.failure.is_none() {
                    self.state.failure = Some(err);
                }
                return Err(de::Error::custom("stopped"));
            }
            self.state.last_id = Some(id);
        }
        Ok(())
    }
}

// ---- mapping ----------------------------------------------------------------------------------

struct Mapper<F> {
    options: ImportOptions,
    on_event: F,
    header: ExportHeader,
    stats: ImportStats,
    saw_messages: bool,
    chat_seen: bool,
    last_id: Option<i64>,
    last_date: Timestamp,
    failure: Option<ImportError>,
    names: HashMap<String, UserId>,
    pending_edits: BinaryHeap<Reverse<(Timestamp, i64)>>,
    edit_bodies: HashMap<i64, Message>,
}

impl<F: FnMut(Event) -> anyhow::Result<()>> Mapper<F> {
    fn new(options: &ImportOptions, on_event: F) -> Mapper<F> {
        Mapper {
            options: options.clone(),
            on_event,
            header: ExportHeader::default(),
            stats: ImportStats::default(),
            saw_messages: false,
            chat_seen: false,
            last_id: None,
            last_date: Timestamp::MIN,
            failure: None,
            names: HashMap::new(),
            pending_edits: BinaryHeap::new(),
            edit_bodies: HashMap::new(),
        }
    }

    fn emit(&mut self, event: Event) -> Result<(), ImportError> {
        self.stats.events += 1;
        (self.on_event)(event).map_err(ImportError::Sink)
    }

    fn flush_edits(&mut self, until: Timestamp) -> Result<(), ImportError> {
        while let Some(Reverse((at, id))) = self.pending_edits.peek().copied() {
            if at > until {
                break;
            }
            self.pending_edits.pop();
            if let Some(message) = self.edit_bodies.remove(&id) {
                self.emit(Event::Edited(message))?;
            }
        }
        Ok(())
    }

    fn chat_kind(&self) -> ChatKind {
        match self.header.kind.as_str() {
            "private_group" => ChatKind::Group,
            "public_channel" | "private_channel" => ChatKind::Channel,
            "personal_chat" | "bot_chat" | "saved_messages" | "private_chat" => ChatKind::Private,
            _ => ChatKind::Supergroup,
        }
    }

    fn resolve_chat_id(&mut self) {
        let id = self.header.id;
        self.header.chat_id = self.options.chat_id.unwrap_or(match self.chat_kind() {
            ChatKind::Supergroup | ChatKind::Channel => -1_000_000_000_000 - id,
            ChatKind::Group => -id,
            ChatKind::Private => id,
        });
    }

    fn date(
        &self,
        id: i64,
        unix: &Option<String>,
        local: &Option<String>,
    ) -> Result<Option<Timestamp>, ImportError> {
        if let Some(unix) = unix {
            return unix
                .trim()
                .parse()
                .map(Some)
                .map_err(|_| ImportError::Message {
                    id,
                    message: format!("bad unixtime `{unix}`"),
                });
        }
        match local {
            None => Ok(None),
            Some(local) => parse_local_date(local)
                .map(|t| Some(t - self.options.utc_offset_seconds))
                .ok_or_else(|| ImportError::Message {
                    id,
                    message: format!("bad date `{local}`"),
                }),
        }
    }

    /// A person id from `user123`, `123` or (for `channel123`) the channel's Bot API id.
    fn user_id(&mut self, id: Option<&RawId>, name: Option<&str>) -> (UserId, Option<ChatId>) {
        let parsed = match id {
            Some(RawId::Int(n)) => Some((*n, None)),
            Some(RawId::Text(text)) => {
                if let Some(rest) = text.strip_prefix("user") {
                    rest.parse().ok().map(|n| (n, None))
                } else if let Some(rest) = text
                    .strip_prefix("channel")
                    .or_else(|| text.strip_prefix("chat"))
                {
                    rest.parse::<i64>()
                        .ok()
                        .map(|n| (CHANNEL_BOT_ID, Some(-1_000_000_000_000 - n)))
                } else {
                    text.parse().ok().map(|n| (n, None))
                }
            }
            None => None,
        };
        match (parsed, name) {
            (Some((user, channel)), Some(name)) => {
                if channel.is_none() {
                    self.names.insert(name.to_string(), user);
                }
                (user, channel)
            }
            (Some(found), None) => found,
            (None, name) => (self.id_for_name(name.unwrap_or("")), None),
        }
    }

    fn id_for_name(&mut self, name: &str) -> UserId {
        if let Some(id) = self.names.get(name) {
            return *id;
        }
        let id = SYNTHETIC_ID_BASE + self.stats.synthetic_ids as i64;
        self.stats.synthetic_ids += 1;
        self.names.insert(name.to_string(), id);
        id
    }

    fn handle(&mut self, raw: RawMessage) -> Result<(), ImportError> {
        if !self.chat_seen {
            self.resolve_chat_id();
        }
        let date = self
            .date(raw.id, &raw.date_unixtime, &raw.date)?
            .ok_or_else(|| ImportError::Message {
                id: raw.id,
                message: "no `date`".into(),
            })?;
        if !self.chat_seen {
            self.chat_seen = true;
            let event = Event::ChatSeen {
                chat_id: self.header.chat_id,
                title: self.header.name.clone(),
                kind: self.chat_kind(),
                date,
            };
            self.emit(event)?;
        }
        self.flush_edits(date)?;
        if date < self.last_date {
            self.stats.out_of_order += 1;
        }
        self.last_date = self.last_date.max(date);
        match raw.kind.as_str() {
            "service" => {
                self.stats.service_messages += 1;
                self.service(raw, date)
            }
            _ => {
                self.stats.messages += 1;
                self.message(raw, date)
            }
        }
    }

    fn message(&mut self, raw: RawMessage, date: Timestamp) -> Result<(), ImportError> {
        let name = raw
            .from
            .clone()
            .unwrap_or_else(|| "Deleted Account".to_string());
        let (user_id, channel) = self.user_id(raw.from_id.as_ref(), raw.from.as_deref());
        let from = Person {
            id: user_id,
            first_name: name.clone(),
            ..Person::default()
        };
        let (text, entities) = flatten_text(raw.text_entities.as_deref(), raw.text.as_ref());
        let forward = if raw.forwarded_from.is_some()
            || raw.forwarded_from_id.is_some()
            || raw.saved_from.is_some()
        {
            let (from_channel, from_id) = match &raw.forwarded_from_id {
                Some(RawId::Text(t)) if t.starts_with("channel") => (
                    true,
                    t["channel".len()..]
                        .parse::<i64>()
                        .ok()
                        .map(|n| -1_000_000_000_000 - n),
                ),
                Some(RawId::Text(t)) => (false, t.trim_start_matches("user").parse().ok()),
                Some(RawId::Int(n)) => (false, Some(*n)),
                None => (false, None),
            };
            Some(Forward {
                from_channel,
                from_id,
                from_name: raw.forwarded_from.clone().or(raw.saved_from.clone()),
            })
        } else {
            None
        };
        let buttons = raw
            .inline_bot_buttons
            .iter()
            .flatten()
            .flatten()
            .map(|b| Button {
                text: b.text.clone(),
                url: (b.kind == "url").then(|| b.data.clone()).flatten(),
            })
            .collect();
        let mut message = Message {
            chat_id: self.header.chat_id,
            id: raw.id,
            date,
            from,
            text,
            entities,
            buttons,
            forward,
            sender_chat: channel.map(|id| SenderChat {
                id,
                title: name,
                username: None,
            }),
            media: media_kind(&raw),
            reply_to_other_chat: raw.reply_to_peer_id.is_some(),
            reply_to: None,
            edited: false,
        };
        let edited_at = self.date(raw.id, &raw.edited_unixtime, &raw.edited)?;
        if let Some(at) = edited_at {
            let mut edited = message.clone();
            edited.edited = true;
            edited.date = at.max(date);
            self.stats.edits += 1;
            self.pending_edits.push(Reverse((edited.date, raw.id)));
            self.edit_bodies.insert(raw.id, edited);
        }
        message.edited = false;
        self.emit(Event::Message(message))
    }

    fn service(&mut self, raw: RawMessage, date: Timestamp) -> Result<(), ImportError> {
        let chat_id = self.header.chat_id;
        let action = raw.action.clone().unwrap_or_default();
        let (actor, _) = self.user_id(raw.actor_id.as_ref(), raw.actor.as_deref());
        let actor_name = raw.actor.clone().unwrap_or_default();
        let members: Vec<String> = raw
            .members
            .iter()
            .flatten()
            .map(|m| m.clone().unwrap_or_default())
            .collect();
        let by_themselves = members.is_empty() || (members.len() == 1 && members[0] == actor_name);
        let person = |id: UserId, name: &str| Person {
            id,
            first_name: name.to_string(),
            ..Person::default()
        };
        match action.as_str() {
            "join_group_by_link" => {
                let inviter = raw
                    .inviter
                    .as_deref()
                    .and_then(|n| self.names.get(n).copied());
                let how = JoinKind::InviteLink {
                    link: String::new(),
                    inviter,
                };
                self.emit(Event::Joined {
                    chat_id,
                    user: person(actor, &actor_name),
                    date,
                    how,
                })
            }
            "join_group_by_request" => {
                let how = JoinKind::Request { approved_by: None };
                self.emit(Event::Joined {
                    chat_id,
                    user: person(actor, &actor_name),
                    date,
                    how,
                })
            }
            "invite_members" if by_themselves => self.emit(Event::Joined {
                chat_id,
                user: person(actor, &actor_name),
                date,
                how: JoinKind::Direct,
            }),
            "invite_members" => {
                for name in members {
                    let id = self.id_for_name(&name);
                    let how = JoinKind::AddedBy { by: actor };
                    self.emit(Event::Joined {
                        chat_id,
                        user: person(id, &name),
                        date,
                        how,
                    })?;
                }
                Ok(())
            }
            "remove_members" if by_themselves => self.emit(Event::Left {
                chat_id,
                user_id: actor,
                date,
            }),
            "remove_members" => {
                for name in members {
                    let user_id = self.id_for_name(&name);
                    let event = Event::RestrictedByAdmin {
                        chat_id,
                        user_id,
                        admin_id: actor,
                        date,
                        banned: true,
                        until: None,
                    };
                    self.emit(event)?;
                }
                Ok(())
            }
            other => {
                *self
                    .stats
                    .skipped_service
                    .entry(other.to_string())
                    .or_default() += 1;
                Ok(())
            }
        }
    }
}

fn media_kind(raw: &RawMessage) -> MediaKind {
    match raw.media_type.as_deref() {
        Some("video_file") => MediaKind::Video,
        Some("voice_message") => MediaKind::Voice,
        Some("audio_file") => MediaKind::Audio,
        Some("sticker") => MediaKind::Sticker,
        Some("video_message") => MediaKind::VideoNote,
        Some("animation") => MediaKind::Animation,
        Some(_) => MediaKind::Other,
        None if raw.photo.is_some() => MediaKind::Photo,
        None if raw.file.is_some() => MediaKind::Document,
        None if raw.poll.is_some() => MediaKind::Poll,
        None if raw.contact_information.is_some() => MediaKind::Contact,
        None if raw.location_information.is_some() => MediaKind::Location,
        None => MediaKind::None,
    }
}

fn entity_kind(kind: &str) -> Option<EntityKind> {
    Some(match kind {
        "plain" | "" => return None,
        "link" => EntityKind::Url,
        "text_link" => EntityKind::TextUrl,
        "mention" => EntityKind::Mention,
        "mention_name" => EntityKind::MentionName,
        "hashtag" => EntityKind::Hashtag,
        "cashtag" => EntityKind::Cashtag,
        "bot_command" => EntityKind::BotCommand,
        "email" => EntityKind::Email,
        "phone" => EntityKind::Phone,
        "bold" => EntityKind::Bold,
        "italic" => EntityKind::Italic,
        "underline" => EntityKind::Underline,
        "strikethrough" => EntityKind::Strike,
        "spoiler" => EntityKind::Spoiler,
        "code" => EntityKind::Code,
        "pre" => EntityKind::Pre,
        "blockquote" => EntityKind::Blockquote,
        "custom_emoji" => EntityKind::CustomEmoji,
        _ => EntityKind::Other,
    })
}

/// Full text and entities (UTF-16 offsets). `text_entities` is preferred: it always is an array.
fn flatten_text(
    text_entities: Option<&[RawEntity]>,
    text: Option<&RawText>,
) -> (String, Vec<Entity>) {
    let mut out = String::new();
    let mut entities = Vec::new();
    let mut offset = 0u32;
    let mut push = |kind: &str, part: &str, href: Option<&String>, user_id: Option<i64>| {
        let length = part.chars().map(|c| c.len_utf16() as u32).sum::<u32>();
        if let Some(kind) = entity_kind(kind) {
            let url = match kind {
                EntityKind::TextUrl => href.cloned(),
                EntityKind::MentionName => user_id.map(|id| id.to_string()),
                _ => None,
            };
            entities.push(Entity {
                kind,
                offset,
                length,
                url,
            });
        }
        out.push_str(part);
        offset += length;
    };
    match (text_entities, text) {
        (Some(list), _) if !list.is_empty() => {
            for e in list {
                push(&e.kind, &e.text, e.href.as_ref(), e.user_id);
            }
        }
        (_, Some(RawText::Plain(s))) => push("plain", s, None, None),
        (_, Some(RawText::Parts(parts))) => {
            for part in parts {
                match part {
                    RawPart::Plain(s) => push("plain", s, None, None),
                    RawPart::Entity(e) => push(&e.kind, &e.text, e.href.as_ref(), e.user_id),
                }
            }
        }
        _ => {}
    }
    (out, entities)
}

/// `YYYY-MM-DDTHH:MM:SS` as if UTC.
fn parse_local_date(text: &str) -> Option<Timestamp> {
    let b = text.as_bytes();
    if b.len() < 19
        || b[4] != b'-'
        || b[7] != b'-'
        || !(b[10] == b'T' || b[10] == b' ')
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let num = |range: std::ops::Range<usize>| text.get(range)?.parse::<i64>().ok();
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hh, mm, ss) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || hh > 23 || mm > 59 || ss > 60 {
        return None;
    }
    // Howard Hinnant's days_from_civil.
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + hh * 3600 + mm * 60 + ss)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_dates_parse_as_utc() {
        assert_eq!(parse_local_date("1970-01-01T00:00:00"), Some(0));
        assert_eq!(parse_local_date("2026-03-02T10:00:00"), Some(1_772_445_600));
        assert_eq!(parse_local_date("2024-02-29T23:59:59"), Some(1_709_251_199));
        assert_eq!(parse_local_date("2024-13-01T00:00:00"), None);
        assert_eq!(parse_local_date("yesterday"), None);
    }

    #[test]
    fn text_array_and_text_entities_flatten_to_the_same_message() {
        let parts: RawText = serde_json::from_str(
            r#"["Привет 👋 ", {"type": "text_link", "text": "тут", "href": "https://x.io"}, " и ", {"type": "bold", "text": "всё"}]"#,
        )
        .unwrap();
        let (text, entities) = flatten_text(None, Some(&parts));
        assert_eq!(text, "Привет 👋 тут и всё");
        assert_eq!(entities.len(), 2);
        // "Привет 👋 " is 7 + 2 (surrogate pair) + 1 UTF-16 units.
        assert_eq!((entities[0].offset, entities[0].length), (10, 3));
        assert_eq!(entities[0].url.as_deref(), Some("https://x.io"));
        assert_eq!(entities[1].kind, EntityKind::Bold);
    }
}
