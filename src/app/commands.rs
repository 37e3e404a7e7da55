//! A moderator's command from the console, carried out through the pipeline: the same policy,
//! outbox and audit as the automatic rules. Each returns a notice in words.

use crate::action::{Action, ActionKind, Actor};
use crate::app::live::Notice;
use crate::app::pipeline::{AlertKind, Pipeline};
use crate::model::{ChatId, Timestamp, UserId};
use crate::policy::{self, Label, LabelRequest, PlannedAction};
use crate::raid::Containment;
use anyhow::{Context, Result, anyhow, bail};
use warden_ui::Command;

/// Applies one command; failures come back as error notices, never panics.
pub fn apply(pipeline: &mut Pipeline, moderator: &str, command: Command) -> Notice {
    Notice::from_result(run(pipeline, moderator, command))
}

fn run(pipeline: &mut Pipeline, moderator: &str, command: Command) -> Result<String> {
    let by = Actor::Moderator(moderator.to_string());
    let now = pipeline.now();
    match command {
        Command::Ban {
            user,
            chat,
            duration,
            reason,
        } => {
            let chats = target_chats(pipeline, user, chat)?;
            let kind = ActionKind::Ban { seconds: duration };
            let n = act(pipeline, &chats, user, kind, &reason, &by)?;
            let length = duration.map_or("permanently".to_string(), |s| {
                format!("for {}", policy::duration::format_duration(s))
            });
            Ok(format!("ban of {user} {length} queued in {n} chat(s)"))
        }
        Command::Mute {
            user,
            chat,
            seconds,
            reason,
        } => {
            let chats = target_chats(pipeline, user, chat)?;
            let n = act(
                pipeline,
                &chats,
                user,
                ActionKind::Mute { seconds },
                &reason,
                &by,
            )?;
            Ok(format!(
                "mute of {user} for {} queued in {n} chat(s)",
                policy::duration::format_duration(seconds)
            ))
        }
        Command::Strike { user, chat, reason } => {
            let chats = target_chats(pipeline, user, chat)?;
            let mut summary = Vec::new();
            for chat in chats {
                let decision = pipeline
                    .policy
                    .strike(chat, user, None, &reason, by.clone(), now);
                pipeline.enqueue_decision(&decision)?;
                let count = decision.strike.map_or(0, |(_, n)| n);
                summary.push(format!("{} (strike {count})", pipeline.chat_title(chat)));
            }
            Ok(format!("strike for {user}: {}", summary.join(", ")))
        }
        Command::Forgive { user, reason } => forgive(pipeline, user, &reason, &by),
        Command::LabelSpam {
            chat,
            message,
            user,
        } => label(pipeline, chat, message, user, Label::Spam, &by),
        Command::LabelHam {
            chat,
            message,
            user,
        } => label(pipeline, chat, message, user, Label::Ham, &by),
        Command::UndoLabel { chat, message } => {
            pipeline
                .store()
                .writer()
                .remove_latest_label(chat, message, &by.to_string(), now)
                .context("nothing to undo")?;
            Ok(format!(
                "label on message {message} removed (the classifier forgets it at the next restart)"
            ))
        }
        Command::Trust { user, reason } => {
            pipeline.policy.users.set_trusted(user, true, now);
            pipeline
                .store()
                .writer()
                .commit(warden_store::WriteOp::SetUserTrust {
                    user_id: user,
                    trust: "trusted".to_string(),
                    by: by.to_string(),
                    at: now,
                })?;
            let _ = reason;
            Ok(format!(
                "{user} is trusted: never acted on by content rules again"
            ))
        }
        Command::Tag { user, tag, on } => {
            let tag = policy::normalize_tag(&tag);
            let users = &mut pipeline.policy.users;
            if on {
                users.tag(user, &tag, now);
            } else {
                users.untag(user, &tag, now);
            }
            let tags: Vec<String> = users.entry(user, now).tags.iter().cloned().collect();
            pipeline
                .store()
                .writer()
                .commit(warden_store::WriteOp::SetUserTags {
                    user_id: user,
                    tags,
                    by: by.to_string(),
                    at: now,
                })?;
            Ok(if on {
                format!("{user} tagged #{tag}")
            } else {
                format!("tag #{tag} removed from {user}")
            })
        }
        Command::StopPhrase { phrase, on } => {
            let phrase = phrase.trim().to_string();
            let key = crate::engine::phrases::check_stop_phrase(&phrase).map_err(|e| anyhow!(e))?;
            pipeline
                .store()
                .writer()
                .commit(warden_store::WriteOp::SetStopPhrase {
                    key,
                    phrase: phrase.clone(),
                    enabled: on,
                    by: by.to_string(),
                    at: now,
                })?;
            let in_effect = pipeline.engine.edit_stop_phrases([(phrase.as_str(), on)]);
            Ok(if on {
                format!("stop phrase \"{phrase}\" added ({in_effect} in effect)")
            } else {
                format!("stop phrase \"{phrase}\" switched off ({in_effect} in effect)")
            })
        }
        Command::Note { user, text } => {
            let note = Some(text.trim().to_string()).filter(|n| !n.is_empty());
            pipeline.policy.users.set_note(user, note.clone(), now);
            let cleared = note.is_none();
            pipeline
                .store()
                .writer()
                .commit(warden_store::WriteOp::SetUserNote {
                    user_id: user,
                    note,
                    by: by.to_string(),
                    at: now,
                })?;
            Ok(if cleared {
                format!("note on {user} cleared")
            } else {
                format!("note on {user} saved")
            })
        }
        Command::Bunker { chat, on } => {
            let mode = if on {
                Containment::Bunker
            } else {
                Containment::Normal
            };
            let ids = pipeline.set_containment(chat, mode, by)?;
            Ok(format!(
                "{}: bunker {} ({} action(s) queued)",
                pipeline.chat_title(chat),
                if on { "on" } else { "off" },
                ids.len()
            ))
        }
        Command::AntiSpam { chat, on } => {
            let kind = if on {
                ActionKind::AntiSpamOn
            } else {
                ActionKind::AntiSpamOff
            };
            let n = act(pipeline, &[chat], None, kind, "set by a moderator", &by)?;
            Ok(format!(
                "{}: Telegram's aggressive anti-spam {} ({n} action queued; needs the user account as admin)",
                pipeline.chat_title(chat),
                if on { "on" } else { "off" }
            ))
        }
        Command::SlowMode { chat, seconds } => {
            let mode = if seconds == 0 {
                Containment::Normal
            } else {
                Containment::slow(seconds).map_err(|e| anyhow!("{e}"))?
            };
            pipeline.set_containment(chat, mode, by)?;
            Ok(format!("{}: {}", pipeline.chat_title(chat), mode.name()))
        }
        Command::OpenUser { .. } => Ok(String::new()),
        Command::ClusterBanAll { cluster, reason } => {
            let members = pipeline.clusters.members(cluster);
            if members.is_empty() {
                bail!("cluster {cluster} is gone (its accounts went quiet)");
            }
            let mut n = 0;
            for user in &members {
                let chats = target_chats(pipeline, *user, None)?;
                n += act(
                    pipeline,
                    &chats,
                    *user,
                    ActionKind::Ban { seconds: None },
                    &reason,
                    &by,
                )?;
            }
            Ok(format!(
                "{} ban(s) queued for {} linked accounts",
                n,
                members.len()
            ))
        }
        Command::ClusterLabelSpam { cluster } => {
            let members = pipeline.clusters.members(cluster);
            let reader = pipeline.store().reader()?;
            let mut labelled = 0;
            for user in members {
                for message in reader.user_history(user, None)?.recent_messages {
                    if message.text.is_some() {
                        label(
                            pipeline,
                            message.chat_id,
                            message.message_id,
                            user,
                            Label::Spam,
                            &by,
                        )?;
                        labelled += 1;
                    }
                }
            }
            Ok(format!(
                "{labelled} message(s) of the cluster labelled spam"
            ))
        }
        Command::ClusterRemoveMember { cluster, user } => {
            if !pipeline.clusters.remove_member(user) {
                bail!("{user} is not in cluster {cluster}");
            }
            Ok(format!(
                "{user} unlinked from cluster {cluster} (false link)"
            ))
        }
        Command::ClusterWhitelistMember { cluster, user } => {
            pipeline.clusters.whitelist(user);
            list_user(pipeline, user, "whitelist", &by)?;
            Ok(format!(
                "{user} whitelisted and removed from cluster {cluster}"
            ))
        }
        Command::SaveRule { name, text } => save_rule(pipeline, name, &text, &by, now),
        Command::ToggleRule { name, enabled } => {
            let rule = pipeline
                .policy
                .rules()
                .rules()
                .iter()
                .find(|r| r.name == name)
                .ok_or_else(|| anyhow!("no rule named '{name}'"))?;
            let mut body = rule.source.clone();
            body["enabled"] = serde_json::Value::Bool(enabled);
            let text = serde_json::to_string_pretty(&body)?;
            save_rule(pipeline, Some(name), &text, &by, now)
        }
        Command::AcceptAlert { alert } => accept_alert(pipeline, alert, &by),
        Command::DismissAlert { alert } => {
            pipeline.dismiss_alert(alert);
            Ok("alert dismissed".to_string())
        }
        Command::RetryAlert { alert } => {
            let action_id = (alert as i64) - (1 << 40);
            pipeline
                .store()
                .writer()
                .commit(warden_store::WriteOp::RetryAction {
                    id: action_id,
                    by: by.to_string(),
                    at: now,
                })
                .context("cannot retry that action")?;
            Ok(format!("action {action_id} queued again"))
        }
        Command::MouseCapture { .. }
        | Command::Suspend
        | Command::TogglePause
        | Command::Quit
        | Command::Login { .. }
        | Command::PromptAnswer { .. } => Ok(String::new()),
    }
}

