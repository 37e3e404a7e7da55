//! The executor over a real store: resume after a crash exactly once, retries with backoff, flood
//! wait, dry-run, audit; rules versions in the store and the rules CLI.

use std::path::Path;
use warden::action::{Action, ActionKind, Actor, GatewayError};
use warden::policy::cli::{RulesCommand, run_with};
use warden::policy::{
    ChatMode, ChatOverride, Executor, ExecutorConfig, FakeGateway, PlannedAction, Policy,
    PolicyConfig, RuleContext, RuleSet, enqueue, rule_store,
};
use warden_store::{AuditFilter, Store};

fn action(kind: ActionKind, key: &str) -> PlannedAction {
    PlannedAction {
        action: Action {
            kind,
            chat_id: -100,
            user_id: Some(7),
            message_id: Some(1),
            reason: "test".into(),
            requested_by: Actor::Rule("spam_strike".into()),
            idempotency_key: key.into(),
        },
        dry_run: false,
    }
}

fn open(dir: &Path) -> Store {
    Store::open(&dir.join("warden.db")).unwrap()
}

fn states(store: &Store) -> Vec<(String, String)> {
    let mut rows: Vec<(String, String)> = store
        .reader()
        .unwrap()
        .actions(None, None, None, 100)
        .unwrap()
        .items
        .into_iter()
        .map(|r| (r.idempotency_key, r.state))
        .collect();
    rows.sort();
    rows
}

fn cfg() -> ExecutorConfig {
    ExecutorConfig {
        batch: 2,
        ..ExecutorConfig::default()
    }
}

#[test]
fn resume_after_a_kill_runs_each_action_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let keys = ["k1", "k2", "k3", "k4", "k5"];
    let mut gateway = FakeGateway::new();
    {
        let store = open(dir.path());
        let planned: Vec<PlannedAction> =
            keys.iter().map(|k| action(ActionKind::Delete, k)).collect();
        enqueue(&store, &planned, 1000).unwrap();
        // Enqueuing the same keys again (the app re-processed the message) adds nothing.
        enqueue(&store, &planned, 1001).unwrap();
        let executor = Executor::new(store.clone(), cfg());
        // One batch completes normally.
        let report = executor.run_once(&mut gateway, 1002).unwrap();
        assert_eq!(report.done, 2);
        // The next batch is claimed, then the process dies before executing it.
        let claimed = executor.claim(1003).unwrap();
        assert_eq!(claimed.len(), 2);
        drop(executor);
        store.writer().flush().unwrap();
    }
    let store = open(dir.path());
    assert_eq!(
        store.reader().unwrap().pending_actions_count().unwrap(),
        3,
        "running rows are pending again"
    );
    let executor = Executor::new(store.clone(), cfg());
    let report = executor.run_due(&mut gateway, 2000).unwrap();
    assert_eq!(report.done, 3);
    for key in keys {
        let calls = gateway
            .calls
            .iter()
            .filter(|a| a.idempotency_key == key)
            .count();
        assert_eq!(calls, 1, "{key} called once");
        assert_eq!(gateway.effects_for(key), 1, "{key} took effect once");
    }
    assert!(
        states(&store).iter().all(|(_, s)| s == "done"),
        "{:?}",
        states(&store)
    );
    assert_eq!(
        store.reader().unwrap().verify_audit().unwrap().first_broken,
        None
    );
}

#[test]
fn crash_after_the_gateway_call_is_absorbed_by_the_idempotency_key() {
    let dir = tempfile::tempdir().unwrap();
    let mut gateway = FakeGateway::new();
    {
        let store = open(dir.path());
        enqueue(&store, &[action(ActionKind::Kick, "kick-1")], 0).unwrap();
        let executor = Executor::new(store.clone(), cfg());
        let rows = executor.claim(1).unwrap();
        // The gateway acted, then the process died before completing the row.
        use warden::action::Gateway;
        gateway
            .execute(&warden::policy::action_from_row(&rows[0]).unwrap(), 1)
            .unwrap();
        store.writer().flush().unwrap();
    }
    let store = open(dir.path());
    Executor::new(store.clone(), cfg())
        .run_due(&mut gateway, 5)
        .unwrap();
    assert_eq!(
        gateway.calls.len(),
        2,
        "the call is repeated after the crash"
    );
    assert_eq!(gateway.effects_for("kick-1"), 1, "but takes effect once");
    assert_eq!(states(&store), [("kick-1".to_string(), "done".to_string())]);
}

