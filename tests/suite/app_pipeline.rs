//! The pipeline keeps the store in step: clusters that grow are persisted, and old message texts
//! are purged on schedule while their verdicts stay.

use warden::app::pipeline::Pipeline;
use warden::config::Config;
use warden::engine::VerdictClass;
use warden::model::{Event, Message, Person};
use warden::sim::{Scenario, Simulator};
use warden_store::Store;

fn pipeline(dir: &std::path::Path, now: i64) -> Pipeline {
    let store = Store::open(&dir.join("w.db")).unwrap();
    Pipeline::new(&Config::default(), store, now).unwrap()
}

/// Message `id` from user `user` (named "U<id>") in `chat` at `date`.
fn said(chat: i64, date: i64, id: i64, user: i64, text: &str) -> Message {
    Message {
        chat_id: chat,
        id,
        date,
        from: Person {
            id: user,
            first_name: format!("U{user}"),
            ..Person::default()
        },
        text: text.into(),
        ..Message::default()
    }
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

#[test]
fn learned_memory_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let t0 = 1_772_445_600;
    let chat = -100;
    let say = |id: i64, user: i64, text: &str| Event::Message(said(chat, t0 + id, id, user, text));
    let spam = "💰💰 EARN $500 A DAY from home!!! Write to @rich_fast_bot, limited places 🔥🔥";
    let (tags, spam_hits) = {
        let mut p = pipeline(dir.path(), t0);
        for (id, text) in [
            (1, "morning all"),
            (2, "did anyone try the new release"),
            (3, "thanks, that fixed it"),
        ] {
            p.handle(&say(id, 11, text)).unwrap();
        }
        assert!(p.policy.users.get(11).unwrap().is_trusted_in(chat));
        p.handle(&say(4, 12, spam)).unwrap();
        let stats = p.policy.rules().stats("spam_strike");
        assert!(stats.hits >= 1, "the seed rule fired on the spam");
        for command in [
            warden_ui::Command::Tag {
                user: 12,
                tag: "crypto".into(),
                on: true,
            },
            warden_ui::Command::Tag {
                user: 12,
                tag: "scam".into(),
                on: true,
            },
            warden_ui::Command::Tag {
                user: 12,
                tag: "crypto".into(),
                on: false,
            },
            warden_ui::Command::Note {
                user: 12,
                text: "same ring as last week".into(),
            },
        ] {
            let notice = warden::app::commands::apply(&mut p, "ann", command);
            assert!(!notice.is_error, "{}", notice.text);
        }
        p.store().writer().flush().unwrap();
        let tags = p.policy.users.get(12).unwrap().tags.clone();
        (tags, stats.hits)
    };

    let p = pipeline(dir.path(), t0 + 60);
    let trusted = p
        .policy
        .users
        .get(11)
        .expect("trust earned in the chat is remembered");
    assert!(trusted.is_trusted_in(chat) && !trusted.is_trusted_in(-200));
    let spammer = p.policy.users.get(12).expect("the spammer is remembered");
    assert_eq!(spammer.tags, tags);
    assert_eq!(spammer.tags.iter().collect::<Vec<_>>(), ["scam"]);
    assert_eq!(spammer.note.as_deref(), Some("same ring as last week"));
    let cfg = &p.policy.cfg;
    let risk = spammer.score_at(t0 + 60, cfg);
    assert!(risk > 0.8, "the score survives and keeps decaying: {risk}");
    let week_later = spammer.score_at(t0 + 60 + cfg.score_half_life as i64, cfg);
    assert!(
        (week_later - risk / 2.0).abs() < 0.01,
        "{week_later} vs {risk}"
    );
    assert_eq!(p.policy.rules().stats("spam_strike").hits, spam_hits);
}

#[test]
fn members_trusted_before_a_restart_are_not_content_checked_again_but_edits_are() {
    let dir = tempfile::tempdir().unwrap();
    let t0 = 1_772_445_600;
    let chat = -100;
    let msg = |id: i64, user: i64, text: &str, edited: bool| Message {
        edited,
        ..said(chat, t0 + id, id, user, text)
    };
    {
        let mut p = pipeline(dir.path(), t0);
        for (id, text) in [
            (1, "morning all"),
            (2, "any news on the release"),
            (3, "thanks!"),
        ] {
            p.handle(&Event::Message(msg(id, 11, text, false))).unwrap();
        }
        assert!(p.policy.users.get(11).unwrap().is_trusted_in(chat));
        p.store().writer().flush().unwrap();
    }
    let mut p = pipeline(dir.path(), t0 + 60);
    let pitch = "EARN $500 A DAY from home, write to @rich_fast_bot, limited places";
    let verdict = |p: &mut Pipeline, m: Message| {
        let event = if m.edited {
            Event::Edited(m)
        } else {
            Event::Message(m)
        };
        p.handle(&event).unwrap().verdict.expect("a verdict")
    };
    let known = verdict(
        &mut p,
        msg(10, 11, "restarted and it works now, thanks", false),
    );
    assert!(
        known.hits.iter().all(|h| h.name != "classifier"),
        "no content checks for a member trusted before the restart: {:?}",
        known.hits
    );
    let edited = verdict(&mut p, msg(10, 11, pitch, true));
    assert_eq!(edited.class, VerdictClass::Spam, "edits are always checked");
    let stranger = verdict(&mut p, msg(11, 12, pitch, false));
    assert_eq!(stranger.class, VerdictClass::Spam, "newcomers are checked");
}

