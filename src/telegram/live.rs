//! A live connection: both accounts (each optional) connected, their update tasks feeding one
//! channel, and the [`TelegramGateway`] that acts through them. The app's runtime thread drains
//! [`LiveConnection::try_next`] and runs the executor on [`LiveConnection::gateway`].

use super::api::AccountKind;
use super::client::{Account, GrammersApi, GrammersLogin, Investigation, connect};
use super::config::TelegramConfig;
use super::gateway::TelegramGateway;
use super::login::login_bot;
use super::updates::{Inbound, MapContext, map_admin_log_event};
use crate::config::Secrets;
use crate::model::{ChatId, Event, ListedMember, UserId};
use anyhow::{Context, Result, bail};
use grammers_client::tl;
use std::collections::HashMap;
use std::collections::{HashSet, VecDeque};
use std::path::Path;
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;

/// Updates waiting for the runtime thread; beyond this the update tasks wait (backpressure).
const INBOUND_CAPACITY: usize = 10_000;
/// How many recent event keys are remembered to drop the copy the other account also received.
const DEDUPE_KEYS: usize = 20_000;

/// One account as the console's status bar shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountState {
    pub kind: AccountKind,
    pub user_id: UserId,
}

pub struct LiveConnection {
    runtime: tokio::runtime::Runtime,
    accounts: Vec<Account>,
    inbound: mpsc::Receiver<(AccountKind, Inbound)>,
    pub gateway: TelegramGateway<GrammersApi>,
    pub connected: Vec<AccountState>,
    dedupe: Dedupe,
    investigations_tx: std::sync::mpsc::Sender<(UserId, Result<Investigation, String>)>,
    admins_tx: std::sync::mpsc::Sender<Vec<UserId>>,
    admins: std::sync::mpsc::Receiver<Vec<UserId>>,
    /// Admin-log entries come in through the same channel as updates.
    inbound_tx: mpsc::Sender<(AccountKind, Inbound)>,
    own_ids: Vec<UserId>,
    /// Newest admin-log entry seen per chat; absent = not polled yet.
    admin_log_seen: Arc<Mutex<HashMap<ChatId, i64>>>,
    investigations: std::sync::mpsc::Receiver<(UserId, Result<Investigation, String>)>,
    members_tx: std::sync::mpsc::Sender<MemberList>,
    members: std::sync::mpsc::Receiver<MemberList>,
}

/// A chat's member list, or why it could not be read.
pub type MemberList = (ChatId, Result<Vec<ListedMember>, String>);

impl LiveConnection {
    /// Connects every account that can be: the bot when a token is set (signing it in the first
    /// time), the user account when `warden login user` was done. Fails when neither can.
    pub fn open(sessions_dir: &Path, secrets: &Secrets, config: &TelegramConfig) -> Result<Self> {
        let api_id = config.api_id(secrets.api_id).context(
            "no api_id: set WARDEN_API_ID (or api_id in secrets.toml or [telegram]); get one at my.telegram.org",
        )?;
        std::fs::create_dir_all(sessions_dir)
            .with_context(|| format!("cannot create {}", sessions_dir.display()))?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("warden-telegram")
            .enable_all()
            .build()
            .context("cannot start the Telegram runtime")?;
        let (tx, inbound) = mpsc::channel(INBOUND_CAPACITY);
        let (accounts, connected, failures) = runtime.block_on(async {
            let mut accounts = Vec::new();
            let mut connected = Vec::new();
            let mut failures = Vec::new();
            for kind in [AccountKind::Bot, AccountKind::User] {
                match open_account(kind, sessions_dir, api_id, secrets, config).await {
                    Ok(Some((account, user_id))) => {
                        connected.push(AccountState { kind, user_id });
                        accounts.push(account);
                    }
                    Ok(None) => tracing::info!(account = %kind, "not configured; skipped"),
                    Err(err) => {
                        tracing::warn!(account = %kind, "cannot connect: {err:#}");
                        failures.push(format!("{kind}: {err:#}"));
                    }
                }
            }
            let own_ids: Vec<UserId> = connected.iter().map(|a| a.user_id).collect();
            for account in &mut accounts {
                account
                    .spawn_updates(config, own_ids.clone(), tx.clone())
                    .await?;
            }
            anyhow::Ok((accounts, connected, failures))
        })?;
        let own_ids: Vec<UserId> = connected.iter().map(|a| a.user_id).collect();
        if accounts.is_empty() && !failures.is_empty() {
            bail!(
                "no Telegram account could connect ({})",
                failures.join("; ")
            );
        }
        if accounts.is_empty() {
            bail!(
                "no Telegram account is set up: set WARDEN_BOT_TOKEN for the bot, or run \
                 `warden login user` for the user account"
            );
        }
        let api_of = |kind: AccountKind| accounts.iter().find(|a| a.kind == kind).map(Account::api);
        let mut gateway = TelegramGateway::new(
            runtime.handle().clone(),
            api_of(AccountKind::Bot),
            api_of(AccountKind::User),
        );
        gateway.set_admin_chat(config.admin_chat);
        let (investigations_tx, investigations) = std::sync::mpsc::channel();
        let (admins_tx, admins) = std::sync::mpsc::channel();
        let (members_tx, members) = std::sync::mpsc::channel();
        Ok(LiveConnection {
            members_tx,
            members,
            admins_tx,
            admins,
            inbound_tx: tx,
            own_ids,
            admin_log_seen: Arc::default(),
            investigations_tx,
            investigations,
            runtime,
            accounts,
            inbound,
            gateway,
            connected,
            dedupe: Dedupe::default(),
        })
    }

