mod common;

use common::*;
use serde_json::json;
use warden_store::*;

const OTHER_CHAT: i64 = -100_999;

fn seed_messages(store: &Store) {
    let w = store.writer();
    w.commit(WriteOp::UpsertUser(UserUpsert {
        last_name: Some("Doe".into()),
        ..user(42, "Jane", Some("jdoe"))
    }))
    .unwrap();
    let batch: Vec<NewMessage> = (0..100)
        .map(|i| {
            let chat = if i % 2 == 0 { CHAT } else { OTHER_CHAT };
            message(chat, i, 40 + i % 3, T0 + i * 30, i % 5 == 0)
        })
        .collect();
    assert_eq!(
        w.commit(WriteOp::RecordMessages(batch)).unwrap().count(),
        Some(100)
    );
}

#[test]
fn latest_flagged_pages_backwards_without_gaps_or_repeats() {
    let (_dir, store) = open_temp();
    seed_messages(&store);
    let r = store.reader().unwrap();
    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let page = r
            .latest_flagged(&FlaggedFilter::default(), cursor, 7)
            .unwrap();
        seen.extend(page.items.iter().map(|m| m.message_id));
        match page.next {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    let expected: Vec<i64> = (0..100).rev().filter(|i| i % 5 == 0).collect();
    assert_eq!(seen, expected);

    let first = r
        .latest_flagged(&FlaggedFilter::default(), None, 1)
        .unwrap();
    let m = &first.items[0];
    assert_eq!(m.message_id, 95);
    assert_eq!(m.hits.len(), 1);
    assert_eq!(m.hits[0].name, "link");
    assert_eq!(m.summary, "link");

    let in_chat = r
        .latest_flagged(
            &FlaggedFilter {
                chat_id: Some(CHAT),
                ..Default::default()
            },
            None,
            100,
        )
        .unwrap();
    assert!(in_chat.items.iter().all(|m| m.chat_id == CHAT));
    assert_eq!(in_chat.items.len(), 10);
    assert!(in_chat.next.is_none());

    let by_user = r
        .latest_flagged(
            &FlaggedFilter {
                user_id: Some(42),
                ..Default::default()
            },
            None,
            100,
        )
        .unwrap();
    assert!(by_user.items.iter().all(|m| m.user_id == 42));
    assert_eq!(by_user.items[0].author.as_deref(), Some("Jane Doe (@jdoe)"));
}

#[test]
fn edits_replace_hits_and_deletes_hide_from_flagged() {
    let (_dir, store) = open_temp();
    let w = store.writer();
    let row = w
        .commit(WriteOp::RecordMessage(message(CHAT, 1, 5, T0, true)))
        .unwrap()
        .id()
        .unwrap();
    let mut edited = message(CHAT, 1, 5, T0, true);
    edited.edited = true;
    edited.text = "edited text".into();
    edited.hits = vec![
        NewHit {
            name: "caps".into(),
            weight: 0.2,
            detail: "ALL CAPS".into(),
        },
        NewHit {
            name: "phone".into(),
            weight: 0.5,
            detail: "+1 555".into(),
        },
    ];
    assert_eq!(
        w.commit(WriteOp::RecordMessage(edited)).unwrap().id(),
        Some(row)
    );
    let r = store.reader().unwrap();
    let m = r.message(CHAT, 1).unwrap().unwrap();
    assert!(m.edited);
    assert_eq!(m.text.as_deref(), Some("edited text"));
    let names: Vec<&str> = m.hits.iter().map(|h| h.name.as_str()).collect();
    assert_eq!(names, ["phone", "caps"]);
    assert_eq!(
        r.user(5).unwrap().unwrap().message_count,
        1,
        "an edit is not a new message"
    );

    w.commit(WriteOp::MessagesDeleted {
        chat_id: CHAT,
        message_ids: vec![1, 99],
        at: T0 + 5,
    })
    .unwrap();
    assert!(
        r.latest_flagged(&FlaggedFilter::default(), None, 10)
            .unwrap()
            .items
            .is_empty()
    );
    let with_deleted = FlaggedFilter {
        include_deleted: true,
        ..Default::default()
    };
    assert!(r.latest_flagged(&with_deleted, None, 10).unwrap().items[0].deleted);
}

#[test]
fn user_history_has_everything_warden_user_shows() {
    let (_dir, store) = open_temp();
    seed_messages(&store);
    let w = store.writer();
    for (chat, title) in [(CHAT, "Rust Learners"), (OTHER_CHAT, "Go Gophers")] {
        w.commit(WriteOp::UpsertChat(ChatUpsert {
            id: chat,
            title: title.into(),
            kind: "supergroup".into(),
            seen_at: T0,
        }))
        .unwrap();
        w.commit(WriteOp::Joined(MembershipJoin {
            chat_id: chat,
            user_id: 42,
            joined_at: T0,
            join_kind: "added_by".into(),
            inviter_id: Some(7),
        }))
        .unwrap();
    }
    w.commit(WriteOp::Left {
        chat_id: OTHER_CHAT,
        user_id: 42,
        at: T0 + 60,
    })
    .unwrap();
    let s1 = w.add_strike(strike(42, "rule:links", T0 + 100)).unwrap();
    let mut s2 = strike(42, "mod:alice", T0 + 200);
    s2.chat_id = OTHER_CHAT;
    let s2 = w.add_strike(s2).unwrap();
    w.forgive_strike(
        s1,
        "mod:bob",
        "false positive: it was the docs link",
        T0 + 300,
    )
    .unwrap();
    let err = w
        .forgive_strike(s1, "mod:bob", "again", T0 + 301)
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound { .. }), "{err}");
    w.add_restriction(NewRestriction {
        chat_id: CHAT,
        user_id: 42,
        kind: "mute".into(),
        since: T0 + 100,
        until: Some(T0 + 3700),
        reason: "cooling off".into(),
        by: "mod:alice".into(),
    })
    .unwrap();
    w.add_label(label(Some(42), "free crypto giveaway", "spam"))
        .unwrap();
    w.commit(WriteOp::PutKnownSpammer {
        user_id: 42,
        listed: true,
        source: "cas".into(),
        checked_at: T0,
        detail: None,
    })
    .unwrap();
    w.commit(WriteOp::SetUserScore {
        user_id: 42,
        score: 0.75,
        at: T0 + 400,
    })
    .unwrap();
    w.commit(WriteOp::SetUserListed {
        user_id: 42,
        listed: "blacklist".into(),
        by: "mod:alice".into(),
        at: T0,
    })
    .unwrap();
    w.commit(WriteOp::UpsertCluster(ClusterUpsert {
        key: "c1".into(),
        chat_id: Some(CHAT),
        at: T0,
        score: 0.8,
        state: "open".into(),
        members: vec![42, 43],
        edges: vec![EdgeRecord {
            a: 42,
            b: 43,
            kind: "same_bio".into(),
            weight: 1.0,
        }],
    }))
    .unwrap();

    let r = store.reader().unwrap();
    let h = r.user_history(42, None).unwrap();
    let p = h.profile.as_ref().unwrap();
    assert_eq!((p.score, p.listed.as_str()), (Some(0.75), "blacklist"));
    assert_eq!(p.message_count, 33);
    assert_eq!(h.memberships.len(), 2);
    let left = h
        .memberships
        .iter()
        .find(|m| m.chat_id == OTHER_CHAT)
        .unwrap();
    assert_eq!(
        (left.left_at, left.chat_title.as_deref()),
        (Some(T0 + 60), Some("Go Gophers"))
    );
    assert_eq!(h.strikes.len(), 2);
    let forgiven = h.strikes.iter().find(|s| s.id == s1).unwrap();
    assert_eq!(forgiven.forgiven_by.as_deref(), Some("mod:bob"));
    assert_eq!(
        forgiven.forgiven_why.as_deref(),
        Some("false positive: it was the docs link")
    );
    assert!(!forgiven.is_active(T0 + 301));
    assert!(
        h.strikes
            .iter()
            .find(|s| s.id == s2)
            .unwrap()
            .is_active(T0 + 301)
    );
    assert_eq!(h.restrictions.len(), 1);
    assert!(h.restrictions[0].is_active(T0 + 200) && !h.restrictions[0].is_active(T0 + 4000));
    assert_eq!(h.labels.len(), 1);
    assert_eq!(h.recent_messages.len(), 33);
    assert!(h.recent_messages.windows(2).all(|w| w[0].ts >= w[1].ts));
    assert!(h.known_spammer.as_ref().unwrap().listed);
    assert_eq!(h.clusters.len(), 1);

    let only = r.user_history(42, Some(CHAT)).unwrap();
    assert_eq!(only.memberships.len(), 1);
    assert_eq!(only.strikes.len(), 1);
    assert!(only.recent_messages.iter().all(|m| m.chat_id == CHAT));

    let unknown = r.user_history(123_456, None).unwrap();
    assert!(unknown.profile.is_none() && unknown.strikes.is_empty());

    let clusters = r.clusters(Some(CHAT), 10).unwrap();
    assert_eq!(clusters[0].members, vec![42, 43]);
    assert_eq!(clusters[0].edges[0].kind, "same_bio");
}

