//! The console's data source over a seeded temp store, and headless scripted console runs:
//! keys in, `ToRuntime` commands out, results back through the store and notices.

use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use ratatui::{Terminal, backend::TestBackend};
use serde_json::json;
use std::sync::mpsc;
use std::time::{Duration, Instant};
use warden::app::console::{ConsoleLoop, ConsoleOptions, Effect, build_console};
use warden::app::live::{LiveView, Notice, SharedView, ToRuntime};
use warden::app::source::AppSource;
use warden::policy::PolicyConfig;
use warden_store::*;
use warden_ui::{
    Command, DataSource, Filter, HistoryKind, Label, PageQuery, Pane, Popup, RuleRow, Verdict,
};

const T0: i64 = 1_700_000_000;
const RUST: i64 = -1_001;
const CRYPTO: i64 = -1_002;
/// A recent id: the account-age estimate is days, not years.
const JANE: i64 = 7_400_000_001;
const BOB: i64 = 41;

fn temp_store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("warden.db")).unwrap();
    (dir, store)
}

fn message(chat: i64, id: i64, user: i64, ts: i64, text: &str, flagged: bool) -> NewMessage {
    NewMessage {
        chat_id: chat,
        message_id: id,
        user_id: user,
        ts,
        text: text.into(),
        media: "none".into(),
        edited: false,
        verdict: if flagged { "spam" } else { "ham" }.into(),
        score: if flagged { 0.92 } else { 0.05 },
        flagged,
        summary: if flagged { "link, money" } else { "" }.into(),
        hits: if flagged {
            vec![
                NewHit {
                    name: "link".into(),
                    weight: 0.5,
                    detail: "a link".into(),
                },
                NewHit {
                    name: "money".into(),
                    weight: 0.3,
                    detail: "money words".into(),
                },
            ]
        } else {
            vec![]
        },
    }
}

/// Two chats, two users, 40 messages (every 4th flagged: 10), one delete action, one label,
/// strikes, a ban, an audit row and a stored rule.
fn seed(store: &Store) {
    let w = store.writer();
    for (id, title) in [(RUST, "Rust Users"), (CRYPTO, "Crypto Talk")] {
        w.commit(WriteOp::UpsertChat(ChatUpsert {
            id,
            title: title.into(),
            kind: "supergroup".into(),
            seen_at: T0,
        }))
        .unwrap();
    }
    for (id, first, last, username) in [
        (JANE, "Jane", Some("Doe"), Some("jdoe")),
        (BOB, "Bob", None, None),
    ] {
        w.commit(WriteOp::UpsertUser(UserUpsert {
            id,
            first_name: first.into(),
            last_name: last.map(str::to_string),
            username: username.map(str::to_string),
            is_bot: false,
            seen_at: T0,
        }))
        .unwrap();
    }
    let batch: Vec<NewMessage> = (0..40)
        .map(|i| {
            let chat = if i % 2 == 0 { RUST } else { CRYPTO };
            let user = if i % 8 == 0 { JANE } else { BOB };
            let flagged = i % 4 == 0;
            let text = if flagged {
                format!("win big at https://casino.example/{i} now")
            } else {
                format!("hello number {i}")
            };
            message(chat, i, user, T0 + i * 60, &text, flagged)
        })
        .collect();
    w.commit(WriteOp::RecordMessages(batch)).unwrap();
    w.enqueue_action(
        NewAction {
            kind: "delete".into(),
            chat_id: RUST,
            user_id: Some(JANE),
            message_id: Some(32),
            params: json!(null),
            requested_by: "rule:links".into(),
            reason: "link spam".into(),
            idempotency_key: "d32".into(),
            dry_run: false,
        },
        T0 + 32 * 60 + 1,
    )
    .unwrap();
    w.add_label(NewLabel {
        chat_id: Some(RUST),
        message_id: Some(24),
        user_id: Some(JANE),
        text: "win big".into(),
        label: "spam".into(),
        origin: "moderator".into(),
        by: "mod:alice".into(),
        ts: T0 + 3_000,
    })
    .unwrap();
    w.add_strike(NewStrike {
        chat_id: RUST,
        user_id: JANE,
        reason: "posted a casino link".into(),
        source: "rule:links".into(),
        ts: T0 + 100,
        expires_at: Some(T0 + 86_400),
        message_id: Some(0),
    })
    .unwrap();
    w.add_strike(NewStrike {
        chat_id: CRYPTO,
        user_id: BOB,
        reason: "flooding".into(),
        source: "mod:alice".into(),
        ts: T0 + 200,
        expires_at: None,
        message_id: None,
    })
    .unwrap();
    w.add_restriction(NewRestriction {
        chat_id: RUST,
        user_id: JANE,
        kind: "ban".into(),
        since: T0 + 300,
        until: None,
        reason: "scam links".into(),
        by: "mod:bob".into(),
    })
    .unwrap();
    w.commit(WriteOp::SetUserTrust {
        user_id: BOB,
        trust: "trusted".into(),
        by: "mod:alice".into(),
        at: T0 + 400,
    })
    .unwrap();
    w.save_rule(
        "big_score",
        &json!({"name": "big_score", "priority": 10,
                "conditions": {"type": "score_gt", "value": 0.99}, "actions": ["delete"]})
        .to_string(),
        "system",
        T0,
    )
    .unwrap();
}

