use super::*;
use crate::action::ActionKind;
use crate::model::{JoinKind, Message, Person};

const CHAT: ChatId = -1001;

fn person(id: UserId) -> Person {
    Person {
        id,
        first_name: format!("user{id}"),
        ..Person::default()
    }
}

fn join(user: UserId, date: Timestamp) -> Event {
    Event::Joined {
        chat_id: CHAT,
        user: person(user),
        date,
        how: JoinKind::Direct,
    }
}

fn post(user: UserId, date: Timestamp, text: &str) -> Event {
    Event::Message(Message {
        chat_id: CHAT,
        id: date,
        date,
        from: person(user),
        text: text.into(),
        ..Message::default()
    })
}

/// Small deterministic generator so tests are reproducible.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn feed(det: &mut RaidDetector, events: &[Event]) -> Vec<RaidSignal> {
    events.iter().flat_map(|e| det.on_event(e)).collect()
}

fn started(signals: &[RaidSignal]) -> Vec<&Raid> {
    signals
        .iter()
        .filter_map(|s| match s {
            RaidSignal::RaidStarted { raid, .. } => Some(raid),
            _ => None,
        })
        .collect()
}

/// `n` joins evenly spread over `spread` seconds from `t0`, user ids from `first`.
fn burst(first: UserId, n: i64, t0: Timestamp, spread: i64) -> Vec<Event> {
    (0..n)
        .map(|i| join(first + i, t0 + i * spread / n.max(1)))
        .collect()
}

#[test]
fn join_rate_trigger_table() {
    struct Case {
        name: &'static str,
        baseline: f64,
        joins: i64,
        spread: i64,
        raid: bool,
    }
    let cases = [
        Case {
            name: "14 joins in 5 min on a quiet chat",
            baseline: 0.0,
            joins: 14,
            spread: 290,
            raid: false,
        },
        Case {
            name: "15 joins in 5 min on a quiet chat",
            baseline: 0.0,
            joins: 15,
            spread: 290,
            raid: true,
        },
        Case {
            name: "15 joins spread over 20 min",
            baseline: 0.0,
            joins: 15,
            spread: 1200,
            raid: false,
        },
        Case {
            name: "25 joins in 1 min, baseline 10 (k=3 → 30)",
            baseline: 10.0,
            joins: 25,
            spread: 60,
            raid: false,
        },
        Case {
            name: "30 joins in 1 min, baseline 10 (k=3 → 30)",
            baseline: 10.0,
            joins: 30,
            spread: 60,
            raid: true,
        },
        Case {
            name: "5 joins in 8 s on a quiet chat (burst)",
            baseline: 0.0,
            joins: 5,
            spread: 8,
            raid: true,
        },
        Case {
            name: "4 joins in 8 s on a quiet chat",
            baseline: 0.0,
            joins: 4,
            spread: 8,
            raid: false,
        },
        Case {
            name: "10 joins in 8 s, baseline 10 (burst level 15)",
            baseline: 10.0,
            joins: 10,
            spread: 8,
            raid: false,
        },
        Case {
            name: "threshold wins over a tiny baseline",
            baseline: 2.0,
            joins: 15,
            spread: 60,
            raid: true,
        },
    ];
    for case in cases {
        let mut det = RaidDetector::new(RaidConfig::default());
        det.set_baseline(CHAT, case.baseline);
        let signals = feed(&mut det, &burst(1000, case.joins, 10_000, case.spread));
        assert_eq!(!started(&signals).is_empty(), case.raid, "{}", case.name);
        assert_eq!(det.active_raid(CHAT).is_some(), case.raid, "{}", case.name);
    }
}