#[test]
fn strike_history_by_chat_moderator_and_date() {
    let (_dir, store) = open_temp();
    let w = store.writer();
    let sources = ["mod:alice", "mod:bob", "rule:links", "rule:caps"];
    for i in 0..40 {
        let mut s = strike(i, sources[i as usize % 4], T0 + i * 3600);
        if i % 2 == 1 {
            s.chat_id = OTHER_CHAT;
        }
        w.submit(WriteOp::AddStrike(s));
    }
    w.flush().unwrap();
    let r = store.reader().unwrap();
    let q = |f: StrikeFilter| r.strikes(&f, None, 100).unwrap().items;

    let alice = q(StrikeFilter {
        source: Some("mod:alice".into()),
        ..Default::default()
    });
    assert_eq!(alice.len(), 10);
    assert!(alice.iter().all(|s| s.source == "mod:alice"));
    let any_mod = q(StrikeFilter {
        source: Some("mod:".into()),
        ..Default::default()
    });
    assert_eq!(any_mod.len(), 20);
    assert!(any_mod.iter().all(|s| s.source.starts_with("mod:")));
    let in_chat = q(StrikeFilter {
        chat_id: Some(OTHER_CHAT),
        ..Default::default()
    });
    assert_eq!(in_chat.len(), 20);
    let window = q(StrikeFilter {
        since: Some(T0 + 10 * 3600),
        until: Some(T0 + 20 * 3600),
        ..Default::default()
    });
    assert_eq!(
        window.iter().map(|s| s.user_id).collect::<Vec<_>>(),
        (10..20).rev().collect::<Vec<_>>()
    );

    // Pagination over a filter.
    let first = r
        .strikes(
            &StrikeFilter {
                source: Some("rule:".into()),
                ..Default::default()
            },
            None,
            15,
        )
        .unwrap();
    let second = r
        .strikes(
            &StrikeFilter {
                source: Some("rule:".into()),
                ..Default::default()
            },
            first.next,
            15,
        )
        .unwrap();
    assert_eq!(first.items.len() + second.items.len(), 20);
    assert!(second.next.is_none());
    assert!(first.items.last().unwrap().ts > second.items[0].ts);
}