fn source(store: &Store, live: &SharedView) -> AppSource {
    AppSource::new(
        store.reader().unwrap(),
        live.clone(),
        &PolicyConfig::default(),
    )
}

fn query(offset: usize, limit: usize, filter: &str) -> PageQuery {
    PageQuery {
        offset,
        limit,
        filter: Filter::parse(filter),
        until: None,
    }
}

fn ids(page: &[warden_ui::FeedRow]) -> Vec<i64> {
    page.iter().map(|r| r.message_id).collect()
}

#[test]
fn feed_pages_newest_first_and_freeze_anchor_holds_while_rows_arrive() {
    let (_dir, store) = temp_store();
    seed(&store);
    let live = SharedView::default();
    let src = source(&store, &live);
    let first = src.feed(&query(0, 4, ""));
    assert_eq!(first.total, 10);
    assert_eq!(ids(&first.rows), vec![36, 32, 28, 24]);
    let second = src.feed(&query(4, 4, ""));
    assert_eq!(ids(&second.rows), vec![20, 16, 12, 8]);
    assert_eq!(ids(&src.feed(&query(8, 4, "")).rows), vec![4, 0]);

    // Freeze on the newest row, then more flagged rows arrive.
    let anchor = first.rows[0].seq;
    let batch = (40..44)
        .map(|i| message(RUST, i, BOB, T0 + i * 60, "more casino", true))
        .collect();
    store
        .writer()
        .commit(WriteOp::RecordMessages(batch))
        .unwrap();
    let frozen = PageQuery {
        until: Some(anchor),
        ..query(0, 4, "")
    };
    let page = src.feed(&frozen);
    assert_eq!(page.total, 10, "a frozen feed neither grows nor shifts");
    assert_eq!(ids(&page.rows), vec![36, 32, 28, 24]);
    // The running feed sees them: the cached total is topped up with the new rows.
    let running = src.feed(&query(0, 2, ""));
    assert_eq!(running.total, 14);
    assert_eq!(ids(&running.rows), vec![43, 42]);
    // The runtime publishing its newest row id is enough to find more.
    let batch = vec![message(RUST, 50, BOB, T0 + 50 * 60, "casino", true)];
    store
        .writer()
        .commit(WriteOp::RecordMessages(batch))
        .unwrap();
    let newest = store.reader().unwrap().newest_flagged_id().unwrap();
    live.publish(LiveView {
        newest_flagged: newest as u64,
        ..LiveView::default()
    });
    assert_eq!(src.feed(&query(0, 1, "")).total, 15);
}

