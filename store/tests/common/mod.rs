//! Fixtures shared by the store's integration tests.
#![allow(dead_code)]

use serde_json::json;
use warden_store::*;

pub const T0: i64 = 1_700_000_000;
pub const CHAT: i64 = -100_123;

pub fn open_temp() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("warden.db")).unwrap();
    (dir, store)
}

pub fn action(key: &str) -> NewAction {
    NewAction {
        kind: "ban".into(),
        chat_id: CHAT,
        user_id: Some(42),
        message_id: Some(7),
        params: json!({ "seconds": null }),
        requested_by: "rule:links".into(),
        reason: "link spam".into(),
        idempotency_key: key.into(),
        dry_run: false,
    }
}

pub fn user(id: i64, first: &str, username: Option<&str>) -> UserUpsert {
    UserUpsert {
        id,
        first_name: first.into(),
        last_name: None,
        username: username.map(str::to_string),
        is_bot: false,
        seen_at: T0,
    }
}

pub fn message(chat_id: i64, message_id: i64, user_id: i64, ts: i64, flagged: bool) -> NewMessage {
    NewMessage {
        chat_id,
        message_id,
        user_id,
        ts,
        text: format!("message {message_id} from {user_id}"),
        media: "none".into(),
        edited: false,
        verdict: if flagged { "spam" } else { "clean" }.into(),
        score: if flagged { 0.9 } else { 0.1 },
        flagged,
        summary: if flagged { "link" } else { "" }.into(),
        hits: if flagged {
            vec![NewHit {
                name: "link".into(),
                weight: 0.6,
                detail: format!("link in message {message_id}"),
            }]
        } else {
            vec![]
        },
    }
}

pub fn strike(user_id: i64, source: &str, ts: i64) -> NewStrike {
    NewStrike {
        chat_id: CHAT,
        user_id,
        reason: "posted a scam link".into(),
        source: source.into(),
        ts,
        expires_at: Some(ts + 86_400),
        message_id: None,
    }
}

pub fn label(user_id: Option<i64>, text: &str, kind: &str) -> NewLabel {
    NewLabel {
        chat_id: Some(CHAT),
        message_id: None,
        user_id,
        text: text.into(),
        label: kind.into(),
        origin: "moderator".into(),
        by: "mod:alice".into(),
        ts: T0,
    }
}

pub fn membership(
    user_id: i64,
    joined_at: i64,
    kind: &str,
    inviter_id: Option<i64>,
) -> MembershipJoin {
    MembershipJoin {
        chat_id: CHAT,
        user_id,
        joined_at,
        join_kind: kind.into(),
        inviter_id,
    }
}
