//! The rules engine: JSON rules evaluated in priority order against a [`RuleContext`].
//!
//! # Format
//! A file is an array of rules or `{"rules": [...]}`. A rule:
//! ```json
//! {"name": "honeypot_kick", "priority": 100, "enabled": true,
//!  "conditions": {"type": "AND", "items": [{"type": "score_gt", "value": 90},
//!                                          {"type": "is_new_user"}]},
//!  "actions": ["delete", {"type": "mute", "duration": "24h", "reason": "ad"}],
//!  "shadow": false, "chats": [-1001234], "description": "why this rule exists"}
//! ```
//! Only `name`, `conditions` and `actions` are required. See [`parse`] for every condition.
//!
//! # Semantics
//! - Higher `priority` is evaluated first; equal priorities keep file order.
//! - `rule_match = "first"` (the default): the first enabled, non-shadow rule that matches decides and
//!   evaluation stops. `"all"`: every matching rule fires, in priority order.
//! - Shadow rules never act: they are always evaluated, counted and reported ("would have fired") and
//!   never stop evaluation.
//! - `chats` limits a rule to those chat ids; without it a rule applies everywhere.
//! - `score_gt`: values ≤ 1 compare with the engine's [0,1] score; values > 1 are percent
//!   (`90` = 0.9). `100` and above mean "the engine is certain" (score ≥ 0.99), since a score can never
//!   exceed 100 %.

pub mod eval;
pub mod parse;
pub mod span;

pub use eval::{BacktestReport, Evaluation, RuleContext, RuleMatch, RuleStats, backtest};
pub use parse::{RuleError, RulesError};

use crate::model::ChatId;
use crate::policy::actions::ActionSpec;
use crate::policy::modes::ChatMode;
use crate::policy::users::RiskLevel;
use regex::Regex;
use std::collections::HashMap;
use std::fmt;

/// One step of a JSON path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathSeg {
    Key(String),
    Index(usize),
}

/// Renders `conditions.items[0].type`.
pub fn render_path(path: &[PathSeg]) -> String {
    let mut out = String::new();
    for seg in path {
        match seg {
            PathSeg::Key(key) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(key);
            }
            PathSeg::Index(i) => {
                out.push_str(&format!("[{i}]"));
            }
        }
    }
    out
}

#[derive(Debug, Clone)]
pub enum Condition {
    And(Vec<Condition>),
    Or(Vec<Condition>),
    Not(Box<Condition>),
    /// Threshold already on our [0,1] scale; `inclusive` for the "certain" reading of ≥ 100.
    ScoreGt {
        threshold: f64,
        inclusive: bool,
    },
    RiskIs(Vec<RiskLevel>),
    HasSignal(String),
    SignalWeightGt {
        signal: String,
        weight: f64,
    },
    VelocityGt(f64),
    StrikesGte(u32),
    IsNewUser(bool),
    IsTrusted(bool),
    /// Seconds.
    AccountAgeLt(i64),
    ChatModeIs(ChatMode),
    /// Seconds.
    JoinedWithin(i64),
    ClusterSizeGte(u32),
    RaidActive(bool),
    TextMatches(Regex),
    /// Lower-case domains; a subdomain matches its parent.
    LinkDomainIn(Vec<String>),
    KnownSpammer(bool),
}

#[derive(Debug, Clone)]
pub struct Rule {
    pub name: String,
    pub priority: i64,
    pub enabled: bool,
    pub shadow: bool,
    pub chats: Option<Vec<ChatId>>,
    pub description: Option<String>,
    pub conditions: Condition,
    pub actions: Vec<ActionSpec>,
    /// The rule's JSON exactly as loaded: what export and the store keep.
    pub source: serde_json::Value,
}

impl Rule {
    pub fn applies_to(&self, chat_id: ChatId) -> bool {
        self.chats
            .as_ref()
            .is_none_or(|chats| chats.contains(&chat_id))
    }
}

