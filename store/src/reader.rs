//! Read-only queries on their own connection. Every list is newest first with keyset pagination.

use crate::audit;
use crate::error::{SqlCtx, StoreError};
use crate::ops::{ACTION_COLUMNS, action_from_row};
use crate::records::*;
use crate::schema;
use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, OptionalExtension, Row, params, params_from_iter};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// How many recent messages `user_history` includes.
pub const HISTORY_MESSAGES: usize = 50;
/// Upper bound on a page, whatever the caller asks for.
pub const MAX_PAGE: usize = 1000;

pub struct Reader {
    conn: Connection,
    path: PathBuf,
}

/// WHERE clause builder with positional parameters.
#[derive(Default)]
struct Where {
    clauses: Vec<String>,
    params: Vec<SqlValue>,
}

impl Where {
    fn add(&mut self, clause: &str, values: impl IntoIterator<Item = SqlValue>) {
        let mut values = values.into_iter();
        let mut numbered = String::with_capacity(clause.len() + 8);
        for (i, part) in clause.split('?').enumerate() {
            if i > 0 {
                let v = values.next().expect("one value per placeholder");
                self.params.push(v);
                numbered.push_str(&format!("?{}", self.params.len()));
            }
            numbered.push_str(part);
        }
        self.clauses.push(numbered);
    }
    fn opt_i64(&mut self, clause: &str, v: Option<i64>) {
        if let Some(v) = v {
            self.add(clause, [SqlValue::Integer(v)]);
        }
    }
    /// Keyset condition for pages ordered by (ts DESC, id DESC).
    fn before(&mut self, ts_col: &str, id_col: &str, cursor: Option<Cursor>) {
        if let Some(c) = cursor {
            self.add(
                &format!("{ts_col} <= ? AND ({ts_col} < ? OR {id_col} < ?)"),
                [
                    SqlValue::Integer(c.ts),
                    SqlValue::Integer(c.ts),
                    SqlValue::Integer(c.id),
                ],
            );
        }
    }
    fn sql(&self) -> String {
        if self.clauses.is_empty() {
            "1".into()
        } else {
            self.clauses.join(" AND ")
        }
    }
    fn limit(&mut self, limit: usize) -> String {
        self.params
            .push(SqlValue::Integer(limit.clamp(1, MAX_PAGE) as i64));
        format!("?{}", self.params.len())
    }
}

fn page<T>(items: Vec<T>, limit: usize, key: impl Fn(&T) -> Cursor) -> Page<T> {
    let next = (items.len() >= limit.clamp(1, MAX_PAGE))
        .then(|| items.last().map(&key))
        .flatten();
    Page { items, next }
}

fn json_col(s: Option<String>) -> Value {
    s.and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or(Value::Null)
}

fn author(first: Option<String>, last: Option<String>, username: Option<String>) -> Option<String> {
    let mut name = first.unwrap_or_default();
    if let Some(last) = last.filter(|l| !l.is_empty()) {
        if !name.is_empty() {
            name.push(' ');
        }
        name.push_str(&last);
    }
    if let Some(u) = username.filter(|u| !u.is_empty()) {
        if name.is_empty() {
            name = format!("@{u}");
        } else {
            name = format!("{name} (@{u})");
        }
    }
    (!name.is_empty()).then_some(name)
}