#[test]
fn feed_rows_carry_names_verdict_reasons_actions_and_labels() {
    let (_dir, store) = temp_store();
    seed(&store);
    let live = SharedView::default();
    let src = source(&store, &live);
    let rows = src.feed(&query(0, 10, "")).rows;
    let deleted = rows.iter().find(|r| r.message_id == 32).unwrap();
    assert_eq!(deleted.chat_title, "Rust Users");
    assert_eq!(deleted.user_name, "Jane Doe");
    assert_eq!(deleted.username.as_deref(), Some("jdoe"));
    assert_eq!(deleted.user_id, JANE);
    assert_eq!(deleted.verdict, Verdict::Spam);
    assert!((deleted.score - 0.92).abs() < 1e-6);
    assert_eq!(deleted.reasons, vec!["link", "money"]);
    assert_eq!(deleted.action, "delete pending");
    assert_eq!(deleted.label, None);
    let labelled = rows.iter().find(|r| r.message_id == 24).unwrap();
    assert_eq!(labelled.label, Some(Label::Spam));
    assert_eq!(labelled.action, "—");
    let bob = rows.iter().find(|r| r.message_id == 36).unwrap();
    assert_eq!(bob.user_name, "Bob");
    assert_eq!(bob.username, None);
    assert_eq!(bob.label, None);
    assert_eq!(bob.chat_title, "Rust Users");
}

#[test]
fn feed_filter_fields_and_words() {
    let (_dir, store) = temp_store();
    seed(&store);
    let live = SharedView::default();
    let src = source(&store, &live);
    let feed = |f: &str| {
        let page = src.feed(&query(0, 50, f));
        assert_eq!(page.total, page.rows.len(), "total matches rows for {f}");
        ids(&page.rows)
    };
    // Messages 0..40 step 4 are flagged; even ids are in Rust Users; 0, 8, 16... are Jane's.
    assert_eq!(feed("chat:rust").len(), 10);
    assert_eq!(feed("chat:crypto"), Vec::<i64>::new());
    assert_eq!(feed("user:@jdoe"), vec![32, 24, 16, 8, 0]);
    assert_eq!(feed("user:bob"), vec![36, 28, 20, 12, 4]);
    assert_eq!(feed("action:delete"), vec![32]);
    assert_eq!(feed("by:links"), vec![32]);
    let day = 86_400;
    let date = |t: i64| {
        let days = t.div_euclid(day);
        // 2023-11-14 is T0's day; compute via the filter parser's own format.
        let (y, m, d) = civil(days);
        format!("{y:04}-{m:02}-{d:02}")
    };
    assert_eq!(feed(&format!("since:{}", date(T0))).len(), 10);
    assert_eq!(feed(&format!("before:{}", date(T0))).len(), 0);
    assert_eq!(feed("casino.example/2"), vec![28, 24, 20]);
    assert_eq!(feed("CASINO user:@jdoe chat:rust"), vec![32, 24, 16, 8, 0]);
    assert_eq!(feed("nothing-like-this"), Vec::<i64>::new());
}

