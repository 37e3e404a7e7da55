//! `warden daemon`: refuses to start without an account, and its Prometheus metrics on loopback.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};
use warden::app::pipeline::Pipeline;
use warden::config::Config;
use warden::model::{Event, Message, Person};
use warden_store::Store;

#[test]
fn daemon_without_an_account_says_what_to_set() {
    let dir = tempfile::tempdir().unwrap();
    let out = crate::common::warden(dir.path(), &["daemon"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("WARDEN_BOT_TOKEN") && err.contains("warden login user"),
        "{err}"
    );
}

fn scrape(addr: std::net::SocketAddr) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(mut stream) = TcpStream::connect(addr) {
            stream
                .set_read_timeout(Some(Duration::from_secs(5)))
                .unwrap();
            let request = "GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
            stream.write_all(request.as_bytes()).unwrap();
            let mut body = String::new();
            let _ = stream.read_to_string(&mut body);
            if body.contains("200 OK") {
                return body;
            }
        }
        assert!(Instant::now() < deadline, "metrics endpoint never answered");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn metrics_count_messages_latency_flags_and_actions() {
    // A free loopback port: bind, read it, release it for the exporter.
    let addr = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    warden::metrics::serve(addr).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("w.db")).unwrap();
    let t0 = 1_772_445_600;
    let mut pipeline = Pipeline::new(&Config::default(), store, t0).unwrap();
    for (id, text) in [
        (1, "good morning everyone"),
        (
            2,
            "💰💰 EARN $500 A DAY from home!!! Write to @rich_fast_bot, limited places 🔥🔥",
        ),
    ] {
        let event = Event::Message(Message {
            chat_id: -100,
            id,
            date: t0 + id,
            from: Person {
                id: 40 + id,
                first_name: "U".into(),
                ..Person::default()
            },
            text: text.into(),
            ..Message::default()
        });
        let started = Instant::now();
        let outcome = pipeline.handle(&event).unwrap();
        warden::metrics::event_handled(&event, &outcome, started.elapsed());
    }
    let body = scrape(addr);
    for expected in [
        "warden_messages_total 2",
        "warden_flagged_total 1",
        "warden_check_seconds{quantile=\"0.99\"}",
        "warden_actions_total{kind=\"delete\"} 1",
    ] {
        assert!(body.contains(expected), "missing {expected} in:\n{body}");
    }
}
