//! Events in: a pure mapping from grammers `Update`s to Warden's [`Event`]s.

use super::api::{AccountKind, Rights};
pub use crate::model::ButtonPress;
use crate::model::{
    Button, ChatId, Entity, EntityKind, Event, Forward, JoinKind, ListedMember, MediaKind, Message,
    MessageId, Person, SenderChat, Timestamp, UserId,
};
use grammers_client::peer::Peer;
use grammers_client::session::types::PeerId;
use grammers_client::tl;
use grammers_client::update::Update;
use std::collections::HashMap;

/// What one update means to Warden.
// Events are the common case: boxing them would add an allocation per message.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inbound {
    Event(Event),
    /// An inline button under one of Warden's messages was pressed (admin report, captcha).
    Button(ButtonPress),
    /// A chat's default member permissions changed (by anyone, Warden included).
    DefaultRightsChanged {
        chat_id: ChatId,
        rights: Rights,
    },
}

/// What the mapping needs to know about the receiving account.
#[derive(Debug, Clone, Copy)]
pub struct MapContext<'a> {
    pub account: AccountKind,
    /// Warden's own user ids (bot and user account): their bans are not "by another admin".
    pub own_ids: &'a [UserId],
    /// Used where Telegram gives no date (deletions).
    pub now: Timestamp,
}

fn dialog_id(peer: PeerId) -> ChatId {
    peer.bot_api_dialog_id().unwrap_or(0)
}

fn tl_peer_dialog_id(peer: &tl::enums::Peer) -> ChatId {
    match peer {
        tl::enums::Peer::User(u) => u.user_id,
        tl::enums::Peer::Chat(c) => PeerId::chat(c.chat_id).map(dialog_id).unwrap_or(0),
        tl::enums::Peer::Channel(c) => PeerId::channel(c.channel_id).map(dialog_id).unwrap_or(0),
    }
}

fn channel_dialog_id(channel_id: i64) -> ChatId {
    PeerId::channel(channel_id).map(dialog_id).unwrap_or(0)
}

fn chat_dialog_id(chat_id: i64) -> ChatId {
    PeerId::chat(chat_id).map(dialog_id).unwrap_or(0)
}

fn bare_person(id: UserId) -> Person {
    Person {
        id,
        ..Person::default()
    }
}

/// FNV-1a over the photo's stripped preview (a few hundred bytes of JPEG Telegram inlines): the
/// same picture uploaded by several accounts gives the same preview.
fn avatar_hash(photo: &tl::enums::UserProfilePhoto) -> Option<u64> {
    let tl::enums::UserProfilePhoto::Photo(photo) = photo else {
        return None;
    };
    let preview = photo.stripped_thumb.as_ref().filter(|t| !t.is_empty())?;
    Some(preview.iter().fold(0xcbf2_9ce4_8422_2325, |h: u64, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    }))
}

fn person_of(peer: &Peer) -> Person {
    match peer {
        Peer::User(user) => Person {
            id: dialog_id(user.id()),
            ..person_of_raw(&user.raw)
        },
        other => Person {
            id: dialog_id(other.id()),
            first_name: other.name().unwrap_or_default().to_string(),
            username: other.username().map(str::to_string),
            ..Person::default()
        },
    }
}

/// A person from Telegram's raw user (member lists and full profiles come as these).
pub(crate) fn person_of_raw(user: &tl::enums::User) -> Person {
    match user {
        tl::enums::User::User(u) => Person {
            id: u.id,
            first_name: u.first_name.clone().unwrap_or_default(),
            last_name: u.last_name.clone(),
            username: u.username.clone(),
            is_bot: u.bot,
            is_premium: u.premium,
            // A missing photo may be a "min" user whose photo was left out: unknown, not "none".
            has_photo: u.photo.as_ref().map(|_| true),
            bio: None,
            avatar_hash: u.photo.as_ref().and_then(avatar_hash),
        },
        tl::enums::User::Empty(u) => bare_person(u.id),
    }
}

