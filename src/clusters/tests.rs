use super::*;
use crate::model::{Event, JoinKind, Message, Person};
use std::collections::HashSet;

const CHAT: i64 = -1002;
const DAY: i64 = 24 * 3600;

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
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

fn person(id: UserId, name: &str) -> Person {
    Person {
        id,
        first_name: name.into(),
        ..Person::default()
    }
}

fn join(id: UserId, name: &str, date: i64, how: JoinKind) -> Event {
    Event::Joined {
        chat_id: CHAT,
        user: person(id, name),
        date,
        how,
    }
}

fn post(id: UserId, name: &str, date: i64, text: &str) -> Event {
    Event::Message(Message {
        chat_id: CHAT,
        id: date,
        date,
        from: person(id, name),
        text: text.into(),
        ..Message::default()
    })
}

const FIRST_NAMES: [&str; 24] = [
    "Anna", "Ivan", "Maria", "Alex", "Olga", "Dmitry", "Elena", "Sergey", "Kate", "John", "Mike",
    "Sarah", "Paul", "Nina", "Igor", "Tanya", "Max", "Lena", "Oleg", "Sasha", "Tom", "Lisa",
    "Peter", "Vera",
];
const LAST_NAMES: [&str; 10] = [
    "Petrov",
    "Smith",
    "Ivanova",
    "Kuznetsov",
    "Brown",
    "Sokolova",
    "Miller",
    "Popov",
    "Lee",
    "Novak",
];
const WORDS: [&str; 48] = [
    "rust", "tokio", "async", "borrow", "checker", "release", "compile", "error", "trait", "macro",
    "crate", "feature", "build", "cargo", "test", "bench", "meetup", "tonight", "docs", "question",
    "linux", "windows", "works", "broken", "update", "version", "lifetime", "generic", "closure",
    "thread", "channel", "mutex", "deadlock", "panic", "unwrap", "option", "result", "iterator",
    "vector", "string", "slice", "pointer", "unsafe", "ffi", "wasm", "embedded", "serde", "json",
];

/// 1,000 regular members chatting for a week (common names, shared popular links, stock phrases,
/// one public invite link) plus a ring of 10 accounts with near-sequential ids, "Anna 123"-style
/// names and links to one shady domain. Returns (events in time order, ring ids, regular ids).
fn community(seed: u64) -> (Vec<Event>, Vec<UserId>, Vec<UserId>) {
    let mut rng = Rng(seed);
    let mut events = Vec::new();
    let mut regulars = Vec::new();
    let stock = [
        "thanks a lot for the help everyone",
        "does anyone know when the next release is coming",
        "good morning everyone, have a nice day all",
    ];
    let popular = [
        "https://youtube.com/watch?v=rustconf",
        "https://github.com/tokio-rs/tokio",
        "https://t.me/rust_community",
        "https://docs.rs/serde",
        "https://blog.rust-lang.org/2025/release",
    ];
    for i in 0..1000 {
        let id = 100_000_000 + rng.below(6_000_000_000) as i64;
        let mut name = rng.pick(&FIRST_NAMES).to_string();
        if rng.below(3) == 0 {
            name = format!("{name} {}", rng.pick(&LAST_NAMES));
        }
        if rng.below(8) == 0 {
            name = format!("{name} {}", 1970 + rng.below(40));
        }
        let joined = rng.below(7 * DAY as u64) as i64;
        let how = if rng.below(3) == 0 {
            JoinKind::InviteLink {
                link: "https://t.me/+PublicInvite".into(),
                inviter: None,
            }
        } else {
            JoinKind::Direct
        };
        events.push(join(id, &name, joined, how));
        for m in 0..(3 + rng.below(20)) {
            let at = joined + 60 + rng.below(2 * DAY as u64) as i64 + m as i64;
            let mut text = if rng.below(6) == 0 {
                rng.pick(&stock).to_string()
            } else {
                (0..(5 + rng.below(10)))
                    .map(|_| *rng.pick(&WORDS))
                    .collect::<Vec<_>>()
                    .join(" ")
            };
            if rng.below(8) == 0 {
                text = format!("{text} {}", rng.pick(&popular));
            }
            events.push(post(id, &name, at, &text));
        }
        regulars.push(id);
        let _ = i;
    }
    let mut id = 7_100_000_000 + rng.below(1000) as i64;
    let mut ring = Vec::new();
    let templates = [
        "Hi! I made 3000$ in a week with crypto signals, details here",
        "Crypto signals changed my life, 3000$ a week, look here",
        "Want passive income? Signals bot pays 500$ daily, see here",
    ];
    for i in 0..10 {
        id += 1 + rng.below(4) as i64;
        let name = format!("Anna {}", 123 + i);
        let joined = 2 * DAY + rng.below(DAY as u64) as i64;
        events.push(join(id, &name, joined, JoinKind::Direct));
        for m in 0..3 {
            let at = joined + 600 + m * (3600 + rng.below(7200) as i64);
            let text = format!(
                "{} https://crypto-profit.biz/?ref={}",
                rng.pick(&templates),
                rng.below(1_000_000)
            );
            events.push(post(id, &name, at, &text));
        }
        ring.push(id);
    }
    events.sort_by_key(|e| e.date());
    (events, ring, regulars)
}

