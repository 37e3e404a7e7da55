//! The admin chat and the bot's private chats, live: commands from authorised admins, presses of
//! the buttons under reports, and members' requests (appeal, privacy, their data, forget me).
//! Everything goes through the same commands, policy, outbox and audit as the console.

use crate::app::commands;
use crate::app::pipeline::Pipeline;
use crate::model::{ChatId, Message, MessageId, UserId};
use crate::raid::Containment;
use crate::telegram::admin::{
    AdminAuth, AdminCommand, AdminInput, ContainmentLevel, HELP, MemberRequest, ReportButton,
    parse_admin_message, parse_member_request,
};
use crate::telegram::gateway::ReportTarget;
use crate::telegram::updates::ButtonPress;
use warden_ui::Command;

/// Something to post back to Telegram.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub chat_id: ChatId,
    pub text: String,
    pub reply_to: Option<MessageId>,
}

pub struct AdminDesk {
    pub admin_chat: Option<ChatId>,
    pub auth: AdminAuth,
}

impl AdminDesk {
    /// Messages in the admin chat or in a private chat with the bot are handled here (and never
    /// moderated); `None` means an ordinary group message for the pipeline. `reports` says what a
    /// report posted in the admin chat is about, for `/spam`, `/ham` and `/check` replies.
    pub fn route(
        &self,
        pipeline: &mut Pipeline,
        msg: &Message,
        reports: &dyn Fn(MessageId) -> Option<ReportTarget>,
    ) -> Option<Vec<Reply>> {
        if Some(msg.chat_id) == self.admin_chat {
            return Some(self.admin_message(pipeline, msg, reports));
        }
        if msg.chat_id > 0 {
            return Some(member_request(pipeline, msg));
        }
        None
    }

    fn admin_message(
        &self,
        pipeline: &mut Pipeline,
        msg: &Message,
        reports: &dyn Fn(MessageId) -> Option<ReportTarget>,
    ) -> Vec<Reply> {
        let sender = msg.from.id;
        let answer = |text: String| {
            vec![Reply {
                chat_id: msg.chat_id,
                text,
                reply_to: Some(msg.id),
            }]
        };
        match parse_admin_message(&msg.text, sender, msg.reply_to, &self.auth) {
            None => Vec::new(),
            Some(AdminInput::Unauthorised { user, .. }) => {
                audit_refusal(pipeline, user, "command");
                Vec::new()
            }
            Some(AdminInput::Invalid { usage, .. }) => answer(usage),
            Some(AdminInput::Command { by, command }) => {
                answer(run(pipeline, by, command, reports))
            }
        }
    }

    /// A button under a report. Presses by anyone but an authorised admin are refused.
    pub fn button(&self, pipeline: &mut Pipeline, press: &ButtonPress) -> Vec<Reply> {
        let Some(button) = ReportButton::decode(&press.data) else {
            return Vec::new();
        };
        if !self.auth.allows(press.user_id) {
            audit_refusal(pipeline, press.user_id, "button");
            return Vec::new();
        }
        let moderator = moderator_name(press.user_id);
        let text = match button {
            ReportButton::Ban { chat, user } => {
                let command = Command::Ban {
                    user,
                    chat: Some(chat),
                    duration: None,
                    reason: "banned from the admin chat".into(),
                };
                commands::apply(pipeline, &moderator, command).text
            }
            ReportButton::NotSpam {
                chat,
                message,
                user,
            } => {
                let command = Command::LabelHam {
                    chat,
                    message,
                    user,
                };
                commands::apply(pipeline, &moderator, command).text
            }
            ReportButton::Info { chat, message } => message_info(pipeline, chat, message),
        };
        vec![Reply {
            chat_id: press.chat_id,
            text,
            reply_to: Some(press.message_id),
        }]
    }
}

fn moderator_name(user: UserId) -> String {
    format!("tg:{user}")
}

