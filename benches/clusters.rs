//! Raid and cluster throughput: a 10k-join burst (target ≥ 10k joins/s, i.e. < 1 s of CPU) and
//! one cluster update with 100k known users (target ≤ 50 µs), plus the pause of one window sweep.
//!
//! The 100k users look like a real week of chat: first names with and without last names, some
//! "name 1987" patterns, messages drawn from a few hundred words with a skewed (Zipf-like)
//! frequency, stock phrases, popular links everybody posts and a long tail of sites.

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use std::time::Instant;
use warden::clusters::{ClusterConfig, ClusterGraph};
use warden::model::{Event, JoinKind, Message, Person};
use warden::raid::{RaidConfig, RaidDetector};

const CHAT: i64 = -1001;
const HOUR: i64 = 3600;

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    /// Skewed towards small indices, like word frequencies.
    fn skewed(&mut self, n: u64) -> usize {
        let a = self.below(n);
        let b = self.below(n);
        (a * b / n) as usize
    }
}

const FIRST: [&str; 48] = [
    "Anna",
    "Ivan",
    "Maria",
    "Alex",
    "Olga",
    "Dmitry",
    "Kate",
    "John",
    "Mike",
    "Sarah",
    "Paul",
    "Nina",
    "Elena",
    "Sergey",
    "Igor",
    "Tanya",
    "Max",
    "Lena",
    "Oleg",
    "Sasha",
    "Tom",
    "Lisa",
    "Peter",
    "Vera",
    "Андрей",
    "Мария",
    "Денис",
    "Юлия",
    "Артём",
    "Ксения",
    "Carlos",
    "Lucia",
    "Ahmed",
    "Fatima",
    "Wei",
    "Mei",
    "Hiroshi",
    "Yuki",
    "Lars",
    "Ingrid",
    "Pierre",
    "Chloé",
    "Giulia",
    "Marco",
    "Zoe",
    "Ethan",
    "Noah",
    "Emma",
];
const LAST: [&str; 24] = [
    "Petrov",
    "Smith",
    "Ivanova",
    "Kuznetsov",
    "Brown",
    "Sokolova",
    "Miller",
    "Popov",
    "Lee",
    "Novak",
    "Garcia",
    "Rossi",
    "Müller",
    "Dubois",
    "Tanaka",
    "Chen",
    "Kim",
    "Nowak",
    "Silva",
    "Jensen",
    "Wilson",
    "Kowalski",
    "Orlov",
    "Volkova",
];
const WORDS: [&str; 160] = [
    "the",
    "a",
    "to",
    "is",
    "it",
    "i",
    "and",
    "you",
    "in",
    "of",
    "for",
    "this",
    "that",
    "on",
    "with",
    "but",
    "not",
    "have",
    "just",
    "what",
    "how",
    "can",
    "do",
    "my",
    "we",
    "be",
    "so",
    "there",
    "anyone",
    "know",
    "works",
    "why",
    "when",
    "use",
    "get",
    "need",
    "try",
    "think",
    "thanks",
    "help",
    "rust",
    "tokio",
    "async",
    "await",
    "borrow",
    "checker",
    "release",
    "compile",
    "error",
    "trait",
    "macro",
    "crate",
    "feature",
    "build",
    "cargo",
    "test",
    "bench",
    "meetup",
    "tonight",
    "docs",
    "question",
    "linux",
    "windows",
    "mac",
    "broken",
    "update",
    "version",
    "lifetime",
    "generic",
    "closure",
    "thread",
    "channel",
    "mutex",
    "deadlock",
    "panic",
    "unwrap",
    "option",
    "result",
    "iterator",
    "vector",
    "string",
    "slice",
    "pointer",
    "unsafe",
    "ffi",
    "wasm",
    "embedded",
    "serde",
    "json",
    "struct",
    "enum",
    "match",
    "pattern",
    "module",
    "import",
    "workspace",
    "clippy",
    "fmt",
    "nightly",
    "stable",
    "edition",
    "compiler",
    "runtime",
    "memory",
    "leak",
    "allocation",
    "performance",
    "fast",
    "slow",
    "benchmark",
    "profile",
    "flamegraph",
    "debug",
    "log",
    "tracing",
    "server",
    "client",
    "http",
    "request",
    "response",
    "database",
    "sqlite",
    "postgres",
    "query",
    "index",
    "cache",
    "config",
    "file",
    "path",
    "network",
    "socket",
    "timeout",
    "retry",
    "backoff",
    "queue",
    "worker",
    "task",
    "spawn",
    "blocking",
    "future",
    "stream",
    "sink",
    "buffer",
    "bytes",
    "utf8",
    "parse",
    "token",
    "lexer",
    "grammar",
    "tree",
    "graph",
    "node",
    "edge",
    "sort",
    "hash",
    "map",
    "set",
    "heap",
    "stack",
    "tomorrow",
];
const STOCK: [&str; 5] = [
    "thanks a lot for the help everyone",
    "does anyone know when the next release is coming",
    "good morning everyone, have a nice day all",
    "welcome to the chat, please read the pinned message",
    "sorry for the offtopic but does anyone here use neovim",
];
const POPULAR: [&str; 8] = [
    "https://youtube.com/watch?v=rustconf",
    "https://github.com/tokio-rs/tokio",
    "https://t.me/rust_community",
    "https://docs.rs/serde",
    "https://blog.rust-lang.org/2025/release",
    "https://doc.rust-lang.org/book/ch04-01-what-is-ownership.html",
    "https://crates.io/crates/anyhow",
    "https://users.rust-lang.org/t/async-traits/1234",
];