#[test]
fn rules_settings_and_audit_pages() {
    let (_dir, store) = open_temp();
    let w = store.writer();
    assert_eq!(
        w.save_rule("links", "score >= 0.8 -> ban", "mod:alice", T0)
            .unwrap(),
        1
    );
    assert_eq!(
        w.save_rule("links", "score >= 0.8 -> ban", "mod:alice", T0 + 1)
            .unwrap(),
        1
    );
    assert_eq!(
        w.save_rule("links", "score >= 0.9 -> ban", "mod:bob", T0 + 2)
            .unwrap(),
        2
    );
    assert_eq!(
        w.save_rule("caps", "caps -> warn", "mod:bob", T0 + 3)
            .unwrap(),
        1
    );
    w.commit(WriteOp::PutSetting {
        key: "retention_days".into(),
        value: json!(90),
        by: "mod:alice".into(),
        at: T0,
    })
    .unwrap();
    let r = store.reader().unwrap();
    let current = r.rules_current().unwrap();
    assert_eq!(
        current
            .iter()
            .map(|r| (r.name.as_str(), r.version))
            .collect::<Vec<_>>(),
        [("caps", 1), ("links", 2)]
    );
    let history = r.rule_history("links").unwrap();
    assert_eq!(
        (history[0].version, history[0].author.as_str()),
        (2, "mod:bob")
    );
    assert_eq!(r.setting("retention_days").unwrap(), Some(json!(90)));
    assert_eq!(r.settings().unwrap().len(), 1);

    let page = r
        .audit_page(
            &AuditFilter {
                actor: Some("mod:bob".into()),
                ..Default::default()
            },
            None,
            1,
        )
        .unwrap();
    assert_eq!(page.items[0].action, "rule_saved");
    let rest = r
        .audit_page(
            &AuditFilter {
                actor: Some("mod:bob".into()),
                ..Default::default()
            },
            page.next,
            10,
        )
        .unwrap();
    assert_eq!(rest.items.len(), 1);
    assert!(rest.items[0].id < page.items[0].id);
}