#[test]
fn retries_back_off_and_flood_wait_is_respected() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let executor = Executor::new(
        store.clone(),
        ExecutorConfig {
            max_attempts: 3,
            backoff_base: 10,
            backoff_max: 15,
            batch: 10,
        },
    );
    let mut gateway = FakeGateway::new();
    gateway.fail_next("flood", vec![GatewayError::FloodWait { seconds: 30 }]);
    gateway.fail_next(
        "flaky",
        vec![
            GatewayError::Transient("timeout".into()),
            GatewayError::Transient("timeout".into()),
        ],
    );
    gateway.fail_next("doomed", vec![GatewayError::Transient("x".into()); 5]);
    gateway.fail_next(
        "gone",
        vec![GatewayError::Permanent("message not found".into())],
    );
    let planned: Vec<PlannedAction> = ["flood", "flaky", "doomed", "gone"]
        .iter()
        .map(|k| action(ActionKind::Delete, k))
        .collect();
    enqueue(&store, &planned, 0).unwrap();

    // (now, done, retried, failed)
    let table = [
        (0, 0, 3, 1),  // gone fails for good; the rest retry
        (9, 0, 0, 0),  // flaky/doomed wait 10 s (backoff 10 · 2^0)
        (10, 0, 2, 0), // second attempts fail: wait 15 s (capped)
        (25, 1, 0, 1), // flaky succeeds; doomed hit max_attempts
        (29, 0, 0, 0), // flood wait is 30 s
        (30, 1, 0, 0),
    ];
    for (now, done, retried, failed) in table {
        let r = executor.run_due(&mut gateway, now).unwrap();
        assert_eq!(
            (r.done, r.retried, r.failed),
            (done, retried, failed),
            "at {now}"
        );
    }
    let states = states(&store);
    let state = |k: &str| states.iter().find(|(key, _)| key == k).unwrap().1.clone();
    assert_eq!(
        (
            state("flood"),
            state("flaky"),
            state("doomed"),
            state("gone")
        ),
        (
            "done".into(),
            "done".into(),
            "failed".into(),
            "failed".into()
        )
    );
    let doomed = store
        .reader()
        .unwrap()
        .actions(Some("failed"), None, None, 10)
        .unwrap()
        .items;
    assert!(
        doomed
            .iter()
            .any(|r| r.last_error.as_deref() == Some("temporary failure: x"))
    );
}

#[test]
fn dry_run_records_would_do_and_audits_the_rule() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let mut cfg = PolicyConfig::default();
    cfg.chats.insert(
        "-100".into(),
        ChatOverride {
            mode: Some(ChatMode::DryRun),
            ..Default::default()
        },
    );
    let rules = RuleSet::load("r.json", r#"[{"name": "spam_strike", "conditions": {"type": "score_gt", "value": 0.95}, "actions": ["delete", "ban"]}]"#, 1 << 20).unwrap();
    let mut policy = Policy::new(cfg, rules);
    let decision = policy.on_message(
        RuleContext {
            chat_id: -100,
            user_id: 7,
            score: 0.99,
            ..Default::default()
        },
        1,
        50,
    );
    enqueue(&store, &decision.planned, 50).unwrap();
    let mut gateway = FakeGateway::new();
    let report = Executor::new(store.clone(), cfg_default())
        .run_due(&mut gateway, 51)
        .unwrap();
    assert_eq!(report.would_do, 2);
    assert!(
        gateway.calls.is_empty(),
        "dry-run never reaches the gateway"
    );
    let audit = store
        .reader()
        .unwrap()
        .audit_page(
            &AuditFilter {
                actor: Some("rule:spam_strike".into()),
                action: Some("action_would_do".into()),
                ..Default::default()
            },
            None,
            10,
        )
        .unwrap();
    assert_eq!(audit.items.len(), 2);
    assert_eq!(
        audit
            .items
            .iter()
            .filter(|a| a.detail["kind"] == "ban")
            .count(),
        1
    );
}

fn cfg_default() -> ExecutorConfig {
    ExecutorConfig::default()
}

#[test]
fn record_only_kinds_skip_the_gateway_and_durations_survive_the_outbox() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    enqueue(
        &store,
        &[
            action(ActionKind::Strike, "s"),
            action(ActionKind::Mute { seconds: 3600 }, "m"),
        ],
        0,
    )
    .unwrap();
    let mut gateway = FakeGateway::new();
    let report = Executor::new(store.clone(), cfg_default())
        .run_due(&mut gateway, 1)
        .unwrap();
    assert_eq!((report.recorded, report.done), (1, 1));
    assert_eq!(gateway.calls.len(), 1);
    assert_eq!(gateway.calls[0].kind, ActionKind::Mute { seconds: 3600 });
    assert_eq!(
        gateway.calls[0].requested_by,
        Actor::Rule("spam_strike".into())
    );
}