#[test]
fn ring_is_found_with_high_precision_and_recall_among_regulars() {
    for seed in [7, 42, 1234] {
        let (events, ring, _) = community(seed);
        let mut graph = ClusterGraph::new(ClusterConfig::default());
        for e in &events {
            graph.on_event(e);
        }
        let ring_set: HashSet<UserId> = ring.iter().copied().collect();
        let cluster = graph.cluster_of(ring[0]).expect("ring member is clustered");
        let found: HashSet<UserId> = cluster.members.iter().copied().collect();
        let hits = found.intersection(&ring_set).count() as f64;
        let precision = hits / found.len() as f64;
        let recall = hits / ring.len() as f64;
        assert!(precision >= 0.95, "seed {seed}: precision {precision}");
        assert!(recall >= 0.95, "seed {seed}: recall {recall}");
        // Across every reported cluster, regulars are (almost) never flagged.
        let clustered: Vec<UserId> = graph
            .clusters()
            .iter()
            .flat_map(|c| graph.members(c.id))
            .collect();
        let false_members = clustered.iter().filter(|u| !ring_set.contains(u)).count();
        let overall = 1.0 - false_members as f64 / clustered.len() as f64;
        eprintln!(
            "seed {seed}: ring precision {precision}, recall {recall}, overall precision {overall}"
        );
        assert!(
            overall >= 0.95,
            "seed {seed}: overall precision {overall}, {false_members} regulars"
        );
        // The ring is the top cluster and its evidence is corroborated.
        let top = &graph.clusters()[0];
        assert_eq!(top.id, cluster.id, "seed {seed}");
        assert!(top.kinds.contains(&EvidenceKind::SequentialIds));
        assert!(top.kinds.contains(&EvidenceKind::SimilarName));
        assert!(top.kinds.contains(&EvidenceKind::SameDomain));
        assert_eq!(graph.cluster_size(ring[3]), cluster.members.len());
    }
}

#[test]
fn common_domains_names_and_phrases_alone_do_not_glue_members() {
    let mut graph = ClusterGraph::new(ClusterConfig::default());
    // 40 "Anna"s with scattered ids post the same stock phrase and the same YouTube video.
    for i in 0..40i64 {
        let id = 1_000_000 + i * 50_000;
        graph.on_event(&join(id, "Anna", i * 10, JoinKind::Direct));
        graph.on_event(&post(
            id,
            "Anna",
            i * 10 + 5,
            "thanks a lot for the help everyone https://youtu.be/dQw4w9WgXcQ",
        ));
        graph.on_event(&post(
            id,
            "Anna",
            i * 10 + 6,
            "see https://t.me/rust_community and google.com",
        ));
    }
    assert!(graph.edge_count() > 0, "weak evidence is recorded");
    assert!(graph.clusters().is_empty(), "{:?}", graph.clusters());
    assert_eq!(graph.cluster_size(1_000_000), 1);
    assert_eq!(graph.cluster_size(42), 0, "unknown user");
}

