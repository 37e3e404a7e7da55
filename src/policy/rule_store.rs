//! Rules in the store: one row per version (author, time, body). The current set is the newest
//! version of each name; a rule removed by an import is kept as a disabled version, so history and
//! hit explanations stay readable.

use crate::model::Timestamp;
use crate::policy::rules::{RuleSet, RulesError};
use anyhow::{Context, Result};
use serde_json::Value;
use warden_store::Store;

/// Rules shipped in `assets/rules.json`, used when the store holds none yet.
pub const DEFAULT_RULES: &str = include_str!("../../assets/rules.json");

/// The current rules from the store; `None` when it holds no rules yet.
pub fn load_current(store: &Store, regex_size_limit: usize) -> Result<Option<RuleSet>> {
    let records = store.reader()?.rules_current()?;
    if records.is_empty() {
        return Ok(None);
    }
    let mut bodies = Vec::with_capacity(records.len());
    for record in &records {
        let body: Value = serde_json::from_str(&record.body).with_context(|| {
            format!(
                "stored rule '{}' v{} is not JSON",
                record.name, record.version
            )
        })?;
        bodies.push(body);
    }
    let text = serde_json::to_string_pretty(&Value::Array(bodies))?;
    let set =
        RuleSet::load("store", &text, regex_size_limit).map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(Some(set))
}

/// The store's rules, or the shipped defaults (saved as version 1 by "system").
pub fn load_or_seed(store: &Store, regex_size_limit: usize, now: Timestamp) -> Result<RuleSet> {
    if let Some(set) = load_current(store, regex_size_limit)? {
        return Ok(set);
    }
    let set = RuleSet::load("assets/rules.json", DEFAULT_RULES, regex_size_limit)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    save_all(store, &set, "system", now)?;
    Ok(set)
}

/// What an import changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportSummary {
    /// (name, version) of every rule saved with a new body.
    pub changed: Vec<(String, i64)>,
    pub unchanged: Vec<String>,
    /// Rules in the store but not in the file: saved again disabled.
    pub disabled: Vec<String>,
}

fn canonical(value: &Value) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

fn save_all(store: &Store, set: &RuleSet, author: &str, now: Timestamp) -> Result<ImportSummary> {
    let reader = store.reader()?;
    let current = reader.rules_current()?;
    let mut summary = ImportSummary::default();
    for rule in set.rules() {
        let body = canonical(&rule.source);
        let before = current.iter().find(|r| r.name == rule.name);
        let version = store.writer().save_rule(&rule.name, &body, author, now)?;
        if before.is_some_and(|b| b.version == version) {
            summary.unchanged.push(rule.name.clone());
        } else {
            summary.changed.push((rule.name.clone(), version));
        }
    }
    for record in current {
        if set.get(&record.name).is_some() {
            continue;
        }
        let mut body: Value = serde_json::from_str(&record.body).unwrap_or(Value::Null);
        if let Value::Object(map) = &mut body
            && map.get("enabled") != Some(&Value::Bool(false))
        {
            map.insert("enabled".into(), Value::Bool(false));
            store
                .writer()
                .save_rule(&record.name, &canonical(&body), author, now)?;
            summary.disabled.push(record.name);
        }
    }
    Ok(summary)
}

/// Validates `text` as a whole and saves it; an invalid file changes nothing.
pub fn import(
    store: &Store,
    file: &str,
    text: &str,
    regex_size_limit: usize,
    author: &str,
    now: Timestamp,
) -> Result<Result<ImportSummary, RulesError>> {
    let set = match RuleSet::load(file, text, regex_size_limit) {
        Ok(set) => set,
        Err(err) => return Ok(Err(err)),
    };
    Ok(Ok(save_all(store, &set, author, now)?))
}
