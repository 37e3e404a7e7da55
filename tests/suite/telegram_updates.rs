//! `map_update` on real grammers `Update` values, produced offline: a client whose pool runner is
//! dropped (every RPC fails fast, nothing reaches the network) streams updates we feed it.

use grammers_client::session::updates::UpdatesLike;
use grammers_client::tl::{self, Deserializable, Serializable};
use grammers_client::update::Update;
use grammers_client::{Client, SenderPool};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use warden::model::{EntityKind, Event, JoinKind, MediaKind};
use warden::telegram::api::{AccountKind, Rights};
use warden::telegram::session::FileSession;
use warden::telegram::updates::{Inbound, MapContext, entity_text, listed_members, map_update};

const CHANNEL: i64 = 1_234_567;
/// Bot-API id of the channel: -(10^12 + id).
const CHAT_ID: i64 = -1_000_001_234_567;
const BASIC: i64 = 777;
const ALICE: i64 = 1001;
const BOB: i64 = 1002;
const MOD: i64 = 1003;
const WARDEN_BOT: i64 = 9000;
const DATE: i32 = 1_700_000_000;

struct Feed {
    tx: mpsc::Sender<UpdatesLike>,
    stream: grammers_client::client::UpdateStream,
    _client: Client,
}

impl Feed {
    async fn new() -> Feed {
        let session = Arc::new(FileSession::in_memory().unwrap());
        let pool = SenderPool::new(session, 1);
        let client = Client::new(pool.handle.clone());
        drop(pool.runner);
        let (tx, rx) = mpsc::channel(16);
        let stream = client.stream_updates(rx, Default::default()).await.unwrap();
        Feed {
            tx,
            stream,
            _client: client,
        }
    }

    /// Sends one batch and returns the grammers updates it produced.
    async fn push(&mut self, updates: Vec<tl::enums::Update>) -> Vec<Update> {
        let n = updates.len();
        let batch = tl::types::Updates {
            updates,
            users: vec![user(ALICE, "Alice"), user(BOB, "Bob"), user(MOD, "Mod")],
            chats: vec![channel(), basic_group()],
            date: DATE,
            seq: 0,
        };
        self.tx
            .send(UpdatesLike::Updates(batch.into()))
            .await
            .unwrap();
        let mut out = Vec::new();
        for _ in 0..n {
            let next = tokio::time::timeout(Duration::from_secs(5), self.stream.next())
                .await
                .expect("update arrives")
                .expect("no error");
            out.push(next);
        }
        out
    }
}

/// Writes one serialised field into a blob.
type Part<'a> = &'a dyn Fn(&mut Vec<u8>);

