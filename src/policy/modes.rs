//! Per-chat modes and how they transform what the policy wants to do.

use crate::action::{Action, ActionKind};
use serde::{Deserialize, Serialize};

/// How Warden acts in one chat.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChatMode {
    /// Actions are carried out.
    #[default]
    Live,
    /// Nothing is sent; every action is recorded in the outbox as "would do".
    DryRun,
    /// Only reports: the admin chat and console hear about it, nothing else happens.
    Training,
    /// Like live, but bans become read-only restrictions a moderator can lift.
    SoftBan,
}

impl ChatMode {
    pub fn name(self) -> &'static str {
        match self {
            ChatMode::Live => "live",
            ChatMode::DryRun => "dry_run",
            ChatMode::Training => "training",
            ChatMode::SoftBan => "soft_ban",
        }
    }

    pub fn parse(text: &str) -> Option<ChatMode> {
        match text.trim().to_ascii_lowercase().replace('-', "_").as_str() {
            "live" => Some(ChatMode::Live),
            "dry_run" | "dryrun" => Some(ChatMode::DryRun),
            "training" => Some(ChatMode::Training),
            "soft_ban" | "softban" => Some(ChatMode::SoftBan),
            _ => None,
        }
    }
}

/// One action the policy decided, with whether it is only recorded ("would do").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedAction {
    pub action: Action,
    /// True in dry-run: the executor records it and never calls the gateway.
    pub dry_run: bool,
}

/// What a mode made of a list of wanted actions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ModeOutcome {
    /// Goes to the outbox (dry-run ones flagged).
    pub planned: Vec<PlannedAction>,
    /// Wanted but withheld (training mode): shown to moderators, never enqueued.
    pub withheld: Vec<Action>,
}

/// Applies a chat's mode. Training keeps only the admin report; soft-ban turns bans into restrictions.
pub fn apply_mode(mode: ChatMode, wanted: Vec<Action>) -> ModeOutcome {
    let mut outcome = ModeOutcome::default();
    for mut action in wanted {
        match mode {
            ChatMode::Live => outcome.planned.push(PlannedAction {
                action,
                dry_run: false,
            }),
            ChatMode::DryRun => outcome.planned.push(PlannedAction {
                action,
                dry_run: true,
            }),
            ChatMode::Training => {
                if action.kind == ActionKind::NotifyAdmin {
                    outcome.planned.push(PlannedAction {
                        action,
                        dry_run: false,
                    });
                } else {
                    outcome.withheld.push(action);
                }
            }
            ChatMode::SoftBan => {
                if matches!(action.kind, ActionKind::Ban { .. }) {
                    action.kind = ActionKind::Restrict;
                    action.idempotency_key.push_str("|soft");
                }
                outcome.planned.push(PlannedAction {
                    action,
                    dry_run: false,
                });
            }
        }
    }
    if mode == ChatMode::Training
        && !outcome.withheld.is_empty()
        && !outcome
            .planned
            .iter()
            .any(|p| p.action.kind == ActionKind::NotifyAdmin)
    {
        // Training exists to report: make sure the moderators hear about what was withheld.
        let first = &outcome.withheld[0];
        let kinds: Vec<&str> = outcome.withheld.iter().map(|a| a.kind.name()).collect();
        outcome.planned.push(PlannedAction {
            action: Action {
                kind: ActionKind::NotifyAdmin,
                chat_id: first.chat_id,
                user_id: first.user_id,
                message_id: first.message_id,
                reason: format!("training: would {} ({})", kinds.join(", "), first.reason),
                requested_by: first.requested_by.clone(),
                idempotency_key: format!("{}|report", first.idempotency_key),
            },
            dry_run: false,
        });
    }
    outcome
}
