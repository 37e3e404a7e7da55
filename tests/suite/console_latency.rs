//! Measurement, not a pass/fail test: key-to-frame latency and frame coalescing while a fake
//! runtime writes 10k messages/s into the store and publishes a view after every batch.
//!
//! `cargo test --release --test suite console_latency -- --ignored --nocapture`

use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use ratatui::{Terminal, backend::TestBackend};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};
use warden::app::console::{ConsoleLoop, ConsoleOptions, build_console};
use warden::app::live::{LiveView, SharedView};
use warden::app::source::AppSource;
use warden::policy::PolicyConfig;
use warden_store::*;

const CHAT: i64 = -1_001;
const T0: i64 = 1_700_000_000;
/// Messages per batch and batches per second: 10k messages/s, half of them flagged.
const BATCH: usize = 100;
const BATCH_EVERY: Duration = Duration::from_millis(10);
const RUN_FOR: Duration = Duration::from_secs(10);
const KEY_EVERY: Duration = Duration::from_millis(50);

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

#[test]
#[ignore = "a measurement: run by hand with --release --nocapture"]
fn key_latency_while_the_runtime_publishes_10k_messages_per_second() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("warden.db")).unwrap();
    store
        .writer()
        .commit(WriteOp::UpsertChat(ChatUpsert {
            id: CHAT,
            title: "Load Test".into(),
            kind: "supergroup".into(),
            seen_at: T0,
        }))
        .unwrap();
    let live = SharedView::default();
    let stop = Arc::new(AtomicBool::new(false));
    let written = Arc::new(AtomicU64::new(0));
    let publishes = Arc::new(AtomicU64::new(0));
    let runtime = {
        let (store, live, stop, written, publishes) = (
            store.clone(),
            live.clone(),
            stop.clone(),
            written.clone(),
            publishes.clone(),
        );
        std::thread::spawn(move || {
            let reader = store.reader().unwrap();
            let mut next = Instant::now();
            let mut n: i64 = 0;
            while !stop.load(Ordering::Relaxed) {
                let batch: Vec<NewMessage> = (0..BATCH)
                    .map(|_| {
                        n += 1;
                        let flagged = n % 2 == 0;
                        NewMessage {
                            chat_id: CHAT,
                            message_id: n,
                            user_id: 1_000 + n % 500,
                            ts: T0 + n / 1_000,
                            text: format!("message {n} https://spam.example/{n}"),
                            media: "none".into(),
                            edited: false,
                            verdict: if flagged { "spam" } else { "ham" }.into(),
                            score: if flagged { 0.9 } else { 0.1 },
                            flagged,
                            summary: "link".into(),
                            hits: vec![NewHit {
                                name: "link".into(),
                                weight: 0.5,
                                detail: String::new(),
                            }],
                        }
                    })
                    .collect();
                store
                    .writer()
                    .commit(WriteOp::RecordMessages(batch))
                    .unwrap();
                written.fetch_add(BATCH as u64, Ordering::Relaxed);
                let newest = reader.newest_flagged_id().unwrap() as u64;
                let mut view = LiveView {
                    newest_flagged: newest,
                    ..LiveView::default()
                };
                view.status.now = T0 + n / 1_000;
                live.publish(view);
                publishes.fetch_add(1, Ordering::Relaxed);
                next += BATCH_EVERY;
                if let Some(wait) = next.checked_duration_since(Instant::now()) {
                    std::thread::sleep(wait);
                }
            }
        })
    };

    let (to_runtime, _commands) = mpsc::channel();
    let (_notify, notices) = mpsc::channel();
    let console = build_console(&ConsoleOptions::default()).unwrap();
    let source = AppSource::new(
        store.reader().unwrap(),
        live.clone(),
        &PolicyConfig::default(),
    );
    let mut app = ConsoleLoop::new(console, source, to_runtime, notices);
    let mut terminal = Terminal::new(TestBackend::new(160, 48)).unwrap();

    let started = Instant::now();
    let mut next_key = started + KEY_EVERY;
    let mut pending: Option<Instant> = None;
    let mut latencies = Vec::new();
    let mut draws = Vec::new();
    let mut presses = 0u32;
    while started.elapsed() < RUN_FOR {
        let now = Instant::now();
        if now >= next_key && pending.is_none() {
            // Down the list and back up, and now and then jump to the bottom and top.
            let code = match presses % 40 {
                19 => KeyCode::Char('G'),
                39 => KeyCode::Char('g'),
                p if p % 2 == 0 => KeyCode::Char('j'),
                _ => KeyCode::Char('k'),
            };
            presses += 1;
            app.handle_event(Event::Key(KeyEvent::new(code, KeyModifiers::NONE)));
            pending = Some(now);
            next_key = now + KEY_EVERY;
        }
        app.pump(now);
        if app.frame_due(now) {
            let t = Instant::now();
            app.draw(&mut terminal).unwrap();
            draws.push(t.elapsed());
            if let Some(pressed) = pending.take() {
                latencies.push(pressed.elapsed());
            }
        }
        let wait = app
            .poll_timeout(Instant::now())
            .min(next_key.saturating_duration_since(Instant::now()))
            .max(Duration::from_micros(200));
        std::thread::sleep(wait);
    }
    stop.store(true, Ordering::Relaxed);
    runtime.join().unwrap();
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort();
    draws.sort();
    let flagged = store
        .reader()
        .unwrap()
        .flagged_count(&FeedFilter::default(), None, None)
        .unwrap();
    println!(
        "runtime: {} messages written ({:.0}/s), {} flagged stored, {} view publishes ({:.0}/s)",
        written.load(Ordering::Relaxed),
        written.load(Ordering::Relaxed) as f64 / elapsed,
        flagged,
        publishes.load(Ordering::Relaxed),
        publishes.load(Ordering::Relaxed) as f64 / elapsed,
    );
    println!(
        "console: {} frames ({:.1}/s) for {} publishes; draw p50 {:?} p99 {:?} max {:?}",
        app.frames,
        app.frames as f64 / elapsed,
        publishes.load(Ordering::Relaxed),
        percentile(&draws, 0.5),
        percentile(&draws, 0.99),
        draws.last().copied().unwrap_or_default(),
    );
    println!(
        "key → frame latency over {} keys: p50 {:?} p95 {:?} p99 {:?} max {:?}",
        latencies.len(),
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.95),
        percentile(&latencies, 0.99),
        latencies.last().copied().unwrap_or_default(),
    );
}
