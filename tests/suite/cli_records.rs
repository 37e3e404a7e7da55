//! The store-backed commands, run as the real binary against a database built through the store API.

use crate::common;

use std::path::Path;
use std::process::Output;
use warden_store::{
    ChatUpsert, MembershipJoin, NewHit, NewMessage, NewRestriction, NewStrike, Store, UserUpsert,
    WriteOp,
};

/// `warden --db DB …` with the data dir beside it.
fn warden(db: &Path, args: &[&str]) -> Output {
    let mut all = vec!["--db", db.to_str().unwrap()];
    all.extend_from_slice(args);
    common::warden(db.parent().unwrap(), &all)
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn seeded_store(path: &Path) -> Store {
    let store = Store::open(path).unwrap();
    let w = store.writer();
    w.commit(WriteOp::UpsertChat(ChatUpsert {
        id: -100,
        title: "Rust Learners".into(),
        kind: "supergroup".into(),
        seen_at: 1_700_000_000,
    }))
    .unwrap();
    w.commit(WriteOp::UpsertUser(UserUpsert {
        id: 42,
        first_name: "Mallory".into(),
        last_name: None,
        username: Some("mal".into()),
        is_bot: false,
        seen_at: 1_700_000_000,
    }))
    .unwrap();
    w.commit(WriteOp::Joined(MembershipJoin {
        chat_id: -100,
        user_id: 42,
        joined_at: 1_700_000_000,
        join_kind: "invite_link".into(),
        inviter_id: Some(7),
    }))
    .unwrap();
    w.commit(WriteOp::RecordMessage(NewMessage {
        chat_id: -100,
        message_id: 1,
        user_id: 42,
        ts: 1_700_000_060,
        text: "Earn 500$ a day, DM me".into(),
        media: "none".into(),
        edited: false,
        verdict: "spam".into(),
        score: 0.97,
        flagged: true,
        summary: "classifier, stop_phrase".into(),
        hits: vec![NewHit {
            name: "stop_phrase".into(),
            weight: 0.6,
            detail: "contains \"earn\" + amount".into(),
        }],
    }))
    .unwrap();
    w.add_strike(NewStrike {
        chat_id: -100,
        user_id: 42,
        reason: "scam offer".into(),
        source: "rule:first_message_spam".into(),
        ts: 1_700_000_061,
        expires_at: Some(1_702_592_061),
        message_id: Some(1),
    })
    .unwrap();
    w.add_restriction(NewRestriction {
        chat_id: -100,
        user_id: 42,
        kind: "mute".into(),
        since: 1_700_000_061,
        until: Some(1_700_086_461),
        reason: "second strike".into(),
        by: "mod:alice".into(),
    })
    .unwrap();
    store
}

#[test]
fn user_shows_profile_strikes_bans_and_messages() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("w.db");
    drop(seeded_store(&db));
    let out = warden(&db, &["user", "42"]);
    let shown = text(&out);
    assert!(out.status.success(), "{shown}");
    for expected in [
        "Mallory @mal",
        "Rust Learners: joined 2023-11-14 22:13 (invite_link by 7)",
        "scam offer (by rule:first_message_spam)",
        "mute 2023-11-14 22:14 chat -100",
        "second strike (by mod:alice)",
        "stop_phrase",
        "Earn 500$ a day",
    ] {
        assert!(
            shown.contains(expected),
            "missing {expected:?} in:\n{shown}"
        );
    }
    let json = warden(&db, &["user", "42", "--json"]);
    let parsed: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(parsed["strikes"][0]["reason"], "scam offer");
}

#[test]
fn user_tags_and_note_are_set_shown_and_cleared() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("w.db");
    drop(seeded_store(&db));
    let args = [
        "user",
        "42",
        "--tag",
        "Crypto Scam",
        "--tag",
        "ring",
        "--note",
        "same as @bob",
    ];
    let shown = text(&warden(&db, &args));
    assert!(shown.contains("tags      crypto-scam, ring"), "{shown}");
    assert!(shown.contains("note      same as @bob"), "{shown}");
    let shown = text(&warden(
        &db,
        &["user", "42", "--untag", "ring", "--note", ""],
    ));
    assert!(shown.contains("tags      crypto-scam"), "{shown}");
    assert!(
        !shown.contains("ring") && !shown.contains("note "),
        "{shown}"
    );
}

#[test]
fn stop_phrases_are_added_switched_off_and_listed() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("w.db");
    drop(seeded_store(&db));
    for args in [
        &["stop-phrases", "add", "продам", "гараж"][..],
        &["stop-phrases", "add", "=hi all"],
        &["stop-phrases", "remove", "доход от"],
    ] {
        let out = warden(&db, args);
        assert!(out.status.success(), "{}", text(&out));
    }
    let out = warden(&db, &["stop-phrases", "add", "!!!"]);
    assert!(!out.status.success());
    assert!(
        text(&out).contains("no letters or digits"),
        "{}",
        text(&out)
    );
    let huge = "спам ".repeat(100);
    let out = warden(&db, &["stop-phrases", "add", &huge]);
    assert!(!out.status.success());
    assert!(
        text(&out).contains("at most 200 characters"),
        "{}",
        text(&out)
    );
    let listed = text(&warden(&db, &["stop-phrases", "list"]));
    assert!(
        listed.contains("продам гараж    (added by mod:"),
        "{listed}"
    );
    assert!(listed.contains("=hi all    (added by"), "{listed}");
    let (in_effect, off) = listed.split_once("switched off:").expect(&listed);
    assert!(!in_effect.lines().any(|l| l == "доход от"), "{listed}");
    assert!(off.contains("доход от"), "{listed}");
    let json: serde_json::Value =
        serde_json::from_str(&text(&warden(&db, &["stop-phrases", "list", "--json"]))).unwrap();
    let phrases = json["in_effect"].as_array().unwrap();
    assert!(phrases.iter().any(|p| p == "продам гараж"));
    assert!(!phrases.iter().any(|p| p == "доход от"));
    assert_eq!(json["edits"].as_array().unwrap().len(), 3);
}

