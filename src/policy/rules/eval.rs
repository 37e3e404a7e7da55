//! Evaluating rules against what the app knows about one message (or join).

use super::{Condition, Rule, RuleSet};
use crate::model::{ChatId, Timestamp, UserId};
use crate::policy::actions::ActionSpec;
use crate::policy::config::MatchMode;
use crate::policy::modes::ChatMode;
use crate::policy::users::RiskLevel;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Everything a condition can look at. The app fills it from the engine's verdict and the raid and
/// cluster detectors; [`crate::policy::Policy`] fills the user-memory fields (strikes, trust, risk).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RuleContext {
    pub chat_id: ChatId,
    pub user_id: UserId,
    /// Engine score in [0,1].
    pub score: f64,
    /// Signal hits as (name, weight).
    pub hits: Vec<(String, f64)>,
    pub risk: RiskLevel,
    /// The user's messages per minute.
    pub velocity: f64,
    /// Active strikes in this chat.
    pub strikes: u32,
    pub is_new: bool,
    pub is_trusted: bool,
    /// Seconds since the account was created, when known.
    pub account_age_secs: Option<i64>,
    pub chat_mode: ChatMode,
    /// Seconds since the user joined this chat, when known.
    pub joined_secs_ago: Option<i64>,
    /// Size of the multi-account cluster the user belongs to (0 or 1: none).
    pub cluster_size: u32,
    pub raid_active: bool,
    pub text: String,
    /// Lower-case domains of links in the message.
    pub link_domains: Vec<String>,
    pub known_spammer: bool,
}

impl Condition {
    pub fn matches(&self, ctx: &RuleContext) -> bool {
        match self {
            Condition::And(items) => items.iter().all(|c| c.matches(ctx)),
            Condition::Or(items) => items.iter().any(|c| c.matches(ctx)),
            Condition::Not(item) => !item.matches(ctx),
            Condition::ScoreGt {
                threshold,
                inclusive,
            } => {
                if *inclusive {
                    ctx.score >= *threshold
                } else {
                    ctx.score > *threshold
                }
            }
            Condition::RiskIs(levels) => levels.contains(&ctx.risk),
            Condition::HasSignal(name) => ctx.hits.iter().any(|(n, _)| n == name),
            Condition::SignalWeightGt { signal, weight } => {
                ctx.hits.iter().any(|(n, w)| n == signal && w > weight)
            }
            Condition::VelocityGt(v) => ctx.velocity > *v,
            Condition::StrikesGte(n) => ctx.strikes >= *n,
            Condition::IsNewUser(b) => ctx.is_new == *b,
            Condition::IsTrusted(b) => ctx.is_trusted == *b,
            Condition::AccountAgeLt(secs) => ctx.account_age_secs.is_some_and(|age| age < *secs),
            Condition::ChatModeIs(mode) => ctx.chat_mode == *mode,
            Condition::JoinedWithin(secs) => ctx.joined_secs_ago.is_some_and(|ago| ago <= *secs),
            Condition::ClusterSizeGte(n) => ctx.cluster_size >= *n,
            Condition::RaidActive(b) => ctx.raid_active == *b,
            Condition::TextMatches(re) => re.is_match(&ctx.text),
            Condition::LinkDomainIn(domains) => ctx.link_domains.iter().any(|d| {
                let d = d.trim_start_matches("www.").to_ascii_lowercase();
                domains
                    .iter()
                    .any(|want| d == *want || d.ends_with(&format!(".{want}")))
            }),
            Condition::KnownSpammer(b) => ctx.known_spammer == *b,
        }
    }
}

/// A rule that matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleMatch {
    pub rule: String,
    pub priority: i64,
    pub shadow: bool,
    pub actions: Vec<ActionSpec>,
    /// The rule's description, or its conditions in words: the "why" shown to moderators.
    pub explanation: String,
}

impl RuleMatch {
    fn of(rule: &Rule) -> RuleMatch {
        RuleMatch {
            rule: rule.name.clone(),
            priority: rule.priority,
            shadow: rule.shadow,
            actions: rule.actions.clone(),
            explanation: rule
                .description
                .clone()
                .unwrap_or_else(|| rule.conditions.to_string()),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Evaluation {
    /// Rules that act, in priority order (one at most in first-match mode).
    pub fired: Vec<RuleMatch>,
    /// Shadow rules that matched: logged, never acted on.
    pub shadow: Vec<RuleMatch>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleStats {
    pub hits: u64,
    pub shadow_hits: u64,
    pub last_hit: Option<Timestamp>,
}

impl RuleSet {
    /// Pure evaluation: which rules fire for this context.
    pub fn evaluate(&self, ctx: &RuleContext, mode: MatchMode) -> Evaluation {
        let mut out = Evaluation::default();
        for rule in self
            .rules
            .iter()
            .filter(|r| r.enabled && r.applies_to(ctx.chat_id))
        {
            let decided = mode == MatchMode::First && !out.fired.is_empty();
            if decided && !rule.shadow {
                continue;
            }
            if !rule.conditions.matches(ctx) {
                continue;
            }
            if rule.shadow {
                out.shadow.push(RuleMatch::of(rule));
            } else {
                out.fired.push(RuleMatch::of(rule));
            }
        }
        out
    }

    /// Evaluates and counts hits.
    pub fn evaluate_counted(
        &mut self,
        ctx: &RuleContext,
        mode: MatchMode,
        now: Timestamp,
    ) -> Evaluation {
        let eval = self.evaluate(ctx, mode);
        for m in eval.fired.iter().chain(&eval.shadow) {
            let stats = self.stats.entry(m.rule.clone()).or_default();
            if m.shadow {
                stats.shadow_hits += 1;
            } else {
                stats.hits += 1;
            }
            stats.last_hit = Some(stats.last_hit.map_or(now, |t| t.max(now)));
        }
        eval
    }
}

/// What a rule set would have done over a slice of past contexts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct BacktestReport {
    pub contexts: usize,
    /// Contexts where at least one (non-shadow) rule fired.
    pub acted_on: usize,
    /// Per rule: (fired, shadow matches), every rule listed.
    pub per_rule: BTreeMap<String, (usize, usize)>,
    /// Action name → how often it would have been requested.
    pub actions: BTreeMap<String, usize>,
    /// Indexes of contexts that were acted on, for drilling in.
    pub acted_indexes: Vec<usize>,
}

pub fn backtest(rules: &RuleSet, contexts: &[RuleContext], mode: MatchMode) -> BacktestReport {
    let mut report = BacktestReport {
        contexts: contexts.len(),
        ..BacktestReport::default()
    };
    for rule in rules.rules() {
        report.per_rule.insert(rule.name.clone(), (0, 0));
    }
    for (i, ctx) in contexts.iter().enumerate() {
        let eval = rules.evaluate(ctx, mode);
        if !eval.fired.is_empty() {
            report.acted_on += 1;
            report.acted_indexes.push(i);
        }
        for m in &eval.fired {
            if let Some(entry) = report.per_rule.get_mut(&m.rule) {
                entry.0 += 1;
            }
            for action in &m.actions {
                *report
                    .actions
                    .entry(action.kind.name().to_string())
                    .or_default() += 1;
            }
        }
        for m in &eval.shadow {
            if let Some(entry) = report.per_rule.get_mut(&m.rule) {
                entry.1 += 1;
            }
        }
    }
    report
}
