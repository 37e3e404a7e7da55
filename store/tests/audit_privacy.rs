mod common;

use common::*;
use serde_json::json;
use warden_store::*;

fn seed(store: &Store) {
    let w = store.writer();
    w.commit(WriteOp::UpsertChat(ChatUpsert {
        id: CHAT,
        title: "Rust Learners".into(),
        kind: "supergroup".into(),
        seen_at: T0,
    }))
    .unwrap();
    w.commit(WriteOp::UpsertUser(user(42, "Mallory", Some("mallory_x"))))
        .unwrap();
    w.commit(WriteOp::UpsertUser(user(7, "Alice", Some("alice"))))
        .unwrap();
    w.commit(WriteOp::Joined(membership(42, T0, "invite_link", Some(7))))
        .unwrap();
    for i in 0..5 {
        w.submit(WriteOp::RecordMessage(message(
            CHAT,
            i,
            42,
            T0 + i,
            i % 2 == 0,
        )));
        w.submit(WriteOp::RecordMessage(message(
            CHAT,
            100 + i,
            7,
            T0 + i,
            false,
        )));
    }
    w.flush().unwrap();
    w.add_strike(strike(42, "rule:links", T0 + 10)).unwrap();
    w.add_label(label(Some(42), "buy cheap crypto now", "spam"))
        .unwrap();
    w.add_label(label(Some(42), "hello everyone, I am new", "ham"))
        .unwrap();
    w.enqueue_action(action("ban:42"), T0 + 11).unwrap();
}

#[test]
fn chain_verifies_and_tampering_names_the_row() {
    let (dir, store) = open_temp();
    seed(&store);
    let r = store.reader().unwrap();
    let check = r.verify_audit().unwrap();
    assert!(check.rows >= 4, "{check:?}");
    assert_eq!(check.first_broken, None);

    // Behind the store's back: lift the append-only guard and rewrite row 2's actor.
    let raw = rusqlite::Connection::open(dir.path().join("warden.db")).unwrap();
    raw.execute_batch("DROP TRIGGER audit_no_update").unwrap();
    raw.execute("UPDATE audit SET actor = 'mod:eve' WHERE id = 2", [])
        .unwrap();
    let check = r.verify_audit().unwrap();
    assert_eq!(check.first_broken, Some(2));
    assert_eq!(
        check.rows,
        store.reader().unwrap().verify_audit().unwrap().rows
    );
}

#[test]
fn audit_rejects_deletes_and_updates() {
    let (dir, store) = open_temp();
    seed(&store);
    let raw = rusqlite::Connection::open(dir.path().join("warden.db")).unwrap();
    let err = raw
        .execute("DELETE FROM audit WHERE id = 1", [])
        .unwrap_err();
    assert!(err.to_string().contains("append-only"), "{err}");
    let err = raw
        .execute("UPDATE audit SET ts = 0 WHERE id = 1", [])
        .unwrap_err();
    assert!(err.to_string().contains("append-only"), "{err}");
}

#[test]
fn a_recomputed_row_still_breaks_the_link_to_the_next() {
    let (dir, store) = open_temp();
    seed(&store);
    let raw = rusqlite::Connection::open(dir.path().join("warden.db")).unwrap();
    raw.execute_batch("DROP TRIGGER audit_no_update").unwrap();
    // A forger who rewrites row 1's hash must also rewrite every later row's prev_hash.
    raw.execute(
        "UPDATE audit SET hash = 'ff' || substr(hash, 3) WHERE id = 1",
        [],
    )
    .unwrap();
    let check = store.reader().unwrap().verify_audit().unwrap();
    assert_eq!(check.first_broken, Some(1));
}

#[test]
fn audit_detail_refuses_text() {
    let (_dir, store) = open_temp();
    let entry = |detail| NewAudit {
        ts: T0,
        actor: "mod:alice".into(),
        action: "note".into(),
        chat_id: Some(CHAT),
        user_id: Some(42),
        ref_id: None,
        detail,
    };
    let err = store
        .writer()
        .append_audit(entry(json!({ "text": "buy cheap crypto now" })))
        .unwrap_err();
    assert!(err.to_string().contains("ids and kinds only"), "{err}");
    let id = store
        .writer()
        .append_audit(entry(json!({ "kind": "ban", "message_ids": [1, 2] })))
        .unwrap();
    let page = store
        .reader()
        .unwrap()
        .audit_page(&AuditFilter::default(), None, 1)
        .unwrap();
    assert_eq!(page.items[0].id, id);
}

