//! Rules JSON → validated [`Rule`]s, or every problem with file, rule, JSON path, line and column.
//!
//! Conditions (`{"type": ..., "value": ...}`; `type` is case-insensitive):
//! - `AND` / `OR` with `items: [...]` (nest freely); `NOT` with `item: {...}` or a one-element `items`.
//! - `score_gt` (number; see the module docs for the scale), `risk_is` ("safe" | "suspicious" |
//!   "dangerous" | "banned", or an array of them), `has_signal` (signal name), `signal_weight_gt`
//!   (`signal` + numeric `value`), `velocity_gt` (messages per minute), `strikes_gte` (count),
//!   `is_new_user`, `is_trusted`, `raid_active`, `known_spammer` (`value` optional, default true),
//!   `account_age_lt` and `joined_within` (duration: "7d", "10m" or seconds), `chat_mode_is`
//!   ("live" | "dry_run" | "training" | "soft_ban"), `cluster_size_gte` (count), `text_matches`
//!   (regex, size-limited; `(?i)` for case-insensitive), `link_domain_in` (array of domains).

use super::{Condition, PathSeg, Rule, render_path, span};
use crate::config::line_column;
use crate::policy::actions::ActionSpec;
use crate::policy::duration::parse_duration;
use crate::policy::modes::ChatMode;
use crate::policy::users::RiskLevel;
use regex::RegexBuilder;
use serde_json::Value;
use std::collections::HashSet;
use std::fmt;

/// One problem in a rules file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleError {
    pub file: String,
    /// The rule's name, or `#N` (1-based) when it has none.
    pub rule: Option<String>,
    /// JSON path inside the rule (`conditions.items[0].type`), or inside the file for file errors.
    pub path: String,
    pub message: String,
    /// 1-based position in the JSON text, for the console editor.
    pub line: usize,
    pub column: usize,
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.file)?;
        match &self.rule {
            Some(rule) if rule.starts_with('#') => write!(f, "rule {rule} ")?,
            Some(rule) => write!(f, "rule '{rule}' ")?,
            None => write!(f, "line {}, column {}: ", self.line, self.column)?,
        }
        if !self.path.is_empty() {
            write!(f, "{}: ", self.path)?;
        }
        f.write_str(&self.message)
    }
}

/// Every problem found; a file with any problem loads nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct RulesError {
    pub errors: Vec<RuleError>,
}

impl fmt::Display for RulesError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, err) in self.errors.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{err}")?;
        }
        Ok(())
    }
}

struct Parser<'a> {
    file: &'a str,
    text: &'a str,
    regex_size_limit: usize,
    errors: Vec<RuleError>,
    /// Path from the file root to the current rule.
    rule_root: Vec<PathSeg>,
    rule_label: Option<String>,
}

impl Parser<'_> {
    fn error(&mut self, rel: &[PathSeg], message: impl Into<String>) {
        let mut full = self.rule_root.clone();
        full.extend_from_slice(rel);
        let (line, column) = line_column(self.text, span::locate(self.text, &full));
        let path = if self.rule_label.is_some() {
            render_path(rel)
        } else {
            render_path(&full)
        };
        self.errors.push(RuleError {
            file: self.file.to_string(),
            rule: self.rule_label.clone(),
            path,
            message: message.into(),
            line,
            column,
        });
    }
}

fn with(path: &[PathSeg], seg: PathSeg) -> Vec<PathSeg> {
    let mut out = path.to_vec();
    out.push(seg);
    out
}

fn key(path: &[PathSeg], k: &str) -> Vec<PathSeg> {
    with(path, PathSeg::Key(k.to_string()))
}

