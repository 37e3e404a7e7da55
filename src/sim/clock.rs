//! Maps simulated time to wall time for the demo: a speed factor, `max` (no waiting) and pause.
//! Pure arithmetic over `Instant`s the caller passes in, so it is testable without sleeping.

use crate::model::Timestamp;
use std::str::FromStr;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Speed {
    /// As fast as possible: never wait.
    Max,
    /// Simulated seconds per wall second (1.0 = real time, 60.0 = a minute per second).
    Factor(f64),
}

impl FromStr for Speed {
    type Err = String;

    /// `max`, `60`, `60x`, `0.5`.
    fn from_str(s: &str) -> Result<Speed, String> {
        let s = s.trim();
        if s.eq_ignore_ascii_case("max") {
            return Ok(Speed::Max);
        }
        let number = s.strip_suffix(['x', 'X']).unwrap_or(s);
        match number.parse::<f64>() {
            Ok(f) if f.is_finite() && f > 0.0 => Ok(Speed::Factor(f)),
            _ => Err(format!(
                "speed must be `max` or a positive factor like `60` or `10x`, not `{s}`"
            )),
        }
    }
}

/// Paces a stream of simulated timestamps against wall time.
#[derive(Debug, Clone)]
pub struct Pacer {
    speed: Speed,
    /// Simulated time that corresponds to `anchor_wall`.
    anchor_sim: f64,
    anchor_wall: Instant,
    paused: bool,
}

impl Pacer {
    pub fn new(speed: Speed, sim_start: Timestamp, wall_now: Instant) -> Pacer {
        Pacer {
            speed,
            anchor_sim: sim_start as f64,
            anchor_wall: wall_now,
            paused: false,
        }
    }

    pub fn speed(&self) -> Speed {
        self.speed
    }

    pub fn is_paused(&self) -> bool {
        self.paused
    }

    /// Simulated time now (frozen while paused).
    pub fn sim_now(&self, wall_now: Instant) -> f64 {
        match (self.paused, self.speed) {
            (true, _) | (false, Speed::Max) => self.anchor_sim,
            (false, Speed::Factor(f)) => {
                self.anchor_sim
                    + wall_now
                        .saturating_duration_since(self.anchor_wall)
                        .as_secs_f64()
                        * f
            }
        }
    }

    /// How long to wait before an event at `sim_time` is due; `None` while paused.
    pub fn delay_until(&self, sim_time: Timestamp, wall_now: Instant) -> Option<Duration> {
        if self.paused {
            return None;
        }
        match self.speed {
            Speed::Max => Some(Duration::ZERO),
            Speed::Factor(f) => {
                let ahead = sim_time as f64 - self.sim_now(wall_now);
                Some(Duration::from_secs_f64((ahead / f).max(0.0)))
            }
        }
    }

    /// Record that an event at `sim_time` was delivered (with `Max`, time jumps to it).
    pub fn delivered(&mut self, sim_time: Timestamp, wall_now: Instant) {
        if self.speed == Speed::Max || self.paused {
            self.anchor_sim = self.anchor_sim.max(sim_time as f64);
            self.anchor_wall = wall_now;
        }
    }

    pub fn pause(&mut self, wall_now: Instant) {
        if !self.paused {
            self.anchor_sim = self.sim_now(wall_now);
            self.anchor_wall = wall_now;
            self.paused = true;
        }
    }

    pub fn resume(&mut self, wall_now: Instant) {
        if self.paused {
            self.anchor_wall = wall_now;
            self.paused = false;
        }
    }

    pub fn toggle_pause(&mut self, wall_now: Instant) {
        if self.paused {
            self.resume(wall_now)
        } else {
            self.pause(wall_now)
        }
    }

    /// Change speed without a jump in simulated time.
    pub fn set_speed(&mut self, speed: Speed, wall_now: Instant) {
        self.anchor_sim = self.sim_now(wall_now);
        self.anchor_wall = wall_now;
        self.speed = speed;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn factor_maps_sim_seconds_to_wall_and_pause_freezes() {
        let t0 = Instant::now();
        let mut pacer = Pacer::new(Speed::Factor(60.0), 1000, t0);
        // An event 120 simulated seconds ahead is due in 2 wall seconds.
        assert_eq!(pacer.delay_until(1120, t0), Some(Duration::from_secs(2)));
        let t1 = t0 + Duration::from_secs(1);
        assert_eq!(pacer.delay_until(1120, t1), Some(Duration::from_secs(1)));
        pacer.pause(t1);
        assert_eq!(pacer.delay_until(1120, t1 + Duration::from_secs(100)), None);
        assert_eq!(pacer.sim_now(t1 + Duration::from_secs(100)), 1060.0);
        let t2 = t1 + Duration::from_secs(100);
        pacer.resume(t2);
        assert_eq!(pacer.delay_until(1120, t2), Some(Duration::from_secs(1)));
    }

    #[test]
    fn max_never_waits_and_speed_parses() {
        let t0 = Instant::now();
        let pacer = Pacer::new(Speed::Max, 0, t0);
        assert_eq!(pacer.delay_until(1_000_000, t0), Some(Duration::ZERO));
        assert_eq!("max".parse::<Speed>(), Ok(Speed::Max));
        assert_eq!("10x".parse::<Speed>(), Ok(Speed::Factor(10.0)));
        assert!("0".parse::<Speed>().is_err());
        assert!("fast".parse::<Speed>().is_err());
    }
}
