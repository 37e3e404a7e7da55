//! `warden rules list|validate FILE|import FILE|export|history NAME`.

use crate::model::unix_now;
use crate::policy::config::PolicyConfig;
use crate::policy::rule_store;
use crate::policy::rules::RuleSet;
use anyhow::{Context, Result};
use std::path::PathBuf;
use std::process::ExitCode;
use warden_store::Store;

#[derive(Debug, Clone, PartialEq, Eq, clap::Subcommand)]
pub enum RulesCommand {
    /// Show the current rules in evaluation order.
    List,
    /// Check a rules file without saving it.
    Validate { file: PathBuf },
    /// Validate a rules file and save it as the current rules (a new version per changed rule).
    Import { file: PathBuf },
    /// Print the current rules as JSON.
    Export,
    /// Every version of one rule: author, time, body.
    History { name: String },
}

fn read(file: &PathBuf) -> Result<String> {
    std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))
}

pub fn run(cmd: RulesCommand, store: &Store, author: &str) -> Result<ExitCode> {
    run_with(cmd, store, author, &PolicyConfig::default(), unix_now())
}

/// As [`run`], with the policy settings and the clock given (tests, and the lead's config).
pub fn run_with(
    cmd: RulesCommand,
    store: &Store,
    author: &str,
    cfg: &PolicyConfig,
    now: i64,
) -> Result<ExitCode> {
    let limit = cfg.regex_size_limit;
    match cmd {
        RulesCommand::List => {
            let set = rule_store::load_or_seed(store, limit, now)?;
            let reader = store.reader()?;
            let versions = reader.rules_current()?;
            let hits = reader.rule_hits()?;
            println!(
                "{:<28} {:>8}  {:<8} {:<4} {:>7} {:>7}  actions",
                "name", "priority", "state", "ver", "hits", "shadow"
            );
            for rule in set.rules() {
                let state = match (rule.enabled, rule.shadow) {
                    (false, _) => "off",
                    (true, true) => "shadow",
                    (true, false) => "on",
                };
                let version = versions
                    .iter()
                    .find(|v| v.name == rule.name)
                    .map_or(0, |v| v.version);
                let actions: Vec<String> = rule
                    .actions
                    .iter()
                    .map(|a| a.to_json().to_string())
                    .collect();
                let counted = hits.iter().find(|h| h.name == rule.name);
                println!(
                    "{:<28} {:>8}  {:<8} v{:<3} {:>7} {:>7}  {}",
                    rule.name,
                    rule.priority,
                    state,
                    version,
                    counted.map_or(0, |h| h.hits),
                    counted.map_or(0, |h| h.shadow_hits),
                    actions.join(" ")
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        RulesCommand::Validate { file } => {
            let text = read(&file)?;
            match RuleSet::load(&file.display().to_string(), &text, limit) {
                Ok(set) => {
                    println!("{}: {} rules OK", file.display(), set.len());
                    Ok(ExitCode::SUCCESS)
                }
                Err(err) => {
                    eprintln!("{err}");
                    Ok(ExitCode::FAILURE)
                }
            }
        }
        RulesCommand::Import { file } => {
            let text = read(&file)?;
            match rule_store::import(
                store,
                &file.display().to_string(),
                &text,
                limit,
                author,
                now,
            )? {
                Ok(summary) => {
                    for (name, version) in &summary.changed {
                        println!("saved {name} v{version}");
                    }
                    for name in &summary.disabled {
                        println!("disabled {name} (not in {})", file.display());
                    }
                    println!(
                        "{} changed, {} unchanged, {} disabled",
                        summary.changed.len(),
                        summary.unchanged.len(),
                        summary.disabled.len()
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Err(err) => {
                    eprintln!("{err}");
                    eprintln!("nothing imported: the current rules stay");
                    Ok(ExitCode::FAILURE)
                }
            }
        }
        RulesCommand::Export => {
            let set = rule_store::load_or_seed(store, limit, now)?;
            println!("{}", set.export_json());
            Ok(ExitCode::SUCCESS)
        }
        RulesCommand::History { name } => {
            let history = store.reader()?.rule_history(&name)?;
            if history.is_empty() {
                eprintln!("no rule named '{name}'");
                return Ok(ExitCode::FAILURE);
            }
            for record in history {
                println!("v{} by {} at {}", record.version, record.author, record.ts);
                println!("  {}", record.body);
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
