//! Fault injection: failure rate honoured, FLOOD_WAIT with its duration, disconnect windows, and no
//! acknowledged action lost when a caller retries.

use warden::action::{Action, ActionKind, Actor, Gateway, GatewayError};
use warden::sim::scenario::Disconnect;
use warden::sim::{FaultConfig, Faults, Scenario, Simulator};

fn warn(chat_id: i64, n: u64) -> Action {
    Action {
        kind: ActionKind::Warn,
        chat_id,
        user_id: Some(1),
        message_id: None,
        reason: "test".into(),
        requested_by: Actor::System,
        idempotency_key: format!("warn-{n}"),
    }
}

#[test]
fn failure_rate_is_honoured_and_deterministic() {
    let config = FaultConfig {
        failure_rate: 0.2,
        ..FaultConfig::default()
    };
    let outcomes = |seed| {
        let mut faults = Faults::new(config.clone(), 0, seed);
        (0..5000)
            .map(|i| faults.check(i).is_ok())
            .collect::<Vec<_>>()
    };
    let a = outcomes(11);
    assert_eq!(a, outcomes(11), "same seed, different faults");
    assert_ne!(a, outcomes(12));
    let failed = a.iter().filter(|ok| !**ok).count();
    assert!(
        (850..=1150).contains(&failed),
        "{failed} of 5000 failed at rate 0.2"
    );
    let mut faults = Faults::new(config, 0, 11);
    for i in 0..100 {
        if let Err(err) = faults.check(i) {
            assert!(matches!(err, GatewayError::Transient(_)), "{err}");
        }
    }
}

#[test]
fn flood_wait_returns_its_duration_and_holds_until_it_passes() {
    let config = FaultConfig {
        flood_wait_rate: 1.0,
        flood_wait_seconds: 45,
        ..FaultConfig::default()
    };
    let mut faults = Faults::new(config, 0, 1);
    assert_eq!(
        faults.check(1000),
        Err(GatewayError::FloodWait { seconds: 45 })
    );
    // Calls during the wait are told how long is left.
    assert_eq!(
        faults.check(1030),
        Err(GatewayError::FloodWait { seconds: 15 })
    );
    assert_eq!(faults.stats.flood_waits, 2);

    let config = FaultConfig {
        flood_wait_rate: 0.1,
        flood_wait_seconds: 30,
        ..FaultConfig::default()
    };
    let mut faults = Faults::new(config, 0, 2);
    let mut now = 0;
    let mut ok = 0;
    while ok < 200 {
        match faults.check(now) {
            Ok(()) => ok += 1,
            Err(GatewayError::FloodWait { seconds }) => now += seconds as i64,
            Err(other) => panic!("unexpected {other}"),
        }
        now += 1;
    }
    assert!(faults.stats.flood_waits > 5);
}

#[test]
fn disconnect_window_fails_every_call_transiently() {
    let config = FaultConfig {
        disconnects: vec![Disconnect {
            at_minute: 10.0,
            seconds: 120,
        }],
        ..FaultConfig::default()
    };
    let start = 1_000_000;
    let mut faults = Faults::new(config, start, 1);
    assert!(faults.check(start + 599).is_ok());
    for t in [start + 600, start + 650, start + 719] {
        assert!(
            matches!(faults.check(t), Err(GatewayError::Transient(_))),
            "call at {t} went through"
        );
    }
    assert!(faults.check(start + 720).is_ok());
    assert_eq!(faults.stats.disconnected, 3);
}

/// A caller that retries transient failures and flood waits gets every action applied exactly once.
#[test]
fn retried_actions_are_all_applied_once_through_faults() {
    let scenario = Scenario::load("chatter").unwrap();
    let chat = scenario.chat_id(0);
    let sim = Simulator::new(&scenario, 9);
    let mut gateway = sim.gateway(FaultConfig {
        failure_rate: 0.3,
        flood_wait_rate: 0.05,
        flood_wait_seconds: 20,
        disconnects: vec![Disconnect {
            at_minute: 1.0,
            seconds: 300,
        }],
        ..FaultConfig::default()
    });
    let mut now = scenario.start();
    let mut acknowledged = Vec::new();
    for n in 0..200 {
        let action = warn(chat, n);
        loop {
            now += 1;
            match gateway.execute(&action, now) {
                Ok(()) => break,
                Err(GatewayError::FloodWait { seconds }) => now += seconds as i64,
                Err(GatewayError::Transient(_)) => continue,
                Err(GatewayError::Permanent(err)) => panic!("{err}"),
            }
        }
        acknowledged.push(action.idempotency_key.clone());
        // A duplicate delivery after success is harmless.
        if n % 10 == 0 {
            let _ = gateway.execute(&action, now);
        }
    }
    let applied: Vec<String> = gateway
        .applied()
        .into_iter()
        .map(|a| a.action.idempotency_key)
        .collect();
    assert_eq!(applied, acknowledged);
    let stats = gateway.fault_stats();
    assert!(
        stats.transient > 30 && stats.disconnected > 0 && stats.flood_waits > 0,
        "{stats:?}"
    );
}

#[test]
fn scenario_faults_section_parses() {
    let text = r#"
name = "f"
duration_minutes = 10
[[chats]]
title = "c"
regulars = 2
[faults]
failure_rate = 0.1
flood_wait_rate = 0.05
flood_wait_seconds = 12
disconnects = [{ at_minute = 3, seconds = 60 }]
"#;
    let scenario = Scenario::parse(text, "f.toml").unwrap();
    assert_eq!(scenario.faults.flood_wait_seconds, 12);
    assert_eq!(
        scenario.faults.disconnects,
        vec![Disconnect {
            at_minute: 3.0,
            seconds: 60
        }]
    );
}
