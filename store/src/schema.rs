//! Schema and forward-only migrations, tracked in `PRAGMA user_version`.
//!
//! `MIGRATIONS[i]` takes the database from version `i` to `i + 1`. Never edit a released entry:
//! append a new one.

use crate::error::{SqlCtx, StoreError};
use rusqlite::{Connection, OpenFlags};
use std::path::Path;
use std::time::Duration;

/// Marker table that tells a Warden database from any other SQLite file.
pub(crate) const MARKER_TABLE: &str = "warden_meta";

pub(crate) const MIGRATIONS: &[&str] = &[MIGRATION_1, MIGRATION_2, MIGRATION_3, MIGRATION_4];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

pub(crate) const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Moderators' edits of the stop phrases: additions (`enabled = 1`) and shipped phrases switched
/// off (`enabled = 0`), on top of assets/stop-phrases.txt. One row per phrase as matched (`key`,
/// its normalised form): the latest edit of a phrase replaces the earlier ones.
const MIGRATION_4: &str = r#"
CREATE TABLE stop_phrases (
    key        TEXT PRIMARY KEY,
    phrase     TEXT NOT NULL,
    enabled    INTEGER NOT NULL,
    changed_at INTEGER NOT NULL,
    by         TEXT NOT NULL
) WITHOUT ROWID;
"#;

/// User memory that must survive a restart: who earned trust in which chat, and rule hit counters.
const MIGRATION_3: &str = r#"
CREATE TABLE chat_trust (
    chat_id    INTEGER NOT NULL,
    user_id    INTEGER NOT NULL,
    trusted_at INTEGER NOT NULL,
    by         TEXT NOT NULL,
    PRIMARY KEY (chat_id, user_id)
) WITHOUT ROWID;
CREATE INDEX chat_trust_user ON chat_trust(user_id);

CREATE TABLE rule_hits (
    name        TEXT PRIMARY KEY,
    hits        INTEGER NOT NULL DEFAULT 0,
    shadow_hits INTEGER NOT NULL DEFAULT 0,
    last_hit    INTEGER
) WITHOUT ROWID;
"#;

/// The Feed shows what was done to each message: look actions up by message.
const MIGRATION_2: &str = r#"
CREATE INDEX actions_message ON actions(chat_id, message_id) WHERE message_id IS NOT NULL;
"#;

const MIGRATION_1: &str = r#"
CREATE TABLE warden_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
INSERT INTO warden_meta(key, value) VALUES ('app', 'warden');

CREATE TABLE chats (
    id         INTEGER PRIMARY KEY,
    title      TEXT NOT NULL DEFAULT '',
    kind       TEXT NOT NULL DEFAULT 'supergroup',
    mode       TEXT NOT NULL DEFAULT 'normal',
    settings   TEXT NOT NULL DEFAULT '{}',
    first_seen INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    first_name    TEXT,
    last_name     TEXT,
    username      TEXT,
    is_bot        INTEGER NOT NULL DEFAULT 0,
    first_seen    INTEGER NOT NULL,
    last_seen     INTEGER NOT NULL,
    message_count INTEGER NOT NULL DEFAULT 0,
    trust         TEXT NOT NULL DEFAULT 'unknown',
    listed        TEXT NOT NULL DEFAULT 'none' CHECK (listed IN ('none', 'whitelist', 'blacklist')),
    tags          TEXT NOT NULL DEFAULT '[]',
    note          TEXT,
    score         REAL,
    score_at      INTEGER,
    forgotten_at  INTEGER
);
CREATE INDEX users_score ON users(score) WHERE score IS NOT NULL;
CREATE INDEX users_username ON users(username) WHERE username IS NOT NULL;

CREATE TABLE memberships (
    chat_id    INTEGER NOT NULL,
    user_id    INTEGER NOT NULL,
    joined_at  INTEGER,
    left_at    INTEGER,
    join_kind  TEXT NOT NULL DEFAULT 'unknown',
    inviter_id INTEGER,
    PRIMARY KEY (chat_id, user_id)
) WITHOUT ROWID;
CREATE INDEX memberships_user ON memberships(user_id);
CREATE INDEX memberships_joined ON memberships(chat_id, joined_at);
CREATE INDEX memberships_inviter ON memberships(inviter_id) WHERE inviter_id IS NOT NULL;

