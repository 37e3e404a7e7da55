//! The admin chat: reports with buttons out, commands in (authorised admins only), and members'
//! requests in a private chat with the bot. Pure parsing and formatting; the app acts.

use super::api::OutgoingMessage;
use crate::model::{ChatId, MessageId, UserId};

/// Containment levels a moderator can ask for from the admin chat.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContainmentLevel {
    Normal,
    Slow,
    Bunker,
    Lockdown,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdminCommand {
    Start,
    Help,
    Status,
    Stats,
    User(UserId),
    Ban {
        user: UserId,
        reason: Option<String>,
    },
    Unban(UserId),
    Strike {
        user: UserId,
        reason: Option<String>,
    },
    Forgive(UserId),
    Risk(UserId),
    Containment {
        chat: ChatId,
        level: ContainmentLevel,
    },
    Whitelist(UserId),
    Blacklist(UserId),
    /// Replies to a forwarded or reported message.
    Spam {
        reply_to: MessageId,
    },
    Ham {
        reply_to: MessageId,
    },
    Check {
        reply_to: MessageId,
    },
}

/// What a message in the admin chat amounts to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdminInput {
    Command {
        by: UserId,
        command: AdminCommand,
    },
    /// A command from somebody not authorised: answer nothing, record the attempt.
    Unauthorised {
        user: UserId,
        text: String,
    },
    /// A command from an admin that does not parse: answer with this usage line.
    Invalid {
        by: UserId,
        usage: String,
    },
}

/// Who may command Warden.
#[derive(Debug, Clone, Default)]
pub struct AdminAuth {
    pub admin_ids: Vec<UserId>,
    /// The admin chat's current admins (fetched by the app; empty when not trusted).
    pub chat_admins: Vec<UserId>,
}

impl AdminAuth {
    pub fn allows(&self, user: UserId) -> bool {
        self.admin_ids.contains(&user) || self.chat_admins.contains(&user)
    }
}

pub const HELP: &str = "/status /stats — state of Warden
/user <id> /risk <id> — what Warden knows
/ban <id> [reason] /unban <id>
/strike <id> [reason] /forgive <id>
/whitelist <id> /blacklist <id>
/containment <chat> <normal|slow|bunker|lockdown>
reply to a message: /spam /ham /check";

/// `/cmd@botname args` → ("cmd", "args").
fn split_command(text: &str) -> Option<(String, &str)> {
    let text = text.trim();
    let rest = text.strip_prefix('/')?;
    let (head, args) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
    let name = head.split('@').next().unwrap_or(head);
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return None;
    }
    Some((name.to_ascii_lowercase(), args.trim()))
}

fn parse_id(arg: Option<&str>) -> Option<i64> {
    arg?.parse().ok()
}

