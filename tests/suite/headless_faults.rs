//! Fault injection through `warden simulate`: failures, flood waits and a disconnect must not lose
//! an acknowledged action — every outbox row ends done, or failed with its error recorded.

use warden::cli::headless::simulate_scenario;
use warden::config::Config;
use warden::sim::scenario::Disconnect;
use warden::sim::{FaultConfig, Scenario, Speed};

#[test]
fn failures_flood_waits_and_a_disconnect_lose_no_action() {
    let scenario = Scenario::load("demo").unwrap();
    let faults = FaultConfig {
        failure_rate: 0.3,
        permanent_failure_rate: 0.02,
        flood_wait_rate: 0.05,
        flood_wait_seconds: 30,
        // Right when the raid starts; shorter than the executor's retry horizon (2+4+8+16 s).
        disconnects: vec![Disconnect {
            at_minute: 40.0,
            seconds: 20,
        }],
    };
    let run = simulate_scenario(&Config::default(), &scenario, 1, faults, Speed::Max).unwrap();
    let outbox = &run.outbox;
    assert!(outbox.nothing_lost(), "{run}");
    assert_eq!(
        outbox.enqueued,
        outbox.done + outbox.dry_run + outbox.failed,
        "{run}"
    );
    assert!(outbox.retried > 10, "faults forced retries: {run}");
    assert!(outbox.done > 100, "{run}");
    let faults = &run.faults;
    assert!(
        faults.transient > 0 && faults.flood_waits > 0 && faults.disconnected > 0,
        "{run}"
    );
    // The raid still ends up contained, only later than without faults.
    assert!(run.report.raids[0].containment_latency_s.is_some(), "{run}");
}

#[test]
fn permanent_failures_are_recorded_not_retried_forever() {
    let scenario = Scenario::load("spam-wave").unwrap();
    let faults = FaultConfig {
        permanent_failure_rate: 0.5,
        ..FaultConfig::default()
    };
    let run = simulate_scenario(&Config::default(), &scenario, 3, faults, Speed::Max).unwrap();
    assert!(run.outbox.failed > 0, "{run}");
    assert_eq!(run.outbox.failed_without_error, 0);
    assert_eq!(run.outbox.unfinished, 0, "{run}");
}
