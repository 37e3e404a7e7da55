//! A fake data source with a believable community, and helpers to drive and draw the console.
#![allow(dead_code)]

use std::cell::{Cell, RefCell};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use warden_ui::*;

pub const NOW: Timestamp = 1_717_000_000;

pub struct Fake {
    pub feed_rows: usize,
    pub status: StatusView,
    pub rules: Vec<RuleRow>,
    /// Largest `limit` any paged query asked for, and how many page queries ran.
    pub max_limit: Cell<usize>,
    pub queries: Cell<usize>,
    pub validated: RefCell<Vec<String>>,
}

const NAMES: [(&str, Option<&str>); 8] = [
    ("Crypto Queen 💎", Some("cryptoqueen88")),
    ("Anna Petrova", Some("anna_p")),
    ("Free Airdrop", None),
    ("Марк", Some("mark_ru")),
    ("Investor Bob", Some("bob_invests")),
    ("Julia", None),
    ("Tom (support)", Some("support_tom")),
    ("Lena", Some("lena_k")),
];

const TEXTS: [&str; 4] = [
    "🚀 Earn 500$ a day from home! DM me for details 👉 t.me/+abcdef",
    "Anyone knows how to fix borrow checker errors with async closures?",
    "Free airdrop for the first 100 members, claim at bit.ly/xyz",
    "I made 3 BTC last week with this signal group, join now!!!",
];

impl Fake {
    pub fn new() -> Fake {
        Fake::with_feed(40)
    }

    pub fn with_feed(feed_rows: usize) -> Fake {
        Fake {
            feed_rows,
            status: StatusView {
                accounts: vec![
                    AccountStatus {
                        kind: AccountKind::Bot,
                        connection: Connection::Connected,
                        flood_wait: None,
                    },
                    AccountStatus {
                        kind: AccountKind::User,
                        connection: Connection::Connected,
                        flood_wait: Some(42),
                    },
                ],
                mode: Mode::Live,
                chats: vec![
                    ChatInfo {
                        id: -1001,
                        title: "Rust Beginners".into(),
                        username: Some("rustbeginners".into()),
                        bunker: false,
                        slow_mode: 0,
                    },
                    ChatInfo {
                        id: -1002,
                        title: "Rust Jobs".into(),
                        username: None,
                        bunker: true,
                        slow_mode: 30,
                    },
                ],
                pending_actions: 0,
                last_error: None,
                now: NOW,
                prompt: None,
            },
            rules: vec![
                RuleRow {
                    name: "links-from-newcomers".into(),
                    priority: 10,
                    enabled: true,
                    shadow: false,
                    hits: 1_204,
                    text: "when message.has_link and user.age < 1d\n  then delete, strike \"links from newcomers\"".into(),
                },
                RuleRow {
                    name: "crypto-words".into(),
                    priority: 20,
                    enabled: true,
                    shadow: true,
                    hits: 87,
                    text: "when message.text ~ \"(airdrop|btc|usdt)\"\n  then flag".into(),
                },
                RuleRow {
                    name: "forwarded-channels".into(),
                    priority: 30,
                    enabled: false,
                    shadow: false,
                    hits: 0,
                    text: "when message.forward.from_channel\n  then delete".into(),
                },
            ],
            max_limit: Cell::new(0),
            queries: Cell::new(0),
            validated: RefCell::new(Vec::new()),
        }
    }

    fn note(&self, query: &PageQuery) {
        self.queries.set(self.queries.get() + 1);
        self.max_limit.set(self.max_limit.get().max(query.limit));
    }