/// Days since 1970-01-01 → (year, month, day).
fn civil(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[test]
fn history_merges_strikes_bans_and_audit_newest_first_with_filters() {
    let (_dir, store) = temp_store();
    seed(&store);
    let live = SharedView::default();
    let src = source(&store, &live);
    let page = src.history(&query(0, 50, ""));
    assert!(page.rows.windows(2).all(|w| w[0].time >= w[1].time));
    // Labels and enqueued actions are audit rows too; the mirrored strike/ban rows are not.
    let kinds: Vec<(HistoryKind, &str)> = page
        .rows
        .iter()
        .filter(|h| h.kind != HistoryKind::Audit || h.action == "user_trust")
        .map(|h| (h.kind, h.action.as_str()))
        .collect();
    assert!(page.rows.iter().any(|h| h.action == "label_spam"));
    assert!(
        !page
            .rows
            .iter()
            .any(|h| h.kind == HistoryKind::Audit && h.action == "strike")
    );
    assert_eq!(
        &kinds[..],
        &[
            (HistoryKind::Audit, "user_trust"),
            (HistoryKind::Ban, "ban"),
            (HistoryKind::Strike, "strike"),
            (HistoryKind::Strike, "strike"),
        ]
    );
    assert_eq!(page.total, page.rows.len());
    let ban = page
        .rows
        .iter()
        .find(|h| h.kind == HistoryKind::Ban)
        .unwrap();
    assert_eq!(ban.actor, "mod:bob");
    assert_eq!(ban.chat_title, "Rust Users");
    assert!(ban.user.contains("Jane Doe"), "{}", ban.user);
    assert_eq!(ban.reason, "scam links");
    let by_alice = src.history(&query(0, 50, "by:alice"));
    assert!(by_alice.rows.iter().all(|h| h.actor == "mod:alice"));
    assert!(by_alice.rows.iter().any(|h| h.kind == HistoryKind::Strike));
    assert!(by_alice.rows.iter().any(|h| h.action == "user_trust"));
    let bans = src.history(&query(0, 50, "action:ban"));
    assert_eq!(bans.total, 1);
    assert_eq!(bans.rows[0].kind, HistoryKind::Ban);
    let crypto = src.history(&query(0, 50, "chat:crypto action:strike"));
    assert_eq!(crypto.total, 1);
    assert_eq!(crypto.rows[0].reason, "flooding");
    let words = src.history(&query(0, 50, "casino"));
    assert_eq!(words.total, 1);
    assert_eq!(words.rows[0].reason, "posted a casino link");
}

#[test]
fn user_view_from_the_store_and_find_user() {
    let (_dir, store) = temp_store();
    seed(&store);
    let live = SharedView::default();
    let src = source(&store, &live);
    let jane = src.user(JANE).unwrap();
    assert_eq!(jane.name, "Jane Doe");
    assert_eq!(jane.username.as_deref(), Some("jdoe"));
    assert_eq!(jane.chats.len(), 1);
    assert_eq!(jane.chats[0].chat_title, "Rust Users");
    assert_eq!(jane.chats[0].messages, 5);
    assert_eq!(jane.strikes.len(), 1);
    assert_eq!(jane.strikes[0].source, "rule:links");
    assert_eq!(jane.bans.len(), 1);
    assert_eq!(jane.bans[0].by, "mod:bob");
    assert_eq!(jane.recent.len(), 5);
    assert_eq!(jane.recent[0].hits, vec!["link", "money"]);
    assert_eq!(jane.score_history.len(), 5);
    assert!(jane.est_account_age_days.is_some());
    assert!(jane.userbot.is_none(), "no user account in tests");
    assert!(!jane.trusted);
    let bob = src.user(BOB).unwrap();
    assert!(bob.trusted);
    assert!(bob.labels.is_empty());
    assert_eq!(jane.labels.len(), 1);
    assert!(jane.labels[0].contains("mod:alice"), "{:?}", jane.labels);
    assert!(src.user(999).is_none());
    assert_eq!(src.find_user("@jdoe"), Some(JANE));
    assert_eq!(src.find_user("@JDOE"), Some(JANE));
    assert_eq!(src.find_user("Jane Doe"), Some(JANE));
    assert_eq!(src.find_user("41"), Some(BOB));
    assert_eq!(src.find_user("@nobody"), None);
}

#[test]
fn rules_come_from_the_live_view_else_the_store() {
    let (_dir, store) = temp_store();
    seed(&store);
    let live = SharedView::default();
    let src = source(&store, &live);
    let stored = src.rules();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].name, "big_score");
    assert_eq!(stored[0].priority, 10);
    assert!(stored[0].enabled);
    assert!(src.validate_rule(&stored[0].text).is_ok());
    live.publish(LiveView {
        rules: vec![RuleRow {
            name: "live".into(),
            hits: 7,
            ..RuleRow::default()
        }],
        ..LiveView::default()
    });
    assert_eq!(src.rules()[0].hits, 7);
}

