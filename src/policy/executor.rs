//! Carries out actions from the store's outbox through a [`Gateway`]: claim, execute, complete or
//! fail with retries and exponential backoff, audit who (or which rule) caused each one.
//!
//! Crash safety: the store puts actions left `running` back to `pending` on open, and gateways are
//! idempotent by key, so a resumed action takes effect once. Dry-run actions are completed and
//! audited as "would do" without touching the gateway; record-only kinds (strike, trust, labels,
//! shadow mute, throttle) are completed without the gateway too — the app applies them.

use crate::action::{Action, ActionKind, Actor, Gateway, GatewayError};
use crate::model::Timestamp;
use crate::policy::config::ExecutorConfig;
use crate::policy::modes::PlannedAction;
use serde_json::json;
use std::collections::HashMap;
use warden_store::{ActionRow, NewAction, NewAudit, Store, StoreError};

impl PlannedAction {
    /// The store's outbox row for this action (`params` holds the kind with its durations).
    pub fn to_new_action(&self) -> NewAction {
        let a = &self.action;
        NewAction {
            kind: a.kind.name().to_string(),
            chat_id: a.chat_id,
            user_id: a.user_id,
            message_id: a.message_id,
            params: serde_json::to_value(&a.kind).unwrap_or_else(|_| json!({})),
            requested_by: a.requested_by.to_string(),
            reason: a.reason.clone(),
            idempotency_key: a.idempotency_key.clone(),
            dry_run: self.dry_run,
        }
    }
}

/// Puts planned actions into the outbox; returns their ids (existing ids for known keys).
pub fn enqueue(
    store: &Store,
    planned: &[PlannedAction],
    now: Timestamp,
) -> Result<Vec<i64>, StoreError> {
    planned
        .iter()
        .map(|p| store.writer().enqueue_action(p.to_new_action(), now))
        .collect()
}

/// "rule:NAME" | "mod:NAME" | "system" back to an [`Actor`].
pub fn parse_actor(text: &str) -> Actor {
    if let Some(name) = text.strip_prefix("rule:") {
        Actor::Rule(name.to_string())
    } else if let Some(name) = text.strip_prefix("mod:") {
        Actor::Moderator(name.to_string())
    } else {
        Actor::System
    }
}

