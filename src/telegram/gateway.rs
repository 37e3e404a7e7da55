//! `TelegramGateway`: carries out [`Action`]s on the right account, behind a per-account flood
//! gate, and words every failure for a moderator.
//!
//! `Gateway::execute` is synchronous: it blocks on a tokio `Handle`, so call it from the executor's
//! own thread (never from inside an async task).

use super::admin::ReportButton;
use super::api::{AccountKind, ModerationApi, OutgoingMessage, Rights, TgError};
use crate::action::{Action, ActionKind, Gateway, GatewayError, Poster};
use crate::model::{ButtonPress, ChatId, MessageId, Timestamp};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet, VecDeque};

/// Slow-mode steps Telegram accepts.
const SLOW_MODE_STEPS: [u64; 7] = [0, 10, 30, 60, 300, 900, 3600];
/// How many completed idempotency keys are remembered.
const DONE_KEYS: usize = 4096;

/// A chat's containment level as the gateway applied it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Containment {
    Bunker,
    Lockdown,
}

/// The default rights a chat had before Warden contained it; restored exactly on release.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RightsSnapshot {
    pub previous: Rights,
    pub level: Containment,
}

pub struct TelegramGateway<A: ModerationApi + Clone> {
    runtime: tokio::runtime::Handle,
    bot: Option<A>,
    user: Option<A>,
    flood_until: HashMap<AccountKind, Timestamp>,
    snapshots: HashMap<ChatId, RightsSnapshot>,
    chat_titles: HashMap<ChatId, String>,
    admin_chat: Option<ChatId>,
    done: HashSet<String>,
    done_order: VecDeque<String>,
    /// Admin-chat message id → what the report is about, for `/spam` `/ham` `/check` replies.
    reports: HashMap<i32, ReportTarget>,
    reports_order: VecDeque<i32>,
}

/// The message a report in the admin chat is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportTarget {
    pub chat_id: ChatId,
    pub message_id: crate::model::MessageId,
    pub user_id: crate::model::UserId,
}

impl<A: ModerationApi + Clone> TelegramGateway<A> {
    pub fn new(runtime: tokio::runtime::Handle, bot: Option<A>, user: Option<A>) -> Self {
        TelegramGateway {
            runtime,
            bot,
            user,
            flood_until: HashMap::new(),
            snapshots: HashMap::new(),
            chat_titles: HashMap::new(),
            admin_chat: None,
            done: HashSet::new(),
            done_order: VecDeque::new(),
            reports: HashMap::new(),
            reports_order: VecDeque::new(),
        }
    }

    /// Where `NotifyAdmin` and `RaidAlert` go.
    pub fn set_admin_chat(&mut self, chat: Option<ChatId>) {
        self.admin_chat = chat;
    }

    /// Names chats in error messages (feed it from `Event::ChatSeen`).
    pub fn set_chat_title(&mut self, chat: ChatId, title: impl Into<String>) {
        self.chat_titles.insert(chat, title.into());
    }

    /// When the account may call Telegram again; the console shows the countdown.
    pub fn flood_wait_until(&self, account: AccountKind, now: Timestamp) -> Option<Timestamp> {
        self.flood_until
            .get(&account)
            .copied()
            .filter(|&until| until > now)
    }

    /// Snapshots of contained chats, to persist across restarts.
    pub fn snapshots(&self) -> &HashMap<ChatId, RightsSnapshot> {
        &self.snapshots
    }

    /// Restores persisted snapshots at startup.
    pub fn restore_snapshots(&mut self, snapshots: HashMap<ChatId, RightsSnapshot>) {
        self.snapshots = snapshots;
    }

    fn chat_label(&self, chat: ChatId) -> String {
        match self.chat_titles.get(&chat) {
            Some(title) => format!("\"{title}\" ({chat})"),
            None => format!("chat {chat}"),
        }
    }

    fn api(&self, account: AccountKind) -> Option<&A> {
        match account {
            AccountKind::Bot => self.bot.as_ref(),
            AccountKind::User => self.user.as_ref(),
        }
    }

