//! Warden's system of record: SQLite (WAL) with forward-only migrations, one writer thread that
//! batches ops into transactions, read-only connections for queries, an actions outbox and a
//! hash-chained audit log.
//!
//! ```no_run
//! # use warden_store::*;
//! let store = Store::open(std::path::Path::new("/tmp/warden.db"))?;
//! let id = store.writer().add_strike(NewStrike {
//!     chat_id: -100, user_id: 42, reason: "link spam".into(), source: "rule:links".into(),
//!     ts: 1_700_000_000, expires_at: None, message_id: None,
//! })?;
//! let history = store.reader()?.user_history(42, None)?;
//! # let _ = (id, history);
//! # Ok::<(), StoreError>(())
//! ```

mod audit;
mod error;
mod ops;
mod reader;
mod records;
mod schema;
mod writer;

pub use audit::MAX_DETAIL_STRING;
pub use error::StoreError;
pub use ops::{WriteOp, WriteOutcome};
pub use reader::{HISTORY_MESSAGES, MAX_PAGE, Reader};
pub use records::*;
pub use schema::SCHEMA_VERSION;
pub use writer::Writer;

use error::SqlCtx;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, mpsc};
use std::thread::JoinHandle;

/// Cheap to clone; the writer thread stops (after committing what is queued) when the last
/// clone is dropped.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    writer: Writer,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.writer.shutdown();
        let handle = self.thread.lock().ok().and_then(|mut t| t.take());
        if let Some(handle) = handle
            && handle.join().is_err()
        {
            tracing::error!(path = %self.path.display(), "store writer thread panicked");
        }
    }
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

impl Store {
    /// Open or create the database at `path`, migrating it to [`SCHEMA_VERSION`]. Refuses files
    /// that are not Warden databases and schemas newer than this build.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let path = path.to_path_buf();
        let mut conn = schema::open_write_connection(&path)?;
        let tx = conn.transaction().ctx(&path)?;
        let reset = ops::reset_running(&tx, unix_now()).ctx(&path)?;
        tx.commit().ctx(&path)?;
        if reset > 0 {
            tracing::warn!(path = %path.display(), reset, "actions left running by a crash are pending again");
        }
        let (tx, rx) = mpsc::channel();
        let thread_path = path.clone();
        let handle = std::thread::Builder::new()
            .name("warden-store-writer".into())
            .spawn(move || writer::run(conn, thread_path, rx))
            .map_err(|source| StoreError::Io {
                path: path.clone(),
                source,
            })?;
        Ok(Store {
            inner: Arc::new(Inner {
                writer: Writer::new(tx, path.clone()),
                path,
                thread: Mutex::new(Some(handle)),
            }),
        })
    }

    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    pub fn writer(&self) -> &Writer {
        &self.inner.writer
    }

    /// A new read-only connection; give each thread its own.
    pub fn reader(&self) -> Result<Reader, StoreError> {
        Reader::open(&self.inner.path)
    }

    pub fn schema_version(&self) -> Result<i64, StoreError> {
        self.reader()?.schema_version()
    }

    /// `PRAGMA integrity_check`: `Ok(vec![])` when the database is sound, else SQLite's findings.
    pub fn integrity_check(&self) -> Result<Vec<String>, StoreError> {
        self.reader()?.integrity_check()
    }

    /// Online backup to `dest` (overwritten) while the writer keeps running.
    pub fn backup_to(&self, dest: &Path) -> Result<(), StoreError> {
        let src = schema::open_read_connection(&self.inner.path)?;
        let mut dst = rusqlite::Connection::open(dest).ctx(dest)?;
        let backup = rusqlite::backup::Backup::new(&src, &mut dst).ctx(dest)?;
        // All pages in one step: one read snapshot, so concurrent commits cannot restart it.
        loop {
            match backup.step(-1).ctx(dest)? {
                rusqlite::backup::StepResult::Done => break,
                rusqlite::backup::StepResult::More => continue,
                _ => std::thread::sleep(std::time::Duration::from_millis(20)),
            }
        }
        drop(backup);
        // The copy is a standalone file in rollback-journal mode until opened by a Store.
        dst.execute_batch("PRAGMA journal_mode = DELETE")
            .ctx(dest)?;
        Ok(())
    }
}

/// Open a database file without the writer, for checks (`warden db check`).
pub fn check_file(path: &Path) -> Result<(i64, Vec<String>), StoreError> {
    let reader = Reader::open(path)?;
    Ok((reader.schema_version()?, reader.integrity_check()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_is_send_sync_clone() {
        fn assert<T: Send + Sync + Clone>() {}
        assert::<Store>();
    }
}

/// Hooks for the crate's own migration tests; not part of the API.
#[doc(hidden)]
pub mod testing {
    use super::*;

    /// Create (or advance) a database at exactly schema `version`, without the writer.
    pub fn create_at_version(path: &Path, version: i64) -> Result<(), StoreError> {
        let mut conn = rusqlite::Connection::open(path).ctx(path)?;
        schema::migrate_to(&mut conn, path, version)
    }
}
