//! The seam between the console and the app: the app implements [`DataSource`] over the store and
//! engine. Lists are paged so a million stored rows scroll with bounded memory: the console asks
//! only for the visible window plus a margin.

use crate::model::*;

/// What a pane asks for: `limit` rows starting `offset` rows after the newest (or first) match.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PageQuery {
    pub offset: usize,
    pub limit: usize,
    pub filter: Filter,
    /// Freeze anchor: only rows with `seq <= until` (the Feed sets this while frozen so the
    /// view does not shift as new rows arrive).
    pub until: Option<u64>,
}

/// A parsed `/` filter. Free words match anywhere (case-insensitive); `key:value` tokens narrow
/// by field: `chat:`, `by:` (moderator/rule), `action:`, `user:`, `since:`/`before:` (YYYY-MM-DD).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Filter {
    /// The text as typed, shown in the pane title.
    pub raw: String,
    pub words: Vec<String>,
    pub chat: Option<String>,
    pub by: Option<String>,
    pub action: Option<String>,
    pub user: Option<String>,
    pub since: Option<Timestamp>,
    pub before: Option<Timestamp>,
}

impl Filter {
    pub fn is_empty(&self) -> bool {
        self.raw.trim().is_empty()
    }

    /// Parses the filter line. Unknown keys and bad dates are kept as free words, so typing never errors.
    pub fn parse(raw: &str) -> Filter {
        let mut filter = Filter {
            raw: raw.to_string(),
            ..Filter::default()
        };
        for token in raw.split_whitespace() {
            let Some((key, value)) = token.split_once(':') else {
                filter.words.push(token.to_lowercase());
                continue;
            };
            let value_owned = value.to_string();
            match key {
                "chat" if !value.is_empty() => filter.chat = Some(value_owned),
                "by" | "mod" if !value.is_empty() => filter.by = Some(value_owned),
                "action" if !value.is_empty() => filter.action = Some(value_owned),
                "user" if !value.is_empty() => filter.user = Some(value_owned),
                "since" if parse_date(value).is_some() => filter.since = parse_date(value),
                "before" if parse_date(value).is_some() => filter.before = parse_date(value),
                _ => filter.words.push(token.to_lowercase()),
            }
        }
        filter
    }

    /// True when every free word occurs in one of `fields` (case-insensitive). A helper for
    /// sources that filter in memory; SQL sources translate the fields instead.
    pub fn matches_words(&self, fields: &[&str]) -> bool {
        self.words.iter().all(|word| {
            fields
                .iter()
                .any(|field| field.to_lowercase().contains(word.as_str()))
        })
    }
}

/// YYYY-MM-DD → Unix time at 00:00 UTC.
pub fn parse_date(text: &str) -> Option<Timestamp> {
    let mut parts = text.splitn(3, '-');
    let year: i64 = parts.next()?.parse().ok()?;
    let month: i64 = parts.next()?.parse().ok()?;
    let day: i64 = parts.next()?.parse().ok()?;
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || !(1970..=9999).contains(&year) {
        return None;
    }
    Some(days_from_civil(year, month, day) * 86_400)
}

/// Days since 1970-01-01 (Howard Hinnant's algorithm).
pub(crate) fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// One page of a list plus the total number of matching rows (for the scrollbar and `G`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Page<T> {
    pub rows: Vec<T>,
    pub total: usize,
}

/// Everything the console reads. Implemented by the app over the store and engine, and by test fakes.
/// Calls happen on the UI thread during `render` and key handling, so they should be quick
/// (indexed queries, cached counts).
pub trait DataSource {
    /// Flagged messages, newest first.
    fn feed(&self, query: &PageQuery) -> Page<FeedRow>;
    /// Alerts, newest first.
    fn alerts(&self, query: &PageQuery) -> Page<AlertRow>;
    /// Clusters, highest score first.
    fn clusters(&self, query: &PageQuery) -> Page<ClusterRow>;
    fn cluster(&self, id: ClusterId) -> Option<ClusterView>;
    fn user(&self, id: UserId) -> Option<UserView>;
    /// Resolves `@username` or a display name to an id, for the command line.
    fn find_user(&self, handle: &str) -> Option<UserId>;
    /// Rules by priority (a short list: not paged).
    fn rules(&self) -> Vec<RuleRow>;
    /// Strikes, bans and audit entries, newest first.
    fn history(&self, query: &PageQuery) -> Page<HistoryRow>;
    fn stats(&self) -> StatsView;
    fn status(&self) -> StatusView;
    /// Checks a rule text without saving it.
    fn validate_rule(&self, text: &str) -> Result<(), RuleError>;
    /// Runs a rule text over recent stored history.
    fn backtest_rule(&self, text: &str) -> BacktestSummary;
}
