//! The live runtime: Telegram updates through the real pipeline, the executor acting through
//! the accounts, the admin desk answering the admin chat. The console and `warden daemon` both
//! drive it; only who sends `ToRuntime::Quit` differs.

use crate::action::Poster;
use crate::app::admin_desk::{AdminDesk, Reply};
use crate::app::captcha_gate::CaptchaGate;
use crate::app::commands;
use crate::app::live::{Notice, SharedView, ToRuntime};
use crate::app::login_desk::{LoginDesk, LoginSetup};
use crate::app::pipeline::Pipeline;
use crate::app::runtime::{IDLE_STEP, PUBLISH_EVERY, Publisher, RuntimeHandle, spawn_runtime};
use crate::config::Config;
use crate::metrics;
use crate::model::{Event, Timestamp, unix_now};
use crate::policy::Executor;
use crate::telegram::admin::AdminAuth;
use crate::telegram::api::{AccountKind, OutgoingMessage};
use crate::telegram::client::Investigation;
use crate::telegram::gateway::RightsSnapshot;
use crate::telegram::live::LiveConnection;
use crate::telegram::updates::Inbound;
use anyhow::Result;
use std::sync::mpsc::{Receiver, Sender};
use std::time::Instant;
use warden_store::{Store, WriteOp};
use warden_ui as ui;

/// Updates handled per loop turn before commands and the executor get their turn.
const BATCH: usize = 500;
/// The first member-list read waits this long after start.
const MEMBER_LIST_FIRST_AFTER: Timestamp = 30;
/// How often the admin chat's admin list is fetched again (admins come and go).
const ADMINS_REFRESH_SECS: Timestamp = 600;

/// Starts the live runtime on its own thread over an open connection.
pub fn spawn_live(
    config: Config,
    store: Store,
    connection: LiveConnection,
    login: Option<LoginSetup>,
) -> Result<RuntimeHandle> {
    spawn_runtime(move |view, commands, notices| {
        let login = LoginDesk::new(login);
        run_live(config, store, connection, login, view, commands, notices)
    })
}

