//! Policy decisions: modes, lists, trust, strong evidence, the ladder through rules, forgive, learning.

use warden::action::{ActionKind, Actor};
use warden::policy::{
    BlacklistAction, ChatMode, ChatOverride, Decision, Label, LabelRequest, MatchMode, Policy,
    PolicyConfig, RuleContext, RuleSet,
};

const CHAT: i64 = -100;
const USER: i64 = 7;
const DAY: i64 = 86_400;

const RULES: &str = r#"[
  {"name": "certain_spam", "priority": 100, "conditions": {"type": "score_gt", "value": 0.9},
   "actions": ["delete", "ban"]},
  {"name": "likely_spam", "priority": 50, "conditions": {"type": "score_gt", "value": 0.6},
   "actions": ["delete", "strike"]},
  {"name": "raid_kick", "priority": 40, "conditions": {"type": "raid_active"}, "actions": ["kick"]}
]"#;

fn policy_with(cfg: PolicyConfig) -> Policy {
    Policy::new(cfg, RuleSet::load("rules.json", RULES, 1 << 20).unwrap())
}

fn policy() -> Policy {
    policy_with(PolicyConfig::default())
}

fn msg(score: f64) -> RuleContext {
    RuleContext {
        chat_id: CHAT,
        user_id: USER,
        score,
        text: "some text".into(),
        ..RuleContext::default()
    }
}

fn kinds(d: &Decision) -> Vec<&'static str> {
    d.planned.iter().map(|p| p.action.kind.name()).collect()
}

fn with_mode(mode: ChatMode) -> PolicyConfig {
    let mut cfg = PolicyConfig::default();
    cfg.chats.insert(
        CHAT.to_string(),
        ChatOverride {
            mode: Some(mode),
            ..ChatOverride::default()
        },
    );
    cfg
}

#[test]
fn each_mode_transforms_a_ban() {
    // (mode, planned kinds, all dry-run, withheld count)
    let table = [
        (ChatMode::Live, vec!["delete", "ban"], false, 0),
        (ChatMode::DryRun, vec!["delete", "ban"], true, 0),
        (ChatMode::Training, vec!["notify_admin"], false, 2),
        (ChatMode::SoftBan, vec!["delete", "restrict"], false, 0),
    ];
    for (mode, expected, dry, withheld) in table {
        let mut p = policy_with(with_mode(mode));
        let d = p.on_message(msg(0.95), 1, 1000);
        assert_eq!(d.mode, mode);
        assert_eq!(kinds(&d), expected, "{mode:?}");
        assert!(d.planned.iter().all(|a| a.dry_run == dry), "{mode:?}");
        assert_eq!(d.withheld.len(), withheld, "{mode:?}");
        assert_eq!(d.fired[0].rule, "certain_spam");
    }
    // Other chats keep the default mode.
    let mut p = policy_with(with_mode(ChatMode::Training));
    let mut other = msg(0.95);
    other.chat_id = -999;
    assert_eq!(kinds(&p.on_message(other, 1, 1000)), ["delete", "ban"]);
}

#[test]
fn weak_evidence_ban_becomes_delete_and_report() {
    let mut p = policy();
    let mut raid = msg(0.2);
    raid.raid_active = true;
    let d = p.on_message(raid.clone(), 1, 1000);
    assert_eq!(
        kinds(&d),
        ["delete", "notify_admin"],
        "kick needs strong evidence"
    );
    assert!(d.flagged_for_review);
    raid.known_spammer = true;
    let d = p.on_message(raid, 2, 1001);
    assert_eq!(kinds(&d), ["kick"], "a known spammer is strong evidence");
}