/// A supergroup's member list page: who is in the chat, since when, and (where Telegram says)
/// who added them. Members who left are not listed; restricted ones still are.
pub fn listed_members(
    participants: &[tl::enums::ChannelParticipant],
    users: &[tl::enums::User],
) -> Vec<ListedMember> {
    use tl::enums::ChannelParticipant as P;
    let people: HashMap<i64, &tl::enums::User> = users
        .iter()
        .map(|u| match u {
            tl::enums::User::User(x) => (x.id, u),
            tl::enums::User::Empty(x) => (x.id, u),
        })
        .collect();
    participants
        .iter()
        .filter_map(|p| {
            let (user_id, joined, inviter) = match p {
                P::Participant(x) => (x.user_id, Some(x.date), None),
                P::ParticipantSelf(x) => (x.user_id, Some(x.date), Some(x.inviter_id)),
                P::Creator(x) => (x.user_id, None, None),
                P::Admin(x) => (x.user_id, Some(x.date), x.inviter_id),
                P::Banned(x) if !x.left => match &x.peer {
                    tl::enums::Peer::User(u) => (u.user_id, Some(x.date), None),
                    _ => return None,
                },
                P::Banned(_) | P::Left(_) => return None,
            };
            Some(ListedMember {
                person: people
                    .get(&user_id)
                    .map_or_else(|| bare_person(user_id), |u| person_of_raw(u)),
                joined_at: joined.filter(|&d| d > 0).map(Timestamp::from),
                inviter: inviter.filter(|&i| i != 0 && i != user_id),
            })
        })
        .collect()
}

/// Clamps Telegram's entities to the text (UTF-16 units): negative, empty or out-of-range ones
/// are dropped or cut, never trusted.
pub fn convert_entities(text: &str, raw: &[tl::enums::MessageEntity]) -> Vec<Entity> {
    use tl::enums::MessageEntity as E;
    let text_units = text.encode_utf16().count() as i64;
    raw.iter()
        .filter_map(|e| {
            let (kind, offset, length, url) = match e {
                E::Url(x) => (EntityKind::Url, x.offset, x.length, None),
                E::TextUrl(x) => (EntityKind::TextUrl, x.offset, x.length, Some(x.url.clone())),
                E::Mention(x) => (EntityKind::Mention, x.offset, x.length, None),
                E::MentionName(x) => (
                    EntityKind::MentionName,
                    x.offset,
                    x.length,
                    Some(x.user_id.to_string()),
                ),
                E::Hashtag(x) => (EntityKind::Hashtag, x.offset, x.length, None),
                E::Cashtag(x) => (EntityKind::Cashtag, x.offset, x.length, None),
                E::BotCommand(x) => (EntityKind::BotCommand, x.offset, x.length, None),
                E::Email(x) => (EntityKind::Email, x.offset, x.length, None),
                E::Phone(x) => (EntityKind::Phone, x.offset, x.length, None),
                E::Bold(x) => (EntityKind::Bold, x.offset, x.length, None),
                E::Italic(x) => (EntityKind::Italic, x.offset, x.length, None),
                E::Underline(x) => (EntityKind::Underline, x.offset, x.length, None),
                E::Strike(x) => (EntityKind::Strike, x.offset, x.length, None),
                E::Spoiler(x) => (EntityKind::Spoiler, x.offset, x.length, None),
                E::Code(x) => (EntityKind::Code, x.offset, x.length, None),
                E::Pre(x) => (EntityKind::Pre, x.offset, x.length, None),
                E::Blockquote(x) => (EntityKind::Blockquote, x.offset, x.length, None),
                E::CustomEmoji(x) => (EntityKind::CustomEmoji, x.offset, x.length, None),
                E::BankCard(x) => (EntityKind::Other, x.offset, x.length, None),
                E::Unknown(x) => (EntityKind::Other, x.offset, x.length, None),
                _ => return None,
            };
            let offset = i64::from(offset);
            if offset < 0 || length <= 0 || offset >= text_units {
                return None;
            }
            let length = i64::from(length).min(text_units - offset);
            Some(Entity {
                kind,
                offset: offset as u32,
                length: length as u32,
                url,
            })
        })
        .collect()
}

/// The text an entity covers, or `None` when its UTF-16 range does not fall on character
/// boundaries of `text` (half a surrogate pair) or lies outside it.
pub fn entity_text<'a>(text: &'a str, entity: &Entity) -> Option<&'a str> {
    let start = entity.offset as usize;
    let end = start.checked_add(entity.length as usize)?;
    let (mut units, mut start_byte, mut end_byte) = (0usize, None, None);
    for (byte, ch) in text.char_indices() {
        if units == start {
            start_byte = Some(byte);
        }
        if units == end {
            end_byte = Some(byte);
            break;
        }
        units += ch.len_utf16();
    }
    if units == end && end_byte.is_none() {
        end_byte = Some(text.len());
    }
    if units == start && start_byte.is_none() {
        start_byte = Some(text.len());
    }
    text.get(start_byte?..end_byte?)
}