/// An outbox row back to a gateway [`Action`]; `None` when its kind is unknown to this build.
pub fn action_from_row(row: &ActionRow) -> Option<Action> {
    let kind: ActionKind = serde_json::from_value(row.params.clone())
        .ok()
        .filter(|k: &ActionKind| k.name() == row.kind)?;
    Some(Action {
        kind,
        chat_id: row.chat_id,
        user_id: row.user_id,
        message_id: row.message_id,
        reason: row.reason.clone(),
        requested_by: parse_actor(&row.requested_by),
        idempotency_key: row.idempotency_key.clone(),
    })
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunReport {
    pub done: usize,
    /// Dry-run: recorded, never sent.
    pub would_do: usize,
    /// Record-only kinds completed without the gateway.
    pub recorded: usize,
    pub retried: usize,
    pub failed: usize,
}

impl RunReport {
    fn add(&mut self, other: &RunReport) {
        self.done += other.done;
        self.would_do += other.would_do;
        self.recorded += other.recorded;
        self.retried += other.retried;
        self.failed += other.failed;
    }

    pub fn handled(&self) -> usize {
        self.done + self.would_do + self.recorded + self.retried + self.failed
    }
}

pub struct Executor {
    store: Store,
    cfg: ExecutorConfig,
}

impl Executor {
    pub fn new(store: Store, cfg: ExecutorConfig) -> Executor {
        Executor { store, cfg }
    }

    /// Claims due actions (they become `running`).
    pub fn claim(&self, now: Timestamp) -> Result<Vec<ActionRow>, StoreError> {
        self.store
            .writer()
            .claim_actions(self.cfg.batch.clamp(1, u32::MAX as usize) as u32, now)
    }

    /// Delay before retry `attempt` (1-based): base · 2^(attempt-1), capped.
    pub fn backoff(&self, attempt: i64) -> u64 {
        let exp = attempt.clamp(1, 32) as u32 - 1;
        self.cfg
            .backoff_base
            .max(1)
            .saturating_mul(1u64 << exp)
            .min(self.cfg.backoff_max.max(1))
    }

    /// Executes claimed rows and completes or fails each one.
    pub fn execute(
        &self,
        rows: Vec<ActionRow>,
        gateway: &mut dyn Gateway,
        now: Timestamp,
    ) -> Result<RunReport, StoreError> {
        let writer = self.store.writer();
        let mut report = RunReport::default();
        for row in rows {
            let Some(action) = action_from_row(&row) else {
                writer.fail_action(
                    row.id,
                    &format!("unknown action kind '{}'", row.kind),
                    None,
                    now,
                )?;
                report.failed += 1;
                continue;
            };
            if row.dry_run {
                self.audit(&row, "would_do", now)?;
                writer.complete_action(row.id, now)?;
                report.would_do += 1;
                continue;
            }
            if !action.kind.goes_out() {
                self.audit(&row, "recorded", now)?;
                writer.complete_action(row.id, now)?;
                report.recorded += 1;
                continue;
            }
            match gateway.execute(&action, now) {
                Ok(()) => {
                    self.audit(&row, "executed", now)?;
                    self.record_restriction(&row, &action, now)?;
                    writer.complete_action(row.id, now)?;
                    report.done += 1;
                }
                Err(err) => {
                    let retry_at = match &err {
                        GatewayError::FloodWait { seconds } => Some(now + (*seconds).max(1) as i64),
                        GatewayError::Transient(_)
                            if row.attempts < i64::from(self.cfg.max_attempts) =>
                        {
                            Some(now + self.backoff(row.attempts) as i64)
                        }
                        GatewayError::Transient(_) | GatewayError::Permanent(_) => None,
                    };
                    tracing::warn!(id = row.id, kind = %row.kind, attempt = row.attempts, error = %err, ?retry_at, "action failed");
                    writer.fail_action(row.id, &err.to_string(), retry_at, now)?;
                    if retry_at.is_some() {
                        report.retried += 1;
                    } else {
                        report.failed += 1;
                    }
                }
            }
        }
        Ok(report)
    }

    /// Keeps the bans/mutes table in step with what was actually carried out.
    fn record_restriction(
        &self,
        row: &ActionRow,
        action: &Action,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let Some(user_id) = action.user_id else {
            return Ok(());
        };
        let writer = self.store.writer();
        let (kind, until) = match &action.kind {
            ActionKind::Ban { seconds } => ("ban", seconds.map(|s| now + s as i64)),
            ActionKind::Mute { seconds } => ("mute", Some(now + *seconds as i64)),
            ActionKind::Restrict => ("restrict", None),
            ActionKind::Unban | ActionKind::Unrestrict => {
                writer.commit(warden_store::WriteOp::LiftRestrictions {
                    chat_id: action.chat_id,
                    user_id,
                    kind: matches!(action.kind, ActionKind::Unban).then(|| "ban".to_string()),
                    by: row.requested_by.clone(),
                    why: action.reason.clone(),
                    at: now,
                })?;
                return Ok(());
            }
            _ => return Ok(()),
        };
        writer.add_restriction(warden_store::NewRestriction {
            chat_id: action.chat_id,
            user_id,
            kind: kind.to_string(),
            since: now,
            until,
            reason: action.reason.clone(),
            by: row.requested_by.clone(),
        })?;
        Ok(())
    }

    /// One batch: claim and execute.
    pub fn run_once(
        &self,
        gateway: &mut dyn Gateway,
        now: Timestamp,
    ) -> Result<RunReport, StoreError> {
        let rows = self.claim(now)?;
        self.execute(rows, gateway, now)
    }

    /// Batches until nothing is due at `now` (retries scheduled later wait for a later call).
    pub fn run_due(
        &self,
        gateway: &mut dyn Gateway,
        now: Timestamp,
    ) -> Result<RunReport, StoreError> {
        let mut total = RunReport::default();
        loop {
            let rows = self.claim(now)?;
            if rows.is_empty() {
                return Ok(total);
            }
            let report = self.execute(rows, gateway, now)?;
            total.add(&report);
        }
    }

    /// Who caused it, in the audit chain (ids and kinds only, never text).
    fn audit(&self, row: &ActionRow, what: &str, now: Timestamp) -> Result<i64, StoreError> {
        self.store.writer().append_audit(NewAudit {
            ts: now,
            actor: row.requested_by.clone(),
            action: format!("action_{what}"),
            chat_id: Some(row.chat_id),
            user_id: row.user_id,
            ref_id: Some(row.id),
            detail: json!({ "kind": row.kind, "message_id": row.message_id, "dry_run": row.dry_run }),
        })
    }
}

/// A gateway for tests: records every call, applies each idempotency key once (as Telegram would
/// see one effect), and fails on demand.
#[derive(Debug, Default)]
pub struct FakeGateway {
    /// Every call in order, repeats included.
    pub calls: Vec<Action>,
    /// Effects applied, one per idempotency key.
    pub effects: Vec<Action>,
    /// Errors to return, per idempotency key, consumed front first.
    failures: HashMap<String, Vec<GatewayError>>,
    /// Errors returned for every call after the scripted ones are used.
    pub always_fail: Option<GatewayError>,
}

impl FakeGateway {
    pub fn new() -> FakeGateway {
        FakeGateway::default()
    }

    /// The next calls with this key fail with these errors, in order.
    pub fn fail_next(&mut self, key: &str, errors: Vec<GatewayError>) {
        self.failures
            .entry(key.to_string())
            .or_default()
            .extend(errors);
    }

    /// How many effects a key had (should be 0 or 1).
    pub fn effects_for(&self, key: &str) -> usize {
        self.effects
            .iter()
            .filter(|a| a.idempotency_key == key)
            .count()
    }
}

impl Gateway for FakeGateway {
    fn execute(&mut self, action: &Action, _now: Timestamp) -> Result<(), GatewayError> {
        self.calls.push(action.clone());
        if let Some(queue) = self.failures.get_mut(&action.idempotency_key)
            && !queue.is_empty()
        {
            return Err(queue.remove(0));
        }
        if let Some(err) = &self.always_fail {
            return Err(err.clone());
        }
        if !self
            .effects
            .iter()
            .any(|a| a.idempotency_key == action.idempotency_key)
        {
            self.effects.push(action.clone());
        }
        Ok(())
    }
}