#[test]
fn corroborated_evidence_links_and_reports_growth() {
    let mut graph = ClusterGraph::new(ClusterConfig::default());
    assert!(
        graph
            .on_event(&join(5_000, "Bob", 0, JoinKind::Direct))
            .is_none()
    );
    // Same shady link alone: one kind, not a cluster.
    graph.on_event(&post(
        9_000_000,
        "Carl",
        10,
        "look at shady-deals.biz/x now",
    ));
    graph.on_event(&post(5_000, "Bob", 20, "hi https://shady-deals.biz/x"));
    assert_eq!(graph.cluster_size(5_000), 1);
    let edges = graph.edges_of(5_000);
    assert_eq!(edges.len(), 1);
    assert!(!edges[0].linking);
    // Plus an identical avatar: linked, and the update says so.
    graph.observe_avatar(9_000_000, 0xfeed, 30);
    let update = graph
        .observe_avatar(5_000, 0xfeed, 40)
        .expect("cluster grew");
    assert_eq!(update.size, 2);
    assert_eq!(update.cluster, 5_000, "id = earliest-seen member");
    let cluster = graph.cluster(5_000).unwrap();
    assert_eq!(cluster.members, vec![5_000, 9_000_000]);
    assert!(cluster.edges[0].linking);
    assert_eq!(
        cluster.edges[0]
            .evidence
            .iter()
            .map(|e| e.kind)
            .collect::<Vec<_>>(),
        vec![
            EvidenceKind::SameLink,
            EvidenceKind::SameDomain,
            EvidenceKind::SameAvatar
        ]
    );
    assert!(
        cluster.edges[0].evidence[0]
            .detail
            .contains("shady-deals.biz/x")
    );
    assert!(graph.cluster(9_000_000).is_none(), "not the cluster's id");
}

#[test]
fn the_same_photo_seen_on_join_and_message_is_evidence() {
    let mut graph = ClusterGraph::new(ClusterConfig::default());
    let with_photo = |id: UserId, name: &str| Person {
        avatar_hash: Some(0xa1b2),
        ..person(id, name)
    };
    graph.on_event(&Event::Joined {
        chat_id: -100,
        user: with_photo(9_000_000, "Carl"),
        date: 10,
        how: JoinKind::Direct,
    });
    graph.on_event(&post(5_000, "Bob", 20, "hi https://shady-deals.biz/x"));
    graph.on_event(&post(
        9_000_000,
        "Carl",
        25,
        "look at shady-deals.biz/x now",
    ));
    assert_eq!(graph.cluster_size(5_000), 1, "a link alone does not glue");
    let message = Event::Message(Message {
        chat_id: -100,
        id: 99,
        date: 30,
        from: with_photo(5_000, "Bob"),
        text: "ok".into(),
        ..Message::default()
    });
    graph.on_event(&message);
    assert_eq!(graph.cluster_size(5_000), 2, "link plus the same photo");
    let kinds: Vec<EvidenceKind> = graph.edges_of(5_000)[0]
        .evidence
        .iter()
        .map(|e| e.kind)
        .collect();
    assert!(kinds.contains(&EvidenceKind::SameAvatar), "{kinds:?}");
}

#[test]
fn bio_links_and_invite_joins_are_evidence() {
    let mut graph = ClusterGraph::new(ClusterConfig::default());
    let invite = || JoinKind::InviteLink {
        link: "https://t.me/+Xyz".into(),
        inviter: Some(1),
    };
    graph.on_event(&join(10, "Kim", 100, invite()));
    graph.on_event(&join(20_000_000, "Lou", 200, invite()));
    graph.on_event(&join(30_000_000, "Max", 100 + 3600, invite()));
    assert_eq!(graph.edges_of(10).len(), 1, "only the close join");
    let mut kim = person(10, "Kim");
    kim.bio = Some("my shop: promo-store.shop/kim".into());
    let mut lou = person(20_000_000, "Lou");
    lou.bio = Some("best deals promo-store.shop/kim".into());
    graph.observe_profile(&kim, 300);
    let update = graph
        .observe_profile(&lou, 301)
        .expect("bio link + invite join link");
    assert_eq!(update.size, 2);
    assert_eq!(graph.cluster_size(30_000_000), 1);
}

