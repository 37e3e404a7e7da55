//! The Telegram Desktop export reader on hand-made exports covering every field it maps, and on
//! malformed variants.

use std::path::PathBuf;
use warden::import::{
    CHANNEL_BOT_ID, ImportError, ImportOptions, SYNTHETIC_ID_BASE, read_export, read_export_file,
};
use warden::model::{ChatKind, EntityKind, Event, JoinKind, MediaKind};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/export")
        .join(name)
}

fn read_all(name: &str) -> (Vec<Event>, warden::import::ImportSummary) {
    let mut events = Vec::new();
    let summary = read_export_file(&fixture(name), &ImportOptions::default(), |e| {
        events.push(e);
        Ok(())
    })
    .unwrap();
    (events, summary)
}

const CHAT: i64 = -1_001_755_919_516;

#[test]
fn maps_every_field_of_a_modern_export() {
    let (events, summary) = read_all("result.json");
    assert_eq!(summary.header.name, "Warden Test Group");
    assert_eq!(summary.header.chat_id, CHAT);
    let s = &summary.stats;
    assert_eq!((s.messages, s.service_messages, s.edits), (7, 7, 1));
    assert_eq!(s.skipped_service.get("pin_message"), Some(&1));
    assert_eq!(s.skipped_service.get("create_group"), Some(&1));
    assert_eq!(s.out_of_order, 0);
    assert_eq!(s.events, events.len() as u64);

    let kinds: Vec<String> = events
        .iter()
        .map(|e| match e {
            Event::Message(m) => format!("msg{}", m.id),
            Event::Edited(m) => format!("edit{}", m.id),
            Event::Joined { user, .. } => format!("join:{}", user.first_name),
            Event::Left { user_id, .. } => format!("left:{user_id}"),
            Event::RestrictedByAdmin { user_id, .. } => format!("removed:{user_id}"),
            Event::ChatSeen { .. } => "seen".into(),
            Event::Deleted { .. } => "deleted".into(),
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "seen",
            "msg2",
            "msg3",
            "join:Sam Spammer",
            "msg6",
            "removed:7700000001",
            "join:Dana Friend",
            "join:Eve Friend",
            "join:Carol Joiner",
            "msg10",
            "msg12",
            "msg13",
            "left:1003",
            "edit3",
            "msg15",
        ]
    );
    let dates: Vec<i64> = events.iter().map(Event::date).collect();
    assert!(dates.windows(2).all(|w| w[0] <= w[1]), "{dates:?}");
    assert!(events.iter().all(|e| e.chat_id() == CHAT));

    let by_id = |id: i64| {
        events
            .iter()
            .find_map(|e| match e {
                Event::Message(m) if m.id == id => Some(m.clone()),
                _ => None,
            })
            .unwrap()
    };
    assert!(
        matches!(&events[0], Event::ChatSeen { kind: ChatKind::Supergroup, title, date: 1_772_445_600, .. } if title == "Warden Test Group")
    );

    let plain = by_id(2);
    assert_eq!(
        (plain.from.id, plain.from.first_name.as_str()),
        (1002, "Bob Regular")
    );
    assert_eq!(plain.text, "Morning all, plain string text");
    assert!(plain.entities.is_empty());

    let rich = by_id(3);
    assert_eq!(
        rich.text,
        "Read the docs and жми https://t.me/warden 👋 @carol 🔥"
    );
    let kinds: Vec<EntityKind> = rich.entities.iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        [
            EntityKind::TextUrl,
            EntityKind::Bold,
            EntityKind::Url,
            EntityKind::Mention,
            EntityKind::CustomEmoji
        ]
    );
    assert_eq!(
        rich.entities[0].url.as_deref(),
        Some("https://docs.example.org")
    );
    // UTF-16 offsets: "@carol" starts after "👋 " (a surrogate pair).
    let mention = &rich.entities[3];
    let utf16: Vec<u16> = rich.text.encode_utf16().collect();
    let slice = String::from_utf16(
        &utf16[mention.offset as usize..(mention.offset + mention.length) as usize],
    )
    .unwrap();
    assert_eq!(slice, "@carol");
    assert!(!rich.edited);
    let edit = events
        .iter()
        .find_map(|e| {
            if let Event::Edited(m) = e {
                Some(m)
            } else {
                None
            }
        })
        .unwrap();
    assert_eq!((edit.id, edit.date, edit.edited), (3, 1_772_447_400, true));
    assert_eq!(edit.text, rich.text);

    let Some(Event::Joined { user, how, .. }) = events.get(3) else {
        panic!()
    };
    assert_eq!(user.id, 7_700_000_001);
    assert_eq!(
        how,
        &JoinKind::InviteLink {
            link: String::new(),
            inviter: Some(1001)
        }
    );

    let spam = by_id(6);
    let forward = spam.forward.as_ref().unwrap();
    assert!(forward.from_channel);
    assert_eq!(forward.from_id, Some(-1_001_999_000_001));
    assert_eq!(forward.from_name.as_deref(), Some("Crypto Signals"));
    assert_eq!(spam.media, MediaKind::Photo);
    assert_eq!(spam.buttons.len(), 2);
    assert_eq!(
        spam.buttons[0].url.as_deref(),
        Some("https://easy-profit.xyz/join")
    );
    assert_eq!(spam.buttons[1].url, None);

    assert!(matches!(
        events[5],
        Event::RestrictedByAdmin {
            user_id: 7_700_000_001,
            admin_id: 1001,
            banned: true,
            ..
        }
    ));
    // Added members are known by name only: synthetic ids, added by the inviter.
    for e in &events[6..8] {
        let Event::Joined { user, how, .. } = e else {
            panic!("{e:?}")
        };
        assert!(user.id >= SYNTHETIC_ID_BASE);
        assert_eq!(how, &JoinKind::AddedBy { by: 1002 });
    }
    assert_eq!(summary.stats.synthetic_ids, 2);
    assert!(
        matches!(&events[8], Event::Joined { user, how: JoinKind::Direct, .. } if user.id == 1003)
    );

    let channel_post = by_id(10);
    assert_eq!(channel_post.from.id, CHANNEL_BOT_ID);
    let sender = channel_post.sender_chat.unwrap();
    assert_eq!(
        (sender.id, sender.title.as_str()),
        (-1_001_999_000_002, "Crypto Signals Daily")
    );

    assert_eq!(by_id(12).media, MediaKind::Document);
    assert_eq!(by_id(12).text, "");
    let sticker = by_id(13);
    assert_eq!(sticker.media, MediaKind::Sticker);
    assert!(sticker.reply_to_other_chat);
    let deleted_account = by_id(15);
    assert_eq!(
        (
            deleted_account.from.id,
            deleted_account.from.first_name.as_str()
        ),
        (1005, "Deleted Account")
    );
}

