//! Same scenario and seed → the same event stream; a different seed → a different one.

use std::collections::{BTreeSet, HashSet};
use warden::model::Event;
use warden::sim::{Role, Scenario, Simulator, Truth};

fn run(name: &str, seed: u64) -> Vec<(Event, Truth)> {
    Simulator::new(&Scenario::load(name).unwrap(), seed).collect()
}

#[test]
fn same_seed_gives_identical_stream_for_every_builtin() {
    for name in Scenario::builtin_names() {
        let a = run(name, 42);
        let b = run(name, 42);
        assert!(!a.is_empty(), "{name} produced no events");
        assert_eq!(a, b, "{name} is not deterministic");
    }
}

#[test]
fn different_seed_gives_different_stream() {
    assert_ne!(run("demo", 1), run("demo", 2));
}

#[test]
fn events_are_in_time_order_within_the_run() {
    let scenario = Scenario::load("demo").unwrap();
    let events = run("demo", 3);
    let dates: Vec<i64> = events.iter().map(|(e, _)| e.date()).collect();
    assert!(
        dates.windows(2).all(|w| w[0] <= w[1]),
        "events out of order"
    );
    assert!(
        dates
            .iter()
            .all(|d| (scenario.start()..=scenario.end()).contains(d))
    );
}

#[test]
fn message_ids_are_unique_per_chat() {
    let mut seen = HashSet::new();
    for (event, _) in run("demo", 4) {
        if let Event::Message(m) = event {
            assert!(
                seen.insert((m.chat_id, m.id)),
                "duplicate message id {} in {}",
                m.id,
                m.chat_id
            );
        }
    }
}

#[test]
fn demo_has_every_ingredient_with_truth() {
    let events = run("demo", 1);
    let roles: BTreeSet<Role> = events.iter().map(|(_, t)| t.role).collect();
    for role in [
        Role::Regular,
        Role::Newcomer,
        Role::Lurker,
        Role::Spammer,
        Role::Raider,
        Role::RingMember,
    ] {
        assert!(roles.contains(&role), "no {role:?} in the demo");
    }
    let texts: Vec<&str> = events
        .iter()
        .filter_map(|(e, _)| match e {
            Event::Message(m) => Some(m.text.as_str()),
            _ => None,
        })
        .collect();
    let cyrillic = texts
        .iter()
        .filter(|t| t.chars().any(|c| ('а'..='я').contains(&c)))
        .count();
    let latin_only = texts
        .iter()
        .filter(|t| !t.chars().any(|c| ('а'..='я').contains(&c)))
        .count();
    assert!(
        cyrillic > 50 && latin_only > 50,
        "ru {cyrillic}, en {latin_only}"
    );
    // Evasion: an edit into spam, a post as a channel, a button with a link, a forward.
    assert!(
        events
            .iter()
            .any(|(e, t)| matches!(e, Event::Edited(m) if m.edited) && t.spam)
    );
    assert!(
        events
            .iter()
            .any(|(e, t)| matches!(e, Event::Message(m) if m.sender_chat.is_some()) && t.spam)
    );
    assert!(
        events.iter().any(
            |(e, _)| matches!(e, Event::Message(m) if m.buttons.iter().any(|b| b.url.is_some()))
        )
    );
    assert!(events.iter().any(|(e, _)| matches!(e, Event::Message(m) if m.forward.as_ref().is_some_and(|f| f.from_channel))));
    assert!(events.iter().any(
        |(e, t)| matches!(e, Event::RestrictedByAdmin { banned: true, .. })
            && t.role == Role::Spammer
    ));
    // Ham never carries spam truth, and regulars never send spam.
    assert!(events.iter().all(|(_, t)| !(t.spam && t.role.is_legit())));
}

#[test]
fn raid_accounts_join_within_the_window_then_post() {
    let scenario = Scenario::load("raid").unwrap();
    let window = i64::from(scenario.raids[0].join_window_seconds);
    let events = run("raid", 5);
    let joins: Vec<i64> = events
        .iter()
        .filter(|(e, t)| t.raid_id == Some(1) && matches!(e, Event::Joined { .. }))
        .map(|(e, _)| e.date())
        .collect();
    assert_eq!(joins.len(), scenario.raids[0].accounts as usize);
    let span = joins.iter().max().unwrap() - joins.iter().min().unwrap();
    assert!(span <= window, "joins spread over {span} s");
    let posts = events
        .iter()
        .filter(|(e, t)| t.raid_id == Some(1) && matches!(e, Event::Message(_)))
        .count();
    assert!(posts >= joins.len(), "raiders posted only {posts} messages");
}

#[test]
fn ring_members_have_near_sequential_ids_and_share_one_link() {
    let events = run("ring", 6);
    let mut ids = BTreeSet::new();
    let mut links = BTreeSet::new();
    for (event, truth) in &events {
        if truth.ring_id.is_some()
            && let Event::Message(m) = event
        {
            ids.insert(m.from.id);
            let link = m
                .text
                .split_whitespace()
                .find(|w| w.starts_with("https://"))
                .unwrap();
            links.insert(link.to_string());
        }
    }
    assert_eq!(links.len(), 1, "ring links: {links:?}");
    let ids: Vec<i64> = ids.into_iter().collect();
    assert!(ids.len() >= 4, "{ids:?}");
    assert!(
        ids.windows(2).all(|w| w[1] - w[0] <= 3),
        "ids not near-sequential: {ids:?}"
    );
}
