//! Commands the console emits for the app to carry out, and the `:` command-line parser that
//! produces the same commands as the keys do.

use crate::model::{ChatId, ChatInfo, ClusterId, MessageId, UserId};

/// What the moderator asked for. Durations are seconds. `chat: None` means every watched chat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Ban {
        user: UserId,
        chat: Option<ChatId>,
        /// `None` = permanent.
        duration: Option<u64>,
        reason: String,
    },
    Strike {
        user: UserId,
        chat: Option<ChatId>,
        reason: String,
    },
    /// Clears the user's active strikes.
    Forgive {
        user: UserId,
        reason: String,
    },
    /// Label one message for the dataset.
    LabelSpam {
        chat: ChatId,
        message: MessageId,
        user: UserId,
    },
    LabelHam {
        chat: ChatId,
        message: MessageId,
        user: UserId,
    },
    /// Removes the last label put on this message.
    UndoLabel {
        chat: ChatId,
        message: MessageId,
    },
    Trust {
        user: UserId,
        reason: String,
    },
    Mute {
        user: UserId,
        chat: Option<ChatId>,
        seconds: u64,
        reason: String,
    },
    /// Adds (`on`) or removes a tag on the user.
    Tag {
        user: UserId,
        tag: String,
        on: bool,
    },
    /// Adds (`on`) or switches off a stop phrase (`=phrase`: the whole message).
    StopPhrase {
        phrase: String,
        on: bool,
    },
    /// The moderator note on a user; empty clears it.
    Note {
        user: UserId,
        text: String,
    },
    Bunker {
        chat: ChatId,
        on: bool,
    },
    /// Telegram's aggressive anti-spam for a chat (the user account must be admin there).
    AntiSpam {
        chat: ChatId,
        on: bool,
    },
    /// 0 turns slow mode off.
    SlowMode {
        chat: ChatId,
        seconds: u64,
    },
    /// The console opened the Investigator on this user: the app may fetch what the user
    /// account can add (bio, common chats) and call `on_data_changed`.
    OpenUser {
        user: UserId,
    },
    ClusterBanAll {
        cluster: ClusterId,
        reason: String,
    },
    ClusterLabelSpam {
        cluster: ClusterId,
    },
    ClusterRemoveMember {
        cluster: ClusterId,
        user: UserId,
    },
    ClusterWhitelistMember {
        cluster: ClusterId,
        user: UserId,
    },
    /// `name: None` for a new rule (the app takes the name from the text).
    SaveRule {
        name: Option<String>,
        text: String,
    },
    ToggleRule {
        name: String,
        enabled: bool,
    },
    /// Another admin's ban: add the user's messages to the dataset as spam.
    AcceptAlert {
        alert: u64,
    },
    DismissAlert {
        alert: u64,
    },
    RetryAlert {
        alert: u64,
    },
    /// Turn terminal mouse capture on or off (the console stops reacting to the mouse when off).
    MouseCapture {
        on: bool,
    },
    /// The app should suspend the process (Ctrl-Z) and restore the terminal.
    Suspend,
    /// Pause or resume the event source (the demo's simulated community).
    TogglePause,
    /// Log a Telegram account in from the console; the app asks its questions as prompts.
    Login {
        user_account: bool,
    },
    /// The answer to the app's prompt `id`; `None` when the moderator cancelled.
    PromptAnswer {
        id: u64,
        text: Option<String>,
    },
    Quit,
}

impl Command {
    /// Commands a moderator must confirm (with a reason) before they are emitted.
    pub fn needs_confirmation(&self) -> bool {
        matches!(
            self,
            Command::Ban { .. }
                | Command::Strike { .. }
                | Command::Forgive { .. }
                | Command::Trust { .. }
                | Command::Mute { .. }
                | Command::Bunker { on: true, .. }
                | Command::SlowMode { .. }
                | Command::ClusterBanAll { .. }
                | Command::ClusterLabelSpam { .. }
                | Command::ClusterRemoveMember { .. }
                | Command::ClusterWhitelistMember { .. }
        )
    }