#[test]
fn rules_are_versioned_in_the_store_and_bad_imports_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let set = rule_store::load_or_seed(&store, 1 << 20, 10).unwrap();
    let shipped = set.len();
    assert_eq!(
        rule_store::load_current(&store, 1 << 20)
            .unwrap()
            .unwrap()
            .len(),
        shipped
    );

    let v2 = r#"{"rules": [{"name": "spam_strike", "priority": 1, "conditions": {"type": "score_gt", "value": 0.99}, "actions": ["delete"]}]}"#;
    let summary = rule_store::import(&store, "v2.json", v2, 1 << 20, "ann", 20)
        .unwrap()
        .unwrap();
    assert_eq!(summary.changed, [("spam_strike".to_string(), 2)]);
    assert_eq!(
        summary.disabled.len(),
        shipped - 1,
        "rules missing from the file are disabled, not lost"
    );

    let bad = r#"[{"name": "spam_strike", "conditions": {"type": "scor_gt", "value": 1}, "actions": ["delete"]}]"#;
    let err = rule_store::import(&store, "bad.json", bad, 1 << 20, "ann", 30)
        .unwrap()
        .unwrap_err();
    assert!(
        err.to_string().starts_with(
            "bad.json: rule 'spam_strike' conditions.type: unknown condition 'scor_gt'"
        ),
        "{err}"
    );
    let history = store.reader().unwrap().rule_history("spam_strike").unwrap();
    assert_eq!(history.len(), 2, "the bad import saved nothing");
    assert_eq!(
        (
            history[0].version,
            history[0].author.as_str(),
            history[0].ts
        ),
        (2, "ann", 20)
    );
    let current = rule_store::load_current(&store, 1 << 20).unwrap().unwrap();
    assert_eq!(current.rules().iter().filter(|r| r.enabled).count(), 1);

    // The CLI over the same store.
    let file = dir.path().join("bad.json");
    std::fs::write(&file, bad).unwrap();
    let code = run_with(
        RulesCommand::Validate { file: file.clone() },
        &store,
        "ann",
        &PolicyConfig::default(),
        40,
    )
    .unwrap();
    assert_eq!(code, std::process::ExitCode::FAILURE);
    let code = run_with(
        RulesCommand::Import { file },
        &store,
        "ann",
        &PolicyConfig::default(),
        40,
    )
    .unwrap();
    assert_eq!(code, std::process::ExitCode::FAILURE);
    for cmd in [
        RulesCommand::List,
        RulesCommand::Export,
        RulesCommand::History {
            name: "spam_strike".into(),
        },
    ] {
        assert_eq!(
            run_with(cmd, &store, "ann", &PolicyConfig::default(), 40).unwrap(),
            std::process::ExitCode::SUCCESS
        );
    }
    assert_eq!(
        run_with(
            RulesCommand::History {
                name: "nope".into()
            },
            &store,
            "ann",
            &PolicyConfig::default(),
            40
        )
        .unwrap(),
        std::process::ExitCode::FAILURE
    );
}

#[test]
fn strikes_round_trip_through_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let mut policy = Policy::new(PolicyConfig::default(), RuleSet::default());
    let d = policy.strike(
        -100,
        7,
        Some(3),
        "flood",
        Actor::Moderator("ann".into()),
        100,
    );
    let (id, _) = d.strike.unwrap();
    let strike = policy.strikes.get(id).unwrap().clone();
    let store_id = store.writer().add_strike(strike.to_new_strike()).unwrap();
    policy.strikes.set_store_id(id, store_id);
    let out = policy
        .forgive(-100, 7, Actor::Moderator("bob".into()), "sorry", 200)
        .unwrap();
    let forgiven = policy.strikes.get(out.strike_id).unwrap();
    store
        .writer()
        .forgive_strike(forgiven.store_id.unwrap(), "mod:bob", "sorry", 200)
        .unwrap();

    let history = store.reader().unwrap().user_history(7, Some(-100)).unwrap();
    let book = warden::policy::StrikeBook::from_records(&history.strikes, 30 * 86_400);
    let restored = book.history(7, Some(-100));
    assert_eq!(restored.len(), 1);
    assert_eq!(restored[0].source, Actor::Moderator("ann".into()));
    assert_eq!(restored[0].expires_at, 100 + 30 * 86_400);
    assert_eq!(
        restored[0].forgiven.as_ref().unwrap().by,
        Actor::Moderator("bob".into())
    );
    assert_eq!(book.active_count(-100, 7, 300), 0);
}
