//! Moderator labels teach the classifier and correct the policy's own records.
//!
//! - label spam → a spam training record; the user's score jumps to 1; the moderator is offered
//!   delete + ban.
//! - label ham on a flagged message → a ham training record; the user becomes trusted; the strike
//!   given for that message is forgiven; the moderator is offered to undo what was done
//!   (unban / unrestrict) — tg-spam's "unban teaches ham".
//! - ban without learning → ban (reputation spam whose text is fine), no training record.

use crate::action::{Action, ActionKind, Actor};
use crate::model::{ChatId, MessageId, Timestamp, UserId};
use crate::policy::decide::{Decision, ForgiveOutcome, Policy, idempotency_key};
use crate::policy::modes::{PlannedAction, apply_mode};
use crate::policy::strikes::lift_for;
use serde::{Deserialize, Serialize};

pub use crate::engine::Label;

/// A sample for the classifier's training set (the store's labels table).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrainingRecord {
    pub label: Label,
    pub text: String,
    pub chat_id: ChatId,
    pub message_id: MessageId,
    pub user_id: UserId,
    pub by: Actor,
    pub at: Timestamp,
}

impl TrainingRecord {
    pub fn to_new_label(&self) -> warden_store::NewLabel {
        warden_store::NewLabel {
            chat_id: Some(self.chat_id),
            message_id: Some(self.message_id),
            user_id: Some(self.user_id),
            text: self.text.clone(),
            label: self.label.as_str().to_string(),
            origin: "moderator".to_string(),
            by: self.by.to_string(),
            ts: self.at,
        }
    }
}

/// A moderator labelled a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelRequest {
    pub chat_id: ChatId,
    pub message_id: MessageId,
    pub user_id: UserId,
    pub text: String,
    pub label: Label,
    pub by: Actor,
    pub at: Timestamp,
    /// What was done to the user because of this message (from the outbox), to offer undoing.
    pub done: Vec<ActionKind>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelOutcome {
    /// Add to the training set (store label; the classifier picks it up).
    pub training: TrainingRecord,
    /// Record-keeping actions to enqueue now (label, trust).
    pub planned: Vec<PlannedAction>,
    /// Follow-ups the moderator confirms (undo for ham; delete + ban for spam).
    pub offers: Vec<Action>,
    /// The strike for this message, forgiven by a ham label.
    pub forgiven: Option<ForgiveOutcome>,
}

impl Policy {
    pub fn label(&mut self, req: LabelRequest) -> LabelOutcome {
        let LabelRequest {
            chat_id,
            message_id,
            user_id,
            text,
            label,
            by,
            at,
            done,
        } = req;
        let action = |kind: ActionKind, reason: &str| Action {
            idempotency_key: idempotency_key(
                &by,
                &kind,
                chat_id,
                Some(user_id),
                Some(message_id),
                at,
            ),
            kind,
            chat_id,
            user_id: Some(user_id),
            message_id: Some(message_id),
            reason: reason.to_string(),
            requested_by: by.clone(),
        };
        let mut planned = Vec::new();
        let mut offers = Vec::new();
        let mut forgiven = None;
        match label {
            Label::Spam => {
                let half_life = self.cfg.score_half_life;
                let user = self.users.entry(user_id, at);
                user.score.observe(1.0, at, half_life);
                planned.push(action(ActionKind::LabelSpam, "labelled spam"));
                if !done
                    .iter()
                    .any(|k| matches!(k, ActionKind::Delete | ActionKind::DeleteSilently))
                {
                    offers.push(action(ActionKind::Delete, "labelled spam"));
                }
                if !done.iter().any(|k| matches!(k, ActionKind::Ban { .. })) {
                    offers.push(action(ActionKind::Ban { seconds: None }, "labelled spam"));
                }
            }
            Label::Ham => {
                self.users.set_trusted(user_id, true, at);
                planned.push(action(ActionKind::LabelHam, "labelled ham"));
                planned.push(action(ActionKind::Trust, "labelled ham"));
                if let Some(f) = self.strikes.forgive_message(
                    chat_id,
                    user_id,
                    message_id,
                    by.clone(),
                    "labelled ham",
                    at,
                ) {
                    forgiven = Some(self.forgive_outcome(
                        chat_id,
                        user_id,
                        f,
                        by.clone(),
                        "labelled ham",
                        at,
                    ));
                }
                for kind in done.iter().filter_map(lift_for) {
                    if !offers.iter().any(|a: &Action| a.kind == kind) {
                        offers.push(action(kind, "labelled ham: undo"));
                    }
                }
            }
        }
        // Labels are moderator records: they are kept even in training or dry-run chats.
        let planned = planned
            .into_iter()
            .map(|action| PlannedAction {
                action,
                dry_run: false,
            })
            .collect();
        LabelOutcome {
            training: TrainingRecord {
                label,
                text,
                chat_id,
                message_id,
                user_id,
                by: by.clone(),
                at,
            },
            planned,
            offers,
            forgiven,
        }
    }

    /// Ban without teaching the classifier (reputation spam: the text itself is fine).
    pub fn ban_without_learning(
        &mut self,
        chat_id: ChatId,
        user_id: UserId,
        reason: &str,
        by: Actor,
        now: Timestamp,
    ) -> Decision {
        let mode = self.cfg.mode_for(chat_id);
        let kind = ActionKind::Ban { seconds: None };
        let ban = Action {
            idempotency_key: idempotency_key(&by, &kind, chat_id, Some(user_id), None, now),
            kind,
            chat_id,
            user_id: Some(user_id),
            message_id: None,
            reason: reason.to_string(),
            requested_by: by,
        };
        let outcome = apply_mode(mode, vec![ban]);
        Decision {
            chat_id,
            user_id,
            mode,
            planned: outcome.planned,
            withheld: outcome.withheld,
            notes: vec!["banned without learning: no training record".into()],
            ..Decision::default()
        }
    }
}