    /// Whether the confirmation asks for a reason.
    pub fn takes_reason(&self) -> bool {
        self.reason().is_some()
    }

    pub fn reason(&self) -> Option<&str> {
        match self {
            Command::Ban { reason, .. }
            | Command::Strike { reason, .. }
            | Command::Forgive { reason, .. }
            | Command::Trust { reason, .. }
            | Command::Mute { reason, .. }
            | Command::ClusterBanAll { reason, .. } => Some(reason),
            _ => None,
        }
    }

    pub fn set_reason(&mut self, text: String) {
        match self {
            Command::Ban { reason, .. }
            | Command::Strike { reason, .. }
            | Command::Forgive { reason, .. }
            | Command::Trust { reason, .. }
            | Command::Mute { reason, .. }
            | Command::ClusterBanAll { reason, .. } => *reason = text,
            _ => {}
        }
    }

    /// The verb on the confirm button.
    pub fn verb(&self) -> &'static str {
        match self {
            Command::Ban { .. } => "Ban",
            Command::Strike { .. } => "Strike",
            Command::Forgive { .. } => "Forgive",
            Command::LabelSpam { .. } => "Label spam",
            Command::LabelHam { .. } => "Label ham",
            Command::UndoLabel { .. } => "Undo label",
            Command::Trust { .. } => "Trust",
            Command::Mute { .. } => "Mute",
            Command::Tag { on: true, .. } => "Tag",
            Command::Tag { on: false, .. } => "Untag",
            Command::Note { .. } => "Note",
            Command::StopPhrase { on: true, .. } => "Add stop phrase",
            Command::StopPhrase { on: false, .. } => "Remove stop phrase",
            Command::Bunker { on: true, .. } => "Bunker on",
            Command::Bunker { on: false, .. } => "Bunker off",
            Command::SlowMode { .. } => "Set slow mode",
            Command::AntiSpam { on: true, .. } => "Anti-spam on",
            Command::AntiSpam { on: false, .. } => "Anti-spam off",
            Command::OpenUser { .. } => "Open",
            Command::ClusterBanAll { .. } => "Ban all",
            Command::ClusterLabelSpam { .. } => "Label all spam",
            Command::ClusterRemoveMember { .. } => "Remove",
            Command::ClusterWhitelistMember { .. } => "Whitelist",
            Command::SaveRule { .. } => "Save",
            Command::ToggleRule { .. } => "Toggle",
            Command::AcceptAlert { .. } => "Add to dataset",
            Command::DismissAlert { .. } => "Dismiss",
            Command::RetryAlert { .. } => "Retry",
            Command::MouseCapture { .. } => "Mouse",
            Command::Suspend => "Suspend",
            Command::TogglePause => "Pause",
            Command::Login { .. } => "Log in",
            Command::PromptAnswer { .. } => "Answer",
            Command::Quit => "Quit",
        }
    }
}

/// A duration as moderators type it: `30s`, `10m`, `2h`, `7d`, `2w`, or bare seconds.
pub fn parse_duration(text: &str) -> Option<u64> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 = number.parse().ok()?;
    let factor = match unit {
        "" | "s" => 1,
        "m" | "min" => 60,
        "h" => 3_600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        _ => return None,
    };
    number.checked_mul(factor)
}

/// `604800` → "7d", `5400` → "1h30m".
pub fn format_duration(seconds: u64) -> String {
    if seconds == 0 {
        return "0s".into();
    }
    let units = [
        ("w", 7 * 86_400),
        ("d", 86_400),
        ("h", 3_600),
        ("m", 60),
        ("s", 1),
    ];
    let mut out = String::new();
    let mut left = seconds;
    for (name, size) in units {
        if left >= size {
            out.push_str(&format!("{}{name}", left / size));
            left %= size;
            if out.len() >= 4 {
                break;
            }
        }
    }
    out
}

