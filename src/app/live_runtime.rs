//! The live runtime: Telegram updates through the real pipeline, the executor acting through
//! the accounts, the admin desk answering the admin chat. The console and `warden daemon` both
//! drive it; only who sends `ToRuntime::Quit` differs.

use crate::app::admin_desk::{AdminDesk, Reply};
use crate::app::commands;
use crate::app::live::{Notice, SharedView, ToRuntime};
use crate::app::pipeline::Pipeline;
use crate::app::runtime::{IDLE_STEP, PUBLISH_EVERY, Publisher, RuntimeHandle};
use crate::config::Config;
use crate::metrics;
use crate::model::{Event, Timestamp};
use crate::policy::Executor;
use crate::telegram::admin::AdminAuth;
use crate::telegram::api::{AccountKind, OutgoingMessage};
use crate::telegram::live::LiveConnection;
use crate::telegram::updates::Inbound;
use anyhow::{Context, Result};
use std::sync::mpsc::{self, Receiver, Sender};
use std::time::Instant;
use warden_store::Store;
use warden_ui as ui;

/// Updates handled per loop turn before commands and the executor get their turn.
const BATCH: usize = 500;

/// Starts the live runtime on its own thread over an open connection.
pub fn spawn_live(
    config: Config,
    store: Store,
    connection: LiveConnection,
) -> Result<RuntimeHandle> {
    let view = SharedView::default();
    let (to_runtime, commands_rx) = mpsc::channel();
    let (notices_tx, notices) = mpsc::channel();
    let shared = view.clone();
    let thread = std::thread::Builder::new()
        .name("warden-runtime".into())
        .spawn(move || {
            let result = run_live(config, store, connection, shared, commands_rx, notices_tx);
            if let Err(err) = &result {
                tracing::error!("live runtime stopped: {err:#}");
            }
            result
        })
        .context("cannot start the runtime thread")?;
    Ok(RuntimeHandle {
        view,
        to_runtime,
        notices,
        thread,
    })
}

fn unix_now() -> Timestamp {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as Timestamp)
        .unwrap_or(0)
}

fn run_live(
    config: Config,
    store: Store,
    mut connection: LiveConnection,
    view: SharedView,
    commands_rx: Receiver<ToRuntime>,
    notices: Sender<Notice>,
) -> Result<()> {
    let mut pipeline = Pipeline::new(&config, store.clone(), unix_now())?;
    let executor = Executor::new(store.clone(), config.policy.executor.clone());
    let mut publisher = Publisher::new(store, false)?;
    let desk = AdminDesk {
        admin_chat: config.telegram.admin_chat,
        auth: AdminAuth {
            admin_ids: config.telegram.admin_ids.clone(),
            chat_admins: Vec::new(),
        },
    };
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
            if let Err(err) = handle(&mut pipeline, &desk, &mut connection, account, inbound) {
                tracing::error!("cannot handle an update: {err:#}");
            }
        }
        let now = unix_now().max(pipeline.now());
        if now > last_second {
            last_second = now;
            let report = executor.run_due(&mut connection.gateway, now)?;
            metrics::executor_ran(&report);
            pipeline.tick(now)?;
            publisher.accounts = account_status(&connection, now);
        }
        if last_publish.elapsed() >= PUBLISH_EVERY {
            last_publish = Instant::now();
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
    connection: &mut LiveConnection,
    account: AccountKind,
    inbound: Inbound,
) -> Result<()> {
    let replies = match inbound {
        Inbound::Event(event) => {
            if let Event::ChatSeen { chat_id, title, .. } = &event {
                connection.gateway.set_chat_title(*chat_id, title.clone());
            }
            if let Event::Message(msg) = &event
                && let Some(replies) = desk.route(pipeline, msg)
            {
                replies
            } else {
                let started = Instant::now();
                let outcome = pipeline.handle(&event)?;
                metrics::event_handled(&event, &outcome, started.elapsed());
                Vec::new()
            }
        }
        // Buttons are only answered by the account that posted them (the bot).
        Inbound::Button(press) if account == AccountKind::Bot => desk.button(pipeline, &press),
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