#[test]
fn console_stats() {
    let (_dir, store) = open_temp();
    seed_messages(&store);
    let w = store.writer();
    for (i, score) in [0.05, 0.2, 0.45, 0.7, 0.95, 0.99].iter().enumerate() {
        w.submit(WriteOp::SetUserScore {
            user_id: 1000 + i as i64,
            score: *score,
            at: T0,
        });
    }
    w.enqueue_action(action("a1"), T0).unwrap();
    w.enqueue_action(
        NewAction {
            kind: "delete".into(),
            ..action("a2")
        },
        T0,
    )
    .unwrap();
    w.claim_actions(1, T0).unwrap();
    w.flush().unwrap();
    let r = store.reader().unwrap();

    // Messages every 30 s: two per minute, flagged every fifth.
    let rate = r.message_rate(None, T0, T0 + 600).unwrap();
    assert_eq!(rate.len(), 10);
    assert_eq!(rate.iter().map(|b| b.messages).sum::<i64>(), 20);
    assert_eq!(rate.iter().map(|b| b.flagged).sum::<i64>(), 4);
    assert!(rate.iter().all(|b| b.minute % 60 == 0));
    let chat_rate = r.message_rate(Some(CHAT), T0, T0 + 600).unwrap();
    assert_eq!(chat_rate.iter().map(|b| b.messages).sum::<i64>(), 10);

    let top = r.top_signals(None, T0, T0 + 100 * 30, 5).unwrap();
    assert_eq!(top.len(), 1);
    assert_eq!((top[0].name.as_str(), top[0].hits), ("link", 20));

    let counts = r.action_counts(T0).unwrap();
    assert_eq!(counts.len(), 2);
    assert!(
        counts
            .iter()
            .any(|c| c.kind == "ban" && c.state == "running" && c.count == 1)
    );
    assert!(
        counts
            .iter()
            .any(|c| c.kind == "delete" && c.state == "pending" && c.count == 1)
    );

    let bands = r.risk_distribution(&[0.0, 0.3, 0.6, 0.9]).unwrap();
    assert_eq!(
        bands.iter().map(|b| b.users).collect::<Vec<_>>(),
        [2, 1, 1, 2]
    );
    assert_eq!(bands[3].to, None);
}

// ---------- console queries ----------

fn seed_console(store: &Store) {
    let w = store.writer();
    for (id, title) in [(CHAT, "Rust Users"), (OTHER_CHAT, "Crypto Talk")] {
        w.commit(WriteOp::UpsertChat(ChatUpsert {
            id,
            title: title.into(),
            kind: "supergroup".into(),
            seen_at: T0,
        }))
        .unwrap();
    }
    seed_messages(store);
    w.commit(WriteOp::UpsertUser(UserUpsert {
        last_name: Some("Doe".into()),
        ..user(42, "Jane", Some("JDoe"))
    }))
    .unwrap();
    w.commit(WriteOp::UpsertUser(user(41, "Bob", None)))
        .unwrap();
}