/// What the parser needs to resolve names: the watched chats, a user lookup, and the chat of the
/// row in focus (used when a command names no chat).
pub struct CommandContext<'a> {
    pub chats: &'a [ChatInfo],
    pub find_user: &'a dyn Fn(&str) -> Option<UserId>,
    pub focused_chat: Option<ChatId>,
}

/// What a command line turns into: a command for the app, or something the console does itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    Command(Command),
    /// `:feed`, `:alerts`, …, or `:goto 3`.
    Goto(usize),
    Help,
    Freeze,
    Theme(String),
}

/// The verbs, for completion and "did you mean".
pub const VERBS: &[&str] = &[
    "ban",
    "strike",
    "forgive",
    "trust",
    "mute",
    "tag",
    "untag",
    "note",
    "stop",
    "unstop",
    "bunker",
    "antispam",
    "slow",
    "user",
    "login",
    "quit",
    "help",
    "freeze",
    "theme",
    "goto",
    "feed",
    "alerts",
    "clusters",
    "investigator",
    "rules",
    "history",
    "stats",
];

const USAGE_BAN: &str = ":ban <id|@user> [duration] [reason…]";
const USAGE_MUTE: &str = ":mute <id|@user> <duration> [reason…]";

/// Parses one command line (without the leading `:`). Errors are in words, ready for a toast.
pub fn parse_command_line(line: &str, ctx: &CommandContext) -> Result<Parsed, String> {
    let line = line.trim().trim_start_matches(':').trim();
    let mut words = line.split_whitespace();
    let Some(verb) = words.next() else {
        return Err("empty command: try :help".into());
    };
    let rest: Vec<&str> = words.collect();
    let verb = verb.to_lowercase();
    let (rest, chat_opt) = take_chat_option(&rest, ctx)?;
    let rest = rest.as_slice();
    let reason_from = |words: &[&str]| words.join(" ");
    match verb.as_str() {
        "q" | "q!" | "quit" | "exit" => Ok(Parsed::Command(Command::Quit)),
        "help" | "h" | "?" => Ok(Parsed::Help),
        "freeze" => Ok(Parsed::Freeze),
        "pause" | "resume" => Ok(Parsed::Command(Command::TogglePause)),
        "login" => match rest.first().map(|w| w.to_lowercase()).as_deref() {
            Some("user") => Ok(Parsed::Command(Command::Login { user_account: true })),
            Some("bot") => Ok(Parsed::Command(Command::Login {
                user_account: false,
            })),
            _ => Err("login needs an account: :login user|bot".into()),
        },
        "theme" => match rest.first() {
            Some(name) => Ok(Parsed::Theme(name.to_string())),
            None => Err("theme needs a name: :theme dark|light".into()),
        },
        "feed" => Ok(Parsed::Goto(0)),
        "alerts" => Ok(Parsed::Goto(1)),
        "clusters" => Ok(Parsed::Goto(2)),
        "investigator" | "inv" => Ok(Parsed::Goto(3)),
        "rules" => Ok(Parsed::Goto(4)),
        "history" => Ok(Parsed::Goto(5)),
        "stats" => Ok(Parsed::Goto(6)),
        "goto" | "go" => {
            let n = rest
                .first()
                .and_then(|w| w.parse::<usize>().ok())
                .filter(|n| (1..=7).contains(n))
                .ok_or("goto needs a pane number 1–7")?;
            Ok(Parsed::Goto(n - 1))
        }
        "ban" => {
            let user = user_arg(rest.first(), ctx, USAGE_BAN)?;
            let (duration, reason_at) = match rest.get(1) {
                Some(w) if is_permanent(w) => (None, 2),
                Some(w) if parse_duration(w).is_some() => (parse_duration(w), 2),
                Some(w) if looks_like_duration(w) => return Err(bad_duration(w)),
                _ => (None, 1),
            };
            Ok(Parsed::Command(Command::Ban {
                user,
                chat: chat_opt.or(ctx.focused_chat),
                duration,
                reason: reason_from(rest.get(reason_at..).unwrap_or_default()),
            }))
        }
        "mute" => {
            let user = user_arg(rest.first(), ctx, USAGE_MUTE)?;
            let word = rest
                .get(1)
                .ok_or_else(|| format!("mute needs a duration: {USAGE_MUTE}"))?;
            let seconds = parse_duration(word).ok_or_else(|| bad_duration(word))?;
            Ok(Parsed::Command(Command::Mute {
                user,
                chat: chat_opt.or(ctx.focused_chat),
                seconds,
                reason: reason_from(rest.get(2..).unwrap_or_default()),
            }))
        }
        "strike" | "warn" => {
            let user = user_arg(rest.first(), ctx, ":strike <id|@user> [reason…]")?;
            Ok(Parsed::Command(Command::Strike {
                user,
                chat: chat_opt.or(ctx.focused_chat),
                reason: reason_from(&rest[1..]),
            }))
        }
        "forgive" => {
            let user = user_arg(rest.first(), ctx, ":forgive <id|@user> [reason…]")?;
            Ok(Parsed::Command(Command::Forgive {
                user,
                reason: reason_from(&rest[1..]),
            }))
        }
        "trust" => {
            let user = user_arg(rest.first(), ctx, ":trust <id|@user> [reason…]")?;
            Ok(Parsed::Command(Command::Trust {
                user,
                reason: reason_from(&rest[1..]),
            }))
        }
        "tag" | "untag" => {
            let usage = format!(":{verb} <id|@user> <tag>");
            let user = user_arg(rest.first(), ctx, &usage)?;
            let tag = rest
                .get(1..)
                .map(|words| words.join(" "))
                .filter(|tag| !tag.is_empty())
                .ok_or_else(|| format!("which tag? {usage}"))?;
            Ok(Parsed::Command(Command::Tag {
                user,
                tag,
                on: verb == "tag",
            }))
        }
        "stop" | "unstop" => {
            let phrase = rest.join(" ");
            if phrase.trim().is_empty() {
                return Err(format!(
                    "which phrase? :{verb} <phrase…> (=phrase: the whole message)"
                ));
            }
            Ok(Parsed::Command(Command::StopPhrase {
                phrase,
                on: verb == "stop",
            }))
        }
        "note" => {
            let user = user_arg(
                rest.first(),
                ctx,
                ":note <id|@user> [text…] (no text clears)",
            )?;
            Ok(Parsed::Command(Command::Note {
                user,
                text: reason_from(&rest[1..]),
            }))
        }
        "user" | "open" | "whois" => {
            let user = user_arg(rest.first(), ctx, ":user <id|@user>")?;
            Ok(Parsed::Command(Command::OpenUser { user }))
        }
        "bunker" => {
            let (on, chat_words) = match rest.first().map(|w| w.to_lowercase()).as_deref() {
                Some("on") => (true, &rest[1..]),
                Some("off") => (false, &rest[1..]),
                _ => return Err("bunker needs on or off: :bunker on|off [chat]".into()),
            };
            let chat = chat_from_words(chat_words, chat_opt, ctx)?;
            Ok(Parsed::Command(Command::Bunker { chat, on }))
        }
        "antispam" => {
            let (on, chat_words) = match rest.first().map(|w| w.to_lowercase()).as_deref() {
                Some("on") => (true, &rest[1..]),
                Some("off") => (false, &rest[1..]),
                _ => return Err("antispam needs on or off: :antispam on|off [chat]".into()),
            };
            let chat = chat_from_words(chat_words, chat_opt, ctx)?;
            Ok(Parsed::Command(Command::AntiSpam { chat, on }))
        }
        "slow" | "slowmode" => {
            // `:slow <chat> 30`, `:slow 30` (focused chat) or `:slow <chat> off`.
            let (value, chat_words) = rest
                .split_last()
                .ok_or("slow needs seconds: :slow [chat] <seconds|off>")?;
            let seconds = if value.eq_ignore_ascii_case("off") {
                0
            } else {
                parse_duration(value).ok_or_else(|| bad_duration(value))?
            };
            let chat = chat_from_words(chat_words, chat_opt, ctx)?;
            Ok(Parsed::Command(Command::SlowMode { chat, seconds }))
        }
        other => Err(match suggest(other) {
            Some(verb) => format!("unknown command '{other}' — did you mean '{verb}'?"),
            None => format!("unknown command '{other}': try :help"),
        }),
    }
}

