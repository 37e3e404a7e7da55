//! Commands over the store: `warden user`, `forget`, `audit verify`, `db check`, `db backup`.

use crate::cli::Env;
use anyhow::{Context, Result, bail};
use clap::Subcommand;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use warden_store::{Store, UserHistory, WriteOp};

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Walk the hash chain and name the first broken row.
    Verify,
}

#[derive(Debug, Subcommand)]
pub enum StopPhrasesCommand {
    /// The stop phrases in effect: shipped ones and moderators' additions; then those switched off.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Add a stop phrase (`=phrase`: only the whole message matches).
    Add {
        #[arg(required = true, num_args = 1.., allow_hyphen_values = true)]
        phrase: Vec<String>,
    },
    /// Switch a stop phrase off, shipped or added.
    Remove {
        #[arg(required = true, num_args = 1.., allow_hyphen_values = true)]
        phrase: Vec<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// SQLite integrity check and schema version.
    Check,
    /// Online backup to PATH; safe while Warden runs.
    Backup { path: PathBuf },
}

pub use crate::model::unix_now;

/// Changes `warden user` makes before it prints.
#[derive(Debug, Default)]
pub struct UserEdit {
    pub tag: Vec<String>,
    pub untag: Vec<String>,
    pub note: Option<String>,
}

pub fn user(
    env: &Env,
    user_id: i64,
    chat: Option<i64>,
    json: bool,
    edit: &UserEdit,
) -> Result<ExitCode> {
    let store = env.open_existing_store()?;
    let by = format!("mod:{}", env.config.general.moderator);
    let now = unix_now();
    if !edit.tag.is_empty() || !edit.untag.is_empty() {
        let profile = store.reader()?.user_history(user_id, None)?.profile;
        let mut tags: std::collections::BTreeSet<String> = profile
            .map(|p| p.tags.into_iter().collect())
            .unwrap_or_default();
        tags.extend(edit.tag.iter().map(|t| crate::policy::normalize_tag(t)));
        for tag in &edit.untag {
            tags.remove(&crate::policy::normalize_tag(tag));
        }
        tags.retain(|t| !t.is_empty());
        store.writer().commit(WriteOp::SetUserTags {
            user_id,
            tags: tags.into_iter().collect(),
            by: by.clone(),
            at: now,
        })?;
    }
    if let Some(note) = &edit.note {
        store.writer().commit(WriteOp::SetUserNote {
            user_id,
            note: Some(note.trim().to_string()).filter(|n| !n.is_empty()),
            by,
            at: now,
        })?;
    }
    let history = store.reader()?.user_history(user_id, chat)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&history)?);
    } else {
        print!("{}", render_user_history(&history, unix_now()));
    }
    Ok(ExitCode::SUCCESS)
}

pub fn stop_phrases(env: &Env, command: StopPhrasesCommand) -> Result<ExitCode> {
    use crate::engine::phrases::{effective_stop_phrases, stop_phrase_key};
    let (phrase, enabled) = match command {
        StopPhrasesCommand::List { json } => {
            let edits = env.open_store()?.reader()?.stop_phrases()?;
            let in_effect =
                effective_stop_phrases(edits.iter().map(|e| (e.phrase.as_str(), e.enabled)));
            // The store keeps the latest edit of each phrase only.
            let switched_off: Vec<_> = edits.iter().filter(|e| !e.enabled).collect();
            if json {
                let value = serde_json::json!({ "in_effect": in_effect, "edits": edits });
                println!("{}", serde_json::to_string_pretty(&value)?);
                return Ok(ExitCode::SUCCESS);
            }
            let mut out = String::new();
            for line in &in_effect {
                let added = edits
                    .iter()
                    .find(|e| e.enabled && stop_phrase_key(&e.phrase) == stop_phrase_key(line));
                match added {
                    Some(e) => writeln!(
                        out,
                        "{line}    (added by {}, {})",
                        e.by,
                        format_time(e.changed_at)
                    )?,
                    None => writeln!(out, "{line}")?,
                }
            }
            writeln!(out, "{} stop phrase(s) in effect", in_effect.len())?;
            if !switched_off.is_empty() {
                writeln!(out, "switched off:")?;
                for e in switched_off {
                    writeln!(
                        out,
                        "  {}    (by {}, {})",
                        e.phrase,
                        e.by,
                        format_time(e.changed_at)
                    )?;
                }
            }
            print!("{out}");
            return Ok(ExitCode::SUCCESS);
        }
        StopPhrasesCommand::Add { phrase } => (phrase.join(" "), true),
        StopPhrasesCommand::Remove { phrase } => (phrase.join(" "), false),
    };
    let phrase = phrase.trim().to_string();
    let key = crate::engine::phrases::check_stop_phrase(&phrase).map_err(|e| anyhow::anyhow!(e))?;
    let store = env.open_store()?;
    store.writer().commit(WriteOp::SetStopPhrase {
        key,
        phrase: phrase.clone(),
        enabled,
        by: format!("mod:{}", env.config.general.moderator),
        at: unix_now(),
    })?;
    let verb = if enabled { "added" } else { "switched off" };
    println!(
        "stop phrase \"{phrase}\" {verb}; a running console applies it at its next start (in the console: :{} {phrase})",
        if enabled { "stop" } else { "unstop" }
    );
    Ok(ExitCode::SUCCESS)
}