/// The audit keeps ids and kinds only, never what the stranger typed.
fn audit_refusal(pipeline: &Pipeline, user: UserId, what: &'static str) {
    pipeline
        .store()
        .writer()
        .submit(warden_store::WriteOp::AppendAudit(warden_store::NewAudit {
            ts: pipeline.now(),
            actor: moderator_name(user),
            action: format!("refused_admin_{what}"),
            chat_id: None,
            user_id: Some(user),
            ref_id: None,
            detail: serde_json::json!({}),
        }));
    tracing::warn!(
        user,
        what,
        "admin {what} from someone not authorised; refused"
    );
}

fn run(
    pipeline: &mut Pipeline,
    by: UserId,
    command: AdminCommand,
    reports: &dyn Fn(MessageId) -> Option<ReportTarget>,
) -> String {
    let moderator = moderator_name(by);
    let apply = |pipeline: &mut Pipeline, command| commands::apply(pipeline, &moderator, command);
    match command {
        AdminCommand::Start | AdminCommand::Help => HELP.to_string(),
        AdminCommand::Status | AdminCommand::Stats => {
            let c = &pipeline.counters;
            format!(
                "{} events, {} messages, {} flagged; {} alert(s) open",
                c.events,
                c.messages,
                c.flagged,
                pipeline.alerts().len()
            )
        }
        AdminCommand::User(user) | AdminCommand::Risk(user) => user_summary(pipeline, user),
        AdminCommand::Ban { user, reason } => {
            apply(
                pipeline,
                Command::Ban {
                    user,
                    chat: None,
                    duration: None,
                    reason: reason.unwrap_or_default(),
                },
            )
            .text
        }
        AdminCommand::Unban(user) => commands::unban(pipeline, &moderator, user).text,
        AdminCommand::Strike { user, reason } => {
            apply(
                pipeline,
                Command::Strike {
                    user,
                    chat: None,
                    reason: reason.unwrap_or_default(),
                },
            )
            .text
        }
        AdminCommand::Forgive(user) => {
            apply(
                pipeline,
                Command::Forgive {
                    user,
                    reason: "forgiven from the admin chat".into(),
                },
            )
            .text
        }
        AdminCommand::Whitelist(user) => {
            commands::set_listed(pipeline, &moderator, user, "whitelist").text
        }
        AdminCommand::Blacklist(user) => {
            commands::set_listed(pipeline, &moderator, user, "blacklist").text
        }
        AdminCommand::Containment { chat, level } => {
            let mode = match level {
                ContainmentLevel::Normal => Containment::Normal,
                ContainmentLevel::Slow => Containment::Slow { seconds: 30 },
                ContainmentLevel::Bunker => Containment::Bunker,
                ContainmentLevel::Lockdown => Containment::Lockdown,
            };
            let by = crate::action::Actor::Moderator(moderator.clone());
            match pipeline.set_containment(chat, mode, by) {
                Ok(ids) => format!(
                    "{}: {} ({} action(s) queued)",
                    pipeline.chat_title(chat),
                    mode.name(),
                    ids.len()
                ),
                Err(err) => format!("{err:#}"),
            }
        }
        AdminCommand::Spam { reply_to }
        | AdminCommand::Ham { reply_to }
        | AdminCommand::Check { reply_to } => {
            let Some(target) = reports(reply_to) else {
                return "reply to one of Warden's recent reports".to_string();
            };
            let (chat, message, user) = (target.chat_id, target.message_id, target.user_id);
            match command {
                AdminCommand::Spam { .. } => {
                    apply(
                        pipeline,
                        Command::LabelSpam {
                            chat,
                            message,
                            user,
                        },
                    )
                    .text
                }
                AdminCommand::Ham { .. } => {
                    apply(
                        pipeline,
                        Command::LabelHam {
                            chat,
                            message,
                            user,
                        },
                    )
                    .text
                }
                _ => message_info(pipeline, chat, message),
            }
        }
    }
}

