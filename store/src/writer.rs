//! The single writer thread: owns the write connection, drains its queue into one transaction per
//! batch and answers `commit()` callers once that transaction is durable.

use crate::error::StoreError;
use crate::ops::{self, OpError, WriteOp, WriteOutcome};
use crate::records::*;
use rusqlite::Connection;
use std::path::{Path, PathBuf};
use std::sync::mpsc;

/// Most ops folded into one transaction; bounds the latency a single batch adds.
const MAX_BATCH: usize = 4096;

type Reply<T> = mpsc::Sender<Result<T, StoreError>>;

pub(crate) enum Msg {
    Op(WriteOp, Option<Reply<WriteOutcome>>),
    Flush(Reply<()>),
    Shutdown,
}

/// Handle to the writer thread. Queueing never blocks on disk.
pub struct Writer {
    tx: mpsc::Sender<Msg>,
    path: PathBuf,
}

impl Writer {
    pub(crate) fn new(tx: mpsc::Sender<Msg>, path: PathBuf) -> Self {
        Writer { tx, path }
    }

    pub(crate) fn shutdown(&self) {
        let _ = self.tx.send(Msg::Shutdown);
    }

    fn gone(&self) -> StoreError {
        StoreError::WriterGone {
            path: self.path.clone(),
        }
    }

    /// Queue an op without waiting (bulk records). Failures are logged and reported by the next
    /// [`Writer::flush`].
    pub fn submit(&self, op: WriteOp) {
        if self.tx.send(Msg::Op(op, None)).is_err() {
            tracing::error!(path = %self.path.display(), "write submitted after the store writer stopped");
        }
    }

    /// Queue an op and wait until the transaction holding it is committed: the op is acknowledged.
    pub fn commit(&self, op: WriteOp) -> Result<WriteOutcome, StoreError> {
        let (reply, answer) = mpsc::channel();
        self.tx
            .send(Msg::Op(op, Some(reply)))
            .map_err(|_| self.gone())?;
        answer.recv().map_err(|_| self.gone())?
    }

    /// Wait until everything submitted so far is committed. Errors if any submitted op failed
    /// since the last flush.
    pub fn flush(&self) -> Result<(), StoreError> {
        let (reply, answer) = mpsc::channel();
        self.tx.send(Msg::Flush(reply)).map_err(|_| self.gone())?;
        answer.recv().map_err(|_| self.gone())?
    }

    fn commit_id(&self, op: WriteOp) -> Result<i64, StoreError> {
        match self.commit(op)? {
            WriteOutcome::Id(id) => Ok(id),
            other => Err(StoreError::Invalid(format!("unexpected outcome {other:?}"))),
        }
    }

    fn commit_count(&self, op: WriteOp) -> Result<u64, StoreError> {
        match self.commit(op)? {
            WriteOutcome::Count(n) => Ok(n),
            other => Err(StoreError::Invalid(format!("unexpected outcome {other:?}"))),
        }
    }

    /// Enqueue an action (due now); returns its id, or the existing id for a known idempotency key.
    pub fn enqueue_action(&self, action: NewAction, now: i64) -> Result<i64, StoreError> {
        self.commit_id(WriteOp::EnqueueAction {
            action,
            not_before: now,
            now,
        })
    }

    pub fn claim_actions(&self, limit: u32, now: i64) -> Result<Vec<ActionRow>, StoreError> {
        match self.commit(WriteOp::ClaimActions { limit, now })? {
            WriteOutcome::Actions(rows) => Ok(rows),
            other => Err(StoreError::Invalid(format!("unexpected outcome {other:?}"))),
        }
    }

    pub fn complete_action(&self, id: i64, now: i64) -> Result<(), StoreError> {
        self.commit(WriteOp::CompleteAction { id, now }).map(|_| ())
    }

    pub fn fail_action(
        &self,
        id: i64,
        error: &str,
        retry_at: Option<i64>,
        now: i64,
    ) -> Result<(), StoreError> {
        self.commit(WriteOp::FailAction {
            id,
            error: error.to_string(),
            retry_at,
            now,
        })
        .map(|_| ())
    }

    pub fn add_strike(&self, strike: NewStrike) -> Result<i64, StoreError> {
        self.commit_id(WriteOp::AddStrike(strike))
    }

    pub fn forgive_strike(
        &self,
        strike_id: i64,
        by: &str,
        why: &str,
        at: i64,
    ) -> Result<(), StoreError> {
        self.commit(WriteOp::ForgiveStrike {
            strike_id,
            by: by.to_string(),
            why: why.to_string(),
            at,
        })
        .map(|_| ())
    }

    pub fn add_label(&self, label: NewLabel) -> Result<i64, StoreError> {
        self.commit_id(WriteOp::AddLabel(label))
    }

    /// Removes the newest label on a message (undo); its id, or NotFound.
    pub fn remove_latest_label(
        &self,
        chat_id: i64,
        message_id: i64,
        by: &str,
        at: i64,
    ) -> Result<i64, StoreError> {
        self.commit_id(WriteOp::RemoveLatestLabel {
            chat_id,
            message_id,
            by: by.to_string(),
            at,
        })
    }

    pub fn add_restriction(&self, restriction: NewRestriction) -> Result<i64, StoreError> {
        self.commit_id(WriteOp::AddRestriction(restriction))
    }

    pub fn append_audit(&self, entry: NewAudit) -> Result<i64, StoreError> {
        self.commit_id(WriteOp::AppendAudit(entry))
    }

