//! The headless runner wires pipeline decisions into the gateway and the scorecard.

use warden::action::{Action, ActionKind, Actor};
use warden::model::Event;
use warden::sim::{Decision, FaultConfig, Scenario, run_scenario};

#[test]
fn every_scenario_runs_headless_and_bans_take_effect() {
    for scenario in Scenario::all().unwrap() {
        // Ban anyone whose message carries a link, unless they are an old account.
        let result = run_scenario(&scenario, 1, FaultConfig::default(), |event| match event {
            Event::Message(m) if m.text.contains("http") && m.from.id > 5_000_000_000 => {
                let ban = Action {
                    kind: ActionKind::Ban { seconds: None },
                    chat_id: m.chat_id,
                    user_id: Some(m.sender_chat.as_ref().map_or(m.from.id, |c| c.id)),
                    message_id: None,
                    reason: "link".into(),
                    requested_by: Actor::Rule("links".into()),
                    idempotency_key: format!("ban:{}:{}", m.chat_id, m.id),
                };
                vec![
                    Decision::Flag {
                        chat_id: m.chat_id,
                        message_id: m.id,
                    },
                    Decision::Act(ban),
                ]
            }
            _ => vec![],
        });
        let report = &result.report;
        assert!(report.messages_seen > 50, "{}: {report}", scenario.name);
        assert!(result.failed.is_empty(), "{:?}", result.failed);
        if report.spam.flagged > 0 {
            assert!(
                result.suppressed.banned_or_removed > 0,
                "{}: bans had no effect",
                scenario.name
            );
            assert!(report.actions_by_kind["ban"] > 0);
        }
        if scenario.name == "chatter" {
            assert_eq!(report.spam.spam_messages, 0);
        }
    }
}

#[test]
fn faulty_gateway_failures_are_reported_not_lost() {
    let scenario = Scenario::load("raid").unwrap();
    let faults = FaultConfig {
        failure_rate: 0.5,
        ..FaultConfig::default()
    };
    let mut decided = 0;
    let result = run_scenario(&scenario, 2, faults, |event| match event {
        Event::Joined { chat_id, user, .. } => {
            decided += 1;
            vec![Decision::Act(Action {
                kind: ActionKind::Warn,
                chat_id: *chat_id,
                user_id: Some(user.id),
                message_id: None,
                reason: "hello".into(),
                requested_by: Actor::System,
                idempotency_key: format!("warn:{}", user.id),
            })]
        }
        _ => vec![],
    });
    assert!(decided > 20);
    assert_eq!(result.faults.ok as usize + result.failed.len(), decided);
    assert!(!result.failed.is_empty() && result.faults.ok > 0);
}

/// People rarely repeat each other word for word; a chatter that did would look like a spam wave
/// (the same text from several new accounts) and teach nothing about the engine.
#[test]
fn chatter_rarely_repeats_a_recent_line_in_the_same_chat() {
    use std::collections::HashMap;
    let scenario = Scenario::load("demo").unwrap();
    let mut sim = warden::sim::Simulator::new(&scenario, 1);
    let mut recent: HashMap<i64, Vec<String>> = HashMap::new();
    let (mut ham, mut repeats) = (0, 0);
    while let Some((event, truth)) = sim.next_event() {
        let Event::Message(m) = event else { continue };
        if truth.spam || m.text.contains("http") {
            continue;
        }
        let lines = recent.entry(m.chat_id).or_default();
        ham += 1;
        repeats += lines.contains(&m.text) as u32;
        lines.push(m.text);
        if lines.len() > 40 {
            lines.remove(0);
        }
    }
    assert!(ham > 300, "{ham}");
    assert!(
        repeats * 100 <= ham,
        "{repeats} of {ham} lines repeat one of the last 40"
    );
}