fn bytes(parts: &[Part<'_>]) -> Vec<u8> {
    let mut buf = Vec::new();
    for part in parts {
        part(&mut buf);
    }
    buf
}

fn user(id: i64, name: &str) -> tl::enums::User {
    // Generated types have no Default: decode a minimal blob (no flags), then fill in fields.
    let blob = bytes(&[&|b| 0u32.serialize(b), &|b| 0u32.serialize(b), &|b| {
        id.serialize(b)
    }]);
    let mut u = tl::types::User::from_bytes(&blob).unwrap();
    u.access_hash = Some(id * 7);
    u.first_name = Some(name.to_string());
    u.username = Some(name.to_lowercase());
    u.premium = id == ALICE;
    if id == ALICE {
        u.photo = Some(
            tl::types::UserProfilePhoto {
                has_video: false,
                personal: false,
                photo_id: 5,
                stripped_thumb: Some(vec![1, 40, 40, 0xff, 0xd8]),
                dc_id: 2,
            }
            .into(),
        );
    }
    u.into()
}

fn channel() -> tl::enums::Chat {
    let blob = bytes(&[
        &|b| 0u32.serialize(b),
        &|b| 0u32.serialize(b),
        &|b| CHANNEL.serialize(b),
        &|b| "Rust Lovers".to_string().serialize(b),
        &|b| tl::enums::ChatPhoto::Empty.serialize(b),
        &|b| DATE.serialize(b),
    ]);
    let mut c = tl::types::Channel::from_bytes(&blob).unwrap();
    c.megagroup = true;
    c.access_hash = Some(55);
    c.into()
}

fn basic_group() -> tl::enums::Chat {
    tl::types::Chat {
        creator: false,
        left: false,
        deactivated: false,
        call_active: false,
        call_not_empty: false,
        noforwards: false,
        id: BASIC,
        title: "Small group".into(),
        photo: tl::enums::ChatPhoto::Empty,
        participants_count: 3,
        date: DATE,
        version: 1,
        migrated_to: None,
        admin_rights: None,
        default_banned_rights: None,
    }
    .into()
}

fn peer_channel() -> tl::enums::Peer {
    tl::types::PeerChannel {
        channel_id: CHANNEL,
    }
    .into()
}

fn peer_user(id: i64) -> tl::enums::Peer {
    tl::types::PeerUser { user_id: id }.into()
}

fn message(
    id: i32,
    peer: tl::enums::Peer,
    from: Option<tl::enums::Peer>,
    text: &str,
) -> tl::types::Message {
    let blob = bytes(&[
        &|b| 0u32.serialize(b),
        &|b| 0u32.serialize(b),
        &|b| id.serialize(b),
        &|b| peer.serialize(b),
        &|b| DATE.serialize(b),
        &|b| text.to_string().serialize(b),
    ]);
    let mut m = tl::types::Message::from_bytes(&blob).unwrap();
    m.from_id = from;
    m
}

fn service(
    id: i32,
    peer: tl::enums::Peer,
    from: i64,
    action: tl::enums::MessageAction,
) -> tl::enums::Message {
    let blob = bytes(&[
        &|b| 0u32.serialize(b),
        &|b| id.serialize(b),
        &|b| peer.serialize(b),
        &|b| DATE.serialize(b),
        &|b| action.serialize(b),
    ]);
    let mut m = tl::types::MessageService::from_bytes(&blob).unwrap();
    m.from_id = Some(peer_user(from));
    m.into()
}

fn rights(view_messages: bool, until: i32) -> tl::enums::ChatBannedRights {
    let mut r = Rights::read_only();
    r.view_messages = view_messages;
    r.to_tl(until).into()
}

fn ctx(account: AccountKind) -> MapContext<'static> {
    MapContext {
        account,
        own_ids: &[WARDEN_BOT],
        now: 1_800_000_000,
    }
}

fn events(updates: &[Update], account: AccountKind) -> Vec<Inbound> {
    updates
        .iter()
        .flat_map(|u| map_update(u, &ctx(account)))
        .collect()
}