#[test]
fn rule_validation_points_at_line_and_column() {
    let (_dir, store) = temp_store();
    seed(&store);
    let live = SharedView::default();
    let src = source(&store, &live);
    let good = "{\n  \"name\": \"casino\",\n  \"conditions\": {\"type\": \"text_matches\", \"value\": \"casino\"},\n  \"actions\": [\"delete\"]\n}";
    assert_eq!(src.validate_rule(good), Ok(()));
    // A JSON syntax error: the missing comma at the end of line 2.
    let broken = "{\n  \"name\": \"casino\"\n  \"actions\": [\"delete\"]\n}";
    let error = src.validate_rule(broken).unwrap_err();
    assert_eq!((error.line, error.column), (3, 3), "{error:?}");
    // A rule error: the unknown condition type on line 3, column of its value.
    let unknown = "{\n  \"name\": \"x\",\n  \"conditions\": {\"type\": \"nope\"},\n  \"actions\": [\"delete\"]\n}";
    let error = src.validate_rule(unknown).unwrap_err();
    assert_eq!(error.line, 3, "{error:?}");
    assert!(error.message.contains("nope"), "{error:?}");
    // Line 1 columns are those of the text as typed (the wrapping bracket is not counted).
    let one_line =
        "{\"name\": \"x\", \"conditions\": {\"type\": \"nope\"}, \"actions\": [\"delete\"]}";
    let error = src.validate_rule(one_line).unwrap_err();
    assert_eq!(error.line, 1);
    let at = one_line.find("\"nope\"").unwrap() + 1;
    assert!(
        error.column.abs_diff(at) <= 1,
        "column {} vs {at}",
        error.column
    );
    // A whole rules file is accepted too.
    assert_eq!(
        src.validate_rule(&format!("[{good}]")),
        Ok(()),
        "a list of rules"
    );
}

#[test]
fn backtest_compares_the_edit_with_the_current_rules() {
    let (_dir, store) = temp_store();
    seed(&store);
    let live = SharedView::default();
    let src = source(&store, &live);
    let casino = r#"{"name": "casino", "conditions": {"type": "link_domain_in", "value": ["casino.example"]}, "actions": ["delete"]}"#;
    let summary = src.backtest_rule(casino);
    assert_eq!(summary.messages_checked, 40);
    assert_eq!(summary.would_flag, 10);
    assert_eq!(summary.newly_flagged, 10);
    assert_eq!(summary.no_longer_flagged, 0);
    assert_eq!(summary.examples.len(), 3);
    assert!(summary.examples[0].contains("casino.example"));
    // Editing the stored rule so it matches everything, then back to nothing.
    let everything = r#"{"name": "big_score", "conditions": {"type": "score_gt", "value": 0}, "actions": ["delete"]}"#;
    let summary = src.backtest_rule(everything);
    assert_eq!(summary.would_flag, 40);
    assert_eq!(summary.newly_flagged, 40);
    let broken = src.backtest_rule("{");
    assert_eq!(broken.messages_checked, 0);
}

#[test]
fn stats_fill_from_store_aggregates_when_the_view_has_none() {
    let (_dir, store) = temp_store();
    seed(&store);
    let live = SharedView::default();
    let mut view = LiveView::default();
    view.status.now = T0 + 40 * 60;
    live.publish(view);
    let src = source(&store, &live);
    let stats = src.stats();
    assert_eq!(stats.messages_per_sec.len(), 61);
    assert!(stats.messages_per_sec.iter().sum::<u64>() > 0);
    assert!(stats.flagged_per_sec.iter().sum::<u64>() > 0);
    assert_eq!(stats.top_signals[0].1, 10);
    assert!(stats.top_signals.iter().any(|(n, _)| n == "link"));
    assert_eq!(stats.actions_by_kind, vec![("delete".to_string(), 1)]);
    assert_eq!(stats.risk_distribution.len(), 10);
    assert_eq!(src.status().now, T0 + 40 * 60);
}

// ---------- headless scripted console ----------