/// Parses a whole file. Errors carry `file` and positions in `text`.
pub fn parse_rules(
    file: &str,
    text: &str,
    regex_size_limit: usize,
) -> Result<Vec<Rule>, RulesError> {
    let root: Value = serde_json::from_str(text).map_err(|err| RulesError {
        errors: vec![RuleError {
            file: file.to_string(),
            rule: None,
            path: String::new(),
            message: format!("not valid JSON: {}", strip_position(&err.to_string())),
            line: err.line(),
            column: err.column(),
        }],
    })?;
    let mut p = Parser {
        file,
        text,
        regex_size_limit,
        errors: Vec::new(),
        rule_root: Vec::new(),
        rule_label: None,
    };
    let (items, base): (&Vec<Value>, Vec<PathSeg>) = match &root {
        Value::Array(items) => (items, Vec::new()),
        Value::Object(map) => {
            for k in map.keys().filter(|k| k.as_str() != "rules") {
                p.error(
                    &[PathSeg::Key(k.clone())],
                    format!("unknown key '{k}' (a rules file holds only \"rules\")"),
                );
            }
            match map.get("rules") {
                Some(Value::Array(items)) => (items, vec![PathSeg::Key("rules".into())]),
                _ => {
                    p.error(
                        &[PathSeg::Key("rules".into())],
                        "expected \"rules\": [ ... ]",
                    );
                    return Err(RulesError { errors: p.errors });
                }
            }
        }
        _ => {
            p.error(
                &[],
                "a rules file is an array of rules or {\"rules\": [...]}",
            );
            return Err(RulesError { errors: p.errors });
        }
    };
    let mut rules = Vec::new();
    let mut names = HashSet::new();
    for (i, item) in items.iter().enumerate() {
        p.rule_root = with(&base, PathSeg::Index(i));
        p.rule_label = Some(
            item.get("name")
                .and_then(Value::as_str)
                .filter(|n| !n.trim().is_empty())
                .map(str::to_string)
                .unwrap_or_else(|| format!("#{}", i + 1)),
        );
        let Some(rule) = parse_rule(&mut p, item) else {
            continue;
        };
        if names.insert(rule.name.clone()) {
            rules.push(rule);
        } else {
            p.error(
                &[PathSeg::Key("name".into())],
                format!("duplicate rule name '{}'", rule.name),
            );
        }
    }
    if p.errors.is_empty() {
        Ok(rules)
    } else {
        Err(RulesError { errors: p.errors })
    }
}

fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(at) => message[..at].to_string(),
        None => message.to_string(),
    }
}

const RULE_KEYS: &[&str] = &[
    "name",
    "priority",
    "conditions",
    "actions",
    "enabled",
    "shadow",
    "chats",
    "description",
];

