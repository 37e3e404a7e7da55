//! View-model types: plain records the app layer fills from the store and engine. The console
//! only renders these; it never sees SQLite or Telegram types.

pub type ChatId = i64;
pub type UserId = i64;
pub type MessageId = i64;
/// Unix time in seconds (UTC).
pub type Timestamp = i64;
pub type ClusterId = i64;

/// How the engine judged a message or user. Always rendered with a glyph and a word, never colour alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Verdict {
    #[default]
    Clean,
    Suspect,
    Spam,
}

impl Verdict {
    pub fn glyph(self) -> &'static str {
        match self {
            Verdict::Clean => "·",
            Verdict::Suspect => "▲",
            Verdict::Spam => "✖",
        }
    }
    pub fn word(self) -> &'static str {
        match self {
            Verdict::Clean => "ham",
            Verdict::Suspect => "susp",
            Verdict::Spam => "spam",
        }
    }
}

/// One flagged message in the Feed.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FeedRow {
    /// Monotonic store id; the newest row has the highest. Used as the freeze anchor.
    pub seq: u64,
    pub time: Timestamp,
    pub chat_id: ChatId,
    pub chat_title: String,
    pub user_id: UserId,
    pub user_name: String,
    pub username: Option<String>,
    pub message_id: MessageId,
    pub text: String,
    pub verdict: Verdict,
    /// 0.0 ..= 1.0
    pub score: f32,
    /// Top reasons, most important first (signal names with a short detail).
    pub reasons: Vec<String>,
    /// Action taken or pending, in words ("deleted", "ban pending", "—").
    pub action: String,
    /// A moderator label already on this message, if any.
    pub label: Option<Label>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Label {
    Spam,
    Ham,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum AlertKind {
    /// A join raid in progress or just ended.
    Raid {
        /// Joins per minute, oldest first.
        join_rate: Vec<u64>,
        state: RaidState,
    },
    /// Another admin banned or restricted somebody: add to the dataset?
    AdminBan { admin: String },
    /// Let through, but the engine was unsure.
    LowConfidenceHam { score_pct: u8 },
    /// An action we could not carry out.
    FailedAction { action: String, error: String },
    /// Telegram asked an account to wait.
    FloodWait { account: String },
    #[default]
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RaidState {
    #[default]
    Detected,
    BunkerOn,
    Releasing,
    Over,
}

impl RaidState {
    pub fn word(self) -> &'static str {
        match self {
            RaidState::Detected => "detected",
            RaidState::BunkerOn => "bunker on",
            RaidState::Releasing => "releasing",
            RaidState::Over => "over",
        }
    }
}

/// One entry of the Alerts pane.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AlertRow {
    pub id: u64,
    pub time: Timestamp,
    pub chat_id: ChatId,
    pub chat_title: String,
    pub kind: AlertKind,
    /// One line in words ("42 joins in 60 s", "@x banned by @admin").
    pub summary: String,
    pub user_id: Option<UserId>,
    /// Seconds until auto-release / retry / flood-wait end.
    pub countdown: Option<u64>,
}

/// A cluster in the Clusters list.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ClusterRow {
    pub id: ClusterId,
    pub score: f32,
    pub members: usize,
    pub banned: usize,
    pub flagged: usize,
    /// Strongest shared signals in words ("same invite link", "same bio link").
    pub signals: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum MemberState {
    #[default]
    Clean,
    Flagged,
    Banned,
}

impl MemberState {
    pub fn glyph(self) -> &'static str {
        match self {
            MemberState::Clean => "●",
            MemberState::Flagged => "▲",
            MemberState::Banned => "✖",
        }
    }
    pub fn ascii(self) -> &'static str {
        match self {
            MemberState::Clean => "o",
            MemberState::Flagged => "^",
            MemberState::Banned => "x",
        }
    }
    pub fn word(self) -> &'static str {
        match self {
            MemberState::Clean => "clean",
            MemberState::Flagged => "flagged",
            MemberState::Banned => "banned",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct ClusterMember {
    pub user_id: UserId,
    pub name: String,
    pub state: MemberState,
    /// Layout position, both in 0.0 ..= 1.0 (from the clusters layout).
    pub x: f64,
    pub y: f64,
}

/// Why two accounts are linked. The console shows the name in the legend and adjacency list.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ClusterEdge {
    /// Index into `ClusterView::members`.
    pub a: usize,
    pub b: usize,
    /// Short kind name ("invite", "bio-link", "name", "timing", "photo").
    pub kind: String,
}