    /// Row `index` from the newest; its content depends only on its `seq`, as a store's would.
    pub fn feed_row(&self, index: usize) -> FeedRow {
        let seq = (self.feed_rows - index) as u64;
        let k = seq as usize;
        let index = (40 - k % 40) % 40;
        let (name, username) = NAMES[index % NAMES.len()];
        let verdict = match index % 3 {
            0 => Verdict::Spam,
            1 => Verdict::Suspect,
            _ => Verdict::Clean,
        };
        FeedRow {
            seq,
            time: NOW - 40 * 37 + (seq as i64) * 37,
            chat_id: if index.is_multiple_of(2) {
                -1001
            } else {
                -1002
            },
            chat_title: if index.is_multiple_of(2) {
                "Rust Beginners"
            } else {
                "Rust Jobs"
            }
            .into(),
            user_id: 5_000_000_000 + (index % NAMES.len()) as i64,
            user_name: name.into(),
            username: username.map(String::from),
            message_id: 10_000 + seq as i64,
            text: TEXTS[index % TEXTS.len()].into(),
            verdict,
            score: match verdict {
                Verdict::Spam => 0.97,
                Verdict::Suspect => 0.62,
                Verdict::Clean => 0.31,
            },
            reasons: match verdict {
                Verdict::Spam => vec![
                    "link-in-first-msg".into(),
                    "stop-words".into(),
                    "new-account".into(),
                ],
                Verdict::Suspect => vec!["emoji-flood".into(), "lookalike-name".into()],
                Verdict::Clean => vec!["low-confidence".into()],
            },
            action: match verdict {
                Verdict::Spam => "deleted+ban",
                Verdict::Suspect => "strike",
                Verdict::Clean => "—",
            }
            .into(),
            label: (seq == 38).then_some(Label::Ham),
        }
    }
}

impl DataSource for Fake {
    fn feed(&self, query: &PageQuery) -> Page<FeedRow> {
        self.note(query);
        let skip = query
            .until
            .map_or(0, |until| self.feed_rows.saturating_sub(until as usize));
        if !query.filter.is_empty() {
            // Small in-memory filter for the few-row fakes.
            let rows: Vec<FeedRow> = (skip..self.feed_rows.min(10_000))
                .map(|i| self.feed_row(i))
                .filter(|r| {
                    query
                        .filter
                        .matches_words(&[&r.text, &r.user_name, &r.chat_title])
                })
                .collect();
            let total = rows.len();
            return Page {
                rows: rows
                    .into_iter()
                    .skip(query.offset)
                    .take(query.limit)
                    .collect(),
                total,
            };
        }
        let total = self.feed_rows - skip;
        let end = (query.offset + query.limit).min(total);
        Page {
            rows: (query.offset.min(end)..end)
                .map(|i| self.feed_row(i + skip))
                .collect(),
            total,
        }
    }

    fn alerts(&self, query: &PageQuery) -> Page<AlertRow> {
        self.note(query);
        let rows = vec![
            AlertRow {
                id: 1,
                time: NOW - 40,
                chat_id: -1001,
                chat_title: "Rust Beginners".into(),
                kind: AlertKind::Raid {
                    join_rate: vec![
                        1, 0, 2, 1, 1, 3, 8, 19, 42, 57, 61, 48, 30, 22, 12, 9, 4, 3, 2, 2,
                    ],
                    state: RaidState::BunkerOn,
                },
                summary: "61 joins in one minute from 3 invite links".into(),
                user_id: None,
                countdown: Some(252),
            },
            AlertRow {
                id: 2,
                time: NOW - 300,
                chat_id: -1002,
                chat_title: "Rust Jobs".into(),
                kind: AlertKind::AdminBan {
                    admin: "@alice_mod".into(),
                },
                summary: "@bob_invests banned by @alice_mod".into(),
                user_id: Some(5_000_000_004),
                countdown: None,
            },
            AlertRow {
                id: 3,
                time: NOW - 600,
                chat_id: -1001,
                chat_title: "Rust Beginners".into(),
                kind: AlertKind::FailedAction {
                    action: "ban".into(),
                    error: "the bot is not an admin in this chat".into(),
                },
                summary: "ban of @free_airdrop failed".into(),
                user_id: Some(5_000_000_002),
                countdown: None,
            },
            AlertRow {
                id: 4,
                time: NOW - 900,
                chat_id: -1002,
                chat_title: "Rust Jobs".into(),
                kind: AlertKind::LowConfidenceHam { score_pct: 48 },
                summary: "\"hiring remote rust devs, DM\" let through".into(),
                user_id: Some(5_000_000_006),
                countdown: None,
            },
            AlertRow {
                id: 5,
                time: NOW - 1000,
                chat_id: -1001,
                chat_title: "Rust Beginners".into(),
                kind: AlertKind::FloodWait {
                    account: "bot".into(),
                },
                summary: "Telegram asks the bot to wait".into(),
                user_id: None,
                countdown: Some(42),
            },
        ];
        let total = rows.len();
        Page {
            rows: rows
                .into_iter()
                .skip(query.offset)
                .take(query.limit)
                .collect(),
            total,
        }
    }