fn parse_rule(p: &mut Parser<'_>, value: &Value) -> Option<Rule> {
    let before = p.errors.len();
    let Value::Object(map) = value else {
        p.error(&[], "a rule is an object with name, conditions and actions");
        return None;
    };
    for k in map.keys() {
        if !RULE_KEYS.contains(&k.as_str()) {
            let hint = closest(k, RULE_KEYS)
                .map(|c| format!("; did you mean '{c}'?"))
                .unwrap_or_default();
            p.error(
                &[PathSeg::Key(k.clone())],
                format!("unknown key '{k}'{hint}"),
            );
        }
    }
    let name = match map.get("name") {
        Some(Value::String(n)) if !n.trim().is_empty() => n.clone(),
        Some(_) => {
            p.error(&key(&[], "name"), "must be a non-empty string");
            String::new()
        }
        None => {
            p.error(&[], "missing \"name\"");
            String::new()
        }
    };
    let priority = match map.get("priority") {
        None => 0,
        Some(v) => match v.as_i64() {
            Some(n) => n,
            None => {
                p.error(&key(&[], "priority"), "must be a whole number");
                0
            }
        },
    };
    let flag = |p: &mut Parser<'_>, k: &str, default: bool| match map.get(k) {
        None => default,
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            p.error(&key(&[], k), "must be true or false");
            default
        }
    };
    let enabled = flag(p, "enabled", true);
    let shadow = flag(p, "shadow", false);
    let chats = match map.get("chats") {
        None | Some(Value::Null) => None,
        Some(Value::Array(items)) => {
            let mut ids = Vec::new();
            for (i, item) in items.iter().enumerate() {
                match item.as_i64() {
                    Some(id) => ids.push(id),
                    None => p.error(
                        &with(&key(&[], "chats"), PathSeg::Index(i)),
                        "must be a numeric chat id",
                    ),
                }
            }
            Some(ids)
        }
        Some(_) => {
            p.error(&key(&[], "chats"), "must be an array of chat ids");
            None
        }
    };
    let description = match map.get("description") {
        None => None,
        Some(Value::String(d)) => Some(d.clone()),
        Some(_) => {
            p.error(&key(&[], "description"), "must be a string");
            None
        }
    };
    let conditions = match map.get("conditions") {
        Some(c) => parse_condition(p, c, &key(&[], "conditions")),
        None => {
            p.error(&[], "missing \"conditions\"");
            None
        }
    };
    let mut actions = Vec::new();
    match map.get("actions") {
        Some(Value::Array(items)) => {
            if items.is_empty() && !shadow {
                p.error(
                    &key(&[], "actions"),
                    "a rule that is not shadow needs at least one action",
                );
            }
            for (i, item) in items.iter().enumerate() {
                let at = with(&key(&[], "actions"), PathSeg::Index(i));
                match ActionSpec::from_json(item) {
                    Ok(spec) => actions.push(spec),
                    Err((k, msg)) => {
                        let at = if k.is_empty() { at } else { key(&at, &k) };
                        p.error(&at, msg);
                    }
                }
            }
        }
        Some(_) => p.error(
            &key(&[], "actions"),
            "must be an array like [\"delete\", \"kick\"]",
        ),
        None => p.error(&[], "missing \"actions\""),
    }
    if p.errors.len() > before {
        return None;
    }
    Some(Rule {
        name,
        priority,
        enabled,
        shadow,
        chats,
        description,
        conditions: conditions?,
        actions,
        source: value.clone(),
    })
}

const CONDITION_TYPES: &[&str] = &[
    "AND",
    "OR",
    "NOT",
    "score_gt",
    "risk_is",
    "has_signal",
    "signal_weight_gt",
    "velocity_gt",
    "strikes_gte",
    "is_new_user",
    "is_trusted",
    "account_age_lt",
    "chat_mode_is",
    "joined_within",
    "cluster_size_gte",
    "raid_active",
    "text_matches",
    "link_domain_in",
    "known_spammer",
];

fn closest<'a>(word: &str, options: &[&'a str]) -> Option<&'a str> {
    options
        .iter()
        .map(|o| {
            (
                strsim::levenshtein(&word.to_ascii_lowercase(), &o.to_ascii_lowercase()),
                *o,
            )
        })
        .filter(|(d, _)| *d <= 2)
        .min_by_key(|(d, _)| *d)
        .map(|(_, o)| o)
}

