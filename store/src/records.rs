//! Plain records: what callers write (`New*`, `*Upsert`) and what queries return (`*Record`).
//! Primitive fields only: ids are i64, times are unix seconds.

use serde::{Deserialize, Serialize};
use serde_json::Value;

// ---------- inputs ----------

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatUpsert {
    pub id: i64,
    pub title: String,
    /// "supergroup" | "group" | "channel" | "private".
    pub kind: String,
    pub seen_at: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserUpsert {
    pub id: i64,
    pub first_name: String,
    pub last_name: Option<String>,
    pub username: Option<String>,
    pub is_bot: bool,
    pub seen_at: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MembershipJoin {
    pub chat_id: i64,
    pub user_id: i64,
    pub joined_at: i64,
    /// "direct" | "added" | "invite_link" | "request" | "unknown".
    pub join_kind: String,
    pub inviter_id: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewHit {
    pub name: String,
    pub weight: f64,
    /// Human explanation; may quote the text, so it is purged with the text.
    pub detail: String,
}

/// One message with its verdict. Recording the same (chat_id, message_id) again replaces text,
/// verdict and hits (an edit).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewMessage {
    pub chat_id: i64,
    pub message_id: i64,
    pub user_id: i64,
    pub ts: i64,
    pub text: String,
    pub media: String,
    pub edited: bool,
    /// "clean" | "suspect" | "spam" | ... (the engine's words).
    pub verdict: String,
    pub score: f64,
    pub flagged: bool,
    /// Short verdict summary (signal names), shown in lists.
    pub summary: String,
    pub hits: Vec<NewHit>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewLabel {
    pub chat_id: Option<i64>,
    pub message_id: Option<i64>,
    pub user_id: Option<i64>,
    pub text: String,
    /// "spam" | "ham".
    pub label: String,
    /// "preset" | "moderator" | "admin_action" ...
    pub origin: String,
    pub by: String,
    pub ts: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewStrike {
    pub chat_id: i64,
    pub user_id: i64,
    pub reason: String,
    /// "rule:NAME" | "mod:NAME" | "system".
    pub source: String,
    pub ts: i64,
    pub expires_at: Option<i64>,
    pub message_id: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewRestriction {
    pub chat_id: i64,
    pub user_id: i64,
    /// "ban" | "mute" | "restrict" | "shadow_mute" | "throttle".
    pub kind: String,
    pub since: i64,
    /// None: until lifted.
    pub until: Option<i64>,
    pub reason: String,
    pub by: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewAction {
    pub kind: String,
    pub chat_id: i64,
    pub user_id: Option<i64>,
    pub message_id: Option<i64>,
    pub params: Value,
    /// "rule:NAME" | "mod:NAME" | "system".
    pub requested_by: String,
    pub reason: String,
    pub idempotency_key: String,
    pub dry_run: bool,
}

/// An audit entry. `detail` holds ids and kinds only: strings with whitespace or longer than
/// [`crate::audit::MAX_DETAIL_STRING`] are refused, so message text cannot slip in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewAudit {
    pub ts: i64,
    pub actor: String,
    pub action: String,
    pub chat_id: Option<i64>,
    pub user_id: Option<i64>,
    pub ref_id: Option<i64>,
    pub detail: Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RaidUpsert {
    pub chat_id: i64,
    /// With chat_id, identifies the raid.
    pub started_at: i64,
    pub ended_at: Option<i64>,
    pub joins: i64,
    pub peak_per_min: f64,
    pub state: String,
    pub detail: Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EdgeRecord {
    pub a: i64,
    pub b: i64,
    pub kind: String,
    pub weight: f64,
}

/// A cluster replaces its members and edges on every upsert.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClusterUpsert {
    /// The detector's stable key.
    pub key: String,
    pub chat_id: Option<i64>,
    pub at: i64,
    pub score: f64,
    pub state: String,
    pub members: Vec<i64>,
    pub edges: Vec<EdgeRecord>,
}

// ---------- outputs ----------

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChatRecord {
    pub id: i64,
    pub title: String,
    pub kind: String,
    pub mode: String,
    pub settings: Value,
    pub first_seen: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UserRecord {
    pub id: i64,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub username: Option<String>,
    pub is_bot: bool,
    pub first_seen: i64,
    pub last_seen: i64,
    pub message_count: i64,
    pub trust: String,
    /// "none" | "whitelist" | "blacklist".
    pub listed: String,
    pub tags: Vec<String>,
    pub note: Option<String>,
    pub score: Option<f64>,
    pub score_at: Option<i64>,
    pub forgotten_at: Option<i64>,
}

/// A moderator's edit of the stop phrases: added, or (`enabled: false`) switched off.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StopPhraseRecord {
    pub phrase: String,
    pub enabled: bool,
    pub changed_at: i64,
    pub by: String,
}

/// A user trusted in one chat, by clean messages (`by` = "policy") or a moderator.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChatTrustRecord {
    pub chat_id: i64,
    pub user_id: i64,
    pub trusted_at: i64,
    pub by: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RuleHitsRecord {
    pub name: String,
    pub hits: u64,
    pub shadow_hits: u64,
    pub last_hit: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MembershipRecord {
    pub chat_id: i64,
    pub chat_title: Option<String>,
    pub user_id: i64,
    pub joined_at: Option<i64>,
    pub left_at: Option<i64>,
    pub join_kind: String,
    pub inviter_id: Option<i64>,
}

/// How someone joined, in a moderator's words, from a stored `join_kind` and inviter (nothing
/// when unknown).
pub fn describe_join(join_kind: &str, inviter: Option<i64>) -> Option<String> {
    let who = |prefix: &str| {
        inviter
            .map(|id| format!(", {prefix} {id}"))
            .unwrap_or_default()
    };
    match join_kind {
        "added" => Some(format!("added{}", who("by"))),
        "invite_link" => Some(format!("via invite link{}", who("of"))),
        "request" => Some(format!("by request{}", who("approved by"))),
        "direct" => Some("by themselves".into()),
        _ => None,
    }
}

/// One member of a chat with their names, newest join first (`warden members`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChatMemberRecord {
    pub user_id: i64,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub username: Option<String>,
    pub joined_at: Option<i64>,
    pub left_at: Option<i64>,
    pub join_kind: String,
    pub inviter_id: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HitRecord {
    pub name: String,
    pub weight: f64,
    pub detail: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MessageRecord {
    /// Store row id (the cursor's tie-breaker).
    pub row_id: i64,
    pub chat_id: i64,
    pub message_id: i64,
    pub user_id: i64,
    /// "First Last (@username)" when known.
    pub author: Option<String>,
    pub ts: i64,
    /// None once purged by retention or `forget_user`.
    pub text: Option<String>,
    pub media: String,
    pub edited: bool,
    pub deleted: bool,
    pub verdict: String,
    pub score: f64,
    pub flagged: bool,
    pub summary: String,
    pub hits: Vec<HitRecord>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LabelRecord {
    pub id: i64,
    pub chat_id: Option<i64>,
    pub message_id: Option<i64>,
    pub user_id: Option<i64>,
    pub text: String,
    pub label: String,
    pub origin: String,
    pub by: String,
    pub ts: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StrikeRecord {
    pub id: i64,
    pub chat_id: i64,
    pub user_id: i64,
    pub reason: String,
    pub source: String,
    pub ts: i64,
    pub expires_at: Option<i64>,
    pub message_id: Option<i64>,
    pub forgiven_by: Option<String>,
    pub forgiven_at: Option<i64>,
    pub forgiven_why: Option<String>,
}

impl StrikeRecord {
    /// Counts against the user at `now`: not forgiven and not expired.
    pub fn is_active(&self, now: i64) -> bool {
        self.forgiven_at.is_none() && self.expires_at.is_none_or(|e| e > now)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RestrictionRecord {
    pub id: i64,
    pub chat_id: i64,
    pub user_id: i64,
    pub kind: String,
    pub since: i64,
    pub until: Option<i64>,
    pub reason: String,
    pub by: String,
    pub lifted_at: Option<i64>,
    pub lifted_by: Option<String>,
    pub lifted_why: Option<String>,
}

impl RestrictionRecord {
    pub fn is_active(&self, now: i64) -> bool {
        self.lifted_at.is_none() && self.until.is_none_or(|u| u > now)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ActionRow {
    pub id: i64,
    pub kind: String,
    pub chat_id: i64,
    pub user_id: Option<i64>,
    pub message_id: Option<i64>,
    pub params: Value,
    pub requested_by: String,
    pub reason: String,
    pub idempotency_key: String,
    pub dry_run: bool,
    /// "pending" | "running" | "done" | "failed".
    pub state: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub not_before: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditRecord {
    pub id: i64,
    pub ts: i64,
    pub actor: String,
    pub action: String,
    pub chat_id: Option<i64>,
    pub user_id: Option<i64>,
    pub ref_id: Option<i64>,
    pub detail: Value,
    pub prev_hash: String,
    pub hash: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditCheck {
    pub rows: u64,
    /// Id of the first row whose hash or link does not match; None when the chain is intact.
    pub first_broken: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RuleRecord {
    pub name: String,
    pub version: i64,
    pub body: String,
    pub author: String,
    pub ts: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RaidRecord {
    pub id: i64,
    pub chat_id: i64,
    pub started_at: i64,
    pub ended_at: Option<i64>,
    pub joins: i64,
    pub peak_per_min: f64,
    pub state: String,
    pub detail: Value,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClusterRecord {
    pub id: i64,
    pub key: String,
    pub chat_id: Option<i64>,
    pub detected_at: i64,
    pub updated_at: i64,
    pub score: f64,
    pub state: String,
    pub members: Vec<i64>,
    pub edges: Vec<EdgeRecord>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KnownSpammerRecord {
    pub user_id: i64,
    pub listed: bool,
    pub source: String,
    pub checked_at: i64,
    pub detail: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SettingRecord {
    pub key: String,
    pub value: Value,
    pub updated_at: i64,
}

/// Everything `warden user ID [--chat C]` shows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UserHistory {
    pub user_id: i64,
    pub profile: Option<UserRecord>,
    pub memberships: Vec<MembershipRecord>,
    pub strikes: Vec<StrikeRecord>,
    pub restrictions: Vec<RestrictionRecord>,
    pub labels: Vec<LabelRecord>,
    pub recent_messages: Vec<MessageRecord>,
    pub known_spammer: Option<KnownSpammerRecord>,
    pub clusters: Vec<i64>,
}

// ---------- pagination ----------

/// Keyset cursor: the (ts, id) of the last row of the previous page. Pages go backwards in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    pub ts: i64,
    pub id: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `before` to get the next (older) page; None when this was the last one.
    pub next: Option<Cursor>,
}

// ---------- filters ----------

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FlaggedFilter {
    pub chat_id: Option<i64>,
    pub user_id: Option<i64>,
    pub min_score: Option<f64>,
    pub since: Option<i64>,
    pub include_deleted: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StrikeFilter {
    pub chat_id: Option<i64>,
    pub user_id: Option<i64>,
    /// Exact source ("mod:alice", "rule:links") or a prefix ending in ':' ("mod:" = any moderator).
    pub source: Option<String>,
    pub since: Option<i64>,
    pub until: Option<i64>,
    pub include_forgiven: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AuditFilter {
    pub chat_id: Option<i64>,
    pub user_id: Option<i64>,
    pub actor: Option<String>,
    pub action: Option<String>,
    pub since: Option<i64>,
    pub until: Option<i64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LabelFilter {
    pub chat_id: Option<i64>,
    pub label: Option<String>,
    pub origin: Option<String>,
    pub since: Option<i64>,
}

// ---------- stats ----------

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MinuteBucket {
    /// Start of the minute (unix seconds, multiple of 60).
    pub minute: i64,
    pub messages: i64,
    pub flagged: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ActionCount {
    pub kind: String,
    pub state: String,
    pub count: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SignalCount {
    pub name: String,
    pub hits: i64,
    pub total_weight: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RiskBand {
    /// Inclusive lower bound; the last band has no upper bound.
    pub from: f64,
    pub to: Option<f64>,
    pub users: i64,
}

// ---------- console queries ----------

/// The console Feed's filter. Text fields are matched the way a moderator types them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct FeedFilter {
    /// A chat id, or part of a chat title (case-insensitive).
    pub chat: Option<String>,
    /// A user id, `@username`, or part of a display name.
    pub user: Option<String>,
    /// Messages with an outbox action of this kind ("delete", "ban", ...).
    pub action: Option<String>,
    /// Messages with an outbox action requested by this actor (substring: "alice", "rule:links").
    pub by: Option<String>,
    pub since: Option<i64>,
    /// Exclusive.
    pub before: Option<i64>,
    /// Every word must occur in the text, the verdict summary or the author's names.
    pub words: Vec<String>,
    /// Free words are searched in the newest this many stored messages only (a text scan;
    /// the schema has no full-text index). `None`: everything.
    pub word_scan_rows: Option<i64>,
}

/// Where a console feed window starts (see `Reader::flagged_window_at`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeedStart {
    /// This many rows after the newest match.
    Offset(usize),
    /// At the row with this key (inclusive), going older.
    At(Cursor),
    /// The rows just newer than this key (exclusive): `limit` of them, closest first in the
    /// query, returned newest first.
    NewerThan(Cursor),
    /// The window ends this many rows above the oldest match (for pages near the bottom).
    FromOldest(usize),
}

/// The History pane's filter over strikes, restrictions and the audit log.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct HistoryFilter {
    /// A chat id, or part of a chat title.
    pub chat: Option<String>,
    /// A user id, `@username`, or part of a display name.
    pub user: Option<String>,
    /// Moderator or rule: substring of the actor ("alice", "mod:", "rule:links").
    pub by: Option<String>,
    /// "strike", "ban", "mute", or an audit action ("user_trust", "rule_saved", ...).
    pub action: Option<String>,
    pub since: Option<i64>,
    /// Exclusive.
    pub before: Option<i64>,
    /// Every word must occur in the reason, actor or action.
    pub words: Vec<String>,
}

/// One History row: a strike, a restriction (ban, mute, ...) or an audit entry.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HistoryEntry {
    /// "strike" | "restriction" | "audit".
    pub source: String,
    /// Row id in its own table.
    pub id: i64,
    pub ts: i64,
    pub actor: String,
    /// "strike", the restriction kind, or the audit action.
    pub action: String,
    pub chat_id: Option<i64>,
    pub chat_title: Option<String>,
    pub user_id: Option<i64>,
    /// "First Last (@username)" when known.
    pub user: Option<String>,
    /// The reason in words; for audit rows the compact detail.
    pub reason: String,
}

/// A user's messages in one chat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChatActivity {
    pub chat_id: i64,
    pub chat_title: Option<String>,
    pub first: i64,
    pub last: i64,
    pub messages: i64,
}