    /// The next update, if one is waiting; the copy of an event the other account already
    /// delivered is dropped.
    pub fn try_next(&mut self) -> Option<(AccountKind, Inbound)> {
        loop {
            let (kind, inbound) = self.inbound.try_recv().ok()?;
            if let Inbound::Event(event) = &inbound
                && !self.dedupe.first_time(event)
            {
                continue;
            }
            return Some((kind, inbound));
        }
    }

    /// Starts fetching what the user account sees of `user`; the answer arrives through
    /// [`LiveConnection::try_investigation`]. False when no user account is connected.
    pub fn investigate(&self, user: UserId) -> bool {
        let Some(account) = self.accounts.iter().find(|a| a.kind == AccountKind::User) else {
            return false;
        };
        let api = account.api();
        let tx = self.investigations_tx.clone();
        self.runtime.spawn(async move {
            let result = api.investigate(user).await.map_err(|e| e.to_string());
            let _ = tx.send((user, result));
        });
        true
    }

    /// Asks the user account for each chat's new admin-log entries; bans by other admins arrive
    /// as `RestrictedByAdmin` events through [`LiveConnection::try_next`]. The first poll of a chat
    /// only notes where the log stands: history before Warden started is not replayed.
    pub fn poll_admin_logs(&self, chats: &[ChatId]) {
        let Some(account) = self.accounts.iter().find(|a| a.kind == AccountKind::User) else {
            return;
        };
        for chat in supergroups(chats) {
            let api = account.api();
            let tx = self.inbound_tx.clone();
            let seen = Arc::clone(&self.admin_log_seen);
            let own_ids = self.own_ids.clone();
            self.runtime.spawn(async move {
                let since = seen.lock().ok().and_then(|s| s.get(&chat).copied());
                let entries = match api.admin_log(chat, since.unwrap_or(0)).await {
                    Ok(entries) => entries,
                    Err(err) => {
                        tracing::debug!(chat, "admin log not readable: {err}");
                        return;
                    }
                };
                let newest = entries.iter().map(admin_log_id).max();
                if let (Some(newest), Ok(mut seen)) = (newest, seen.lock()) {
                    seen.insert(chat, newest.max(since.unwrap_or(0)));
                }
                if since.is_none() {
                    if newest.is_none()
                        && let Ok(mut seen) = seen.lock()
                    {
                        seen.insert(chat, 0);
                    }
                    return;
                }
                let ctx = MapContext {
                    account: AccountKind::User,
                    own_ids: &own_ids,
                    now: 0,
                };
                for entry in &entries {
                    if let Some(event) = map_admin_log_event(chat, entry, &ctx)
                        && tx
                            .send((AccountKind::User, Inbound::Event(event)))
                            .await
                            .is_err()
                    {
                        return;
                    }
                }
            });
        }
    }

    /// Fetches the admin chat's admins (through the bot when connected); the list arrives through
    /// [`LiveConnection::try_admins`].
    pub fn refresh_admins(&self, chat: ChatId) {
        let Some(account) = self.accounts.first() else {
            return;
        };
        let api = account.api();
        let tx = self.admins_tx.clone();
        self.runtime.spawn(async move {
            match api.chat_admins(chat).await {
                Ok(admins) => {
                    let _ = tx.send(admins);
                }
                Err(err) => tracing::warn!(chat, "cannot list the admin chat's admins: {err}"),
            }
        });
    }

    /// Starts reading each supergroup's member list (the user account if connected, else the
    /// bot), one chat after another; lists arrive through [`LiveConnection::try_members`].
    pub fn list_members(&self, chats: &[ChatId], limit: usize) {
        let Some(account) = self
            .accounts
            .iter()
            .find(|a| a.kind == AccountKind::User)
            .or(self.accounts.first())
        else {
            return;
        };
        let api = account.api();
        let tx = self.members_tx.clone();
        let chats: Vec<ChatId> = supergroups(chats).collect();
        self.runtime.spawn(async move {
            for chat in chats {
                let listed = api.members(chat, limit).await.map_err(|e| e.to_string());
                if tx.send((chat, listed)).is_err() {
                    return;
                }
            }
        });
    }

    pub fn try_members(&self) -> Option<MemberList> {
        self.members.try_recv().ok()
    }

    pub fn try_admins(&self) -> Option<Vec<UserId>> {
        self.admins.try_recv().ok()
    }

    pub fn has_user_account(&self) -> bool {
        self.accounts.iter().any(|a| a.kind == AccountKind::User)
    }

    /// A finished investigation, if one is waiting.
    pub fn try_investigation(&self) -> Option<(UserId, Result<Investigation, String>)> {
        self.investigations.try_recv().ok()
    }

