mod common;

use common::*;
use warden_store::*;

#[test]
fn enqueue_is_idempotent_on_key() {
    let (_dir, store) = open_temp();
    let w = store.writer();
    let a = w.enqueue_action(action("ban:-100123:42"), T0).unwrap();
    let b = w.enqueue_action(action("ban:-100123:42"), T0 + 5).unwrap();
    let c = w.enqueue_action(action("ban:-100123:43"), T0).unwrap();
    assert_eq!(a, b);
    assert_ne!(a, c);
    let r = store.reader().unwrap();
    assert_eq!(r.pending_actions_count().unwrap(), 2);
    // Only the first enqueue of a key is audited.
    let enq = r
        .audit_page(
            &AuditFilter {
                action: Some("action_enqueued".into()),
                ..Default::default()
            },
            None,
            10,
        )
        .unwrap();
    assert_eq!(enq.items.len(), 2);
}

#[test]
fn empty_idempotency_key_is_refused() {
    let (_dir, store) = open_temp();
    let err = store.writer().enqueue_action(action(""), T0).unwrap_err();
    assert!(err.to_string().contains("idempotency_key"), "{err}");
}

#[test]
fn claim_complete_fail_lifecycle() {
    let (_dir, store) = open_temp();
    let w = store.writer();
    let a = w.enqueue_action(action("a"), T0).unwrap();
    let b = w.enqueue_action(action("b"), T0).unwrap();
    let later = w
        .commit(WriteOp::EnqueueAction {
            action: action("later"),
            not_before: T0 + 100,
            now: T0,
        })
        .unwrap()
        .id()
        .unwrap();

    let claimed = w.claim_actions(10, T0).unwrap();
    let ids: Vec<i64> = claimed.iter().map(|r| r.id).collect();
    assert_eq!(ids, vec![a, b], "not_before in the future is not claimed");
    assert!(
        claimed
            .iter()
            .all(|r| r.state == "running" && r.attempts == 1)
    );
    assert!(
        w.claim_actions(10, T0).unwrap().is_empty(),
        "running rows are not claimed twice"
    );

    w.complete_action(a, T0 + 1).unwrap();
    w.fail_action(b, "FLOOD_WAIT 30", Some(T0 + 30), T0 + 1)
        .unwrap();
    let r = store.reader().unwrap();
    assert_eq!(r.action(a).unwrap().unwrap().state, "done");
    let rb = r.action(b).unwrap().unwrap();
    assert_eq!(rb.state, "pending");
    assert_eq!(rb.not_before, T0 + 30);
    assert_eq!(rb.last_error.as_deref(), Some("FLOOD_WAIT 30"));

    // Retry time and the delayed action come due together; attempts count up.
    let claimed = w.claim_actions(10, T0 + 100).unwrap();
    let ids: Vec<i64> = claimed.iter().map(|r| r.id).collect();
    assert_eq!(ids, vec![b, later]);
    assert_eq!(claimed[0].attempts, 2);
    w.fail_action(b, "not an admin", None, T0 + 101).unwrap();
    assert_eq!(r.action(b).unwrap().unwrap().state, "failed");
    assert!(w.claim_actions(10, T0 + 10_000).unwrap().is_empty());

    // Completing an action that is not running is an error, not a silent success.
    let err = w.complete_action(a, T0 + 200).unwrap_err();
    assert!(
        matches!(err, StoreError::NotFound { id, .. } if id == a),
        "{err}"
    );

    let counts = r.action_counts(0).unwrap();
    let get = |state: &str| {
        counts
            .iter()
            .find(|c| c.kind == "ban" && c.state == state)
            .map_or(0, |c| c.count)
    };
    assert_eq!((get("done"), get("failed"), get("running")), (1, 1, 1));
    assert_eq!(r.verify_audit().unwrap().first_broken, None);
}

#[test]
fn running_actions_go_back_to_pending_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("warden.db");
    let id = {
        let store = Store::open(&path).unwrap();
        let id = store.writer().enqueue_action(action("k"), T0).unwrap();
        let claimed = store.writer().claim_actions(1, T0).unwrap();
        assert_eq!(claimed[0].state, "running");
        id
        // dropped while running: what a crash leaves behind
    };
    let store = Store::open(&path).unwrap();
    let r = store.reader().unwrap();
    let row = r.action(id).unwrap().unwrap();
    assert_eq!(row.state, "pending");
    assert_eq!(row.attempts, 1);
    let reset = r
        .audit_page(
            &AuditFilter {
                action: Some("action_reset".into()),
                ..Default::default()
            },
            None,
            10,
        )
        .unwrap();
    assert_eq!(reset.items.len(), 1);
    assert_eq!(reset.items[0].ref_id, Some(id));
    let again = store.writer().claim_actions(5, T0 + 1).unwrap();
    assert_eq!(again[0].id, id);
    assert_eq!(again[0].attempts, 2);
}

#[test]
fn a_failing_op_does_not_sink_its_batch() {
    let (_dir, store) = open_temp();
    let w = store.writer();
    for i in 0..50 {
        w.submit(WriteOp::AddStrike(strike(i, "rule:links", T0 + i)));
    }
    // Invalid: forgiving a strike that does not exist, queued among good ops.
    w.submit(WriteOp::ForgiveStrike {
        strike_id: 9_999,
        by: "mod:bob".into(),
        why: "oops".into(),
        at: T0,
    });
    for i in 50..100 {
        w.submit(WriteOp::AddStrike(strike(i, "rule:links", T0 + i)));
    }
    let err = w.flush().unwrap_err();
    assert!(
        matches!(err, StoreError::SubmitFailed { count: 1, .. }),
        "{err}"
    );
    w.flush().unwrap();
    let page = store
        .reader()
        .unwrap()
        .strikes(&StrikeFilter::default(), None, 500)
        .unwrap();
    assert_eq!(page.items.len(), 100);
}