#[tokio::test]
async fn messages_edits_and_deletions_map_with_their_details() {
    let mut feed = Feed::new().await;
    let text = "👋 hi, join t.me/spam";
    let mut spam = message(10, peer_channel(), Some(peer_user(ALICE)), text);
    spam.entities = Some(vec![
        tl::types::MessageEntityUrl {
            offset: 12,
            length: 10,
        }
        .into(),
        // Out of range: must be cut, not trusted.
        tl::types::MessageEntityBold {
            offset: 3,
            length: 999,
        }
        .into(),
    ]);
    spam.reply_markup = Some(
        tl::types::ReplyInlineMarkup {
            force_reply: false,
            rows: vec![
                tl::types::KeyboardInlineButtonRow {
                    buttons: vec![
                        tl::types::KeyboardInlineButton {
                            style: None,
                            text: "FREE MONEY".into(),
                            r#type: tl::types::InlineButtonTypeUrl {
                                url: "https://scam.example".into(),
                            }
                            .into(),
                        }
                        .into(),
                    ],
                }
                .into(),
            ],
        }
        .into(),
    );
    spam.fwd_from = Some(
        tl::types::MessageFwdHeader {
            imported: false,
            saved_out: false,
            from_id: Some(tl::types::PeerChannel { channel_id: 4242 }.into()),
            from_name: None,
            date: DATE - 60,
            channel_post: Some(3),
            post_author: None,
            saved_from_peer: None,
            saved_from_msg_id: None,
            saved_from_id: None,
            saved_from_name: None,
            saved_date: None,
            psa_type: None,
        }
        .into(),
    );
    spam.media = Some(
        tl::types::MessageMediaContact {
            phone_number: "+100".into(),
            first_name: "x".into(),
            last_name: String::new(),
            vcard: String::new(),
            user_id: 0,
        }
        .into(),
    );
    let mut edited = message(10, peer_channel(), Some(peer_user(ALICE)), "harmless now");
    edited.edit_date = Some(DATE + 5);
    // Anonymous admin: posted as the group itself.
    let anonymous = message(11, peer_channel(), Some(peer_channel()), "as the group");

    let updates = feed
        .push(vec![
            tl::types::UpdateNewChannelMessage {
                message: spam.into(),
                pts: 100,
                pts_count: 1,
            }
            .into(),
            tl::types::UpdateEditChannelMessage {
                message: edited.into(),
                pts: 101,
                pts_count: 1,
            }
            .into(),
            tl::types::UpdateNewChannelMessage {
                message: anonymous.into(),
                pts: 102,
                pts_count: 1,
            }
            .into(),
            tl::types::UpdateDeleteChannelMessages {
                channel_id: CHANNEL,
                messages: vec![10, 11],
                pts: 104,
                pts_count: 2,
            }
            .into(),
        ])
        .await;
    let got = events(&updates, AccountKind::Bot);
    assert_eq!(got.len(), 4, "{got:#?}");

    let Inbound::Event(Event::Message(m)) = &got[0] else {
        panic!("{:?}", got[0])
    };
    assert_eq!((m.chat_id, m.id, m.date), (CHAT_ID, 10, i64::from(DATE)));
    assert_eq!(m.text, text);
    assert_eq!(m.from.id, ALICE);
    assert_eq!(m.from.first_name, "Alice");
    assert_eq!(m.from.username.as_deref(), Some("alice"));
    assert!(m.from.is_premium);
    assert_eq!(m.from.has_photo, Some(true));
    assert!(
        m.from.avatar_hash.is_some(),
        "the photo preview is hashed for clusters"
    );
    assert_eq!(m.entities.len(), 2);
    assert_eq!(m.entities[0].kind, EntityKind::Url);
    assert_eq!(entity_text(&m.text, &m.entities[0]), Some("t.me/spam"));
    let units = text.encode_utf16().count() as u32;
    assert_eq!(m.entities[1].offset + m.entities[1].length, units);
    assert_eq!(m.buttons.len(), 1);
    assert_eq!(m.buttons[0].url.as_deref(), Some("https://scam.example"));
    let fwd = m.forward.as_ref().unwrap();
    assert!(fwd.from_channel);
    assert_eq!(fwd.from_id, Some(-1_000_000_004_242));
    assert_eq!(m.media, MediaKind::Contact);
    assert!(!m.edited && m.sender_chat.is_none());

    let Inbound::Event(Event::Edited(e)) = &got[1] else {
        panic!("{:?}", got[1])
    };
    assert!(e.edited);
    assert_eq!(e.text, "harmless now");

    let Inbound::Event(Event::Message(a)) = &got[2] else {
        panic!("{:?}", got[2])
    };
    let sender_chat = a.sender_chat.as_ref().expect("sender chat");
    assert_eq!(sender_chat.id, CHAT_ID);
    assert_eq!(sender_chat.title, "Rust Lovers");

    assert_eq!(
        got[3],
        Inbound::Event(Event::Deleted {
            chat_id: CHAT_ID,
            ids: vec![10, 11],
            date: 1_800_000_000,
        })
    );
}

fn participant(
    qts: i32,
    actor: i64,
    user: i64,
    prev: Option<tl::enums::ChannelParticipant>,
    new: Option<tl::enums::ChannelParticipant>,
    invite: Option<tl::enums::ExportedChatInvite>,
) -> tl::enums::Update {
    tl::types::UpdateChannelParticipant {
        via_chatlist: false,
        channel_id: CHANNEL,
        date: DATE,
        actor_id: actor,
        user_id: user,
        prev_participant: prev,
        new_participant: new,
        invite,
        qts,
    }
    .into()
}

fn member(user: i64) -> tl::enums::ChannelParticipant {
    tl::types::ChannelParticipant {
        user_id: user,
        date: DATE,
        subscription_until_date: None,
        rank: None,
    }
    .into()
}