fn run_live(
    config: Config,
    store: Store,
    mut connection: LiveConnection,
    mut login: LoginDesk,
    view: SharedView,
    commands_rx: Receiver<ToRuntime>,
    notices: Sender<Notice>,
) -> Result<()> {
    let mut pipeline = Pipeline::new(&config, store.clone(), unix_now())?;
    let executor = Executor::new(store.clone(), config.policy.executor.clone());
    let mut publisher = Publisher::new(store, false)?;
    let mut desk = AdminDesk {
        admin_chat: config.telegram.admin_chat,
        auth: AdminAuth {
            admin_ids: config.telegram.admin_ids.clone(),
            chat_admins: Vec::new(),
        },
    };
    restore_snapshots(&pipeline, &mut connection);
    let mut captcha = CaptchaGate::new(
        config.telegram.captcha.clone(),
        std::process::id() as u64 ^ unix_now() as u64,
    );
    publisher.user_account = connection.has_user_account();
    let mut saved_snapshots = connection.gateway.snapshots().clone();
    let admin_log_every = config.telegram.admin_log_poll_secs as Timestamp;
    let mut next_admin_log = 0;
    let member_list_every = config.telegram.member_list_poll_secs as Timestamp;
    // Shortly after start: by then the updates have named the watched chats.
    let mut next_member_list = unix_now() + MEMBER_LIST_FIRST_AFTER;
    let mut next_admins_refresh = 0;
    let mut last_second = 0;
    let mut last_publish = Instant::now() - PUBLISH_EVERY;
    let result = loop {
        let mut quit = false;
        for message in commands_rx.try_iter() {
            match message {
                ToRuntime::Quit => quit = true,
                ToRuntime::TogglePause => {
                    let _ = notices.send(Notice {
                        text: "live: Telegram cannot be paused (use dry-run mode to stop acting)"
                            .into(),
                        is_error: true,
                    });
                }
                ToRuntime::Command(command) if login.handles(&command) => {
                    if let Some(notice) = login.apply(command, &notices) {
                        let _ = notices.send(notice);
                    }
                    last_publish = Instant::now() - PUBLISH_EVERY;
                }
                ToRuntime::Command(warden_ui::Command::OpenUser { user }) => {
                    if connection.investigate(user) {
                        publisher.userbot.remove(&user);
                    }
                }
                ToRuntime::Command(command) => {
                    let notice = commands::apply(&mut pipeline, &config.general.moderator, command);
                    let _ = notices.send(notice);
                    last_publish = Instant::now() - PUBLISH_EVERY;
                }
            }
        }
        if quit {
            break publisher.flush(&pipeline);
        }
        let mut handled = 0;
        while handled < BATCH {
            let Some((account, inbound)) = connection.try_next() else {
                break;
            };
            handled += 1;
            let handled_ok = handle(
                &mut pipeline,
                &desk,
                &mut captcha,
                &mut connection,
                account,
                inbound,
            );
            if let Err(err) = handled_ok {
                tracing::error!("cannot handle an update: {err:#}");
            }
        }
        while let Some((chat, listed)) = connection.try_members() {
            match listed {
                Ok(members) => {
                    let grown = pipeline.members_listed(chat, &members);
                    tracing::info!(
                        chat,
                        members = members.len(),
                        clusters_grown = grown,
                        "member list read"
                    );
                }
                Err(err) => tracing::warn!(chat, "cannot read the member list: {err}"),
            }
        }
        while let Some((user, found)) = connection.try_investigation() {
            if let Ok(Investigation {
                person: Some(person),
                ..
            }) = &found
            {
                pipeline.profile_seen(person);
            }
            publisher.userbot.insert(user, userbot_view(found));
            last_publish = Instant::now() - PUBLISH_EVERY;
        }
        let now = unix_now().max(pipeline.now());
        if now > last_second {
            last_second = now;
            if let Some(admins) = connection.try_admins() {
                tracing::info!(count = admins.len(), "admin chat's admins refreshed");
                desk.auth.chat_admins = admins;
            }
            if let Some(chat) = config.telegram.admin_chat
                && config.telegram.trust_admin_chat_admins
                && now >= next_admins_refresh
            {
                next_admins_refresh = now + ADMINS_REFRESH_SECS;
                connection.refresh_admins(chat);
            }
            if member_list_every > 0 && now >= next_member_list {
                next_member_list = now + member_list_every;
                connection.list_members(&pipeline.chat_ids(), config.telegram.member_list_limit);
            }
            if admin_log_every > 0 && now >= next_admin_log {
                next_admin_log = now + admin_log_every;
                connection.poll_admin_logs(&pipeline.chat_ids());
            }
            captcha.expire(&mut pipeline, &mut connection.gateway, now)?;
            let report = executor.run_due(&mut connection.gateway, now)?;
            metrics::executor_ran(&report);
            if connection.gateway.snapshots() != &saved_snapshots {
                saved_snapshots = connection.gateway.snapshots().clone();
                save_snapshots(&pipeline, &saved_snapshots, now);
            }
            pipeline.tick(now)?;
            publisher.accounts = account_status(&connection, now);
        }
        if last_publish.elapsed() >= PUBLISH_EVERY {
            last_publish = Instant::now();
            publisher.prompt = login.prompt();
            publisher.reconnect = login.logged_in();
            view.publish(publisher.build(&pipeline, now)?);
        }
        if handled == 0 {
            std::thread::sleep(IDLE_STEP);
        }
    };
    connection.shutdown();
    result
}