#[test]
fn flagged_window_pages_by_offset_with_anchor_and_filters() {
    let (_dir, store) = open_temp();
    seed_console(&store);
    let r = store.reader().unwrap();
    let all = FeedFilter::default();
    let expected: Vec<i64> = (0..100).rev().filter(|i| i % 5 == 0).collect();
    assert_eq!(r.flagged_count(&all, None, None).unwrap(), 20);
    // Offset windows tile the list without gaps or repeats.
    let mut seen = Vec::new();
    for offset in (0..20).step_by(6) {
        let rows = r.flagged_window(&all, None, offset, 6).unwrap();
        seen.extend(rows.iter().map(|m| m.message_id));
    }
    assert_eq!(seen, expected);
    let first = &r.flagged_window(&all, None, 0, 1).unwrap()[0];
    assert_eq!(first.hits[0].name, "link");
    assert_eq!(first.author.as_deref(), Some("Jane Doe (@JDoe)"));

    // Freeze anchor: rows after it are invisible, counted or listed.
    let anchor = r.flagged_window(&all, None, 5, 1).unwrap()[0].row_id;
    assert_eq!(r.flagged_count(&all, None, Some(anchor)).unwrap(), 15);
    assert_eq!(
        r.flagged_window(&all, Some(anchor), 0, 1).unwrap()[0].message_id,
        expected[5]
    );
    // Counting only what came after a known row keeps a cached total current.
    assert_eq!(r.flagged_count(&all, Some(anchor), None).unwrap(), 5);
    assert_eq!(r.newest_flagged_id().unwrap(), first.row_id);

    // Starting from a known row, from just above it, or from the oldest end gives the same
    // rows as the plain offset.
    let ids = |rows: Vec<MessageRecord>| rows.iter().map(|m| m.message_id).collect::<Vec<_>>();
    let at = |i: usize| {
        let m = &r.flagged_window(&all, None, i, 1).unwrap()[0];
        Cursor {
            ts: m.ts,
            id: m.row_id,
        }
    };
    let window = |start, limit| ids(r.flagged_window_at(&all, None, start, limit).unwrap());
    assert_eq!(window(FeedStart::At(at(7)), 5), expected[7..12].to_vec());
    assert_eq!(
        window(FeedStart::NewerThan(at(7)), 3),
        expected[4..7].to_vec()
    );
    assert_eq!(
        window(FeedStart::FromOldest(0), 4),
        expected[16..20].to_vec()
    );
    assert_eq!(
        window(FeedStart::FromOldest(3), 4),
        expected[13..17].to_vec()
    );
    assert_eq!(
        ids(r
            .flagged_window_at(&all, Some(anchor), FeedStart::FromOldest(0), 20)
            .unwrap()),
        expected[5..].to_vec(),
        "the freeze anchor holds from the oldest end too"
    );

    let count = |f: FeedFilter| r.flagged_count(&f, None, None).unwrap();
    let chat = |c: &str| FeedFilter {
        chat: Some(c.into()),
        ..Default::default()
    };
    assert_eq!(count(chat("rust")), 10, "chat by title part, any case");
    assert_eq!(count(chat(&OTHER_CHAT.to_string())), 10, "chat by id");
    assert_eq!(count(chat("nowhere")), 0);
    let by_user = |u: &str| FeedFilter {
        user: Some(u.into()),
        ..Default::default()
    };
    assert_eq!(count(by_user("@jdoe")), 7, "username, any case");
    assert_eq!(count(by_user("jane doe")), 7, "display name");
    assert_eq!(count(by_user("42")), 7, "id");
    let words = FeedFilter {
        words: vec!["message 9".into()],
        ..Default::default()
    };
    let rows = r.flagged_window(&words, None, 0, 10).unwrap();
    assert_eq!(
        rows.iter().map(|m| m.message_id).collect::<Vec<_>>(),
        vec![95, 90]
    );
    let percent = FeedFilter {
        words: vec!["100%".into()],
        ..Default::default()
    };
    assert_eq!(count(percent), 0, "LIKE wildcards in words are literal");
    let recent_words = FeedFilter {
        words: vec!["message".into()],
        word_scan_rows: Some(10),
        ..Default::default()
    };
    assert_eq!(
        count(recent_words),
        2,
        "only the newest 10 stored rows are searched"
    );
    let dated = FeedFilter {
        since: Some(T0 + 30 * 50),
        before: Some(T0 + 30 * 80),
        ..Default::default()
    };
    assert_eq!(count(dated), 6);
}

