//! Measures the writer's CPU cost per recorded message, independent of machine load:
//! `cargo run --profile bench -p warden-store --example insert_probe`
use std::time::Instant;
use warden_store::*;

/// utime + stime of this process in seconds (Linux).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    let ticks: f64 = fields.get(11).and_then(|v| v.parse().ok()).unwrap_or(0.0)
        + fields.get(12).and_then(|v| v.parse().ok()).unwrap_or(0.0);
    ticks / 100.0
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("probe.db")).unwrap();
    let n = 200_000i64;
    let msgs: Vec<NewMessage> = (0..n)
        .map(|i| NewMessage {
            chat_id: -100 - i % 20,
            message_id: i,
            user_id: 1 + (i * 7919) % 50_000,
            ts: 1_700_000_000 + i,
            text: format!("message {i}: hello everyone, does anybody know how lifetimes work?"),
            media: "none".into(),
            edited: false,
            verdict: "clean".into(),
            score: 0.05,
            flagged: i % 20 == 0,
            summary: String::new(),
            hits: if i % 20 == 0 {
                vec![NewHit {
                    name: "link".into(),
                    weight: 0.4,
                    detail: "t.me link".into(),
                }]
            } else {
                vec![]
            },
        })
        .collect();
    let (cpu0, wall0) = (cpu_seconds(), Instant::now());
    for chunk in msgs.chunks(10_000) {
        store
            .writer()
            .submit(WriteOp::RecordMessages(chunk.to_vec()));
    }
    store.writer().flush().unwrap();
    let (cpu, wall) = (cpu_seconds() - cpu0, wall0.elapsed().as_secs_f64());
    println!(
        "{n} messages: wall {wall:.2} s ({:.0}/s), cpu {cpu:.2} s ({:.0}/s of CPU)",
        n as f64 / wall,
        n as f64 / cpu
    );
}