CREATE TABLE messages (
    id         INTEGER PRIMARY KEY,
    chat_id    INTEGER NOT NULL,
    message_id INTEGER NOT NULL,
    user_id    INTEGER NOT NULL,
    ts         INTEGER NOT NULL,
    text       TEXT,
    media      TEXT NOT NULL DEFAULT 'none',
    edited     INTEGER NOT NULL DEFAULT 0,
    deleted    INTEGER NOT NULL DEFAULT 0,
    deleted_at INTEGER,
    verdict    TEXT NOT NULL DEFAULT 'clean',
    score      REAL NOT NULL DEFAULT 0,
    flagged    INTEGER NOT NULL DEFAULT 0,
    summary    TEXT NOT NULL DEFAULT '',
    UNIQUE (chat_id, message_id)
);
CREATE INDEX messages_user ON messages(user_id, ts);
CREATE INDEX messages_ts ON messages(ts, flagged);
CREATE INDEX messages_chat_ts ON messages(chat_id, ts, flagged);
CREATE INDEX messages_flagged ON messages(ts, id) WHERE flagged = 1;
CREATE INDEX messages_flagged_chat ON messages(chat_id, ts, id) WHERE flagged = 1;

CREATE TABLE signal_hits (
    message_row INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    chat_id     INTEGER NOT NULL,
    ts          INTEGER NOT NULL,
    name        TEXT NOT NULL,
    weight      REAL NOT NULL,
    detail      TEXT
);
CREATE INDEX signal_hits_message ON signal_hits(message_row);
CREATE INDEX signal_hits_ts ON signal_hits(ts, name, weight);
CREATE INDEX signal_hits_chat_ts ON signal_hits(chat_id, ts, name, weight);

CREATE TABLE labels (
    id         INTEGER PRIMARY KEY,
    chat_id    INTEGER,
    message_id INTEGER,
    user_id    INTEGER,
    text       TEXT NOT NULL,
    label      TEXT NOT NULL CHECK (label IN ('spam', 'ham')),
    origin     TEXT NOT NULL,
    by         TEXT NOT NULL,
    ts         INTEGER NOT NULL
);
CREATE INDEX labels_ts ON labels(label, id);
CREATE INDEX labels_user ON labels(user_id) WHERE user_id IS NOT NULL;
CREATE INDEX labels_chat ON labels(chat_id, id);

CREATE TABLE strikes (
    id           INTEGER PRIMARY KEY,
    chat_id      INTEGER NOT NULL,
    user_id      INTEGER NOT NULL,
    reason       TEXT NOT NULL,
    source       TEXT NOT NULL,
    ts           INTEGER NOT NULL,
    expires_at   INTEGER,
    message_id   INTEGER,
    forgiven_by  TEXT,
    forgiven_at  INTEGER,
    forgiven_why TEXT
);
CREATE INDEX strikes_user ON strikes(user_id, chat_id, ts);
CREATE INDEX strikes_chat ON strikes(chat_id, ts, id);
CREATE INDEX strikes_source ON strikes(source, ts, id);
CREATE INDEX strikes_ts ON strikes(ts, id);

CREATE TABLE restrictions (
    id         INTEGER PRIMARY KEY,
    chat_id    INTEGER NOT NULL,
    user_id    INTEGER NOT NULL,
    kind       TEXT NOT NULL,
    since      INTEGER NOT NULL,
    until      INTEGER,
    reason     TEXT NOT NULL,
    by         TEXT NOT NULL,
    lifted_at  INTEGER,
    lifted_by  TEXT,
    lifted_why TEXT
);
CREATE INDEX restrictions_user ON restrictions(user_id, chat_id);
CREATE INDEX restrictions_active ON restrictions(chat_id, until) WHERE lifted_at IS NULL;

