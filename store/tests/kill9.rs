//! Durability: whatever `commit()` acknowledged survives SIGKILL of the process.
//!
//! The test re-executes its own binary with `WARDEN_KILL9_DB` set; in that mode `writer_child`
//! writes in a loop and prints each acknowledged id. The parent kills it mid-stream and checks.

mod common;

use common::*;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use warden_store::*;

const CHILD_ENV: &str = "WARDEN_KILL9_DB";

/// Only does something when started by `acknowledged_writes_survive_kill_9`.
#[test]
fn writer_child() {
    let Ok(path) = std::env::var(CHILD_ENV) else {
        return;
    };
    let store = Store::open(Path::new(&path)).unwrap();
    // Background bulk traffic so acknowledged ops share batches with unacknowledged ones.
    let bulk = store.clone();
    std::thread::spawn(move || {
        for i in 0.. {
            bulk.writer().submit(WriteOp::RecordMessage(message(
                CHAT,
                i,
                i % 50,
                T0 + i,
                i % 4 == 0,
            )));
            // Bounded, so an acknowledgement never waits behind an ever-growing queue on a
            // slow, busy machine.
            std::thread::sleep(Duration::from_millis(1));
        }
    });
    let deadline = Instant::now() + Duration::from_secs(600);
    let w = store.writer();
    for i in 0i64.. {
        assert!(Instant::now() < deadline, "parent never killed the child");
        let line = match i % 3 {
            0 => {
                let key = format!("kill9:{i}");
                let id = w.enqueue_action(action(&key), T0 + i).unwrap();
                format!("ack action {id} {key}")
            }
            1 => {
                let id = w
                    .add_label(label(Some(i), &format!("label text {i}"), "spam"))
                    .unwrap();
                format!("ack label {id} {i}")
            }
            _ => {
                let id = w.add_strike(strike(i, "mod:alice", T0 + i)).unwrap();
                format!("ack strike {id} {i}")
            }
        };
        println!("{line}");
    }
}

#[test]
fn acknowledged_writes_survive_kill_9() {
    if std::env::var(CHILD_ENV).is_ok() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("warden.db");
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "writer_child", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, &path)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut acks: Vec<String> = Vec::new();
    while acks.len() < 150 {
        let line = lines
            .next()
            .expect("child ended before it was killed")
            .unwrap();
        if line.starts_with("ack ") {
            acks.push(line);
        }
    }
    child.kill().unwrap(); // SIGKILL on Unix: no destructors, no flush
    child.wait().unwrap();
    // Lines already in the pipe were acknowledged before the kill too.
    acks.extend(
        lines
            .map_while(Result::ok)
            .filter(|l| l.starts_with("ack ")),
    );

    let store = Store::open(&path).unwrap();
    assert!(store.integrity_check().unwrap().is_empty());
    let r = store.reader().unwrap();
    assert_eq!(r.verify_audit().unwrap().first_broken, None);
    let labels: std::collections::HashMap<i64, String> = r
        .all_labels()
        .unwrap()
        .into_iter()
        .map(|l| (l.id, l.text))
        .collect();
    let strikes: std::collections::HashMap<i64, i64> = r
        .strikes(
            &StrikeFilter {
                include_forgiven: true,
                ..Default::default()
            },
            None,
            MAX_PAGE,
        )
        .unwrap()
        .items
        .into_iter()
        .map(|s| (s.id, s.user_id))
        .collect();
    for ack in &acks {
        let parts: Vec<&str> = ack.split(' ').collect();
        let id: i64 = parts[2].parse().unwrap();
        match parts[1] {
            "action" => {
                let row = r
                    .action(id)
                    .unwrap()
                    .unwrap_or_else(|| panic!("lost {ack}"));
                assert_eq!(row.idempotency_key, parts[3], "{ack}");
            }
            "label" => {
                let text = labels.get(&id).unwrap_or_else(|| panic!("lost {ack}"));
                assert_eq!(text, &format!("label text {}", parts[3]));
            }
            "strike" => {
                let user = strikes.get(&id).unwrap_or_else(|| panic!("lost {ack}"));
                assert_eq!(user.to_string(), parts[3]);
            }
            other => panic!("unexpected ack {other}"),
        }
    }
    assert!(acks.len() >= 150);
}