    /// Accounts to try, in order: the bot first (it is what members expect to act), then the user.
    fn accounts(&self, user_only: bool) -> Vec<AccountKind> {
        let order: &[AccountKind] = if user_only {
            &[AccountKind::User]
        } else {
            &[AccountKind::Bot, AccountKind::User]
        };
        order
            .iter()
            .copied()
            .filter(|a| self.api(*a).is_some())
            .collect()
    }

    /// Runs one call on the first usable account; falls over to the other account when the first
    /// lacks rights or is flood-gated.
    fn run<T, F, Fut>(
        &mut self,
        now: Timestamp,
        user_only: bool,
        what: &str,
        chat: ChatId,
        call: F,
    ) -> Result<T, GatewayError>
    where
        F: Fn(A) -> Fut,
        Fut: Future<Output = Result<T, TgError>>,
    {
        let accounts = self.accounts(user_only);
        if accounts.is_empty() {
            return Err(GatewayError::Permanent(if user_only {
                format!(
                    "cannot {what} in {}: the user account is not logged in",
                    self.chat_label(chat)
                )
            } else {
                format!("cannot {what}: no Telegram account is logged in")
            }));
        }
        let mut last = None;
        for account in accounts {
            if let Some(until) = self.flood_wait_until(account, now) {
                last = Some(GatewayError::FloodWait {
                    seconds: (until - now) as u64,
                });
                continue;
            }
            let api = self.api(account).expect("listed accounts exist").clone();
            let result = self.runtime.block_on(call(api));
            match result {
                Ok(value) => return Ok(value),
                Err(TgError::FloodWait { seconds }) => {
                    self.flood_until.insert(account, now + seconds as i64);
                    tracing::warn!(%account, seconds, "flood wait; gate closed");
                    last = Some(GatewayError::FloodWait { seconds });
                }
                Err(err @ (TgError::NotAdmin | TgError::Unsupported(_) | TgError::LoggedOut)) => {
                    last = Some(self.describe(account, what, chat, err));
                }
                Err(err) => return Err(self.describe(account, what, chat, err)),
            }
        }
        Err(last.expect("at least one account was tried"))
    }

    /// Words a moderator understands.
    fn describe(
        &self,
        account: AccountKind,
        what: &str,
        chat: ChatId,
        err: TgError,
    ) -> GatewayError {
        let chat = self.chat_label(chat);
        match err {
            TgError::FloodWait { seconds } => GatewayError::FloodWait { seconds },
            TgError::Network(why) => {
                GatewayError::Transient(format!("cannot {what} in {chat} right now: {why}"))
            }
            TgError::NotAdmin => GatewayError::Permanent(format!(
                "the {account} is not an admin in {chat} (or lacks the right): cannot {what}"
            )),
            TgError::TargetIsAdmin => {
                GatewayError::Permanent(format!("the target is an admin of {chat}: cannot {what}"))
            }
            TgError::NotParticipant => GatewayError::Permanent(format!(
                "the user is not a member of {chat}: cannot {what}"
            )),
            TgError::NotFound(thing) => GatewayError::Permanent(format!(
                "{thing} (as the {account} sees {chat}): cannot {what}"
            )),
            TgError::Unsupported(why) => {
                GatewayError::Permanent(format!("cannot {what} in {chat}: {why}"))
            }
            TgError::LoggedOut => GatewayError::Permanent(format!(
                "the {account} account is logged out: run `warden login {account}`"
            )),
            TgError::NotModified => {
                GatewayError::Permanent(format!("cannot {what} in {chat}: nothing to change"))
            }
            TgError::Rpc { code, name } => {
                let text =
                    format!("Telegram refused to {what} in {chat} for the {account}: {name}");
                if code >= 500 {
                    GatewayError::Transient(text)
                } else {
                    GatewayError::Permanent(text)
                }
            }
        }
    }

    fn remember(&mut self, key: &str) {
        if key.is_empty() || !self.done.insert(key.to_string()) {
            return;
        }
        self.done_order.push_back(key.to_string());
        if self.done_order.len() > DONE_KEYS
            && let Some(old) = self.done_order.pop_front()
        {
            self.done.remove(&old);
        }
    }

