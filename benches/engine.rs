//! Engine speed: a full check of a realistic mix of the shipped samples, one thread, assets loaded;
//! `classify` end to end (JSON in and out); and the memory of 100k tracked users.
//!
//! cargo bench --bench engine -- --warm-up-time 1 --measurement-time 3

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::time::Instant;
use warden::engine::data::{MONALENKA_HAM, TG_SPAM_HAM, TG_SPAM_SPAM};
use warden::engine::{Engine, EngineConfig, TrainingSet, cli, normalize};
use warden::model::{Message, Person};

/// Real traffic is mostly chat: 4 ham for each spam, lengths as in the datasets.
fn mix() -> Vec<String> {
    let spam: Vec<&str> = TG_SPAM_SPAM.lines().filter(|l| !l.is_empty()).collect();
    let ham: Vec<&str> = TG_SPAM_HAM
        .lines()
        .chain(MONALENKA_HAM.lines())
        .filter(|l| !l.is_empty())
        .collect();
    let mut out = Vec::new();
    for (i, h) in ham.iter().enumerate() {
        out.push(h.to_string());
        if i % 4 == 3 {
            out.push(spam[(i / 4) % spam.len()].to_string());
        }
    }
    out
}

fn messages(texts: &[String]) -> Vec<Message> {
    texts
        .iter()
        .enumerate()
        .map(|(i, t)| Message {
            chat_id: -100 - (i as i64 % 7),
            id: i as i64,
            date: 1_700_000_000 + i as i64,
            from: Person {
                id: 1_000 + i as i64 % 5_000,
                first_name: "User".into(),
                ..Person::default()
            },
            text: t.clone(),
            ..Message::default()
        })
        .collect()
}

fn rss_bytes() -> Option<usize> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: usize = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

/// Per-message latency of a full stateless check, printed as percentiles over the messages
/// (criterion reports the mean over the mix, which long spam texts pull up). Each check is timed
/// on its own while the mix is walked in order, as live traffic would arrive (no repeats of one
/// message to warm the branch predictor for it); a message's time is its median over `PASSES`.
fn latency_distribution(engine: &Engine, msgs: &[Message]) {
    const PASSES: usize = 7;
    let mut times = vec![[0f64; PASSES]; msgs.len()];
    // Warm the caches and the scratch buffers once.
    for m in msgs {
        black_box(engine.check_stateless(m));
    }
    for pass in 0..PASSES {
        for (m, t) in msgs.iter().zip(times.iter_mut()) {
            let start = Instant::now();
            black_box(engine.check_stateless(black_box(m)));
            t[pass] = start.elapsed().as_nanos() as f64;
        }
    }
    let mut nanos: Vec<f64> = times
        .iter_mut()
        .map(|t| {
            t.sort_by(f64::total_cmp);
            t[PASSES / 2]
        })
        .collect();
    nanos.sort_by(f64::total_cmp);
    let at = |q: f64| nanos[((nanos.len() - 1) as f64 * q).round() as usize] / 1e3;
    let mean = nanos.iter().sum::<f64>() / nanos.len() as f64 / 1e3;
    println!(
        "check_stateless per message ({} messages, median of {PASSES} passes in mix order): \
         p50 {:.2} us, p90 {:.2} us, p99 {:.2} us, max {:.2} us, mean {mean:.2} us",
        nanos.len(),
        at(0.5),
        at(0.9),
        at(0.99),
        at(1.0),
    );
}

fn bench(c: &mut Criterion) {
    let texts = mix();
    let msgs = messages(&texts);
    let mut engine = Engine::new(EngineConfig::default(), TrainingSet::shipped()).unwrap();

    // For a profiler (valgrind --tool=callgrind): this many stateless checks of the mix, then exit.
    if let Some(n) = std::env::var("ENGINE_PROFILE_CHECKS")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
    {
        let mut norm = warden::engine::Normalized::default();
        for i in 0..n {
            if std::env::var_os("ENGINE_PROFILE_NORMALIZE").is_some() {
                warden::engine::normalize_into(&texts[i % texts.len()], &mut norm);
                black_box(&norm);
            } else {
                black_box(engine.check_stateless(&msgs[i % msgs.len()]));
            }
        }
        return;
    }

    // classify end to end: JSON Lines in, JSON Lines out.
    let input: String = texts
        .iter()
        .enumerate()
        .map(|(i, t)| {
            serde_json::json!({"text": t, "user_id": 1000 + i, "chat_id": -100, "date": 1_700_000_000 + i})
                .to_string()
                + "\n"
        })
        .collect();
    let mut out = Vec::with_capacity(input.len() * 2);
    // For a profiler: `warden classify` of the mix this many times, then exit.
    if let Some(n) = std::env::var("ENGINE_PROFILE_CLASSIFY")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
    {
        for _ in 0..n {
            out.clear();
            black_box(cli::classify(&mut engine, false, input.as_bytes(), &mut out).unwrap());
        }
        return;
    }

    latency_distribution(&engine, &msgs);

    let mut group = c.benchmark_group("engine");
    group.throughput(Throughput::Elements(1));
    let mut i = 0;
    group.bench_function("check_stateless (new user's first message)", |b| {
        b.iter(|| {
            i = (i + 1) % msgs.len();
            black_box(engine.check_stateless(&msgs[i]))
        })
    });
    let mut i = 0;
    let mut date = 1_800_000_000;
    group.bench_function("check (stateful, 5k users)", |b| {
        b.iter(|| {
            i = (i + 1) % msgs.len();
            date += 1;
            let mut m = msgs[i].clone();
            m.date = date;
            black_box(engine.check(&m))
        })
    });
    let mut i = 0;
    group.bench_function("normalize", |b| {
        b.iter(|| {
            i = (i + 1) % texts.len();
            black_box(normalize(&texts[i]))
        })
    });
    group.finish();

    let mut group = c.benchmark_group("classify");
    group.throughput(Throughput::Elements(texts.len() as u64));
    group.sample_size(10);
    group.bench_function("jsonl end to end", |b| {
        b.iter(|| {
            out.clear();
            black_box(cli::classify(&mut engine, false, input.as_bytes(), &mut out).unwrap())
        })
    });
    group.finish();

    // Memory of 100k tracked users: table bytes and resident set growth.
    let mut fresh = Engine::new(EngineConfig::default(), TrainingSet::shipped()).unwrap();
    let before = rss_bytes();
    for user in 0..100_000i64 {
        let mut m = msgs[user as usize % msgs.len()].clone();
        m.from.id = 10_000_000 + user;
        m.date = 1_700_000_000 + user / 50;
        fresh.check(&m);
    }
    let after = rss_bytes();
    println!(
        "memory: {} tracked users, state tables {:.1} MB, RSS growth {}",
        fresh.user_state_count(),
        fresh.state_bytes() as f64 / 1e6,
        match (before, after) {
            (Some(b), Some(a)) => format!("{:.1} MB", a.saturating_sub(b) as f64 / 1e6),
            _ => "n/a".into(),
        }
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