#[test]
fn flagged_window_filters_by_outbox_action_and_attaches_actions_and_labels() {
    let (_dir, store) = open_temp();
    seed_console(&store);
    let w = store.writer();
    let delete = NewAction {
        kind: "delete".into(),
        message_id: Some(10),
        requested_by: "rule:links".into(),
        ..action("d10")
    };
    w.enqueue_action(delete, T0 + 300).unwrap();
    let ban = NewAction {
        message_id: Some(20),
        requested_by: "mod:alice".into(),
        ..action("b20")
    };
    w.enqueue_action(ban, T0 + 600).unwrap();
    w.add_label(NewLabel {
        message_id: Some(20),
        ..label(Some(40), "message 20", "spam")
    })
    .unwrap();
    let r = store.reader().unwrap();
    let kind = |k: &str| FeedFilter {
        action: Some(k.into()),
        ..Default::default()
    };
    let ids = |f: FeedFilter| {
        r.flagged_window(&f, None, 0, 50)
            .unwrap()
            .iter()
            .map(|m| m.message_id)
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(kind("delete")), vec![10]);
    assert_eq!(ids(kind("ban")), vec![20]);
    let by = FeedFilter {
        by: Some("alice".into()),
        ..Default::default()
    };
    assert_eq!(ids(by), vec![20]);

    let keys = [(CHAT, 10), (CHAT, 20), (CHAT, 30)];
    let actions = r.actions_for_messages(&keys).unwrap();
    let mut found: Vec<_> = actions
        .iter()
        .map(|a| (a.message_id, a.kind.as_str()))
        .collect();
    found.sort();
    assert_eq!(found, vec![(Some(10), "delete"), (Some(20), "ban")]);
    assert!(
        r.actions_for_messages(&[(OTHER_CHAT, 10)])
            .unwrap()
            .is_empty(),
        "same message id in another chat"
    );
    let labels = r.labels_for_messages(&keys).unwrap();
    assert_eq!(labels.len(), 1);
    assert_eq!(labels[0].message_id, Some(20));
}