fn banned(user: i64, by: i64, view_messages: bool, until: i32) -> tl::enums::ChannelParticipant {
    tl::types::ChannelParticipantBanned {
        left: false,
        peer: peer_user(user),
        kicked_by: by,
        date: DATE,
        banned_rights: rights(view_messages, until),
        rank: None,
    }
    .into()
}

#[tokio::test]
async fn participant_updates_give_joins_leaves_and_bans_by_other_admins() {
    let mut feed = Feed::new().await;
    let invite = tl::types::ChatInviteExported {
        revoked: false,
        permanent: false,
        request_needed: false,
        link: "https://t.me/+abc".into(),
        admin_id: MOD,
        date: DATE,
        start_date: None,
        expire_date: None,
        usage_limit: None,
        usage: None,
        requested: None,
        subscription_expired: None,
        title: None,
        subscription_pricing: None,
    };
    let updates = feed
        .push(vec![
            participant(
                1,
                ALICE,
                ALICE,
                None,
                Some(member(ALICE)),
                Some(invite.into()),
            ),
            participant(2, MOD, BOB, None, Some(member(BOB)), None),
            participant(
                3,
                MOD,
                ALICE,
                Some(member(ALICE)),
                Some(banned(ALICE, MOD, true, 0)),
                None,
            ),
            participant(
                4,
                MOD,
                BOB,
                Some(member(BOB)),
                Some(banned(BOB, MOD, false, DATE + 600)),
                None,
            ),
            // Warden's own ban must not come back as "another admin's".
            participant(
                5,
                WARDEN_BOT,
                BOB,
                Some(member(BOB)),
                Some(banned(BOB, WARDEN_BOT, true, 0)),
                None,
            ),
            participant(6, BOB, BOB, Some(member(BOB)), None, None),
            tl::types::UpdateChatDefaultBannedRights {
                peer: peer_channel(),
                default_banned_rights: rights(false, 0),
                version: 2,
            }
            .into(),
        ])
        .await;
    let mut got = events(&updates, AccountKind::Bot);
    // The rights change carries no qts, so grammers may hand it over before the others.
    let rights_at = got
        .iter()
        .position(|e| matches!(e, Inbound::DefaultRightsChanged { .. }))
        .expect("rights change");
    let rights_change = got.remove(rights_at);
    assert_eq!(
        rights_change,
        Inbound::DefaultRightsChanged {
            chat_id: CHAT_ID,
            rights: Rights::read_only(),
        }
    );
    let expected = vec![
        Inbound::Event(Event::Joined {
            chat_id: CHAT_ID,
            user: warden::model::Person {
                id: ALICE,
                ..Default::default()
            },
            date: i64::from(DATE),
            how: JoinKind::InviteLink {
                link: "https://t.me/+abc".into(),
                inviter: Some(MOD),
            },
        }),
        Inbound::Event(Event::Joined {
            chat_id: CHAT_ID,
            user: warden::model::Person {
                id: BOB,
                ..Default::default()
            },
            date: i64::from(DATE),
            how: JoinKind::AddedBy { by: MOD },
        }),
        Inbound::Event(Event::RestrictedByAdmin {
            chat_id: CHAT_ID,
            user_id: ALICE,
            admin_id: MOD,
            date: i64::from(DATE),
            banned: true,
            until: None,
        }),
        Inbound::Event(Event::RestrictedByAdmin {
            chat_id: CHAT_ID,
            user_id: BOB,
            admin_id: MOD,
            date: i64::from(DATE),
            banned: false,
            until: Some(i64::from(DATE + 600)),
        }),
        Inbound::Event(Event::Left {
            chat_id: CHAT_ID,
            user_id: BOB,
            date: i64::from(DATE),
        }),
    ];
    assert_eq!(got, expected);
}