#[test]
fn old_export_with_integer_ids_and_local_dates() {
    let (events, summary) = read_all("result-2021.json");
    assert_eq!(summary.header.chat_id, -1_001_100_200_300);
    let Event::Message(first) = &events[1] else {
        panic!()
    };
    assert_eq!(first.from.id, 5_598_299_972);
    // 2021-03-14T12:00:00 read as UTC.
    assert_eq!(first.date, 1_615_723_200);
    assert_eq!(
        summary.stats.out_of_order, 1,
        "message 23 is dated before 22"
    );
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::Edited(m) if m.id == 22 && m.date == 1_615_723_560))
    );

    let shifted = ImportOptions {
        utc_offset_seconds: 3 * 3600,
        chat_id: Some(-42),
    };
    let mut dates = Vec::new();
    read_export_file(&fixture("result-2021.json"), &shifted, |e| {
        assert_eq!(e.chat_id(), -42);
        dates.push(e.date());
        Ok(())
    })
    .unwrap();
    assert_eq!(dates[1], 1_615_723_200 - 3 * 3600);
}

fn read_str(text: &[u8]) -> Result<Vec<Event>, ImportError> {
    let mut events = Vec::new();
    read_export(text, &ImportOptions::default(), |e| {
        events.push(e);
        Ok(())
    })?;
    Ok(events)
}

#[test]
fn truncated_file_reports_byte_offset_and_last_message() {
    let full = std::fs::read(fixture("result.json")).unwrap();
    let cut = full.len() * 2 / 3;
    let err = read_str(&full[..cut]).unwrap_err();
    match &err {
        ImportError::Malformed {
            offset,
            after_message_id,
            ..
        } => {
            assert!(
                (*offset as usize) <= cut && *offset as usize > cut - 16,
                "offset {offset} vs cut {cut}"
            );
            assert!(after_message_id.is_some());
        }
        other => panic!("unexpected {other}"),
    }
    assert!(err.to_string().contains("at byte"), "{err}");
}

#[test]
fn syntax_error_points_at_the_broken_byte() {
    let text = br#"{"name": "x", "type": "private_supergroup", "id": 1, "messages": [
 {"id": 1, "type": "message", "date_unixtime": "100", "from": "a", "from_id": "user1", "text": "ok"},
 {"id": 2, "type": "message", "date_unixtime": "101", "from": "a", "from_id": "user1", "text": "ok" oops}
]}"#;
    let broken = text.windows(4).position(|w| w == b"oops").unwrap() as u64;
    match read_str(text).unwrap_err() {
        ImportError::Malformed {
            offset,
            line,
            after_message_id,
            ..
        } => {
            assert!(
                (broken..=broken + 1).contains(&offset),
                "offset {offset}, broken at {broken}"
            );
            assert_eq!(line, 3);
            assert_eq!(after_message_id, Some(1));
        }
        other => panic!("unexpected {other}"),
    }
}