    /// Save a rule body; returns its version (unchanged bodies keep the current version).
    pub fn save_rule(
        &self,
        name: &str,
        body: &str,
        author: &str,
        at: i64,
    ) -> Result<i64, StoreError> {
        self.commit_id(WriteOp::SaveRule {
            name: name.to_string(),
            body: body.to_string(),
            author: author.to_string(),
            at,
        })
    }

    /// Drop texts of messages older than `before`; verdicts, hits and labels stay.
    pub fn purge_texts_older_than(&self, before: i64, now: i64) -> Result<u64, StoreError> {
        self.commit_count(WriteOp::PurgeTextsOlderThan { before, now })
    }

    pub fn forget_user(&self, user_id: i64, by: &str, now: i64) -> Result<u64, StoreError> {
        self.commit_count(WriteOp::ForgetUser {
            user_id,
            by: by.to_string(),
            now,
        })
    }
}

fn op_error(path: &Path, e: OpError) -> StoreError {
    match e {
        OpError::Sql(e) => StoreError::sqlite(path, e),
        OpError::Invalid(msg) => StoreError::Invalid(msg),
        OpError::NotFound(what, id) => StoreError::NotFound { what, id },
    }
}

/// Failures of fire-and-forget ops, reported by the next flush.
#[derive(Default)]
struct SubmitFailures {
    count: usize,
    first: Option<String>,
}

pub(crate) fn run(mut conn: Connection, path: PathBuf, rx: mpsc::Receiver<Msg>) {
    let mut failures = SubmitFailures::default();
    let mut batch: Vec<Msg> = Vec::with_capacity(MAX_BATCH);
    loop {
        let Ok(first) = rx.recv() else { break };
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(m) => batch.push(m),
                Err(_) => break,
            }
        }
        let stop = batch.iter().any(|m| matches!(m, Msg::Shutdown));
        process(&mut conn, &path, &mut batch, &mut failures);
        batch.clear();
        if stop {
            break;
        }
    }
    // Shutdown: anything still queued after it is committed too, so nothing submitted is lost.
    let rest: Vec<Msg> = rx.try_iter().collect();
    if !rest.is_empty() {
        let mut rest = rest;
        process(&mut conn, &path, &mut rest, &mut failures);
    }
    if let Err(e) = conn.execute_batch("PRAGMA optimize") {
        tracing::debug!(error = %e, "PRAGMA optimize failed");
    }
}

/// Apply a batch in one transaction. If any op fails, redo the batch with a savepoint per op so
/// only the failing ops are dropped.
fn process(conn: &mut Connection, path: &Path, batch: &mut [Msg], failures: &mut SubmitFailures) {
    let results = match apply_all(conn, batch, false) {
        Ok(results) => Ok(results),
        Err(()) => apply_all(conn, batch, true).map_err(|_| ()),
    };
    let results = match results {
        Ok(r) => r,
        Err(()) => {
            // Only reached when BEGIN/COMMIT itself fails (disk full, I/O error).
            let msg = "the batch transaction could not be committed".to_string();
            tracing::error!(path = %path.display(), "{msg}");
            batch
                .iter()
                .map(|_| Err(OpError::Invalid(msg.clone())))
                .collect()
        }
    };
    let mut results = results.into_iter();
    for msg in batch.iter_mut() {
        match msg {
            Msg::Op(_, reply) => {
                let result = results
                    .next()
                    .unwrap_or(Err(OpError::Invalid("lost result".into())))
                    .map_err(|e| op_error(path, e));
                match reply.take() {
                    Some(reply) => {
                        let _ = reply.send(result);
                    }
                    None => {
                        if let Err(e) = result {
                            tracing::error!(path = %path.display(), error = %e, "submitted write failed");
                            failures.count += 1;
                            failures.first.get_or_insert_with(|| e.to_string());
                        }
                    }
                }
            }
            Msg::Flush(reply) => {
                let answer = match failures.first.take() {
                    None => Ok(()),
                    Some(first) => Err(StoreError::SubmitFailed {
                        path: path.to_path_buf(),
                        count: std::mem::take(&mut failures.count),
                        first,
                    }),
                };
                let _ = reply.send(answer);
            }
            Msg::Shutdown => {}
        }
    }
}

/// Results for the `Msg::Op`s of the batch, in order. `Err(())` when the transaction as a whole
/// failed (without savepoints: any op failed).
fn apply_all(
    conn: &mut Connection,
    batch: &[Msg],
    isolate: bool,
) -> Result<Vec<Result<WriteOutcome, OpError>>, ()> {
    let ops = batch.iter().filter_map(|m| match m {
        Msg::Op(op, _) => Some(op),
        _ => None,
    });
    let mut tx = conn
        .transaction()
        .map_err(|e| tracing::error!(error = %e, "BEGIN failed"))?;
    let mut results = Vec::with_capacity(batch.len());
    for op in ops {
        if isolate {
            let mut sp = tx
                .savepoint()
                .map_err(|e| tracing::error!(error = %e, "SAVEPOINT failed"))?;
            let r = ops::apply(&sp, op);
            if r.is_ok() {
                sp.commit()
                    .map_err(|e| tracing::error!(error = %e, "RELEASE failed"))?;
            } else {
                let _ = sp.rollback();
            }
            results.push(r);
        } else {
            let r = ops::apply(&tx, op);
            if r.is_err() {
                return Err(());
            }
            results.push(r);
        }
    }
    tx.commit()
        .map_err(|e| tracing::error!(error = %e, "COMMIT failed"))?;
    Ok(results)
}
