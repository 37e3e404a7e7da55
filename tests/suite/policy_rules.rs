//! Rules engine: the seed format, validation messages, semantics, counters, backtest.

use warden::policy::{
    ChatMode, MatchMode, RiskLevel, RuleContext, RuleSet, backtest, rule_store::DEFAULT_RULES,
};

const LIMIT: usize = 1 << 20;

fn load(text: &str) -> RuleSet {
    RuleSet::load("rules.json", text, LIMIT).unwrap_or_else(|e| panic!("{e}"))
}

fn ctx() -> RuleContext {
    RuleContext {
        chat_id: -100,
        user_id: 7,
        ..RuleContext::default()
    }
}

fn fired(set: &RuleSet, ctx: &RuleContext, mode: MatchMode) -> Vec<String> {
    set.evaluate(ctx, mode)
        .fired
        .into_iter()
        .map(|m| m.rule)
        .collect()
}

/// The seed document's shape, byte for byte: a bare array, "AND"/"OR", plain string actions.
const SEED: &str = r#"[
  {
    "name": "honeypot_kick",
    "priority": 100,
    "conditions": {
      "type": "AND",
      "items": [
        {"type": "score_gt", "value": 100},
        {"type": "has_signal", "value": "honeypot"}
      ]
    },
    "actions": ["kick"],
    "enabled": true
  },
  {
    "name": "link_spam",
    "priority": 50,
    "conditions": {
      "type": "OR",
      "items": [
        {"type": "score_gt", "value": 70},
        {"type": "velocity_gt", "value": 5}
      ]
    },
    "actions": ["delete", "warn"],
    "enabled": true
  },
  {
    "name": "disabled_one",
    "priority": 10,
    "conditions": {"type": "AND", "items": [{"type": "is_new_user"}]},
    "actions": ["shadow_mute"],
    "enabled": false
  }
]"#;

#[test]
fn seed_rules_json_loads_verbatim_in_both_shapes() {
    let bare = load(SEED);
    let wrapped = load(&format!("{{\"rules\": {SEED}}}"));
    for set in [&bare, &wrapped] {
        let names: Vec<&str> = set.rules().iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["honeypot_kick", "link_spam", "disabled_one"]);
        assert!(!set.get("disabled_one").unwrap().enabled);
    }
    // score_gt 100 means "the engine is certain", not "never".
    let mut c = ctx();
    c.hits = vec![("honeypot".into(), 0.9)];
    c.score = 1.0;
    assert_eq!(fired(&bare, &c, MatchMode::First), ["honeypot_kick"]);
    c.score = 0.95;
    assert_eq!(
        fired(&bare, &c, MatchMode::First),
        ["link_spam"],
        "0.95 > 70% but < certain"
    );
    c.score = 0.5;
    assert!(fired(&bare, &c, MatchMode::First).is_empty());
    // Export keeps each rule as written.
    let exported: serde_json::Value = serde_json::from_str(&bare.export_json()).unwrap();
    let original: serde_json::Value = serde_json::from_str(SEED).unwrap();
    assert_eq!(exported["rules"], original);
}

#[test]
fn shipped_default_rules_are_valid() {
    let set = RuleSet::load("assets/rules.json", DEFAULT_RULES, LIMIT).unwrap();
    assert!(set.len() >= 5);
    assert!(set.rules().iter().any(|r| r.shadow));
}