#[test]
fn baseline_learns_the_usual_join_rate_and_raises_the_trigger() {
    let mut det = RaidDetector::new(RaidConfig::default());
    // Four hours of 12 joins per 5-minute window: under the threshold, so no raid, but learnt.
    let mut user = 1;
    for window in 0..48 {
        for i in 0..12 {
            det.on_event(&join(user, window * 300 + i * 25));
            user += 1;
        }
    }
    assert!(det.active_raid(CHAT).is_none());
    let baseline = det.baseline(CHAT);
    assert!((10.0..=12.5).contains(&baseline), "baseline {baseline}");
    assert_eq!(det.trigger_level(CHAT), (3.0 * baseline).ceil() as u32);
    // 20 joins in a minute would be a raid on a quiet chat, not on this one.
    let signals = feed(&mut det, &burst(50_000, 20, 48 * 300, 60));
    assert!(started(&signals).is_empty());
    // Long silence lets the baseline decay again.
    det.on_event(&join(90_000, 48 * 300 + 12 * 3600));
    assert!(det.baseline(CHAT) < 2.0, "{}", det.baseline(CHAT));
}

#[test]
fn near_identical_text_from_new_accounts_starts_a_raid() {
    let texts = [
        "Earn 500$ a day from home, write me in private now",
        "earn 700$ a day from home!!! write me in private now",
        "EARN 900 $ a day from home, write me in private now",
        "Earn 300$ a day from home — write me in private now",
        "earn 500$ a day from home, write me in private now 🔥",
    ];
    // Old members (never seen joining) posting the same text: not a raid.
    let mut det = RaidDetector::new(RaidConfig::default());
    let old: Vec<Event> = texts
        .iter()
        .enumerate()
        .map(|(i, t)| post(10 + i as i64, 5_000 + i as i64 * 10, t))
        .collect();
    assert!(started(&feed(&mut det, &old)).is_empty());

    // Five accounts that joined over the last hour (no join spike) post it within a minute.
    let mut det = RaidDetector::new(RaidConfig::default());
    let joins: Vec<Event> = (0..5).map(|i| join(100 + i, 1_000 + i * 700)).collect();
    assert!(started(&feed(&mut det, &joins)).is_empty());
    let posts: Vec<Event> = texts
        .iter()
        .enumerate()
        .map(|(i, t)| post(100 + i as i64, 5_000 + i as i64 * 10, t))
        .collect();
    let signals = feed(&mut det, &posts);
    let raids = started(&signals);
    assert_eq!(raids.len(), 1);
    assert!(matches!(
        raids[0].trigger,
        RaidTrigger::SameText { users: 5, .. }
    ));
    let mut participants = raids[0].participants.clone();
    participants.sort_unstable();
    assert_eq!(participants, vec![100, 101, 102, 103, 104]);
    assert_eq!(raids[0].detected_at, 5_040);

    // Short greetings look alike and never trigger.
    let mut det = RaidDetector::new(RaidConfig::default());
    feed(&mut det, &joins);
    let hellos: Vec<Event> = (0..5)
        .map(|i| post(100 + i, 5_000 + i, "hi all!"))
        .collect();
    assert!(started(&feed(&mut det, &hellos)).is_empty());
}