#[test]
fn bad_field_values_name_the_message_id() {
    let bad_date = br#"{"name": "x", "type": "private_supergroup", "id": 1, "messages": [
 {"id": 77, "type": "message", "date": "someday", "from": "a", "from_id": "user1", "text": "ok"}]}"#;
    let err = read_str(bad_date).unwrap_err();
    assert!(matches!(err, ImportError::Message { id: 77, .. }), "{err}");
    assert!(err.to_string().contains("message 77"), "{err}");

    let wrong_type = br#"{"name": "x", "type": "private_supergroup", "id": 1, "messages": [
 {"id": 5, "type": "message", "date_unixtime": "1", "from": "a", "from_id": "user1", "text": "ok"},
 {"id": "six", "type": "message", "date_unixtime": "2", "text": "ok"}]}"#;
    match read_str(wrong_type).unwrap_err() {
        ImportError::Malformed {
            after_message_id,
            message,
            ..
        } => {
            assert_eq!(after_message_id, Some(5));
            assert!(
                message.contains("expected i64") || message.contains("invalid type"),
                "{message}"
            );
        }
        other => panic!("unexpected {other}"),
    }
}

#[test]
fn not_an_export_is_said_plainly() {
    let err = read_str(br#"{"about": "x", "chats": {"list": []}}"#).unwrap_err();
    assert!(
        matches!(err, ImportError::NotAnExport(ref m) if m.contains("full-account")),
        "{err}"
    );
    let err = read_str(br#"{"name": "x"}"#).unwrap_err();
    assert!(matches!(err, ImportError::NotAnExport(_)), "{err}");
    let err = read_str(b"[1, 2]").unwrap_err();
    assert!(matches!(err, ImportError::Malformed { .. }), "{err}");
}

#[test]
fn non_utf8_file_gets_an_encoding_hint() {
    // "Привет" in Windows-1251.
    let mut text = br#"{"name": "x", "type": "private_supergroup", "id": 1, "messages": [
 {"id": 1, "type": "message", "date_unixtime": "1", "from": "a", "from_id": "user1", "text": ""#
        .to_vec();
    text.extend_from_slice(&[0xcf, 0xf0, 0xe8, 0xe2, 0xe5, 0xf2]);
    text.extend_from_slice(b"\"}]}");
    let err = read_str(&text).unwrap_err();
    assert!(err.to_string().contains("UTF-8"), "{err}");
}

#[test]
fn consumer_can_stop_the_import() {
    let mut seen = 0;
    let err = read_export_file(&fixture("result.json"), &ImportOptions::default(), |_| {
        seen += 1;
        if seen == 3 {
            anyhow::bail!("store is full")
        } else {
            Ok(())
        }
    })
    .unwrap_err();
    assert_eq!(seen, 3);
    assert!(err.to_string().contains("store is full"), "{err}");
    assert!(err.to_string().contains("result.json"), "{err}");
}

#[test]
fn missing_file_names_the_path() {
    let err =
        read_export_file(&fixture("nope.json"), &ImportOptions::default(), |_| Ok(())).unwrap_err();
    assert!(err.to_string().contains("nope.json"), "{err}");
}

/// A large generated export streams through with constant memory per message (this checks the
/// count, not the speed).
#[test]
fn large_export_streams_message_by_message() {
    struct Generated {
        n: usize,
        i: usize,
        buf: Vec<u8>,
        pos: usize,
    }
    impl std::io::Read for Generated {
        fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
            if self.pos == self.buf.len() {
                self.buf.clear();
                self.pos = 0;
                if self.i == 0 {
                    self.buf.extend_from_slice(
                        br#"{"name":"big","type":"public_supergroup","id":9,"messages":["#,
                    );
                }
                if self.i < self.n {
                    let sep = if self.i > 0 { "," } else { "" };
                    let text = format!(
                        r#"{sep}{{"id":{},"type":"message","date_unixtime":"{}","from":"u","from_id":"user{}","text":"message number {} {}"}}"#,
                        self.i + 1,
                        1_700_000_000 + self.i,
                        self.i % 97,
                        self.i,
                        "x".repeat(200)
                    );
                    self.buf.extend_from_slice(text.as_bytes());
                } else if self.i == self.n {
                    self.buf.extend_from_slice(b"]}");
                } else {
                    return Ok(0);
                }
                self.i += 1;
            }
            let n = out.len().min(self.buf.len() - self.pos);
            out[..n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
            self.pos += n;
            Ok(n)
        }
    }
    let n = 20_000;
    let mut count = 0;
    let summary = read_export(
        Generated {
            n,
            i: 0,
            buf: Vec::new(),
            pos: 0,
        },
        &ImportOptions::default(),
        |_| {
            count += 1;
            Ok(())
        },
    )
    .unwrap();
    assert_eq!(summary.stats.messages, n as u64);
    assert_eq!(count, n + 1);
    assert!(summary.stats.bytes_read > 4_000_000);
}
