mod common;

use common::*;
use std::path::Path;
use warden_store::*;

fn assert_names_file(err: &StoreError, path: &Path) {
    let msg = err.to_string();
    assert!(
        msg.contains(&path.display().to_string()),
        "error does not name the file: {msg}"
    );
}

#[test]
fn fresh_database_is_at_latest_version_and_sound() {
    let (_dir, store) = open_temp();
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    assert!(store.integrity_check().unwrap().is_empty());
    let mode: String = rusqlite::Connection::open(store.path())
        .unwrap()
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
}

#[test]
fn migrates_from_every_earlier_version_keeping_data() {
    for from in 0..SCHEMA_VERSION {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.db");
        testing::create_at_version(&path, from).unwrap();
        if from >= 1 {
            // Data written by an older build, through plain SQL as that build would have.
            let raw = rusqlite::Connection::open(&path).unwrap();
            raw.execute(
                "INSERT INTO strikes (chat_id, user_id, reason, source, ts) VALUES (?1, 42, 'old', 'mod:alice', ?2)",
                [CHAT, T0],
            )
            .unwrap();
        }
        let store = Store::open(&path).unwrap();
        assert_eq!(
            store.schema_version().unwrap(),
            SCHEMA_VERSION,
            "from {from}"
        );
        let strikes = store
            .reader()
            .unwrap()
            .strikes(&StrikeFilter::default(), None, 10)
            .unwrap();
        assert_eq!(strikes.items.len(), usize::from(from >= 1), "from {from}");
        // The migrated database takes new writes.
        store.writer().add_strike(strike(43, "rule:x", T0)).unwrap();
        assert!(store.integrity_check().unwrap().is_empty());
        let raw = rusqlite::Connection::open(&path).unwrap();
        let indexed: i64 = raw
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = 'actions_message'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(indexed, 1, "migration 2 from {from}");
        drop(raw);
        drop(store);
        // Reopening a current database is a no-op.
        assert_eq!(
            Store::open(&path).unwrap().schema_version().unwrap(),
            SCHEMA_VERSION
        );
    }
}

#[test]
fn newer_schema_is_refused_naming_both_versions() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("warden.db");
    drop(Store::open(&path).unwrap());
    let newer = SCHEMA_VERSION + 8;
    rusqlite::Connection::open(&path)
        .unwrap()
        .pragma_update(None, "user_version", newer)
        .unwrap();
    let err = Store::open(&path)
        .err()
        .expect("newer schema must be refused");
    assert!(
        matches!(err, StoreError::TooNew { found, known, .. } if found == newer && known == SCHEMA_VERSION)
    );
    let msg = err.to_string();
    assert!(msg.contains(&format!("schema version {newer}")), "{msg}");
    assert!(
        msg.contains(&format!("knows up to {SCHEMA_VERSION}")),
        "{msg}"
    );
    assert!(msg.contains("upgrade warden"), "{msg}");
    assert_names_file(&err, &path);
    assert!(matches!(
        Reader::open(&path),
        Err(StoreError::TooNew { .. })
    ));
}

#[test]
fn random_bytes_are_not_a_database() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("random.db");
    // Deterministic noise (xorshift), 16 KiB.
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let bytes: Vec<u8> = (0..16 * 1024)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    std::fs::write(&path, &bytes).unwrap();
    let err = Store::open(&path)
        .err()
        .expect("random bytes must be refused");
    assert!(matches!(err, StoreError::NotWarden { .. }), "{err:?}");
    assert!(
        err.to_string().starts_with("not a Warden database: "),
        "{err}"
    );
    assert_names_file(&err, &path);
    // Nothing was written to the file.
    assert_eq!(std::fs::read(&path).unwrap(), bytes);
}

#[test]
fn text_file_is_not_a_database() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.txt");
    std::fs::write(&path, "[telegram]\nbot_token = \"nope\"\n".repeat(200)).unwrap();
    let err = Store::open(&path)
        .err()
        .expect("a text file must be refused");
    assert!(matches!(err, StoreError::NotWarden { .. }), "{err:?}");
    assert!(err.to_string().contains("file is not a database"), "{err}");
    assert_names_file(&err, &path);
    let err = Reader::open(&path).err().unwrap();
    assert_names_file(&err, &path);
}

#[test]
fn foreign_sqlite_database_is_refused_untouched() {
    for user_version in [0, 3] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("other.db");
        let raw = rusqlite::Connection::open(&path).unwrap();
        raw.execute_batch("CREATE TABLE invoices (id INTEGER PRIMARY KEY, amount REAL); INSERT INTO invoices VALUES (1, 9.5);")
            .unwrap();
        raw.pragma_update(None, "user_version", user_version)
            .unwrap();
        drop(raw);
        let err = Store::open(&path)
            .err()
            .expect("a foreign database must be refused");
        assert!(matches!(err, StoreError::NotWarden { .. }), "{err:?}");
        let msg = err.to_string();
        assert!(
            msg.contains("invoices") && msg.contains("warden_meta"),
            "{msg}"
        );
        assert_names_file(&err, &path);
        let raw = rusqlite::Connection::open(&path).unwrap();
        let tables: i64 = raw
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(tables, 1, "the foreign database was modified");
        let mode: String = raw
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "delete");
    }
}

#[test]
fn empty_file_becomes_a_database() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("empty.db");
    std::fs::write(&path, b"").unwrap();
    let store = Store::open(&path).unwrap();
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
}

#[test]
fn missing_directory_and_directory_paths_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("no/such/dir/warden.db");
    let err = Store::open(&path).err().unwrap();
    assert!(matches!(err, StoreError::MissingDir { .. }), "{err:?}");
    assert!(err.to_string().contains("does not exist"), "{err}");
    assert_names_file(&err, &path);

    let err = Store::open(dir.path()).err().unwrap();
    assert!(err.to_string().contains("is a directory"), "{err}");

    let missing = dir.path().join("missing.db");
    let err = Reader::open(&missing).err().unwrap();
    assert_names_file(&err, &missing);
}

#[test]
fn backup_while_writing_is_a_complete_database() {
    let (dir, store) = open_temp();
    let w = store.writer();
    for i in 0..2_000 {
        w.submit(WriteOp::RecordMessage(message(
            CHAT,
            i,
            i % 10,
            T0 + i,
            i % 3 == 0,
        )));
    }
    let dest = dir.path().join("backup.db");
    store.backup_to(&dest).unwrap();
    w.flush().unwrap();
    let strike_id = w.add_strike(strike(1, "mod:alice", T0)).unwrap();
    let (version, problems) = check_file(&dest).unwrap();
    assert_eq!(version, SCHEMA_VERSION);
    assert!(problems.is_empty(), "{problems:?}");
    // The copy opens as a Warden store and has a valid audit chain.
    let copy = Store::open(&dest).unwrap();
    assert_eq!(
        copy.reader().unwrap().verify_audit().unwrap().first_broken,
        None
    );
    // A later backup includes later commits.
    drop(copy);
    store.backup_to(&dest).unwrap();
    let copy = Store::open(&dest).unwrap();
    let strikes = copy
        .reader()
        .unwrap()
        .strikes(&StrikeFilter::default(), None, 10)
        .unwrap();
    assert_eq!(strikes.items[0].id, strike_id);
}