/// Parses a message in the admin chat. `None`: not a command (ordinary chatter).
pub fn parse_admin_message(
    text: &str,
    sender: UserId,
    reply_to: Option<MessageId>,
    auth: &AdminAuth,
) -> Option<AdminInput> {
    let (name, args) = split_command(text)?;
    let mut words = args.split_whitespace();
    let first = words.next();
    let rest = args
        .split_once(char::is_whitespace)
        .map(|(_, r)| r.trim())
        .filter(|r| !r.is_empty())
        .map(str::to_string);
    let usage = |u: &str| Some(Err(u.to_string()));
    let with_id = |make: fn(UserId) -> AdminCommand, u: &str| match parse_id(first) {
        Some(id) => Some(Ok(make(id))),
        None => Some(Err(u.to_string())),
    };
    let needs_reply = |make: fn(MessageId) -> AdminCommand, u: &str| match reply_to {
        Some(id) => Some(Ok(make(id))),
        None => Some(Err(u.to_string())),
    };
    let parsed: Option<Result<AdminCommand, String>> = match name.as_str() {
        "start" => Some(Ok(AdminCommand::Start)),
        "help" => Some(Ok(AdminCommand::Help)),
        "status" => Some(Ok(AdminCommand::Status)),
        "stats" => Some(Ok(AdminCommand::Stats)),
        "user" => with_id(AdminCommand::User, "/user <id>"),
        "risk" => with_id(AdminCommand::Risk, "/risk <id>"),
        "unban" => with_id(AdminCommand::Unban, "/unban <id>"),
        "forgive" => with_id(AdminCommand::Forgive, "/forgive <id>"),
        "whitelist" => with_id(AdminCommand::Whitelist, "/whitelist <id>"),
        "blacklist" => with_id(AdminCommand::Blacklist, "/blacklist <id>"),
        "ban" => match parse_id(first) {
            Some(user) => Some(Ok(AdminCommand::Ban { user, reason: rest })),
            None => usage("/ban <id> [reason]"),
        },
        "strike" => match parse_id(first) {
            Some(user) => Some(Ok(AdminCommand::Strike { user, reason: rest })),
            None => usage("/strike <id> [reason]"),
        },
        "containment" => {
            let level = match words.next() {
                Some("normal") => Some(ContainmentLevel::Normal),
                Some("slow") => Some(ContainmentLevel::Slow),
                Some("bunker") => Some(ContainmentLevel::Bunker),
                Some("lockdown") => Some(ContainmentLevel::Lockdown),
                _ => None,
            };
            match (parse_id(first), level) {
                (Some(chat), Some(level)) => Some(Ok(AdminCommand::Containment { chat, level })),
                _ => usage("/containment <chat> <normal|slow|bunker|lockdown>"),
            }
        }
        "spam" => needs_reply(
            |id| AdminCommand::Spam { reply_to: id },
            "reply to a message with /spam",
        ),
        "ham" => needs_reply(
            |id| AdminCommand::Ham { reply_to: id },
            "reply to a message with /ham",
        ),
        "check" => needs_reply(
            |id| AdminCommand::Check { reply_to: id },
            "reply to a message with /check",
        ),
        _ => None,
    };
    let parsed = parsed?;
    // Authorisation after recognition: strangers learn nothing, not even the usage.
    if !auth.allows(sender) {
        return Some(AdminInput::Unauthorised {
            user: sender,
            text: text.chars().take(200).collect(),
        });
    }
    Some(match parsed {
        Ok(command) => AdminInput::Command {
            by: sender,
            command,
        },
        Err(usage) => AdminInput::Invalid { by: sender, usage },
    })
}

/// A member's request in a private chat with the bot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MemberRequest {
    Appeal {
        user: UserId,
        text: String,
    },
    /// Asked to appeal without saying why.
    AppealUsage {
        user: UserId,
    },
    Privacy {
        user: UserId,
    },
    MyData {
        user: UserId,
    },
    ForgetMe {
        user: UserId,
    },
}

/// Parses a private message to the bot; only `chat_id > 0` (private chats) count.
pub fn parse_member_request(chat_id: ChatId, sender: UserId, text: &str) -> Option<MemberRequest> {
    if chat_id <= 0 || chat_id != sender {
        return None;
    }
    let (name, args) = split_command(text)?;
    Some(match name.as_str() {
        "appeal" if args.is_empty() => MemberRequest::AppealUsage { user: sender },
        "appeal" => MemberRequest::Appeal {
            user: sender,
            text: args.chars().take(2000).collect(),
        },
        "privacy" | "start" => MemberRequest::Privacy { user: sender },
        "mydata" => MemberRequest::MyData { user: sender },
        "forgetme" => MemberRequest::ForgetMe { user: sender },
        _ => return None,
    })
}

/// A flagged message or an automatic action, as the admin chat shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub chat_id: ChatId,
    pub chat_title: String,
    pub message_id: Option<MessageId>,
    pub user_id: UserId,
    pub user_name: String,
    /// What Warden did or proposes ("deleted", "flagged", "banned for 1 d").
    pub verdict: String,
    /// Hits, strongest first ("stop word: 'crypto' (0.6)").
    pub reasons: Vec<String>,
    /// The message text (shortened here).
    pub excerpt: String,
}

/// Callback data under a report's buttons (≤ 64 bytes, as Telegram requires).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportButton {
    Ban {
        chat: ChatId,
        user: UserId,
    },
    NotSpam {
        chat: ChatId,
        message: MessageId,
        user: UserId,
    },
    Info {
        chat: ChatId,
        message: MessageId,
    },
}

impl ReportButton {
    pub fn encode(self) -> String {
        match self {
            ReportButton::Ban { chat, user } => format!("b:{chat}:{user}"),
            ReportButton::NotSpam {
                chat,
                message,
                user,
            } => format!("h:{chat}:{message}:{user}"),
            ReportButton::Info { chat, message } => format!("i:{chat}:{message}"),
        }
    }

