//! Scenario files: TOML under `assets/scenarios/` (built in) or any path a user passes. Errors name
//! the file, the line and the key, because users copy and edit these by hand.

use crate::model::{ChatId, Timestamp};
use crate::telegram::config::CaptchaConfig;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The scenarios shipped with Warden, in the order `--scenario all` runs them.
pub const BUILTIN: &[(&str, &str)] = &[
    (
        "chatter",
        include_str!("../../assets/scenarios/chatter.toml"),
    ),
    (
        "spam-wave",
        include_str!("../../assets/scenarios/spam-wave.toml"),
    ),
    ("raid", include_str!("../../assets/scenarios/raid.toml")),
    ("ring", include_str!("../../assets/scenarios/ring.toml")),
    (
        "evasion",
        include_str!("../../assets/scenarios/evasion.toml"),
    ),
    ("demo", include_str!("../../assets/scenarios/demo.toml")),
];

/// 2026-03-02 10:00:00 UTC, a Monday morning.
pub const DEFAULT_START: Timestamp = 1_772_445_600;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Used when the run does not pass its own seed.
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// Simulated start, Unix seconds (UTC).
    #[serde(default = "default_start")]
    pub start_unix: Timestamp,
    pub duration_minutes: u32,
    pub chats: Vec<ChatSpec>,
    #[serde(default)]
    pub spam_waves: Vec<SpamWave>,
    #[serde(default)]
    pub raids: Vec<RaidSpec>,
    #[serde(default)]
    pub rings: Vec<RingSpec>,
    #[serde(default)]
    pub evasion: Vec<EvasionSpec>,
    #[serde(default)]
    pub admin_bans: Vec<AdminBanSpec>,
    /// Default fault injection for this scenario; a run may replace it.
    #[serde(default)]
    pub faults: FaultConfig,
    /// Where it was loaded from (`builtin:NAME` or a path); not part of the file.
    #[serde(skip)]
    pub origin: String,
}