fn media_kind(media: Option<&tl::enums::MessageMedia>) -> MediaKind {
    use tl::enums::MessageMedia as M;
    match media {
        None | Some(M::Empty) | Some(M::WebPage(_)) => MediaKind::None,
        Some(M::Photo(_)) => MediaKind::Photo,
        Some(M::Document(d)) => {
            if d.round {
                return MediaKind::VideoNote;
            }
            if d.voice {
                return MediaKind::Voice;
            }
            let attributes = match &d.document {
                Some(tl::enums::Document::Document(doc)) => doc.attributes.as_slice(),
                _ => &[],
            };
            use tl::enums::DocumentAttribute as A;
            if attributes.iter().any(|a| matches!(a, A::Sticker(_))) {
                MediaKind::Sticker
            } else if attributes.iter().any(|a| matches!(a, A::Animated)) {
                MediaKind::Animation
            } else if let Some(A::Video(v)) = attributes.iter().find(|a| matches!(a, A::Video(_))) {
                if v.round_message {
                    MediaKind::VideoNote
                } else {
                    MediaKind::Video
                }
            } else if let Some(A::Audio(a)) = attributes.iter().find(|a| matches!(a, A::Audio(_))) {
                if a.voice {
                    MediaKind::Voice
                } else {
                    MediaKind::Audio
                }
            } else if d.video {
                MediaKind::Video
            } else {
                MediaKind::Document
            }
        }
        Some(M::Contact(_)) => MediaKind::Contact,
        Some(M::Geo(_)) | Some(M::GeoLive(_)) | Some(M::Venue(_)) => MediaKind::Location,
        Some(M::Poll(_)) => MediaKind::Poll,
        Some(M::Story(_)) => MediaKind::Story,
        Some(M::Giveaway(_)) | Some(M::GiveawayResults(_)) => MediaKind::Giveaway,
        Some(_) => MediaKind::Other,
    }
}

fn buttons(markup: Option<&tl::enums::ReplyMarkup>) -> Vec<Button> {
    let Some(tl::enums::ReplyMarkup::ReplyInlineMarkup(markup)) = markup else {
        return Vec::new();
    };
    markup
        .rows
        .iter()
        .flat_map(|tl::enums::KeyboardInlineButtonRow::Row(row)| row.buttons.iter())
        .map(|tl::enums::KeyboardInlineButton::Button(b)| Button {
            text: b.text.clone(),
            url: match &b.r#type {
                tl::enums::InlineButtonType::Url(u) => Some(u.url.clone()),
                tl::enums::InlineButtonType::WebView(w) => Some(w.url.clone()),
                _ => None,
            },
        })
        .collect()
}

fn forward(header: Option<&tl::enums::MessageFwdHeader>) -> Option<Forward> {
    let tl::enums::MessageFwdHeader::Header(h) = header?;
    Some(Forward {
        from_channel: matches!(h.from_id, Some(tl::enums::Peer::Channel(_))),
        from_id: h.from_id.as_ref().map(tl_peer_dialog_id),
        from_name: h.from_name.clone(),
    })
}

/// Maps a message (new or edited); `None` for service messages, which [`service_events`] handles.
pub fn map_message(msg: &grammers_client::message::Message, edited: bool) -> Option<Message> {
    let tl::enums::Message::Message(raw) = &msg.raw else {
        return None;
    };
    let chat_id = dialog_id(msg.peer_id());
    let sender_chat = match msg.sender() {
        Some(peer @ (Peer::Channel(_) | Peer::Group(_) | Peer::Community(_))) => Some(SenderChat {
            id: dialog_id(peer.id()),
            title: peer.name().unwrap_or_default().to_string(),
            username: peer.username().map(str::to_string),
        }),
        _ => None,
    };
    let from = match (msg.sender(), msg.sender_id()) {
        (Some(peer), _) => person_of(peer),
        (None, Some(id)) => bare_person(dialog_id(id)),
        // Channel posts carry no sender: the chat speaks.
        (None, None) => match msg.peer() {
            Some(peer) => person_of(peer),
            None => bare_person(chat_id),
        },
    };
    let reply_to_other_chat = match &raw.reply_to {
        Some(tl::enums::MessageReplyHeader::Header(h)) => h
            .reply_to_peer_id
            .as_ref()
            .is_some_and(|p| tl_peer_dialog_id(p) != chat_id),
        _ => false,
    };
    let reply_to = match &raw.reply_to {
        Some(tl::enums::MessageReplyHeader::Header(h)) if !reply_to_other_chat => {
            h.reply_to_msg_id.map(MessageId::from)
        }
        _ => None,
    };
    Some(Message {
        chat_id,
        id: MessageId::from(raw.id),
        date: i64::from(raw.date),
        from,
        text: raw.message.clone(),
        entities: convert_entities(&raw.message, raw.entities.as_deref().unwrap_or_default()),
        buttons: buttons(raw.reply_markup.as_ref()),
        forward: forward(raw.fwd_from.as_ref()),
        sender_chat,
        media: media_kind(raw.media.as_ref()),
        reply_to_other_chat,
        reply_to,
        edited,
    })
}

