//! Actions sent through the simulator's gateway change what happens next.

use warden::action::{Action, ActionKind, Actor, Gateway};
use warden::model::{ChatId, Event, UserId};
use warden::sim::{FaultConfig, Role, Scenario, ScoreReport, Scorecard, Simulator};

fn action(
    kind: ActionKind,
    chat_id: ChatId,
    user_id: Option<UserId>,
    message_id: Option<i64>,
) -> Action {
    Action {
        idempotency_key: format!("{}:{chat_id}:{user_id:?}:{message_id:?}", kind.name()),
        kind,
        chat_id,
        user_id,
        message_id,
        reason: "test".into(),
        requested_by: Actor::System,
    }
}

fn sender(event: &Event) -> Option<UserId> {
    match event {
        Event::Message(m) => Some(m.sender_chat.as_ref().map_or(m.from.id, |c| c.id)),
        _ => None,
    }
}

#[test]
fn banned_spammers_stop_posting_and_deleted_messages_are_marked() {
    let scenario = Scenario::load("spam-wave").unwrap();
    let mut sim = Simulator::new(&scenario, 1);
    let mut gateway = sim.gateway(FaultConfig::default());
    let mut banned = Vec::new();
    let mut after_ban = 0;
    let mut deleted = Vec::new();
    while let Some((event, truth)) = sim.next_event() {
        let Event::Message(m) = &event else { continue };
        if banned.contains(&m.from.id) {
            after_ban += 1;
        }
        if truth.spam {
            gateway
                .execute(
                    &action(ActionKind::Delete, m.chat_id, None, Some(m.id)),
                    m.date,
                )
                .unwrap();
            gateway
                .execute(
                    &action(
                        ActionKind::Ban { seconds: None },
                        m.chat_id,
                        Some(m.from.id),
                        None,
                    ),
                    m.date,
                )
                .unwrap();
            banned.push(m.from.id);
            deleted.push((m.chat_id, m.id));
        }
    }
    assert!(banned.len() >= 10, "only {} spammers seen", banned.len());
    assert_eq!(after_ban, 0, "banned users kept posting");
    assert!(deleted.iter().all(|(c, id)| sim.is_deleted(*c, *id)));
    assert!(
        sim.suppressed().banned_or_removed > 0,
        "no planned spam was stopped"
    );
}

#[test]
fn unbanned_regular_comes_back() {
    let scenario = Scenario::load("chatter").unwrap();
    let mut sim = Simulator::new(&scenario, 2);
    let mut gateway = sim.gateway(FaultConfig::default());
    let mut victim = None;
    let mut posts_after_unban = 0;
    let mut unbanned = false;
    while let Some((event, truth)) = sim.next_event() {
        let Event::Message(m) = &event else { continue };
        match victim {
            None if truth.role == Role::Regular => {
                victim = Some(m.from.id);
                let ban = action(
                    ActionKind::Ban { seconds: None },
                    m.chat_id,
                    Some(m.from.id),
                    None,
                );
                gateway.execute(&ban, m.date).unwrap();
                let unban = action(ActionKind::Unban, m.chat_id, Some(m.from.id), None);
                gateway.execute(&unban, m.date + 600).unwrap();
                unbanned = true;
            }
            Some(v) if v == m.from.id && unbanned => posts_after_unban += 1,
            _ => {}
        }
    }
    assert!(
        posts_after_unban > 0,
        "the unbanned regular never posted again"
    );
}

#[test]
fn bunker_stops_newcomers_but_not_regulars_and_lockdown_stops_everyone() {
    let scenario = Scenario::load("raid").unwrap();
    let chat = scenario.chat_id(0);
    let mut sim = Simulator::new(&scenario, 3);
    let mut gateway = sim.gateway(FaultConfig::default());
    gateway
        .execute(
            &action(ActionKind::BunkerOn, chat, None, None),
            scenario.start(),
        )
        .unwrap();
    let mut by_role = std::collections::BTreeMap::<Role, usize>::new();
    for (event, truth) in sim.by_ref() {
        if matches!(event, Event::Message(_)) {
            *by_role.entry(truth.role).or_default() += 1;
        }
    }
    assert!(
        by_role.get(&Role::Regular).copied().unwrap_or(0) > 10,
        "{by_role:?}"
    );
    assert_eq!(
        by_role.get(&Role::Raider),
        None,
        "raiders posted through the bunker"
    );
    assert_eq!(
        by_role.get(&Role::Newcomer),
        None,
        "newcomers posted through the bunker"
    );
    assert!(sim.suppressed().bunker > 0);

    let mut sim = Simulator::new(&scenario, 3);
    let mut gateway = sim.gateway(FaultConfig::default());
    gateway
        .execute(
            &action(ActionKind::LockdownOn, chat, None, None),
            scenario.start(),
        )
        .unwrap();
    let messages = sim
        .by_ref()
        .filter(|(e, _)| matches!(e, Event::Message(_)))
        .count();
    assert_eq!(messages, 0);
    assert!(sim.chats()[0].lockdown);
}