fn default_seed() -> u64 {
    1
}
fn default_start() -> Timestamp {
    DEFAULT_START
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Language {
    #[default]
    En,
    Ru,
    /// Each member speaks one of the two.
    Mixed,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChatSpec {
    pub title: String,
    /// Bot API chat id; derived from the position when absent.
    #[serde(default)]
    pub id: Option<ChatId>,
    #[serde(default)]
    pub language: Language,
    /// Long-time members who post through the whole run (trusted in bunker mode).
    pub regulars: u32,
    /// Members who rarely say anything.
    #[serde(default)]
    pub lurkers: u32,
    /// Legitimate people who join during the run and say a few things.
    #[serde(default)]
    pub newcomers: u32,
    /// Ham messages per hour across the chat.
    #[serde(default = "default_rate")]
    pub messages_per_hour: f64,
    /// Warden runs the join captcha here (as `[telegram.captcha]` would on a real chat).
    #[serde(default)]
    pub captcha: bool,
}

fn default_rate() -> f64 {
    60.0
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mutation {
    /// Latin/Cyrillic lookalike letters swapped in.
    Lookalike,
    /// Words split letter by letter (`з а р а б о т о к`).
    Spacing,
    /// Words cut into syllables with hyphens (`за-ра-бо-ток`).
    Syllables,
    /// Digits and @ for letters inside words (`зараб0ток`, `з@работок`, `m0ney`).
    Symbols,
    /// Emoji sprinkled between words.
    Emoji,
    /// Links replaced with fresh ones.
    Link,
}

pub fn all_mutations() -> Vec<Mutation> {
    vec![
        Mutation::Lookalike,
        Mutation::Spacing,
        Mutation::Syllables,
        Mutation::Symbols,
        Mutation::Emoji,
        Mutation::Link,
    ]
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpamWave {
    /// Chat title; the first chat when absent.
    #[serde(default)]
    pub chat: Option<String>,
    pub at_minute: f64,
    pub spammers: u32,
    #[serde(default = "one")]
    pub messages_each: u32,
    /// Spammers join spread over this many minutes.
    #[serde(default = "default_spread")]
    pub spread_minutes: f64,
    #[serde(default = "all_mutations")]
    pub mutations: Vec<Mutation>,
    /// Share of spam messages that are forwards from a channel.
    #[serde(default = "default_forward_share")]
    pub forward_share: f64,
}

fn one() -> u32 {
    1
}
fn default_spread() -> f64 {
    10.0
}
fn default_forward_share() -> f64 {
    0.2
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RaidSpec {
    #[serde(default)]
    pub chat: Option<String>,
    pub at_minute: f64,
    pub accounts: u32,
    #[serde(default = "default_join_window")]
    pub join_window_seconds: u32,
    /// How long after joining each account starts posting.
    #[serde(default = "default_post_delay")]
    pub post_delay_seconds: u32,
    #[serde(default = "two")]
    pub messages_each: u32,
}

fn default_join_window() -> u32 {
    60
}
fn default_post_delay() -> u32 {
    30
}
fn two() -> u32 {
    2
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RingSpec {
    /// Chat titles the ring works; every chat when empty.
    #[serde(default)]
    pub chats: Vec<String>,
    pub at_minute: f64,
    pub members: u32,
    #[serde(default = "default_ring_spread")]
    pub spread_minutes: f64,
    #[serde(default = "two")]
    pub messages_each: u32,
    /// The link every member pushes; generated when absent.
    #[serde(default)]
    pub link: Option<String>,
}

fn default_ring_spread() -> f64 {
    30.0
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tactic {
    /// Posts harmless messages to earn trust, then edits one into spam.
    EditAfterTrust,
    /// Posts as a channel (sender_chat) instead of as a user.
    AsChannel,
    /// Harmless text with the link hidden in an inline button.
    Buttons,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvasionSpec {
    #[serde(default)]
    pub chat: Option<String>,
    pub at_minute: f64,
    pub tactic: Tactic,
    #[serde(default = "one")]
    pub count: u32,
    /// For `edit_after_trust`: how long the account behaves before the edit.
    #[serde(default = "default_trust_minutes")]
    pub trust_minutes: f64,
}

fn default_trust_minutes() -> f64 {
    20.0
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BanTarget {
    Spammer,
    Raider,
    RingMember,
}

/// Another admin (not Warden) bans somebody by hand.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminBanSpec {
    #[serde(default)]
    pub chat: Option<String>,
    pub at_minute: f64,
    pub target: BanTarget,
    #[serde(default = "one")]
    pub count: u32,
}

/// Fault injection for the simulated gateway. Deterministic for a given seed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultConfig {
    /// Share of calls that fail transiently.
    #[serde(default)]
    pub failure_rate: f64,
    /// Share of calls that fail for good (not an admin, user gone).
    #[serde(default)]
    pub permanent_failure_rate: f64,
    /// Share of calls answered with FLOOD_WAIT.
    #[serde(default)]
    pub flood_wait_rate: f64,
    #[serde(default = "default_flood_wait")]
    pub flood_wait_seconds: u64,
    #[serde(default)]
    pub disconnects: Vec<Disconnect>,
}

fn default_flood_wait() -> u64 {
    30
}

/// A window in which every call fails transiently.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Disconnect {
    pub at_minute: f64,
    pub seconds: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScenarioError {
    #[error("{file}:{line}: `{key}`: {message}")]
    Invalid {
        file: String,
        line: usize,
        key: String,
        message: String,
    },
    #[error("{file}: {message}")]
    Io { file: String, message: String },
    #[error(
        "no scenario named `{name}` (built in: {known}); pass a path to a .toml file to use your own"
    )]
    Unknown { name: String, known: String },
}

impl Scenario {
    /// A built-in name (`raid`) or a path to a TOML file.
    pub fn load(name_or_path: &str) -> Result<Scenario, ScenarioError> {
        let path = Path::new(name_or_path);
        if path.exists() || name_or_path.ends_with(".toml") {
            let text = std::fs::read_to_string(path).map_err(|err| ScenarioError::Io {
                file: name_or_path.to_string(),
                message: err.to_string(),
            })?;
            return Scenario::parse(&text, name_or_path);
        }
        match BUILTIN.iter().find(|(name, _)| *name == name_or_path) {
            Some((name, text)) => Scenario::parse(text, &format!("builtin:{name}")),
            None => Err(ScenarioError::Unknown {
                name: name_or_path.to_string(),
                known: Scenario::builtin_names().join(", "),
            }),
        }
    }

    /// Every built-in scenario, in the order `--scenario all` runs them.
    pub fn all() -> Result<Vec<Scenario>, ScenarioError> {
        BUILTIN
            .iter()
            .map(|(name, _)| Scenario::load(name))
            .collect()
    }

    pub fn builtin_names() -> Vec<&'static str> {
        BUILTIN.iter().map(|(name, _)| *name).collect()
    }

    /// The file text of a built-in scenario, for `copy and edit`.
    pub fn builtin_text(name: &str) -> Option<&'static str> {
        BUILTIN
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, text)| *text)
    }

    /// Parse and validate; `origin` names the file in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Scenario, ScenarioError> {
        let mut scenario: Scenario = toml::from_str(text).map_err(|err| {
            let (line, key) = locate_toml_error(text, err.span(), err.message());
            ScenarioError::Invalid {
                file: origin.to_string(),
                line,
                key,
                message: err.message().trim().to_string(),
            }
        })?;
        scenario.origin = origin.to_string();
        scenario.validate(text)?;
        Ok(scenario)
    }

    pub fn start(&self) -> Timestamp {
        self.start_unix
    }

    pub fn end(&self) -> Timestamp {
        self.start_unix + i64::from(self.duration_minutes) * 60
    }

    /// Index of the chat a section refers to (the first chat when `None`).
    pub fn chat_index(&self, title: Option<&str>) -> Option<usize> {
        match title {
            None => (!self.chats.is_empty()).then_some(0),
            Some(title) => self.chats.iter().position(|c| c.title == title),
        }
    }

    /// Bot API id of chat `index`.
    /// The captcha settings a run of this scenario uses: the moderator's own when they turned
    /// it on, else on for the chats the scenario marks.
    pub fn captcha_config(&self, configured: &CaptchaConfig) -> CaptchaConfig {
        let marked: Vec<ChatId> = (0..self.chats.len())
            .filter(|&i| self.chats[i].captcha)
            .map(|i| self.chat_id(i))
            .collect();
        if configured.enabled || marked.is_empty() {
            return configured.clone();
        }
        CaptchaConfig {
            enabled: true,
            chats: marked,
            ..configured.clone()
        }
    }

    pub fn chat_id(&self, index: usize) -> ChatId {
        self.chats
            .get(index)
            .and_then(|c| c.id)
            .unwrap_or(-1_000_000_000_000 - 1_000_001 - index as i64 * 7919)
    }

    fn validate(&self, text: &str) -> Result<(), ScenarioError> {
        let fail = |table: &str, index: Option<usize>, key: &str, message: String| {
            let line = locate_key(text, table, index, key);
            let key = match index {
                Some(i) => format!("{table}[{i}].{key}"),
                None if table.is_empty() => key.to_string(),
                None => format!("{table}.{key}"),
            };
            Err(ScenarioError::Invalid {
                file: self.origin.clone(),
                line,
                key,
                message,
            })
        };
        if self.duration_minutes == 0 {
            return fail("", None, "duration_minutes", "must be at least 1".into());
        }
        if self.chats.is_empty() {
            return fail(
                "",
                None,
                "chats",
                "a scenario needs at least one [[chats]] table".into(),
            );
        }
        let minutes = f64::from(self.duration_minutes);
        for (i, chat) in self.chats.iter().enumerate() {
            if chat.regulars == 0 {
                return fail(
                    "chats",
                    Some(i),
                    "regulars",
                    "a chat needs at least one regular member".into(),
                );
            }
            if !(chat.messages_per_hour.is_finite() && chat.messages_per_hour > 0.0) {
                return fail(
                    "chats",
                    Some(i),
                    "messages_per_hour",
                    "must be a positive number".into(),
                );
            }
            if self.chats[..i].iter().any(|c| c.title == chat.title) {
                return fail(
                    "chats",
                    Some(i),
                    "title",
                    format!("chat title `{}` is used twice", chat.title),
                );
            }
        }
        let check_chat = |table: &str, i: usize, chat: &Option<String>| match chat {
            Some(title) if self.chat_index(Some(title)).is_none() => fail(
                table,
                Some(i),
                "chat",
                format!("no chat titled `{title}` in [[chats]]"),
            ),
            _ => Ok(()),
        };
        let check_minute = |table: &str, i: usize, at: f64| {
            if !(at.is_finite() && (0.0..minutes).contains(&at)) {
                fail(
                    table,
                    Some(i),
                    "at_minute",
                    format!("must be within 0..{minutes} (the run's duration)"),
                )
            } else {
                Ok(())
            }
        };
        for (i, wave) in self.spam_waves.iter().enumerate() {
            check_chat("spam_waves", i, &wave.chat)?;
            check_minute("spam_waves", i, wave.at_minute)?;
            if !(0.0..=1.0).contains(&wave.forward_share) {
                return fail(
                    "spam_waves",
                    Some(i),
                    "forward_share",
                    "must be between 0 and 1".into(),
                );
            }
        }
        for (i, raid) in self.raids.iter().enumerate() {
            check_chat("raids", i, &raid.chat)?;
            check_minute("raids", i, raid.at_minute)?;
            if raid.accounts == 0 {
                return fail(
                    "raids",
                    Some(i),
                    "accounts",
                    "a raid needs at least one account".into(),
                );
            }
        }
        for (i, ring) in self.rings.iter().enumerate() {
            for title in &ring.chats {
                check_chat("rings", i, &Some(title.clone())).map_err(|err| match err {
                    ScenarioError::Invalid { file, message, .. } => ScenarioError::Invalid {
                        file,
                        line: locate_key(text, "rings", Some(i), "chats"),
                        key: format!("rings[{i}].chats"),
                        message,
                    },
                    other => other,
                })?;
            }
            check_minute("rings", i, ring.at_minute)?;
            if ring.members < 2 {
                return fail(
                    "rings",
                    Some(i),
                    "members",
                    "a ring needs at least two accounts".into(),
                );
            }
        }
        for (i, evasion) in self.evasion.iter().enumerate() {
            check_chat("evasion", i, &evasion.chat)?;
            check_minute("evasion", i, evasion.at_minute)?;
        }
        for (i, ban) in self.admin_bans.iter().enumerate() {
            check_chat("admin_bans", i, &ban.chat)?;
            check_minute("admin_bans", i, ban.at_minute)?;
        }
        let faults = &self.faults;
        for (key, rate) in [
            ("failure_rate", faults.failure_rate),
            ("permanent_failure_rate", faults.permanent_failure_rate),
            ("flood_wait_rate", faults.flood_wait_rate),
        ] {
            if !(0.0..=1.0).contains(&rate) {
                return fail("faults", None, key, "must be between 0 and 1".into());
            }
        }
        Ok(())
    }
}