/// Joins and leaves told by service messages (basic groups, and supergroups for the user account).
fn service_events(msg: &grammers_client::message::Message) -> Vec<Event> {
    let tl::enums::Message::Service(raw) = &msg.raw else {
        return Vec::new();
    };
    let chat_id = dialog_id(msg.peer_id());
    let date = i64::from(raw.date);
    let sender = msg.sender().map(person_of);
    let sender_id = sender.as_ref().map(|p| p.id).unwrap_or(0);
    use tl::enums::MessageAction as A;
    match &raw.action {
        A::ChatAddUser(add) => add
            .users
            .iter()
            .map(|&user_id| Event::Joined {
                chat_id,
                user: match &sender {
                    Some(p) if p.id == user_id => p.clone(),
                    _ => bare_person(user_id),
                },
                date,
                how: if user_id == sender_id {
                    JoinKind::Direct
                } else {
                    JoinKind::AddedBy { by: sender_id }
                },
            })
            .collect(),
        A::ChatJoinedByLink(link) => vec![Event::Joined {
            chat_id,
            user: sender.unwrap_or_else(|| bare_person(0)),
            date,
            how: JoinKind::InviteLink {
                link: String::new(),
                inviter: Some(link.inviter_id),
            },
        }],
        A::ChatJoinedByRequest => vec![Event::Joined {
            chat_id,
            user: sender.unwrap_or_else(|| bare_person(0)),
            date,
            how: JoinKind::Request { approved_by: None },
        }],
        A::ChatDeleteUser(del) => vec![Event::Left {
            chat_id,
            user_id: del.user_id,
            date,
        }],
        _ => Vec::new(),
    }
}

fn restricted_event(
    chat_id: ChatId,
    user_id: UserId,
    admin_id: UserId,
    date: Timestamp,
    rights: &tl::enums::ChatBannedRights,
    ctx: &MapContext<'_>,
) -> Option<Event> {
    if ctx.own_ids.contains(&admin_id) {
        return None;
    }
    let tl::enums::ChatBannedRights::Rights(r) = rights;
    Some(Event::RestrictedByAdmin {
        chat_id,
        user_id,
        admin_id,
        date,
        banned: r.view_messages,
        until: (r.until_date != 0).then_some(i64::from(r.until_date)),
    })
}

/// One admin-log entry (user account polling) as an event: bans, restrictions and kicks done by
/// other admins. `chat_id` is the polled chat's dialog id.
pub fn map_admin_log_event(
    chat_id: ChatId,
    event: &tl::enums::ChannelAdminLogEvent,
    ctx: &MapContext<'_>,
) -> Option<Event> {
    use tl::enums::ChannelAdminLogEventAction as A;
    use tl::enums::ChannelParticipant as P;
    let tl::enums::ChannelAdminLogEvent::Event(e) = event;
    let A::ParticipantToggleBan(toggle) = &e.action else {
        return None;
    };
    let P::Banned(banned) = &toggle.new_participant else {
        return None;
    };
    let user_id = match &banned.peer {
        tl::enums::Peer::User(u) => u.user_id,
        _ => return None,
    };
    restricted_event(
        chat_id,
        user_id,
        e.user_id,
        i64::from(e.date),
        &banned.banned_rights,
        ctx,
    )
}