fn parse_condition(p: &mut Parser<'_>, value: &Value, at: &[PathSeg]) -> Option<Condition> {
    let Value::Object(map) = value else {
        p.error(
            at,
            "a condition is an object like {\"type\": \"score_gt\", \"value\": 0.9}",
        );
        return None;
    };
    let kind = match map.get("type") {
        Some(Value::String(t)) => t.clone(),
        Some(_) => {
            p.error(&key(at, "type"), "must be a string");
            return None;
        }
        None => {
            p.error(at, "missing \"type\"");
            return None;
        }
    };
    let lower = kind.to_ascii_lowercase();
    let allowed: &[&str] = match lower.as_str() {
        "and" | "or" => &["type", "items"],
        "not" => &["type", "item", "items"],
        "signal_weight_gt" => &["type", "signal", "value"],
        _ => &["type", "value"],
    };
    let mut bad_key = false;
    for k in map.keys() {
        if !allowed.contains(&k.as_str()) {
            p.error(
                &key(at, k),
                format!("unknown key '{k}' for condition '{kind}'"),
            );
            bad_key = true;
        }
    }
    let value_at = key(at, "value");
    let v = map.get("value");
    let cond = match lower.as_str() {
        "and" | "or" => {
            let items_at = key(at, "items");
            let Some(Value::Array(items)) = map.get("items") else {
                p.error(&items_at, format!("{kind} needs \"items\": [ ... ]"));
                return None;
            };
            let parsed: Vec<Option<Condition>> = items
                .iter()
                .enumerate()
                .map(|(i, item)| parse_condition(p, item, &with(&items_at, PathSeg::Index(i))))
                .collect();
            let parsed: Option<Vec<Condition>> = parsed.into_iter().collect();
            let parsed = parsed?;
            if lower == "and" {
                Condition::And(parsed)
            } else {
                Condition::Or(parsed)
            }
        }
        "not" => {
            let (inner, inner_at) = match (map.get("item"), map.get("items")) {
                (Some(item), None) => (item, key(at, "item")),
                (None, Some(Value::Array(items))) if items.len() == 1 => {
                    (&items[0], with(&key(at, "items"), PathSeg::Index(0)))
                }
                _ => {
                    p.error(at, "NOT needs exactly one condition: \"item\": {...}");
                    return None;
                }
            };
            Condition::Not(Box::new(parse_condition(p, inner, &inner_at)?))
        }
        "score_gt" => {
            let n = number(p, v, &value_at)?;
            if n < 0.0 {
                p.error(&value_at, "must not be negative");
                return None;
            }
            if n >= 100.0 {
                Condition::ScoreGt {
                    threshold: 0.99,
                    inclusive: true,
                }
            } else if n > 1.0 {
                Condition::ScoreGt {
                    threshold: n / 100.0,
                    inclusive: false,
                }
            } else {
                Condition::ScoreGt {
                    threshold: n,
                    inclusive: false,
                }
            }
        }
        "risk_is" => {
            let names: Vec<(Option<&str>, Vec<PathSeg>)> = match v {
                Some(Value::String(s)) => vec![(Some(s.as_str()), value_at.clone())],
                Some(Value::Array(items)) if !items.is_empty() => items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| (item.as_str(), with(&value_at, PathSeg::Index(i))))
                    .collect(),
                _ => vec![(None, value_at.clone())],
            };
            let mut levels = Vec::new();
            for (name, name_at) in names {
                match name.and_then(RiskLevel::parse) {
                    Some(level) => levels.push(level),
                    None => {
                        p.error(
                            &name_at,
                            "must be one of \"safe\", \"suspicious\", \"dangerous\", \"banned\"",
                        );
                        return None;
                    }
                }
            }
            Condition::RiskIs(levels)
        }
        "has_signal" => Condition::HasSignal(string(p, v, &value_at)?),
        "signal_weight_gt" => {
            let signal = string(p, map.get("signal"), &key(at, "signal"))?;
            Condition::SignalWeightGt {
                signal,
                weight: number(p, v, &value_at)?,
            }
        }
        "velocity_gt" => Condition::VelocityGt(number(p, v, &value_at)?),
        "strikes_gte" => Condition::StrikesGte(count(p, v, &value_at)?),
        "cluster_size_gte" => Condition::ClusterSizeGte(count(p, v, &value_at)?),
        "is_new_user" => Condition::IsNewUser(boolean(p, v, &value_at)?),
        "is_trusted" => Condition::IsTrusted(boolean(p, v, &value_at)?),
        "raid_active" => Condition::RaidActive(boolean(p, v, &value_at)?),
        "known_spammer" => Condition::KnownSpammer(boolean(p, v, &value_at)?),
        "account_age_lt" => Condition::AccountAgeLt(duration(p, v, &value_at)?),
        "joined_within" => Condition::JoinedWithin(duration(p, v, &value_at)?),
        "chat_mode_is" => {
            let text = string(p, v, &value_at)?;
            match ChatMode::parse(&text) {
                Some(mode) => Condition::ChatModeIs(mode),
                None => {
                    p.error(
                        &value_at,
                        format!("unknown mode '{text}' (live, dry_run, training, soft_ban)"),
                    );
                    return None;
                }
            }
        }
        "text_matches" => {
            let pattern = string(p, v, &value_at)?;
            match RegexBuilder::new(&pattern)
                .size_limit(p.regex_size_limit)
                .dfa_size_limit(p.regex_size_limit)
                .build()
            {
                Ok(re) => Condition::TextMatches(re),
                Err(regex::Error::CompiledTooBig(limit)) => {
                    p.error(
                        &value_at,
                        format!("regex is too big (compiled size over {limit} bytes)"),
                    );
                    return None;
                }
                Err(err) => {
                    let first = err
                        .to_string()
                        .lines()
                        .last()
                        .unwrap_or("")
                        .trim()
                        .to_string();
                    p.error(&value_at, format!("bad regex: {first}"));
                    return None;
                }
            }
        }
        "link_domain_in" => {
            let Some(Value::Array(items)) = v else {
                p.error(
                    &value_at,
                    "must be an array of domains like [\"t.me\", \"bit.ly\"]",
                );
                return None;
            };
            let mut domains = Vec::new();
            for (i, item) in items.iter().enumerate() {
                match item
                    .as_str()
                    .map(|d| d.trim().trim_start_matches("www.").to_ascii_lowercase())
                {
                    Some(d) if !d.is_empty() && !d.contains('/') => domains.push(d),
                    _ => {
                        p.error(
                            &with(&value_at, PathSeg::Index(i)),
                            "must be a bare domain like \"t.me\"",
                        );
                        return None;
                    }
                }
            }
            Condition::LinkDomainIn(domains)
        }
        _ => {
            let hint = closest(&kind, CONDITION_TYPES)
                .map(|c| format!("; did you mean '{c}'?"))
                .unwrap_or_default();
            p.error(
                &key(at, "type"),
                format!("unknown condition '{kind}'{hint}"),
            );
            return None;
        }
    };
    (!bad_key).then_some(cond)
}