/// Line (1-based) and dotted key of a TOML error, from its byte span.
fn locate_toml_error(
    text: &str,
    span: Option<std::ops::Range<usize>>,
    message: &str,
) -> (usize, String) {
    let offset = span.map(|s| s.start).unwrap_or(0).min(text.len());
    let line = text[..offset].matches('\n').count() + 1;
    let (table, index) = table_at(text, line);
    let this_line = text.lines().nth(line - 1).unwrap_or("").trim();
    // "missing field `x`" points at the table; the key is in the message.
    let key =
        if let Some(missing) = backticked(message).filter(|_| message.contains("missing field")) {
            missing
        } else if let Some((lhs, _)) = this_line.split_once('=') {
            lhs.trim().trim_matches('"').to_string()
        } else {
            backticked(message).unwrap_or_default()
        };
    let path = match (table.as_str(), index, key.is_empty()) {
        ("", _, _) => key,
        (t, Some(i), false) => format!("{t}[{i}].{key}"),
        (t, Some(i), true) => format!("{t}[{i}]"),
        (t, None, false) => format!("{t}.{key}"),
        (t, None, true) => t.to_string(),
    };
    (line, path)
}

fn backticked(message: &str) -> Option<String> {
    let start = message.find('`')? + 1;
    let len = message[start..].find('`')?;
    Some(message[start..start + len].to_string())
}

