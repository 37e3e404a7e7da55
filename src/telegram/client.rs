//! The real thing: connecting an account through grammers, its update task, and the grammers
//! implementations of [`ModerationApi`] and [`LoginApi`].

use super::api::{AccountKind, ModerationApi, OutgoingMessage, Rights, TgError};
use super::config::TelegramConfig;
use super::login::{LoginApi, SignInStep};
use super::session::FileSession;
use super::updates::{Inbound, MapContext, listed_members, map_update, person_of_raw};
use crate::model::{ChatId, ListedMember, Person, Timestamp, UserId, unix_now};
use anyhow::Context;
use grammers_client::client::{ClientConfiguration, LoginToken, PasswordToken};
use grammers_client::message::{Button, InputMessage, ReplyMarkup};
use grammers_client::peer::Peer;
use grammers_client::sender::{AutoSleep, ConnectionParams, UpdatesConfiguration};
use grammers_client::session::Session;
use grammers_client::session::types::{PeerId, PeerKind, PeerRef};
use grammers_client::session::updates::UpdatesLike;
use grammers_client::{Client, SenderPool, SignInError, tl};
use std::num::{NonZeroU32, NonZeroUsize};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// One logged-in (or logging-in) account with its running connection pool.
pub struct Account {
    pub kind: AccountKind,
    pub client: Client,
    pub session: Arc<FileSession>,
    updates: Option<mpsc::Receiver<UpdatesLike>>,
    runner: JoinHandle<()>,
}

/// Opens the account's session file (0600) and starts its pool; nothing is sent until the first call.
pub fn connect(
    sessions_dir: &Path,
    kind: AccountKind,
    api_id: i32,
    config: &TelegramConfig,
) -> anyhow::Result<Account> {
    let account_config = match kind {
        AccountKind::Bot => &config.bot,
        AccountKind::User => &config.user,
    };
    account_config
        .validate(kind.as_str())
        .map_err(anyhow::Error::msg)?;
    let path = sessions_dir.join(kind.session_file());
    let session = Arc::new(FileSession::open(&path)?);
    // Manual end-to-end runs against Telegram's test servers (see the README).
    if std::env::var_os("WARDEN_TELEGRAM_TEST_DC").is_some() && !session.has_self_user()? {
        session.point_at_test_dc()?;
    }
    let params = ConnectionParams {
        // Short waits are slept through inside the call; longer ones reach the app's flood gate.
        retry_policy: Box::new(AutoSleep {
            tries: NonZeroU32::new(1).expect("1 is non-zero"),
            threshold: Duration::from_secs(config.flood_sleep_threshold_secs),
            io_errors_as_flood_of: Some(Duration::from_secs(1)),
        }),
        updates_channel_capacity: NonZeroUsize::new(2000).expect("non-zero"),
        proxy_url: account_config.proxy.clone(),
        use_ipv6: account_config.ipv6,
        app_version: env!("CARGO_PKG_VERSION").to_string(),
        ..Default::default()
    };
    let SenderPool {
        runner,
        handle,
        updates,
    } = SenderPool::with_configuration(Arc::clone(&session), api_id, params);
    let client = Client::with_configuration(
        handle,
        ClientConfiguration {
            auto_cache_peers: true,
        },
    );
    let runner = tokio::spawn(runner.run());
    Ok(Account {
        kind,
        client,
        session,
        updates: Some(updates),
        runner,
    })
}

impl Account {
    pub fn api(&self) -> GrammersApi {
        GrammersApi {
            client: self.client.clone(),
            session: Arc::clone(&self.session),
        }
    }