/// Lifts a ban in every chat the user is known in (admin chat `/unban`).
pub fn unban(pipeline: &mut Pipeline, moderator: &str, user: UserId) -> Notice {
    let by = Actor::Moderator(moderator.to_string());
    Notice::from_result(target_chats(pipeline, user, None).and_then(|chats| {
        let n = act(pipeline, &chats, user, ActionKind::Unban, "unbanned", &by)?;
        Ok(format!("unban of {user} queued in {n} chat(s)"))
    }))
}

/// Whitelist, blacklist or neither (admin chat `/whitelist`, `/blacklist`).
pub fn set_listed(pipeline: &mut Pipeline, moderator: &str, user: UserId, listed: &str) -> Notice {
    let by = Actor::Moderator(moderator.to_string());
    Notice::from_result(
        list_user(pipeline, user, listed, &by).map(|()| format!("{user}: {listed}")),
    )
}

/// "whitelist" | "blacklist" | "none": in policy memory and, acknowledged, in the store.
fn list_user(pipeline: &mut Pipeline, user: UserId, listed: &str, by: &Actor) -> Result<()> {
    let now = pipeline.now();
    let users = &mut pipeline.policy.users;
    users.set_whitelisted(user, listed == "whitelist", now);
    users.set_blacklisted(user, listed == "blacklist", now);
    pipeline
        .store()
        .writer()
        .commit(warden_store::WriteOp::SetUserListed {
            user_id: user,
            listed: listed.to_string(),
            by: by.to_string(),
            at: now,
        })?;
    Ok(())
}