    /// Turns Telegram's aggressive anti-spam on or off (user account only).
    pub fn set_aggressive_antispam(
        &mut self,
        chat: ChatId,
        enabled: bool,
        now: Timestamp,
    ) -> Result<(), GatewayError> {
        let what = if enabled {
            "turn on aggressive anti-spam"
        } else {
            "turn off aggressive anti-spam"
        };
        self.run(now, true, what, chat, move |api: A| async move {
            unchanged_ok(api.set_antispam(chat, enabled).await)
        })
    }

    fn contain(
        &mut self,
        chat: ChatId,
        level: Containment,
        now: Timestamp,
    ) -> Result<(), GatewayError> {
        let what = match level {
            Containment::Bunker => "turn on bunker mode",
            Containment::Lockdown => "lock the chat down",
        };
        // The first containment's snapshot is the one to restore; later ones only tighten.
        let previous = match self.snapshots.get(&chat) {
            Some(snapshot) => snapshot.previous,
            None => self.run(now, false, what, chat, move |api: A| async move {
                api.default_rights(chat).await
            })?,
        };
        let extra = match level {
            Containment::Bunker => Rights::media_locked(),
            Containment::Lockdown => Rights::read_only(),
        };
        let target = previous.union(extra);
        self.snapshots
            .insert(chat, RightsSnapshot { previous, level });
        self.run(now, false, what, chat, move |api: A| async move {
            unchanged_ok(api.set_default_rights(chat, target).await)
        })
    }

    fn release(
        &mut self,
        chat: ChatId,
        level: Containment,
        now: Timestamp,
    ) -> Result<(), GatewayError> {
        let Some(snapshot) = self.snapshots.get(&chat).copied() else {
            tracing::info!(
                chat,
                ?level,
                "release without a snapshot: nothing to restore"
            );
            return Ok(());
        };
        // Lifting bunker while locked down keeps the lockdown.
        if level == Containment::Bunker && snapshot.level == Containment::Lockdown {
            return Ok(());
        }
        let what = "restore the chat's previous permissions";
        self.run(now, false, what, chat, move |api: A| async move {
            unchanged_ok(api.set_default_rights(chat, snapshot.previous).await)
        })?;
        self.snapshots.remove(&chat);
        Ok(())
    }

    /// Posts to the admin chat; a report about a user's message carries the Ban / Not spam / Info
    /// buttons the admin desk answers.
    fn notify(
        &mut self,
        action: &Action,
        text: String,
        now: Timestamp,
    ) -> Result<(), GatewayError> {
        let chat = action.chat_id;
        let Some(admin_chat) = self.admin_chat else {
            return Ok(());
        };
        let mut buttons = Vec::new();
        if let (Some(user), Some(message)) = (action.user_id, action.message_id) {
            buttons.push(vec![
                ("Ban".to_string(), ReportButton::Ban { chat, user }.encode()),
                (
                    "Not spam".to_string(),
                    ReportButton::NotSpam {
                        chat,
                        message,
                        user,
                    }
                    .encode(),
                ),
                (
                    "Info".to_string(),
                    ReportButton::Info { chat, message }.encode(),
                ),
            ]);
        }
        let message = OutgoingMessage {
            text: format!("{} — {text}", self.chat_label(chat)),
            buttons,
            reply_to: None,
        };
        let posted = self.post(admin_chat, message, now)?;
        if let (Some(user_id), Some(message_id)) = (action.user_id, action.message_id) {
            let target = ReportTarget {
                chat_id: chat,
                message_id,
                user_id,
            };
            self.reports.insert(posted, target);
            self.reports_order.push_back(posted);
            if self.reports_order.len() > DONE_KEYS
                && let Some(old) = self.reports_order.pop_front()
            {
                self.reports.remove(&old);
            }
        }
        Ok(())
    }

    /// What the report posted as admin-chat message `id` is about (recent reports only).
    pub fn report_target(&self, id: crate::model::MessageId) -> Option<ReportTarget> {
        i32::try_from(id)
            .ok()
            .and_then(|id| self.reports.get(&id).copied())
    }

    /// Posts a message (admin desk answers, reports) through the first usable account; returns
    /// the posted message's id.
    pub fn post(
        &mut self,
        chat: ChatId,
        message: OutgoingMessage,
        now: Timestamp,
    ) -> Result<i32, GatewayError> {
        self.run(now, false, "post a message", chat, move |api: A| {
            let message = message.clone();
            async move { api.send_message(chat, message).await }
        })
    }
}