#[test]
fn whitelist_blacklist_and_trusted() {
    // Whitelisted: matched, nothing done.
    let mut p = policy();
    p.users.set_whitelisted(USER, true, 0);
    let d = p.on_message(msg(0.99), 1, 10);
    assert!(d.planned.is_empty() && !d.fired.is_empty());

    // Blacklisted: acted on at join and at any message, per the configured action.
    let table = [
        (BlacklistAction::Ban, "ban"),
        (BlacklistAction::Kick, "kick"),
        (BlacklistAction::Restrict, "restrict"),
        (BlacklistAction::Report, "notify_admin"),
    ];
    for (action, kind) in table {
        let mut p = policy_with(PolicyConfig {
            blacklist_action: action,
            ..PolicyConfig::default()
        });
        p.users.set_blacklisted(USER, true, 0);
        let join = RuleContext {
            chat_id: CHAT,
            user_id: USER,
            ..RuleContext::default()
        };
        assert_eq!(kinds(&p.on_join(join, 5)), [kind], "{action:?} on join");
        assert_eq!(
            kinds(&p.on_message(msg(0.0), 1, 6)),
            ["delete", kind],
            "{action:?} on message"
        );
    }

    // Trusted (after 3 clean messages): a matching rule only flags for review.
    let mut p = policy();
    for i in 0..3 {
        assert!(p.on_message(msg(0.05), i, 100 + i).planned.is_empty());
    }
    assert!(p.users.get(USER).unwrap().is_trusted_in(CHAT));
    let d = p.on_message(msg(0.99), 9, 200);
    assert_eq!(kinds(&d), ["notify_admin"]);
    assert!(d.flagged_for_review);
}

#[test]
fn rule_strikes_climb_the_ladder_then_expire() {
    let mut p = policy();
    // (time, planned kinds, active strikes after)
    let table = [
        (0, vec!["delete", "strike", "warn"], 1),
        (DAY, vec!["delete", "strike", "mute"], 2),
        (2 * DAY, vec!["delete", "strike", "ban"], 3),
        // The strikes of day 0 and day 1 have expired by then: two active, so mute, not ban.
        (31 * DAY + 1, vec!["delete", "strike", "mute"], 2),
    ];
    for (i, (now, expected, active)) in table.into_iter().enumerate() {
        let d = p.on_message(msg(0.7), i as i64, now);
        assert_eq!(kinds(&d), expected, "at {now}");
        assert_eq!(d.strike.unwrap().1, active, "at {now}");
    }
    let history = p.strikes.history(USER, Some(CHAT));
    assert_eq!(history.len(), 4, "expired strikes stay in history");
    assert_eq!(history[0].source, Actor::Rule("likely_spam".into()));
    assert_eq!(history[0].expires_at, 30 * DAY);
    let mute = d_mute_seconds(&mut policy());
    assert_eq!(mute, 86_400);
}

fn d_mute_seconds(p: &mut Policy) -> u64 {
    p.on_message(msg(0.7), 1, 0);
    let d = p.on_message(msg(0.7), 2, 10);
    d.planned
        .iter()
        .find_map(|a| match a.action.kind {
            ActionKind::Mute { seconds } => Some(seconds),
            _ => None,
        })
        .unwrap()
}

#[test]
fn forgive_offers_to_lift_what_the_ladder_did() {
    let mut p = policy();
    p.strike(CHAT, USER, None, "flood", Actor::Moderator("ann".into()), 0);
    let d = p.strike(
        CHAT,
        USER,
        None,
        "flood again",
        Actor::Moderator("ann".into()),
        10,
    );
    assert!(kinds(&d).contains(&"mute"));
    let out = p
        .forgive(CHAT, USER, Actor::Moderator("bob".into()), "misread", 20)
        .unwrap();
    assert_eq!(out.offers.len(), 1);
    assert_eq!(out.offers[0].kind, ActionKind::Unrestrict);
    assert_eq!(out.offers[0].requested_by, Actor::Moderator("bob".into()));
    assert_eq!(out.active_after, 1);
    let record = &p.strikes.history(USER, None)[1];
    let forgiven = record.forgiven.as_ref().unwrap();
    assert_eq!(
        (forgiven.by.to_string(), forgiven.why.as_str()),
        ("mod:bob".into(), "misread")
    );

    // In dry-run nothing was really done, so there is nothing to lift.
    let mut p = policy_with(with_mode(ChatMode::DryRun));
    p.strike(CHAT, USER, None, "a", Actor::System, 0);
    p.strike(CHAT, USER, None, "b", Actor::System, 1);
    let out = p.forgive(CHAT, USER, Actor::System, "test", 2).unwrap();
    assert!(out.offers.is_empty());
}

