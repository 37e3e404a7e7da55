//! Errors the store reports. Every variant that concerns a file names it.

use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open database {path}: directory {dir} does not exist")]
    MissingDir { path: PathBuf, dir: PathBuf },
    #[error("not a Warden database: {path} ({reason})")]
    NotWarden { path: PathBuf, reason: String },
    #[error(
        "database {path} has schema version {found}, this warden knows up to {known}: upgrade warden"
    )]
    TooNew {
        path: PathBuf,
        found: i64,
        known: i64,
    },
    #[error("database {path}: {source}")]
    Sqlite {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error("database {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the store's writer thread for {path} has stopped")]
    WriterGone { path: PathBuf },
    #[error("{count} submitted write(s) to {path} failed; first: {first}")]
    SubmitFailed {
        path: PathBuf,
        count: usize,
        first: String,
    },
    #[error("invalid input: {0}")]
    Invalid(String),
    #[error("{what} {id} not found")]
    NotFound { what: &'static str, id: i64 },
}

impl StoreError {
    pub(crate) fn sqlite(path: &Path, source: rusqlite::Error) -> Self {
        // SQLITE_NOTADB surfaces on the first read of a corrupt or non-SQLite file.
        if let Some(rusqlite::ErrorCode::NotADatabase) = source.sqlite_error_code() {
            return StoreError::NotWarden {
                path: path.to_path_buf(),
                reason: "file is not a database".into(),
            };
        }
        StoreError::Sqlite {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// Attach the database path to a rusqlite result.
pub(crate) trait SqlCtx<T> {
    fn ctx(self, path: &Path) -> Result<T, StoreError>;
}

impl<T> SqlCtx<T> for rusqlite::Result<T> {
    fn ctx(self, path: &Path) -> Result<T, StoreError> {
        self.map_err(|e| StoreError::sqlite(path, e))
    }
}