pub fn forget(env: &Env, user_id: i64, yes: bool) -> Result<ExitCode> {
    if !yes {
        bail!(
            "`warden forget {user_id}` removes the user's names, message texts and memberships for good; \
             run it again with --yes to confirm"
        );
    }
    let store = env.open_existing_store()?;
    let by = format!("mod:{}", env.config.general.moderator);
    let removed = store.writer().forget_user(user_id, &by, unix_now())?;
    println!("forgot user {user_id}: {removed} record(s) cleared; the audit chain stays valid");
    Ok(ExitCode::SUCCESS)
}

pub fn audit(env: &Env, command: AuditCommand) -> Result<ExitCode> {
    match command {
        AuditCommand::Verify => {
            let store = env.open_existing_store()?;
            let check = store.reader()?.verify_audit()?;
            match check.first_broken {
                None => {
                    println!("audit chain intact: {} row(s)", check.rows);
                    Ok(ExitCode::SUCCESS)
                }
                Some(row) => {
                    println!(
                        "audit chain BROKEN at row {row} ({} row(s) checked): that row or its predecessor was altered or removed",
                        check.rows
                    );
                    Ok(ExitCode::FAILURE)
                }
            }
        }
    }
}

pub fn db(env: &Env, command: DbCommand) -> Result<ExitCode> {
    match command {
        DbCommand::Check => {
            let (version, problems) = warden_store::check_file(&env.paths.db_file)?;
            println!(
                "{}: schema version {version} (this warden knows {})",
                env.paths.db_file.display(),
                warden_store::SCHEMA_VERSION
            );
            if problems.is_empty() {
                println!("integrity: ok");
                Ok(ExitCode::SUCCESS)
            } else {
                for problem in problems {
                    println!("integrity: {problem}");
                }
                Ok(ExitCode::FAILURE)
            }
        }
        DbCommand::Backup { path } => {
            if path.exists() {
                bail!("{} already exists; choose a new file", path.display());
            }
            let store = env.open_existing_store()?;
            store
                .backup_to(&path)
                .with_context(|| format!("backup to {} failed", path.display()))?;
            println!(
                "backed up {} to {}",
                env.paths.db_file.display(),
                path.display()
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

impl Env {
    /// Opens the database, refusing to create one where the user expected data.
    pub fn open_existing_store(&self) -> Result<Store> {
        let path = &self.paths.db_file;
        if !path.exists() {
            bail!(
                "no database at {} (run the console or a daemon first, or pass --db FILE)",
                path.display()
            );
        }
        Ok(Store::open(path)?)
    }

    /// Moderator labels from the store, when there is one: what the classifier learns besides
    /// the shipped samples.
    pub fn stored_labels(&self) -> Result<Vec<(String, crate::engine::Label)>> {
        if !self.paths.db_file.exists() {
            return Ok(Vec::new());
        }
        let labels = Store::open(&self.paths.db_file)?.reader()?.all_labels()?;
        Ok(labels
            .into_iter()
            .filter_map(|l| Some((l.text, crate::engine::Label::parse(&l.label)?)))
            .collect())
    }

    /// Opens or creates the database (and the data directories).
    pub fn open_store(&self) -> Result<Store> {
        self.paths.ensure_dirs()?;
        Ok(Store::open(&self.paths.db_file)?)
    }
}

/// `warden members CHAT`: who joined a chat (newest first) with how, from live joins and the
/// member lists the user account reads.
pub fn members(
    env: &Env,
    chat: &str,
    since: Option<&str>,
    limit: usize,
    json: bool,
) -> Result<ExitCode> {
    let store = env.open_existing_store()?;
    let reader = store.reader()?;
    let chat = resolve_chat(&reader.chats()?, chat)?;
    let since = since
        .map(|text| {
            crate::policy::duration::parse_duration(text)
                .map(|secs| unix_now() - secs as i64)
                .map_err(|err| anyhow::anyhow!("--since {text:?}: {err}"))
        })
        .transpose()?;
    let members = reader.chat_members(chat.id, since, limit)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&members)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{} ({}): {} member(s){}, newest join first",
        chat.title,
        chat.id,
        members.len(),
        since
            .map(|s| format!(" joined since {}", format_time(s)))
            .unwrap_or_default()
    );
    for m in &members {
        let (name, username) = name_and_username(
            m.first_name.as_deref(),
            m.last_name.as_deref(),
            m.username.as_deref(),
        );
        let joined = m
            .joined_at
            .map_or_else(|| "     (unknown)    ".into(), format_time);
        let how = warden_store::describe_join(&m.join_kind, m.inviter_id)
            .map(|how| format!("  {how}"))
            .unwrap_or_default();
        let left = m
            .left_at
            .map(|at| format!("  left {}", format_time(at)))
            .unwrap_or_default();
        println!("  {joined}  {} {name}{username}{how}{left}", m.user_id);
    }
    Ok(ExitCode::SUCCESS)
}

/// ("First Last", " @username") as the CLI prints a person.
fn name_and_username(
    first: Option<&str>,
    last: Option<&str>,
    username: Option<&str>,
) -> (String, String) {
    let name = [first, last]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    (name, username.map(|u| format!(" @{u}")).unwrap_or_default())
}

/// A chat by id, or by a piece of its title that matches exactly one chat.
fn resolve_chat(
    chats: &[warden_store::ChatRecord],
    text: &str,
) -> Result<warden_store::ChatRecord> {
    if let Ok(id) = text.trim().parse::<i64>()
        && let Some(chat) = chats.iter().find(|c| c.id == id)
    {
        return Ok(chat.clone());
    }
    let needle = text.trim().to_lowercase();
    let found: Vec<&warden_store::ChatRecord> = chats
        .iter()
        .filter(|c| c.title.to_lowercase().contains(&needle))
        .collect();
    match found.as_slice() {
        [one] => Ok((*one).clone()),
        [] => {
            bail!("no chat matches {text:?} (`warden members` takes a chat id or part of a title)")
        }
        many => bail!(
            "{text:?} matches {} chats: {}",
            many.len(),
            many.iter()
                .map(|c| format!("{} ({})", c.title, c.id))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Formats a unix time as `YYYY-MM-DD HH:MM` UTC.
pub fn format_time(ts: i64) -> String {
    let days = ts.div_euclid(86_400);
    let secs = ts.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}",
        secs / 3600,
        secs % 3600 / 60
    )
}

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian (H. Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

pub fn render_user_history(h: &UserHistory, now: i64) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "user {}", h.user_id);
    match &h.profile {
        None => {
            let _ = writeln!(out, "  not seen by Warden");
        }
        Some(p) if p.forgotten_at.is_some() => {
            let _ = writeln!(
                out,
                "  personal data forgotten at {}",
                format_time(p.forgotten_at.unwrap_or(0))
            );
        }
        Some(p) => {
            let (name, username) = name_and_username(
                p.first_name.as_deref(),
                p.last_name.as_deref(),
                p.username.as_deref(),
            );
            let _ = writeln!(
                out,
                "  name      {name}{username}{}",
                if p.is_bot { " [bot]" } else { "" }
            );
            let _ = writeln!(
                out,
                "  seen      {} .. {}, {} message(s)",
                format_time(p.first_seen),
                format_time(p.last_seen),
                p.message_count
            );
            let score = p
                .score
                .map(|s| format!("{s:.2}"))
                .unwrap_or_else(|| "-".into());
            let _ = writeln!(
                out,
                "  trust     {}   list: {}   score: {score}",
                p.trust, p.listed
            );
            if !p.tags.is_empty() {
                let _ = writeln!(out, "  tags      {}", p.tags.join(", "));
            }
            if let Some(note) = &p.note {
                let _ = writeln!(out, "  note      {note}");
            }
        }
    }
    if let Some(k) = &h.known_spammer {
        let _ = writeln!(
            out,
            "  lists     {}: {} (checked {})",
            k.source,
            if k.listed { "LISTED" } else { "not listed" },
            format_time(k.checked_at)
        );
    }
    section(&mut out, "chats", h.memberships.len());
    for m in &h.memberships {
        let title = m
            .chat_title
            .clone()
            .unwrap_or_else(|| m.chat_id.to_string());
        let joined = m.joined_at.map(format_time).unwrap_or_else(|| "?".into());
        let left = m
            .left_at
            .map(|t| format!(", left {}", format_time(t)))
            .unwrap_or_default();
        let inviter = m.inviter_id.map(|i| format!(" by {i}")).unwrap_or_default();
        let _ = writeln!(
            out,
            "  {title}: joined {joined} ({}{inviter}){left}",
            m.join_kind
        );
    }
    section(&mut out, "strikes", h.strikes.len());
    for s in &h.strikes {
        let state = if let (Some(at), Some(by)) = (s.forgiven_at, &s.forgiven_by) {
            format!(
                "forgiven {} by {by}: {}",
                format_time(at),
                s.forgiven_why.as_deref().unwrap_or("")
            )
        } else if s.is_active(now) {
            match s.expires_at {
                Some(e) => format!("active, expires {}", format_time(e)),
                None => "active".into(),
            }
        } else {
            "expired".into()
        };
        let _ = writeln!(
            out,
            "  #{} {} chat {} — {} (by {}) [{state}]",
            s.id,
            format_time(s.ts),
            s.chat_id,
            s.reason,
            s.source
        );
    }
    section(&mut out, "bans and mutes", h.restrictions.len());
    for r in &h.restrictions {
        let until = r
            .until
            .map(format_time)
            .unwrap_or_else(|| "permanent".into());
        let lifted = match (r.lifted_at, &r.lifted_by) {
            (Some(at), Some(by)) => format!(
                " — lifted {} by {by}: {}",
                format_time(at),
                r.lifted_why.as_deref().unwrap_or("")
            ),
            _ => String::new(),
        };
        let _ = writeln!(
            out,
            "  {} {} chat {} until {until} — {} (by {}){lifted}",
            r.kind,
            format_time(r.since),
            r.chat_id,
            r.reason,
            r.by
        );
    }
    section(&mut out, "labels", h.labels.len());
    for l in &h.labels {
        let _ = writeln!(
            out,
            "  {} {} ({}, by {})",
            format_time(l.ts),
            l.label,
            l.origin,
            l.by
        );
    }
    section(&mut out, "recent messages", h.recent_messages.len());
    for m in &h.recent_messages {
        let text = m.text.as_deref().unwrap_or("<text purged>");
        let text: String = text.chars().take(80).collect::<String>().replace('\n', " ");
        let _ = writeln!(
            out,
            "  {} chat {} [{} {:.2}] {text}",
            format_time(m.ts),
            m.chat_id,
            m.verdict,
            m.score
        );
        for hit in &m.hits {
            let _ = writeln!(
                out,
                "      {:<14} {:+.2} {}",
                hit.name,
                hit.weight,
                hit.detail.as_deref().unwrap_or("")
            );
        }
    }
    if !h.clusters.is_empty() {
        let ids: Vec<String> = h.clusters.iter().map(i64::to_string).collect();
        let _ = writeln!(out, "clusters: {}", ids.join(", "));
    }
    out
}

fn section(out: &mut String, name: &str, count: usize) {
    let _ = writeln!(
        out,
        "{name} ({count}){}",
        if count == 0 { ": none" } else { ":" }
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_utc_times() {
        assert_eq!(format_time(0), "1970-01-01 00:00");
        assert_eq!(format_time(1_700_000_000), "2023-11-14 22:13");
        assert_eq!(format_time(951_782_400), "2000-02-29 00:00");
    }
}