fn key(code: KeyCode) -> Event {
    Event::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

fn chars(text: &str) -> Vec<Event> {
    text.chars().map(|c| key(KeyCode::Char(c))).collect()
}

struct Harness {
    app: ConsoleLoop,
    terminal: Terminal<TestBackend>,
    commands: mpsc::Receiver<ToRuntime>,
}

impl Harness {
    fn new(store: &Store, live: &SharedView) -> (Harness, mpsc::Sender<Notice>) {
        let (to_runtime, commands) = mpsc::channel();
        let (notify, notices) = mpsc::channel();
        let console = build_console(&ConsoleOptions::default()).unwrap();
        let app = ConsoleLoop::new(console, source(store, live), to_runtime, notices);
        let terminal = Terminal::new(TestBackend::new(120, 40)).unwrap();
        (
            Harness {
                app,
                terminal,
                commands,
            },
            notify,
        )
    }

    /// One loop turn as the real terminal loop does it.
    fn send(&mut self, events: Vec<Event>) -> Vec<Effect> {
        let mut effects = Vec::new();
        for event in events {
            effects.extend(self.app.handle_event(event));
            self.frame();
        }
        effects
    }

    fn frame(&mut self) {
        self.app.pump(Instant::now());
        if self.app.console.needs_redraw() {
            self.app.draw(&mut self.terminal).unwrap();
        }
    }

    fn screen(&self) -> String {
        let buffer = self.terminal.backend().buffer();
        let mut out = String::new();
        for y in 0..buffer.area.height {
            for x in 0..buffer.area.width {
                out.push_str(buffer[(x, y)].symbol());
            }
            out.push('\n');
        }
        out
    }
}

/// A fake runtime: carries out bans by writing the restriction, answers with a notice and
/// publishes a new view.
fn fake_runtime(
    store: Store,
    live: SharedView,
    commands: mpsc::Receiver<ToRuntime>,
    notify: mpsc::Sender<Notice>,
    seen: mpsc::Sender<ToRuntime>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        while let Ok(message) = commands.recv() {
            let _ = seen.send(message.clone());
            match message {
                ToRuntime::Command(Command::Ban {
                    user, chat, reason, ..
                }) => {
                    store
                        .writer()
                        .add_restriction(NewRestriction {
                            chat_id: chat.unwrap_or(RUST),
                            user_id: user,
                            kind: "ban".into(),
                            since: T0 + 9_000,
                            until: None,
                            reason,
                            by: "mod:console".into(),
                        })
                        .unwrap();
                    let _ = notify.send(Notice {
                        text: format!("banned {user}"),
                        is_error: false,
                    });
                    let view = live.lock().clone();
                    live.publish(view);
                }
                ToRuntime::Quit => break,
                _ => {}
            }
        }
    })
}

#[test]
fn scripted_ban_goes_through_the_confirmation_to_the_runtime_and_back() {
    let (_dir, store) = temp_store();
    seed(&store);
    let live = SharedView::default();
    let (mut h, notify) = Harness::new(&store, &live);
    h.frame();
    assert!(h.screen().contains("@jdoe"), "{}", h.screen());
    assert_eq!(h.app.console.feed_selected().unwrap().message_id, 36);
    // Move to message 32 (Jane's), press b: a confirmation, defaulting to Cancel.
    h.send(vec![key(KeyCode::Char('j')), key(KeyCode::Char('b'))]);
    let (pending, focus) = h.app.console.pending_confirmation().unwrap();
    assert!(matches!(pending, Command::Ban { user: JANE, .. }));
    assert_eq!(focus, warden_ui::ConfirmFocus::Cancel);
    assert!(h.screen().contains("Ban user"));
    // Enter on Cancel sends nothing.
    h.send(vec![key(KeyCode::Enter)]);
    assert!(h.app.console.popup().is_none());
    assert!(h.commands.try_recv().is_err());

    // Now with a reason, then Enter twice (reason → Confirm → send).
    let (runtime_in, runtime_rx) = mpsc::channel();
    let (seen_tx, seen) = mpsc::channel();
    // Route the console's channel through the fake runtime.
    let console_out = std::mem::replace(&mut h.commands, runtime_rx);
    let runtime = fake_runtime(store.clone(), live.clone(), console_out, notify, seen_tx);
    let _keep = runtime_in;
    h.send(vec![key(KeyCode::Char('b'))]);
    h.send(chars(" spam ring"));
    h.send(vec![key(KeyCode::Enter), key(KeyCode::Enter)]);
    let sent = seen.recv_timeout(Duration::from_secs(5)).unwrap();
    match sent {
        ToRuntime::Command(Command::Ban {
            user,
            chat,
            duration,
            reason,
        }) => {
            assert_eq!((user, chat, duration), (JANE, Some(RUST), None));
            assert!(reason.ends_with("spam ring"), "{reason}");
        }
        other => panic!("expected a ban, got {other:?}"),
    }
    // The runtime's notice and its new view reach the console.
    let deadline = Instant::now() + Duration::from_secs(5);
    while h
        .app
        .console
        .toast()
        .is_none_or(|t| !t.text.starts_with("banned"))
        && Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(5));
        h.frame();
    }
    assert_eq!(
        h.app.console.toast().map(|t| t.text.as_str()),
        Some(&*format!("banned {JANE}"))
    );
    // The History pane shows the new ban.
    h.send(vec![key(KeyCode::Char('6'))]);
    assert_eq!(h.app.console.focus(), Pane::History);
    assert!(h.screen().contains("mod:console"), "{}", h.screen());
    // q quits: the runtime is told.
    let effects = h.send(vec![key(KeyCode::Char('q'))]);
    assert_eq!(effects, vec![Effect::Quit]);
    assert_eq!(
        seen.recv_timeout(Duration::from_secs(5)).unwrap(),
        ToRuntime::Quit
    );
    runtime.join().unwrap();
}