#[test]
fn member_lists_link_accounts_that_joined_together_long_ago() {
    let mut graph = ClusterGraph::new(ClusterConfig::default());
    let listed = vec![
        (person(7_700_001, "Alex"), 100 * DAY + 5),
        // 25 s later, a close id, the same name: one operator's batch.
        (person(7_700_009, "Alex"), 100 * DAY + 30),
        // Close id and same name but a day later: not enough alone.
        (person(7_700_015, "Alex"), 101 * DAY),
        // Joined in between, shares nothing else.
        (person(1_234, "Bea"), 100 * DAY + 10),
    ];
    let grown = graph.observe_member_list(&listed, 400 * DAY);
    assert_eq!(graph.cluster_size(7_700_001), 2);
    assert_eq!(graph.cluster_size(7_700_015), 1);
    assert_eq!(graph.cluster_size(1_234), 1);
    assert_eq!(grown.len(), 1);
    let edge = graph
        .edges_of(7_700_001)
        .into_iter()
        .find(|e| e.a == 7_700_009 || e.b == 7_700_009)
        .expect("the co-joined pair is linked");
    assert!(
        edge.evidence
            .iter()
            .any(|e| e.kind == EvidenceKind::SameInvite && e.detail.contains("25 s apart")),
        "{edge:?}"
    );
}

fn ring_graph() -> (ClusterGraph, Vec<UserId>) {
    let mut graph = ClusterGraph::new(ClusterConfig::default());
    let ring: Vec<UserId> = (0..5).map(|i| 7_000_000 + i).collect();
    for (i, &id) in ring.iter().enumerate() {
        let name = format!("Anna {}", 123 + i);
        graph.on_event(&join(id, &name, i as i64 * 100, JoinKind::Direct));
        graph.on_event(&post(
            id,
            &name,
            i as i64 * 100 + 10,
            "promo https://crypto-x.biz/a",
        ));
    }
    assert_eq!(graph.cluster_size(ring[0]), 5);
    (graph, ring)
}

#[test]
fn removing_a_false_member_keeps_it_out() {
    let (mut graph, ring) = ring_graph();
    assert!(graph.remove_member(ring[2]));
    assert_eq!(graph.cluster_size(ring[2]), 1);
    assert_eq!(graph.cluster_size(ring[0]), 4, "the rest stays one cluster");
    assert!(graph.edges_of(ring[2]).is_empty());
    // The same evidence again does not relink it to those members.
    graph.on_event(&post(
        ring[2],
        "Anna 125",
        1_000,
        "promo https://crypto-x.biz/a",
    ));
    graph.observe_avatar(ring[2], 1, 1_001);
    graph.observe_avatar(ring[0], 1, 1_002);
    assert_eq!(graph.cluster_size(ring[2]), 1);
    assert!(!graph.remove_member(ring[2]), "not in a cluster any more");
    assert!(!graph.remove_member(424242));
}

#[test]
fn whitelisted_member_is_never_linked_again() {
    let (mut graph, ring) = ring_graph();
    graph.whitelist(ring[0]);
    assert!(graph.is_whitelisted(ring[0]));
    assert_eq!(graph.cluster_size(ring[0]), 1);
    assert_eq!(graph.cluster_size(ring[1]), 4);
    let newcomer = 7_000_009;
    graph.on_event(&join(newcomer, "Anna 130", 2_000, JoinKind::Direct));
    graph.on_event(&post(
        ring[0],
        "Anna 123",
        2_001,
        "promo https://crypto-x.biz/a",
    ));
    graph.on_event(&post(
        newcomer,
        "Anna 130",
        2_002,
        "promo https://crypto-x.biz/a",
    ));
    assert_eq!(graph.cluster_size(ring[0]), 1);
    assert!(graph.edges_of(ring[0]).is_empty());
    assert_eq!(graph.cluster_size(newcomer), 5, "others still link");
}