    /// Starts this account's update task: maps every update and forwards it with the account.
    /// Ends when the pool closes (after [`Account::shutdown`]) or the receiver is dropped; it
    /// saves the update state every `update_state_sync_secs` while updates flow, and on exit.
    pub async fn spawn_updates(
        &mut self,
        config: &TelegramConfig,
        own_ids: Vec<UserId>,
        out: mpsc::Sender<(AccountKind, Inbound)>,
    ) -> anyhow::Result<JoinHandle<()>> {
        let rx = self
            .updates
            .take()
            .context("the update stream was already started")?;
        let mut stream = self
            .client
            .stream_updates(
                rx,
                UpdatesConfiguration {
                    catch_up: config.catch_up,
                },
            )
            .await
            .map_err(|e| anyhow::anyhow!("cannot start the {} update stream: {e}", self.kind))?;
        let kind = self.kind;
        let sync_every = Duration::from_secs(config.update_state_sync_secs.max(1));
        Ok(tokio::spawn(async move {
            let mut last_sync = Instant::now();
            let mut backoff = Duration::from_millis(500);
            // `next()` is not cancel-safe, so it is never raced in a select: the loop ends when
            // the pool closes (Dropped) or nobody listens any more.
            loop {
                match stream.next().await {
                    Ok(update) => {
                        backoff = Duration::from_millis(500);
                        let ctx = MapContext {
                            account: kind,
                            own_ids: &own_ids,
                            now: unix_now(),
                        };
                        for item in map_update(&update, &ctx) {
                            if out.send((kind, item)).await.is_err() {
                                save_state(&stream, kind).await;
                                return;
                            }
                        }
                        if last_sync.elapsed() >= sync_every {
                            save_state(&stream, kind).await;
                            last_sync = Instant::now();
                        }
                    }
                    Err(grammers_client::InvocationError::Dropped(_)) => break,
                    Err(err) => {
                        tracing::warn!(account = %kind, error = %err, "update stream error; retrying");
                        tokio::time::sleep(backoff).await;
                        backoff = (backoff * 2).min(Duration::from_secs(60));
                    }
                }
            }
            save_state(&stream, kind).await;
            tracing::info!(account = %kind, "update stream ended");
        }))
    }

    /// Closes the connection; the update task then saves its state and ends.
    pub async fn shutdown(self) {
        self.client.disconnect();
        let _ = self.runner.await;
    }
}

async fn save_state(stream: &grammers_client::client::UpdateStream, kind: AccountKind) {
    if let Err(err) = stream.sync_update_state().await {
        tracing::warn!(account = %kind, error = %err, "cannot save the update state");
    }
}

/// [`ModerationApi`] through one grammers client; access hashes come from this account's session.
#[derive(Clone)]
pub struct GrammersApi {
    client: Client,
    session: Arc<FileSession>,
}

impl GrammersApi {
    async fn peer(&self, id: i64) -> Result<PeerRef, TgError> {
        let peer_id = PeerId::from_bot_api_dialog_id(id)
            .ok_or_else(|| TgError::NotFound(format!("id {id}")))?;
        match self.session.peer_ref(peer_id).await {
            Ok(Some(peer)) => Ok(peer),
            // Bots may use a zero hash for peers they have seen.
            Ok(None) => Ok(peer_id.to_ambient_ref()),
            Err(err) => Err(TgError::Network(format!("session: {err}"))),
        }
    }

    /// What only a user account sees of a user: bio, photo, the chats it shares with them.
    pub async fn investigate(&self, user: UserId) -> Result<Investigation, TgError> {
        let user_ref = self.peer(user).await?;
        let tl::enums::users::UserFull::Full(full) = self
            .client
            .invoke(&tl::functions::users::GetFullUser {
                id: user_ref.into(),
            })
            .await?;
        let tl::enums::UserFull::Full(details) = full.full_user;
        let common = self
            .client
            .invoke(&tl::functions::messages::GetCommonChats {
                user_id: user_ref.into(),
                max_id: 0,
                limit: 100,
            })
            .await?;
        let chats = match common {
            tl::enums::messages::Chats::Chats(c) => c.chats,
            tl::enums::messages::Chats::Slice(s) => s.chats,
        };
        let mut elsewhere = Vec::new();
        // A few chats only: each search is one request, and this runs on every Investigator open.
        for chat in chats.iter().take(SEARCHED_CHATS) {
            let (Some(peer), Some(title)) = (input_peer(chat), chat_title(chat)) else {
                continue;
            };
            match self.recent_messages_of(peer, user_ref).await {
                Ok(texts) => {
                    elsewhere.extend(texts.into_iter().map(|text| format!("{title}: {text}")))
                }
                Err(err) => tracing::debug!(%title, "cannot search: {err}"),
            }
        }
        let bio = details.about.filter(|b| !b.trim().is_empty());
        let person = full
            .users
            .iter()
            .map(person_of_raw)
            .find(|p| p.id == user)
            .map(|p| Person {
                bio: bio.clone(),
                has_photo: Some(details.profile_photo.is_some()),
                ..p
            });
        Ok(Investigation {
            user_id: user,
            person,
            bio,
            has_photo: details.profile_photo.is_some(),
            common_chats: chats.iter().filter_map(chat_title).collect(),
            elsewhere,
        })
    }