/// `%text%` for LIKE with `\` escaping.
fn like_pattern(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

/// Ids inlined into `IN (...)` (integers only, so no injection); `NULL` for none, which
/// matches nothing.
fn id_list(ids: &[i64]) -> String {
    if ids.is_empty() {
        return "NULL".into();
    }
    ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
}

/// An audit detail as `key=value` pairs; nulls and empty objects left out.
fn compact_detail(json: &str) -> String {
    match serde_json::from_str::<Value>(json) {
        Ok(Value::Object(map)) => map
            .iter()
            .filter(|(_, v)| !v.is_null())
            .map(|(k, v)| match v {
                Value::String(s) => format!("{k}={s}"),
                other => format!("{k}={other}"),
            })
            .collect::<Vec<_>>()
            .join(" "),
        Ok(Value::Null) | Err(_) => String::new(),
        Ok(other) => other.to_string(),
    }
}

const MESSAGE_COLUMNS: &str = "m.id, m.chat_id, m.message_id, m.user_id, m.ts, m.text, m.media, m.edited, m.deleted, m.verdict, m.score, m.flagged, m.summary, u.first_name, u.last_name, u.username";

fn message_from_row(r: &Row<'_>) -> rusqlite::Result<MessageRecord> {
    Ok(MessageRecord {
        row_id: r.get(0)?,
        chat_id: r.get(1)?,
        message_id: r.get(2)?,
        user_id: r.get(3)?,
        ts: r.get(4)?,
        text: r.get(5)?,
        media: r.get(6)?,
        edited: r.get(7)?,
        deleted: r.get(8)?,
        verdict: r.get(9)?,
        score: r.get(10)?,
        flagged: r.get(11)?,
        summary: r.get(12)?,
        author: author(r.get(13)?, r.get(14)?, r.get(15)?),
        hits: Vec::new(),
    })
}

const STRIKE_COLUMNS: &str = "id, chat_id, user_id, reason, source, ts, expires_at, message_id, forgiven_by, forgiven_at, forgiven_why";

fn strike_from_row(r: &Row<'_>) -> rusqlite::Result<StrikeRecord> {
    Ok(StrikeRecord {
        id: r.get(0)?,
        chat_id: r.get(1)?,
        user_id: r.get(2)?,
        reason: r.get(3)?,
        source: r.get(4)?,
        ts: r.get(5)?,
        expires_at: r.get(6)?,
        message_id: r.get(7)?,
        forgiven_by: r.get(8)?,
        forgiven_at: r.get(9)?,
        forgiven_why: r.get(10)?,
    })
}

const RESTRICTION_COLUMNS: &str =
    "id, chat_id, user_id, kind, since, until, reason, by, lifted_at, lifted_by, lifted_why";

fn restriction_from_row(r: &Row<'_>) -> rusqlite::Result<RestrictionRecord> {
    Ok(RestrictionRecord {
        id: r.get(0)?,
        chat_id: r.get(1)?,
        user_id: r.get(2)?,
        kind: r.get(3)?,
        since: r.get(4)?,
        until: r.get(5)?,
        reason: r.get(6)?,
        by: r.get(7)?,
        lifted_at: r.get(8)?,
        lifted_by: r.get(9)?,
        lifted_why: r.get(10)?,
    })
}

const LABEL_COLUMNS: &str = "id, chat_id, message_id, user_id, text, label, origin, by, ts";

fn label_from_row(r: &Row<'_>) -> rusqlite::Result<LabelRecord> {
    Ok(LabelRecord {
        id: r.get(0)?,
        chat_id: r.get(1)?,
        message_id: r.get(2)?,
        user_id: r.get(3)?,
        text: r.get(4)?,
        label: r.get(5)?,
        origin: r.get(6)?,
        by: r.get(7)?,
        ts: r.get(8)?,
    })
}

const AUDIT_COLUMNS: &str =
    "id, ts, actor, action, chat_id, user_id, ref_id, detail, prev_hash, hash";

fn audit_from_row(r: &Row<'_>) -> rusqlite::Result<AuditRecord> {
    Ok(AuditRecord {
        id: r.get(0)?,
        ts: r.get(1)?,
        actor: r.get(2)?,
        action: r.get(3)?,
        chat_id: r.get(4)?,
        user_id: r.get(5)?,
        ref_id: r.get(6)?,
        detail: json_col(r.get(7)?),
        prev_hash: r.get(8)?,
        hash: r.get(9)?,
    })
}

const USER_COLUMNS: &str = "id, first_name, last_name, username, is_bot, first_seen, last_seen, message_count, trust, listed, tags, note, score, score_at, forgotten_at";

fn user_from_row(r: &Row<'_>) -> rusqlite::Result<UserRecord> {
    let tags: String = r.get(10)?;
    Ok(UserRecord {
        id: r.get(0)?,
        first_name: r.get(1)?,
        last_name: r.get(2)?,
        username: r.get(3)?,
        is_bot: r.get(4)?,
        first_seen: r.get(5)?,
        last_seen: r.get(6)?,
        message_count: r.get(7)?,
        trust: r.get(8)?,
        listed: r.get(9)?,
        tags: serde_json::from_str(&tags).unwrap_or_default(),
        note: r.get(11)?,
        score: r.get(12)?,
        score_at: r.get(13)?,
        forgotten_at: r.get(14)?,
    })
}

fn rule_from_row(r: &Row<'_>) -> rusqlite::Result<RuleRecord> {
    Ok(RuleRecord {
        name: r.get(0)?,
        version: r.get(1)?,
        body: r.get(2)?,
        author: r.get(3)?,
        ts: r.get(4)?,
    })
}

fn chat_from_row(r: &Row<'_>) -> rusqlite::Result<ChatRecord> {
    Ok(ChatRecord {
        id: r.get(0)?,
        title: r.get(1)?,
        kind: r.get(2)?,
        mode: r.get(3)?,
        settings: json_col(r.get(4)?),
        first_seen: r.get(5)?,
        updated_at: r.get(6)?,
    })
}

fn known_spammer_from_row(r: &Row<'_>) -> rusqlite::Result<KnownSpammerRecord> {
    Ok(KnownSpammerRecord {
        user_id: r.get(0)?,
        listed: r.get(1)?,
        source: r.get(2)?,
        checked_at: r.get(3)?,
        detail: r.get(4)?,
    })
}

impl Reader {
    /// Open a read-only connection on an existing Warden database.
    pub fn open(path: &Path) -> Result<Reader, StoreError> {
        if !path.exists() {
            return Err(StoreError::Io {
                path: path.to_path_buf(),
                source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"),
            });
        }
        let conn = schema::open_read_connection(path)?;
        schema::check_identity(&conn, path)?;
        Ok(Reader {
            conn,
            path: path.to_path_buf(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn list<T>(
        &self,
        sql: &str,
        params: &[SqlValue],
        f: impl FnMut(&Row<'_>) -> rusqlite::Result<T>,
    ) -> Result<Vec<T>, StoreError> {
        let p = &self.path;
        let mut stmt = self.conn.prepare_cached(sql).ctx(p)?;
        let rows = stmt
            .query_map(params_from_iter(params.iter()), f)
            .ctx(p)?
            .collect::<Result<Vec<_>, _>>()
            .ctx(p)?;
        Ok(rows)
    }

    pub fn schema_version(&self) -> Result<i64, StoreError> {
        schema::schema_version_of(&self.conn, &self.path)
    }

    /// `PRAGMA integrity_check` findings; empty when the database is sound.
    pub fn integrity_check(&self) -> Result<Vec<String>, StoreError> {
        let found: Vec<String> = self.list("PRAGMA integrity_check", &[], |r| r.get(0))?;
        Ok(found.into_iter().filter(|s| s != "ok").collect())
    }

    /// Walk the audit chain and name the first row that does not verify.
    pub fn verify_audit(&self) -> Result<AuditCheck, StoreError> {
        audit::verify(&self.conn).ctx(&self.path)
    }

    fn attach_hits(&self, messages: &mut [MessageRecord]) -> Result<(), StoreError> {
        let p = &self.path;
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT name, weight, detail FROM signal_hits WHERE message_row = ?1 ORDER BY weight DESC",
            )
            .ctx(p)?;
        for m in messages {
            m.hits = stmt
                .query_map([m.row_id], |r| {
                    Ok(HitRecord {
                        name: r.get(0)?,
                        weight: r.get(1)?,
                        detail: r.get(2)?,
                    })
                })
                .ctx(p)?
                .collect::<Result<_, _>>()
                .ctx(p)?;
        }
        Ok(())
    }

    /// Flagged messages, newest first, with their signal hits.
    pub fn latest_flagged(
        &self,
        filter: &FlaggedFilter,
        before: Option<Cursor>,
        limit: usize,
    ) -> Result<Page<MessageRecord>, StoreError> {
        let mut w = Where::default();
        w.add("m.flagged = 1", []);
        w.opt_i64("m.chat_id = ?", filter.chat_id);
        w.opt_i64("m.user_id = ?", filter.user_id);
        w.opt_i64("m.ts >= ?", filter.since);
        if let Some(min) = filter.min_score {
            w.add("m.score >= ?", [SqlValue::Real(min)]);
        }
        if !filter.include_deleted {
            w.add("m.deleted = 0", []);
        }
        w.before("m.ts", "m.id", before);
        let limit_param = w.limit(limit);
        let sql = format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages m LEFT JOIN users u ON u.id = m.user_id
             WHERE {} ORDER BY m.ts DESC, m.id DESC LIMIT {limit_param}",
            w.sql()
        );
        let mut items = self.list(&sql, &w.params, message_from_row)?;
        self.attach_hits(&mut items)?;
        Ok(page(items, limit, |m| Cursor {
            ts: m.ts,
            id: m.row_id,
        }))
    }

    /// One message by its Telegram ids.
    pub fn message(
        &self,
        chat_id: i64,
        message_id: i64,
    ) -> Result<Option<MessageRecord>, StoreError> {
        let sql = format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages m LEFT JOIN users u ON u.id = m.user_id
             WHERE m.chat_id = ?1 AND m.message_id = ?2"
        );
        let mut items = self.list(
            &sql,
            &[SqlValue::Integer(chat_id), SqlValue::Integer(message_id)],
            message_from_row,
        )?;
        self.attach_hits(&mut items)?;
        Ok(items.pop())
    }

    pub fn user(&self, user_id: i64) -> Result<Option<UserRecord>, StoreError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = ?1");
        Ok(self
            .list(&sql, &[SqlValue::Integer(user_id)], user_from_row)?
            .pop())
    }

    /// Users a moderator trusted, whitelisted or blacklisted: what policy loads at start.
    pub fn moderated_users(&self) -> Result<Vec<UserRecord>, StoreError> {
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM users
             WHERE forgotten_at IS NULL AND (trust = 'trusted' OR listed != 'none' OR tags != '[]'
               OR note IS NOT NULL OR score > 0)
             ORDER BY id"
        );
        self.list(&sql, &[], user_from_row)
    }

    /// Who earned trust in which chat: (chat, user, since).
    pub fn chat_trust(&self) -> Result<Vec<ChatTrustRecord>, StoreError> {
        self.list(
            "SELECT chat_id, user_id, trusted_at, by FROM chat_trust ORDER BY chat_id, user_id",
            &[],
            |r| {
                Ok(ChatTrustRecord {
                    chat_id: r.get(0)?,
                    user_id: r.get(1)?,
                    trusted_at: r.get(2)?,
                    by: r.get(3)?,
                })
            },
        )
    }

    /// Moderators' stop phrase edits, the latest per phrase, oldest first.
    pub fn stop_phrases(&self) -> Result<Vec<StopPhraseRecord>, StoreError> {
        self.list(
            "SELECT phrase, enabled, changed_at, by FROM stop_phrases ORDER BY changed_at, key",
            &[],
            |r| {
                Ok(StopPhraseRecord {
                    phrase: r.get(0)?,
                    enabled: r.get(1)?,
                    changed_at: r.get(2)?,
                    by: r.get(3)?,
                })
            },
        )
    }

    /// Hit counters of every rule that ever matched, by name.
    pub fn rule_hits(&self) -> Result<Vec<RuleHitsRecord>, StoreError> {
        self.list(
            "SELECT name, hits, shadow_hits, last_hit FROM rule_hits ORDER BY name",
            &[],
            |r| {
                Ok(RuleHitsRecord {
                    name: r.get(0)?,
                    hits: r.get::<_, i64>(1)?.max(0) as u64,
                    shadow_hits: r.get::<_, i64>(2)?.max(0) as u64,
                    last_hit: r.get(3)?,
                })
            },
        )
    }

    /// Everything known about a user, optionally limited to one chat.
    pub fn user_history(&self, user_id: i64, chat: Option<i64>) -> Result<UserHistory, StoreError> {
        let uid = SqlValue::Integer(user_id);
        let chat_param = chat.map_or(SqlValue::Null, SqlValue::Integer);
        let both = [uid.clone(), chat_param];
        let memberships = self.list(
            "SELECT m.chat_id, c.title, m.user_id, m.joined_at, m.left_at, m.join_kind, m.inviter_id
             FROM memberships m LEFT JOIN chats c ON c.id = m.chat_id
             WHERE m.user_id = ?1 AND (?2 IS NULL OR m.chat_id = ?2) ORDER BY m.joined_at DESC",
            &both,
            |r| {
                Ok(MembershipRecord {
                    chat_id: r.get(0)?,
                    chat_title: r.get(1)?,
                    user_id: r.get(2)?,
                    joined_at: r.get(3)?,
                    left_at: r.get(4)?,
                    join_kind: r.get(5)?,
                    inviter_id: r.get(6)?,
                })
            },
        )?;
        let strikes = self.list(
            &format!(
                "SELECT {STRIKE_COLUMNS} FROM strikes WHERE user_id = ?1 AND (?2 IS NULL OR chat_id = ?2)
                 ORDER BY ts DESC, id DESC"
            ),
            &both,
            strike_from_row,
        )?;
        let restrictions = self.list(
            &format!(
                "SELECT {RESTRICTION_COLUMNS} FROM restrictions
                 WHERE user_id = ?1 AND (?2 IS NULL OR chat_id = ?2) ORDER BY since DESC, id DESC"
            ),
            &both,
            restriction_from_row,
        )?;
        let labels = self.list(
            &format!(
                "SELECT {LABEL_COLUMNS} FROM labels WHERE user_id = ?1 AND (?2 IS NULL OR chat_id = ?2)
                 ORDER BY id DESC"
            ),
            &both,
            label_from_row,
        )?;
        let mut recent_messages = self.list(
            &format!(
                "SELECT {MESSAGE_COLUMNS} FROM messages m LEFT JOIN users u ON u.id = m.user_id
                 WHERE m.user_id = ?1 AND (?2 IS NULL OR m.chat_id = ?2)
                 ORDER BY m.ts DESC, m.id DESC LIMIT {HISTORY_MESSAGES}"
            ),
            &both,
            message_from_row,
        )?;
        self.attach_hits(&mut recent_messages)?;
        let clusters = self.list(
            "SELECT cluster_id FROM cluster_members WHERE user_id = ?1 ORDER BY cluster_id",
            &[uid],
            |r| r.get(0),
        )?;
        Ok(UserHistory {
            user_id,
            profile: self.user(user_id)?,
            memberships,
            strikes,
            restrictions,
            labels,
            recent_messages,
            known_spammer: self.known_spammer(user_id)?,
            clusters,
        })
    }

    /// Strike history, newest first: by chat, user, moderator or rule (`source`), date range.
    pub fn strikes(
        &self,
        filter: &StrikeFilter,
        before: Option<Cursor>,
        limit: usize,
    ) -> Result<Page<StrikeRecord>, StoreError> {
        let mut w = Where::default();
        w.opt_i64("chat_id = ?", filter.chat_id);
        w.opt_i64("user_id = ?", filter.user_id);
        w.opt_i64("ts >= ?", filter.since);
        w.opt_i64("ts < ?", filter.until);
        if let Some(source) = &filter.source {
            if source.ends_with(':') {
                // Prefix match that can use the (source, ts) index.
                let mut upper = source.clone();
                upper.pop();
                upper.push(';');
                w.add(
                    "source >= ? AND source < ?",
                    [SqlValue::Text(source.clone()), SqlValue::Text(upper)],
                );
            } else {
                w.add("source = ?", [SqlValue::Text(source.clone())]);
            }
        }
        if !filter.include_forgiven {
            w.add("forgiven_at IS NULL", []);
        }
        w.before("ts", "id", before);
        let limit_param = w.limit(limit);
        let sql = format!(
            "SELECT {STRIKE_COLUMNS} FROM strikes WHERE {} ORDER BY ts DESC, id DESC LIMIT {limit_param}",
            w.sql()
        );
        let items = self.list(&sql, &w.params, strike_from_row)?;
        Ok(page(items, limit, |s| Cursor { ts: s.ts, id: s.id }))
    }

    /// Audit rows, newest first. Ordered by id: only `before.id` is used.
    pub fn audit_page(
        &self,
        filter: &AuditFilter,
        before: Option<Cursor>,
        limit: usize,
    ) -> Result<Page<AuditRecord>, StoreError> {
        let mut w = Where::default();
        w.opt_i64("chat_id = ?", filter.chat_id);
        w.opt_i64("user_id = ?", filter.user_id);
        w.opt_i64("ts >= ?", filter.since);
        w.opt_i64("ts < ?", filter.until);
        if let Some(actor) = &filter.actor {
            w.add("actor = ?", [SqlValue::Text(actor.clone())]);
        }
        if let Some(action) = &filter.action {
            w.add("action = ?", [SqlValue::Text(action.clone())]);
        }
        w.opt_i64("id < ?", before.map(|c| c.id));
        let limit_param = w.limit(limit);
        let sql = format!(
            "SELECT {AUDIT_COLUMNS} FROM audit WHERE {} ORDER BY id DESC LIMIT {limit_param}",
            w.sql()
        );
        let items = self.list(&sql, &w.params, audit_from_row)?;
        Ok(page(items, limit, |a| Cursor { ts: a.ts, id: a.id }))
    }

    /// Training labels, newest first. Ordered by id: only `before.id` is used.
    pub fn labels(
        &self,
        filter: &LabelFilter,
        before: Option<Cursor>,
        limit: usize,
    ) -> Result<Page<LabelRecord>, StoreError> {
        let mut w = Where::default();
        w.opt_i64("chat_id = ?", filter.chat_id);
        w.opt_i64("ts >= ?", filter.since);
        if let Some(label) = &filter.label {
            w.add("label = ?", [SqlValue::Text(label.clone())]);
        }
        if let Some(origin) = &filter.origin {
            w.add("origin = ?", [SqlValue::Text(origin.clone())]);
        }
        w.opt_i64("id < ?", before.map(|c| c.id));
        let limit_param = w.limit(limit);
        let sql = format!(
            "SELECT {LABEL_COLUMNS} FROM labels WHERE {} ORDER BY id DESC LIMIT {limit_param}",
            w.sql()
        );
        let items = self.list(&sql, &w.params, label_from_row)?;
        Ok(page(items, limit, |l| Cursor { ts: l.ts, id: l.id }))
    }

    /// Every label of one kind, oldest first, for training a classifier.
    pub fn all_labels(&self) -> Result<Vec<LabelRecord>, StoreError> {
        self.list(
            &format!("SELECT {LABEL_COLUMNS} FROM labels ORDER BY id"),
            &[],
            label_from_row,
        )
    }

    /// Outbox rows, newest first, optionally of one state and chat. Ordered by id.
    pub fn actions(
        &self,
        state: Option<&str>,
        chat_id: Option<i64>,
        before: Option<Cursor>,
        limit: usize,
    ) -> Result<Page<ActionRow>, StoreError> {
        let mut w = Where::default();
        if let Some(state) = state {
            w.add("state = ?", [SqlValue::Text(state.to_string())]);
        }
        w.opt_i64("chat_id = ?", chat_id);
        w.opt_i64("id < ?", before.map(|c| c.id));
        let limit_param = w.limit(limit);
        let sql = format!(
            "SELECT {ACTION_COLUMNS} FROM actions WHERE {} ORDER BY id DESC LIMIT {limit_param}",
            w.sql()
        );
        let items = self.list(&sql, &w.params, action_from_row)?;
        Ok(page(items, limit, |a| Cursor {
            ts: a.created_at,
            id: a.id,
        }))
    }

    pub fn action(&self, id: i64) -> Result<Option<ActionRow>, StoreError> {
        let sql = format!("SELECT {ACTION_COLUMNS} FROM actions WHERE id = ?1");
        Ok(self
            .list(&sql, &[SqlValue::Integer(id)], action_from_row)?
            .pop())
    }

    /// Actions waiting to run or running.
    pub fn pending_actions_count(&self) -> Result<i64, StoreError> {
        self.conn
            .query_row(
                "SELECT count(*) FROM actions WHERE state IN ('pending', 'running')",
                [],
                |r| r.get(0),
            )
            .ctx(&self.path)
    }

    /// The newest version of every rule.
    pub fn rules_current(&self) -> Result<Vec<RuleRecord>, StoreError> {
        self.list(
            "SELECT name, version, body, author, ts FROM rules r
             WHERE version = (SELECT max(version) FROM rules WHERE name = r.name) ORDER BY name",
            &[],
            rule_from_row,
        )
    }

    /// All versions of a rule, newest first.
    pub fn rule_history(&self, name: &str) -> Result<Vec<RuleRecord>, StoreError> {
        self.list(
            "SELECT name, version, body, author, ts FROM rules WHERE name = ?1 ORDER BY version DESC",
            &[SqlValue::Text(name.to_string())],
            rule_from_row,
        )
    }

    pub fn settings(&self) -> Result<Vec<SettingRecord>, StoreError> {
        self.list(
            "SELECT key, value, updated_at FROM settings ORDER BY key",
            &[],
            |r| {
                Ok(SettingRecord {
                    key: r.get(0)?,
                    value: json_col(r.get(1)?),
                    updated_at: r.get(2)?,
                })
            },
        )
    }

    pub fn setting(&self, key: &str) -> Result<Option<Value>, StoreError> {
        let v: Option<String> = self
            .conn
            .query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| {
                r.get(0)
            })
            .optional()
            .ctx(&self.path)?;
        Ok(v.map(|v| json_col(Some(v))))
    }

    pub fn known_spammer(&self, user_id: i64) -> Result<Option<KnownSpammerRecord>, StoreError> {
        self.conn
            .query_row(
                "SELECT user_id, listed, source, checked_at, detail FROM known_spammers WHERE user_id = ?1",
                [user_id],
                known_spammer_from_row,
            )
            .optional()
            .ctx(&self.path)
    }

    pub fn chats(&self) -> Result<Vec<ChatRecord>, StoreError> {
        self.list(
            "SELECT id, title, kind, mode, settings, first_seen, updated_at FROM chats ORDER BY title, id",
            &[],
            chat_from_row,
        )
    }

    pub fn chat(&self, id: i64) -> Result<Option<ChatRecord>, StoreError> {
        Ok(self
            .list(
                "SELECT id, title, kind, mode, settings, first_seen, updated_at FROM chats WHERE id = ?1",
                &[SqlValue::Integer(id)],
                chat_from_row,
            )?
            .pop())
    }

    /// Bans, mutes and restrictions in force at `now`, optionally in one chat.
    pub fn active_restrictions(
        &self,
        chat_id: Option<i64>,
        now: i64,
    ) -> Result<Vec<RestrictionRecord>, StoreError> {
        self.list(
            &format!(
                "SELECT {RESTRICTION_COLUMNS} FROM restrictions
                 WHERE lifted_at IS NULL AND (until IS NULL OR until > ?2) AND (?1 IS NULL OR chat_id = ?1)
                 ORDER BY since DESC, id DESC"
            ),
            &[
                chat_id.map_or(SqlValue::Null, SqlValue::Integer),
                SqlValue::Integer(now),
            ],
            restriction_from_row,
        )
    }

    pub fn raids(&self, chat_id: Option<i64>, limit: usize) -> Result<Vec<RaidRecord>, StoreError> {
        self.list(
            "SELECT id, chat_id, started_at, ended_at, joins, peak_per_min, state, detail FROM raids
             WHERE ?1 IS NULL OR chat_id = ?1 ORDER BY started_at DESC, id DESC LIMIT ?2",
            &[
                chat_id.map_or(SqlValue::Null, SqlValue::Integer),
                SqlValue::Integer(limit.clamp(1, MAX_PAGE) as i64),
            ],
            |r| {
                Ok(RaidRecord {
                    id: r.get(0)?,
                    chat_id: r.get(1)?,
                    started_at: r.get(2)?,
                    ended_at: r.get(3)?,
                    joins: r.get(4)?,
                    peak_per_min: r.get(5)?,
                    state: r.get(6)?,
                    detail: json_col(r.get(7)?),
                })
            },
        )
    }

    /// Clusters with members and edges, most recently updated first.
    pub fn clusters(
        &self,
        chat_id: Option<i64>,
        limit: usize,
    ) -> Result<Vec<ClusterRecord>, StoreError> {
        let mut clusters = self.list(
            "SELECT id, key, chat_id, detected_at, updated_at, score, state FROM clusters
             WHERE ?1 IS NULL OR chat_id = ?1 ORDER BY updated_at DESC, id DESC LIMIT ?2",
            &[
                chat_id.map_or(SqlValue::Null, SqlValue::Integer),
                SqlValue::Integer(limit.clamp(1, MAX_PAGE) as i64),
            ],
            |r| {
                Ok(ClusterRecord {
                    id: r.get(0)?,
                    key: r.get(1)?,
                    chat_id: r.get(2)?,
                    detected_at: r.get(3)?,
                    updated_at: r.get(4)?,
                    score: r.get(5)?,
                    state: r.get(6)?,
                    members: Vec::new(),
                    edges: Vec::new(),
                })
            },
        )?;
        for c in &mut clusters {
            let id = [SqlValue::Integer(c.id)];
            c.members = self.list(
                "SELECT user_id FROM cluster_members WHERE cluster_id = ?1 ORDER BY user_id",
                &id,
                |r| r.get(0),
            )?;
            c.edges = self.list(
                "SELECT a, b, kind, weight FROM cluster_edges WHERE cluster_id = ?1",
                &id,
                |r| {
                    Ok(EdgeRecord {
                        a: r.get(0)?,
                        b: r.get(1)?,
                        kind: r.get(2)?,
                        weight: r.get(3)?,
                    })
                },
            )?;
        }
        Ok(clusters)
    }

    // ---------- console: feed, history, lookups ----------

    /// Chat ids a filter text names: an id, or part of a title. `None`: no filter.
    fn resolve_chats(&self, text: Option<&str>) -> Result<Option<Vec<i64>>, StoreError> {
        let Some(text) = text.map(str::trim).filter(|t| !t.is_empty()) else {
            return Ok(None);
        };
        let mut ids: Vec<i64> = self.list(
            "SELECT id FROM chats WHERE title LIKE ?1 ESCAPE '\\' ORDER BY id LIMIT 500",
            &[SqlValue::Text(like_pattern(text))],
            |r| r.get(0),
        )?;
        if let Ok(id) = text.parse::<i64>() {
            ids.push(id);
        }
        Ok(Some(ids))
    }

    /// User ids a filter text names. `None`: no filter.
    fn resolve_users(&self, text: Option<&str>) -> Result<Option<Vec<i64>>, StoreError> {
        let Some(text) = text.map(str::trim).filter(|t| !t.is_empty()) else {
            return Ok(None);
        };
        Ok(Some(
            self.find_users(text, 500)?
                .into_iter()
                .map(|u| u.id)
                .collect(),
        ))
    }

    /// Users an id, `@username` (case-insensitive) or part of a display name names; exact
    /// matches first.
    pub fn find_users(&self, handle: &str, limit: usize) -> Result<Vec<UserRecord>, StoreError> {
        let handle = handle.trim();
        let limit = SqlValue::Integer(limit.clamp(1, MAX_PAGE) as i64);
        if handle.is_empty() {
            return Ok(Vec::new());
        }
        if let Ok(id) = handle.parse::<i64>() {
            return Ok(self.user(id)?.into_iter().collect());
        }
        if let Some(name) = handle.strip_prefix('@') {
            let exact = self.list(
                &format!("SELECT {USER_COLUMNS} FROM users WHERE username = ?1 LIMIT ?2"),
                &[SqlValue::Text(name.to_string()), limit.clone()],
                user_from_row,
            )?;
            if !exact.is_empty() {
                return Ok(exact);
            }
            return self.list(
                &format!(
                    "SELECT {USER_COLUMNS} FROM users WHERE username = ?1 COLLATE NOCASE
                     ORDER BY last_seen DESC LIMIT ?2"
                ),
                &[SqlValue::Text(name.to_string()), limit],
                user_from_row,
            );
        }
        self.list(
            &format!(
                "SELECT {USER_COLUMNS} FROM users
                 WHERE (coalesce(first_name, '') || ' ' || coalesce(last_name, '')) LIKE ?1 ESCAPE '\\'
                    OR username LIKE ?1 ESCAPE '\\'
                 ORDER BY (lower(trim(coalesce(first_name, '') || ' ' || coalesce(last_name, ''))) = lower(?2)) DESC,
                          last_seen DESC
                 LIMIT ?3"
            ),
            &[
                SqlValue::Text(like_pattern(handle)),
                SqlValue::Text(handle.to_string()),
                limit,
            ],
            user_from_row,
        )
    }

    /// WHERE for flagged messages (alias `m`, users as `u`); also says whether `u` is needed.
    fn feed_where(
        &self,
        filter: &FeedFilter,
        after: Option<i64>,
        until: Option<i64>,
    ) -> Result<(Where, bool), StoreError> {
        let mut w = Where::default();
        // Literal, so SQLite can pick the partial indexes on flagged rows.
        w.add("m.flagged = 1", []);
        w.opt_i64("m.id > ?", after);
        if after.is_some() {
            w.opt_i64("m.id <= ?", until);
        } else {
            // Unary plus: not a rowid range, so SQLite scans the small flagged index rather
            // than every stored message.
            w.opt_i64("+m.id <= ?", until);
        }
        w.opt_i64("m.ts >= ?", filter.since);
        w.opt_i64("m.ts < ?", filter.before);
        if let Some(chats) = self.resolve_chats(filter.chat.as_deref())? {
            w.add(&format!("m.chat_id IN ({})", id_list(&chats)), []);
        }
        if let Some(users) = self.resolve_users(filter.user.as_deref())? {
            w.add(&format!("m.user_id IN ({})", id_list(&users)), []);
        }
        if let Some(kind) = filter.action.as_deref().filter(|k| !k.is_empty()) {
            w.add(
                "(m.chat_id, m.message_id) IN (SELECT chat_id, message_id FROM actions
                  WHERE message_id IS NOT NULL AND kind = ?)",
                [SqlValue::Text(kind.to_string())],
            );
        }
        if let Some(by) = filter.by.as_deref().filter(|b| !b.is_empty()) {
            w.add(
                "(m.chat_id, m.message_id) IN (SELECT chat_id, message_id FROM actions
                  WHERE message_id IS NOT NULL AND requested_by LIKE ? ESCAPE '\\')",
                [SqlValue::Text(like_pattern(by))],
            );
        }
        for word in filter.words.iter().filter(|w| !w.is_empty()) {
            let p = SqlValue::Text(like_pattern(word));
            w.add(
                "(m.text LIKE ? ESCAPE '\\' OR m.summary LIKE ? ESCAPE '\\' OR u.first_name LIKE ? ESCAPE '\\'
                  OR u.last_name LIKE ? ESCAPE '\\' OR u.username LIKE ? ESCAPE '\\')",
                std::iter::repeat_n(p, 5),
            );
        }
        let needs_users = !filter.words.iter().all(|w| w.is_empty());
        if needs_users && let Some(rows) = filter.word_scan_rows {
            w.add(
                "m.id > (SELECT coalesce(max(id), 0) FROM messages) - ?",
                [SqlValue::Integer(rows)],
            );
        }
        Ok((w, needs_users))
    }

    /// Flagged messages (deleted ones included), newest first, `limit` rows from `offset`,
    /// only rows with `id <= until` when given (the console's freeze anchor). The offset skips
    /// entries of the covering (ts, id) index; [`Reader::flagged_window_at`] starts from a known
    /// row or the oldest end instead, for deep pages.
    pub fn flagged_window(
        &self,
        filter: &FeedFilter,
        until: Option<i64>,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<MessageRecord>, StoreError> {
        self.flagged_window_at(filter, until, FeedStart::Offset(offset), limit)
    }

    /// Like [`Reader::flagged_window`], starting where `start` says; always newest first.
    pub fn flagged_window_at(
        &self,
        filter: &FeedFilter,
        until: Option<i64>,
        start: FeedStart,
        limit: usize,
    ) -> Result<Vec<MessageRecord>, StoreError> {
        let (mut w, needs_users) = self.feed_where(filter, None, until)?;
        let join = if needs_users {
            "LEFT JOIN users u ON u.id = m.user_id"
        } else {
            ""
        };
        let (offset, ascending) = match start {
            FeedStart::Offset(offset) => (offset, false),
            FeedStart::FromOldest(offset) => (offset, true),
            FeedStart::At(c) => {
                w.add(
                    "m.ts <= ? AND (m.ts < ? OR m.id <= ?)",
                    [c.ts, c.ts, c.id].map(SqlValue::Integer),
                );
                (0, false)
            }
            FeedStart::NewerThan(c) => {
                w.add(
                    "m.ts >= ? AND (m.ts > ? OR m.id > ?)",
                    [c.ts, c.ts, c.id].map(SqlValue::Integer),
                );
                (0, true)
            }
        };
        let limit_param = w.limit(limit);
        w.params.push(SqlValue::Integer(offset as i64));
        let offset_param = format!("?{}", w.params.len());
        let order = if ascending {
            "m.ts ASC, m.id ASC"
        } else {
            "m.ts DESC, m.id DESC"
        };
        let sql = format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages m LEFT JOIN users u ON u.id = m.user_id
             WHERE m.id IN (SELECT m.id FROM messages m {join} WHERE {}
                            ORDER BY {order} LIMIT {limit_param} OFFSET {offset_param})
             ORDER BY m.ts DESC, m.id DESC",
            w.sql()
        );
        let mut items = self.list(&sql, &w.params, message_from_row)?;
        self.attach_hits(&mut items)?;
        Ok(items)
    }

    /// How many flagged messages match, with `after < id <= until` when given. Counting only
    /// rows after a known row id is how a caller keeps a cached total current cheaply.
    pub fn flagged_count(
        &self,
        filter: &FeedFilter,
        after: Option<i64>,
        until: Option<i64>,
    ) -> Result<u64, StoreError> {
        let (w, needs_users) = self.feed_where(filter, after, until)?;
        let join = if needs_users {
            "LEFT JOIN users u ON u.id = m.user_id"
        } else {
            ""
        };
        let sql = format!("SELECT count(*) FROM messages m {join} WHERE {}", w.sql());
        let mut stmt = self.conn.prepare_cached(&sql).ctx(&self.path)?;
        let n: i64 = stmt
            .query_row(params_from_iter(w.params.iter()), |r| r.get(0))
            .ctx(&self.path)?;
        Ok(n.max(0) as u64)
    }

    /// Row id of the newest flagged message (0 when none).
    pub fn newest_flagged_id(&self) -> Result<i64, StoreError> {
        self.conn
            .query_row(
                // Walks the rowids down from the newest row instead of the whole flagged index.
                "SELECT coalesce((SELECT id FROM messages NOT INDEXED WHERE flagged = 1
                                  ORDER BY id DESC LIMIT 1), 0)",
                [],
                |r| r.get(0),
            )
            .ctx(&self.path)
    }

    /// Outbox actions about these (chat, message) pairs, oldest first.
    pub fn actions_for_messages(
        &self,
        messages: &[(i64, i64)],
    ) -> Result<Vec<ActionRow>, StoreError> {
        // Served by the actions_message index (migration 2).
        self.per_chat(
            messages,
            &format!("SELECT {ACTION_COLUMNS} FROM actions"),
            action_from_row,
        )
    }

    /// Labels on these (chat, message) pairs, oldest first.
    pub fn labels_for_messages(
        &self,
        messages: &[(i64, i64)],
    ) -> Result<Vec<LabelRecord>, StoreError> {
        self.per_chat(
            messages,
            &format!("SELECT {LABEL_COLUMNS} FROM labels"),
            label_from_row,
        )
    }

    /// `select … WHERE chat_id = ? AND message_id IN (…) ORDER BY id`, one query per chat.
    fn per_chat<T>(
        &self,
        messages: &[(i64, i64)],
        select: &str,
        mut map: impl FnMut(&Row<'_>) -> rusqlite::Result<T>,
    ) -> Result<Vec<T>, StoreError> {
        let mut chats: Vec<i64> = messages.iter().map(|(c, _)| *c).collect();
        chats.sort_unstable();
        chats.dedup();
        let mut out = Vec::new();
        for chat in chats {
            let ids: Vec<i64> = messages
                .iter()
                .filter(|(c, _)| *c == chat)
                .map(|(_, m)| *m)
                .collect();
            let sql = format!(
                "{select} WHERE chat_id = ?1 AND message_id IN ({}) ORDER BY id",
                id_list(&ids)
            );
            out.extend(self.list(&sql, &[SqlValue::Integer(chat)], &mut map)?);
        }
        Ok(out)
    }

    /// The newest `limit` stored messages (any verdict) with their hits, newest first.
    pub fn recent_messages(&self, limit: usize) -> Result<Vec<MessageRecord>, StoreError> {
        let sql = format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages m LEFT JOIN users u ON u.id = m.user_id
             ORDER BY m.id DESC LIMIT ?1"
        );
        let mut items = self.list(
            &sql,
            &[SqlValue::Integer(limit.min(100_000) as i64)],
            message_from_row,
        )?;
        self.attach_hits(&mut items)?;
        Ok(items)
    }

    /// A chat's members who joined at or after `since`, newest first (those who left included,
    /// with when).
    pub fn chat_members(
        &self,
        chat_id: i64,
        since: Option<i64>,
        limit: usize,
    ) -> Result<Vec<ChatMemberRecord>, StoreError> {
        self.list(
            "SELECT m.user_id, u.first_name, u.last_name, u.username, m.joined_at, m.left_at,
                    m.join_kind, m.inviter_id
             FROM memberships m LEFT JOIN users u ON u.id = m.user_id
             WHERE m.chat_id = ?1 AND (?2 IS NULL OR m.joined_at >= ?2)
             ORDER BY m.joined_at DESC, m.user_id LIMIT ?3",
            &[
                SqlValue::Integer(chat_id),
                since.map_or(SqlValue::Null, SqlValue::Integer),
                SqlValue::Integer(limit.clamp(1, MAX_PAGE) as i64),
            ],
            |r| {
                Ok(ChatMemberRecord {
                    user_id: r.get(0)?,
                    first_name: r.get(1)?,
                    last_name: r.get(2)?,
                    username: r.get(3)?,
                    joined_at: r.get(4)?,
                    left_at: r.get(5)?,
                    join_kind: r.get(6)?,
                    inviter_id: r.get(7)?,
                })
            },
        )
    }

    /// Per chat: when a user first and last wrote, and how many messages are stored.
    pub fn user_chat_activity(&self, user_id: i64) -> Result<Vec<ChatActivity>, StoreError> {
        self.list(
            "SELECT m.chat_id, c.title, min(m.ts), max(m.ts), count(*) FROM messages m
             LEFT JOIN chats c ON c.id = m.chat_id WHERE m.user_id = ?1
             GROUP BY m.chat_id ORDER BY max(m.ts) DESC",
            &[SqlValue::Integer(user_id)],
            |r| {
                Ok(ChatActivity {
                    chat_id: r.get(0)?,
                    chat_title: r.get(1)?,
                    first: r.get(2)?,
                    last: r.get(3)?,
                    messages: r.get(4)?,
                })
            },
        )
    }

    /// The three History sources as one WHERE per table, sharing a parameter list.
    fn history_parts(&self, filter: &HistoryFilter) -> Result<(Where, [String; 3]), StoreError> {
        let chats = self.resolve_chats(filter.chat.as_deref())?;
        let users = self.resolve_users(filter.user.as_deref())?;
        let mut w = Where::default();
        // (table alias, time, actor, action, reason) columns.
        let tables = [
            ("s", "s.ts", "s.source", "'strike'", "s.reason"),
            ("r", "r.since", "r.by", "r.kind", "r.reason"),
            ("a", "a.ts", "a.actor", "a.action", "a.detail"),
        ];
        let mut parts: [String; 3] = Default::default();
        for (i, (alias, ts, actor, action, reason)) in tables.into_iter().enumerate() {
            if let Some(chats) = &chats {
                w.add(&format!("{alias}.chat_id IN ({})", id_list(chats)), []);
            }
            if let Some(users) = &users {
                w.add(&format!("{alias}.user_id IN ({})", id_list(users)), []);
            }
            w.opt_i64(&format!("{ts} >= ?"), filter.since);
            w.opt_i64(&format!("{ts} < ?"), filter.before);
            if let Some(by) = filter.by.as_deref().filter(|b| !b.is_empty()) {
                w.add(
                    &format!("{actor} LIKE ? ESCAPE '\\'"),
                    [SqlValue::Text(like_pattern(by))],
                );
            }
            if let Some(kind) = filter.action.as_deref().filter(|k| !k.is_empty()) {
                w.add(&format!("{action} = ?"), [SqlValue::Text(kind.to_string())]);
            }
            for word in filter.words.iter().filter(|w| !w.is_empty()) {
                let p = SqlValue::Text(like_pattern(word));
                w.add(
                    &format!(
                        "({reason} LIKE ? ESCAPE '\\' OR {actor} LIKE ? ESCAPE '\\' OR {action} LIKE ? ESCAPE '\\')"
                    ),
                    std::iter::repeat_n(p, 3),
                );
            }
            if alias == "a" {
                // Strikes and restrictions are listed from their own tables (with reasons);
                // the outbox bookkeeping is not what a reviewer looks for.
                w.add(
                    "a.action NOT IN ('strike', 'ban', 'mute', 'restrict', 'shadow_mute', 'throttle',
                                      'action_claimed', 'action_done', 'action_reset')",
                    [],
                );
            }
            parts[i] = w.sql();
            w.clauses.clear();
        }
        Ok((w, parts))
    }

    /// Strikes, restrictions and audit entries merged newest first, `limit` rows from `offset`.
    pub fn history_window(
        &self,
        filter: &HistoryFilter,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<HistoryEntry>, StoreError> {
        let (mut w, [s, r, a]) = self.history_parts(filter)?;
        let limit = limit.clamp(1, MAX_PAGE);
        w.params.push(SqlValue::Integer((offset + limit) as i64));
        let each = format!("?{}", w.params.len());
        w.params.push(SqlValue::Integer(limit as i64));
        let limit_param = format!("?{}", w.params.len());
        w.params.push(SqlValue::Integer(offset as i64));
        let offset_param = format!("?{}", w.params.len());
        let sql = format!(
            "SELECT h.source, h.id, h.ts, h.actor, h.action, h.chat_id, c.title, h.user_id,
                    u.first_name, u.last_name, u.username, h.reason
             FROM (
               SELECT * FROM (SELECT 'strike' AS source, s.id, s.ts, s.source AS actor, 'strike' AS action,
                                     s.chat_id, s.user_id, s.reason
                              FROM strikes s WHERE {s} ORDER BY s.ts DESC, s.id DESC LIMIT {each})
               UNION ALL
               SELECT * FROM (SELECT 'restriction', r.id, r.since, r.by, r.kind, r.chat_id, r.user_id, r.reason
                              FROM restrictions r WHERE {r} ORDER BY r.since DESC, r.id DESC LIMIT {each})
               UNION ALL
               SELECT * FROM (SELECT 'audit', a.id, a.ts, a.actor, a.action, a.chat_id, a.user_id, a.detail
                              FROM audit a WHERE {a} ORDER BY a.id DESC LIMIT {each})
             ) h
             LEFT JOIN chats c ON c.id = h.chat_id LEFT JOIN users u ON u.id = h.user_id
             ORDER BY h.ts DESC, h.source DESC, h.id DESC LIMIT {limit_param} OFFSET {offset_param}"
        );
        self.list(&sql, &w.params, |row| {
            let source: String = row.get(0)?;
            let mut reason: String = row.get(11)?;
            if source == "audit" {
                reason = compact_detail(&reason);
            }
            Ok(HistoryEntry {
                source,
                id: row.get(1)?,
                ts: row.get(2)?,
                actor: row.get(3)?,
                action: row.get(4)?,
                chat_id: row.get(5)?,
                chat_title: row.get(6)?,
                user_id: row.get(7)?,
                user: author(row.get(8)?, row.get(9)?, row.get(10)?),
                reason,
            })
        })
    }

    /// How many rows `history_window` pages through.
    pub fn history_count(&self, filter: &HistoryFilter) -> Result<u64, StoreError> {
        let (w, [s, r, a]) = self.history_parts(filter)?;
        let sql = format!(
            "SELECT (SELECT count(*) FROM strikes s WHERE {s})
                  + (SELECT count(*) FROM restrictions r WHERE {r})
                  + (SELECT count(*) FROM audit a WHERE {a})"
        );
        let mut stmt = self.conn.prepare_cached(&sql).ctx(&self.path)?;
        let n: i64 = stmt
            .query_row(params_from_iter(w.params.iter()), |r| r.get(0))
            .ctx(&self.path)?;
        Ok(n.max(0) as u64)
    }

    // ---------- stats for the console ----------

    /// Messages and flagged messages per minute in `[from, to)`; minutes without messages are absent.
    pub fn message_rate(
        &self,
        chat_id: Option<i64>,
        from: i64,
        to: i64,
    ) -> Result<Vec<MinuteBucket>, StoreError> {
        let sql = if chat_id.is_some() {
            "SELECT (ts / 60) * 60 AS minute, count(*), sum(flagged) FROM messages
             WHERE chat_id = ?3 AND ts >= ?1 AND ts < ?2 GROUP BY minute ORDER BY minute"
        } else {
            "SELECT (ts / 60) * 60 AS minute, count(*), sum(flagged) FROM messages
             WHERE ts >= ?1 AND ts < ?2 AND ?3 IS NULL GROUP BY minute ORDER BY minute"
        };
        self.list(
            sql,
            &[
                SqlValue::Integer(from),
                SqlValue::Integer(to),
                chat_id.map_or(SqlValue::Null, SqlValue::Integer),
            ],
            |r| {
                Ok(MinuteBucket {
                    minute: r.get(0)?,
                    messages: r.get(1)?,
                    flagged: r.get(2)?,
                })
            },
        )
    }

    /// Outbox actions created since `since`, counted by kind and state.
    pub fn action_counts(&self, since: i64) -> Result<Vec<ActionCount>, StoreError> {
        self.list(
            "SELECT kind, state, count(*) FROM actions WHERE created_at >= ?1
             GROUP BY kind, state ORDER BY kind, state",
            &[SqlValue::Integer(since)],
            |r| {
                Ok(ActionCount {
                    kind: r.get(0)?,
                    state: r.get(1)?,
                    count: r.get(2)?,
                })
            },
        )
    }

    /// The signals that fired most in `[from, to)`.
    pub fn top_signals(
        &self,
        chat_id: Option<i64>,
        from: i64,
        to: i64,
        limit: usize,
    ) -> Result<Vec<SignalCount>, StoreError> {
        let sql = if chat_id.is_some() {
            "SELECT name, count(*) AS n, sum(weight) FROM signal_hits
             WHERE chat_id = ?3 AND ts >= ?1 AND ts < ?2 GROUP BY name ORDER BY n DESC, name LIMIT ?4"
        } else {
            "SELECT name, count(*) AS n, sum(weight) FROM signal_hits
             WHERE ts >= ?1 AND ts < ?2 AND ?3 IS NULL GROUP BY name ORDER BY n DESC, name LIMIT ?4"
        };
        self.list(
            sql,
            &[
                SqlValue::Integer(from),
                SqlValue::Integer(to),
                chat_id.map_or(SqlValue::Null, SqlValue::Integer),
                SqlValue::Integer(limit.clamp(1, MAX_PAGE) as i64),
            ],
            |r| {
                Ok(SignalCount {
                    name: r.get(0)?,
                    hits: r.get(1)?,
                    total_weight: r.get(2)?,
                })
            },
        )
    }

    /// Users by risk score band. `edges` are ascending lower bounds, e.g. `[0.0, 0.3, 0.6, 0.9]`;
    /// the last band is open-ended. Users without a score are not counted.
    pub fn risk_distribution(&self, edges: &[f64]) -> Result<Vec<RiskBand>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT count(*) FROM users WHERE score >= ?1 AND score < ?2")
            .ctx(&self.path)?;
        let mut bands = Vec::with_capacity(edges.len());
        for (i, from) in edges.iter().enumerate() {
            let to = edges.get(i + 1).copied();
            let users: i64 = stmt
                .query_row(params![from, to.unwrap_or(f64::INFINITY)], |r| r.get(0))
                .ctx(&self.path)?;
            bands.push(RiskBand {
                from: *from,
                to,
                users,
            });
        }
        Ok(bands)
    }
}