#[test]
fn scripted_keys_map_to_runtime_commands() {
    let (_dir, store) = temp_store();
    seed(&store);
    let live = SharedView::default();
    let (mut h, _notify) = Harness::new(&store, &live);
    h.frame();
    // x labels the selected message as spam: no confirmation, straight out; u undoes it.
    h.send(vec![key(KeyCode::Char('x')), key(KeyCode::Char('u'))]);
    assert_eq!(
        h.commands.try_recv().unwrap(),
        ToRuntime::Command(Command::LabelSpam {
            chat: RUST,
            message: 36,
            user: BOB
        })
    );
    assert_eq!(
        h.commands.try_recv().unwrap(),
        ToRuntime::Command(Command::UndoLabel {
            chat: RUST,
            message: 36
        })
    );
    // The command line resolves @usernames through the store.
    h.send(vec![key(KeyCode::Char(':'))]);
    h.send(chars("ban @jdoe 7d scam"));
    h.send(vec![key(KeyCode::Enter)]);
    let (pending, _) = h.app.console.pending_confirmation().unwrap();
    assert!(
        matches!(
            pending,
            Command::Ban {
                user: JANE,
                duration: Some(604_800),
                ..
            }
        ),
        "{pending:?}"
    );
    // Tab from Cancel to Confirm, Enter sends.
    h.send(vec![key(KeyCode::Tab), key(KeyCode::Enter)]);
    assert!(matches!(
        h.commands.try_recv().unwrap(),
        ToRuntime::Command(Command::Ban { user: JANE, .. })
    ));
    // Mouse capture and suspend are the terminal's business, not the runtime's.
    let effects = h.send(vec![key(KeyCode::Char('M'))]);
    assert_eq!(effects, vec![Effect::MouseCapture(false)]);
    let effects = h.send(vec![Event::Key(KeyEvent::new(
        KeyCode::Char('z'),
        KeyModifiers::CONTROL,
    ))]);
    assert_eq!(effects, vec![Effect::Suspend]);
    assert!(h.commands.try_recv().is_err());
    // Ctrl-C quits from anywhere, even inside a popup.
    h.send(vec![key(KeyCode::Char('?'))]);
    assert!(matches!(h.app.console.popup(), Some(Popup::Help { .. })));
    let effects = h.send(vec![Event::Key(KeyEvent::new(
        KeyCode::Char('c'),
        KeyModifiers::CONTROL,
    ))]);
    assert_eq!(effects, vec![Effect::Quit]);
    assert_eq!(h.commands.try_recv().unwrap(), ToRuntime::Quit);
}