    /// The user's latest few texts in one chat the account sees.
    async fn recent_messages_of(
        &self,
        chat: tl::enums::InputPeer,
        user: PeerRef,
    ) -> Result<Vec<String>, TgError> {
        let found = self
            .client
            .invoke(&tl::functions::messages::Search {
                peer: chat,
                q: String::new(),
                from_id: Some(user.into()),
                saved_peer_id: None,
                saved_reaction: None,
                top_msg_id: None,
                filter: tl::enums::MessagesFilter::InputMessagesFilterEmpty,
                min_date: 0,
                max_date: 0,
                offset_id: 0,
                add_offset: 0,
                limit: 3,
                max_id: 0,
                min_id: 0,
                hash: 0,
            })
            .await?;
        let messages = match found {
            tl::enums::messages::Messages::Messages(m) => m.messages,
            tl::enums::messages::Messages::Slice(m) => m.messages,
            tl::enums::messages::Messages::ChannelMessages(m) => m.messages,
            tl::enums::messages::Messages::NotModified(_) => Vec::new(),
        };
        Ok(messages
            .iter()
            .filter_map(|m| match m {
                tl::enums::Message::Message(m) if !m.message.trim().is_empty() => {
                    Some(m.message.chars().take(200).collect())
                }
                _ => None,
            })
            .collect())
    }

    /// A supergroup's most recent `limit` members with Telegram's join dates (pages of 200).
    pub async fn members(&self, chat: ChatId, limit: usize) -> Result<Vec<ListedMember>, TgError> {
        let channel = self.channel(chat).await?;
        let mut listed = Vec::new();
        let mut offset = 0;
        while listed.len() < limit {
            let page = self
                .client
                .invoke(&tl::functions::channels::GetParticipants {
                    channel: channel.into(),
                    filter: tl::enums::ChannelParticipantsFilter::ChannelParticipantsRecent,
                    offset,
                    limit: MEMBERS_PAGE,
                    hash: 0,
                })
                .await?;
            let tl::enums::channels::ChannelParticipants::Participants(page) = page else {
                break;
            };
            if page.participants.is_empty() {
                break;
            }
            offset += page.participants.len() as i32;
            listed.extend(listed_members(&page.participants, &page.users));
            if offset >= page.count {
                break;
            }
        }
        listed.truncate(limit);
        Ok(listed)
    }

    /// The chat's creator and admins (bots among them), for authorising admin-chat commands.
    pub async fn chat_admins(&self, chat: ChatId) -> Result<Vec<UserId>, TgError> {
        use grammers_client::peer::Role;
        let peer = self.peer(chat).await?;
        let mut members = self
            .client
            .iter_participants(peer)
            .filter(tl::enums::ChannelParticipantsFilter::ChannelParticipantsAdmins);
        let mut admins = Vec::new();
        while let Some(member) = members.next().await? {
            if matches!(member.role, Role::Creator(_) | Role::Admin(_))
                && let Some(id) = member.user.id().bot_api_dialog_id()
            {
                admins.push(id);
            }
        }
        Ok(admins)
    }

    /// Ban and kick entries of a supergroup's admin log newer than `min_id` (user account with
    /// admin rights), oldest first.
    pub async fn admin_log(
        &self,
        chat: ChatId,
        min_id: i64,
    ) -> Result<Vec<tl::enums::ChannelAdminLogEvent>, TgError> {
        let channel = self.channel(chat).await?;
        let filter = tl::types::ChannelAdminLogEventsFilter {
            join: false,
            leave: false,
            invite: false,
            ban: true,
            unban: false,
            kick: true,
            unkick: false,
            promote: false,
            demote: false,
            info: false,
            settings: false,
            pinned: false,
            edit: false,
            delete: false,
            group_call: false,
            invites: false,
            send: false,
            forums: false,
            sub_extend: false,
            edit_rank: false,
        };
        let tl::enums::channels::AdminLogResults::Results(results) = self
            .client
            .invoke(&tl::functions::channels::GetAdminLog {
                channel: channel.into(),
                q: String::new(),
                events_filter: Some(filter.into()),
                admins: None,
                max_id: 0,
                min_id,
                limit: 100,
            })
            .await?;
        let mut events = results.events;
        events.sort_by_key(|e| {
            let tl::enums::ChannelAdminLogEvent::Event(e) = e;
            e.id
        });
        Ok(events)
    }

    async fn channel(&self, id: ChatId) -> Result<PeerRef, TgError> {
        let peer = self.peer(id).await?;
        if peer.id.kind() != PeerKind::Channel {
            return Err(TgError::Unsupported(
                "this works in supergroups only; upgrade the group".into(),
            ));
        }
        Ok(peer)
    }
}