/// Risk, trust, strikes, tags and note, in a few lines.
fn user_summary(pipeline: &Pipeline, user: UserId) -> String {
    let now = pipeline.now();
    let cfg = &pipeline.policy.cfg;
    let Some(memory) = pipeline.policy.users.get(user) else {
        return format!("{user}: not seen by Warden");
    };
    let strikes: u32 = memory
        .chats
        .keys()
        .map(|chat| pipeline.policy.strikes.active_count(*chat, user, now))
        .sum();
    let mut lines = vec![format!(
        "{user}: risk {} ({:.0}%), {} message(s) in {} chat(s), {strikes} active strike(s)",
        memory.risk_at(now, cfg).name(),
        memory.score_at(now, cfg) * 100.0,
        memory.messages,
        memory.chats.len()
    )];
    if memory.trusted || memory.whitelisted || memory.blacklisted {
        let mut flags = Vec::new();
        for (on, word) in [
            (memory.trusted, "trusted"),
            (memory.whitelisted, "whitelisted"),
            (memory.blacklisted, "blacklisted"),
        ] {
            if on {
                flags.push(word);
            }
        }
        lines.push(flags.join(", "));
    }
    if !memory.tags.is_empty() {
        let tags: Vec<String> = memory.tags.iter().map(|t| format!("#{t}")).collect();
        lines.push(tags.join(" "));
    }
    if let Some(note) = &memory.note {
        lines.push(format!("note: {note}"));
    }
    lines.join("\n")
}

/// Every hit on one message, for the Info button.
fn message_info(pipeline: &Pipeline, chat: ChatId, message: MessageId) -> String {
    let record = pipeline
        .store()
        .reader()
        .and_then(|r| r.message(chat, message));
    match record {
        Ok(Some(record)) => {
            let mut lines = vec![format!(
                "message {message}: {} ({:.0}%)",
                record.verdict,
                record.score * 100.0
            )];
            for hit in record.hits {
                lines.push(format!(
                    "• {} {:.2}: {}",
                    hit.name,
                    hit.weight,
                    hit.detail.unwrap_or_default()
                ));
            }
            lines.join("\n")
        }
        Ok(None) => format!("message {message} is not in the store (purged or never seen)"),
        Err(err) => format!("cannot read the store: {err}"),
    }
}

const PRIVACY: &str = "Warden keeps, for the groups it moderates: your name and username, when \
you joined and wrote, your messages' texts (deleted after the retention period), the checks they \
got, and any strikes, bans and labels. /mydata shows what is held about you; /forgetme removes \
your names, texts and memberships. /appeal <why> asks the moderators to review a ban or mute.";

fn member_request(pipeline: &mut Pipeline, msg: &Message) -> Vec<Reply> {
    let Some(request) = parse_member_request(msg.chat_id, msg.from.id, &msg.text) else {
        return Vec::new();
    };
    let text = match request {
        MemberRequest::AppealUsage { .. } => "/appeal <why you should be let back in>".to_string(),
        MemberRequest::Appeal { user, text } => {
            pipeline.appeal(user, &text, msg.date);
            "Your appeal reached the moderators. You will hear back here.".to_string()
        }
        MemberRequest::Privacy { .. } => PRIVACY.to_string(),
        MemberRequest::MyData { user } => my_data(pipeline, user),
        MemberRequest::ForgetMe { user } => {
            let by = format!("member:{user}");
            match pipeline
                .store()
                .writer()
                .forget_user(user, &by, pipeline.now())
            {
                Ok(n) => format!("Done: {n} record(s) about you were cleared."),
                Err(err) => {
                    tracing::error!(user, "forgetme failed: {err}");
                    "Something went wrong; the moderators were told.".to_string()
                }
            }
        }
    };
    vec![Reply {
        chat_id: msg.chat_id,
        text,
        reply_to: None,
    }]
}

fn my_data(pipeline: &Pipeline, user: UserId) -> String {
    let history = match pipeline
        .store()
        .reader()
        .and_then(|r| r.user_history(user, None))
    {
        Ok(history) => history,
        Err(err) => return format!("cannot read the store: {err}"),
    };
    format!(
        "Held about you: {} membership(s), {} recent message(s), {} strike(s), {} ban/mute \
         record(s), {} label(s). /forgetme clears names, texts and memberships.",
        history.memberships.len(),
        history.recent_messages.len(),
        history.strikes.len(),
        history.restrictions.len(),
        history.labels.len()
    )
}