    fn clusters(&self, query: &PageQuery) -> Page<ClusterRow> {
        self.note(query);
        let rows = vec![
            ClusterRow {
                id: 7,
                score: 0.91,
                members: 6,
                banned: 2,
                flagged: 3,
                signals: vec![
                    "same invite link".into(),
                    "bio link".into(),
                    "join timing".into(),
                ],
            },
            ClusterRow {
                id: 3,
                score: 0.55,
                members: 3,
                banned: 0,
                flagged: 1,
                signals: vec!["lookalike names".into()],
            },
        ];
        let total = rows.len();
        Page {
            rows: rows
                .into_iter()
                .skip(query.offset)
                .take(query.limit)
                .collect(),
            total,
        }
    }

    fn cluster(&self, id: ClusterId) -> Option<ClusterView> {
        let member = |i: usize, state, x, y| ClusterMember {
            user_id: 5_000_000_000 + i as i64,
            name: NAMES[i]
                .1
                .map_or(NAMES[i].0.to_string(), |u| format!("@{u}")),
            state,
            x,
            y,
        };
        let edge = |a, b, kind: &str| ClusterEdge {
            a,
            b,
            kind: kind.into(),
        };
        match id {
            7 => Some(ClusterView {
                id: 7,
                score: 0.91,
                members: vec![
                    member(0, MemberState::Banned, 0.5, 0.5),
                    member(2, MemberState::Banned, 0.15, 0.2),
                    member(4, MemberState::Flagged, 0.85, 0.2),
                    member(5, MemberState::Flagged, 0.15, 0.85),
                    member(6, MemberState::Flagged, 0.85, 0.85),
                    member(7, MemberState::Clean, 0.5, 0.05),
                ],
                edges: vec![
                    edge(0, 1, "invite"),
                    edge(0, 2, "invite"),
                    edge(0, 3, "bio-link"),
                    edge(0, 4, "bio-link"),
                    edge(1, 3, "timing"),
                    edge(2, 4, "timing"),
                    edge(1, 5, "name"),
                ],
            }),
            3 => Some(ClusterView {
                id: 3,
                score: 0.55,
                members: vec![
                    member(1, MemberState::Clean, 0.2, 0.5),
                    member(3, MemberState::Flagged, 0.8, 0.5),
                    member(7, MemberState::Clean, 0.5, 0.1),
                ],
                edges: vec![edge(0, 1, "name"), edge(1, 2, "name")],
            }),
            _ => None,
        }
    }

