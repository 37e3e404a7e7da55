//! Logs go to a file, never to the terminal the console owns.

use anyhow::{Context, Result};
use std::path::Path;
use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::{EnvFilter, fmt, prelude::*};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    /// One JSON object per line, for `warden daemon` on servers.
    Json,
}

/// Starts file logging in `dir` (daily rotation). Keep the guard alive until exit so the last lines
/// are flushed. `RUST_LOG` overrides the default level (`info`).
pub fn init(dir: &Path, format: LogFormat) -> Result<WorkerGuard> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create log directory {}", dir.display()))?;
    let appender = tracing_appender::rolling::daily(dir, "warden.log");
    let (writer, guard) = tracing_appender::non_blocking(appender);
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let layer = fmt::layer().with_writer(writer).with_ansi(false);
    let registry = tracing_subscriber::registry().with(filter);
    let result = match format {
        LogFormat::Text => registry.with(layer).try_init(),
        LogFormat::Json => registry.with(layer.json()).try_init(),
    };
    // A second init (tests, or a command that re-enters) keeps the first subscriber.
    if let Err(err) = result {
        tracing::debug!("logging already initialised: {err}");
    }
    Ok(guard)
}