/// The chats a user command applies to: the given one, else every watched chat the user is in.
fn target_chats(pipeline: &Pipeline, user: UserId, chat: Option<ChatId>) -> Result<Vec<ChatId>> {
    if let Some(chat) = chat {
        return Ok(vec![chat]);
    }
    let history = pipeline.store().reader()?.user_history(user, None)?;
    let mut chats: Vec<ChatId> = history.memberships.iter().map(|m| m.chat_id).collect();
    chats.extend(history.recent_messages.iter().map(|m| m.chat_id));
    chats.sort_unstable();
    chats.dedup();
    if chats.is_empty() {
        bail!("user {user} is not known in any watched chat");
    }
    Ok(chats)
}

/// An action in each chat (on `user`, or on the chat itself), under each chat's mode, into the
/// outbox; returns how many were queued.
pub(crate) fn act(
    pipeline: &mut Pipeline,
    chats: &[ChatId],
    user: impl Into<Option<UserId>>,
    kind: ActionKind,
    reason: &str,
    by: &Actor,
) -> Result<usize> {
    let now = pipeline.now();
    let user = user.into();
    let mut planned: Vec<PlannedAction> = Vec::new();
    for chat in chats {
        let action = Action {
            idempotency_key: policy::idempotency_key(by, &kind, *chat, user, None, now),
            kind: kind.clone(),
            chat_id: *chat,
            user_id: user,
            message_id: None,
            reason: reason.to_string(),
            requested_by: by.clone(),
        };
        let mode = pipeline.policy.cfg.mode_for(*chat);
        planned.extend(policy::apply_mode(mode, vec![action]).planned);
    }
    Ok(pipeline.enqueue(&planned)?.len())
}