#[test]
fn forget_needs_confirmation_then_clears_and_keeps_the_chain() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("w.db");
    drop(seeded_store(&db));
    let refused = warden(&db, &["forget", "42"]);
    assert!(!refused.status.success());
    assert!(text(&refused).contains("--yes"));
    let done = warden(&db, &["forget", "42", "--yes"]);
    assert!(done.status.success(), "{}", text(&done));
    let shown = text(&warden(&db, &["user", "42"]));
    assert!(!shown.contains("Mallory"), "{shown}");
    assert!(!shown.contains("Earn 500$"), "{shown}");
    let verify = warden(&db, &["audit", "verify"]);
    assert!(verify.status.success(), "{}", text(&verify));
    assert!(text(&verify).contains("intact"));
}

#[test]
fn audit_verify_names_the_tampered_row() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("w.db");
    drop(seeded_store(&db));
    // An attacker with file access drops the append-only trigger first.
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute_batch("DROP TRIGGER audit_no_update").unwrap();
    let first: i64 = conn
        .query_row("SELECT MIN(id) FROM audit", [], |r| r.get(0))
        .unwrap();
    conn.execute("UPDATE audit SET actor = 'mod:eve' WHERE id = ?1", [first])
        .unwrap();
    drop(conn);
    let out = warden(&db, &["audit", "verify"]);
    assert!(!out.status.success());
    assert!(
        text(&out).contains(&format!("BROKEN at row {first}")),
        "{}",
        text(&out)
    );
}

#[test]
fn db_check_and_backup() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("w.db");
    let store = seeded_store(&db);
    let check = warden(&db, &["db", "check"]);
    assert!(check.status.success(), "{}", text(&check));
    assert!(text(&check).contains("integrity: ok"));
    // The backup is taken while the store (and its writer) is still open.
    let backup = dir.path().join("copy.db");
    let out = warden(&db, &["db", "backup", backup.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    drop(store);
    let copy = Store::open(&backup).unwrap();
    let history = copy.reader().unwrap().user_history(42, None).unwrap();
    assert_eq!(history.strikes.len(), 1);
    let again = warden(&db, &["db", "backup", backup.to_str().unwrap()]);
    assert!(text(&again).contains("already exists"));
}

#[test]
fn corrupt_or_missing_database_gets_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("junk.db");
    std::fs::write(
        &db,
        b"this is not sqlite at all, just some text\n".repeat(200),
    )
    .unwrap();
    let out = warden(&db, &["db", "check"]);
    assert!(!out.status.success());
    let shown = text(&out);
    assert!(
        shown.contains("not a Warden database") && shown.contains("junk.db"),
        "{shown}"
    );
    assert!(!shown.contains("panicked"), "{shown}");
    let missing = warden(&dir.path().join("none.db"), &["user", "1"]);
    assert!(
        text(&missing).contains("no database at"),
        "{}",
        text(&missing)
    );
}

#[test]
fn paths_lists_overrides() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("w.db");
    let out = warden(&db, &["paths"]);
    let shown = text(&out);
    assert!(
        shown.contains(&format!("database       {}", db.display())),
        "{shown}"
    );
    assert!(shown.contains("demo database"), "{shown}");
}

#[test]
fn members_lists_who_joined_newest_first_with_how() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("w.db");
    let store = seeded_store(&db);
    let now = warden::model::unix_now();
    store
        .writer()
        .commit(WriteOp::MembersListed(vec![
            MembershipJoin {
                chat_id: -100,
                user_id: 43,
                joined_at: now - 600,
                join_kind: "unknown".into(),
                inviter_id: None,
            },
            MembershipJoin {
                chat_id: -100,
                user_id: 44,
                joined_at: now - 300,
                join_kind: "added".into(),
                inviter_id: Some(42),
            },
        ]))
        .unwrap();
    drop(store);
    let out = warden(&db, &["members", "learners"]);
    let shown = text(&out);
    assert!(out.status.success(), "{shown}");
    assert!(
        shown.contains("Rust Learners (-100): 3 member(s)"),
        "{shown}"
    );
    let lines: Vec<&str> = shown.lines().skip(1).collect();
    assert!(
        lines[0].contains(" 44 ") && lines[0].contains("added, by 42"),
        "{shown}"
    );
    assert!(lines[1].contains(" 43 "), "{shown}");
    assert!(
        lines[2].contains("Mallory @mal") && lines[2].contains("via invite link, of 7"),
        "{shown}"
    );
    // --since keeps the recent joins only.
    let recent = text(&warden(&db, &["members", "-100", "--since", "1h"]));
    assert!(recent.contains("2 member(s) joined since"), "{recent}");
    assert!(!recent.contains("Mallory"), "{recent}");
    let json: serde_json::Value =
        serde_json::from_slice(&warden(&db, &["members", "-100", "--json"]).stdout).unwrap();
    assert_eq!(json[0]["user_id"], 44);
    let unknown = warden(&db, &["members", "nope"]);
    assert!(!unknown.status.success());
    assert!(
        text(&unknown).contains("no chat matches \"nope\""),
        "{}",
        text(&unknown)
    );
}