fn handle(
    pipeline: &mut Pipeline,
    desk: &AdminDesk,
    captcha: &mut CaptchaGate,
    connection: &mut LiveConnection,
    account: AccountKind,
    inbound: Inbound,
) -> Result<()> {
    let replies = match inbound {
        Inbound::Event(event) => {
            if let Event::ChatSeen { chat_id, title, .. } = &event {
                connection.gateway.set_chat_title(*chat_id, title.clone());
            }
            let gateway = &connection.gateway;
            let reports = |id| gateway.report_target(id);
            if let Event::Message(msg) = &event
                && let Some(replies) = desk.route(pipeline, msg, &reports)
            {
                replies
            } else {
                let started = Instant::now();
                let outcome = pipeline.handle(&event)?;
                metrics::event_handled(&event, &outcome, started.elapsed());
                captcha.on_event(pipeline, &mut connection.gateway, &event)?;
                Vec::new()
            }
        }
        // Buttons are only answered by the account that posted them (the bot).
        Inbound::Button(press) if account == AccountKind::Bot => {
            if CaptchaGate::claims(&press) {
                captcha.on_press(pipeline, &mut connection.gateway, &press)?;
                Vec::new()
            } else {
                // Acknowledged without a word: the outcome is posted (or, for strangers, nothing).
                if let Err(err) = connection.gateway.answer(&press, "", pipeline.now()) {
                    tracing::debug!("cannot answer a report button: {err}");
                }
                desk.button(pipeline, &press)
            }
        }
        Inbound::Button(_) => Vec::new(),
        Inbound::DefaultRightsChanged { chat_id, rights } => {
            tracing::info!(chat_id, ?rights, "default member rights changed");
            Vec::new()
        }
    };
    send(connection, replies, pipeline.now());
    Ok(())
}

/// Answers go out at once; a failure is logged (the moderator can ask again).
fn send(connection: &mut LiveConnection, replies: Vec<Reply>, now: Timestamp) {
    for reply in replies {
        let message = OutgoingMessage {
            text: reply.text,
            buttons: Vec::new(),
            reply_to: reply.reply_to.and_then(|id| i32::try_from(id).ok()),
        };
        if let Err(err) = connection.gateway.post(reply.chat_id, message, now) {
            tracing::warn!(chat_id = reply.chat_id, "cannot answer: {err}");
        }
    }
}

fn account_status(connection: &LiveConnection, now: Timestamp) -> Vec<ui::AccountStatus> {
    [AccountKind::Bot, AccountKind::User]
        .into_iter()
        .map(|kind| {
            let connected = connection.connected.iter().any(|a| a.kind == kind);
            ui::AccountStatus {
                kind: match kind {
                    AccountKind::Bot => ui::AccountKind::Bot,
                    AccountKind::User => ui::AccountKind::User,
                },
                connection: if connected {
                    ui::Connection::Connected
                } else {
                    ui::Connection::NotConfigured
                },
                flood_wait: connection
                    .gateway
                    .flood_wait_until(kind, now)
                    .map(|until| (until - now).max(0) as u64),
            }
        })
        .collect()
}

/// The settings key under which contained chats' previous rights survive a restart.
const SNAPSHOTS_KEY: &str = "telegram.rights_snapshots";

fn restore_snapshots(pipeline: &Pipeline, connection: &mut LiveConnection) {
    let stored = pipeline
        .store()
        .reader()
        .and_then(|r| r.setting(SNAPSHOTS_KEY));
    match stored.map(|v| v.map(serde_json::from_value::<Snapshots>)) {
        Ok(Some(Ok(snapshots))) => connection.gateway.restore_snapshots(snapshots),
        Ok(None) => {}
        Ok(Some(Err(err))) => tracing::error!("stored rights snapshots unreadable: {err}"),
        Err(err) => tracing::error!("cannot read the rights snapshots: {err}"),
    }
}

type Snapshots = std::collections::HashMap<crate::model::ChatId, RightsSnapshot>;

/// Acknowledged: a crash after bunker-on must still restore the exact rights on release.
fn save_snapshots(pipeline: &Pipeline, snapshots: &Snapshots, now: Timestamp) {
    let value = serde_json::to_value(snapshots).unwrap_or_default();
    let saved = pipeline.store().writer().commit(WriteOp::PutSetting {
        key: SNAPSHOTS_KEY.to_string(),
        value,
        by: "system".to_string(),
        at: now,
    });
    if let Err(err) = saved {
        tracing::error!("cannot save the rights snapshots: {err}");
    }
}

fn userbot_view(found: Result<Investigation, String>) -> ui::UserbotView {
    match found {
        Ok(found) => ui::UserbotView {
            bio: found.bio,
            common_chats: found.common_chats,
            elsewhere: if found.has_photo {
                found.elsewhere
            } else {
                let mut lines = vec!["no profile photo".to_string()];
                lines.extend(found.elsewhere);
                lines
            },
        },
        Err(err) => ui::UserbotView {
            elsewhere: vec![format!("the user account could not look: {err}")],
            ..ui::UserbotView::default()
        },
    }
}