fn person(rng: &mut Rng, id: i64) -> Person {
    let mut name = FIRST[rng.below(FIRST.len() as u64) as usize].to_string();
    if rng.below(2) == 0 {
        name = format!("{name} {}", LAST[rng.below(LAST.len() as u64) as usize]);
    }
    if rng.below(10) == 0 {
        name = format!("{name} {}", 1960 + rng.below(50));
    }
    Person {
        id,
        first_name: name,
        ..Person::default()
    }
}

fn join(rng: &mut Rng, user: Person, date: i64) -> Event {
    let how = if rng.below(5) == 0 {
        JoinKind::InviteLink {
            link: "https://t.me/+PublicInvite".into(),
            inviter: None,
        }
    } else {
        JoinKind::Direct
    };
    Event::Joined {
        chat_id: CHAT,
        user,
        date,
        how,
    }
}

fn chat_text(rng: &mut Rng) -> String {
    let mut text = if rng.below(10) == 0 {
        STOCK[rng.below(STOCK.len() as u64) as usize].to_string()
    } else {
        let words: Vec<&str> = (0..(3 + rng.below(18)))
            .map(|_| WORDS[rng.skewed(WORDS.len() as u64)])
            .collect();
        words.join(" ")
    };
    if rng.below(12) == 0 {
        text.push_str(&format!(" {}", rng.below(10_000)));
    }
    match rng.below(16) {
        0 => text.push_str(&format!(" {}", POPULAR[rng.below(8) as usize])),
        1 => text.push_str(&format!(
            " https://site{}.example/post/{}",
            rng.below(30_000),
            rng.below(1000)
        )),
        _ => {}
    }
    text
}

fn message(rng: &mut Rng, from: Person, date: i64) -> Event {
    Event::Message(Message {
        chat_id: CHAT,
        id: date,
        date,
        from,
        text: chat_text(rng),
        ..Message::default()
    })
}

fn burst(n: i64) -> Vec<Event> {
    let mut rng = Rng(7);
    (0..n)
        .map(|i| {
            let id = 1_000_000_000 + rng.below(6_000_000_000) as i64;
            let p = person(&mut rng, id);
            join(&mut rng, p, 1_000_000 + i / 10_000)
        })
        .collect()
}

