//! `[policy]` settings. `Default` is what ships; every key may be left out.

use crate::action::ActionKind;
use crate::policy::actions::ActionSpec;
use crate::policy::duration::serde_secs;
use crate::policy::modes::ChatMode;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PolicyConfig {
    /// Mode of every chat without its own entry in `chats`.
    pub mode: ChatMode,
    /// Clean messages after which a new user becomes trusted.
    pub trust_after_clean_messages: u32,
    /// A message scoring below this counts as clean for trust.
    pub clean_score_below: f64,
    /// Half-life of the user score.
    #[serde(with = "serde_secs")]
    pub score_half_life: u64,
    /// How much one strike raises the user score.
    pub strike_score: f64,
    pub risk: RiskThresholds,
    /// Strikes stop counting after this long (they stay in history).
    #[serde(with = "serde_secs")]
    pub strike_expiry: u64,
    /// Steps by active strike count; the highest step not above the count applies.
    pub ladder: Vec<LadderStep>,
    /// What happens to a blacklisted user on join or first message.
    pub blacklist_action: BlacklistAction,
    /// Automatic bans and kicks need this score (or a known spammer / blacklist);
    /// below it they become delete + report.
    pub ban_min_score: f64,
    /// Whether the first matching rule decides or every matching rule fires.
    pub rule_match: MatchMode,
    /// Compiled-size limit for a `text_matches` regex, in bytes.
    pub regex_size_limit: usize,
    pub executor: ExecutorConfig,
    /// Per-chat overrides, keyed by chat id (`[policy.chats."-1001234"]`).
    pub chats: BTreeMap<String, ChatOverride>,
}

impl Default for PolicyConfig {
    fn default() -> Self {
        PolicyConfig {
            mode: ChatMode::Live,
            trust_after_clean_messages: 3,
            clean_score_below: 0.3,
            score_half_life: 7 * 86_400,
            strike_score: 0.25,
            risk: RiskThresholds::default(),
            strike_expiry: 30 * 86_400,
            ladder: default_ladder(),
            blacklist_action: BlacklistAction::Ban,
            ban_min_score: 0.9,
            rule_match: MatchMode::First,
            regex_size_limit: 1 << 20,
            executor: ExecutorConfig::default(),
            chats: BTreeMap::new(),
        }
    }
}