    pub fn decode(data: &str) -> Option<ReportButton> {
        let mut parts = data.split(':');
        let kind = parts.next()?;
        let nums: Vec<i64> = parts.map(|p| p.parse().ok()).collect::<Option<_>>()?;
        match (kind, nums.as_slice()) {
            ("b", [chat, user]) => Some(ReportButton::Ban {
                chat: *chat,
                user: *user,
            }),
            ("h", [chat, message, user]) => Some(ReportButton::NotSpam {
                chat: *chat,
                message: *message,
                user: *user,
            }),
            ("i", [chat, message]) => Some(ReportButton::Info {
                chat: *chat,
                message: *message,
            }),
            _ => None,
        }
    }
}

fn shorten(text: &str, max_chars: usize) -> String {
    let mut out: String = text.chars().take(max_chars).collect();
    if text.chars().nth(max_chars).is_some() {
        out.push('…');
    }
    out
}

/// The admin-chat post for a report: verdict, who, where, why, excerpt, and the three buttons.
pub fn format_report(report: &Report) -> OutgoingMessage {
    let mut text = format!(
        "{} — {} ({}) in {} ({})\n",
        report.verdict,
        shorten(&report.user_name, 64),
        report.user_id,
        shorten(&report.chat_title, 64),
        report.chat_id
    );
    for reason in report.reasons.iter().take(8) {
        text.push_str(&format!("• {}\n", shorten(reason, 200)));
    }
    if report.reasons.len() > 8 {
        text.push_str(&format!(
            "• … and {} more (Info)\n",
            report.reasons.len() - 8
        ));
    }
    if !report.excerpt.is_empty() {
        text.push_str(&format!("\n«{}»", shorten(&report.excerpt, 500)));
    }
    let mut row = vec![(
        "Ban".to_string(),
        ReportButton::Ban {
            chat: report.chat_id,
            user: report.user_id,
        }
        .encode(),
    )];
    if let Some(message) = report.message_id {
        row.push((
            "Not spam".to_string(),
            ReportButton::NotSpam {
                chat: report.chat_id,
                message,
                user: report.user_id,
            }
            .encode(),
        ));
        row.push((
            "Info".to_string(),
            ReportButton::Info {
                chat: report.chat_id,
                message,
            }
            .encode(),
        ));
    }
    OutgoingMessage {
        text,
        buttons: vec![row],
        reply_to: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ADMIN: UserId = 10;
    const CHAT_ADMIN: UserId = 11;
    const STRANGER: UserId = 99;

    fn auth() -> AdminAuth {
        AdminAuth {
            admin_ids: vec![ADMIN],
            chat_admins: vec![CHAT_ADMIN],
        }
    }

    #[test]
    fn admin_commands_parse_table() {
        use AdminCommand as C;
        let table: Vec<(&str, Option<MessageId>, AdminCommand)> = vec![
            ("/start", None, C::Start),
            ("/help@WardenBot", None, C::Help),
            ("/status", None, C::Status),
            ("/stats", None, C::Stats),
            ("/user 42", None, C::User(42)),
            (
                "/ban 42",
                None,
                C::Ban {
                    user: 42,
                    reason: None,
                },
            ),
            (
                "/ban 42 crypto spam  again",
                None,
                C::Ban {
                    user: 42,
                    reason: Some("crypto spam  again".into()),
                },
            ),
            ("/unban 42", None, C::Unban(42)),
            (
                "/strike 42 rude",
                None,
                C::Strike {
                    user: 42,
                    reason: Some("rude".into()),
                },
            ),
            ("/forgive 42", None, C::Forgive(42)),
            ("/risk 42", None, C::Risk(42)),
            (
                "/containment -1001 bunker",
                None,
                C::Containment {
                    chat: -1001,
                    level: ContainmentLevel::Bunker,
                },
            ),
            (
                "/containment -1001 normal",
                None,
                C::Containment {
                    chat: -1001,
                    level: ContainmentLevel::Normal,
                },
            ),
            ("/whitelist 42", None, C::Whitelist(42)),
            ("/blacklist 42", None, C::Blacklist(42)),
            ("/spam", Some(5), C::Spam { reply_to: 5 }),
            ("/HAM", Some(5), C::Ham { reply_to: 5 }),
            ("/check", Some(5), C::Check { reply_to: 5 }),
        ];
        for (text, reply, want) in table {
            for by in [ADMIN, CHAT_ADMIN] {
                assert_eq!(
                    parse_admin_message(text, by, reply, &auth()),
                    Some(AdminInput::Command {
                        by,
                        command: want.clone()
                    }),
                    "{text}"
                );
            }
        }
    }

    #[test]
    fn bad_arguments_get_usage_for_admins_only() {
        for (text, reply) in [
            ("/ban", None),
            ("/ban @bob", None),
            ("/containment -1001 panic", None),
            ("/containment", None),
            ("/spam", None),
        ] {
            assert!(
                matches!(
                    parse_admin_message(text, ADMIN, reply, &auth()),
                    Some(AdminInput::Invalid { .. })
                ),
                "{text}"
            );
            assert!(
                matches!(
                    parse_admin_message(text, STRANGER, reply, &auth()),
                    Some(AdminInput::Unauthorised { user: STRANGER, .. })
                ),
                "{text}"
            );
        }
    }

    #[test]
    fn strangers_and_chatter_get_nothing() {
        assert_eq!(
            parse_admin_message("/ban 42 x", STRANGER, None, &auth()),
            Some(AdminInput::Unauthorised {
                user: STRANGER,
                text: "/ban 42 x".into()
            })
        );
        assert_eq!(
            parse_admin_message("hello /ban 42", ADMIN, None, &auth()),
            None
        );
        assert_eq!(
            parse_admin_message("/unknown 1", ADMIN, None, &auth()),
            None
        );
        assert_eq!(parse_admin_message("/", ADMIN, None, &auth()), None);
        let huge = format!("/ban {}", "9".repeat(1_000_000));
        assert!(matches!(
            parse_admin_message(&huge, STRANGER, None, &auth()),
            Some(AdminInput::Unauthorised { text, .. }) if text.chars().count() == 200
        ));
    }

    #[test]
    fn member_requests_only_in_private_chats() {
        assert_eq!(
            parse_member_request(42, 42, "/appeal I was not spamming"),
            Some(MemberRequest::Appeal {
                user: 42,
                text: "I was not spamming".into()
            })
        );
        assert_eq!(
            parse_member_request(42, 42, "/appeal"),
            Some(MemberRequest::AppealUsage { user: 42 })
        );
        assert_eq!(
            parse_member_request(42, 42, "/privacy"),
            Some(MemberRequest::Privacy { user: 42 })
        );
        assert_eq!(
            parse_member_request(42, 42, "/mydata"),
            Some(MemberRequest::MyData { user: 42 })
        );
        assert_eq!(
            parse_member_request(42, 42, "/forgetme"),
            Some(MemberRequest::ForgetMe { user: 42 })
        );
        assert_eq!(parse_member_request(-1001, 42, "/forgetme"), None);
        assert_eq!(parse_member_request(42, 42, "hi"), None);
    }

    #[test]
    fn reports_carry_reasons_and_working_buttons() {
        let report = Report {
            chat_id: -1001,
            chat_title: "Rust Lovers".into(),
            message_id: Some(7),
            user_id: 42,
            user_name: "Spammy".into(),
            verdict: "deleted".into(),
            reasons: vec!["link to t.me".into(), "new account".into()],
            excerpt: "x".repeat(2000),
        };
        let post = format_report(&report);
        assert!(
            post.text
                .starts_with("deleted — Spammy (42) in Rust Lovers (-1001)")
        );
        assert!(post.text.contains("• link to t.me\n• new account\n"));
        assert!(post.text.chars().count() < 1000);
        let labels: Vec<&str> = post.buttons[0].iter().map(|(l, _)| l.as_str()).collect();
        assert_eq!(labels, ["Ban", "Not spam", "Info"]);
        for (_, data) in &post.buttons[0] {
            assert!(data.len() <= 64);
        }
        assert_eq!(
            ReportButton::decode(&post.buttons[0][1].1),
            Some(ReportButton::NotSpam {
                chat: -1001,
                message: 7,
                user: 42
            })
        );
        assert_eq!(ReportButton::decode("b:1"), None);
        assert_eq!(ReportButton::decode("x:1:2"), None);
    }
}