fn is_permanent(word: &str) -> bool {
    matches!(word, "perm" | "permanent" | "forever")
}

/// Starts with a digit: meant as a duration, so a typo must not become part of the reason.
fn looks_like_duration(word: &str) -> bool {
    word.chars().next().is_some_and(|c| c.is_ascii_digit())
}

fn bad_duration(word: &str) -> String {
    format!("'{word}' is not a duration (use 30s, 10m, 2h, 7d, 2w or perm)")
}

fn user_arg(word: Option<&&str>, ctx: &CommandContext, usage: &str) -> Result<UserId, String> {
    let word = word.ok_or_else(|| format!("which user? {usage}"))?;
    if let Ok(id) = word.parse::<UserId>() {
        return Ok(id);
    }
    (ctx.find_user)(word).ok_or_else(|| format!("unknown user '{word}' (use the numeric id)"))
}

/// Pulls `chat=<name>` out of the words.
fn take_chat_option<'w>(
    words: &[&'w str],
    ctx: &CommandContext,
) -> Result<(Vec<&'w str>, Option<ChatId>), String> {
    let mut rest = Vec::with_capacity(words.len());
    let mut chat = None;
    for word in words {
        match word.strip_prefix("chat=") {
            Some(name) => chat = Some(resolve_chat(name, ctx)?),
            None => rest.push(*word),
        }
    }
    Ok((rest, chat))
}

