use warden::app::pipeline::Pipeline;
use warden::config::Config;
use warden::model::Event;
use warden::sim::{Scenario, Simulator};
fn main() {
    let name = std::env::args().nth(1).unwrap();
    let sc = Scenario::load(&name).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = warden_store::Store::open(&dir.path().join("x.db")).unwrap();
    let mut sim = Simulator::new(&sc, 1);
    let mut p = Pipeline::new(&Config::default(), store, sim.start()).unwrap();
    while let Some((e, t)) = sim.next_event() {
        let o = p.handle(&e).unwrap();
        if let Event::Message(m) | Event::Edited(m) = &e {
            let fl = o.flagged();
            if fl != t.spam {
                let v = o.verdict.as_ref().unwrap();
                let d = o.decision.as_ref().unwrap();
                println!(
                    "{} role={:?} spam={} score={:.2} class={:?} review={} fired={:?} planned={:?}\n   text={:?}\n   hits={:?}",
                    if fl { "FP" } else { "FN" },
                    t.role,
                    t.spam,
                    v.score,
                    v.class,
                    d.flagged_for_review,
                    d.fired.iter().map(|f| f.rule.clone()).collect::<Vec<_>>(),
                    d.planned
                        .iter()
                        .map(|p| p.action.kind.name())
                        .collect::<Vec<_>>(),
                    m.text.chars().take(150).collect::<String>(),
                    v.hits
                        .iter()
                        .map(|h| format!("{}:{:.2} {}", h.name, h.weight, h.reason))
                        .collect::<Vec<_>>()
                );
            }
        }
    }
}
