//! The pipeline keeps the store in step: clusters that grow are persisted, and old message texts
//! are purged on schedule while their verdicts stay.

use warden::app::pipeline::Pipeline;
use warden::config::Config;
use warden::model::{Event, Message, Person};
use warden::sim::{Scenario, Simulator};
use warden_store::Store;

fn pipeline(dir: &std::path::Path, now: i64) -> Pipeline {
    let store = Store::open(&dir.join("w.db")).unwrap();
    Pipeline::new(&Config::default(), store, now).unwrap()
}

#[test]
fn a_ring_is_persisted_as_a_cluster() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = Scenario::load("ring").unwrap();
    let mut sim = Simulator::new(&scenario, 1);
    let mut p = pipeline(dir.path(), sim.start());
    while let Some((event, _truth)) = sim.next_event() {
        p.handle(&event).unwrap();
    }
    p.store().writer().flush().unwrap();
    let clusters = p.store().reader().unwrap().clusters(None, 10).unwrap();
    let biggest = clusters.iter().map(|c| c.members.len()).max().unwrap_or(0);
    assert!(biggest >= 3, "{clusters:#?}");
    assert!(clusters.iter().all(|c| !c.edges.is_empty()));
}

#[test]
fn old_texts_are_purged_by_the_tick_and_verdicts_stay() {
    let dir = tempfile::tempdir().unwrap();
    let t0 = 1_772_445_600;
    let mut p = pipeline(dir.path(), t0);
    let message = Message {
        chat_id: -100,
        id: 1,
        date: t0,
        from: Person {
            id: 42,
            first_name: "Ann".into(),
            ..Person::default()
        },
        text: "see you at the meetup tomorrow".into(),
        ..Message::default()
    };
    p.handle(&Event::Message(message)).unwrap();
    p.tick(t0 + 10).unwrap();
    p.store().writer().flush().unwrap();
    let reader = p.store().reader().unwrap();
    assert!(reader.message(-100, 1).unwrap().unwrap().text.is_some());
    // 91 days later the default 90-day retention has passed.
    p.tick(t0 + 91 * 86_400).unwrap();
    p.store().writer().flush().unwrap();
    let record = reader.message(-100, 1).unwrap().unwrap();
    assert_eq!(record.text, None);
    assert_eq!(record.verdict, "ham");
}

#[test]
fn moderators_trust_and_lists_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let t0 = 1_772_445_600;
    {
        let store = Store::open(&dir.path().join("w.db")).unwrap();
        let w = store.writer();
        for id in [7, 8, 9] {
            w.commit(warden_store::WriteOp::UpsertUser(
                warden_store::UserUpsert {
                    id,
                    first_name: "U".into(),
                    last_name: None,
                    username: None,
                    is_bot: false,
                    seen_at: t0,
                },
            ))
            .unwrap();
        }
        let listed = |user_id: i64, listed: &str| warden_store::WriteOp::SetUserListed {
            user_id,
            listed: listed.into(),
            by: "mod:ann".into(),
            at: t0,
        };
        w.commit(listed(7, "whitelist")).unwrap();
        w.commit(listed(8, "blacklist")).unwrap();
        w.commit(warden_store::WriteOp::SetUserTrust {
            user_id: 9,
            trust: "trusted".into(),
            by: "mod:ann".into(),
            at: t0,
        })
        .unwrap();
    }
    let p = pipeline(dir.path(), t0);
    let user = |id| p.policy.users.get(id).expect("loaded");
    assert!(user(7).whitelisted && !user(7).blacklisted);
    assert!(user(8).blacklisted && !user(8).whitelisted);
    assert!(user(9).is_trusted_in(-100) && !user(9).whitelisted);
}