#[test]
fn raid_lifecycle_with_timestamps_and_auto_release() {
    let mut det = RaidDetector::new(RaidConfig::default());
    let t0 = 100_000;
    // 30 joins, one every 2 s.
    let signals = feed(&mut det, &burst(1, 30, t0, 60));
    let raids = started(&signals);
    assert_eq!(raids.len(), 1);
    let raid = raids[0];
    assert_eq!(raid.started_at, t0);
    // The burst trigger (5 joins within 10 s) fires long before the 5-minute window fills.
    assert_eq!(raid.detected_at, t0 + 8, "alert on the 5th join");
    assert_eq!(raid.participants.len(), 5);
    let changes: Vec<&ContainmentChange> = signals
        .iter()
        .filter_map(|s| match s {
            RaidSignal::ContainmentChanged(c) => Some(c),
            _ => None,
        })
        .collect();
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0].from, Containment::Normal);
    assert_eq!(changes[0].to, Containment::Bunker);
    assert_eq!(changes[0].actions, vec![ActionKind::BunkerOn]);
    let muted = signals
        .iter()
        .filter(|s| matches!(s, RaidSignal::JoinerDuringRaid { .. }))
        .count();
    assert_eq!(muted, 30, "every raider is held for review");
    assert!(signals.iter().any(|s| matches!(
        s,
        RaidSignal::RaidEscalated {
            joins_in_window: 30,
            ..
        }
    )));

    let active = det.active_raid(CHAT).expect("raid active");
    assert_eq!(active.phase, RaidPhase::Contained);
    assert_eq!(active.contained_at, Some(t0 + 8));
    assert_eq!(active.peak_joins_per_window, 30);
    assert_eq!(active.participants.len(), 30);
    let last_join = t0 + 29 * 2;

    assert!(det.tick(last_join + 119).is_empty());
    assert_eq!(
        det.tick(last_join + 120),
        vec![RaidSignal::RaidCooling {
            chat: CHAT,
            raid_id: 1
        }]
    );
    assert!(det.tick(last_join + 120 + 899).is_empty());
    assert!(det.is_raid_active(CHAT, last_join + 120 + 899));
    assert!(
        !det.is_raid_active(CHAT, last_join + 120 + 900),
        "stale even before tick"
    );
    let end = det.tick(last_join + 120 + 900);
    assert_eq!(end.len(), 2, "{end:?}");
    let RaidSignal::RaidEnded { raid, .. } = &end[0] else {
        panic!("{end:?}")
    };
    assert_eq!(raid.phase, RaidPhase::Ended);
    assert_eq!(raid.cooling_at, Some(last_join + 120));
    assert_eq!(raid.ended_at, Some(last_join + 1020));
    let RaidSignal::ContainmentChanged(release) = &end[1] else {
        panic!("{end:?}")
    };
    assert_eq!(release.actions, vec![ActionKind::BunkerOff]);
    assert_eq!(det.containment(CHAT), Containment::Normal);
    assert!(det.active_raid(CHAT).is_none());
    assert_eq!(det.last_ended_raid(CHAT).map(|r| r.id), Some(1));
}

#[test]
fn cooling_raid_flares_up_again() {
    let mut det = RaidDetector::new(RaidConfig::default());
    feed(&mut det, &burst(1, 20, 0, 40));
    assert_eq!(det.tick(300).len(), 1);
    assert_eq!(
        det.active_raid(CHAT).map(|r| r.phase),
        Some(RaidPhase::Cooling)
    );
    let signals = feed(&mut det, &burst(1000, 20, 400, 40));
    assert!(
        signals
            .iter()
            .any(|s| matches!(s, RaidSignal::RaidEscalated { .. }))
    );
    assert!(started(&signals).is_empty(), "same raid, not a new one");
    let raid = det.active_raid(CHAT).unwrap();
    assert_eq!(raid.phase, RaidPhase::Contained);
    assert_eq!(raid.participants.len(), 40);
}