    fn user(&self, id: UserId) -> Option<UserView> {
        let index = usize::try_from(id - 5_000_000_000)
            .ok()
            .filter(|i| *i < NAMES.len())?;
        let (name, username) = NAMES[index];
        Some(UserView {
            user_id: id,
            name: name.into(),
            username: username.map(String::from),
            est_account_age_days: Some(12),
            chats: vec![
                ChatSeen {
                    chat_title: "Rust Beginners".into(),
                    first_seen: NOW - 3 * 86_400,
                    last_seen: NOW - 120,
                    messages: 14,
                    joined: Some(NOW - 40 * 86_400),
                    how_joined: Some("added by 777".into()),
                },
                ChatSeen {
                    chat_title: "Rust Jobs".into(),
                    first_seen: NOW - 86_400,
                    last_seen: NOW - 3_600,
                    messages: 3,
                    joined: None,
                    how_joined: None,
                },
            ],
            trusted: false,
            whitelisted: false,
            blacklisted: false,
            tags: vec!["crypto-scam".into(), "ring".into()],
            note: Some("same wording as the ring banned last week".into()),
            score: 0.87,
            score_history: vec![5, 8, 10, 12, 30, 45, 60, 72, 80, 87],
            strikes: vec![
                StrikeView {
                    reason: "link in first message".into(),
                    source: "rule:links-from-newcomers".into(),
                    when: NOW - 7_200,
                    expires: Some(NOW + 6 * 86_400),
                    forgiven: false,
                },
                StrikeView {
                    reason: "emoji flood".into(),
                    source: "mod:alice".into(),
                    when: NOW - 2 * 86_400,
                    expires: None,
                    forgiven: true,
                },
            ],
            bans: vec![BanView {
                chat_title: "Rust Jobs".into(),
                when: NOW - 3_000,
                until: Some(NOW + 7 * 86_400),
                by: "mod:alice".into(),
                reason: "crypto spam".into(),
            }],
            labels: vec!["spam ×3".into()],
            recent: vec![
                RecentMessage {
                    time: NOW - 120,
                    chat_title: "Rust Beginners".into(),
                    text: TEXTS[0].into(),
                    verdict: Verdict::Spam,
                    hits: vec!["link-in-first-msg".into(), "stop-words".into()],
                },
                RecentMessage {
                    time: NOW - 3_600,
                    chat_title: "Rust Jobs".into(),
                    text: TEXTS[3].into(),
                    verdict: Verdict::Suspect,
                    hits: vec!["crypto-words".into()],
                },
            ],
            cluster: Some(7),
            userbot: (index != 0).then(|| UserbotView {
                bio: Some("DM for signals 📈".into()),
                common_chats: vec!["Crypto Pumps".into(), "Airdrop Hunters".into()],
                elsewhere: vec!["Crypto Pumps: \"join my VIP group\"".into()],
            }),
        })
    }

    fn find_user(&self, handle: &str) -> Option<UserId> {
        let handle = handle.trim_start_matches('@');
        NAMES
            .iter()
            .position(|(_, u)| *u == Some(handle))
            .map(|i| 5_000_000_000 + i as i64)
    }

    fn rules(&self) -> Vec<RuleRow> {
        self.rules.clone()
    }

    fn history(&self, query: &PageQuery) -> Page<HistoryRow> {
        self.note(query);
        let kinds = [HistoryKind::Ban, HistoryKind::Strike, HistoryKind::Audit];
        let actions = ["ban", "strike", "bunker_on", "label_spam", "forgive"];
        let actors = ["mod:alice", "rule:links", "system", "mod:bob"];
        let rows: Vec<HistoryRow> = (0..25)
            .map(|i| HistoryRow {
                id: 100 - i as u64,
                time: NOW - (i as i64) * 5_400,
                kind: kinds[i % 3],
                actor: actors[i % 4].into(),
                action: actions[i % 5].into(),
                user: NAMES[i % 8]
                    .1
                    .map_or(NAMES[i % 8].0.to_string(), |u| format!("@{u}")),
                chat_title: if i.is_multiple_of(2) {
                    "Rust Beginners"
                } else {
                    "Rust Jobs"
                }
                .into(),
                reason: [
                    "crypto spam",
                    "link in first message",
                    "raid",
                    "appeal accepted",
                ][i % 4]
                    .into(),
            })
            .filter(|r| {
                query
                    .filter
                    .by
                    .as_deref()
                    .is_none_or(|by| r.actor.contains(by))
            })
            .filter(|r| query.filter.matches_words(&[&r.reason, &r.user, &r.action]))
            .collect();
        let total = rows.len();
        Page {
            rows: rows
                .into_iter()
                .skip(query.offset)
                .take(query.limit)
                .collect(),
            total,
        }
    }

