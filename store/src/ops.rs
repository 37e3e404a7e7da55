//! Every write the app makes, and how each is applied inside the writer's transaction.

use crate::audit;
use crate::records::*;
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// One write. Ops that change moderation state append their audit row in the same transaction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "op")]
pub enum WriteOp {
    UpsertChat(ChatUpsert),
    SetChatMode {
        chat_id: i64,
        mode: String,
        by: String,
        at: i64,
    },
    SetChatSettings {
        chat_id: i64,
        settings: Value,
        by: String,
        at: i64,
    },
    UpsertUser(UserUpsert),
    SetUserTrust {
        user_id: i64,
        trust: String,
        by: String,
        at: i64,
    },
    /// "none" | "whitelist" | "blacklist".
    SetUserListed {
        user_id: i64,
        listed: String,
        by: String,
        at: i64,
    },
    SetUserNote {
        user_id: i64,
        note: Option<String>,
        by: String,
        at: i64,
    },
    SetUserTags {
        user_id: i64,
        tags: Vec<String>,
        by: String,
        at: i64,
    },
    /// A stop phrase added (`enabled`) or switched off; `key` (its form as matched) identifies it,
    /// `phrase` is as the moderator wrote it.
    SetStopPhrase {
        key: String,
        phrase: String,
        enabled: bool,
        by: String,
        at: i64,
    },
    SetUserScore {
        user_id: i64,
        score: f64,
        at: i64,
    },
    /// Trusted in one chat (earned by clean messages, or `trusted: false` to take it back).
    SetChatTrust {
        chat_id: i64,
        user_id: i64,
        trusted: bool,
        by: String,
        at: i64,
    },
    /// One hit per entry: (rule name, shadow).
    CountRuleHits {
        hits: Vec<(String, bool)>,
        at: i64,
    },
    Joined(MembershipJoin),
    /// A chat's member list as Telegram gives it: join dates are Telegram's; how someone joined
    /// is kept where Warden saw the join itself.
    MembersListed(Vec<MembershipJoin>),
    Left {
        chat_id: i64,
        user_id: i64,
        at: i64,
    },
    RecordMessage(NewMessage),
    /// Many messages in one op (bulk import, replay).
    RecordMessages(Vec<NewMessage>),
    MessagesDeleted {
        chat_id: i64,
        message_ids: Vec<i64>,
        at: i64,
    },
    AddLabel(NewLabel),
    /// A failed action goes back to pending (a moderator's retry).
    RetryAction {
        id: i64,
        by: String,
        at: i64,
    },
    /// Undo of a label: the newest label on this message is removed from the training set.
    RemoveLatestLabel {
        chat_id: i64,
        message_id: i64,
        by: String,
        at: i64,
    },
    AddStrike(NewStrike),
    ForgiveStrike {
        strike_id: i64,
        by: String,
        why: String,
        at: i64,
    },
    AddRestriction(NewRestriction),
    /// Lift the active restrictions of a user in a chat (of one kind, or all).
    LiftRestrictions {
        chat_id: i64,
        user_id: i64,
        kind: Option<String>,
        by: String,
        why: String,
        at: i64,
    },
    EnqueueAction {
        action: NewAction,
        not_before: i64,
        now: i64,
    },
    ClaimActions {
        limit: u32,
        now: i64,
    },
    CompleteAction {
        id: i64,
        now: i64,
    },
    /// `retry_at: Some` puts the action back to pending; `None` fails it for good.
    FailAction {
        id: i64,
        error: String,
        retry_at: Option<i64>,
        now: i64,
    },
    AppendAudit(NewAudit),
    SaveRule {
        name: String,
        body: String,
        author: String,
        at: i64,
    },
    UpsertRaid(RaidUpsert),
    UpsertCluster(ClusterUpsert),
    PutKnownSpammer {
        user_id: i64,
        listed: bool,
        source: String,
        checked_at: i64,
        detail: Option<String>,
    },
    PutSetting {
        key: String,
        value: Value,
        by: String,
        at: i64,
    },
    PurgeTextsOlderThan {
        before: i64,
        now: i64,
    },
    ForgetUser {
        user_id: i64,
        by: String,
        now: i64,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum WriteOutcome {
    Done,
    /// Row id of what was created or updated (action id, strike id, rule version, ...).
    Id(i64),
    /// Rows affected.
    Count(u64),
    Actions(Vec<ActionRow>),
}

impl WriteOutcome {
    pub fn id(&self) -> Option<i64> {
        match self {
            WriteOutcome::Id(id) => Some(*id),
            _ => None,
        }
    }
    pub fn count(&self) -> Option<u64> {
        match self {
            WriteOutcome::Count(n) => Some(*n),
            _ => None,
        }
    }
}

/// Why one op failed; the writer turns it into a [`crate::StoreError`].
#[derive(Debug)]
pub(crate) enum OpError {
    Sql(rusqlite::Error),
    Invalid(String),
    NotFound(&'static str, i64),
}

impl From<rusqlite::Error> for OpError {
    fn from(e: rusqlite::Error) -> Self {
        OpError::Sql(e)
    }
}

type OpResult = Result<WriteOutcome, OpError>;

pub(crate) const ACTION_COLUMNS: &str = "id, kind, chat_id, user_id, message_id, params, requested_by, reason, idempotency_key, dry_run, state, attempts, last_error, not_before, created_at, updated_at";

pub(crate) fn action_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ActionRow> {
    let params: String = r.get(5)?;
    Ok(ActionRow {
        id: r.get(0)?,
        kind: r.get(1)?,
        chat_id: r.get(2)?,
        user_id: r.get(3)?,
        message_id: r.get(4)?,
        params: serde_json::from_str(&params).unwrap_or(Value::Null),
        requested_by: r.get(6)?,
        reason: r.get(7)?,
        idempotency_key: r.get(8)?,
        dry_run: r.get(9)?,
        state: r.get(10)?,
        attempts: r.get(11)?,
        last_error: r.get(12)?,
        not_before: r.get(13)?,
        created_at: r.get(14)?,
        updated_at: r.get(15)?,
    })
}

pub(crate) fn apply(c: &Connection, op: &WriteOp) -> OpResult {
    match op {
        WriteOp::UpsertChat(chat) => {
            c.prepare_cached(
                "INSERT INTO chats (id, title, kind, first_seen, updated_at) VALUES (?1, ?2, ?3, ?4, ?4)
                 ON CONFLICT(id) DO UPDATE SET title = excluded.title, kind = excluded.kind,
                   updated_at = excluded.updated_at",
            )?
            .execute(params![chat.id, chat.title, chat.kind, chat.seen_at])?;
            Ok(WriteOutcome::Done)
        }
        WriteOp::SetChatMode {
            chat_id,
            mode,
            by,
            at,
        } => {
            ensure_chat(c, *chat_id, *at)?;
            c.execute(
                "UPDATE chats SET mode = ?2, updated_at = ?3 WHERE id = ?1",
                params![chat_id, mode, at],
            )?;
            audit::log(
                c,
                *at,
                by,
                "chat_mode",
                Some(*chat_id),
                None,
                None,
                json!({ "mode": mode }),
            )?;
            Ok(WriteOutcome::Done)
        }
        WriteOp::SetChatSettings {
            chat_id,
            settings,
            by,
            at,
        } => {
            ensure_chat(c, *chat_id, *at)?;
            c.execute(
                "UPDATE chats SET settings = ?2, updated_at = ?3 WHERE id = ?1",
                params![chat_id, settings.to_string(), at],
            )?;
            audit::log(
                c,
                *at,
                by,
                "chat_settings",
                Some(*chat_id),
                None,
                None,
                json!({}),
            )?;
            Ok(WriteOutcome::Done)
        }
        WriteOp::UpsertUser(u) => {
            c.prepare_cached(
                "INSERT INTO users (id, first_name, last_name, username, is_bot, first_seen, last_seen)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)
                 ON CONFLICT(id) DO UPDATE SET first_name = excluded.first_name,
                   last_name = excluded.last_name, username = excluded.username,
                   is_bot = excluded.is_bot, first_seen = MIN(first_seen, excluded.first_seen),
                   last_seen = MAX(last_seen, excluded.last_seen)",
            )?
            .execute(params![u.id, u.first_name, u.last_name, u.username, u.is_bot, u.seen_at])?;
            Ok(WriteOutcome::Done)
        }
        WriteOp::SetUserTrust {
            user_id,
            trust,
            by,
            at,
        } => {
            ensure_user(c, *user_id, *at)?;
            c.execute(
                "UPDATE users SET trust = ?2 WHERE id = ?1",
                params![user_id, trust],
            )?;
            audit::log(
                c,
                *at,
                by,
                "user_trust",
                None,
                Some(*user_id),
                None,
                json!({ "trust": trust }),
            )?;
            Ok(WriteOutcome::Done)
        }
        WriteOp::SetUserListed {
            user_id,
            listed,
            by,
            at,
        } => {
            if !matches!(listed.as_str(), "none" | "whitelist" | "blacklist") {
                return Err(OpError::Invalid(format!(
                    "listed must be none, whitelist or blacklist, not {listed:?}"
                )));
            }
            ensure_user(c, *user_id, *at)?;
            c.execute(
                "UPDATE users SET listed = ?2 WHERE id = ?1",
                params![user_id, listed],
            )?;
            audit::log(
                c,
                *at,
                by,
                "user_listed",
                None,
                Some(*user_id),
                None,
                json!({ "listed": listed }),
            )?;
            Ok(WriteOutcome::Done)
        }
        WriteOp::SetStopPhrase {
            key,
            phrase,
            enabled,
            by,
            at,
        } => {
            c.execute(
                "INSERT INTO stop_phrases(key, phrase, enabled, changed_at, by)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT(key) DO UPDATE SET phrase = ?2, enabled = ?3, changed_at = ?4, by = ?5",
                params![key, phrase, enabled, at, by],
            )?;
            audit::log(
                c,
                *at,
                by,
                if *enabled {
                    "stop_phrase_added"
                } else {
                    "stop_phrase_removed"
                },
                None,
                None,
                None,
                json!({ "phrase": phrase }),
            )?;
            Ok(WriteOutcome::Done)
        }
        WriteOp::SetUserNote {
            user_id,
            note,
            by,
            at,
        } => {
            ensure_user(c, *user_id, *at)?;
            c.execute(
                "UPDATE users SET note = ?2 WHERE id = ?1",
                params![user_id, note],
            )?;
            audit::log(
                c,
                *at,
                by,
                "user_note",
                None,
                Some(*user_id),
                None,
                json!({}),
            )?;
            Ok(WriteOutcome::Done)
        }
        WriteOp::SetUserTags {
            user_id,
            tags,
            by,
            at,
        } => {
            ensure_user(c, *user_id, *at)?;
            let tags_json = serde_json::to_string(tags).unwrap_or_else(|_| "[]".into());
            c.execute(
                "UPDATE users SET tags = ?2 WHERE id = ?1",
                params![user_id, tags_json],
            )?;
            audit::log(
                c,
                *at,
                by,
                "user_tags",
                None,
                Some(*user_id),
                None,
                json!({}),
            )?;
            Ok(WriteOutcome::Done)
        }
        WriteOp::SetUserScore { user_id, score, at } => {
            ensure_user(c, *user_id, *at)?;
            c.prepare_cached("UPDATE users SET score = ?2, score_at = ?3 WHERE id = ?1")?
                .execute(params![user_id, score, at])?;
            Ok(WriteOutcome::Done)
        }
        WriteOp::SetChatTrust {
            chat_id,
            user_id,
            trusted,
            by,
            at,
        } => {
            if *trusted {
                c.prepare_cached(
                    "INSERT INTO chat_trust (chat_id, user_id, trusted_at, by) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT(chat_id, user_id) DO NOTHING",
                )?
                .execute(params![chat_id, user_id, at, by])?;
            } else {
                c.execute(
                    "DELETE FROM chat_trust WHERE chat_id = ?1 AND user_id = ?2",
                    params![chat_id, user_id],
                )?;
            }
            Ok(WriteOutcome::Done)
        }
        WriteOp::CountRuleHits { hits, at } => {
            let mut stmt = c.prepare_cached(
                "INSERT INTO rule_hits (name, hits, shadow_hits, last_hit) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT(name) DO UPDATE SET hits = hits + excluded.hits,
                   shadow_hits = shadow_hits + excluded.shadow_hits,
                   last_hit = MAX(COALESCE(last_hit, 0), excluded.last_hit)",
            )?;
            for (name, shadow) in hits {
                let (live, shadowed) = if *shadow { (0, 1) } else { (1, 0) };
                stmt.execute(params![name, live, shadowed, at])?;
            }
            Ok(WriteOutcome::Done)
        }
        WriteOp::Joined(j) => {
            c.prepare_cached(
                "INSERT INTO memberships (chat_id, user_id, joined_at, left_at, join_kind, inviter_id)
                 VALUES (?1, ?2, ?3, NULL, ?4, ?5)
                 ON CONFLICT(chat_id, user_id) DO UPDATE SET joined_at = excluded.joined_at,
                   left_at = NULL, join_kind = excluded.join_kind, inviter_id = excluded.inviter_id",
            )?
            .execute(params![j.chat_id, j.user_id, j.joined_at, j.join_kind, j.inviter_id])?;
            Ok(WriteOutcome::Done)
        }
        WriteOp::MembersListed(members) => {
            let mut stmt = c.prepare_cached(
                "INSERT INTO memberships (chat_id, user_id, joined_at, left_at, join_kind, inviter_id)
                 VALUES (?1, ?2, ?3, NULL, ?4, ?5)
                 ON CONFLICT(chat_id, user_id) DO UPDATE SET
                   joined_at = COALESCE(excluded.joined_at, memberships.joined_at),
                   left_at = NULL,
                   join_kind = CASE WHEN memberships.join_kind = 'unknown'
                     THEN excluded.join_kind ELSE memberships.join_kind END,
                   inviter_id = COALESCE(memberships.inviter_id, excluded.inviter_id)",
            )?;
            for j in members {
                stmt.execute(params![
                    j.chat_id,
                    j.user_id,
                    j.joined_at,
                    j.join_kind,
                    j.inviter_id
                ])?;
            }
            Ok(WriteOutcome::Done)
        }
        WriteOp::Left {
            chat_id,
            user_id,
            at,
        } => {
            c.prepare_cached(
                "INSERT INTO memberships (chat_id, user_id, left_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT(chat_id, user_id) DO UPDATE SET left_at = excluded.left_at",
            )?
            .execute(params![chat_id, user_id, at])?;
            Ok(WriteOutcome::Done)
        }
        WriteOp::RecordMessage(m) => {
            let (row, fresh) = record_message(c, m)?;
            if fresh {
                count_user_messages(c, m.user_id, 1, m.ts)?;
            }
            Ok(WriteOutcome::Id(row))
        }
        WriteOp::RecordMessages(ms) => {
            // One counter update per user instead of per message: half the cost of a bulk insert.
            let mut per_user: std::collections::HashMap<i64, (i64, i64)> = Default::default();
            for m in ms {
                if record_message(c, m)?.1 {
                    let e = per_user.entry(m.user_id).or_insert((0, m.ts));
                    e.0 += 1;
                    e.1 = e.1.max(m.ts);
                }
            }
            for (user_id, (count, last_ts)) in per_user {
                count_user_messages(c, user_id, count, last_ts)?;
            }
            Ok(WriteOutcome::Count(ms.len() as u64))
        }
        WriteOp::MessagesDeleted {
            chat_id,
            message_ids,
            at,
        } => {
            let mut stmt = c.prepare_cached(
                "UPDATE messages SET deleted = 1, deleted_at = ?3 WHERE chat_id = ?1 AND message_id = ?2",
            )?;
            let mut n = 0;
            for id in message_ids {
                n += stmt.execute(params![chat_id, id, at])? as u64;
            }
            Ok(WriteOutcome::Count(n))
        }
        WriteOp::AddLabel(l) => {
            if !matches!(l.label.as_str(), "spam" | "ham") {
                return Err(OpError::Invalid(format!(
                    "label must be spam or ham, not {:?}",
                    l.label
                )));
            }
            let id: i64 = c
                .prepare_cached(
                    "INSERT INTO labels (chat_id, message_id, user_id, text, label, origin, by, ts)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) RETURNING id",
                )?
                .query_row(
                    params![
                        l.chat_id,
                        l.message_id,
                        l.user_id,
                        l.text,
                        l.label,
                        l.origin,
                        l.by,
                        l.ts
                    ],
                    |r| r.get(0),
                )?;
            audit::log(
                c,
                l.ts,
                &l.by,
                &format!("label_{}", l.label),
                l.chat_id,
                l.user_id,
                Some(id),
                json!({ "origin": l.origin, "message_id": l.message_id }),
            )?;
            Ok(WriteOutcome::Id(id))
        }
        WriteOp::RetryAction { id, by, at } => {
            let row: Option<(i64, Option<i64>, String)> = c
                .prepare_cached(
                    "UPDATE actions SET state = 'pending', not_before = ?2, updated_at = ?2
                     WHERE id = ?1 AND state = 'failed' RETURNING chat_id, user_id, kind",
                )?
                .query_row(params![id, at], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .optional()?;
            let Some((chat_id, user_id, kind)) = row else {
                return Err(OpError::NotFound("failed action", *id));
            };
            audit::log(
                c,
                *at,
                by,
                "action_retry",
                Some(chat_id),
                user_id,
                Some(*id),
                json!({ "kind": kind }),
            )?;
            Ok(WriteOutcome::Id(*id))
        }
        WriteOp::RemoveLatestLabel {
            chat_id,
            message_id,
            by,
            at,
        } => {
            let removed: Option<(i64, Option<i64>, String)> = c
                .prepare_cached(
                    "DELETE FROM labels WHERE id = (SELECT id FROM labels
                     WHERE chat_id = ?1 AND message_id = ?2 ORDER BY id DESC LIMIT 1)
                     RETURNING id, user_id, label",
                )?
                .query_row(params![chat_id, message_id], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                })
                .optional()?;
            let Some((id, user_id, label)) = removed else {
                return Err(OpError::NotFound("label on message", *message_id));
            };
            audit::log(
                c,
                *at,
                by,
                &format!("unlabel_{label}"),
                Some(*chat_id),
                user_id,
                Some(id),
                json!({ "message_id": message_id }),
            )?;
            Ok(WriteOutcome::Id(id))
        }
        WriteOp::AddStrike(s) => {
            let id: i64 = c
                .prepare_cached(
                    "INSERT INTO strikes (chat_id, user_id, reason, source, ts, expires_at, message_id)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) RETURNING id",
                )?
                .query_row(
                    params![s.chat_id, s.user_id, s.reason, s.source, s.ts, s.expires_at, s.message_id],
                    |r| r.get(0),
                )?;
            audit::log(
                c,
                s.ts,
                &s.source,
                "strike",
                Some(s.chat_id),
                Some(s.user_id),
                Some(id),
                json!({ "expires_at": s.expires_at, "message_id": s.message_id }),
            )?;
            Ok(WriteOutcome::Id(id))
        }
        WriteOp::ForgiveStrike {
            strike_id,
            by,
            why,
            at,
        } => {
            let row: Option<(i64, i64)> = c
                .query_row(
                    "UPDATE strikes SET forgiven_by = ?2, forgiven_at = ?3, forgiven_why = ?4
                     WHERE id = ?1 AND forgiven_at IS NULL RETURNING chat_id, user_id",
                    params![strike_id, by, at, why],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            let Some((chat_id, user_id)) = row else {
                return Err(OpError::NotFound("unforgiven strike", *strike_id));
            };
            audit::log(
                c,
                *at,
                by,
                "forgive_strike",
                Some(chat_id),
                Some(user_id),
                Some(*strike_id),
                json!({}),
            )?;
            Ok(WriteOutcome::Id(*strike_id))
        }
        WriteOp::AddRestriction(r) => {
            let id: i64 = c
                .prepare_cached(
                    "INSERT INTO restrictions (chat_id, user_id, kind, since, until, reason, by)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) RETURNING id",
                )?
                .query_row(
                    params![
                        r.chat_id, r.user_id, r.kind, r.since, r.until, r.reason, r.by
                    ],
                    |row| row.get(0),
                )?;
            audit::log(
                c,
                r.since,
                &r.by,
                &r.kind,
                Some(r.chat_id),
                Some(r.user_id),
                Some(id),
                json!({ "until": r.until }),
            )?;
            Ok(WriteOutcome::Id(id))
        }
        WriteOp::LiftRestrictions {
            chat_id,
            user_id,
            kind,
            by,
            why,
            at,
        } => {
            let n = c.execute(
                "UPDATE restrictions SET lifted_at = ?4, lifted_by = ?5, lifted_why = ?6
                 WHERE chat_id = ?1 AND user_id = ?2 AND lifted_at IS NULL
                   AND (?3 IS NULL OR kind = ?3)",
                params![chat_id, user_id, kind, at, by, why],
            )? as u64;
            audit::log(
                c,
                *at,
                by,
                "lift_restrictions",
                Some(*chat_id),
                Some(*user_id),
                None,
                json!({ "kind": kind, "count": n }),
            )?;
            Ok(WriteOutcome::Count(n))
        }
        WriteOp::EnqueueAction {
            action: a,
            not_before,
            now,
        } => enqueue_action(c, a, *not_before, *now),
        WriteOp::ClaimActions { limit, now } => {
            let mut rows = c
                .prepare_cached(&format!(
                    "UPDATE actions SET state = 'running', attempts = attempts + 1, updated_at = ?2
                     WHERE id IN (SELECT id FROM actions WHERE state = 'pending' AND not_before <= ?2
                                  ORDER BY not_before, id LIMIT ?1)
                     RETURNING {ACTION_COLUMNS}"
                ))?
                .query_map(params![limit, now], action_from_row)?
                .collect::<Result<Vec<_>, _>>()?;
            rows.sort_by_key(|a| (a.not_before, a.id));
            for a in &rows {
                audit::log(
                    c,
                    *now,
                    "system",
                    "action_claimed",
                    Some(a.chat_id),
                    a.user_id,
                    Some(a.id),
                    json!({ "kind": a.kind, "attempt": a.attempts }),
                )?;
            }
            Ok(WriteOutcome::Actions(rows))
        }
        WriteOp::CompleteAction { id, now } => {
            let row = finish_action(c, *id, "done", None, None, *now)?;
            audit::log(
                c,
                *now,
                "system",
                "action_done",
                Some(row.0),
                row.1,
                Some(*id),
                json!({ "kind": row.2 }),
            )?;
            Ok(WriteOutcome::Done)
        }
        WriteOp::FailAction {
            id,
            error,
            retry_at,
            now,
        } => {
            let (state, audit_action) = match retry_at {
                Some(_) => ("pending", "action_retry"),
                None => ("failed", "action_failed"),
            };
            let row = finish_action(c, *id, state, Some(error), *retry_at, *now)?;
            audit::log(
                c,
                *now,
                "system",
                audit_action,
                Some(row.0),
                row.1,
                Some(*id),
                json!({ "kind": row.2, "retry_at": retry_at }),
            )?;
            Ok(WriteOutcome::Done)
        }
        WriteOp::AppendAudit(entry) => {
            audit::validate_detail(&entry.detail).map_err(OpError::Invalid)?;
            Ok(WriteOutcome::Id(audit::append(c, entry)?))
        }
        WriteOp::SaveRule {
            name,
            body,
            author,
            at,
        } => {
            let current: Option<(i64, String)> = c
                .query_row(
                    "SELECT version, body FROM rules WHERE name = ?1 ORDER BY version DESC LIMIT 1",
                    [name],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            if let Some((version, current_body)) = &current
                && current_body == body
            {
                return Ok(WriteOutcome::Id(*version));
            }
            let version = current.map_or(1, |(v, _)| v + 1);
            c.execute(
                "INSERT INTO rules (name, version, body, author, ts) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![name, version, body, author, at],
            )?;
            audit::log(
                c,
                *at,
                author,
                "rule_saved",
                None,
                None,
                None,
                json!({ "rule": name, "version": version }),
            )?;
            Ok(WriteOutcome::Id(version))
        }
        WriteOp::UpsertRaid(r) => {
            let id: i64 = c
                .prepare_cached(
                    "INSERT INTO raids (chat_id, started_at, ended_at, joins, peak_per_min, state, detail)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                     ON CONFLICT(chat_id, started_at) DO UPDATE SET ended_at = excluded.ended_at,
                       joins = excluded.joins, peak_per_min = excluded.peak_per_min,
                       state = excluded.state, detail = excluded.detail
                     RETURNING id",
                )?
                .query_row(
                    params![
                        r.chat_id,
                        r.started_at,
                        r.ended_at,
                        r.joins,
                        r.peak_per_min,
                        r.state,
                        r.detail.to_string()
                    ],
                    |row| row.get(0),
                )?;
            Ok(WriteOutcome::Id(id))
        }
        WriteOp::UpsertCluster(cl) => {
            let id: i64 = c
                .prepare_cached(
                    "INSERT INTO clusters (key, chat_id, detected_at, updated_at, score, state)
                     VALUES (?1, ?2, ?3, ?3, ?4, ?5)
                     ON CONFLICT(key) DO UPDATE SET chat_id = excluded.chat_id,
                       updated_at = excluded.updated_at, score = excluded.score, state = excluded.state
                     RETURNING id",
                )?
                .query_row(params![cl.key, cl.chat_id, cl.at, cl.score, cl.state], |r| r.get(0))?;
            c.execute("DELETE FROM cluster_members WHERE cluster_id = ?1", [id])?;
            c.execute("DELETE FROM cluster_edges WHERE cluster_id = ?1", [id])?;
            let mut member = c.prepare_cached(
                "INSERT OR IGNORE INTO cluster_members (cluster_id, user_id) VALUES (?1, ?2)",
            )?;
            for m in &cl.members {
                member.execute(params![id, m])?;
            }
            let mut edge = c.prepare_cached(
                "INSERT OR REPLACE INTO cluster_edges (cluster_id, a, b, kind, weight) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?;
            for e in &cl.edges {
                edge.execute(params![id, e.a, e.b, e.kind, e.weight])?;
            }
            Ok(WriteOutcome::Id(id))
        }
        WriteOp::PutKnownSpammer {
            user_id,
            listed,
            source,
            checked_at,
            detail,
        } => {
            c.prepare_cached(
                "INSERT OR REPLACE INTO known_spammers (user_id, listed, source, checked_at, detail)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![user_id, listed, source, checked_at, detail])?;
            Ok(WriteOutcome::Done)
        }
        WriteOp::PutSetting { key, value, by, at } => {
            c.execute(
                "INSERT OR REPLACE INTO settings (key, value, updated_at) VALUES (?1, ?2, ?3)",
                params![key, value.to_string(), at],
            )?;
            audit::log(
                c,
                *at,
                by,
                "setting",
                None,
                None,
                None,
                json!({ "key": key }),
            )?;
            Ok(WriteOutcome::Done)
        }
        WriteOp::PurgeTextsOlderThan { before, now } => {
            // Start at the previous purge's cutoff: older rows are already text-free, and
            // rescanning them daily would grow with the database.
            let since: i64 = c
                .query_row(
                    "SELECT CAST(value AS INTEGER) FROM warden_meta WHERE key = 'purged_before'",
                    [],
                    |r| r.get(0),
                )
                .optional()?
                .unwrap_or(i64::MIN);
            let n = c.execute(
                "UPDATE messages SET text = NULL WHERE ts >= ?1 AND ts < ?2 AND text IS NOT NULL",
                params![since, before],
            )? as u64;
            c.execute(
                "UPDATE signal_hits SET detail = NULL
                 WHERE ts >= ?1 AND ts < ?2 AND detail IS NOT NULL",
                params![since, before],
            )?;
            c.execute(
                "INSERT OR REPLACE INTO warden_meta (key, value) VALUES ('purged_before', ?1)",
                [since.max(*before).to_string()],
            )?;
            audit::log(
                c,
                *now,
                "system",
                "purge_texts",
                None,
                None,
                None,
                json!({ "before": before, "messages": n }),
            )?;
            Ok(WriteOutcome::Count(n))
        }
        WriteOp::ForgetUser { user_id, by, now } => forget_user(c, *user_id, by, *now),
    }
}

fn ensure_chat(c: &Connection, chat_id: i64, at: i64) -> rusqlite::Result<()> {
    c.prepare_cached(
        "INSERT OR IGNORE INTO chats (id, first_seen, updated_at) VALUES (?1, ?2, ?2)",
    )?
    .execute(params![chat_id, at])?;
    Ok(())
}

fn ensure_user(c: &Connection, user_id: i64, at: i64) -> rusqlite::Result<()> {
    c.prepare_cached(
        "INSERT OR IGNORE INTO users (id, first_seen, last_seen) VALUES (?1, ?2, ?2)",
    )?
    .execute(params![user_id, at])?;
    Ok(())
}

fn count_user_messages(
    c: &Connection,
    user_id: i64,
    count: i64,
    last_ts: i64,
) -> rusqlite::Result<()> {
    c.prepare_cached(
        "INSERT INTO users (id, first_seen, last_seen, message_count) VALUES (?1, ?2, ?2, ?3)
         ON CONFLICT(id) DO UPDATE SET last_seen = MAX(last_seen, excluded.last_seen),
           message_count = message_count + excluded.message_count",
    )?
    .execute(params![user_id, last_ts, count])?;
    Ok(())
}

/// Insert a message, or replace text, verdict and hits of one already stored (an edit or a
/// replay). Returns (row id, freshly inserted). The common fresh insert avoids
/// UPSERT ... RETURNING, which costs twice as much.
fn record_message(c: &Connection, m: &NewMessage) -> rusqlite::Result<(i64, bool)> {
    let inserted = c
        .prepare_cached(
            "INSERT INTO messages (chat_id, message_id, user_id, ts, text, media, edited, verdict,
                                   score, flagged, summary)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
             ON CONFLICT(chat_id, message_id) DO NOTHING",
        )?
        .execute(params![
            m.chat_id,
            m.message_id,
            m.user_id,
            m.ts,
            m.text,
            m.media,
            m.edited,
            m.verdict,
            m.score,
            m.flagged,
            m.summary
        ])?;
    let row =
        if inserted == 1 {
            c.last_insert_rowid()
        } else {
            let row: i64 = c
            .prepare_cached(
                "UPDATE messages SET text = ?3, media = ?4, edited = MAX(edited, ?5), verdict = ?6,
                   score = ?7, flagged = ?8, summary = ?9
                 WHERE chat_id = ?1 AND message_id = ?2 RETURNING id",
            )?
            .query_row(
                params![
                    m.chat_id, m.message_id, m.text, m.media, m.edited, m.verdict, m.score,
                    m.flagged, m.summary
                ],
                |r| r.get(0),
            )?;
            c.prepare_cached("DELETE FROM signal_hits WHERE message_row = ?1")?
                .execute([row])?;
            row
        };
    let fresh = inserted == 1;
    if !m.hits.is_empty() {
        let mut hit = c.prepare_cached(
            "INSERT INTO signal_hits (message_row, chat_id, ts, name, weight, detail)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?;
        for h in &m.hits {
            hit.execute(params![row, m.chat_id, m.ts, h.name, h.weight, h.detail])?;
        }
    }
    Ok((row, fresh))
}

fn enqueue_action(c: &Connection, a: &NewAction, not_before: i64, now: i64) -> OpResult {
    if a.idempotency_key.is_empty() {
        return Err(OpError::Invalid("action idempotency_key is empty".into()));
    }
    let inserted: Option<i64> = c
        .prepare_cached(
            "INSERT INTO actions (kind, chat_id, user_id, message_id, params, requested_by, reason,
                                  idempotency_key, dry_run, not_before, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11)
             ON CONFLICT(idempotency_key) DO NOTHING RETURNING id",
        )?
        .query_row(
            params![
                a.kind,
                a.chat_id,
                a.user_id,
                a.message_id,
                a.params.to_string(),
                a.requested_by,
                a.reason,
                a.idempotency_key,
                a.dry_run,
                not_before,
                now
            ],
            |r| r.get(0),
        )
        .optional()?;
    match inserted {
        Some(id) => {
            audit::log(
                c,
                now,
                &a.requested_by,
                "action_enqueued",
                Some(a.chat_id),
                a.user_id,
                Some(id),
                json!({ "kind": a.kind, "message_id": a.message_id, "dry_run": a.dry_run }),
            )?;
            Ok(WriteOutcome::Id(id))
        }
        None => {
            let id = c
                .prepare_cached("SELECT id FROM actions WHERE idempotency_key = ?1")?
                .query_row([&a.idempotency_key], |r| r.get(0))?;
            Ok(WriteOutcome::Id(id))
        }
    }
}

/// Move a running action to `state`. Returns (chat_id, user_id, kind) for the audit row.
fn finish_action(
    c: &Connection,
    id: i64,
    state: &str,
    error: Option<&String>,
    retry_at: Option<i64>,
    now: i64,
) -> Result<(i64, Option<i64>, String), OpError> {
    let row = c
        .query_row(
            "UPDATE actions SET state = ?2, last_error = COALESCE(?3, last_error),
               not_before = COALESCE(?4, not_before), updated_at = ?5
             WHERE id = ?1 AND state = 'running' RETURNING chat_id, user_id, kind",
            params![id, state, error, retry_at, now],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    row.ok_or(OpError::NotFound("running action", id))
}

/// Reset actions a crash left `running` back to `pending` (executors are idempotent by key).
pub(crate) fn reset_running(c: &Connection, now: i64) -> rusqlite::Result<u64> {
    let rows: Vec<(i64, i64, Option<i64>, String)> = c
        .prepare(
            "UPDATE actions SET state = 'pending', updated_at = ?1 WHERE state = 'running'
             RETURNING id, chat_id, user_id, kind",
        )?
        .query_map([now], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
        .collect::<Result<_, _>>()?;
    for (id, chat_id, user_id, kind) in &rows {
        audit::log(
            c,
            now,
            "system",
            "action_reset",
            Some(*chat_id),
            *user_id,
            Some(*id),
            json!({ "kind": kind }),
        )?;
    }
    Ok(rows.len() as u64)
}

/// Remove a user's personal data: names, note, tags, message texts (and hit details that may
/// quote them), memberships, ham labels. Spam labels stay as training data, unlinked from the
/// user. Moderation state keyed by id (strikes, bans, trust, blacklist) stays, as does the audit
/// chain, which never held personal data.
fn forget_user(c: &Connection, user_id: i64, by: &str, now: i64) -> OpResult {
    let mut n = 0u64;
    n += c.execute(
        "UPDATE users SET first_name = NULL, last_name = NULL, username = NULL, note = NULL,
           tags = '[]', forgotten_at = ?2 WHERE id = ?1",
        params![user_id, now],
    )? as u64;
    n += c.execute(
        "UPDATE messages SET text = NULL WHERE user_id = ?1 AND text IS NOT NULL",
        [user_id],
    )? as u64;
    c.execute(
        "UPDATE signal_hits SET detail = NULL
         WHERE message_row IN (SELECT id FROM messages WHERE user_id = ?1)",
        [user_id],
    )?;
    n += c.execute("DELETE FROM memberships WHERE user_id = ?1", [user_id])? as u64;
    n += c.execute("DELETE FROM chat_trust WHERE user_id = ?1", [user_id])? as u64;
    n += c.execute(
        "DELETE FROM labels WHERE user_id = ?1 AND label = 'ham'",
        [user_id],
    )? as u64;
    n += c.execute(
        "UPDATE labels SET user_id = NULL, message_id = NULL WHERE user_id = ?1",
        [user_id],
    )? as u64;
    c.execute(
        "UPDATE known_spammers SET detail = NULL WHERE user_id = ?1",
        [user_id],
    )?;
    audit::log(
        c,
        now,
        by,
        "forget_user",
        None,
        Some(user_id),
        None,
        json!({ "rows": n }),
    )?;
    Ok(WriteOutcome::Count(n))
}
