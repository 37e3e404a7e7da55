use warden::model::Event;
use warden::raid::{RaidConfig, RaidDetector, RaidSignal};
use warden::sim::{Scenario, Simulator};
fn main() {
    for name in ["raid", "demo"] {
        let sc = Scenario::load(name).unwrap();
        let sim = Simulator::new(&sc, 1);
        let mut det = RaidDetector::new(RaidConfig::default());
        let mut t0 = None;
        for (e, t) in sim {
            if let Event::Joined { date, chat_id, .. } = &e {
                if t.raid_id.is_some() {
                    t0.get_or_insert(*date);
                }
                if t0.is_some() {
                    println!(
                        "join {} chat {} raid {:?} role {:?} base {}",
                        date - t0.unwrap(),
                        chat_id,
                        t.raid_id,
                        t.role,
                        det.baseline(*chat_id)
                    );
                }
            }
            for s in det.on_event(&e) {
                if let RaidSignal::RaidStarted { raid, .. } = s {
                    println!(
                        "{name}: started {:?} detected {} started {}",
                        raid.trigger,
                        raid.detected_at - t0.unwrap_or(0),
                        raid.started_at - t0.unwrap_or(0)
                    );
                }
            }
            if t0.is_some_and(|t| e.date() > t + 30) {
                break;
            }
        }
    }
}