#[test]
fn stop_phrases_edited_by_a_moderator_apply_at_once_and_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let t0 = 1_772_445_600;
    let stop_hit = |p: &warden::app::pipeline::Pipeline, text: &str| {
        p.engine
            .check_text(text)
            .hits
            .iter()
            .find(|h| h.name == "stop_phrase")
            .map(|h| h.reason.clone())
    };
    let shipped = "доход от";
    let added = "продайте гараж недорого";
    let ours = "кстати, продайте гараж недорого, если что";
    let theirs = "у меня доход от фриланса небольшой";
    {
        let mut p = pipeline(dir.path(), t0);
        assert!(stop_hit(&p, theirs).is_some(), "a shipped stop phrase");
        assert!(stop_hit(&p, ours).is_none());
        for (phrase, on) in [(added, true), (shipped, false), ("!!!", true)] {
            let command = warden_ui::Command::StopPhrase {
                phrase: phrase.into(),
                on,
            };
            let notice = warden::app::commands::apply(&mut p, "ann", command);
            assert_eq!(notice.is_error, phrase == "!!!", "{}", notice.text);
        }
        // In effect for the very next check, matched on normalised text.
        let reason = stop_hit(&p, "Кстати, ПРОДАЙТЕ гараж недорого!").expect("the added phrase");
        assert!(reason.contains(added), "{reason}");
        assert!(stop_hit(&p, theirs).is_none(), "the shipped phrase is off");
        p.store().writer().flush().unwrap();
    }
    let mut p = pipeline(dir.path(), t0 + 60);
    assert!(
        stop_hit(&p, ours).is_some(),
        "the addition survives a restart"
    );
    assert!(stop_hit(&p, theirs).is_none(), "so does the removal");
    let command = warden_ui::Command::StopPhrase {
        phrase: shipped.into(),
        on: true,
    };
    assert!(!warden::app::commands::apply(&mut p, "ann", command).is_error);
    assert!(stop_hit(&p, theirs).is_some(), "switched back on");
}

#[test]
fn a_member_list_gives_join_dates_to_the_investigator_and_co_joins_to_the_clusters() {
    use warden::app::live::SharedView;
    use warden::app::source::AppSource;
    use warden::model::ListedMember;
    use warden_ui::DataSource;
    let dir = tempfile::tempdir().unwrap();
    let now = 1_700_000_000;
    let mut p = pipeline(dir.path(), now);
    const CHAT: i64 = -1_000_000_000_777;
    let listed = |id: i64, name: &str, joined_at: i64, inviter: Option<i64>| ListedMember {
        person: Person {
            id,
            first_name: name.into(),
            ..Person::default()
        },
        joined_at: Some(joined_at),
        inviter,
    };
    let year_ago = now - 365 * 86_400;
    let grown = p.members_listed(
        CHAT,
        &[
            listed(42, "Jane", year_ago, Some(7)),
            // A batch of two, 20 s apart, with close ids and the same name, 90 days ago.
            listed(7_700_001, "Alex", now - 90 * 86_400, None),
            listed(7_700_004, "Alex", now - 90 * 86_400 + 20, None),
        ],
    );
    assert_eq!(grown, 1);
    p.store().writer().flush().unwrap();
    let clusters = p.store().reader().unwrap().clusters(None, 10).unwrap();
    assert_eq!(clusters.len(), 1, "{clusters:#?}");
    let mut members = clusters[0].members.clone();
    members.sort_unstable();
    assert_eq!(members, vec![7_700_001, 7_700_004]);

    let source = AppSource::new(
        p.store().reader().unwrap(),
        SharedView::default(),
        &warden::policy::PolicyConfig::default(),
    );
    let jane = source.user(42).expect("a listed member has a profile");
    assert_eq!(jane.chats.len(), 1);
    assert_eq!(jane.chats[0].joined, Some(year_ago));
    assert_eq!(jane.chats[0].how_joined.as_deref(), Some("added, by 7"));
}
