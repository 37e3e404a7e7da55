//! Raid and cluster throughput: a 10k-join burst (target ≥ 10k joins/s, i.e. < 1 s of CPU) and
//! one cluster update with 100k known users (target ≤ 50 µs).

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use warden::clusters::{ClusterConfig, ClusterGraph};
use warden::model::{Event, JoinKind, Message, Person};
use warden::raid::{RaidConfig, RaidDetector};

const CHAT: i64 = -1001;

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

const NAMES: [&str; 12] = [
    "Anna", "Ivan", "Maria", "Alex", "Olga", "Dmitry", "Kate", "John", "Mike", "Sarah", "Paul",
    "Nina",
];
const WORDS: [&str; 16] = [
    "rust", "tokio", "async", "borrow", "release", "compile", "error", "trait", "macro", "crate",
    "meetup", "docs", "linux", "thread", "panic", "serde",
];

fn person(rng: &mut Rng, id: i64) -> Person {
    let mut name = NAMES[(rng.next() % 12) as usize].to_string();
    if rng.next().is_multiple_of(8) {
        name = format!("{name} {}", rng.next() % 100);
    }
    Person {
        id,
        first_name: name,
        ..Person::default()
    }
}

fn join(user: Person, date: i64) -> Event {
    Event::Joined {
        chat_id: CHAT,
        user,
        date,
        how: JoinKind::Direct,
    }
}

fn message(rng: &mut Rng, from: Person, date: i64) -> Event {
    let mut text: Vec<&str> = (0..(5 + rng.next() % 10))
        .map(|_| WORDS[(rng.next() % 16) as usize])
        .collect();
    let link = format!("https://site{}.example/page", rng.next() % 5000);
    if rng.next().is_multiple_of(8) {
        text.push(&link);
    }
    Event::Message(Message {
        chat_id: CHAT,
        id: date,
        date,
        from,
        text: text.join(" "),
        ..Message::default()
    })
}

fn burst(n: i64) -> Vec<Event> {
    let mut rng = Rng(7);
    (0..n)
        .map(|i| {
            let id = 1_000_000_000 + (rng.next() % 6_000_000_000) as i64;
            join(person(&mut rng, id), 1_000_000 + i / 10_000)
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

fn bench_cluster_update(c: &mut Criterion) {
    let mut rng = Rng(42);
    let mut graph = ClusterGraph::new(ClusterConfig::default());
    let t = 1_000_000;
    for i in 0..100_000i64 {
        let id = 1_000_000_000 + (rng.next() % 6_000_000_000) as i64;
        let p = person(&mut rng, id);
        graph.on_event(&join(p.clone(), t + i / 100));
        graph.on_event(&message(&mut rng, p, t + i / 100));
    }
    assert!(graph.user_count() > 99_000);
    let now = t + 1_000;
    let mut next_id = 8_000_000_000i64;
    c.bench_function("clusters: message update at 100k users", |b| {
        b.iter(|| {
            next_id += 1;
            let p = person(&mut rng, next_id);
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
        "graph after benches: {} users, {} edges, {} clusters",
        graph.user_count(),
        graph.edge_count(),
        graph.clusters().len()
    );
}

criterion_group!(benches, bench_raid, bench_cluster_update);
criterion_main!(benches);