#[test]
fn validation_names_file_rule_path_and_position() {
    let text = r#"[
  {"name": "honeypot_kick", "priority": 1,
   "conditions": {"type": "AND", "items": [{"type": "scor_gt", "value": 1}]},
   "actions": ["kick"]}
]"#;
    let err = RuleSet::load("rules.json", text, LIMIT).unwrap_err();
    assert_eq!(err.errors.len(), 1);
    let e = &err.errors[0];
    assert_eq!(
        e.to_string(),
        "rules.json: rule 'honeypot_kick' conditions.items[0].type: unknown condition 'scor_gt'; did you mean 'score_gt'?"
    );
    assert_eq!((e.line, e.column), (3, 53), "points at \"scor_gt\"");

    // (file text, expected message fragment, line)
    let table: &[(&str, &str, usize)] = &[
        (
            "[{\"name\": \"a\", \"conditions\": {\"type\": \"raid_active\"}, \"actions\": [\"kik\"]}]",
            "rules.json: rule 'a' actions[0]: unknown action 'kik'",
            1,
        ),
        (
            "[{\"name\": \"a\",\n \"conditions\": {\"type\": \"raid_active\"},\n \"actions\": [{\"type\": \"mute\", \"duration\": \"3y\"}]}]",
            "rule 'a' actions[0].duration: bad duration '3y'",
            3,
        ),
        (
            "[{\"name\": \"a\", \"priorty\": 3, \"conditions\": {\"type\": \"raid_active\"}, \"actions\": [\"kick\"]}]",
            "rule 'a' priorty: unknown key 'priorty'; did you mean 'priority'?",
            1,
        ),
        (
            "[{\"conditions\": {\"type\": \"raid_active\"}, \"actions\": [\"kick\"]}]",
            "rule #1 : missing \"name\"",
            1,
        ),
        (
            "[{\"name\": \"a\", \"conditions\": {\"type\": \"text_matches\", \"value\": \"(\"}, \"actions\": [\"kick\"]}]",
            "rule 'a' conditions.value: bad regex",
            1,
        ),
        (
            "[{\"name\": \"a\", \"conditions\": {\"type\": \"NOT\", \"items\": []}, \"actions\": [\"kick\"]}]",
            "rule 'a' conditions: NOT needs exactly one condition",
            1,
        ),
        (
            "[{\"name\": \"a\", \"conditions\": {\"type\": \"risk_is\", \"value\": \"scary\"}, \"actions\": [\"kick\"]}]",
            "rule 'a' conditions.value: must be one of",
            1,
        ),
        (
            "[{\"name\": \"a\", \"conditions\": {\"type\": \"raid_active\"}, \"actions\": [\"kick\"]},\n {\"name\": \"a\", \"conditions\": {\"type\": \"raid_active\"}, \"actions\": [\"kick\"]}]",
            "rule 'a' name: duplicate rule name 'a'",
            2,
        ),
        (
            "[{\"name\": \"a\", \"conditions\": {\"type\": \"raid_active\"}, \"actions\": [\"kick\"]}",
            "rules.json: line 1, column",
            1,
        ),
        ("{\"rulez\": []}", "rules.json: line 1, column", 1),
    ];
    for (text, fragment, line) in table {
        let err = RuleSet::load("rules.json", text, LIMIT).unwrap_err();
        let shown = err.to_string();
        let fragment = fragment.replace("rule #1 : ", "rule #1 ");
        assert!(
            shown.contains(&fragment),
            "{shown}\n  should contain: {fragment}"
        );
        assert_eq!(err.errors[0].line, *line, "{shown}");
    }
}

#[test]
fn oversized_regex_is_refused_by_size_limit() {
    let text = r#"[{"name": "big", "conditions": {"type": "text_matches", "value": "\\w{1000}\\w{1000}"}, "actions": ["delete"]}]"#;
    let err = RuleSet::load("rules.json", text, 10_000)
        .unwrap_err()
        .to_string();
    assert!(err.contains("regex is too big"), "{err}");
    assert!(RuleSet::load("rules.json", r#"[{"name": "small", "conditions": {"type": "text_matches", "value": "(?i)free money"}, "actions": ["delete"]}]"#, 10_000).is_ok());
}

#[test]
fn and_or_not_nest() {
    let set = load(
        r#"[{"name": "r", "conditions": {"type": "AND", "items": [
            {"type": "OR", "items": [{"type": "has_signal", "value": "links"}, {"type": "velocity_gt", "value": 3}]},
            {"type": "NOT", "item": {"type": "is_trusted"}}
        ]}, "actions": ["delete"]}]"#,
    );
    // (links, velocity, trusted, fires)
    let table = [
        (true, 0.0, false, true),
        (false, 4.0, false, true),
        (false, 3.0, false, false),
        (true, 9.0, true, false),
        (false, 0.0, true, false),
    ];
    for (links, velocity, trusted, fires) in table {
        let mut c = ctx();
        if links {
            c.hits.push(("links".into(), 0.4));
        }
        c.velocity = velocity;
        c.is_trusted = trusted;
        assert_eq!(
            !fired(&set, &c, MatchMode::First).is_empty(),
            fires,
            "{links} {velocity} {trusted}"
        );
    }
}