#[test]
fn label_ham_teaches_trusts_forgives_and_offers_undo() {
    let mut p = policy();
    p.on_message(msg(0.7), 1, 0);
    let d = p.on_message(msg(0.7), 2, 10); // second strike: muted
    let done: Vec<ActionKind> = d.live_kinds();
    let out = p.label(LabelRequest {
        chat_id: CHAT,
        message_id: 2,
        user_id: USER,
        text: "I was asking about the meetup".into(),
        label: Label::Ham,
        by: Actor::Moderator("ann".into()),
        at: 20,
        done,
    });
    assert_eq!(out.training.label, Label::Ham);
    assert_eq!(out.training.text, "I was asking about the meetup");
    let label = out.training.to_new_label();
    assert_eq!(
        (label.label.as_str(), label.by.as_str()),
        ("ham", "mod:ann")
    );
    let planned: Vec<&str> = out.planned.iter().map(|a| a.action.kind.name()).collect();
    assert_eq!(planned, ["label_ham", "trust"]);
    assert_eq!(
        out.offers.iter().map(|a| a.kind.name()).collect::<Vec<_>>(),
        ["unrestrict"]
    );
    assert_eq!(
        out.forgiven.as_ref().unwrap().active_after,
        1,
        "the strike for that message is forgiven"
    );
    // Trusted now: the next similar message is only flagged.
    let d = p.on_message(msg(0.7), 3, 30);
    assert_eq!(kinds(&d), ["notify_admin"]);
}

#[test]
fn label_spam_teaches_and_ban_without_learning_does_not() {
    let mut p = policy();
    let out = p.label(LabelRequest {
        chat_id: CHAT,
        message_id: 5,
        user_id: USER,
        text: "free usdt, dm me".into(),
        label: Label::Spam,
        by: Actor::Moderator("ann".into()),
        at: 0,
        done: vec![ActionKind::Delete],
    });
    assert_eq!(out.training.label, Label::Spam);
    assert_eq!(out.training.to_new_label().label, "spam");
    assert_eq!(
        out.offers.iter().map(|a| a.kind.name()).collect::<Vec<_>>(),
        ["ban"],
        "already deleted"
    );
    assert_eq!(
        p.users.get(USER).unwrap().risk_at(0, &p.cfg),
        warden::policy::RiskLevel::Banned
    );
    let d = p.ban_without_learning(
        CHAT,
        USER,
        "reputation spam",
        Actor::Moderator("ann".into()),
        1,
    );
    assert_eq!(kinds(&d), ["ban"]);
}

#[test]
fn match_mode_all_fires_every_matching_rule() {
    let mut p = policy_with(PolicyConfig {
        rule_match: MatchMode::All,
        ..PolicyConfig::default()
    });
    let d = p.on_message(msg(0.95), 1, 0);
    let rules: Vec<&str> = d.fired.iter().map(|m| m.rule.as_str()).collect();
    assert_eq!(rules, ["certain_spam", "likely_spam"]);
    assert_eq!(
        kinds(&d),
        ["delete", "ban", "strike", "warn"],
        "duplicates merged"
    );
}

#[test]
fn idempotency_keys_are_stable_for_the_same_message() {
    let mut a = policy();
    let mut b = policy();
    let ka: Vec<String> = a
        .on_message(msg(0.95), 1, 100)
        .planned
        .into_iter()
        .map(|p| p.action.idempotency_key)
        .collect();
    let kb: Vec<String> = b
        .on_message(msg(0.95), 1, 999)
        .planned
        .into_iter()
        .map(|p| p.action.idempotency_key)
        .collect();
    assert_eq!(
        ka, kb,
        "re-processing a message after a crash enqueues nothing new"
    );
    assert_eq!(ka[1], "rule:certain_spam|ban|-100|7|m1");
}

#[test]
fn dry_run_and_training_record_no_strikes() {
    for mode in [ChatMode::DryRun, ChatMode::Training] {
        let mut p = policy_with(with_mode(mode));
        for i in 0..3 {
            let d = p.on_message(msg(0.7), i, i * 10);
            assert_eq!(d.strike, None, "{mode:?}");
            assert!(
                d.notes.iter().any(|n| n.contains("would be strike 1")),
                "{mode:?}: {:?}",
                d.notes
            );
        }
        assert_eq!(p.strikes.active_count(CHAT, USER, 100), 0, "{mode:?}");
    }
    let mut p = policy_with(with_mode(ChatMode::DryRun));
    let d = p.on_message(msg(0.7), 1, 0);
    assert_eq!(kinds(&d), ["delete", "strike", "warn"]);
    assert!(d.planned.iter().all(|a| a.dry_run));
}
