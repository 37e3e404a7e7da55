//! Per user-and-chat windows (first messages, repetition, velocity, floods) and cross-user waves of
//! the same text. Time is the messages' own dates, never the wall clock.

use super::config::EngineConfig;
use super::{Hit, hit};
use crate::model::{ChatId, Timestamp, UserId};
use std::collections::HashMap;

/// Recent messages kept per user and chat; enough for the per-minute limits.
const RECENT: usize = 16;

#[derive(Debug, Clone, Copy, Default)]
struct Recent {
    date: Timestamp,
    text_hash: u32,
    short: bool,
}

#[derive(Debug, Clone)]
pub struct UserState {
    /// Messages seen from this user in this chat (edits not counted).
    pub seen: u32,
    last: Timestamp,
    hour_start: Timestamp,
    hour_count: u32,
    recent: [Recent; RECENT],
    next: u8,
    filled: u8,
}

/// A new message as the state sees it.
#[derive(Debug, Clone, Copy)]
pub struct Arrival {
    pub chat: ChatId,
    pub user: UserId,
    pub date: Timestamp,
    /// Hash of the normalised text and its length in characters.
    pub text_hash: u64,
    pub text_chars: usize,
    /// The caller knows the sender as established in the chat (see `Engine::check_member`).
    pub established: bool,
}

#[derive(Debug, Clone)]
struct Wave {
    last: Timestamp,
    users: [UserId; 4],
    distinct: u32,
}

#[derive(Debug, Default)]
pub struct State {
    users: HashMap<(ChatId, UserId), UserState>,
    waves: HashMap<u64, Wave>,
    inserts: u64,
}

impl State {
    pub fn user_count(&self) -> usize {
        self.users.len()
    }

    /// Bytes held by the state tables (capacity, not just length): for the memory target.
    pub fn approx_bytes(&self) -> usize {
        let user = std::mem::size_of::<((ChatId, UserId), UserState)>() + 1;
        let wave = std::mem::size_of::<(u64, Wave)>() + 1;
        self.users.capacity() * user + self.waves.capacity() * wave
    }

    pub fn seen(&self, chat: ChatId, user: UserId) -> u32 {
        self.users.get(&(chat, user)).map_or(0, |u| u.seen)
    }

    /// Messages from this user in this chat during the minute before `now` (at most `RECENT`).
    pub fn last_minute(&self, chat: ChatId, user: UserId, now: Timestamp) -> u32 {
        self.users.get(&(chat, user)).map_or(0, |u| {
            u.recent[..usize::from(u.filled)]
                .iter()
                .filter(|r| now - r.date < 60 && r.date <= now)
                .count() as u32
        })
    }

    /// Records a new message and pushes behaviour hits. Returns how many messages the user has
    /// sent in this chat, this one included.
    pub fn record(&mut self, m: Arrival, cfg: &EngineConfig, hits: &mut Vec<Hit>) -> u32 {
        let Arrival {
            chat,
            user,
            date,
            text_hash,
            text_chars,
            established,
        } = m;
        self.inserts += 1;
        if self.inserts.is_multiple_of(4096) {
            self.prune(date, cfg);
        }
        let comparable = text_chars >= cfg.min_duplicate_len as usize;
        let u = self.users.entry((chat, user)).or_insert_with(|| UserState {
            seen: 0,
            last: date,
            hour_start: date,
            hour_count: 0,
            recent: [Recent::default(); RECENT],
            next: 0,
            filled: 0,
        });
        u.seen = u.seen.saturating_add(1);
        u.last = u.last.max(date);
        if date - u.hour_start >= 3600 {
            u.hour_start = date;
            u.hour_count = 0;
        }
        u.hour_count += 1;

        let short_hash = text_hash as u32;
        let (mut last_minute, mut short_minute, mut repeats) = (0u32, 0u32, 0u32);
        for r in &u.recent[..u.filled as usize] {
            let age = date - r.date;
            if (0..60).contains(&age) {
                last_minute += 1;
                short_minute += r.short as u32;
            }
            if comparable && r.text_hash == short_hash && age < cfg.repetition_window_secs {
                repeats += 1;
            }
        }
        let short = text_chars <= cfg.short_len as usize;
        u.recent[u.next as usize] = Recent {
            date,
            text_hash: short_hash,
            short,
        };
        u.next = ((u.next as usize + 1) % RECENT) as u8;
        u.filled = (u.filled + 1).min(RECENT as u8);
        last_minute += 1;
        short_minute += short as u32;

        let w = &cfg.weights;
        if repeats > 0 {
            hits.push(hit(
                "repetition",
                w.repetition * (1.0 + 0.5 * (repeats - 1).min(2) as f32),
                format!(
                    "sent the same text {} times within {} min",
                    repeats + 1,
                    cfg.repetition_window_secs / 60
                ),
            ));
        }
        if last_minute > cfg.max_per_minute {
            hits.push(hit(
                "velocity",
                w.velocity,
                format!(
                    "{last_minute} messages in the last minute (limit {})",
                    cfg.max_per_minute
                ),
            ));
        } else if u.hour_count > cfg.max_per_hour {
            hits.push(hit(
                "velocity",
                w.velocity,
                format!(
                    "{} messages this hour (limit {})",
                    u.hour_count, cfg.max_per_hour
                ),
            ));
        }
        if short_minute >= cfg.flood_short_messages {
            hits.push(hit(
                "flood",
                w.flood,
                format!("{short_minute} short messages in a minute"),
            ));
        }
        let seen = u.seen;

        // Spam waves come from accounts new to the chat; members past their first messages who
        // happen to say the same stock phrase are conversation, not a wave.
        if comparable && seen <= cfg.first_messages && !established {
            let wave = self.waves.entry(text_hash).or_insert(Wave {
                last: date,
                users: [0; 4],
                distinct: 0,
            });
            if date - wave.last > cfg.wave_window_secs {
                wave.users = [0; 4];
                wave.distinct = 0;
            }
            wave.last = wave.last.max(date);
            if !wave.users.contains(&user) {
                wave.distinct += 1;
                let slot = (wave.distinct as usize - 1) % wave.users.len();
                wave.users[slot] = user;
            }
            if wave.distinct >= cfg.wave_min_users {
                hits.push(hit(
                    "duplicate",
                    cfg.weights.duplicate,
                    format!(
                        "same text from {} different users within {} min (a spam wave)",
                        wave.distinct,
                        cfg.wave_window_secs / 60
                    ),
                ));
            }
        }
        seen
    }

    /// Forgets idle users and finished waves.
    pub fn prune(&mut self, now: Timestamp, cfg: &EngineConfig) {
        self.users.retain(|_, u| now - u.last <= cfg.state_ttl_secs);
        self.waves
            .retain(|_, w| now - w.last <= cfg.wave_window_secs);
    }
}