/// A validated set of rules in evaluation order, with hit counters.
#[derive(Debug, Clone, Default)]
pub struct RuleSet {
    rules: Vec<Rule>,
    stats: HashMap<String, RuleStats>,
}

impl RuleSet {
    /// Sorts by priority (high first, stable) and starts counters at zero.
    pub fn new(mut rules: Vec<Rule>) -> RuleSet {
        rules.sort_by_key(|r| std::cmp::Reverse(r.priority));
        RuleSet {
            rules,
            stats: HashMap::new(),
        }
    }

    /// Parses and validates a rules file; `file` names it in errors.
    pub fn load(file: &str, text: &str, regex_size_limit: usize) -> Result<RuleSet, RulesError> {
        parse::parse_rules(file, text, regex_size_limit).map(RuleSet::new)
    }

    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    pub fn get(&self, name: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.name == name)
    }

    pub fn len(&self) -> usize {
        self.rules.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    pub fn stats(&self, name: &str) -> RuleStats {
        self.stats.get(name).copied().unwrap_or_default()
    }

    /// Counters carried over from an earlier run (the store keeps them).
    pub fn restore_stats(&mut self, name: &str, stats: RuleStats) {
        self.stats.insert(name.to_string(), stats);
    }

    /// Swaps in a new set, keeping the counters of rules that kept their name.
    pub fn replace(&mut self, new: RuleSet) {
        let mut stats = std::mem::take(&mut self.stats);
        stats.retain(|name, _| new.get(name).is_some());
        *self = new;
        self.stats = stats;
    }

    /// The whole set as a JSON file body (`{"rules": [...]}`), each rule as it was loaded.
    pub fn export_json(&self) -> String {
        let rules: Vec<&serde_json::Value> = self.rules.iter().map(|r| &r.source).collect();
        serde_json::to_string_pretty(&serde_json::json!({ "rules": rules }))
            .unwrap_or_else(|_| "{\"rules\": []}".into())
    }
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let join = |f: &mut fmt::Formatter<'_>, items: &[Condition], op: &str| {
            f.write_str("(")?;
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    write!(f, " {op} ")?;
                }
                write!(f, "{item}")?;
            }
            f.write_str(")")
        };
        match self {
            Condition::And(items) => join(f, items, "AND"),
            Condition::Or(items) => join(f, items, "OR"),
            Condition::Not(item) => write!(f, "NOT {item}"),
            Condition::ScoreGt {
                threshold,
                inclusive,
            } => {
                write!(
                    f,
                    "score {} {threshold}",
                    if *inclusive { ">=" } else { ">" }
                )
            }
            Condition::RiskIs(levels) => {
                let names: Vec<&str> = levels.iter().map(|l| l.name()).collect();
                write!(f, "risk is {}", names.join("|"))
            }
            Condition::HasSignal(s) => write!(f, "has signal {s}"),
            Condition::SignalWeightGt { signal, weight } => write!(f, "signal {signal} > {weight}"),
            Condition::VelocityGt(v) => write!(f, "velocity > {v}"),
            Condition::StrikesGte(n) => write!(f, "strikes >= {n}"),
            Condition::IsNewUser(b) => write!(f, "new user = {b}"),
            Condition::IsTrusted(b) => write!(f, "trusted = {b}"),
            Condition::AccountAgeLt(s) => write!(f, "account age < {s}s"),
            Condition::ChatModeIs(m) => write!(f, "chat mode = {}", m.name()),
            Condition::JoinedWithin(s) => write!(f, "joined within {s}s"),
            Condition::ClusterSizeGte(n) => write!(f, "cluster size >= {n}"),
            Condition::RaidActive(b) => write!(f, "raid active = {b}"),
            Condition::TextMatches(re) => write!(f, "text matches /{}/", re.as_str()),
            Condition::LinkDomainIn(d) => write!(f, "link domain in [{}]", d.join(", ")),
            Condition::KnownSpammer(b) => write!(f, "known spammer = {b}"),
        }
    }
}