fn channel_participant_events(
    p: &tl::types::UpdateChannelParticipant,
    ctx: &MapContext<'_>,
) -> Vec<Event> {
    use tl::enums::ChannelParticipant as P;
    let chat_id = channel_dialog_id(p.channel_id);
    let date = i64::from(p.date);
    let was_member = matches!(
        p.prev_participant,
        Some(P::Participant(_) | P::ParticipantSelf(_) | P::Admin(_) | P::Creator(_))
    );
    match &p.new_participant {
        None | Some(P::Left(_)) => {
            let mut events = Vec::new();
            if p.actor_id != p.user_id && p.actor_id != 0 && !ctx.own_ids.contains(&p.actor_id) {
                // Removed by somebody else: a kick.
                events.push(Event::RestrictedByAdmin {
                    chat_id,
                    user_id: p.user_id,
                    admin_id: p.actor_id,
                    date,
                    banned: true,
                    until: Some(date),
                });
            }
            if was_member {
                events.push(Event::Left {
                    chat_id,
                    user_id: p.user_id,
                    date,
                });
            }
            events
        }
        Some(P::Banned(b)) => {
            let admin = if b.kicked_by != 0 {
                b.kicked_by
            } else {
                p.actor_id
            };
            restricted_event(chat_id, p.user_id, admin, date, &b.banned_rights, ctx)
                .into_iter()
                .collect()
        }
        Some(new @ (P::Participant(_) | P::ParticipantSelf(_))) if !was_member => {
            let how = match (&p.invite, new) {
                (Some(tl::enums::ExportedChatInvite::ChatInviteExported(inv)), _) => {
                    if inv.request_needed {
                        JoinKind::Request {
                            approved_by: (p.actor_id != p.user_id).then_some(p.actor_id),
                        }
                    } else {
                        JoinKind::InviteLink {
                            link: inv.link.clone(),
                            inviter: Some(inv.admin_id),
                        }
                    }
                }
                (_, P::ParticipantSelf(s)) if s.via_request => JoinKind::Request {
                    approved_by: (p.actor_id != p.user_id).then_some(p.actor_id),
                },
                _ if p.actor_id != 0 && p.actor_id != p.user_id => {
                    JoinKind::AddedBy { by: p.actor_id }
                }
                _ => JoinKind::Direct,
            };
            vec![Event::Joined {
                chat_id,
                user: bare_person(p.user_id),
                date,
                how,
            }]
        }
        Some(_) => Vec::new(),
    }
}

fn raw_events(raw: &tl::enums::Update, ctx: &MapContext<'_>) -> Vec<Inbound> {
    use tl::enums::Update as U;
    match raw {
        // Bots get these for supergroups where they are admin; users don't.
        U::ChannelParticipant(p) => channel_participant_events(p, ctx)
            .into_iter()
            .map(Inbound::Event)
            .collect(),
        U::ChatParticipant(p) => {
            let chat_id = chat_dialog_id(p.chat_id);
            let date = i64::from(p.date);
            // Joins and leaves come as service messages too; only removals by others are new.
            if p.new_participant.is_none()
                && p.actor_id != p.user_id
                && !ctx.own_ids.contains(&p.actor_id)
            {
                vec![Inbound::Event(Event::RestrictedByAdmin {
                    chat_id,
                    user_id: p.user_id,
                    admin_id: p.actor_id,
                    date,
                    banned: true,
                    until: Some(date),
                })]
            } else {
                Vec::new()
            }
        }
        U::ChatDefaultBannedRights(u) => {
            let tl::enums::ChatBannedRights::Rights(r) = &u.default_banned_rights;
            vec![Inbound::DefaultRightsChanged {
                chat_id: tl_peer_dialog_id(&u.peer),
                rights: Rights::from_tl(r),
            }]
        }
        _ => Vec::new(),
    }
}