fn number(p: &mut Parser<'_>, v: Option<&Value>, at: &[PathSeg]) -> Option<f64> {
    match v.and_then(Value::as_f64) {
        Some(n) if n.is_finite() => Some(n),
        _ => {
            p.error(at, "must be a number");
            None
        }
    }
}

fn count(p: &mut Parser<'_>, v: Option<&Value>, at: &[PathSeg]) -> Option<u32> {
    match v
        .and_then(Value::as_u64)
        .and_then(|n| u32::try_from(n).ok())
    {
        Some(n) => Some(n),
        None => {
            p.error(at, "must be a whole number >= 0");
            None
        }
    }
}

fn string(p: &mut Parser<'_>, v: Option<&Value>, at: &[PathSeg]) -> Option<String> {
    match v {
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        _ => {
            p.error(at, "must be a non-empty string");
            None
        }
    }
}

/// `value` may be left out: `{"type": "is_new_user"}` means true.
fn boolean(p: &mut Parser<'_>, v: Option<&Value>, at: &[PathSeg]) -> Option<bool> {
    match v {
        None => Some(true),
        Some(Value::Bool(b)) => Some(*b),
        Some(_) => {
            p.error(at, "must be true or false");
            None
        }
    }
}

fn duration(p: &mut Parser<'_>, v: Option<&Value>, at: &[PathSeg]) -> Option<i64> {
    let secs = match v {
        Some(Value::Number(n)) => n.as_u64().ok_or_else(|| "must be seconds >= 0".to_string()),
        Some(Value::String(s)) => parse_duration(s),
        _ => Err("must be a duration like \"7d\" or a number of seconds".into()),
    };
    match secs.map(|s| i64::try_from(s).unwrap_or(i64::MAX)) {
        Ok(s) => Some(s),
        Err(msg) => {
            p.error(at, msg);
            None
        }
    }
}