fn bench_raid(c: &mut Criterion) {
    let events = burst(10_000);
    c.bench_function("raid: 10k-join burst", |b| {
        b.iter_batched(
            || RaidDetector::new(RaidConfig::default()),
            |mut detector| {
                let mut signals = 0;
                for e in &events {
                    signals += detector.on_event(e).len();
                }
                black_box(signals)
            },
            BatchSize::LargeInput,
        )
    });
    c.bench_function("clusters: 10k-join burst", |b| {
        b.iter_batched(
            || ClusterGraph::new(ClusterConfig::default()),
            |mut graph| {
                for e in &events {
                    black_box(graph.on_event(e));
                }
                graph.user_count()
            },
            BatchSize::LargeInput,
        )
    });
}

const START: i64 = 1_000_000;
const USERS: i64 = 100_000;
/// 100k users joining over six days (one every ~5 s), inside the default one-week window.
const JOIN_EVERY: i64 = 5;

/// A week of chat: 100k users, each joining and posting one to three messages. Returns the
/// graph, the ids of the known users and the time after the last event.
fn week_of_chat(rng: &mut Rng) -> (ClusterGraph, Vec<i64>, i64) {
    let mut graph = ClusterGraph::new(ClusterConfig::default());
    let mut known = Vec::with_capacity(USERS as usize);
    for i in 0..USERS {
        let at = START + i * JOIN_EVERY;
        let id = 1_000_000_000 + rng.below(6_000_000_000) as i64;
        let p = person(rng, id);
        graph.on_event(&join(rng, p.clone(), at));
        for m in 0..=rng.below(3) as i64 {
            graph.on_event(&message(rng, p.clone(), at + m));
        }
        known.push(id);
    }
    (graph, known, START + USERS * JOIN_EVERY)
}

fn bench_cluster_update(c: &mut Criterion) {
    let mut rng = Rng(42);
    let (mut graph, known, now) = week_of_chat(&mut rng);
    assert!(graph.user_count() > 99_000);
    println!(
        "graph before updates: {} users, {} edges, {} clusters",
        graph.user_count(),
        graph.edge_count(),
        graph.clusters().len()
    );
    let mut next_id = 8_000_000_000i64;
    c.bench_function("clusters: message update at 100k users", |b| {
        b.iter(|| {
            next_id += 1;
            let p = person(&mut rng, next_id);
            let e = message(&mut rng, p, now);
            black_box(graph.on_event(&e))
        })
    });
    c.bench_function("clusters: known user message at 100k users", |b| {
        b.iter(|| {
            let id = known[rng.below(known.len() as u64) as usize];
            let p = person(&mut rng, id);
            let e = message(&mut rng, p, now);
            black_box(graph.on_event(&e))
        })
    });
    let mut ring_id = 9_000_000_000i64;
    c.bench_function("clusters: ring member update at 100k users", |b| {
        b.iter(|| {
            ring_id += 1;
            let e = Event::Message(Message {
                chat_id: CHAT,
                id: ring_id,
                date: now,
                from: Person {
                    id: ring_id,
                    first_name: format!("Anna {}", ring_id % 1000),
                    ..Person::default()
                },
                text: "Crypto signals pay 3000$ a week, details https://crypto-profit.biz/?r=1"
                    .into(),
                ..Message::default()
            });
            black_box(graph.on_event(&e))
        })
    });
    println!(
        "graph after updates: {} users, {} edges, {} clusters",
        graph.user_count(),
        graph.edge_count(),
        graph.clusters().len()
    );
}

/// The pause of one window sweep at 100k users: each hourly sweep forgets the users of the
/// oldest hour. One-off wall-clock timings (a sweep cannot be repeated on the same graph).
fn sweep_pause(_c: &mut Criterion) {
    let mut rng = Rng(43);
    let (mut graph, _, _) = week_of_chat(&mut rng);
    let mut pauses = Vec::new();
    for hour in 1..=12 {
        let started = Instant::now();
        graph.evict_older_than(START + hour * HOUR);
        pauses.push(started.elapsed());
    }
    pauses.sort();
    println!(
        "window sweep at {} users: median {:?}, max {:?} (12 hourly sweeps)",
        graph.user_count(),
        pauses[pauses.len() / 2],
        pauses[pauses.len() - 1]
    );
}

criterion_group!(benches, bench_raid, bench_cluster_update, sweep_pause);
criterion_main!(benches);