/// Everything one update means, in order. Pure: no I/O, no clock.
pub fn map_update(update: &Update, ctx: &MapContext<'_>) -> Vec<Inbound> {
    match update {
        Update::NewMessage(msg) => {
            if let Some(m) = map_message(msg, false) {
                return vec![Inbound::Event(Event::Message(m))];
            }
            // The bot learns supergroup joins from participant updates; skip the duplicate.
            let is_channel =
                msg.peer_id().kind() == grammers_client::session::types::PeerKind::Channel;
            if is_channel && ctx.account == AccountKind::Bot {
                return Vec::new();
            }
            service_events(msg)
                .into_iter()
                .map(Inbound::Event)
                .collect()
        }
        Update::MessageEdited(msg) => map_message(msg, true)
            .map(|m| vec![Inbound::Event(Event::Edited(m))])
            .unwrap_or_default(),
        Update::MessageDeleted(deletion) => vec![Inbound::Event(Event::Deleted {
            // Outside channels Telegram does not say the chat (ids are unique per account): 0.
            chat_id: deletion.channel_id().map(channel_dialog_id).unwrap_or(0),
            ids: deletion
                .messages()
                .iter()
                .map(|&id| MessageId::from(id))
                .collect(),
            date: ctx.now,
        })],
        Update::CallbackQuery(query) => {
            let tl::enums::Update::BotCallbackQuery(raw) = &query.raw else {
                return Vec::new();
            };
            vec![Inbound::Button(ButtonPress {
                chat_id: tl_peer_dialog_id(&raw.peer),
                message_id: MessageId::from(raw.msg_id),
                user_id: raw.user_id,
                data: String::from_utf8_lossy(query.data()).into_owned(),
                date: ctx.now,
                query_id: raw.query_id,
            })]
        }
        Update::Raw(raw) => raw_events(&raw.raw, ctx),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entity(offset: u32, length: u32) -> Entity {
        Entity {
            kind: EntityKind::Url,
            offset,
            length,
            url: None,
        }
    }

    #[test]
    fn entity_text_counts_utf16_units() {
        // "👋" is two UTF-16 units, "é" one.
        let text = "👋 é t.me/x";
        assert_eq!(entity_text(text, &entity(5, 6)), Some("t.me/x"));
        assert_eq!(entity_text(text, &entity(0, 2)), Some("👋"));
        // Half a surrogate pair, or past the end: refused, not a panic.
        assert_eq!(entity_text(text, &entity(1, 2)), None);
        assert_eq!(entity_text(text, &entity(5, 60)), None);
        assert_eq!(entity_text(text, &entity(u32::MAX, u32::MAX)), None);
    }

    #[test]
    fn entities_are_clamped_to_the_text() {
        let raw = vec![
            tl::types::MessageEntityUrl {
                offset: 5,
                length: 100,
            }
            .into(),
            tl::types::MessageEntityUrl {
                offset: -1,
                length: 3,
            }
            .into(),
            tl::types::MessageEntityTextUrl {
                offset: 0,
                length: 2,
                url: "https://spam.example".into(),
            }
            .into(),
        ];
        let text = "👋 é t.me/x";
        let got = convert_entities(text, &raw);
        assert_eq!(got.len(), 2);
        assert_eq!(entity_text(text, &got[0]), Some("t.me/x"));
        assert_eq!(got[1].url.as_deref(), Some("https://spam.example"));
    }
}

#[cfg(test)]
mod admin_log_tests {
    use super::*;

    fn toggle_ban(admin: i64, user: i64, view_messages: bool) -> tl::enums::ChannelAdminLogEvent {
        let mut rights = Rights::read_only();
        rights.view_messages = view_messages;
        tl::types::ChannelAdminLogEvent {
            id: 9,
            date: 1_700_000_000,
            user_id: admin,
            action: tl::types::ChannelAdminLogEventActionParticipantToggleBan {
                prev_participant: tl::types::ChannelParticipant {
                    user_id: user,
                    date: 1_600_000_000,
                    subscription_until_date: None,
                    rank: None,
                }
                .into(),
                new_participant: tl::types::ChannelParticipantBanned {
                    left: view_messages,
                    peer: tl::types::PeerUser { user_id: user }.into(),
                    kicked_by: admin,
                    date: 1_700_000_000,
                    banned_rights: rights.to_tl(0).into(),
                    rank: None,
                }
                .into(),
            }
            .into(),
        }
        .into()
    }

    #[test]
    fn other_admins_bans_from_the_log_are_events_and_ours_are_not() {
        let own = [500];
        let ctx = MapContext {
            account: AccountKind::User,
            own_ids: &own,
            now: 0,
        };
        let chat = -1_000_000_000_123;
        let table = [
            (77, true, Some(true)),
            (77, false, Some(false)),
            (500, true, None),
        ];
        for (admin, ban, expected) in table {
            let event = map_admin_log_event(chat, &toggle_ban(admin, 42, ban), &ctx);
            match (event, expected) {
                (
                    Some(Event::RestrictedByAdmin {
                        chat_id,
                        user_id,
                        admin_id,
                        banned,
                        ..
                    }),
                    Some(want),
                ) => {
                    assert_eq!(
                        (chat_id, user_id, admin_id, banned),
                        (chat, 42, admin, want)
                    );
                }
                (None, None) => {}
                (got, want) => panic!("admin {admin}: {got:?} vs {want:?}"),
            }
        }
    }
}