#[test]
fn audit_never_holds_texts_or_names() {
    let (dir, store) = open_temp();
    seed(&store);
    store
        .writer()
        .forget_user(42, "mod:alice", T0 + 50)
        .unwrap();
    let raw = rusqlite::Connection::open(dir.path().join("warden.db")).unwrap();
    let dump: Vec<String> = raw
        .prepare("SELECT actor || action || detail FROM audit")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let dump = dump.join("\n");
    for secret in [
        "Mallory",
        "mallory_x",
        "crypto",
        "hello",
        "message 0",
        "Rust Learners",
        "scam",
    ] {
        assert!(!dump.contains(secret), "audit holds {secret:?}:\n{dump}");
    }
}

#[test]
fn forget_user_removes_personal_data_and_keeps_chain_valid() {
    let (_dir, store) = open_temp();
    seed(&store);
    let before = store.reader().unwrap().user_history(42, None).unwrap();
    assert_eq!(
        before.profile.as_ref().unwrap().username.as_deref(),
        Some("mallory_x")
    );
    assert_eq!(before.memberships.len(), 1);

    store
        .writer()
        .forget_user(42, "mod:alice", T0 + 50)
        .unwrap();
    let r = store.reader().unwrap();
    let after = r.user_history(42, None).unwrap();
    let profile = after.profile.unwrap();
    assert_eq!(profile.first_name, None);
    assert_eq!(profile.username, None);
    assert_eq!(profile.forgotten_at, Some(T0 + 50));
    assert!(after.memberships.is_empty());
    assert_eq!(after.recent_messages.len(), 5);
    assert!(
        after
            .recent_messages
            .iter()
            .all(|m| m.text.is_none() && m.author.is_none())
    );
    assert!(
        after
            .recent_messages
            .iter()
            .flat_map(|m| &m.hits)
            .all(|h| h.detail.is_none())
    );
    // Verdicts and strikes stay: moderation state is keyed by id, not personal.
    assert_eq!(
        after.recent_messages.iter().filter(|m| m.flagged).count(),
        3
    );
    assert_eq!(after.strikes.len(), 1);
    assert!(after.labels.is_empty(), "labels are unlinked from the user");
    // The spam sample stays as (anonymous) training data; the ham one is the user's chat text.
    let labels = r.all_labels().unwrap();
    assert_eq!(labels.len(), 1);
    assert_eq!(
        (labels[0].label.as_str(), labels[0].user_id),
        ("spam", None)
    );
    // Other users are untouched.
    let alice = r.user_history(7, None).unwrap();
    assert!(alice.recent_messages.iter().all(|m| m.text.is_some()));
    assert_eq!(alice.profile.unwrap().first_name.as_deref(), Some("Alice"));

    let check = r.verify_audit().unwrap();
    assert_eq!(check.first_broken, None);
    let last = r.audit_page(&AuditFilter::default(), None, 1).unwrap();
    assert_eq!(last.items[0].action, "forget_user");
    assert_eq!(last.items[0].user_id, Some(42));
}

#[test]
fn retention_purge_keeps_verdicts_hits_and_labels() {
    let (_dir, store) = open_temp();
    seed(&store);
    // Messages are at T0..T0+4: purge those before T0+3.
    let n = store
        .writer()
        .purge_texts_older_than(T0 + 3, T0 + 90 * 86_400)
        .unwrap();
    assert_eq!(n, 6);
    let r = store.reader().unwrap();
    let old = r.message(CHAT, 0).unwrap().unwrap();
    assert_eq!(old.text, None);
    assert_eq!((old.verdict.as_str(), old.flagged), ("spam", true));
    assert_eq!(old.hits.len(), 1);
    assert_eq!(old.hits[0].name, "link");
    assert_eq!(old.hits[0].detail, None);
    let recent = r.message(CHAT, 4).unwrap().unwrap();
    assert!(recent.text.is_some());
    assert_eq!(r.all_labels().unwrap().len(), 2);
    assert_eq!(r.verify_audit().unwrap().first_broken, None);
    // Idempotent: nothing left to purge.
    assert_eq!(
        store.writer().purge_texts_older_than(T0 + 3, T0).unwrap(),
        0
    );
}