#[test]
fn window_evicts_old_users_and_rebuilds_only_their_component() {
    let config = ClusterConfig {
        window_secs: DAY,
        ..ClusterConfig::default()
    };
    let mut graph = ClusterGraph::new(config);
    let ring: Vec<UserId> = (0..4).map(|i| 7_000_000 + i).collect();
    for (i, &id) in ring.iter().enumerate() {
        let name = format!("Anna {}", 123 + i);
        graph.on_event(&post(id, &name, i as i64, "promo https://crypto-x.biz/a"));
    }
    let other: Vec<UserId> = (0..3).map(|i| 9_000_000 + i).collect();
    for (i, &id) in other.iter().enumerate() {
        let name = format!("Bot {}", 7 + i);
        graph.on_event(&post(id, &name, 10 + i as i64, "buy at pills-shop.biz/b"));
    }
    assert_eq!(graph.cluster_size(ring[0]), 4);
    assert_eq!(graph.cluster_size(other[0]), 3);
    // Half a day later two ring members and the other cluster stay active.
    for (i, &id) in ring.iter().enumerate().skip(2) {
        let name = format!("Anna {}", 123 + i);
        graph.on_event(&post(id, &name, DAY / 2, "still here"));
    }
    for (i, &id) in other.iter().enumerate() {
        let name = format!("Bot {}", 7 + i);
        graph.on_event(&post(id, &name, DAY / 2 + 1, "buy at pills-shop.biz/b"));
    }
    let before_edges = graph.edge_count();
    // A day and a bit after the start: the two quiet ring members are forgotten.
    graph.on_event(&post(1, "Someone", DAY + 3_600, "hello there"));
    assert_eq!(graph.cluster_size(ring[0]), 0);
    assert_eq!(graph.cluster_size(ring[1]), 0);
    // Edges last refreshed at the start are old too: the remaining pair loses its link.
    assert_eq!(graph.cluster_size(ring[2]), 1);
    assert!(graph.edge_count() < before_edges);
    assert_eq!(graph.user_count(), 2 + 3 + 1);
    // Two days later everybody is gone and memory is back to nothing but the newest user.
    graph.on_event(&post(2, "Other", 3 * DAY + 3_600, "hi"));
    assert_eq!(graph.user_count(), 1);
    assert_eq!(graph.edge_count(), 0);
    assert!(graph.clusters().is_empty());
}

#[test]
fn layout_is_deterministic_and_spread_out() {
    let (graph, ring) = ring_graph();
    let cluster = graph.cluster_of(ring[0]).unwrap();
    let a = layout(&cluster);
    let b = layout(&cluster);
    assert_eq!(a, b);
    assert_eq!(a.len(), 5);
    assert_eq!(a.iter().map(|p| p.0).collect::<Vec<_>>(), cluster.members);
    for (i, p) in a.iter().enumerate() {
        assert!(p.1.is_finite() && p.2.is_finite());
        for q in &a[i + 1..] {
            let d = ((p.1 - q.1).powi(2) + (p.2 - q.2).powi(2)).sqrt();
            assert!(d > 1.0, "nodes overlap: {p:?} {q:?}");
        }
    }
}

#[test]
fn cluster_config_defaults_and_strict_parsing() {
    let config: ClusterConfig = toml::from_str("").unwrap();
    assert_eq!(config, ClusterConfig::default());
    assert!(config.validate().is_ok());
    let config: ClusterConfig = toml::from_str("fanout = 4\n[weights]\nsame_avatar = 0.9").unwrap();
    assert_eq!(config.fanout, 4);
    assert_eq!(config.weights.same_avatar, 0.9);
    let err = toml::from_str::<ClusterConfig>("fan_out = 4").unwrap_err();
    assert!(err.to_string().contains("fan_out"), "{err}");
    let bad = ClusterConfig {
        fanout: 0,
        ..ClusterConfig::default()
    };
    assert!(bad.validate().unwrap_err().contains("clusters.fanout"));
}
