//! The console's [`DataSource`]: lists paged from the store over the console thread's own
//! read connection, everything else from the runtime's published [`LiveView`]. Counts and
//! aggregates are cached so a frame never counts a million rows twice.

use crate::app::live::SharedView;
use crate::policy::{MatchMode, PolicyConfig, RuleContext, RuleSet, backtest};
use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};
use warden_store::{
    ActionRow, Cursor, FeedFilter, FeedStart, HistoryEntry, HistoryFilter, LabelRecord,
    MessageRecord, Reader, StoreError, UserRecord,
};
use warden_ui::{
    AlertRow, BacktestSummary, BanView, ChatSeen, ClusterId, ClusterRow, ClusterView, DataSource,
    FeedRow, Filter, HistoryKind, HistoryRow, Label, Page, PageQuery, RecentMessage, RuleError,
    RuleRow, StatsView, StatusView, StrikeView, UserId, UserView, UserbotView, Verdict,
};

/// How many recent stored messages a rule backtest replays.
pub const BACKTEST_MESSAGES: usize = 2_000;
/// Store aggregates for the Stats pane are refreshed at most this often.
const STATS_TTL: Duration = Duration::from_secs(1);
/// A running (unfrozen) feed total is recounted in full this often; in between only new rows
/// are counted.
const FULL_RECOUNT: Duration = Duration::from_secs(30);
/// Cached counts kept at most; filters typed letter by letter would otherwise pile up.
const MAX_CACHED_COUNTS: usize = 64;

/// Feed total for one (filter, anchor).
#[derive(Debug, Clone, Copy)]
struct FeedCount {
    total: u64,
    /// Rows with ids up to here are in `total` (for a running feed).
    counted_upto: i64,
    at: Instant,
}

/// The last Feed window fetched: where it started and the keys of its rows, so the next
/// window nearby is read from a known row instead of skipping from the top.
#[derive(Debug, Clone)]
struct FeedWindow {
    key: (FeedFilter, Option<i64>),
    /// The total when fetched; a running feed that grew shifts `offset` by the difference.
    total: u64,
    offset: usize,
    rows: Vec<Cursor>,
}

/// Free-word Feed filters search the newest this many stored messages (a text scan).
pub const WORD_SCAN_ROWS: i64 = 50_000;

/// Offsets below this are read directly: skipping a few thousand index entries is cheap.
const DIRECT_OFFSET: usize = 5_000;

#[derive(Default)]
struct Cache {
    feed_window: Option<FeedWindow>,
    feed_counts: HashMap<(FeedFilter, Option<i64>), FeedCount>,
    /// History totals and when they were counted: recounted at most once a second, however
    /// often the runtime publishes.
    history_counts: HashMap<HistoryFilter, (u64, Instant)>,
    chats: HashMap<i64, String>,
    stats: Option<(Instant, StoreStats)>,
}

/// Store aggregates for the Stats pane.
#[derive(Debug, Clone, Default)]
struct StoreStats {
    messages_per_sec: Vec<u64>,
    flagged_per_sec: Vec<u64>,
    actions_by_kind: Vec<(String, u64)>,
    risk_distribution: Vec<(String, u64)>,
    top_signals: Vec<(String, u64)>,
}

pub struct AppSource {
    reader: Reader,
    live: SharedView,
    regex_size_limit: usize,
    rule_match: MatchMode,
    cache: RefCell<Cache>,
}

impl AppSource {
    /// `reader` must be the console thread's own connection. `policy` gives the regex size limit
    /// and match mode, so the editor validates and backtests exactly as the runtime loads.
    /// `None` (the pane says "needs user account") only when no user account is connected.
    fn userbot_view(&self, id: UserId) -> Option<UserbotView> {
        let live = self.live.lock();
        if let Some(found) = live.userbot.get(&id) {
            return Some(found.clone());
        }
        live.user_account.then(|| UserbotView {
            elsewhere: vec!["asking the user account…".to_string()],
            ..UserbotView::default()
        })
    }