    /// Disconnects both accounts; their update tasks save the update state first.
    pub fn shutdown(self) {
        let LiveConnection {
            runtime, accounts, ..
        } = self;
        runtime.block_on(async {
            for account in accounts {
                account.shutdown().await;
            }
        });
    }
}

/// Supergroups only have member lists and admin logs (Bot API ids below -10^12).
fn supergroups(chats: &[ChatId]) -> impl Iterator<Item = ChatId> + '_ {
    chats.iter().copied().filter(|&c| c < -1_000_000_000_000)
}

/// Connects one account. `None` when it is not configured (no token; user never logged in).
async fn open_account(
    kind: AccountKind,
    sessions_dir: &Path,
    api_id: i32,
    secrets: &Secrets,
    config: &TelegramConfig,
) -> Result<Option<(Account, UserId)>> {
    let session_exists = sessions_dir.join(kind.session_file()).exists();
    match kind {
        AccountKind::Bot if secrets.bot_token.is_none() => return Ok(None),
        AccountKind::User if !session_exists => return Ok(None),
        _ => {}
    }
    let account = connect(sessions_dir, kind, api_id, config)?;
    if !account.session.has_self_user()? {
        match (
            kind,
            secrets.bot_token.as_deref(),
            secrets.api_hash.as_deref(),
        ) {
            (AccountKind::Bot, Some(token), Some(api_hash)) => {
                let name = login_bot(&GrammersLogin(&account.client), token, api_hash).await?;
                tracing::info!(account = %kind, %name, "signed in");
            }
            (AccountKind::Bot, _, None) => {
                account.shutdown().await;
                bail!("the bot's first sign-in needs api_hash (WARDEN_API_HASH)");
            }
            _ => {
                account.shutdown().await;
                bail!("the {kind} session is not logged in: run `warden login {kind}`");
            }
        }
    }
    let user_id = account
        .session
        .self_user_id()?
        .context("the session holds no account after sign-in")?;
    Ok(Some((account, user_id)))
}

fn admin_log_id(entry: &tl::enums::ChannelAdminLogEvent) -> i64 {
    let tl::enums::ChannelAdminLogEvent::Event(e) = entry;
    e.id
}

/// Both accounts see the same group: the second copy of an event is dropped.
#[derive(Default)]
pub struct Dedupe {
    seen: HashSet<String>,
    order: VecDeque<String>,
}

impl Dedupe {
    /// True the first time an event is offered.
    pub fn first_time(&mut self, event: &Event) -> bool {
        let Some(key) = event_key(event) else {
            return true;
        };
        if !self.seen.insert(key.clone()) {
            return false;
        }
        self.order.push_back(key);
        if self.order.len() > DEDUPE_KEYS
            && let Some(old) = self.order.pop_front()
        {
            self.seen.remove(&old);
        }
        true
    }
}

/// What makes two deliveries the same event; `None` for events that are never duplicated.
fn event_key(event: &Event) -> Option<String> {
    Some(match event {
        Event::Message(m) => format!("m|{}|{}", m.chat_id, m.id),
        // An edit can happen twice: the text tells the copies apart.
        Event::Edited(m) => format!("e|{}|{}|{}", m.chat_id, m.id, m.text),
        Event::Joined { chat_id, user, .. } => format!("j|{chat_id}|{}", user.id),
        Event::Left {
            chat_id,
            user_id,
            date,
        } => format!("l|{chat_id}|{user_id}|{date}"),
        Event::Deleted { chat_id, ids, .. } => format!("d|{chat_id}|{ids:?}"),
        Event::RestrictedByAdmin {
            chat_id,
            user_id,
            date,
            banned,
            ..
        } => format!("r|{chat_id}|{user_id}|{date}|{banned}"),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Message, Person};

    fn message(id: i64, text: &str) -> Message {
        Message {
            chat_id: -100,
            id,
            text: text.into(),
            from: Person {
                id: 7,
                ..Person::default()
            },
            ..Message::default()
        }
    }

    #[test]
    fn the_other_accounts_copy_is_dropped_and_new_edits_pass() {
        let mut dedupe = Dedupe::default();
        let table = [
            (Event::Message(message(1, "hi")), true),
            (Event::Message(message(1, "hi")), false),
            (Event::Message(message(2, "hi")), true),
            (Event::Edited(message(1, "hi!")), true),
            (Event::Edited(message(1, "hi!")), false),
            (Event::Edited(message(1, "buy crypto")), true),
        ];
        for (i, (event, first)) in table.into_iter().enumerate() {
            assert_eq!(dedupe.first_time(&event), first, "step {i}");
        }
    }

    #[test]
    fn memory_is_bounded() {
        let mut dedupe = Dedupe::default();
        for id in 0..(DEDUPE_KEYS as i64 + 10) {
            dedupe.first_time(&Event::Message(message(id, "x")));
        }
        assert_eq!(dedupe.seen.len(), DEDUPE_KEYS);
        assert!(
            dedupe.first_time(&Event::Message(message(0, "x"))),
            "forgotten"
        );
    }
}