#[test]
fn every_condition_type_evaluates() {
    // (condition JSON, context tweak, expected)
    type Tweak = fn(&mut RuleContext);
    let table: Vec<(&str, Tweak, bool)> = vec![
        (
            r#"{"type": "score_gt", "value": 0.5}"#,
            |c| c.score = 0.6,
            true,
        ),
        (
            r#"{"type": "score_gt", "value": 50}"#,
            |c| c.score = 0.5,
            false,
        ),
        (
            r#"{"type": "risk_is", "value": ["dangerous", "banned"]}"#,
            |c| c.risk = RiskLevel::Banned,
            true,
        ),
        (
            r#"{"type": "risk_is", "value": "safe"}"#,
            |c| c.risk = RiskLevel::Suspicious,
            false,
        ),
        (
            r#"{"type": "signal_weight_gt", "signal": "links", "value": 0.3}"#,
            |c| c.hits = vec![("links".into(), 0.5)],
            true,
        ),
        (
            r#"{"type": "signal_weight_gt", "signal": "links", "value": 0.5}"#,
            |c| c.hits = vec![("links".into(), 0.5)],
            false,
        ),
        (
            r#"{"type": "strikes_gte", "value": 2}"#,
            |c| c.strikes = 2,
            true,
        ),
        (
            r#"{"type": "is_new_user", "value": false}"#,
            |c| c.is_new = true,
            false,
        ),
        (
            r#"{"type": "account_age_lt", "value": "7d"}"#,
            |c| c.account_age_secs = Some(3600),
            true,
        ),
        (
            r#"{"type": "account_age_lt", "value": "7d"}"#,
            |c| c.account_age_secs = None,
            false,
        ),
        (
            r#"{"type": "chat_mode_is", "value": "soft_ban"}"#,
            |c| c.chat_mode = ChatMode::SoftBan,
            true,
        ),
        (
            r#"{"type": "joined_within", "value": 60}"#,
            |c| c.joined_secs_ago = Some(60),
            true,
        ),
        (
            r#"{"type": "joined_within", "value": "1m"}"#,
            |c| c.joined_secs_ago = Some(61),
            false,
        ),
        (
            r#"{"type": "cluster_size_gte", "value": 3}"#,
            |c| c.cluster_size = 3,
            true,
        ),
        (r#"{"type": "raid_active"}"#, |c| c.raid_active = true, true),
        (
            r#"{"type": "text_matches", "value": "(?i)free\\s+usdt"}"#,
            |c| c.text = "get FREE  usdt now".into(),
            true,
        ),
        (
            r#"{"type": "link_domain_in", "value": ["t.me"]}"#,
            |c| c.link_domains = vec!["joinchat.t.me".into()],
            true,
        ),
        (
            r#"{"type": "link_domain_in", "value": ["t.me"]}"#,
            |c| c.link_domains = vec!["nott.me".into()],
            false,
        ),
        (
            r#"{"type": "known_spammer"}"#,
            |c| c.known_spammer = true,
            true,
        ),
    ];
    for (cond, tweak, expected) in table {
        let set = load(&format!(
            "[{{\"name\": \"r\", \"conditions\": {cond}, \"actions\": [\"delete\"]}}]"
        ));
        let mut c = ctx();
        tweak(&mut c);
        assert_eq!(
            !fired(&set, &c, MatchMode::First).is_empty(),
            expected,
            "{cond}"
        );
    }
}

const LAYERED: &str = r#"[
  {"name": "low", "priority": 1, "conditions": {"type": "raid_active"}, "actions": ["notify_admin"]},
  {"name": "high", "priority": 10, "conditions": {"type": "raid_active"}, "actions": ["delete"]},
  {"name": "watch", "priority": 100, "shadow": true, "conditions": {"type": "raid_active"}, "actions": ["ban"]},
  {"name": "mid_a", "priority": 5, "conditions": {"type": "raid_active"}, "actions": ["warn"]},
  {"name": "mid_b", "priority": 5, "chats": [-200], "conditions": {"type": "raid_active"}, "actions": ["warn"]}
]"#;