fn forgive(pipeline: &mut Pipeline, user: UserId, reason: &str, by: &Actor) -> Result<String> {
    let now = pipeline.now();
    let chats = target_chats(pipeline, user, None)?;
    let mut forgiven = Vec::new();
    let mut lifts = Vec::new();
    for chat in chats {
        let Some(outcome) = pipeline.policy.forgive(chat, user, by.clone(), reason, now) else {
            continue;
        };
        if let Some(store_id) = pipeline
            .policy
            .strikes
            .get(outcome.strike_id)
            .and_then(|s| s.store_id)
        {
            pipeline
                .store()
                .writer()
                .forgive_strike(store_id, &by.to_string(), reason, now)?;
        }
        forgiven.push(format!(
            "{} ({} active left)",
            pipeline.chat_title(chat),
            outcome.active_after
        ));
        let mode = pipeline.policy.cfg.mode_for(chat);
        lifts.extend(policy::apply_mode(mode, outcome.offers).planned);
    }
    if forgiven.is_empty() {
        bail!("{user} has no active strike to forgive");
    }
    // The confirmation named the consequence: lifting what the ladder did goes with forgiving.
    let lifted = pipeline.enqueue(&lifts)?.len();
    let mut text = format!("forgave {user}: {}", forgiven.join(", "));
    if lifted > 0 {
        text.push_str(&format!("; {lifted} mute/ban lift(s) queued"));
    }
    Ok(text)
}