#[test]
fn muted_user_is_silent_until_the_mute_ends() {
    let scenario = Scenario::load("chatter").unwrap();
    let mut sim = Simulator::new(&scenario, 4);
    let mut gateway = sim.gateway(FaultConfig::default());
    let mut muted: Option<(UserId, i64)> = None;
    let (mut during, mut after) = (0, 0);
    while let Some((event, truth)) = sim.next_event() {
        let Event::Message(m) = &event else { continue };
        match muted {
            None if truth.role == Role::Regular => {
                let mute = action(
                    ActionKind::Mute { seconds: 1800 },
                    m.chat_id,
                    Some(m.from.id),
                    None,
                );
                gateway.execute(&mute, m.date).unwrap();
                muted = Some((m.from.id, m.date + 1800));
            }
            Some((user, until)) if user == m.from.id => {
                if m.date < until {
                    during += 1;
                } else {
                    after += 1;
                }
            }
            _ => {}
        }
    }
    assert_eq!(during, 0);
    assert!(after > 0, "the user never spoke after the mute");
    assert!(sim.suppressed().muted > 0);
}

#[test]
fn slow_mode_spaces_each_users_messages() {
    let scenario = Scenario::load("raid").unwrap();
    let chat = scenario.chat_id(0);
    let mut sim = Simulator::new(&scenario, 5);
    let mut gateway = sim.gateway(FaultConfig::default());
    gateway
        .execute(
            &action(ActionKind::SlowMode { seconds: 120 }, chat, None, None),
            scenario.start(),
        )
        .unwrap();
    let mut last = std::collections::HashMap::<UserId, i64>::new();
    for (event, _) in sim.by_ref() {
        if let Some(user) = sender(&event)
            && let Some(prev) = last.insert(user, event.date())
        {
            let gap = event.date() - prev;
            assert!(gap >= 120, "user {user} posted {gap} s apart");
        }
    }
    assert!(
        sim.suppressed().slowed > 0,
        "slow mode never had to hold a raider back"
    );
}

#[test]
fn posting_as_a_channel_is_stopped_by_banning_the_channel() {
    let scenario = Scenario::load("evasion").unwrap();
    let mut sim = Simulator::new(&scenario, 6);
    let mut gateway = sim.gateway(FaultConfig::default());
    let mut banned = Vec::new();
    let mut after = 0;
    while let Some((event, _)) = sim.next_event() {
        let Event::Message(m) = &event else { continue };
        let Some(channel) = &m.sender_chat else {
            continue;
        };
        if banned.contains(&channel.id) {
            after += 1;
        }
        let ban = action(
            ActionKind::Ban { seconds: None },
            m.chat_id,
            Some(channel.id),
            None,
        );
        gateway.execute(&ban, m.date).unwrap();
        banned.push(channel.id);
    }
    assert_eq!(banned.len(), 2, "expected two channel posters");
    assert_eq!(after, 0);
}

#[test]
fn gateway_is_idempotent_and_rejects_unknown_targets() {
    let scenario = Scenario::load("chatter").unwrap();
    let sim = Simulator::new(&scenario, 7);
    let mut gateway = sim.gateway(FaultConfig::default());
    let chat = scenario.chat_id(0);
    let bunker = action(ActionKind::BunkerOn, chat, None, None);
    gateway.execute(&bunker, scenario.start()).unwrap();
    gateway.execute(&bunker, scenario.start() + 1).unwrap();
    assert_eq!(sim.applied_actions().len(), 1);
    let err = gateway
        .execute(&action(ActionKind::BunkerOn, -42, None, None), 0)
        .unwrap_err();
    assert!(matches!(err, warden::action::GatewayError::Permanent(_)));
    let err = gateway
        .execute(&action(ActionKind::Delete, chat, None, Some(1)), 0)
        .unwrap_err();
    assert!(
        matches!(err, warden::action::GatewayError::Permanent(_)),
        "{err}"
    );
}

