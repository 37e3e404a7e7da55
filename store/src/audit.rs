//! Hash-chained audit log: `hash = sha256(prev_hash || canonical row)`, hex encoded.
//! Rows hold ids and kinds only, so purging texts or forgetting a user never touches the chain.

use crate::records::{AuditCheck, NewAudit};
use rusqlite::{Connection, OptionalExtension, params};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// Longest string value accepted in an audit detail (ids, kinds, rule names).
pub const MAX_DETAIL_STRING: usize = 64;

pub(crate) const GENESIS_HASH: &str =
    "0000000000000000000000000000000000000000000000000000000000000000";

/// Refuse detail values that look like prose: audit rows must not carry texts or names.
pub(crate) fn validate_detail(detail: &Value) -> Result<(), String> {
    match detail {
        Value::String(s) => {
            if s.chars().count() > MAX_DETAIL_STRING || s.chars().any(char::is_whitespace) {
                return Err(format!(
                    "audit detail string {:?} looks like text; audit rows hold ids and kinds only",
                    s.chars().take(20).collect::<String>()
                ));
            }
            Ok(())
        }
        Value::Array(items) => items.iter().try_for_each(validate_detail),
        Value::Object(map) => map.values().try_for_each(validate_detail),
        _ => Ok(()),
    }
}

/// The exact bytes a row's hash covers (besides the previous hash). A JSON array keeps fields
/// unambiguous whatever characters they hold.
#[allow(clippy::too_many_arguments)]
fn canonical(
    id: i64,
    ts: i64,
    actor: &str,
    action: &str,
    chat_id: Option<i64>,
    user_id: Option<i64>,
    ref_id: Option<i64>,
    detail: &str,
) -> String {
    serde_json::json!([id, ts, actor, action, chat_id, user_id, ref_id, detail]).to_string()
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

pub(crate) fn row_hash(prev_hash: &str, canonical_row: &str) -> String {
    let mut h = Sha256::new();
    h.update(prev_hash.as_bytes());
    h.update(canonical_row.as_bytes());
    hex(&h.finalize())
}

/// Append one row inside the caller's transaction. Returns the new row id.
pub(crate) fn append(conn: &Connection, entry: &NewAudit) -> rusqlite::Result<i64> {
    let (last_id, prev_hash): (i64, String) = conn
        .query_row(
            "SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?
        .unwrap_or((0, GENESIS_HASH.to_string()));
    let id = last_id + 1;
    // serde_json's default map is ordered, so the detail text is canonical.
    let detail = entry.detail.to_string();
    let hash = row_hash(
        &prev_hash,
        &canonical(
            id,
            entry.ts,
            &entry.actor,
            &entry.action,
            entry.chat_id,
            entry.user_id,
            entry.ref_id,
            &detail,
        ),
    );
    conn.prepare_cached(
        "INSERT INTO audit (id, ts, actor, action, chat_id, user_id, ref_id, detail, prev_hash, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?
    .execute(params![
        id,
        entry.ts,
        entry.actor,
        entry.action,
        entry.chat_id,
        entry.user_id,
        entry.ref_id,
        detail,
        prev_hash,
        hash
    ])?;
    Ok(id)
}

/// Convenience for the many places that log one state change; one argument per column.
#[allow(clippy::too_many_arguments)]
pub(crate) fn log(
    conn: &Connection,
    ts: i64,
    actor: &str,
    action: &str,
    chat_id: Option<i64>,
    user_id: Option<i64>,
    ref_id: Option<i64>,
    detail: Value,
) -> rusqlite::Result<i64> {
    append(
        conn,
        &NewAudit {
            ts,
            actor: actor.to_string(),
            action: action.to_string(),
            chat_id,
            user_id,
            ref_id,
            detail,
        },
    )
}

/// Walk the whole chain in id order; report the first row whose link or hash is wrong.
pub(crate) fn verify(conn: &Connection) -> rusqlite::Result<AuditCheck> {
    let mut stmt = conn.prepare(
        "SELECT id, ts, actor, action, chat_id, user_id, ref_id, detail, prev_hash, hash
         FROM audit ORDER BY id",
    )?;
    let mut rows = stmt.query([])?;
    let mut expected_prev = GENESIS_HASH.to_string();
    let mut count = 0u64;
    let mut first_broken = None;
    while let Some(r) = rows.next()? {
        count += 1;
        if first_broken.is_some() {
            continue;
        }
        let id: i64 = r.get(0)?;
        let actor: String = r.get(2)?;
        let action: String = r.get(3)?;
        let detail: String = r.get(7)?;
        let prev_hash: String = r.get(8)?;
        let hash: String = r.get(9)?;
        let computed = row_hash(
            &prev_hash,
            &canonical(
                id,
                r.get(1)?,
                &actor,
                &action,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
                &detail,
            ),
        );
        if prev_hash != expected_prev || computed != hash {
            first_broken = Some(id);
        }
        expected_prev = hash;
    }
    Ok(AuditCheck {
        rows: count,
        first_broken,
    })
}