/// Setting what is already set counts as done.
fn unchanged_ok(result: Result<(), TgError>) -> Result<(), TgError> {
    match result {
        Err(TgError::NotModified) => Ok(()),
        other => other,
    }
}

fn require<T>(value: Option<T>, what: &str, kind: &ActionKind) -> Result<T, GatewayError> {
    value.ok_or_else(|| {
        GatewayError::Permanent(format!(
            "{} needs a {what}, and the action has none",
            kind.name()
        ))
    })
}

fn slow_mode_step(seconds: u64) -> i32 {
    SLOW_MODE_STEPS
        .iter()
        .copied()
        .find(|&step| step >= seconds)
        .unwrap_or(3600) as i32
}

impl<A: ModerationApi + Clone> Poster for TelegramGateway<A> {
    fn post(
        &mut self,
        chat: ChatId,
        message: OutgoingMessage,
        now: Timestamp,
    ) -> Result<MessageId, GatewayError> {
        TelegramGateway::post(self, chat, message, now).map(MessageId::from)
    }

    fn unpost(
        &mut self,
        chat: ChatId,
        message: MessageId,
        now: Timestamp,
    ) -> Result<(), GatewayError> {
        self.delete_one(chat, message, "delete Warden's message", now)
    }

    fn answer(
        &mut self,
        press: &ButtonPress,
        text: &str,
        now: Timestamp,
    ) -> Result<(), GatewayError> {
        if press.query_id == 0 {
            return Ok(());
        }
        let (query_id, text) = (
            press.query_id,
            Some(text.to_string()).filter(|t| !t.is_empty()),
        );
        self.run(
            now,
            false,
            "answer a button",
            press.chat_id,
            move |api: A| {
                let text = text.clone();
                async move { api.answer_button(query_id, text).await }
            },
        )
    }
}

impl<A: ModerationApi + Clone> TelegramGateway<A> {
    /// 0 deleted = already gone: the goal is reached.
    fn delete_one(
        &mut self,
        chat: ChatId,
        message: MessageId,
        what: &str,
        now: Timestamp,
    ) -> Result<(), GatewayError> {
        let id = i32::try_from(message).map_err(|_| {
            GatewayError::Permanent(format!("message id {message} is out of range"))
        })?;
        self.run(now, false, what, chat, move |api: A| async move {
            api.delete_messages(chat, vec![id]).await
        })
        .map(|_| ())
    }
}

