//! Store benchmarks: batched message inserts (goal ≥ 100k records/s) and the console's queries on
//! a 1M-message database (goal ≤ 5 ms each).
//!
//! `cargo bench --bench store -- --warm-up-time 1 --measurement-time 3`

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::time::Instant;
use warden_store::*;

const T0: i64 = 1_700_000_000;
const CHATS: i64 = 20;
const USERS: i64 = 50_000;
const FIXTURE_MESSAGES: i64 = 1_000_000;
/// The fixture spans 30 days.
const SPAN: i64 = 30 * 86_400;

/// Small deterministic generator: the fixture is the same on every run.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
    fn below(&mut self, n: i64) -> i64 {
        (self.next() % n as u64) as i64
    }
}

fn chat_id(i: i64) -> i64 {
    -1_000_000_000_000 - i
}

/// The n-th message of a stream: ~5% flagged, with one or two signal hits.
fn message(n: i64, ts: i64, rng: &mut Lcg) -> NewMessage {
    let flagged = rng.below(20) == 0;
    let hits = if flagged {
        let mut hits = vec![NewHit {
            name: ["link", "caps", "phone", "crypto", "new_user"][rng.below(5) as usize].into(),
            weight: 0.4,
            detail: "matched t.me/ link".into(),
        }];
        if rng.below(2) == 0 {
            hits.push(NewHit {
                name: "lookalike".into(),
                weight: 0.3,
                detail: "Cyrillic а in latin word".into(),
            });
        }
        hits
    } else {
        Vec::new()
    };
    NewMessage {
        chat_id: chat_id(rng.below(CHATS)),
        message_id: n,
        user_id: 1 + rng.below(USERS),
        ts,
        text: format!("message {n}: hello everyone, does anybody know how lifetimes work here?"),
        media: "none".into(),
        edited: false,
        verdict: if flagged { "spam" } else { "clean" }.into(),
        score: if flagged { 0.85 } else { 0.05 },
        flagged,
        summary: if flagged { "link+lookalike" } else { "" }.into(),
        hits,
    }
}

struct Fixture {
    _dir: tempfile::TempDir,
    store: Store,
    busy_user: i64,
}

fn build_fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("bench.db")).unwrap();
    let w = store.writer();
    let started = Instant::now();
    let mut rng = Lcg(42);
    for c in 0..CHATS {
        w.submit(WriteOp::UpsertChat(ChatUpsert {
            id: chat_id(c),
            title: format!("chat {c}"),
            kind: "supergroup".into(),
            seen_at: T0,
        }));
    }
    for u in 1..=USERS {
        w.submit(WriteOp::UpsertUser(UserUpsert {
            id: u,
            first_name: format!("User{u}"),
            last_name: None,
            username: Some(format!("user_{u}")),
            is_bot: false,
            seen_at: T0,
        }));
        w.submit(WriteOp::Joined(MembershipJoin {
            chat_id: chat_id(u % CHATS),
            user_id: u,
            joined_at: T0 + u,
            join_kind: "direct".into(),
            inviter_id: None,
        }));
        w.submit(WriteOp::SetUserScore {
            user_id: u,
            score: rng.below(1000) as f64 / 1000.0,
            at: T0,
        });
    }
    let chunk = 10_000;
    for start in (0..FIXTURE_MESSAGES).step_by(chunk as usize) {
        let batch = (start..start + chunk)
            .map(|n| message(n, T0 + n * SPAN / FIXTURE_MESSAGES, &mut rng))
            .collect();
        w.submit(WriteOp::RecordMessages(batch));
        if start % 100_000 == 0 {
            w.flush().unwrap();
        }
    }
    let sources = [
        "mod:alice",
        "mod:bob",
        "rule:links",
        "rule:caps",
        "rule:lookalike",
    ];
    for i in 0..20_000 {
        w.submit(WriteOp::AddStrike(NewStrike {
            chat_id: chat_id(rng.below(CHATS)),
            user_id: 1 + rng.below(USERS),
            reason: "link spam".into(),
            source: sources[rng.below(5) as usize].into(),
            ts: T0 + i * SPAN / 20_000,
            expires_at: Some(T0 + i * SPAN / 20_000 + 7 * 86_400),
            message_id: None,
        }));
    }
    for i in 0..5_000 {
        w.submit(WriteOp::EnqueueAction {
            action: NewAction {
                kind: ["delete", "ban", "mute"][rng.below(3) as usize].into(),
                chat_id: chat_id(rng.below(CHATS)),
                user_id: Some(1 + rng.below(USERS)),
                message_id: Some(i),
                params: serde_json::Value::Null,
                requested_by: "rule:links".into(),
                reason: "spam".into(),
                idempotency_key: format!("bench:{i}"),
                dry_run: false,
            },
            not_before: T0 + i * SPAN / 5_000,
            now: T0 + i * SPAN / 5_000,
        });
    }
    w.flush().unwrap();
    eprintln!(
        "fixture: {FIXTURE_MESSAGES} messages, {USERS} users, 20k strikes, 5k actions in {:.1?}",
        started.elapsed()
    );
    // The user with the most messages, for the user_history query.
    let r = store.reader().unwrap();
    let busy_user = (1..=200)
        .max_by_key(|u| r.user(*u).unwrap().map_or(0, |p| p.message_count))
        .unwrap();
    Fixture {
        _dir: dir,
        store,
        busy_user,
    }
}