fn label(
    pipeline: &mut Pipeline,
    chat: ChatId,
    message: i64,
    user: UserId,
    label: Label,
    by: &Actor,
) -> Result<String> {
    let now = pipeline.now();
    let reader = pipeline.store().reader()?;
    let record = reader
        .message(chat, message)?
        .ok_or_else(|| anyhow!("message {message} is not in the store"))?;
    let text = record
        .text
        .clone()
        .ok_or_else(|| anyhow!("message {message} has no text left (retention or forget)"))?;
    let done: Vec<ActionKind> = reader
        .actions_for_messages(&[(chat, message)])?
        .into_iter()
        .filter(|a| a.state == "done")
        .filter_map(|row| policy::action_from_row(&row).map(|a| a.kind))
        .collect();
    let outcome = pipeline.policy.label(LabelRequest {
        chat_id: chat,
        message_id: message,
        user_id: user,
        text: text.clone(),
        label,
        by: by.clone(),
        at: now,
        done,
    });
    pipeline
        .store()
        .writer()
        .add_label(outcome.training.to_new_label())?;
    pipeline.engine.add_label(&text, label);
    pipeline.enqueue(&outcome.planned)?;
    let mut text = format!(
        "labelled {}: the classifier has learned it (u undoes)",
        label.as_str()
    );
    if label == Label::Ham && record.flagged {
        crate::metrics::flagged_then_ham();
    }
    if label == Label::Ham {
        // Ham on a flagged message: undo what was done to the user.
        let mode = pipeline.policy.cfg.mode_for(chat);
        let undo = policy::apply_mode(mode, outcome.offers).planned;
        let n = pipeline.enqueue(&undo)?.len();
        if n > 0 {
            text.push_str(&format!(
                "; {n} undo action(s) queued and the user is trusted"
            ));
        }
    }
    Ok(text)
}

fn save_rule(
    pipeline: &mut Pipeline,
    name: Option<String>,
    text: &str,
    by: &Actor,
    now: Timestamp,
) -> Result<String> {
    let limit = pipeline.policy.cfg.regex_size_limit;
    let edited = policy::RuleSet::load("editor", text, limit).map_err(|e| anyhow!("{e}"))?;
    let mut rules: Vec<serde_json::Value> = pipeline
        .policy
        .rules()
        .rules()
        .iter()
        .filter(|r| {
            name.as_deref() != Some(r.name.as_str())
                && !edited.rules().iter().any(|e| e.name == r.name)
        })
        .map(|r| r.source.clone())
        .collect();
    rules.extend(edited.rules().iter().map(|r| r.source.clone()));
    let whole = serde_json::to_string_pretty(&rules)?;
    let summary = policy::rule_store::import(
        pipeline.store(),
        "console",
        &whole,
        limit,
        &by.to_string(),
        now,
    )?
    .map_err(|e| anyhow!("{e}"))?;
    if let Some(current) = policy::rule_store::load_current(pipeline.store(), limit)? {
        pipeline.policy.set_rules(current);
    }
    let changed: Vec<String> = summary
        .changed
        .iter()
        .map(|(name, version)| format!("{name} v{version}"))
        .collect();
    Ok(if changed.is_empty() {
        "rules unchanged".to_string()
    } else {
        format!("rules saved: {}", changed.join(", "))
    })
}

fn accept_alert(pipeline: &mut Pipeline, alert: u64, by: &Actor) -> Result<String> {
    let (user, kind) = pipeline
        .alerts()
        .iter()
        .find(|a| a.id == alert)
        .and_then(|a| Some((a.user_id?, a.kind.clone())))
        .ok_or_else(|| anyhow!("that alert names no user"))?;
    if kind == AlertKind::Appeal {
        // Accepting an appeal lifts what was done: strikes forgiven, bans and mutes lifted.
        let forgiven = forgive(pipeline, user, "appeal accepted", by)?;
        let chats = target_chats(pipeline, user, None)?;
        let n = act(
            pipeline,
            &chats,
            user,
            ActionKind::Unban,
            "appeal accepted",
            by,
        )?;
        pipeline.dismiss_alert(alert);
        return Ok(format!(
            "appeal of {user} accepted: {forgiven}; unban queued in {n} chat(s)"
        ));
    }
    let messages = pipeline
        .store()
        .reader()?
        .user_history(user, None)?
        .recent_messages;
    let mut n = 0;
    for message in messages.iter().filter(|m| m.text.is_some()) {
        label(
            pipeline,
            message.chat_id,
            message.message_id,
            user,
            Label::Spam,
            by,
        )?;
        n += 1;
    }
    pipeline.dismiss_alert(alert);
    Ok(format!(
        "{n} message(s) of {user} added to the dataset as spam"
    ))
}