#[test]
fn auto_release_restores_the_previous_slow_mode_exactly() {
    let mut det = RaidDetector::new(RaidConfig::default());
    det.set_resting_containment(CHAT, Containment::Slow { seconds: 60 }, 0);
    let signals = feed(&mut det, &burst(1, 15, 1_000, 30));
    let change = signals
        .iter()
        .find_map(|s| match s {
            RaidSignal::ContainmentChanged(c) => Some(c.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(
        change.actions,
        vec![ActionKind::BunkerOn],
        "slow mode stays on"
    );
    let end = det.tick(10_000);
    let release = end
        .iter()
        .find_map(|s| match s {
            RaidSignal::ContainmentChanged(c) => Some(c.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(release.to, Containment::Slow { seconds: 60 });
    assert_eq!(release.actions, vec![ActionKind::BunkerOff]);
    assert_eq!(det.containment(CHAT), Containment::Slow { seconds: 60 });
}

#[test]
fn manual_containment_is_proposed_for_release_not_released() {
    let mut det = RaidDetector::new(RaidConfig {
        auto_engage: false,
        ..RaidConfig::default()
    });
    let signals = feed(&mut det, &burst(1, 15, 1_000, 30));
    assert!(signals.iter().any(|s| matches!(
        s,
        RaidSignal::ContainmentProposal {
            to: Containment::Bunker,
            ..
        }
    )));
    assert_eq!(det.containment(CHAT), Containment::Normal);
    assert_eq!(
        det.active_raid(CHAT).map(|r| r.phase),
        Some(RaidPhase::Detected)
    );

    let change = det
        .set_containment(CHAT, Containment::Lockdown, 1_100, "mod:alice")
        .unwrap();
    assert_eq!(change.actions, vec![ActionKind::LockdownOn]);
    assert_eq!(
        det.active_raid(CHAT).map(|r| r.phase),
        Some(RaidPhase::Contained)
    );

    let end = det.tick(10_000);
    assert!(end.iter().any(|s| matches!(
        s,
        RaidSignal::ContainmentProposal {
            from: Containment::Lockdown,
            to: Containment::Normal,
            ..
        }
    )));
    assert_eq!(
        det.containment(CHAT),
        Containment::Lockdown,
        "moderator's choice stays"
    );
    let release = det.release_containment(CHAT, 10_001, "mod:alice").unwrap();
    assert_eq!(release.actions, vec![ActionKind::LockdownOff]);
    assert!(det.release_containment(CHAT, 10_002, "again").is_none());
}

#[test]
fn containment_transitions_table() {
    use Containment::*;
    let slow = |s| Slow { seconds: s };
    // (resting mode, then set, expected actions, expected mode after release)
    let cases: Vec<(Containment, Containment, Vec<ActionKind>, Containment)> = vec![
        (Normal, Bunker, vec![ActionKind::BunkerOn], Normal),
        (Normal, Lockdown, vec![ActionKind::LockdownOn], Normal),
        (slow(30), Bunker, vec![ActionKind::BunkerOn], slow(30)),
        (
            Normal,
            slow(60),
            vec![ActionKind::SlowMode { seconds: 60 }],
            slow(60),
        ),
        (
            slow(60),
            slow(300),
            vec![ActionKind::SlowMode { seconds: 300 }],
            slow(300),
        ),
        (
            slow(60),
            Normal,
            vec![ActionKind::SlowMode { seconds: 0 }],
            Normal,
        ),
    ];
    for (resting, to, actions, after_release) in cases {
        let mut state = ContainmentState::resting(resting, 0);
        let change = state.set(CHAT, to, 10, "test").expect("a change");
        assert_eq!(change.actions, actions, "{resting:?} → {to:?}");
        state.release(CHAT, 20, "test");
        assert_eq!(state.mode, after_release, "{resting:?} → {to:?} → release");
    }

    // Bunker → lockdown closes the new gate first, and release still restores slow mode.
    let mut state = ContainmentState::resting(slow(30), 0);
    state.set(CHAT, Bunker, 1, "raid");
    let up = state.set(CHAT, Lockdown, 2, "worse").unwrap();
    assert_eq!(
        up.actions,
        vec![ActionKind::LockdownOn, ActionKind::BunkerOff]
    );
    let down = state.release(CHAT, 3, "over").unwrap();
    assert_eq!(down.to, slow(30));
    assert_eq!(down.actions, vec![ActionKind::LockdownOff]);
    // Turning everything off from an emergency mode clears slow mode too.
    state.set(CHAT, Bunker, 4, "again");
    let off = state.set(CHAT, Normal, 5, "all clear").unwrap();
    assert_eq!(
        off.actions,
        vec![ActionKind::BunkerOff, ActionKind::SlowMode { seconds: 0 }]
    );
    assert!(state.set(CHAT, Normal, 6, "noop").is_none());

    assert_eq!(Containment::slow(900), Ok(slow(900)));
    assert!(Containment::slow(45).is_err());
    assert_eq!(Bunker.enter_actions(), vec![ActionKind::BunkerOn]);
    assert_eq!(Lockdown.leave_actions(), vec![ActionKind::LockdownOff]);
}

#[test]
fn normal_busy_day_raises_no_raid() {
    let mut det = RaidDetector::new(RaidConfig::default());
    let mut rng = Rng(0x5eed);
    let words = [
        "meetup", "tonight", "anyone", "know", "the", "release", "notes", "bug", "fixed", "thanks",
        "question", "about", "config", "where", "docs", "new", "version", "works", "great", "for",
        "me", "how", "install", "on", "linux", "windows", "mac", "error", "when", "starting",
    ];
    let greetings = [
        "hi",
        "hello all",
        "hey everyone",
        "good morning",
        "привет всем",
    ];
    let mut user = 1;
    let mut members: Vec<UserId> = Vec::new();
    let mut t = 0;
    let day = 24 * 3600;
    while t < day {
        // Joins per 5 min follow the day: ~1 at night, ~12 at the busy hours, with noise.
        let hour = (t / 3600) as f64;
        let rate = 1.0 + 11.0 * (std::f64::consts::PI * hour / 24.0).sin().powi(2);
        let gap = (300.0 / rate) as i64;
        t += 1 + rng.below(2 * gap as u64) as i64;
        let signals = det.on_event(&join(user, t));
        assert!(started(&signals).is_empty(), "raid at {t}");
        members.push(user);
        user += 1;
        for _ in 0..rng.below(4) {
            let who = members[rng.below(members.len() as u64) as usize];
            let text = if rng.below(3) == 0 {
                greetings[rng.below(greetings.len() as u64) as usize].to_string()
            } else {
                (0..4 + rng.below(8))
                    .map(|_| words[rng.below(words.len() as u64) as usize])
                    .collect::<Vec<_>>()
                    .join(" ")
            };
            let signals = det.on_event(&post(who, t, &text));
            assert!(started(&signals).is_empty(), "text raid at {t}: {text}");
        }
        assert!(det.tick(t).is_empty());
    }
    assert!(user > 1500, "a busy day: {user} joins");
    assert!(det.last_ended_raid(CHAT).is_none());
}

#[test]
fn join_rate_series_buckets_per_minute_with_gaps() {
    let mut det = RaidDetector::new(RaidConfig::default());
    feed(
        &mut det,
        &[join(1, 60), join(2, 61), join(3, 119), join(4, 240)],
    );
    let series = det.join_rate_series(CHAT);
    assert_eq!(series.bucket_secs, 60);
    assert_eq!(series.first_bucket_start, 60);
    assert_eq!(series.counts, vec![3, 0, 0, 1]);
    assert!(det.join_rate_series(42).counts.is_empty());
    // Bounded length.
    feed(&mut det, &[join(5, 1_000_000)]);
    assert_eq!(det.join_rate_series(CHAT).counts.len(), 120);
}

#[test]
fn late_and_odd_events_do_not_break_windows() {
    let mut det = RaidDetector::new(RaidConfig::default());
    feed(&mut det, &burst(1, 10, 10_000, 100));
    // Late events count as now; a negative timestamp or a 1 MB message does not panic.
    det.on_event(&join(99, 5));
    det.on_event(&join(98, -5_000_000));
    det.on_event(&post(99, 10_050, &"spam ".repeat(200_000)));
    assert!(det.active_raid(CHAT).is_none());
    let signals = feed(&mut det, &burst(200, 3, 10_110, 3));
    assert_eq!(
        started(&signals).len(),
        1,
        "10 + 2 late + 3 = 15 joins in the window"
    );
}

#[test]
fn config_defaults_and_strict_parsing() {
    let config: RaidConfig = toml::from_str("").unwrap();
    assert_eq!(config, RaidConfig::default());
    assert_eq!(config.join_threshold, 15);
    assert_eq!(config.window_secs, 300);
    assert_eq!(config.engage, Containment::Bunker);
    let config: RaidConfig =
        toml::from_str("join_threshold = 20\nengage = { slow = { seconds = 60 } }").unwrap();
    assert_eq!(config.join_threshold, 20);
    assert_eq!(config.engage, Containment::Slow { seconds: 60 });
    let err = toml::from_str::<RaidConfig>("join_treshold = 20").unwrap_err();
    assert!(err.to_string().contains("join_treshold"), "{err}");
    let bad = RaidConfig {
        window_secs: 0,
        ..RaidConfig::default()
    };
    assert!(bad.validate().unwrap_err().contains("raid.window_secs"));
    let bad = RaidConfig {
        engage: Containment::Slow { seconds: 7 },
        ..RaidConfig::default()
    };
    assert!(bad.validate().unwrap_err().contains("raid.engage"));
    assert!(RaidConfig::default().validate().is_ok());
}