    pub fn new(reader: Reader, live: SharedView, policy: &PolicyConfig) -> AppSource {
        AppSource {
            reader,
            live,
            regex_size_limit: policy.regex_size_limit,
            rule_match: policy.rule_match,
            cache: RefCell::new(Cache::default()),
        }
    }

    pub fn live(&self) -> &SharedView {
        &self.live
    }

    fn log_error(&self, what: &str, error: &StoreError) {
        tracing::warn!(error = %error, "console: {what} failed");
    }

    /// Current time: the runtime's (simulated in the demo), else the wall clock.
    fn now(&self) -> i64 {
        let now = self.live.lock().status.now;
        if now > 0 {
            now
        } else {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs() as i64)
        }
    }

    /// Row id of the newest flagged message: published by the runtime, else asked.
    fn newest_flagged(&self) -> i64 {
        let published = self.live.lock().newest_flagged;
        if published > 0 {
            return published as i64;
        }
        self.reader.newest_flagged_id().unwrap_or_else(|e| {
            self.log_error("newest flagged", &e);
            0
        })
    }

    fn chat_title(&self, id: i64) -> String {
        if let Some(title) = self.cache.borrow().chats.get(&id) {
            return title.clone();
        }
        let title = match self.reader.chat(id) {
            Ok(Some(chat)) if !chat.title.is_empty() => chat.title,
            Ok(_) => id.to_string(),
            Err(e) => {
                self.log_error("chat title", &e);
                return id.to_string();
            }
        };
        self.cache.borrow_mut().chats.insert(id, title.clone());
        title
    }

    fn feed_total(&self, filter: &FeedFilter, until: Option<u64>) -> u64 {
        let until = until.map(|u| u as i64);
        let key = (filter.clone(), until);
        let cached = self.cache.borrow().feed_counts.get(&key).copied();
        let count = match (cached, until) {
            // A frozen feed's rows do not change.
            (Some(count), Some(_)) => return count.total,
            (Some(count), None) if count.at.elapsed() < FULL_RECOUNT => {
                let newest = self.newest_flagged();
                if newest <= count.counted_upto {
                    return count.total;
                }
                match self
                    .reader
                    .flagged_count(filter, Some(count.counted_upto), Some(newest))
                {
                    Ok(added) => FeedCount {
                        total: count.total + added,
                        counted_upto: newest,
                        at: count.at,
                    },
                    Err(e) => {
                        self.log_error("feed count", &e);
                        return count.total;
                    }
                }
            }
            _ => {
                let upto = until.unwrap_or_else(|| self.newest_flagged());
                match self.reader.flagged_count(filter, None, Some(upto)) {
                    Ok(total) => FeedCount {
                        total,
                        counted_upto: upto,
                        at: Instant::now(),
                    },
                    Err(e) => {
                        self.log_error("feed count", &e);
                        return 0;
                    }
                }
            }
        };
        let mut cache = self.cache.borrow_mut();
        if cache.feed_counts.len() >= MAX_CACHED_COUNTS {
            cache.feed_counts.clear();
        }
        cache.feed_counts.insert(key, count);
        count.total
    }

    /// Reads a Feed window the cheapest way: near the top by offset, next to the previous
    /// window from its rows' keys, in the lower half from the oldest end.
    fn feed_window(
        &self,
        filter: &FeedFilter,
        until: Option<i64>,
        total: u64,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<MessageRecord>, StoreError> {
        let limit = limit.max(1);
        let key = (filter.clone(), until);
        let previous = self.cache.borrow().feed_window.clone();
        let previous = previous
            .filter(|w| w.key == key && w.total <= total)
            .map(|mut w| {
                // New rows arrive on top: the rows already seen moved down by that many.
                w.offset += (total - w.total) as usize;
                w
            });
        let read = |start, limit| self.reader.flagged_window_at(filter, until, start, limit);
        let messages = match previous {
            _ if offset < DIRECT_OFFSET => read(FeedStart::Offset(offset), limit)?,
            Some(w) if offset >= w.offset && offset < w.offset + w.rows.len() => {
                read(FeedStart::At(w.rows[offset - w.offset]), limit)?
            }
            Some(w) if !w.rows.is_empty() && offset < w.offset && w.offset - offset < limit => {
                let mut rows = read(FeedStart::NewerThan(w.rows[0]), w.offset - offset)?;
                rows.extend(read(FeedStart::At(w.rows[0]), limit - (w.offset - offset))?);
                rows
            }
            _ if offset as u64 > total / 2 => {
                let end = (offset + limit).min(total as usize);
                let from_oldest = total as usize - end;
                read(
                    FeedStart::FromOldest(from_oldest),
                    end.saturating_sub(offset),
                )?
            }
            _ => read(FeedStart::Offset(offset), limit)?,
        };
        self.cache.borrow_mut().feed_window = Some(FeedWindow {
            key,
            total,
            offset,
            rows: messages
                .iter()
                .map(|m| Cursor {
                    ts: m.ts,
                    id: m.row_id,
                })
                .collect(),
        });
        Ok(messages)
    }

    fn feed_row(
        &self,
        message: MessageRecord,
        actions: &[ActionRow],
        labels: &[LabelRecord],
    ) -> FeedRow {
        let key = (message.chat_id, message.message_id);
        let (user_name, username) = split_author(message.author.as_deref(), message.user_id);
        let mine: Vec<&ActionRow> = actions
            .iter()
            .filter(|a| (a.chat_id, a.message_id) == (key.0, Some(key.1)))
            .collect();
        let action = if mine.is_empty() {
            if message.deleted { "deleted" } else { "—" }.to_string()
        } else {
            mine.iter()
                .map(|a| action_words(a))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let label = labels
            .iter()
            .rev()
            .find(|l| (l.chat_id, l.message_id) == (Some(key.0), Some(key.1)))
            .and_then(|l| match l.label.as_str() {
                "spam" => Some(Label::Spam),
                "ham" => Some(Label::Ham),
                _ => None,
            });
        FeedRow {
            seq: message.row_id.max(0) as u64,
            time: message.ts,
            chat_id: message.chat_id,
            chat_title: self.chat_title(message.chat_id),
            user_id: message.user_id,
            user_name,
            username,
            message_id: message.message_id,
            text: message.text.unwrap_or_default(),
            verdict: verdict_of(&message.verdict, message.flagged),
            score: message.score as f32,
            reasons: message
                .hits
                .iter()
                .take(3)
                .map(|h| h.name.clone())
                .collect(),
            action,
            label,
        }
    }

    fn history_row(entry: HistoryEntry) -> HistoryRow {
        let (kind, tag) = match entry.source.as_str() {
            "strike" => (HistoryKind::Strike, 0),
            "restriction" => (HistoryKind::Ban, 1),
            _ => (HistoryKind::Audit, 2),
        };
        let user = match (entry.user, entry.user_id) {
            (Some(name), Some(id)) => format!("{name} [{id}]"),
            (None, Some(id)) => id.to_string(),
            (Some(name), None) => name,
            (None, None) => String::new(),
        };
        HistoryRow {
            id: (entry.id.max(0) as u64) * 4 + tag,
            time: entry.ts,
            kind,
            actor: entry.actor,
            action: entry.action,
            user,
            chat_title: entry
                .chat_title
                .or(entry.chat_id.map(|c| c.to_string()))
                .unwrap_or_default(),
            reason: entry.reason,
        }
    }

    fn store_stats(&self) -> StoreStats {
        if let Some((at, stats)) = &self.cache.borrow().stats
            && at.elapsed() < STATS_TTL
        {
            return stats.clone();
        }
        let now = self.now();
        let mut stats = StoreStats::default();
        let hour_ago = now - 3_600;
        match self.reader.message_rate(None, hour_ago, now + 1) {
            Ok(buckets) => {
                // Per-minute buckets as average per-second rates, gaps as zero.
                let first = (hour_ago / 60) * 60;
                let mut messages = vec![0u64; 61];
                let mut flagged = vec![0u64; 61];
                for b in buckets {
                    let i = ((b.minute - first) / 60).clamp(0, 60) as usize;
                    messages[i] = (b.messages.max(0) as u64).div_ceil(60);
                    flagged[i] = (b.flagged.max(0) as u64).div_ceil(60);
                }
                stats.messages_per_sec = messages;
                stats.flagged_per_sec = flagged;
            }
            Err(e) => self.log_error("message rate", &e),
        }
        match self.reader.action_counts(now - 86_400) {
            Ok(counts) => {
                let mut by_kind: Vec<(String, u64)> = Vec::new();
                for c in counts {
                    match by_kind.iter_mut().find(|(k, _)| *k == c.kind) {
                        Some((_, n)) => *n += c.count.max(0) as u64,
                        None => by_kind.push((c.kind, c.count.max(0) as u64)),
                    }
                }
                by_kind.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
                stats.actions_by_kind = by_kind;
            }
            Err(e) => self.log_error("action counts", &e),
        }
        let edges: Vec<f64> = (0..10).map(|i| f64::from(i) / 10.0).collect();
        match self.reader.risk_distribution(&edges) {
            Ok(bands) => {
                stats.risk_distribution = bands
                    .into_iter()
                    .map(|b| {
                        let from = (b.from * 100.0).round() as u32;
                        let to = b.to.map_or(100, |t| (t * 100.0).round() as u32);
                        (format!("{from}-{to}"), b.users.max(0) as u64)
                    })
                    .collect();
            }
            Err(e) => self.log_error("risk distribution", &e),
        }
        match self.reader.top_signals(None, hour_ago, now + 1, 10) {
            Ok(signals) => {
                stats.top_signals = signals
                    .into_iter()
                    .map(|s| (s.name, s.hits.max(0) as u64))
                    .collect();
            }
            Err(e) => self.log_error("top signals", &e),
        }
        self.cache.borrow_mut().stats = Some((Instant::now(), stats.clone()));
        stats
    }

    /// The rules in force: the runtime's (with live counters), else the store's.
    fn current_rule_texts(&self) -> Vec<String> {
        let live: Vec<String> = self
            .live
            .lock()
            .rules
            .iter()
            .map(|r| r.text.clone())
            .collect();
        if !live.is_empty() {
            return live;
        }
        match self.reader.rules_current() {
            Ok(records) => records.into_iter().map(|r| r.body).collect(),
            Err(e) => {
                self.log_error("rules", &e);
                Vec::new()
            }
        }
    }

    fn current_rule_set(&self) -> RuleSet {
        let rules: Vec<serde_json::Value> = self
            .current_rule_texts()
            .iter()
            .filter_map(|text| serde_json::from_str(text).ok())
            .collect();
        let text = serde_json::Value::Array(rules).to_string();
        RuleSet::load("current", &text, self.regex_size_limit).unwrap_or_default()
    }

    fn store_rules(&self) -> Vec<RuleRow> {
        let records = match self.reader.rules_current() {
            Ok(records) => records,
            Err(e) => {
                self.log_error("rules", &e);
                return Vec::new();
            }
        };
        let mut rows: Vec<RuleRow> = records
            .into_iter()
            .map(|record| {
                let body: serde_json::Value =
                    serde_json::from_str(&record.body).unwrap_or_default();
                RuleRow {
                    priority: body
                        .get("priority")
                        .and_then(serde_json::Value::as_i64)
                        .unwrap_or(0) as i32,
                    enabled: body
                        .get("enabled")
                        .and_then(serde_json::Value::as_bool)
                        .unwrap_or(true),
                    shadow: body
                        .get("shadow")
                        .and_then(serde_json::Value::as_bool)
                        .unwrap_or(false),
                    hits: 0,
                    text: serde_json::to_string_pretty(&body).unwrap_or(record.body),
                    name: record.name,
                }
            })
            .collect();
        rows.sort_by(|a, b| b.priority.cmp(&a.priority).then(a.name.cmp(&b.name)));
        rows
    }
}

/// Paging and filtering of a list the runtime published in full.
fn page_of<T: Clone>(rows: impl Iterator<Item = T>, query: &PageQuery) -> Page<T> {
    let rows: Vec<T> = rows.collect();
    Page {
        total: rows.len(),
        rows: rows
            .into_iter()
            .skip(query.offset)
            .take(query.limit)
            .collect(),
    }
}

fn feed_filter(filter: &Filter) -> FeedFilter {
    FeedFilter {
        chat: filter.chat.clone(),
        user: filter.user.clone(),
        action: filter.action.clone(),
        by: filter.by.clone(),
        since: filter.since,
        before: filter.before,
        words: filter.words.clone(),
        word_scan_rows: Some(WORD_SCAN_ROWS),
    }
}

fn history_filter(filter: &Filter) -> HistoryFilter {
    HistoryFilter {
        chat: filter.chat.clone(),
        user: filter.user.clone(),
        by: filter.by.clone(),
        action: filter.action.clone(),
        since: filter.since,
        before: filter.before,
        words: filter.words.clone(),
    }
}

/// "First Last (@username)" back into (name, username).
fn split_author(author: Option<&str>, user_id: i64) -> (String, Option<String>) {
    let Some(author) = author else {
        return (format!("user {user_id}"), None);
    };
    if let Some(username) = author.strip_prefix('@') {
        return (author.to_string(), Some(username.to_string()));
    }
    match author.rsplit_once(" (@") {
        Some((name, rest)) if rest.ends_with(')') => (
            name.to_string(),
            Some(rest.trim_end_matches(')').to_string()),
        ),
        _ => (author.to_string(), None),
    }
}

fn how_joined(m: &warden_store::MembershipRecord) -> Option<String> {
    warden_store::describe_join(&m.join_kind, m.inviter_id)
}

fn user_display(profile: Option<&UserRecord>, user_id: i64) -> (String, Option<String>) {
    let Some(profile) = profile else {
        return (format!("user {user_id}"), None);
    };
    let name = [profile.first_name.as_deref(), profile.last_name.as_deref()]
        .into_iter()
        .flatten()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    let username = profile.username.clone().filter(|u| !u.is_empty());
    let name = if name.is_empty() {
        username
            .as_ref()
            .map_or_else(|| format!("user {user_id}"), |u| format!("@{u}"))
    } else {
        name
    };
    (name, username)
}

fn verdict_of(word: &str, flagged: bool) -> Verdict {
    match word {
        "spam" => Verdict::Spam,
        "ham" | "clean" if !flagged => Verdict::Clean,
        _ => Verdict::Suspect,
    }
}

/// An outbox row in the Feed's words: "delete", "ban pending", "mute failed", "ban (dry-run)".
fn action_words(action: &ActionRow) -> String {
    let state = match action.state.as_str() {
        "done" => "",
        "failed" => " failed",
        _ => " pending",
    };
    let dry = if action.dry_run { " (dry-run)" } else { "" };
    format!("{}{state}{dry}", action.kind)
}

/// The editor holds one rule object; the rules loader wants a list. Wrapping with `[`/`]` on
/// the same line keeps every position but line 1's columns, which shift by one.
fn load_edited(text: &str, limit: usize) -> Result<RuleSet, RuleError> {
    let trimmed = text.trim_start();
    let single = trimmed.starts_with('{')
        && serde_json::from_str::<serde_json::Value>(text)
            .ok()
            .is_none_or(|v| v.get("rules").is_none());
    let (wrapped, shift) = if single {
        (format!("[{text}]"), 1)
    } else {
        (text.to_string(), 0)
    };
    RuleSet::load("editor", &wrapped, limit).map_err(|errors| {
        let Some(first) = errors.errors.into_iter().next() else {
            return RuleError {
                line: 1,
                column: 1,
                message: "the rule does not load".into(),
            };
        };
        let column = if first.line <= 1 {
            first.column.saturating_sub(shift).max(1)
        } else {
            first.column.max(1)
        };
        let last_line = text.lines().count().max(1);
        let mut message = first.message;
        if !first.path.is_empty() {
            message = format!("{}: {message}", first.path);
        }
        RuleError {
            line: first.line.clamp(1, last_line),
            column,
            message,
        }
    })
}

impl DataSource for AppSource {
    fn feed(&self, query: &PageQuery) -> Page<FeedRow> {
        let filter = feed_filter(&query.filter);
        let total = self.feed_total(&filter, query.until);
        let until = query.until.map(|u| u as i64);
        let messages = match self.feed_window(&filter, until, total, query.offset, query.limit) {
            Ok(messages) => messages,
            Err(e) => {
                self.log_error("feed window", &e);
                return Page {
                    rows: Vec::new(),
                    total: total as usize,
                };
            }
        };
        let keys: Vec<(i64, i64)> = messages.iter().map(|m| (m.chat_id, m.message_id)).collect();
        let actions = self.reader.actions_for_messages(&keys).unwrap_or_else(|e| {
            self.log_error("feed actions", &e);
            Vec::new()
        });
        let labels = self.reader.labels_for_messages(&keys).unwrap_or_else(|e| {
            self.log_error("feed labels", &e);
            Vec::new()
        });
        let rows: Vec<FeedRow> = messages
            .into_iter()
            .map(|m| self.feed_row(m, &actions, &labels))
            .collect();
        // Rows committed after the count (a running feed) still belong in the total.
        let total = (total as usize).max(query.offset + rows.len());
        Page { rows, total }
    }

    fn alerts(&self, query: &PageQuery) -> Page<AlertRow> {
        let view = self.live.lock();
        let filter = &query.filter;
        let rows = view.alerts.iter().rev().filter(|a| {
            filter.matches_words(&[&a.summary, &a.chat_title])
                && filter.chat.as_deref().is_none_or(|c| {
                    a.chat_id.to_string() == c
                        || a.chat_title.to_lowercase().contains(&c.to_lowercase())
                })
                && filter
                    .user
                    .as_deref()
                    .is_none_or(|u| a.user_id.is_some_and(|id| id.to_string() == u))
                && filter.since.is_none_or(|s| a.time >= s)
                && filter.before.is_none_or(|b| a.time < b)
        });
        page_of(rows.cloned(), query)
    }

    fn clusters(&self, query: &PageQuery) -> Page<ClusterRow> {
        let view = self.live.lock();
        let rows = view.clusters.iter().filter(|c| {
            let id = c.id.to_string();
            let mut fields: Vec<&str> = c.signals.iter().map(String::as_str).collect();
            fields.push(&id);
            query.filter.matches_words(&fields)
        });
        page_of(rows.cloned(), query)
    }

    fn cluster(&self, id: ClusterId) -> Option<ClusterView> {
        self.live.lock().cluster_views.get(&id).cloned()
    }

    fn user(&self, id: UserId) -> Option<UserView> {
        let history = match self.reader.user_history(id, None) {
            Ok(history) => history,
            Err(e) => {
                self.log_error("user history", &e);
                return None;
            }
        };
        let activity = self.reader.user_chat_activity(id).unwrap_or_else(|e| {
            self.log_error("user activity", &e);
            Vec::new()
        });
        if history.profile.is_none() && activity.is_empty() && history.strikes.is_empty() {
            return None;
        }
        let now = self.now();
        let profile = history.profile.as_ref();
        let (name, username) = user_display(profile, id);
        let membership = |chat: i64| history.memberships.iter().find(|m| m.chat_id == chat);
        let mut chats: Vec<ChatSeen> = activity
            .iter()
            .map(|a| {
                let member = membership(a.chat_id);
                ChatSeen {
                    chat_title: a
                        .chat_title
                        .clone()
                        .unwrap_or_else(|| a.chat_id.to_string()),
                    first_seen: a.first,
                    last_seen: a.last,
                    messages: a.messages.max(0) as u64,
                    joined: member.and_then(|m| m.joined_at),
                    how_joined: member.and_then(how_joined),
                }
            })
            .collect();
        // Chats joined but never written in.
        let written: HashSet<i64> = activity.iter().map(|a| a.chat_id).collect();
        for m in history
            .memberships
            .iter()
            .filter(|m| !written.contains(&m.chat_id))
        {
            let at = m.joined_at.unwrap_or_default();
            chats.push(ChatSeen {
                chat_title: m
                    .chat_title
                    .clone()
                    .unwrap_or_else(|| m.chat_id.to_string()),
                first_seen: at,
                last_seen: m.left_at.unwrap_or(at),
                messages: 0,
                joined: m.joined_at,
                how_joined: how_joined(m),
            });
        }
        let live_cluster = self
            .live
            .lock()
            .cluster_views
            .values()
            .find(|c| c.members.iter().any(|m| m.user_id == id))
            .map(|c| c.id);
        let mut scores: Vec<u64> = history
            .recent_messages
            .iter()
            .rev()
            .map(|m| (m.score.clamp(0.0, 1.0) * 100.0).round() as u64)
            .collect();
        if scores.is_empty()
            && let Some(score) = profile.and_then(|p| p.score)
        {
            scores.push((score.clamp(0.0, 1.0) * 100.0).round() as u64);
        }
        let score = profile
            .and_then(|p| p.score)
            .or(history.recent_messages.first().map(|m| m.score))
            .unwrap_or(0.0) as f32;
        let mut labels: Vec<String> = history
            .labels
            .iter()
            .map(|l| format!("{} by {} ({})", l.label, l.by, l.origin))
            .collect();
        if let Some(listed) = history.known_spammer.as_ref().filter(|k| k.listed) {
            labels.push(format!("known spammer ({})", listed.source));
        }
        Some(UserView {
            user_id: id,
            name,
            username,
            est_account_age_days: crate::engine::estimate_account_created(id)
                .map(|created| ((now - created).max(0) / 86_400) as u32),
            chats,
            trusted: profile.is_some_and(|p| p.trust == "trusted"),
            whitelisted: profile.is_some_and(|p| p.listed == "whitelist"),
            blacklisted: profile.is_some_and(|p| p.listed == "blacklist"),
            tags: profile.map(|p| p.tags.clone()).unwrap_or_default(),
            note: profile.and_then(|p| p.note.clone()),
            score,
            score_history: scores,
            strikes: history
                .strikes
                .iter()
                .map(|s| StrikeView {
                    reason: s.reason.clone(),
                    source: s.source.clone(),
                    when: s.ts,
                    expires: s.expires_at,
                    forgiven: s.forgiven_at.is_some(),
                })
                .collect(),
            bans: history
                .restrictions
                .iter()
                .map(|r| BanView {
                    chat_title: self.chat_title(r.chat_id),
                    when: r.since,
                    until: r.until,
                    by: r.by.clone(),
                    reason: if r.kind == "ban" {
                        r.reason.clone()
                    } else {
                        format!("{}: {}", r.kind, r.reason)
                    },
                })
                .collect(),
            labels,
            recent: history
                .recent_messages
                .iter()
                .map(|m| RecentMessage {
                    time: m.ts,
                    chat_title: self.chat_title(m.chat_id),
                    text: m.text.clone().unwrap_or_default(),
                    verdict: verdict_of(&m.verdict, m.flagged),
                    hits: m.hits.iter().map(|h| h.name.clone()).collect(),
                })
                .collect(),
            cluster: history.clusters.last().copied().or(live_cluster),
            userbot: self.userbot_view(id),
        })
    }

    fn find_user(&self, handle: &str) -> Option<UserId> {
        match self.reader.find_users(handle, 1) {
            Ok(users) => users.first().map(|u| u.id),
            Err(e) => {
                self.log_error("find user", &e);
                None
            }
        }
    }

    fn rules(&self) -> Vec<RuleRow> {
        let live = self.live.lock().rules.clone();
        if live.is_empty() {
            self.store_rules()
        } else {
            live
        }
    }

    fn history(&self, query: &PageQuery) -> Page<HistoryRow> {
        let filter = history_filter(&query.filter);
        let cached = self.cache.borrow().history_counts.get(&filter).copied();
        let total = match cached {
            Some((total, at)) if at.elapsed() < STATS_TTL => total,
            _ => match self.reader.history_count(&filter) {
                Ok(total) => {
                    let mut cache = self.cache.borrow_mut();
                    if cache.history_counts.len() >= MAX_CACHED_COUNTS {
                        cache.history_counts.clear();
                    }
                    cache
                        .history_counts
                        .insert(filter.clone(), (total, Instant::now()));
                    total
                }
                Err(e) => {
                    self.log_error("history count", &e);
                    0
                }
            },
        };
        let rows: Vec<HistoryRow> =
            match self
                .reader
                .history_window(&filter, query.offset, query.limit.max(1))
            {
                Ok(rows) => rows.into_iter().map(AppSource::history_row).collect(),
                Err(e) => {
                    self.log_error("history window", &e);
                    Vec::new()
                }
            };
        Page {
            total: (total as usize).max(query.offset + rows.len()),
            rows,
        }
    }

    fn stats(&self) -> StatsView {
        let mut stats = self.live.lock().stats.clone();
        let empty = stats.messages_per_sec.is_empty()
            || stats.actions_by_kind.is_empty()
            || stats.risk_distribution.is_empty()
            || stats.top_signals.is_empty();
        if empty {
            let store = self.store_stats();
            if stats.messages_per_sec.is_empty() {
                stats.messages_per_sec = store.messages_per_sec;
                stats.flagged_per_sec = store.flagged_per_sec;
            }
            if stats.actions_by_kind.is_empty() {
                stats.actions_by_kind = store.actions_by_kind;
            }
            if stats.risk_distribution.is_empty() {
                stats.risk_distribution = store.risk_distribution;
            }
            if stats.top_signals.is_empty() {
                stats.top_signals = store.top_signals;
            }
        }
        stats
    }

    fn status(&self) -> StatusView {
        let mut status = self.live.lock().status.clone();
        if status.now == 0 {
            status.now = self.now();
        }
        status
    }

    fn validate_rule(&self, text: &str) -> Result<(), RuleError> {
        load_edited(text, self.regex_size_limit).map(|_| ())
    }

    fn backtest_rule(&self, text: &str) -> BacktestSummary {
        let Ok(candidate) = load_edited(text, self.regex_size_limit) else {
            return BacktestSummary::default();
        };
        let messages = match self.reader.recent_messages(BACKTEST_MESSAGES) {
            Ok(messages) => messages,
            Err(e) => {
                self.log_error("backtest history", &e);
                return BacktestSummary::default();
            }
        };
        let contexts: Vec<RuleContext> = messages
            .iter()
            .map(|m| {
                let text = m.text.clone().unwrap_or_default();
                RuleContext {
                    chat_id: m.chat_id,
                    user_id: m.user_id,
                    score: m.score,
                    hits: m.hits.iter().map(|h| (h.name.clone(), h.weight)).collect(),
                    link_domains: crate::app::pipeline::text_link_domains(&text),
                    text,
                    ..RuleContext::default()
                }
            })
            .collect();
        let current = self.current_rule_set();
        // The edited rules replace the current ones of the same name; the rest stay.
        let edited: HashSet<&str> = candidate.rules().iter().map(|r| r.name.as_str()).collect();
        let mut proposed: Vec<_> = current
            .rules()
            .iter()
            .filter(|r| !edited.contains(r.name.as_str()))
            .cloned()
            .collect();
        proposed.extend(candidate.rules().iter().cloned());
        let proposed = RuleSet::new(proposed);
        let before = backtest(&current, &contexts, self.rule_match);
        let after = backtest(&proposed, &contexts, self.rule_match);
        let before_set: HashSet<usize> = before.acted_indexes.iter().copied().collect();
        let after_set: HashSet<usize> = after.acted_indexes.iter().copied().collect();
        let newly: Vec<usize> = after
            .acted_indexes
            .iter()
            .copied()
            .filter(|i| !before_set.contains(i))
            .collect();
        BacktestSummary {
            messages_checked: contexts.len() as u64,
            would_flag: after.acted_on as u64,
            newly_flagged: newly.len() as u64,
            no_longer_flagged: before_set.difference(&after_set).count() as u64,
            examples: newly
                .iter()
                .filter_map(|i| contexts.get(*i))
                .filter(|c| !c.text.is_empty())
                .take(3)
                .map(|c| c.text.chars().take(200).collect())
                .collect(),
        }
    }
}