/// The Investigator's user-account view of one user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Investigation {
    pub user_id: UserId,
    /// The profile as the user account sees it (names, photo, bio), for the clusters.
    pub person: Option<Person>,
    pub bio: Option<String>,
    pub has_photo: bool,
    pub common_chats: Vec<String>,
    /// "<chat>: <text>" for the user's latest messages in a few common chats.
    pub elsewhere: Vec<String>,
}

/// Telegram's page size for member lists.
const MEMBERS_PAGE: i32 = 200;

/// How many common chats the Investigator searches for the user's recent messages.
const SEARCHED_CHATS: usize = 5;

fn input_peer(chat: &tl::enums::Chat) -> Option<tl::enums::InputPeer> {
    match chat {
        tl::enums::Chat::Chat(c) => Some(tl::types::InputPeerChat { chat_id: c.id }.into()),
        tl::enums::Chat::Channel(c) => Some(
            tl::types::InputPeerChannel {
                channel_id: c.id,
                access_hash: c.access_hash.unwrap_or(0),
            }
            .into(),
        ),
        _ => None,
    }
}

fn chat_title(chat: &tl::enums::Chat) -> Option<String> {
    match chat {
        tl::enums::Chat::Empty(_) => None,
        tl::enums::Chat::Chat(c) => Some(c.title.clone()),
        tl::enums::Chat::Forbidden(c) => Some(c.title.clone()),
        tl::enums::Chat::Channel(c) => Some(c.title.clone()),
        tl::enums::Chat::ChannelForbidden(c) => Some(c.title.clone()),
        tl::enums::Chat::Community(c) => Some(c.title.clone()),
        tl::enums::Chat::CommunityForbidden(c) => Some(c.title.clone()),
    }
}

fn until_date(until: Option<Timestamp>) -> i32 {
    until
        .map(|t| t.clamp(0, i64::from(i32::MAX)) as i32)
        .unwrap_or(0)
}

impl ModerationApi for GrammersApi {
    async fn delete_messages(&self, chat: ChatId, ids: Vec<i32>) -> Result<usize, TgError> {
        let peer = self.peer(chat).await?;
        Ok(self.client.delete_messages(peer, &ids).await?)
    }

    async fn restrict(
        &self,
        chat: ChatId,
        user: UserId,
        rights: Rights,
        until: Option<Timestamp>,
    ) -> Result<(), TgError> {
        let chat_ref = self.peer(chat).await?;
        let user_ref = self.peer(user).await?;
        if chat_ref.id.kind() == PeerKind::Chat {
            // Basic groups know only removal.
            if !rights.view_messages {
                return Err(TgError::from_rpc(400, "CHAT_INVALID", None));
            }
            self.client
                .invoke(&tl::functions::messages::DeleteChatUser {
                    revoke_history: false,
                    chat_id: chat_ref.id.bare_id().unwrap_or(0),
                    user_id: user_ref.into(),
                })
                .await?;
            return Ok(());
        }
        self.client
            .invoke(&tl::functions::channels::EditBanned {
                channel: chat_ref.into(),
                participant: user_ref.into(),
                banned_rights: rights.to_tl(until_date(until)).into(),
            })
            .await?;
        Ok(())
    }

    async fn kick(&self, chat: ChatId, user: UserId) -> Result<(), TgError> {
        let chat_ref = self.peer(chat).await?;
        let user_ref = self.peer(user).await?;
        Ok(self.client.kick_participant(chat_ref, user_ref).await?)
    }

    async fn purge_user(&self, chat: ChatId, user: UserId) -> Result<(), TgError> {
        let chat_ref = self.channel(chat).await?;
        let user_ref = self.peer(user).await?;
        // Telegram deletes in slices; repeat until nothing is left.
        for _ in 0..100 {
            let tl::enums::messages::AffectedHistory::History(h) = self
                .client
                .invoke(&tl::functions::channels::DeleteParticipantHistory {
                    channel: chat_ref.into(),
                    participant: user_ref.into(),
                })
                .await?;
            if h.offset <= 0 {
                break;
            }
        }
        Ok(())
    }