#[test]
fn frames_are_coalesced_across_many_publishes() {
    let (_dir, store) = temp_store();
    seed(&store);
    let live = SharedView::default();
    let (mut h, _notify) = Harness::new(&store, &live);
    h.frame();
    let before = h.app.frames;
    for _ in 0..500 {
        let view = live.lock().clone();
        live.publish(view);
    }
    // However many publishes happened, the next turn draws one frame.
    h.frame();
    h.frame();
    assert_eq!(h.app.frames, before + 1);
    assert!(!h.app.console.needs_redraw());
    // Nothing changed: no frame.
    h.frame();
    assert_eq!(h.app.frames, before + 1);
}

#[test]
fn a_bad_keymap_file_is_an_error_naming_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keymap.toml");
    std::fs::write(&path, "[feed]\nban = \"b\"\nnot_a_command = \"y\"\n").unwrap();
    let options = ConsoleOptions {
        keymap_file: Some(path.clone()),
        ..ConsoleOptions::default()
    };
    let error = build_console(&options).err().unwrap().to_string();
    assert!(error.contains("keymap.toml"), "{error}");
    assert!(error.contains("not_a_command"), "{error}");
    // A valid override applies; a missing file means the defaults.
    std::fs::write(&path, "[feed]\nban = \"K\"\n").unwrap();
    assert!(build_console(&options).is_ok());
    let missing = ConsoleOptions {
        keymap_file: Some(dir.path().join("nope.toml")),
        ..ConsoleOptions::default()
    };
    assert!(build_console(&missing).is_ok());
}

#[test]
fn deep_feed_pages_match_plain_offsets_whichever_way_they_are_read() {
    let (_dir, store) = temp_store();
    seed(&store);
    // 12,000 more flagged rows, some sharing a timestamp (keys break ties by row id).
    let batch: Vec<NewMessage> = (100..12_100)
        .map(|i| message(RUST, i, BOB, T0 + 10_000 + i / 3, "bulk", true))
        .collect();
    store
        .writer()
        .commit(WriteOp::RecordMessages(batch))
        .unwrap();
    let live = SharedView::default();
    let src = source(&store, &live);
    let reader = store.reader().unwrap();
    let all = FeedFilter::default();
    let check = |offset: usize, limit: usize| {
        let page = src.feed(&query(offset, limit, ""));
        assert_eq!(page.total, 12_010);
        let expected: Vec<i64> = reader
            .flagged_window(&all, None, offset, limit)
            .unwrap()
            .iter()
            .map(|m| m.message_id)
            .collect();
        assert_eq!(ids(&page.rows), expected, "window at {offset}+{limit}");
    };
    // Scrolling down and up past the direct-offset range, a jump to the bottom, the middle.
    for offset in [6_000, 6_020, 6_040, 6_030, 6_001, 5_990, 5_960] {
        check(offset, 60);
    }
    check(11_950, 60);
    check(11_990, 60);
    check(12_000, 60);
    check(8_000, 60);
    check(7_990, 60);
}

#[test]
fn investigator_shows_what_the_user_account_found() {
    let (_dir, store) = temp_store();
    seed(&store);
    let live = SharedView::default();
    let src = source(&store, &live);
    assert_eq!(
        src.user(JANE).unwrap().userbot,
        None,
        "no user account: the pane says it needs one"
    );
    live.publish(LiveView {
        user_account: true,
        ..LiveView::default()
    });
    let waiting = src.user(JANE).unwrap().userbot.unwrap();
    assert_eq!(waiting.elsewhere, vec!["asking the user account…"]);
    let mut userbot = std::collections::HashMap::new();
    userbot.insert(
        JANE,
        warden_ui::UserbotView {
            bio: Some("crypto signals, DM".into()),
            common_chats: vec!["Rust Users".into(), "Pump Group".into()],
            elsewhere: Vec::new(),
        },
    );
    live.publish(LiveView {
        user_account: true,
        userbot,
        ..LiveView::default()
    });
    let found = src.user(JANE).unwrap().userbot.unwrap();
    assert_eq!(found.bio.as_deref(), Some("crypto signals, DM"));
    assert_eq!(found.common_chats.len(), 2);
}