#[test]
fn history_window_merges_strikes_restrictions_and_audit() {
    let (_dir, store) = open_temp();
    seed_console(&store);
    let w = store.writer();
    w.add_strike(strike(42, "rule:links", T0 + 100)).unwrap();
    w.add_strike(strike(41, "mod:alice", T0 + 300)).unwrap();
    w.add_restriction(NewRestriction {
        chat_id: CHAT,
        user_id: 42,
        kind: "ban".into(),
        since: T0 + 200,
        until: None,
        reason: "scam links".into(),
        by: "mod:bob".into(),
    })
    .unwrap();
    w.commit(WriteOp::SetUserTrust {
        user_id: 41,
        trust: "trusted".into(),
        by: "mod:alice".into(),
        at: T0 + 400,
    })
    .unwrap();
    let r = store.reader().unwrap();
    let all = HistoryFilter::default();
    let rows = r.history_window(&all, 0, 50).unwrap();
    let seen: Vec<(&str, &str, i64)> = rows
        .iter()
        .map(|h| (h.source.as_str(), h.action.as_str(), h.ts))
        .collect();
    // Newest first; the audit rows that mirror strikes and bans are not listed twice.
    assert_eq!(
        seen,
        vec![
            ("audit", "user_trust", T0 + 400),
            ("strike", "strike", T0 + 300),
            ("restriction", "ban", T0 + 200),
            ("strike", "strike", T0 + 100),
        ]
    );
    assert_eq!(r.history_count(&all).unwrap(), 4);
    assert_eq!(rows[2].reason, "scam links");
    assert_eq!(rows[2].user.as_deref(), Some("Jane Doe (@JDoe)"));
    assert_eq!(rows[2].chat_title.as_deref(), Some("Rust Users"));
    assert!(
        rows[0].reason.contains("trust=trusted"),
        "{}",
        rows[0].reason
    );
    // Offset paging over the merge.
    let second: Vec<i64> = r
        .history_window(&all, 1, 2)
        .unwrap()
        .iter()
        .map(|h| h.ts)
        .collect();
    assert_eq!(second, vec![T0 + 300, T0 + 200]);

    let count = |f: HistoryFilter| r.history_count(&f).unwrap();
    let by = |b: &str| HistoryFilter {
        by: Some(b.into()),
        ..Default::default()
    };
    assert_eq!(count(by("alice")), 2);
    assert_eq!(count(by("rule:")), 1);
    let action = HistoryFilter {
        action: Some("ban".into()),
        ..Default::default()
    };
    assert_eq!(
        r.history_window(&action, 0, 10).unwrap()[0].source,
        "restriction"
    );
    assert_eq!(count(action), 1);
    let dated = HistoryFilter {
        since: Some(T0 + 150),
        before: Some(T0 + 350),
        ..Default::default()
    };
    assert_eq!(count(dated), 2);
    let chat = HistoryFilter {
        chat: Some("crypto".into()),
        ..Default::default()
    };
    assert_eq!(count(chat), 0);
    let user = HistoryFilter {
        user: Some("@jdoe".into()),
        ..Default::default()
    };
    assert_eq!(count(user), 2);
    let words = HistoryFilter {
        words: vec!["scam".into()],
        ..Default::default()
    };
    assert_eq!(count(words), 3);
}

#[test]
fn find_users_activity_and_recent_messages() {
    let (_dir, store) = open_temp();
    seed_console(&store);
    let r = store.reader().unwrap();
    let ids = |h: &str| {
        r.find_users(h, 10)
            .unwrap()
            .iter()
            .map(|u| u.id)
            .collect::<Vec<_>>()
    };
    assert_eq!(ids("@JDoe"), vec![42]);
    assert_eq!(ids("@jdoe"), vec![42]);
    assert_eq!(ids("jane"), vec![42]);
    assert_eq!(ids("41"), vec![41]);
    assert!(ids("@nobody").is_empty());
    let activity = r.user_chat_activity(42).unwrap();
    assert_eq!(activity.len(), 2);
    assert_eq!(activity.iter().map(|a| a.messages).sum::<i64>(), 33);
    assert!(
        activity
            .iter()
            .any(|a| a.chat_title.as_deref() == Some("Rust Users"))
    );
    let recent = r.recent_messages(10).unwrap();
    assert_eq!(recent.len(), 10);
    assert_eq!(recent[0].message_id, 99);
    assert!(recent.iter().any(|m| !m.hits.is_empty()));
}

