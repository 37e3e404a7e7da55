//! `warden import`: the hand-made export through the pipeline in dry-run.

use crate::common::warden;

use std::path::{Path, PathBuf};
use warden::cli::headless::import_export;
use warden::config::Config;
use warden_store::Store;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/export")
        .join(name)
}

#[test]
fn fixture_replay_counts_what_would_be_flagged_in_dry_run() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("replay.db")).unwrap();
    let report = import_export(&Config::default(), &fixture("result.json"), store.clone()).unwrap();
    assert_eq!(report.summary.stats.messages, 7);
    assert_eq!((report.messages, report.edits), (7, 1));
    // The money spam (#6) and the post by a channel named "Crypto Signals Daily" (#10); ordinary
    // chat, the hidden docs link and the deleted account's short message are let through.
    assert_eq!(report.flagged, 2);
    assert_eq!(report.would_ban, 0);
    // The forwarded money spam with link buttons is the one a live chat would have deleted.
    let spam = report
        .flagged_examples
        .iter()
        .find(|e| e.message_id == 6)
        .expect("message 6 flagged");
    assert!(spam.actions.contains(&"delete".to_string()), "{spam:?}");
    assert!(
        spam.reasons.iter().any(|r| r.starts_with("suspicious_tld")),
        "{spam:?}"
    );
    assert_eq!(report.would_do.get("delete"), Some(&1));
    assert!(report.raids.is_empty() && report.clusters.is_empty());
    // Dry run: every outbox row was settled as "would do", none left for a live executor.
    let reader = store.reader().unwrap();
    assert_eq!(reader.pending_actions_count().unwrap(), 0);
    let rows = reader.actions(None, None, None, 100).unwrap().items;
    assert!(!rows.is_empty() && rows.iter().all(|r| r.dry_run && r.state == "done"));
}

#[test]
fn cli_prints_the_counts_and_keeps_the_users_db_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = fixture("result.json");
    let out = warden(dir.path(), &["import", path.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("7 messages and 1 edits checked, 2 would be flagged"),
        "{text}"
    );
    assert!(text.contains("#6 Sam Spammer"), "{text}");
    assert!(
        text.contains("raids: 0") && text.contains("clusters: 0"),
        "{text}"
    );
    assert!(
        !dir.path().join("warden.db").exists(),
        "temp store only without --store"
    );

    let out = warden(
        dir.path(),
        &["import", path.to_str().unwrap(), "--store", "--json"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["flagged"], 2);
    assert_eq!(json["stored"], true);
    let store = Store::open(&dir.path().join("warden.db")).unwrap();
    let messages = store
        .reader()
        .unwrap()
        .actions(None, None, None, 100)
        .unwrap();
    assert!(!messages.items.is_empty(), "--store keeps the replay");
}

#[test]
fn malformed_export_error_names_the_byte_offset_and_message() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("result.json");
    std::fs::write(
        &bad,
        r#"{"name":"x","type":"private_group","id":1,"messages":[{"id":1,"type":"message","date_unixtime":"1772445600","from":"A","from_id":"user1","text":"hi"},{"id":2,,]}"#,
    )
    .unwrap();
    let out = warden(dir.path(), &["import", bad.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("malformed export at byte"), "{err}");
    assert!(err.contains("after message 1"), "{err}");
}