impl<A: ModerationApi + Clone> Gateway for TelegramGateway<A> {
    fn execute(&mut self, action: &Action, now: Timestamp) -> Result<(), GatewayError> {
        if !action.idempotency_key.is_empty() && self.done.contains(&action.idempotency_key) {
            return Ok(());
        }
        let chat = action.chat_id;
        let kind = &action.kind;
        let result = match kind {
            ActionKind::Delete | ActionKind::DeleteSilently => {
                let id = require(action.message_id, "message id", kind)?;
                self.delete_one(chat, id, "delete the message", now)
            }
            ActionKind::Purge => {
                let user = require(action.user_id, "user", kind)?;
                self.run(
                    now,
                    false,
                    "delete the user's messages",
                    chat,
                    move |api: A| async move { api.purge_user(chat, user).await },
                )
            }
            ActionKind::Mute { seconds } => {
                let user = require(action.user_id, "user", kind)?;
                let until = now + *seconds as i64;
                self.run(now, false, "mute", chat, move |api: A| async move {
                    api.restrict(chat, user, Rights::read_only(), Some(until))
                        .await
                })
            }
            ActionKind::Restrict => {
                let user = require(action.user_id, "user", kind)?;
                self.run(now, false, "restrict", chat, move |api: A| async move {
                    api.restrict(chat, user, Rights::read_only(), None).await
                })
            }
            ActionKind::Ban { seconds } => {
                let user = require(action.user_id, "user", kind)?;
                let until = seconds.map(|s| now + s as i64);
                self.run(now, false, "ban", chat, move |api: A| async move {
                    api.restrict(chat, user, Rights::ban(), until).await
                })
            }
            ActionKind::Unban | ActionKind::Unrestrict => {
                let user = require(action.user_id, "user", kind)?;
                let what = if *kind == ActionKind::Unban {
                    "unban"
                } else {
                    "lift the restriction"
                };
                self.run(now, false, what, chat, move |api: A| async move {
                    api.restrict(chat, user, Rights::none(), None).await
                })
            }
            ActionKind::Kick => {
                let user = require(action.user_id, "user", kind)?;
                self.run(now, false, "kick", chat, move |api: A| async move {
                    api.kick(chat, user).await
                })
            }
            ActionKind::BunkerOn => self.contain(chat, Containment::Bunker, now),
            ActionKind::LockdownOn => self.contain(chat, Containment::Lockdown, now),
            ActionKind::BunkerOff => self.release(chat, Containment::Bunker, now),
            ActionKind::LockdownOff => self.release(chat, Containment::Lockdown, now),
            ActionKind::SlowMode { seconds } => {
                let step = slow_mode_step(*seconds);
                self.run(
                    now,
                    false,
                    "set slow mode",
                    chat,
                    move |api: A| async move { unchanged_ok(api.slow_mode(chat, step).await) },
                )
            }
            ActionKind::Warn => {
                let message = OutgoingMessage {
                    text: format!("⚠️ {}", action.reason),
                    reply_to: action.message_id.and_then(|id| i32::try_from(id).ok()),
                    ..Default::default()
                };
                self.run(now, false, "post a warning", chat, move |api: A| {
                    let message = message.clone();
                    async move { api.send_message(chat, message).await }
                })
                .map(|_| ())
            }
            ActionKind::AntiSpamOn | ActionKind::AntiSpamOff => {
                self.set_aggressive_antispam(chat, *kind == ActionKind::AntiSpamOn, now)
            }
            ActionKind::NotifyAdmin | ActionKind::RaidAlert => {
                let text = if *kind == ActionKind::RaidAlert {
                    format!("🚨 raid: {}", action.reason)
                } else {
                    action.reason.clone()
                };
                self.notify(action, text, now)
            }
            // Warden's own bookkeeping: nothing goes to Telegram.
            ActionKind::Strike
            | ActionKind::Trust
            | ActionKind::LabelSpam
            | ActionKind::LabelHam
            | ActionKind::ShadowMute
            | ActionKind::Throttle { .. } => Ok(()),
        };
        if result.is_ok() {
            self.remember(&action.idempotency_key);
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::action::Actor;
    use crate::model::UserId;
    use std::sync::{Arc, Mutex};

    #[derive(Debug, Clone, PartialEq)]
    enum Call {
        Delete(ChatId, Vec<i32>),
        Restrict(ChatId, UserId, Rights, Option<Timestamp>),
        Kick(ChatId, UserId),
        Purge(ChatId, UserId),
        DefaultRights(ChatId),
        SetDefaultRights(ChatId, Rights),
        SlowMode(ChatId, i32),
        Antispam(ChatId, bool),
        Send(ChatId, String),
        Answer(i64, Option<String>),
    }

    /// Records calls; answers each with the next scripted error, else success.
    #[derive(Clone, Default)]
    struct Fake {
        calls: Arc<Mutex<Vec<Call>>>,
        failures: Arc<Mutex<VecDeque<TgError>>>,
        defaults: Arc<Mutex<Rights>>,
    }

    impl Fake {
        fn fail_next(&self, err: TgError) {
            self.failures.lock().unwrap().push_back(err);
        }
        fn calls(&self) -> Vec<Call> {
            self.calls.lock().unwrap().clone()
        }
        fn record(&self, call: Call) -> Result<(), TgError> {
            self.calls.lock().unwrap().push(call);
            match self.failures.lock().unwrap().pop_front() {
                Some(err) => Err(err),
                None => Ok(()),
            }
        }
    }

    impl ModerationApi for Fake {
        async fn delete_messages(&self, chat: ChatId, ids: Vec<i32>) -> Result<usize, TgError> {
            let n = ids.len();
            self.record(Call::Delete(chat, ids)).map(|_| n)
        }
        async fn restrict(
            &self,
            chat: ChatId,
            user: UserId,
            rights: Rights,
            until: Option<Timestamp>,
        ) -> Result<(), TgError> {
            self.record(Call::Restrict(chat, user, rights, until))
        }
        async fn kick(&self, chat: ChatId, user: UserId) -> Result<(), TgError> {
            self.record(Call::Kick(chat, user))
        }
        async fn purge_user(&self, chat: ChatId, user: UserId) -> Result<(), TgError> {
            self.record(Call::Purge(chat, user))
        }
        async fn default_rights(&self, chat: ChatId) -> Result<Rights, TgError> {
            self.record(Call::DefaultRights(chat))?;
            Ok(*self.defaults.lock().unwrap())
        }
        async fn set_default_rights(&self, chat: ChatId, rights: Rights) -> Result<(), TgError> {
            self.record(Call::SetDefaultRights(chat, rights))?;
            *self.defaults.lock().unwrap() = rights;
            Ok(())
        }
        async fn slow_mode(&self, chat: ChatId, seconds: i32) -> Result<(), TgError> {
            self.record(Call::SlowMode(chat, seconds))
        }
        async fn set_antispam(&self, chat: ChatId, enabled: bool) -> Result<(), TgError> {
            self.record(Call::Antispam(chat, enabled))
        }
        async fn send_message(&self, chat: ChatId, m: OutgoingMessage) -> Result<i32, TgError> {
            self.record(Call::Send(chat, m.text)).map(|_| 1)
        }
        async fn answer_button(&self, query_id: i64, text: Option<String>) -> Result<(), TgError> {
            self.record(Call::Answer(query_id, text))
        }
    }

    const CHAT: ChatId = -1001;
    const NOW: Timestamp = 1_700_000_000;

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
    }

    fn action(kind: ActionKind, key: &str) -> Action {
        Action {
            kind,
            chat_id: CHAT,
            user_id: Some(42),
            message_id: Some(7),
            reason: "spam link".into(),
            requested_by: Actor::Rule("links".into()),
            idempotency_key: key.into(),
        }
    }

    #[test]
    fn actions_become_the_right_calls() {
        let rt = runtime();
        let bot = Fake::default();
        let mut gw = TelegramGateway::new(rt.handle().clone(), Some(bot.clone()), None);
        for (i, kind) in [
            ActionKind::Delete,
            ActionKind::Ban { seconds: None },
            ActionKind::Ban {
                seconds: Some(3600),
            },
            ActionKind::Mute { seconds: 600 },
            ActionKind::Unban,
            ActionKind::Kick,
            ActionKind::Purge,
            ActionKind::SlowMode { seconds: 45 },
            ActionKind::Strike,
        ]
        .into_iter()
        .enumerate()
        {
            gw.execute(&action(kind, &format!("k{i}")), NOW).unwrap();
        }
        assert_eq!(
            bot.calls(),
            vec![
                Call::Delete(CHAT, vec![7]),
                Call::Restrict(CHAT, 42, Rights::ban(), None),
                Call::Restrict(CHAT, 42, Rights::ban(), Some(NOW + 3600)),
                Call::Restrict(CHAT, 42, Rights::read_only(), Some(NOW + 600)),
                Call::Restrict(CHAT, 42, Rights::none(), None),
                Call::Kick(CHAT, 42),
                Call::Purge(CHAT, 42),
                Call::SlowMode(CHAT, 60),
            ]
        );
    }

    #[test]
    fn reports_go_to_the_admin_chat_and_are_remembered_for_replies() {
        let rt = runtime();
        let bot = Fake::default();
        let mut gw = TelegramGateway::new(rt.handle().clone(), Some(bot.clone()), None);
        gw.execute(&action(ActionKind::NotifyAdmin, "n0"), NOW)
            .unwrap();
        assert!(
            bot.calls().is_empty(),
            "no admin chat configured: nothing posted"
        );
        gw.set_admin_chat(Some(-900));
        gw.execute(&action(ActionKind::NotifyAdmin, "n1"), NOW)
            .unwrap();
        assert_eq!(
            bot.calls(),
            vec![Call::Send(-900, "chat -1001 — spam link".into())]
        );
        // The fake posts every message as id 1.
        let target = gw.report_target(1).expect("the report is remembered");
        assert_eq!(
            (target.chat_id, target.message_id, target.user_id),
            (CHAT, 7, 42)
        );
        assert_eq!(gw.report_target(2), None);
    }

    #[test]
    fn same_idempotency_key_runs_once() {
        let rt = runtime();
        let bot = Fake::default();
        let mut gw = TelegramGateway::new(rt.handle().clone(), Some(bot.clone()), None);
        let ban = action(ActionKind::Ban { seconds: None }, "ban-42");
        gw.execute(&ban, NOW).unwrap();
        gw.execute(&ban, NOW + 5).unwrap();
        assert_eq!(bot.calls().len(), 1);
    }

    #[test]
    fn flood_wait_closes_the_gate_until_it_passes() {
        let rt = runtime();
        let bot = Fake::default();
        let mut gw = TelegramGateway::new(rt.handle().clone(), Some(bot.clone()), None);
        bot.fail_next(TgError::FloodWait { seconds: 120 });
        let ban = action(ActionKind::Ban { seconds: None }, "b1");
        assert_eq!(
            gw.execute(&ban, NOW),
            Err(GatewayError::FloodWait { seconds: 120 })
        );
        assert_eq!(gw.flood_wait_until(AccountKind::Bot, NOW), Some(NOW + 120));
        // While gated, nothing reaches Telegram and the countdown shrinks.
        assert_eq!(
            gw.execute(&ban, NOW + 100),
            Err(GatewayError::FloodWait { seconds: 20 })
        );
        assert_eq!(bot.calls().len(), 1);
        assert_eq!(gw.flood_wait_until(AccountKind::Bot, NOW + 120), None);
        gw.execute(&ban, NOW + 121).unwrap();
        assert_eq!(bot.calls().len(), 2);
    }

    #[test]
    fn failures_are_worded_and_classified() {
        let rt = runtime();
        let bot = Fake::default();
        let mut gw = TelegramGateway::new(rt.handle().clone(), Some(bot.clone()), None);
        gw.set_chat_title(CHAT, "Rust Lovers");
        bot.fail_next(TgError::NotAdmin);
        let err = gw
            .execute(&action(ActionKind::Ban { seconds: None }, "x1"), NOW)
            .unwrap_err();
        assert_eq!(
            err,
            GatewayError::Permanent(
                "the bot is not an admin in \"Rust Lovers\" (-1001) (or lacks the right): cannot ban"
                    .into()
            )
        );
        bot.fail_next(TgError::Network("connection reset".into()));
        assert!(matches!(
            gw.execute(&action(ActionKind::Kick, "x2"), NOW),
            Err(GatewayError::Transient(_))
        ));
        // A failed action is not remembered: the retry goes out.
        gw.execute(&action(ActionKind::Kick, "x2"), NOW).unwrap();
        bot.fail_next(TgError::TargetIsAdmin);
        let err = gw.execute(&action(ActionKind::Mute { seconds: 60 }, "x3"), NOW);
        assert!(matches!(err, Err(GatewayError::Permanent(t)) if t.contains("is an admin")));
    }

    #[test]
    fn falls_over_to_the_user_account_where_the_bot_is_not_admin() {
        let rt = runtime();
        let (bot, user) = (Fake::default(), Fake::default());
        let mut gw =
            TelegramGateway::new(rt.handle().clone(), Some(bot.clone()), Some(user.clone()));
        bot.fail_next(TgError::NotAdmin);
        gw.execute(&action(ActionKind::Kick, "k"), NOW).unwrap();
        assert_eq!(bot.calls(), vec![Call::Kick(CHAT, 42)]);
        assert_eq!(user.calls(), vec![Call::Kick(CHAT, 42)]);
    }

    #[test]
    fn bunker_and_lockdown_restore_the_exact_previous_rights() {
        let rt = runtime();
        let bot = Fake::default();
        let previous = Rights {
            send_polls: true,
            pin_messages: true,
            change_info: true,
            ..Rights::none()
        };
        *bot.defaults.lock().unwrap() = previous;
        let mut gw = TelegramGateway::new(rt.handle().clone(), Some(bot.clone()), None);
        gw.execute(&action(ActionKind::BunkerOn, "b-on"), NOW)
            .unwrap();
        assert_eq!(
            *bot.defaults.lock().unwrap(),
            previous.union(Rights::media_locked())
        );
        gw.execute(&action(ActionKind::LockdownOn, "l-on"), NOW)
            .unwrap();
        assert_eq!(
            *bot.defaults.lock().unwrap(),
            previous.union(Rights::read_only())
        );
        // Lifting bunker under lockdown keeps the lockdown.
        gw.execute(&action(ActionKind::BunkerOff, "b-off"), NOW)
            .unwrap();
        assert_eq!(
            *bot.defaults.lock().unwrap(),
            previous.union(Rights::read_only())
        );
        gw.execute(&action(ActionKind::LockdownOff, "l-off"), NOW)
            .unwrap();
        assert_eq!(*bot.defaults.lock().unwrap(), previous);
        assert!(gw.snapshots().is_empty());
        // The rights were read once: the second containment reused the first snapshot.
        let reads = bot
            .calls()
            .into_iter()
            .filter(|c| matches!(c, Call::DefaultRights(_)))
            .count();
        assert_eq!(reads, 1);
    }

    #[test]
    fn unchanged_rights_count_as_done() {
        let rt = runtime();
        let bot = Fake::default();
        let mut gw = TelegramGateway::new(rt.handle().clone(), Some(bot.clone()), None);
        bot.fail_next(TgError::NotModified);
        gw.execute(&action(ActionKind::SlowMode { seconds: 30 }, "s"), NOW)
            .unwrap();
    }

    #[test]
    fn antispam_needs_the_user_account() {
        let rt = runtime();
        let bot = Fake::default();
        let mut gw = TelegramGateway::new(rt.handle().clone(), Some(bot.clone()), None);
        let err = gw.set_aggressive_antispam(CHAT, true, NOW).unwrap_err();
        assert!(matches!(err, GatewayError::Permanent(t) if t.contains("user account")));
        assert!(bot.calls().is_empty());
        let user = Fake::default();
        let mut gw = TelegramGateway::new(rt.handle().clone(), Some(bot), Some(user.clone()));
        gw.set_aggressive_antispam(CHAT, true, NOW).unwrap();
        // The same through the outbox's action vocabulary.
        gw.execute(&action(ActionKind::AntiSpamOff, "as-off"), NOW)
            .unwrap();
        assert_eq!(
            user.calls(),
            vec![Call::Antispam(CHAT, true), Call::Antispam(CHAT, false)]
        );
    }

    #[test]
    fn warden_posts_deletes_and_answers_its_own_buttons() {
        let rt = runtime();
        let bot = Fake::default();
        let mut gw = TelegramGateway::new(rt.handle().clone(), Some(bot.clone()), None);
        let challenge = OutgoingMessage {
            text: "Press the cat".into(),
            ..OutgoingMessage::default()
        };
        let id = Poster::post(&mut gw, CHAT, challenge, NOW).unwrap();
        gw.unpost(CHAT, id, NOW).unwrap();
        let press = |query_id| ButtonPress {
            chat_id: CHAT,
            message_id: id,
            user_id: 42,
            data: "c:42:1".into(),
            date: NOW,
            query_id,
        };
        gw.answer(&press(77), "Welcome!", NOW).unwrap();
        gw.answer(&press(78), "", NOW).unwrap();
        // A press Telegram gave no id for (the simulator's) needs no answer.
        gw.answer(&press(0), "Welcome!", NOW).unwrap();
        assert_eq!(
            bot.calls(),
            vec![
                Call::Send(CHAT, "Press the cat".into()),
                Call::Delete(CHAT, vec![1]),
                Call::Answer(77, Some("Welcome!".into())),
                Call::Answer(78, None),
            ]
        );
    }

    #[test]
    fn missing_fields_are_permanent_errors() {
        let rt = runtime();
        let mut gw = TelegramGateway::new(rt.handle().clone(), Some(Fake::default()), None);
        let mut ban = action(ActionKind::Ban { seconds: None }, "m");
        ban.user_id = None;
        assert!(
            matches!(gw.execute(&ban, NOW), Err(GatewayError::Permanent(t)) if t.contains("user"))
        );
        let mut gw: TelegramGateway<Fake> = TelegramGateway::new(rt.handle().clone(), None, None);
        assert!(matches!(
            gw.execute(&action(ActionKind::Kick, "n"), NOW),
            Err(GatewayError::Permanent(t)) if t.contains("no Telegram account")
        ));
    }
}