CREATE TABLE actions (
    id              INTEGER PRIMARY KEY,
    kind            TEXT NOT NULL,
    chat_id         INTEGER NOT NULL,
    user_id         INTEGER,
    message_id      INTEGER,
    params          TEXT NOT NULL DEFAULT 'null',
    requested_by    TEXT NOT NULL,
    reason          TEXT NOT NULL,
    idempotency_key TEXT NOT NULL UNIQUE,
    dry_run         INTEGER NOT NULL DEFAULT 0,
    state           TEXT NOT NULL DEFAULT 'pending'
                    CHECK (state IN ('pending', 'running', 'done', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT,
    not_before      INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX actions_due ON actions(state, not_before, id);
CREATE INDEX actions_created ON actions(created_at);
CREATE INDEX actions_chat ON actions(chat_id, id);

CREATE TABLE audit (
    id        INTEGER PRIMARY KEY,
    ts        INTEGER NOT NULL,
    actor     TEXT NOT NULL,
    action    TEXT NOT NULL,
    chat_id   INTEGER,
    user_id   INTEGER,
    ref_id    INTEGER,
    detail    TEXT NOT NULL DEFAULT '{}',
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL
);
CREATE INDEX audit_chat ON audit(chat_id, id);
CREATE INDEX audit_user ON audit(user_id, id);
CREATE INDEX audit_action ON audit(action, id);
CREATE INDEX audit_actor ON audit(actor, id);
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;

CREATE TABLE rules (
    name    TEXT NOT NULL,
    version INTEGER NOT NULL,
    body    TEXT NOT NULL,
    author  TEXT NOT NULL,
    ts      INTEGER NOT NULL,
    PRIMARY KEY (name, version)
) WITHOUT ROWID;

CREATE TABLE raids (
    id           INTEGER PRIMARY KEY,
    chat_id      INTEGER NOT NULL,
    started_at   INTEGER NOT NULL,
    ended_at     INTEGER,
    joins        INTEGER NOT NULL DEFAULT 0,
    peak_per_min REAL NOT NULL DEFAULT 0,
    state        TEXT NOT NULL,
    detail       TEXT NOT NULL DEFAULT '{}',
    UNIQUE (chat_id, started_at)
);

CREATE TABLE clusters (
    id          INTEGER PRIMARY KEY,
    key         TEXT NOT NULL UNIQUE,
    chat_id     INTEGER,
    detected_at INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    score       REAL NOT NULL DEFAULT 0,
    state       TEXT NOT NULL DEFAULT 'open'
);
CREATE TABLE cluster_members (
    cluster_id INTEGER NOT NULL REFERENCES clusters(id) ON DELETE CASCADE,
    user_id    INTEGER NOT NULL,
    PRIMARY KEY (cluster_id, user_id)
) WITHOUT ROWID;
CREATE INDEX cluster_members_user ON cluster_members(user_id);
CREATE TABLE cluster_edges (
    cluster_id INTEGER NOT NULL REFERENCES clusters(id) ON DELETE CASCADE,
    a          INTEGER NOT NULL,
    b          INTEGER NOT NULL,
    kind       TEXT NOT NULL,
    weight     REAL NOT NULL,
    PRIMARY KEY (cluster_id, a, b, kind)
) WITHOUT ROWID;

CREATE TABLE known_spammers (
    user_id    INTEGER PRIMARY KEY,
    listed     INTEGER NOT NULL,
    source     TEXT NOT NULL,
    checked_at INTEGER NOT NULL,
    detail     TEXT
);

CREATE TABLE settings (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at INTEGER NOT NULL
) WITHOUT ROWID;
"#;

fn user_version(conn: &Connection, path: &Path) -> Result<i64, StoreError> {
    conn.query_row("PRAGMA user_version", [], |r| r.get(0))
        .ctx(path)
}

/// Refuse anything that is not a Warden database (or an empty file about to become one).
/// Returns the schema version found.
pub(crate) fn check_identity(conn: &Connection, path: &Path) -> Result<i64, StoreError> {
    // The first read of a non-SQLite file fails here with SQLITE_NOTADB.
    let tables: Vec<String> = {
        let mut stmt = conn
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            .ctx(path)?;
        stmt.query_map([], |r| r.get(0))
            .ctx(path)?
            .collect::<Result<_, _>>()
            .ctx(path)?
    };
    let version = user_version(conn, path)?;
    let has_marker = tables.iter().any(|t| t == MARKER_TABLE);
    if !has_marker && (!tables.is_empty() || version != 0) {
        let mut listed = tables
            .iter()
            .take(5)
            .cloned()
            .collect::<Vec<_>>()
            .join(", ");
        if tables.len() > 5 {
            listed.push_str(", ...");
        }
        return Err(StoreError::NotWarden {
            path: path.to_path_buf(),
            reason: format!(
                "an SQLite database of another program: tables [{listed}], user_version {version}, no {MARKER_TABLE} table"
            ),
        });
    }
    if has_marker {
        let app: Option<String> = conn
            .query_row("SELECT value FROM warden_meta WHERE key = 'app'", [], |r| {
                r.get(0)
            })
            .map(Some)
            .or_else(|e| match e {
                rusqlite::Error::QueryReturnedNoRows => Ok(None),
                e => Err(e),
            })
            .ctx(path)?;
        if app.as_deref() != Some("warden") {
            return Err(StoreError::NotWarden {
                path: path.to_path_buf(),
                reason: format!("{MARKER_TABLE} does not identify the file as Warden's"),
            });
        }
    }
    if version > SCHEMA_VERSION {
        return Err(StoreError::TooNew {
            path: path.to_path_buf(),
            found: version,
            known: SCHEMA_VERSION,
        });
    }
    Ok(version)
}

/// Connection settings every connection gets.
pub(crate) fn configure(conn: &Connection, path: &Path, writer: bool) -> Result<(), StoreError> {
    conn.busy_timeout(BUSY_TIMEOUT).ctx(path)?;
    conn.execute_batch("PRAGMA foreign_keys = ON;").ctx(path)?;
    if writer {
        // FULL: a COMMIT is on disk when it returns, so "acknowledged" survives power loss too.
        // A large page cache keeps the message indexes hot for batched inserts; fewer
        // checkpoints (every ~40 MB of WAL) keep fsyncs off the insert path.
        conn.execute_batch(
            "PRAGMA synchronous = FULL; PRAGMA temp_store = MEMORY;
             PRAGMA cache_size = -131072; PRAGMA wal_autocheckpoint = 10000;",
        )
        .ctx(path)?;
    } else {
        conn.execute_batch(
            "PRAGMA query_only = ON; PRAGMA cache_size = -32768; PRAGMA mmap_size = 268435456;",
        )
        .ctx(path)?;
    }
    Ok(())
}

/// Apply the migrations from the current version up to `target`, one transaction each.
pub(crate) fn migrate_to(
    conn: &mut Connection,
    path: &Path,
    target: i64,
) -> Result<(), StoreError> {
    let mut version = user_version(conn, path)?;
    while version < target {
        let tx = conn.transaction().ctx(path)?;
        tx.execute_batch(MIGRATIONS[version as usize]).ctx(path)?;
        tx.pragma_update(None, "user_version", version + 1)
            .ctx(path)?;
        tx.commit().ctx(path)?;
        tracing::info!(path = %path.display(), from = version, to = version + 1, "migrated store schema");
        version += 1;
    }
    Ok(())
}

/// Open (creating if needed) the write connection, check it is ours, set WAL and migrate.
pub(crate) fn open_write_connection(path: &Path) -> Result<Connection, StoreError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
        && !dir.is_dir()
    {
        return Err(StoreError::MissingDir {
            path: path.to_path_buf(),
            dir: dir.to_path_buf(),
        });
    }
    if path.is_dir() {
        return Err(StoreError::NotWarden {
            path: path.to_path_buf(),
            reason: "it is a directory".into(),
        });
    }
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let mut conn = Connection::open_with_flags(path, flags).ctx(path)?;
    conn.busy_timeout(BUSY_TIMEOUT).ctx(path)?;
    check_identity(&conn, path)?;
    let mode: String = conn
        .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
        .ctx(path)?;
    if !mode.eq_ignore_ascii_case("wal") {
        tracing::warn!(path = %path.display(), mode, "store could not switch to WAL");
    }
    configure(&conn, path, true)?;
    migrate_to(&mut conn, path, SCHEMA_VERSION)?;
    Ok(conn)
}

pub(crate) fn open_read_connection(path: &Path) -> Result<Connection, StoreError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags).ctx(path)?;
    configure(&conn, path, false)?;
    Ok(conn)
}

/// Read the schema version of an open connection.
pub(crate) fn schema_version_of(conn: &Connection, path: &Path) -> Result<i64, StoreError> {
    user_version(conn, path)
}