    async fn default_rights(&self, chat: ChatId) -> Result<Rights, TgError> {
        let peer = self.peer(chat).await?;
        let resolved = self.client.resolve_peer(peer).await?;
        let raw = match &resolved {
            Peer::Group(g) => match &g.raw {
                tl::enums::Chat::Channel(c) => c.default_banned_rights.clone(),
                tl::enums::Chat::Chat(c) => c.default_banned_rights.clone(),
                _ => None,
            },
            Peer::Channel(c) => c.raw.default_banned_rights.clone(),
            _ => None,
        };
        Ok(match raw {
            Some(tl::enums::ChatBannedRights::Rights(r)) => Rights::from_tl(&r),
            None => Rights::none(),
        })
    }

    async fn set_default_rights(&self, chat: ChatId, rights: Rights) -> Result<(), TgError> {
        let peer = self.peer(chat).await?;
        self.client
            .invoke(&tl::functions::messages::EditChatDefaultBannedRights {
                peer: peer.into(),
                banned_rights: rights.to_tl(0).into(),
            })
            .await?;
        Ok(())
    }

    async fn slow_mode(&self, chat: ChatId, seconds: i32) -> Result<(), TgError> {
        let channel = self.channel(chat).await?;
        self.client
            .invoke(&tl::functions::channels::ToggleSlowMode {
                channel: channel.into(),
                seconds,
            })
            .await?;
        Ok(())
    }

    async fn set_antispam(&self, chat: ChatId, enabled: bool) -> Result<(), TgError> {
        let channel = self.channel(chat).await?;
        self.client
            .invoke(&tl::functions::channels::ToggleAntiSpam {
                channel: channel.into(),
                enabled,
            })
            .await?;
        Ok(())
    }

    async fn send_message(&self, chat: ChatId, message: OutgoingMessage) -> Result<i32, TgError> {
        let peer = self.peer(chat).await?;
        let mut input = InputMessage::new()
            .text(message.text)
            .link_preview(false)
            .reply_to(message.reply_to);
        if !message.buttons.is_empty() {
            let rows: Vec<Vec<Button>> = message
                .buttons
                .into_iter()
                .map(|row| {
                    row.into_iter()
                        .map(|(label, data)| Button::data(label, data.into_bytes()))
                        .collect()
                })
                .collect();
            input = input.reply_markup(ReplyMarkup::from_buttons(&rows));
        }
        Ok(self.client.send_message(peer, input).await?.id())
    }

    async fn answer_button(&self, query_id: i64, text: Option<String>) -> Result<(), TgError> {
        self.client
            .invoke(&tl::functions::messages::SetBotCallbackAnswer {
                alert: false,
                query_id,
                message: text,
                url: None,
                cache_time: 0,
            })
            .await?;
        Ok(())
    }
}

/// [`LoginApi`] through grammers.
pub struct GrammersLogin<'a>(pub &'a Client);

fn sign_in_step(
    result: Result<grammers_client::peer::User, SignInError>,
) -> Result<SignInStep<PasswordToken>, TgError> {
    match result {
        Ok(user) => Ok(SignInStep::Done(user.full_name())),
        Err(SignInError::PasswordRequired(token)) => {
            let hint = token.hint().map(str::to_string);
            Ok(SignInStep::PasswordNeeded { token, hint })
        }
        Err(SignInError::InvalidPassword(token)) => {
            let hint = token.hint().map(str::to_string);
            Ok(SignInStep::InvalidPassword { token, hint })
        }
        Err(SignInError::InvalidCode) => Ok(SignInStep::InvalidCode),
        Err(SignInError::SignUpRequired) => Ok(SignInStep::SignUpRequired),
        Err(SignInError::Other(err)) => Err(err.into()),
        #[allow(unreachable_patterns)]
        Err(other) => Err(TgError::Rpc {
            code: 0,
            name: other.to_string(),
        }),
    }
}

impl LoginApi for GrammersLogin<'_> {
    type CodeToken = LoginToken;
    type PasswordToken = PasswordToken;

    async fn bot_sign_in(&self, token: &str, api_hash: &str) -> Result<String, TgError> {
        Ok(self.0.bot_sign_in(token, api_hash).await?.full_name())
    }

    async fn request_code(&self, phone: &str, api_hash: &str) -> Result<LoginToken, TgError> {
        Ok(self.0.request_login_code(phone, api_hash).await?)
    }

    async fn sign_in(
        &self,
        token: &LoginToken,
        code: &str,
    ) -> Result<SignInStep<PasswordToken>, TgError> {
        sign_in_step(self.0.sign_in(token, code).await)
    }

    async fn check_password(
        &self,
        token: PasswordToken,
        password: &str,
    ) -> Result<SignInStep<PasswordToken>, TgError> {
        sign_in_step(self.0.check_password(token, password).await)
    }
}