fn chat_from_words(
    words: &[&str],
    chat_opt: Option<ChatId>,
    ctx: &CommandContext,
) -> Result<ChatId, String> {
    if !words.is_empty() {
        return resolve_chat(&words.join(" "), ctx);
    }
    if let Some(chat) = chat_opt.or(ctx.focused_chat) {
        return Ok(chat);
    }
    match ctx.chats {
        [only] => Ok(only.id),
        _ => Err(format!("which chat? watched: {}", chat_names(ctx))),
    }
}

/// A chat by id, `@username`, or (unambiguous, case-insensitive) title prefix.
pub fn resolve_chat(name: &str, ctx: &CommandContext) -> Result<ChatId, String> {
    if let Ok(id) = name.parse::<ChatId>() {
        return Ok(id);
    }
    let wanted = name.trim_start_matches('@').to_lowercase();
    if let Some(chat) = ctx.chats.iter().find(|c| {
        c.username.as_deref().map(str::to_lowercase).as_deref() == Some(wanted.as_str())
            || c.title.to_lowercase() == wanted
    }) {
        return Ok(chat.id);
    }
    let matches: Vec<&ChatInfo> = ctx
        .chats
        .iter()
        .filter(|c| c.title.to_lowercase().starts_with(&wanted))
        .collect();
    match matches.as_slice() {
        [one] => Ok(one.id),
        [] => Err(format!(
            "unknown chat '{name}' (watched: {})",
            chat_names(ctx)
        )),
        _ => Err(format!("'{name}' matches several chats: be more precise")),
    }
}