#[test]
fn priority_shadow_scope_and_first_vs_all() {
    let set = load(LAYERED);
    let mut c = ctx();
    c.raid_active = true;
    let first = set.evaluate(&c, MatchMode::First);
    assert_eq!(
        first
            .fired
            .iter()
            .map(|m| m.rule.as_str())
            .collect::<Vec<_>>(),
        ["high"]
    );
    assert_eq!(
        first
            .shadow
            .iter()
            .map(|m| m.rule.as_str())
            .collect::<Vec<_>>(),
        ["watch"],
        "shadow is evaluated but never acts"
    );
    assert_eq!(
        fired(&set, &c, MatchMode::All),
        ["high", "mid_a", "low"],
        "all, by priority; mid_b is for chat -200 only"
    );
    c.chat_id = -200;
    assert_eq!(
        fired(&set, &c, MatchMode::All),
        ["high", "mid_a", "mid_b", "low"],
        "equal priorities keep file order"
    );
}

#[test]
fn hit_counters_and_reload_keeps_valid_rules() {
    let mut set = load(LAYERED);
    let mut c = ctx();
    c.raid_active = true;
    set.evaluate_counted(&c, MatchMode::First, 10);
    set.evaluate_counted(&c, MatchMode::First, 20);
    assert_eq!(set.stats("high").hits, 2);
    assert_eq!(set.stats("high").last_hit, Some(20));
    assert_eq!(set.stats("watch").shadow_hits, 2);
    assert_eq!(set.stats("low").hits, 0);

    let mut policy = warden::policy::Policy::new(Default::default(), set);
    let bad = r#"[{"name": "high", "conditions": {"type": "nope"}, "actions": ["delete"]}]"#;
    assert!(policy.reload_rules("rules.json", bad).is_err());
    assert_eq!(
        policy.rules().len(),
        5,
        "invalid rules never replace valid ones"
    );
    let good =
        r#"[{"name": "high", "conditions": {"type": "raid_active"}, "actions": ["delete"]}]"#;
    assert_eq!(policy.reload_rules("rules.json", good).unwrap(), 1);
    assert_eq!(
        policy.rules().stats("high").hits,
        2,
        "counters survive a reload for kept names"
    );
}

#[test]
fn backtest_summarises_hits() {
    let set = load(SEED);
    let mut contexts = Vec::new();
    for score in [0.1, 0.75, 0.8, 1.0] {
        let mut c = ctx();
        c.score = score;
        c.hits = vec![("honeypot".into(), 1.0)];
        contexts.push(c);
    }
    let report = backtest(&set, &contexts, MatchMode::First);
    assert_eq!(report.contexts, 4);
    assert_eq!(report.acted_on, 3);
    assert_eq!(report.acted_indexes, [1, 2, 3]);
    assert_eq!(report.per_rule["honeypot_kick"], (1, 0));
    assert_eq!(report.per_rule["link_spam"], (2, 0));
    assert_eq!(report.per_rule["disabled_one"], (0, 0));
    assert_eq!(report.actions["delete"], 2);
    assert_eq!(report.actions["kick"], 1);
}

#[test]
fn huge_and_weird_text_is_evaluated_without_panic() {
    let set = RuleSet::load("assets/rules.json", DEFAULT_RULES, LIMIT).unwrap();
    let zalgo = "z\u{0336}\u{0334}a\u{0337}\u{202E}l\u{200F}g\u{0338}o ".repeat(60_000);
    let mut c = ctx();
    c.text = format!("{zalgo} free USDT airdrop dm me");
    assert!(c.text.len() > 1_000_000);
    let eval = set.evaluate(&c, MatchMode::All);
    assert_eq!(
        eval.shadow
            .iter()
            .map(|m| m.rule.as_str())
            .collect::<Vec<_>>(),
        ["crypto_bait_shadow"]
    );
}