#[tokio::test]
async fn service_messages_give_joins_for_the_user_account_and_basic_groups() {
    let mut feed = Feed::new().await;
    let basic_peer: tl::enums::Peer = tl::types::PeerChat { chat_id: BASIC }.into();
    let updates = feed
        .push(vec![
            tl::types::UpdateNewMessage {
                message: service(
                    20,
                    basic_peer.clone(),
                    MOD,
                    tl::types::MessageActionChatAddUser {
                        users: vec![ALICE, BOB],
                    }
                    .into(),
                ),
                pts: 50,
                pts_count: 1,
            }
            .into(),
            tl::types::UpdateNewMessage {
                message: service(
                    21,
                    basic_peer.clone(),
                    BOB,
                    tl::types::MessageActionChatDeleteUser { user_id: BOB }.into(),
                ),
                pts: 51,
                pts_count: 1,
            }
            .into(),
            tl::types::UpdateNewChannelMessage {
                message: service(
                    22,
                    peer_channel(),
                    ALICE,
                    tl::types::MessageActionChatJoinedByLink { inviter_id: MOD }.into(),
                ),
                pts: 200,
                pts_count: 1,
            }
            .into(),
        ])
        .await;
    let got = events(&updates, AccountKind::User);
    assert_eq!(got.len(), 4, "{got:#?}");
    let Inbound::Event(Event::Joined {
        chat_id, user, how, ..
    }) = &got[0]
    else {
        panic!("{:?}", got[0])
    };
    assert_eq!((*chat_id, user.id), (-BASIC, ALICE));
    assert_eq!(how, &JoinKind::AddedBy { by: MOD });
    assert!(matches!(
        &got[2],
        Inbound::Event(Event::Left { user_id: BOB, .. })
    ));
    let Inbound::Event(Event::Joined {
        chat_id, user, how, ..
    }) = &got[3]
    else {
        panic!("{:?}", got[3])
    };
    assert_eq!(*chat_id, CHAT_ID);
    assert_eq!(user.first_name, "Alice");
    assert!(matches!(
        how,
        JoinKind::InviteLink {
            inviter: Some(MOD),
            ..
        }
    ));

    // The bot learns supergroup joins from participant updates instead: no duplicate here.
    let bot_view = events(&updates[2..], AccountKind::Bot);
    assert!(bot_view.is_empty(), "{bot_view:?}");
}

#[test]
fn member_list_pages_give_join_dates_inviters_and_skip_leavers() {
    let creator: tl::enums::ChannelParticipant = tl::types::ChannelParticipantCreator {
        user_id: MOD,
        admin_rights: tl::types::ChatAdminRights::from_bytes(&0u32.to_bytes())
            .unwrap()
            .into(),
        rank: None,
    }
    .into();
    let added_by_alice: tl::enums::ChannelParticipant = tl::types::ChannelParticipantSelf {
        via_request: false,
        user_id: WARDEN_BOT,
        inviter_id: ALICE,
        date: DATE - 50,
        subscription_until_date: None,
        rank: None,
    }
    .into();
    let gone: tl::enums::ChannelParticipant = tl::types::ChannelParticipantBanned {
        left: true,
        peer: peer_user(2002),
        kicked_by: MOD,
        date: DATE,
        banned_rights: rights(true, 0),
        rank: None,
    }
    .into();
    let listed = listed_members(
        &[
            member(ALICE),
            creator,
            added_by_alice,
            banned(BOB, MOD, false, 0),
            gone,
            // Telegram sent no user object for this one: still listed, by id.
            member(3003),
        ],
        &[user(ALICE, "Alice"), user(BOB, "Bob"), user(MOD, "Mod")],
    );
    let rows: Vec<(i64, Option<i64>, Option<i64>)> = listed
        .iter()
        .map(|m| (m.person.id, m.joined_at, m.inviter))
        .collect();
    let date = Some(i64::from(DATE));
    assert_eq!(
        rows,
        vec![
            (ALICE, date, None),
            (MOD, None, None),
            (WARDEN_BOT, Some(i64::from(DATE - 50)), Some(ALICE)),
            // Restricted but still in the chat.
            (BOB, date, None),
            (3003, date, None),
        ]
    );
    assert_eq!(listed[0].person.first_name, "Alice");
    assert!(listed[0].person.avatar_hash.is_some(), "photo preview kept");
    assert_eq!(listed[3].person.username.as_deref(), Some("bob"));
}