fn chat_names(ctx: &CommandContext) -> String {
    if ctx.chats.is_empty() {
        return "none".into();
    }
    ctx.chats
        .iter()
        .map(|c| c.title.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Completes the verb being typed: the single verb starting with `prefix`, if exactly one does.
pub fn complete_verb(prefix: &str) -> Option<&'static str> {
    let mut matching = VERBS.iter().filter(|v| v.starts_with(prefix));
    let first = matching.next()?;
    matching.next().is_none().then_some(*first)
}

fn suggest(word: &str) -> Option<&'static str> {
    VERBS
        .iter()
        .map(|verb| (edit_distance(word, verb), *verb))
        .filter(|(distance, _)| *distance <= 2)
        .min()
        .map(|(_, verb)| verb)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            current.push(
                (previous[j] + cost)
                    .min(previous[j + 1] + 1)
                    .min(current[j] + 1),
            );
        }
        previous = current;
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chats() -> Vec<ChatInfo> {
        vec![
            ChatInfo {
                id: -100,
                title: "Rust Beginners".into(),
                username: Some("rustbeginners".into()),
                ..ChatInfo::default()
            },
            ChatInfo {
                id: -200,
                title: "Rust Jobs".into(),
                username: None,
                ..ChatInfo::default()
            },
        ]
    }

    fn parse(line: &str) -> Result<Parsed, String> {
        let chats = chats();
        let find = |h: &str| (h == "@spammer").then_some(42);
        let ctx = CommandContext {
            chats: &chats,
            find_user: &find,
            focused_chat: None,
        };
        parse_command_line(line, &ctx)
    }

    fn cmd(line: &str) -> Command {
        match parse(line) {
            Ok(Parsed::Command(c)) => c,
            other => panic!("{line}: {other:?}"),
        }
    }

    #[test]
    fn ban_with_duration_and_reason() {
        assert_eq!(
            cmd(":ban 123456 7d scam links"),
            Command::Ban {
                user: 123456,
                chat: None,
                duration: Some(7 * 86_400),
                reason: "scam links".into()
            }
        );
    }

    #[test]
    fn ban_without_duration_is_permanent_and_keeps_reason() {
        assert_eq!(
            cmd("ban @spammer crypto"),
            Command::Ban {
                user: 42,
                chat: None,
                duration: None,
                reason: "crypto".into()
            }
        );
        assert_eq!(
            cmd("ban 1 perm"),
            Command::Ban {
                user: 1,
                chat: None,
                duration: None,
                reason: String::new()
            }
        );
    }

    #[test]
    fn ban_in_named_chat() {
        assert!(matches!(
            cmd("ban 5 1h chat=@rustbeginners x"),
            Command::Ban {
                chat: Some(-100),
                duration: Some(3600),
                ..
            }
        ));
    }

    #[test]
    fn bad_duration_is_an_error_in_words() {
        let err = parse("ban 5 7x spam").unwrap_err();
        assert!(err.contains("'7x' is not a duration"), "{err}");
        let err = parse("mute 1").unwrap_err();
        assert!(err.contains("mute needs a duration"), "{err}");
    }

    #[test]
    fn mute_forgive_strike_trust() {
        assert_eq!(
            cmd(":mute 1 1h"),
            Command::Mute {
                user: 1,
                chat: None,
                seconds: 3600,
                reason: String::new()
            }
        );
        assert_eq!(
            cmd(":forgive 123456 appeal ok"),
            Command::Forgive {
                user: 123456,
                reason: "appeal ok".into()
            }
        );
        assert!(matches!(
            cmd("strike 9 flood"),
            Command::Strike { user: 9, .. }
        ));
        assert!(matches!(cmd("trust 9"), Command::Trust { user: 9, .. }));
    }

    #[test]
    fn stop_and_unstop_take_the_rest_of_the_line_as_the_phrase() {
        assert_eq!(
            cmd(":stop Продам гараж"),
            Command::StopPhrase {
                phrase: "Продам гараж".into(),
                on: true
            }
        );
        assert_eq!(
            cmd("unstop =hi all"),
            Command::StopPhrase {
                phrase: "=hi all".into(),
                on: false
            }
        );
        assert!(parse("stop").unwrap_err().contains("which phrase?"));
    }

    #[test]
    fn tag_untag_and_note() {
        assert_eq!(
            cmd(":tag @spammer crypto scam"),
            Command::Tag {
                user: 42,
                tag: "crypto scam".into(),
                on: true
            }
        );
        assert_eq!(
            cmd("untag 7 crypto"),
            Command::Tag {
                user: 7,
                tag: "crypto".into(),
                on: false
            }
        );
        assert!(parse("tag 7").unwrap_err().contains("which tag?"));
        assert_eq!(
            cmd("note 7 asked about refunds"),
            Command::Note {
                user: 7,
                text: "asked about refunds".into()
            }
        );
        assert_eq!(
            cmd("note 7"),
            Command::Note {
                user: 7,
                text: String::new()
            }
        );
    }

    #[test]
    fn antispam_names_a_chat() {
        assert_eq!(
            cmd(":antispam on rust jobs"),
            Command::AntiSpam {
                chat: -200,
                on: true
            }
        );
        assert!(parse("antispam maybe").unwrap_err().contains("on or off"));
    }

    #[test]
    fn bunker_and_slow_resolve_chats() {
        assert_eq!(
            cmd(":bunker on rust jobs"),
            Command::Bunker {
                chat: -200,
                on: true
            }
        );
        assert_eq!(
            cmd(":bunker off @rustbeginners"),
            Command::Bunker {
                chat: -100,
                on: false
            }
        );
        assert_eq!(
            cmd(":slow @rustbeginners 30"),
            Command::SlowMode {
                chat: -100,
                seconds: 30
            }
        );
        assert_eq!(
            cmd(":slow -200 off"),
            Command::SlowMode {
                chat: -200,
                seconds: 0
            }
        );
        let err = parse(":bunker on").unwrap_err();
        assert!(err.contains("which chat?"), "{err}");
        let err = parse(":bunker on Rust").unwrap_err();
        assert!(err.contains("several chats"), "{err}");
        let err = parse(":bunker on nope").unwrap_err();
        assert!(err.contains("unknown chat 'nope'"), "{err}");
    }

    #[test]
    fn user_quit_and_navigation() {
        assert_eq!(cmd(":user 123"), Command::OpenUser { user: 123 });
        assert_eq!(cmd(":q"), Command::Quit);
        assert_eq!(cmd(":pause"), Command::TogglePause);
        assert_eq!(parse(":freeze"), Ok(Parsed::Freeze));
        assert_eq!(parse(":rules"), Ok(Parsed::Goto(4)));
        assert_eq!(parse(":goto 7"), Ok(Parsed::Goto(6)));
        assert!(parse(":goto 9").is_err());
    }

    #[test]
    fn unknown_verbs_and_users_are_explained() {
        assert_eq!(
            parse(":bna 1").unwrap_err(),
            "unknown command 'bna' — did you mean 'ban'?"
        );
        assert!(
            parse(":ban @nobody")
                .unwrap_err()
                .contains("unknown user '@nobody'")
        );
        assert!(parse(":ban").unwrap_err().contains("which user?"));
        assert!(parse("").is_err());
    }

    #[test]
    fn durations_round_trip() {
        assert_eq!(parse_duration("30s"), Some(30));
        assert_eq!(parse_duration("10m"), Some(600));
        assert_eq!(parse_duration("2w"), Some(14 * 86_400));
        assert_eq!(parse_duration("45"), Some(45));
        assert_eq!(parse_duration("h"), None);
        assert_eq!(parse_duration("99999999999999999999d"), None);
        assert_eq!(format_duration(7 * 86_400), "1w");
        assert_eq!(format_duration(5_400), "1h30m");
    }

    #[test]
    fn completion_needs_a_unique_prefix() {
        assert_eq!(complete_verb("ba"), Some("ban"));
        assert_eq!(complete_verb("s"), None);
        assert_eq!(complete_verb("sl"), Some("slow"));
    }
}