/// The selected cluster as a graph.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ClusterView {
    pub id: ClusterId,
    pub score: f32,
    pub members: Vec<ClusterMember>,
    pub edges: Vec<ClusterEdge>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct ChatSeen {
    pub chat_title: String,
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
    pub messages: u64,
    /// When they joined, as Telegram or Warden saw it.
    pub joined: Option<Timestamp>,
    /// "added by 123", "invite link", … when known.
    pub how_joined: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct StrikeView {
    pub reason: String,
    /// Rule name or moderator ("rule:links", "mod:alice").
    pub source: String,
    pub when: Timestamp,
    pub expires: Option<Timestamp>,
    pub forgiven: bool,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct BanView {
    pub chat_title: String,
    pub when: Timestamp,
    /// `None` = permanent.
    pub until: Option<Timestamp>,
    pub by: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct RecentMessage {
    pub time: Timestamp,
    pub chat_title: String,
    pub text: String,
    pub verdict: Verdict,
    /// Signal hits on this message.
    pub hits: Vec<String>,
}

/// What only the user (MTProto) account can see.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct UserbotView {
    pub bio: Option<String>,
    pub common_chats: Vec<String>,
    /// Messages elsewhere, one line each.
    pub elsewhere: Vec<String>,
}

/// Everything the Investigator shows about one user.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct UserView {
    pub user_id: UserId,
    pub name: String,
    pub username: Option<String>,
    /// Estimated from the id range, in days; `None` when unknown.
    pub est_account_age_days: Option<u32>,
    pub chats: Vec<ChatSeen>,
    pub trusted: bool,
    pub whitelisted: bool,
    pub blacklisted: bool,
    pub tags: Vec<String>,
    pub note: Option<String>,
    /// Current risk 0.0 ..= 1.0 and its history, oldest first, in percent.
    pub score: f32,
    pub score_history: Vec<u64>,
    pub strikes: Vec<StrikeView>,
    pub bans: Vec<BanView>,
    pub labels: Vec<String>,
    pub recent: Vec<RecentMessage>,
    pub cluster: Option<ClusterId>,
    /// `None` when the user account is not connected: the pane says "needs user account".
    pub userbot: Option<UserbotView>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct RuleRow {
    pub name: String,
    pub priority: i32,
    pub enabled: bool,
    /// Shadow rules log what they would do but act on nothing.
    pub shadow: bool,
    pub hits: u64,
    pub text: String,
}

/// A rule text error at a 1-based line and column.
#[derive(Debug, Clone, PartialEq, Eq, Default, thiserror::Error)]
#[error("line {line}, column {column}: {message}")]
pub struct RuleError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// What a rule change would have done to recent stored history.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BacktestSummary {
    pub messages_checked: u64,
    pub would_flag: u64,
    /// Flagged now but not before, and the reverse.
    pub newly_flagged: u64,
    pub no_longer_flagged: u64,
    /// Up to a few example texts of newly flagged messages.
    pub examples: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HistoryKind {
    #[default]
    Strike,
    Ban,
    Audit,
}

impl HistoryKind {
    pub fn word(self) -> &'static str {
        match self {
            HistoryKind::Strike => "strike",
            HistoryKind::Ban => "ban",
            HistoryKind::Audit => "audit",
        }
    }
}

/// One line of the History pane (strike, ban or audit-log entry).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HistoryRow {
    pub id: u64,
    pub time: Timestamp,
    pub kind: HistoryKind,
    /// "mod:alice", "rule:links", "system".
    pub actor: String,
    pub action: String,
    pub user: String,
    pub chat_title: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct StatsView {
    /// Per-second rates, oldest first.
    pub messages_per_sec: Vec<u64>,
    pub flagged_per_sec: Vec<u64>,
    /// (action name, count)
    pub actions_by_kind: Vec<(String, u64)>,
    /// Message counts per risk bucket, lowest risk first, labelled ("0-10", ...).
    pub risk_distribution: Vec<(String, u64)>,
    /// (signal name, hits)
    pub top_signals: Vec<(String, u64)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AccountKind {
    #[default]
    Bot,
    User,
    Demo,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Connection {
    Connected,
    Connecting,
    #[default]
    Disconnected,
    /// The user account is not set up.
    NotConfigured,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct AccountStatus {
    pub kind: AccountKind,
    pub connection: Connection,
    /// Seconds left of a Telegram flood-wait.
    pub flood_wait: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    #[default]
    Live,
    DryRun,
    Training,
}

impl Mode {
    pub fn word(self) -> &'static str {
        match self {
            Mode::Live => "LIVE",
            Mode::DryRun => "DRY-RUN",
            Mode::Training => "TRAINING",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ChatInfo {
    pub id: ChatId,
    pub title: String,
    pub username: Option<String>,
    /// Bunker mode on (new members restricted).
    pub bunker: bool,
    /// Slow-mode seconds, 0 = off.
    pub slow_mode: u64,
}

/// The status bar.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StatusView {
    pub accounts: Vec<AccountStatus>,
    pub mode: Mode,
    pub chats: Vec<ChatInfo>,
    pub pending_actions: usize,
    /// The last error in words, shown until replaced.
    pub last_error: Option<String>,
    /// Current time (real or simulated), for ages and countdowns.
    pub now: Timestamp,
    /// The app is waiting for the moderator to type something (a login step).
    pub prompt: Option<Prompt>,
}

/// A question from the app ("Phone number", "Login code", "2FA password").
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Prompt {
    /// Changes with every new question; the answer names it.
    pub id: u64,
    pub title: String,
    pub label: String,
    /// Typed characters are shown as dots.
    pub secret: bool,
}