/// Timing probe, not a pass/fail test: `cargo test -p warden-store --release --test queries
/// -- --ignored --nocapture flagged_window_timing`.
#[test]
#[ignore = "builds 1M rows; run by hand for the numbers"]
fn flagged_window_timing_over_a_million_rows() {
    let (_dir, store) = open_temp();
    let started = std::time::Instant::now();
    const N: i64 = 1_000_000;
    for chunk in 0..(N / 20_000) {
        let batch: Vec<NewMessage> = (0..20_000)
            .map(|i| {
                let n = chunk * 20_000 + i;
                let mut m = message(CHAT, n, 1_000 + n % 5_000, T0 + n / 10, true);
                m.hits.clear();
                m
            })
            .collect();
        store.writer().submit(WriteOp::RecordMessages(batch));
    }
    store.writer().flush().unwrap();
    println!("seeded {N} flagged rows in {:?}", started.elapsed());
    let r = store.reader().unwrap();
    let all = FeedFilter::default();
    let time = |label: &str, f: &dyn Fn() -> usize| {
        f();
        let runs = 5;
        let t = std::time::Instant::now();
        let mut n = 0;
        for _ in 0..runs {
            n = f();
        }
        println!("{label}: {:?} per call ({n} rows)", t.elapsed() / runs);
    };
    for offset in [0usize, 500_000, 999_940] {
        time(&format!("flagged_window offset {offset} limit 60"), &|| {
            r.flagged_window(&all, None, offset, 60).unwrap().len()
        });
    }
    let middle = &r.flagged_window(&all, None, 500_000, 1).unwrap()[0];
    let cursor = Cursor {
        ts: middle.ts,
        id: middle.row_id,
    };
    time("flagged_window_at At(row 500000) limit 60", &|| {
        r.flagged_window_at(&all, None, FeedStart::At(cursor), 60)
            .unwrap()
            .len()
    });
    time("flagged_window_at NewerThan(row 500000) limit 60", &|| {
        r.flagged_window_at(&all, None, FeedStart::NewerThan(cursor), 60)
            .unwrap()
            .len()
    });
    time("flagged_window_at FromOldest(0) limit 60", &|| {
        r.flagged_window_at(&all, None, FeedStart::FromOldest(0), 60)
            .unwrap()
            .len()
    });
    time("flagged_count all", &|| {
        r.flagged_count(&all, None, None).unwrap() as usize
    });
    let newest = r.newest_flagged_id().unwrap();
    time("flagged_count until newest (freeze anchor)", &|| {
        r.flagged_count(&all, None, Some(newest)).unwrap() as usize
    });
    time("flagged_count after newest-1000", &|| {
        r.flagged_count(&all, Some(newest - 1_000), None).unwrap() as usize
    });
    let chat = FeedFilter {
        chat: Some("-100123".into()),
        ..Default::default()
    };
    time("flagged_window chat filter offset 500000", &|| {
        r.flagged_window(&chat, None, 500_000, 60).unwrap().len()
    });
    let words = FeedFilter {
        words: vec!["message 99999".into()],
        ..Default::default()
    };
    time("flagged_window word filter (whole table) offset 0", &|| {
        r.flagged_window(&words, None, 0, 60).unwrap().len()
    });
    let words = FeedFilter {
        words: vec!["message 99999".into()],
        word_scan_rows: Some(50_000),
        ..Default::default()
    };
    time("flagged_window word filter (newest 50k) offset 0", &|| {
        r.flagged_window(&words, None, 0, 60).unwrap().len()
    });
}

#[test]
fn member_lists_give_join_dates_without_losing_how_warden_saw_the_join() {
    let (_dir, store) = open_temp();
    let w = store.writer();
    // Warden saw 42 join through an invite link, then 42 left.
    w.commit(WriteOp::Joined(membership(42, T0, "invite_link", Some(7))))
        .unwrap();
    w.commit(WriteOp::Left {
        chat_id: CHAT,
        user_id: 42,
        at: T0 + 60,
    })
    .unwrap();
    let listed = |user_id, joined_at| membership(user_id, joined_at, "unknown", None);
    // The member list says 42 is back (rejoined later) and 43 has been there for a year.
    w.commit(WriteOp::MembersListed(vec![
        listed(42, T0 + 500),
        listed(43, T0 - 365 * 86_400),
    ]))
    .unwrap();
    let r = store.reader().unwrap();
    let m42 = &r.user_history(42, None).unwrap().memberships[0];
    assert_eq!(m42.joined_at, Some(T0 + 500));
    assert_eq!(m42.left_at, None);
    assert_eq!(m42.join_kind, "invite_link");
    assert_eq!(m42.inviter_id, Some(7));
    let m43 = &r.user_history(43, None).unwrap().memberships[0];
    assert_eq!(m43.joined_at, Some(T0 - 365 * 86_400));
    assert_eq!(m43.join_kind, "unknown");
}