/// A crude stand-in pipeline (links from accounts that just joined are spam, a burst of joins is a
/// raid) proves the scorecard's arithmetic against the truth.
#[test]
fn scorecard_grades_a_simple_pipeline() {
    let scenario = Scenario::load("demo").unwrap();
    let mut sim = Simulator::new(&scenario, 1);
    let mut gateway = sim.gateway(FaultConfig::default());
    let mut card = Scorecard::new("demo", 1);
    let mut joined = std::collections::HashMap::<UserId, i64>::new();
    let mut recent_joins = std::collections::HashMap::<ChatId, Vec<i64>>::new();
    let mut alerted = std::collections::HashSet::new();
    let mut ring_ids = Vec::new();
    while let Some((event, truth)) = sim.next_event() {
        card.observe(&event, &truth);
        if truth.ring_id.is_some() {
            ring_ids.push(truth.user_id.unwrap());
        }
        match &event {
            Event::Joined {
                chat_id,
                user,
                date,
                ..
            } => {
                joined.insert(user.id, *date);
                let joins = recent_joins.entry(*chat_id).or_default();
                joins.push(*date);
                joins.retain(|d| date - d < 60);
                if joins.len() >= 10 && alerted.insert(*chat_id) {
                    for kind in [ActionKind::RaidAlert, ActionKind::BunkerOn] {
                        let a = action(kind, *chat_id, None, None);
                        card.action(&a, *date);
                        gateway.execute(&a, *date).unwrap();
                    }
                }
            }
            Event::Message(m) if m.text.contains("http") && joined.contains_key(&m.from.id) => {
                let a = action(ActionKind::Delete, m.chat_id, None, Some(m.id));
                card.action(&a, m.date);
                gateway.execute(&a, m.date).unwrap();
            }
            _ => {}
        }
    }
    ring_ids.sort_unstable();
    ring_ids.dedup();
    card.clusters(vec![ring_ids.clone()]);
    let report: ScoreReport = card.report();
    assert!(report.messages_seen > 300);
    let s = &report.spam;
    assert_eq!(s.true_positives + s.false_negatives, s.spam_messages);
    assert_eq!(s.flagged, s.true_positives + s.false_positives);
    assert!(s.precision.unwrap() > 0.8, "{report}");
    assert!(
        s.recall.unwrap() > 0.3 && s.recall.unwrap() < 1.0,
        "{report}"
    );
    assert_eq!(report.raids.len(), 1);
    let latency = report.raids[0].alert_latency_s.unwrap();
    assert!((0..=60).contains(&latency), "alert latency {latency}");
    assert_eq!(report.raids[0].containment_latency_s, Some(latency));
    assert_eq!(report.clusters.recall, Some(1.0));
    assert_eq!(report.clusters.precision, Some(1.0));
    assert_eq!(report.actions_by_kind["raid_alert"], 1);
    let text = report.to_string();
    assert!(
        text.contains("precision") && text.contains("start → alert"),
        "{text}"
    );
    let json: serde_json::Value = serde_json::from_str(&report.to_json()).unwrap();
    assert_eq!(json["raids"][0]["alert_latency_s"], latency);
}

#[test]
fn scorecard_counts_legit_members_wrongly_acted_on() {
    let scenario = Scenario::load("chatter").unwrap();
    let mut sim = Simulator::new(&scenario, 8);
    let mut card = Scorecard::new("chatter", 8);
    let mut acted = 0;
    while let Some((event, truth)) = sim.next_event() {
        card.observe(&event, &truth);
        if let Event::Message(m) = &event
            && acted < 3
        {
            card.action(
                &action(ActionKind::Delete, m.chat_id, None, Some(m.id)),
                m.date,
            );
            acted += 1;
        }
    }
    let report = card.report();
    assert_eq!(report.spam.spam_messages, 0);
    assert_eq!(report.spam.false_positives, 3);
    assert_eq!(report.spam.precision, Some(0.0));
    assert_eq!(report.spam.recall, None);
    assert!((1..=3).contains(&report.legit_members_acted_on));
}