fn inserts(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("insert.db")).unwrap();
    let mut rng = Lcg(7);
    let mut next_id = 0i64;
    let batch = 10_000i64;
    let mut g = c.benchmark_group("store_insert");
    g.throughput(Throughput::Elements(batch as u64));
    g.sample_size(10);
    g.bench_function("messages_submit_one_by_one_10k", |b| {
        b.iter_batched(
            || {
                let msgs: Vec<NewMessage> = (next_id..next_id + batch)
                    .map(|n| message(n, T0 + n, &mut rng))
                    .collect();
                next_id += batch;
                msgs
            },
            |msgs| {
                for m in msgs {
                    store.writer().submit(WriteOp::RecordMessage(m));
                }
                store.writer().flush().unwrap();
            },
            BatchSize::PerIteration,
        )
    });
    g.bench_function("messages_record_batch_10k", |b| {
        b.iter_batched(
            || {
                let msgs: Vec<NewMessage> = (next_id..next_id + batch)
                    .map(|n| message(n, T0 + n, &mut rng))
                    .collect();
                next_id += batch;
                msgs
            },
            |msgs| {
                store.writer().submit(WriteOp::RecordMessages(msgs));
                store.writer().flush().unwrap();
            },
            BatchSize::PerIteration,
        )
    });
    g.finish();
    g = c.benchmark_group("store_commit");
    g.bench_function("strike_commit_acknowledged", |b| {
        let mut i = 0;
        b.iter(|| {
            i += 1;
            store
                .writer()
                .add_strike(NewStrike {
                    chat_id: chat_id(1),
                    user_id: i,
                    reason: "bench".into(),
                    source: "mod:alice".into(),
                    ts: T0 + i,
                    expires_at: None,
                    message_id: None,
                })
                .unwrap()
        })
    });
    g.finish();
}

fn queries(c: &mut Criterion) {
    let fx = build_fixture();
    let r = fx.store.reader().unwrap();
    let end = T0 + SPAN;
    let mut g = c.benchmark_group("store_query_1m");
    g.bench_function("latest_flagged_50", |b| {
        b.iter(|| {
            r.latest_flagged(&FlaggedFilter::default(), None, 50)
                .unwrap()
        })
    });
    g.bench_function("latest_flagged_chat_50", |b| {
        let f = FlaggedFilter {
            chat_id: Some(chat_id(3)),
            ..Default::default()
        };
        b.iter(|| r.latest_flagged(&f, None, 50).unwrap())
    });
    g.bench_function("latest_flagged_page_20_deep", |b| {
        let mut cursor = None;
        for _ in 0..20 {
            cursor = r
                .latest_flagged(&FlaggedFilter::default(), cursor, 50)
                .unwrap()
                .next;
        }
        b.iter(|| {
            r.latest_flagged(&FlaggedFilter::default(), cursor, 50)
                .unwrap()
        })
    });
    g.bench_function("user_history", |b| {
        b.iter(|| r.user_history(black_box(fx.busy_user), None).unwrap())
    });
    g.bench_function("strikes_by_moderator_50", |b| {
        let f = StrikeFilter {
            source: Some("mod:alice".into()),
            include_forgiven: true,
            ..Default::default()
        };
        b.iter(|| r.strikes(&f, None, 50).unwrap())
    });
    g.bench_function("strikes_by_chat_week_50", |b| {
        let f = StrikeFilter {
            chat_id: Some(chat_id(5)),
            since: Some(end - 7 * 86_400),
            until: Some(end),
            include_forgiven: true,
            ..Default::default()
        };
        b.iter(|| r.strikes(&f, None, 50).unwrap())
    });
    g.bench_function("audit_page_50", |b| {
        b.iter(|| r.audit_page(&AuditFilter::default(), None, 50).unwrap())
    });
    g.bench_function("message_rate_last_hour", |b| {
        b.iter(|| r.message_rate(None, end - 3600, end).unwrap())
    });
    g.bench_function("top_signals_last_day", |b| {
        b.iter(|| r.top_signals(None, end - 86_400, end, 10).unwrap())
    });
    g.bench_function("risk_distribution_50k_users", |b| {
        b.iter(|| r.risk_distribution(&[0.0, 0.3, 0.6, 0.9]).unwrap())
    });
    g.bench_function("pending_actions_count", |b| {
        b.iter(|| r.pending_actions_count().unwrap())
    });
    g.bench_function("action_counts_last_day", |b| {
        b.iter(|| r.action_counts(end - 86_400).unwrap())
    });
    g.finish();
}

criterion_group!(benches, inserts, queries);
criterion_main!(benches);