    fn stats(&self) -> StatsView {
        StatsView {
            messages_per_sec: (0..120)
                .map(|i| 40 + (i * 37 % 23) + if i > 90 { 60 } else { 0 })
                .collect(),
            flagged_per_sec: (0..120)
                .map(|i| (i * 13 % 7) + if i > 90 { 20 } else { 0 })
                .collect(),
            actions_by_kind: vec![
                ("delete".into(), 1_432),
                ("ban".into(), 312),
                ("strike".into(), 655),
                ("mute".into(), 98),
                ("bunker_on".into(), 3),
            ],
            risk_distribution: (0..10)
                .map(|i| {
                    (
                        format!("{}", i * 10),
                        [900, 420, 210, 130, 80, 60, 45, 70, 120, 260][i],
                    )
                })
                .collect(),
            top_signals: vec![
                ("link-in-first-msg".into(), 820),
                ("stop-words".into(), 611),
                ("new-account".into(), 402),
                ("emoji-flood".into(), 190),
                ("lookalike-name".into(), 75),
            ],
        }
    }

    fn status(&self) -> StatusView {
        self.status.clone()
    }

    fn validate_rule(&self, text: &str) -> Result<(), RuleError> {
        self.validated.borrow_mut().push(text.to_string());
        // Pretend grammar: every non-empty line must start with "when", "then", or two spaces.
        for (i, line) in text.lines().enumerate() {
            if !(line.is_empty()
                || line.starts_with("when")
                || line.starts_with("  ")
                || line.starts_with("then"))
            {
                return Err(RuleError {
                    line: i + 1,
                    column: 1,
                    message: format!(
                        "expected 'when' or 'then', found '{}'",
                        line.split_whitespace().next().unwrap_or("")
                    ),
                });
            }
        }
        if let Some((i, line)) = text.lines().enumerate().find(|(_, l)| l.contains("~ \"("))
            && !line.contains(")\"")
        {
            return Err(RuleError {
                line: i + 1,
                column: line.find('(').unwrap_or(0) + 1,
                message: "unclosed group in pattern".into(),
            });
        }
        Ok(())
    }

    fn backtest_rule(&self, _text: &str) -> BacktestSummary {
        BacktestSummary {
            messages_checked: 25_000,
            would_flag: 1_311,
            newly_flagged: 42,
            no_longer_flagged: 3,
            examples: vec!["Free airdrop for the first 100 members".into()],
        }
    }
}

pub fn console() -> Console {
    Console::new(Keymap::default(), Theme::dark())
}

pub fn key(c: char) -> KeyEvent {
    KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)
}

pub fn code(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

pub fn ctrl(c: char) -> KeyEvent {
    KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)
}

/// Types each character of `text` as a key press; returns all emitted commands.
pub fn type_text(console: &mut Console, data: &Fake, text: &str) -> Vec<Command> {
    text.chars()
        .flat_map(|c| console.handle_key(key(c), data))
        .collect()
}

pub fn press(console: &mut Console, data: &Fake, keys: &[KeyEvent]) -> Vec<Command> {
    keys.iter()
        .flat_map(|k| console.handle_key(*k, data))
        .collect()
}

pub fn draw(console: &mut Console, data: &Fake, width: u16, height: u16) -> Terminal<TestBackend> {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("test backend");
    terminal
        .draw(|frame| console.render(frame, data))
        .expect("draw");
    terminal
}

/// Draws once so lists know their data, as the app's first frame does.
pub fn primed(data: &Fake) -> Console {
    let mut console = console();
    draw(&mut console, data, 120, 40);
    console
}