/// The table header governing `line` and, for arrays of tables, which element it is.
fn table_at(text: &str, line: usize) -> (String, Option<usize>) {
    let mut table = String::new();
    let mut index = None;
    let mut counts: std::collections::HashMap<String, usize> = Default::default();
    for raw in text.lines().take(line) {
        let trimmed = raw.trim();
        if let Some(name) = trimmed
            .strip_prefix("[[")
            .and_then(|r| r.split("]]").next())
        {
            let name = name.trim().to_string();
            let n = counts.entry(name.clone()).or_insert(0);
            index = Some(*n);
            *n += 1;
            table = name;
        } else if let Some(name) = trimmed.strip_prefix('[').and_then(|r| r.split(']').next()) {
            table = name.trim().to_string();
            index = None;
        }
    }
    (table, index)
}

/// Line of `key` inside table `table` (element `index` for arrays of tables); 1 when not found.
fn locate_key(text: &str, table: &str, index: Option<usize>, key: &str) -> usize {
    for (n, raw) in text.lines().enumerate() {
        let line = n + 1;
        let trimmed = raw.trim_start();
        let Some((lhs, _)) = trimmed.split_once('=') else {
            continue;
        };
        if lhs.trim() != key || trimmed.starts_with('#') {
            continue;
        }
        let (t, i) = table_at(text, line);
        if t == table && i == index {
            return line;
        }
    }
    // Fall back to the table header itself.
    let mut seen = 0;
    for (n, raw) in text.lines().enumerate() {
        let trimmed = raw.trim();
        if trimmed == format!("[[{table}]]") {
            if Some(seen) == index {
                return n + 1;
            }
            seen += 1;
        } else if trimmed == format!("[{table}]") {
            return n + 1;
        }
    }
    1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_scenario_parses() {
        let all = Scenario::all().expect("built-in scenarios parse");
        assert_eq!(all.len(), BUILTIN.len());
        assert!(all.iter().any(|s| s.name == "demo"));
    }
}