/// Default ladder: 1 strike warns (delete + notice), 2 mutes 24 h, 3 bans.
pub fn default_ladder() -> Vec<LadderStep> {
    vec![
        LadderStep {
            strikes: 1,
            actions: vec![
                ActionSpec::new(ActionKind::Delete),
                ActionSpec::new(ActionKind::Warn),
            ],
        },
        LadderStep {
            strikes: 2,
            actions: vec![
                ActionSpec::new(ActionKind::Delete),
                ActionSpec::new(ActionKind::Mute { seconds: 86_400 }),
            ],
        },
        LadderStep {
            strikes: 3,
            actions: vec![
                ActionSpec::new(ActionKind::Delete),
                ActionSpec::new(ActionKind::Ban { seconds: None }),
            ],
        },
    ]
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LadderStep {
    pub strikes: u32,
    pub actions: Vec<ActionSpec>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RiskThresholds {
    pub suspicious: f64,
    pub dangerous: f64,
    pub banned: f64,
}

impl Default for RiskThresholds {
    fn default() -> Self {
        RiskThresholds {
            suspicious: 0.3,
            dangerous: 0.6,
            banned: 0.8,
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BlacklistAction {
    #[default]
    Ban,
    Kick,
    Restrict,
    /// Only tell the moderators.
    Report,
}

/// Whether the first matching rule (by priority) decides, or every matching rule fires.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchMode {
    #[default]
    First,
    All,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ExecutorConfig {
    /// Attempts before an action fails for good.
    pub max_attempts: u32,
    /// First retry delay; doubles each attempt.
    #[serde(with = "serde_secs")]
    pub backoff_base: u64,
    #[serde(with = "serde_secs")]
    pub backoff_max: u64,
    /// Actions claimed per batch.
    pub batch: usize,
}

impl Default for ExecutorConfig {
    fn default() -> Self {
        ExecutorConfig {
            max_attempts: 5,
            backoff_base: 2,
            backoff_max: 3600,
            batch: 32,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ChatOverride {
    pub mode: Option<ChatMode>,
    pub ladder: Option<Vec<LadderStep>>,
    pub blacklist_action: Option<BlacklistAction>,
}

impl PolicyConfig {
    fn chat(&self, chat_id: i64) -> Option<&ChatOverride> {
        self.chats.get(&chat_id.to_string())
    }

    pub fn mode_for(&self, chat_id: i64) -> ChatMode {
        self.chat(chat_id).and_then(|c| c.mode).unwrap_or(self.mode)
    }

    pub fn ladder_for(&self, chat_id: i64) -> &[LadderStep] {
        self.chat(chat_id)
            .and_then(|c| c.ladder.as_deref())
            .unwrap_or(&self.ladder)
    }

    pub fn blacklist_action_for(&self, chat_id: i64) -> BlacklistAction {
        self.chat(chat_id)
            .and_then(|c| c.blacklist_action)
            .unwrap_or(self.blacklist_action)
    }

    /// Checks what serde cannot: ordered thresholds, a sane ladder, chat keys that are ids.
    pub fn validate(&self) -> Result<(), String> {
        let r = &self.risk;
        if !(0.0 < r.suspicious
            && r.suspicious < r.dangerous
            && r.dangerous < r.banned
            && r.banned <= 1.0)
        {
            return Err(
                "policy.risk: thresholds must rise: 0 < suspicious < dangerous < banned <= 1"
                    .into(),
            );
        }
        if self.score_half_life == 0 {
            return Err("policy.score_half_life must be longer than 0s".into());
        }
        check_ladder("policy.ladder", &self.ladder)?;
        for (key, chat) in &self.chats {
            key.parse::<i64>().map_err(|_| {
                format!("policy.chats.\"{key}\": the key must be a numeric chat id")
            })?;
            if let Some(ladder) = &chat.ladder {
                check_ladder(&format!("policy.chats.\"{key}\".ladder"), ladder)?;
            }
        }
        Ok(())
    }
}

fn check_ladder(at: &str, ladder: &[LadderStep]) -> Result<(), String> {
    for (i, pair) in ladder.windows(2).enumerate() {
        if pair[1].strikes <= pair[0].strikes {
            return Err(format!(
                "{at}[{}].strikes: steps must be in rising strike order",
                i + 1
            ));
        }
    }
    if ladder.iter().any(|s| s.strikes == 0) {
        return Err(format!("{at}: a step needs strikes >= 1"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct Wrapper {
        policy: PolicyConfig,
    }

    #[test]
    fn default_is_valid() {
        PolicyConfig::default().validate().unwrap();
    }

    #[test]
    fn chat_overrides_apply_only_to_their_chat() {
        let cfg: Wrapper = toml::from_str(
            "[policy]\nmode = \"dry_run\"\n[policy.chats.\"-100\"]\nmode = \"soft_ban\"\nladder = [{ strikes = 1, actions = [{ type = \"mute\", duration = \"1h\" }] }]\n",
        )
        .unwrap();
        let cfg = cfg.policy;
        cfg.validate().unwrap();
        assert_eq!(cfg.mode_for(-100), ChatMode::SoftBan);
        assert_eq!(cfg.mode_for(-200), ChatMode::DryRun);
        assert_eq!(
            cfg.ladder_for(-100)[0].actions[0].kind,
            ActionKind::Mute { seconds: 3600 }
        );
        assert_eq!(cfg.ladder_for(-200).len(), 3);
    }

    #[test]
    fn unknown_keys_and_bad_values_are_rejected() {
        assert!(toml::from_str::<Wrapper>("[policy]\ntrust_after = 3\n").is_err());
        let bad = PolicyConfig {
            risk: RiskThresholds {
                suspicious: 0.7,
                dangerous: 0.6,
                banned: 0.8,
            },
            ..PolicyConfig::default()
        };
        assert!(bad.validate().unwrap_err().contains("policy.risk"));
        let mut chats = BTreeMap::new();
        chats.insert("general".to_string(), ChatOverride::default());
        let bad = PolicyConfig {
            chats,
            ..PolicyConfig::default()
        };
        assert!(bad.validate().unwrap_err().contains("numeric chat id"));
    }
}
