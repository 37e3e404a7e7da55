//! Raid detection per chat: a rolling join window against an EWMA baseline, a near-identical-text
//! trigger for fresh accounts, a raid lifecycle (detected → contained → cooling → ended) and the
//! chat's containment mode. Pure and deterministic: every call carries the event's time.

mod containment;
#[cfg(test)]
mod tests;

pub use containment::{
    Containment, ContainmentChange, ContainmentError, ContainmentState, EngagedBy, SLOW_MODE_STEPS,
};

use crate::clusters::text;
use crate::model::{ChatId, Event, Timestamp, UserId};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet, VecDeque};

/// Raid detection and containment settings (`[raid]` in the config).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RaidConfig {
    /// Joins within `window_secs` that start a raid in a chat with a quiet baseline.
    pub join_threshold: u32,
    pub window_secs: i64,
    /// A raid also needs `baseline_factor` × the chat's usual joins per window.
    pub baseline_factor: f64,
    /// How many past windows the baseline remembers (EWMA time constant).
    pub baseline_windows: u32,
    /// This many joins within `burst_window_secs` also start a raid (0 = off): a raid is seen in
    /// its first seconds instead of once the long window fills. A busy chat's baseline raises it
    /// to half its long-window trigger level.
    pub burst_joins: u32,
    pub burst_window_secs: i64,
    /// This many recent joiners posting near-identical text within `text_window_secs` start a raid.
    pub text_trigger_users: u32,
    pub text_window_secs: i64,
    /// Texts shorter than this many words never trigger (greetings look alike).
    pub text_min_words: usize,
    /// How long after joining a user counts as new for the text trigger.
    pub new_member_secs: i64,
    /// No raid-level activity for this long: the raid is cooling.
    pub cooling_after_secs: i64,
    /// Quiet this long while cooling: the raid ends and auto-engaged containment is released.
    pub quiet_period_secs: i64,
    /// Engage `engage` by itself when a raid starts; otherwise only propose it.
    pub auto_engage: bool,
    pub engage: Containment,
    /// Propose lockdown when joins per window reach this multiple of the trigger level (0 = never).
    pub lockdown_proposal_factor: f64,
    /// Join-rate sparkline: bucket width and number of buckets kept per chat.
    pub series_bucket_secs: i64,
    pub series_len: usize,
    /// Participants kept per raid record (the rest are still signalled).
    pub max_participants: usize,
}

impl Default for RaidConfig {
    fn default() -> Self {
        RaidConfig {
            join_threshold: 15,
            window_secs: 300,
            baseline_factor: 3.0,
            baseline_windows: 24,
            burst_joins: 5,
            burst_window_secs: 10,
            text_trigger_users: 5,
            text_window_secs: 120,
            text_min_words: 4,
            new_member_secs: 24 * 3600,
            cooling_after_secs: 120,
            quiet_period_secs: 900,
            auto_engage: true,
            engage: Containment::Bunker,
            lockdown_proposal_factor: 4.0,
            series_bucket_secs: 60,
            series_len: 120,
            max_participants: 100_000,
        }
    }
}

impl RaidConfig {
    /// Reject settings that would make detection meaningless, naming the field.
    pub fn validate(&self) -> Result<(), String> {
        let positive = [
            ("raid.join_threshold", i64::from(self.join_threshold)),
            ("raid.window_secs", self.window_secs),
            ("raid.baseline_windows", i64::from(self.baseline_windows)),
            (
                "raid.text_trigger_users",
                i64::from(self.text_trigger_users),
            ),
            ("raid.text_window_secs", self.text_window_secs),
            ("raid.series_bucket_secs", self.series_bucket_secs),
            ("raid.burst_window_secs", self.burst_window_secs),
        ];
        for (field, value) in positive {
            if value <= 0 {
                return Err(format!("{field} must be positive, got {value}"));
            }
        }
        if self.burst_window_secs > self.window_secs {
            return Err(format!(
                "raid.burst_window_secs must not exceed raid.window_secs ({}), got {}",
                self.window_secs, self.burst_window_secs
            ));
        }
        if !(self.baseline_factor.is_finite() && self.baseline_factor >= 0.0) {
            return Err(format!(
                "raid.baseline_factor must be a non-negative number, got {}",
                self.baseline_factor
            ));
        }
        if let Containment::Slow { seconds } = self.engage {
            Containment::slow(seconds).map_err(|e| format!("raid.engage: {e}"))?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RaidPhase {
    Detected,
    Contained,
    Cooling,
    Ended,
}

/// Why a raid was declared.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum RaidTrigger {
    JoinRate {
        joins: u32,
        window_secs: i64,
        baseline: f64,
    },
    SameText {
        users: u32,
        window_secs: i64,
    },
}

/// A raid record, as the console shows it and the store keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Raid {
    pub id: u64,
    pub chat: ChatId,
    pub phase: RaidPhase,
    pub trigger: RaidTrigger,
    /// First join (or post) of the burst that triggered it.
    pub started_at: Timestamp,
    pub detected_at: Timestamp,
    pub contained_at: Option<Timestamp>,
    pub cooling_at: Option<Timestamp>,
    pub ended_at: Option<Timestamp>,
    /// Joins per window needed to start it.
    pub trigger_level: u32,
    pub peak_joins_per_window: u32,
    /// Accounts that joined (or posted the raid text) during the raid, in order.
    pub participants: Vec<UserId>,
}

impl Raid {
    pub fn is_active(&self) -> bool {
        self.phase != RaidPhase::Ended
    }
}

/// What the detector tells the caller.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "signal")]
pub enum RaidSignal {
    /// Alert the console and the admin chat.
    RaidStarted {
        chat: ChatId,
        raid: Raid,
    },
    /// The raid grew (peak doubled) or flared up again while cooling.
    RaidEscalated {
        chat: ChatId,
        raid_id: u64,
        joins_in_window: u32,
        reason: String,
    },
    RaidCooling {
        chat: ChatId,
        raid_id: u64,
    },
    RaidEnded {
        chat: ChatId,
        raid: Raid,
    },
    /// Already applied to the detector's containment state: execute `actions` and audit.
    ContainmentChanged(ContainmentChange),
    /// Needs a moderator: apply with [`RaidDetector::set_containment`] if accepted.
    ContainmentProposal {
        chat: ChatId,
        from: Containment,
        to: Containment,
        reason: String,
    },
    /// Mute until reviewed; remove if blacklisted or a known spammer.
    JoinerDuringRaid {
        chat: ChatId,
        user: UserId,
        raid_id: u64,
    },
}

/// Join counts per bucket for a sparkline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JoinRateSeries {
    pub bucket_secs: i64,
    /// Start of the first bucket in `counts`.
    pub first_bucket_start: Timestamp,
    pub counts: Vec<u64>,
}

#[derive(Debug)]
struct ActiveRaid {
    raid: Raid,
    members: HashSet<UserId>,
    /// Last time activity was at raid level (joins above the calm level, or raid text).
    last_hot: Timestamp,
    reported_peak: u32,
    lockdown_proposed: bool,
}

#[derive(Debug, Default)]
struct ChatState {
    now: Timestamp,
    joins: VecDeque<(Timestamp, UserId)>,
    baseline: f64,
    baseline_bucket: Option<i64>,
    baseline_bucket_joins: u32,
    baseline_bucket_raided: bool,
    series: VecDeque<u64>,
    series_last_bucket: Option<i64>,
    joined_at: HashMap<UserId, Timestamp>,
    join_order: VecDeque<(Timestamp, UserId)>,
    text_buckets: HashMap<u64, VecDeque<(Timestamp, UserId)>>,
    raid: Option<ActiveRaid>,
    last_raid: Option<Raid>,
    containment: ContainmentState,
}

/// Per-chat raid detector and containment state.
#[derive(Debug, Default)]
pub struct RaidDetector {
    config: RaidConfig,
    chats: HashMap<ChatId, ChatState>,
    next_raid_id: u64,
}

impl RaidDetector {
    pub fn new(config: RaidConfig) -> Self {
        RaidDetector {
            config,
            chats: HashMap::new(),
            next_raid_id: 1,
        }
    }

    pub fn config(&self) -> &RaidConfig {
        &self.config
    }

    /// Continue raid numbering after the highest id in the store.
    pub fn set_next_raid_id(&mut self, id: u64) {
        self.next_raid_id = id.max(1);
    }

    /// Seed a chat's usual joins per window (e.g. from the store) so a busy chat is not judged cold.
    pub fn set_baseline(&mut self, chat: ChatId, joins_per_window: f64) {
        self.chats.entry(chat).or_default().baseline = joins_per_window.max(0.0);
    }

    /// Restore a chat's resting containment mode (e.g. slow mode found on the chat at startup).
    pub fn set_resting_containment(&mut self, chat: ChatId, mode: Containment, now: Timestamp) {
        self.chats.entry(chat).or_default().containment = ContainmentState::resting(mode, now);
    }

    pub fn baseline(&self, chat: ChatId) -> f64 {
        self.chats.get(&chat).map_or(0.0, |c| c.baseline)
    }

    /// Joins per window that start a raid in this chat right now.
    pub fn trigger_level(&self, chat: ChatId) -> u32 {
        trigger_level(&self.config, self.baseline(chat))
    }

    pub fn on_event(&mut self, event: &Event) -> Vec<RaidSignal> {
        let mut out = Vec::new();
        match event {
            Event::Joined {
                chat_id,
                user,
                date,
                ..
            } if !user.is_bot => {
                self.on_join(*chat_id, user.id, *date, &mut out);
            }
            Event::Message(m) => {
                self.on_message(m.chat_id, m.from.id, &m.text, m.date, &mut out);
            }
            _ => {}
        }
        let chat = event.chat_id();
        if let Some(state) = self.chats.get_mut(&chat) {
            let now = state.now;
            advance(&self.config, chat, state, now, &mut out);
        }
        out
    }

    /// Time-based transitions: cooling, end, auto-release. Call every few seconds.
    pub fn tick(&mut self, now: Timestamp) -> Vec<RaidSignal> {
        let mut out = Vec::new();
        let mut chats: Vec<ChatId> = self
            .chats
            .iter()
            .filter(|(_, s)| s.raid.is_some())
            .map(|(c, _)| *c)
            .collect();
        chats.sort_unstable();
        for chat in chats {
            if let Some(state) = self.chats.get_mut(&chat) {
                state.now = state.now.max(now);
                let now = state.now;
                advance(&self.config, chat, state, now, &mut out);
            }
        }
        out
    }

    /// The raid in progress (any phase but ended).
    pub fn active_raid(&self, chat: ChatId) -> Option<&Raid> {
        self.chats.get(&chat)?.raid.as_ref().map(|r| &r.raid)
    }

    /// The most recent ended raid.
    pub fn last_ended_raid(&self, chat: ChatId) -> Option<&Raid> {
        self.chats.get(&chat)?.last_raid.as_ref()
    }

    /// For the `raid_active` rule condition. Also false once the quiet period has passed at `now`,
    /// even if `tick` has not run yet.
    pub fn is_raid_active(&self, chat: ChatId, now: Timestamp) -> bool {
        self.chats
            .get(&chat)
            .and_then(|c| c.raid.as_ref())
            .is_some_and(|r| {
                now - r.last_hot < self.config.cooling_after_secs + self.config.quiet_period_secs
            })
    }

    /// Seconds until an active raid ends and auto-engaged containment is released, if it stays quiet.
    pub fn release_countdown(&self, chat: ChatId, now: Timestamp) -> Option<u64> {
        let raid = self.chats.get(&chat)?.raid.as_ref()?;
        let ends = raid.last_hot + self.config.cooling_after_secs + self.config.quiet_period_secs;
        Some((ends - now).max(0) as u64)
    }

    pub fn join_rate_series(&self, chat: ChatId) -> JoinRateSeries {
        let bucket_secs = self.config.series_bucket_secs;
        match self.chats.get(&chat) {
            Some(state) if state.series_last_bucket.is_some() => {
                let last = state.series_last_bucket.unwrap_or_default();
                let first = last + 1 - state.series.len() as i64;
                JoinRateSeries {
                    bucket_secs,
                    first_bucket_start: first * bucket_secs,
                    counts: state.series.iter().copied().collect(),
                }
            }
            _ => JoinRateSeries {
                bucket_secs,
                first_bucket_start: 0,
                counts: Vec::new(),
            },
        }
    }

    pub fn containment(&self, chat: ChatId) -> Containment {
        self.chats
            .get(&chat)
            .map_or(Containment::Normal, |c| c.containment.mode)
    }

    pub fn containment_state(&self, chat: ChatId) -> Option<&ContainmentState> {
        self.chats.get(&chat).map(|c| &c.containment)
    }

    /// A moderator sets the mode (console or admin chat). Emergency modes count as containing
    /// an active raid; they are released by hand, or by [`Self::release_containment`].
    pub fn set_containment(
        &mut self,
        chat: ChatId,
        to: Containment,
        now: Timestamp,
        reason: impl Into<String>,
    ) -> Option<ContainmentChange> {
        let state = self.chats.entry(chat).or_default();
        state.now = state.now.max(now);
        let change = state.containment.set(chat, to, now, reason);
        if to.is_emergency() {
            mark_contained(state, now);
        }
        change
    }

    /// Back to the remembered resting mode. `None` when no emergency mode is engaged.
    pub fn release_containment(
        &mut self,
        chat: ChatId,
        now: Timestamp,
        reason: impl Into<String>,
    ) -> Option<ContainmentChange> {
        let state = self.chats.get_mut(&chat)?;
        state.containment.release(chat, now, reason)
    }

    fn on_join(&mut self, chat: ChatId, user: UserId, date: Timestamp, out: &mut Vec<RaidSignal>) {
        let config = &self.config;
        let state = self.chats.entry(chat).or_default();
        // Late events count as now: windows only move forward.
        let now = state.now.max(date);
        state.now = now;
        roll_baseline(config, state, now);
        record_series(config, state, now);
        state.baseline_bucket_joins += 1;
        state.joins.push_back((now, user));
        evict_joins(config, state, now);
        state.joined_at.insert(user, now);
        state.join_order.push_back((now, user));
        evict_joiners(config, state, now);

        let count = state.joins.len() as u32;
        if let Some(active) = state.raid.as_mut() {
            state.baseline_bucket_raided = true;
            if count >= active.raid.trigger_level.div_ceil(2) {
                active.last_hot = now;
            }
            active.raid.peak_joins_per_window = active.raid.peak_joins_per_window.max(count);
            add_participant(config, active, user);
            out.push(RaidSignal::JoinerDuringRaid {
                chat,
                user,
                raid_id: active.raid.id,
            });
            if active.raid.phase == RaidPhase::Cooling && count >= active.raid.trigger_level {
                active.raid.phase = if active.raid.contained_at.is_some() {
                    RaidPhase::Contained
                } else {
                    RaidPhase::Detected
                };
                active.raid.cooling_at = None;
                out.push(RaidSignal::RaidEscalated {
                    chat,
                    raid_id: active.raid.id,
                    joins_in_window: count,
                    reason: format!("flared up again: {count} joins in the window"),
                });
            } else if count >= active.reported_peak.saturating_mul(2) {
                active.reported_peak = count;
                out.push(RaidSignal::RaidEscalated {
                    chat,
                    raid_id: active.raid.id,
                    joins_in_window: count,
                    reason: format!("peak doubled: {count} joins in the window"),
                });
            }
            let lockdown_at =
                config.lockdown_proposal_factor * f64::from(active.raid.trigger_level);
            if config.lockdown_proposal_factor > 0.0
                && !active.lockdown_proposed
                && f64::from(count) >= lockdown_at
                && state.containment.mode != Containment::Lockdown
            {
                active.lockdown_proposed = true;
                out.push(RaidSignal::ContainmentProposal {
                    chat,
                    from: state.containment.mode,
                    to: Containment::Lockdown,
                    reason: format!("raid #{}: {count} joins in the window", active.raid.id),
                });
            }
            return;
        }

        let level = trigger_level(config, state.baseline);
        let burst_from = now - config.burst_window_secs;
        let burst = state.joins.iter().filter(|(t, _)| *t > burst_from).count() as u32;
        // Half the baseline's share of the long-window level: a busy chat needs a bigger burst.
        let from_baseline = (config.baseline_factor * state.baseline / 2.0).ceil();
        let burst_level = config
            .burst_joins
            .max(from_baseline.clamp(0.0, f64::from(u32::MAX)) as u32);
        let burst_hit = config.burst_joins > 0 && burst >= burst_level;
        if count >= level || burst_hit {
            // A burst names only its own joiners: earlier ones in the long window may be regulars.
            let (joins, window_secs, since) = if count >= level {
                (count, config.window_secs, Timestamp::MIN)
            } else {
                (burst, config.burst_window_secs, burst_from)
            };
            let recent = state.joins.iter().filter(|(t, _)| *t > since);
            let participants: Vec<UserId> = recent.clone().map(|(_, u)| *u).collect();
            let started_at = recent.map(|(t, _)| *t).next().unwrap_or(now);
            let trigger = RaidTrigger::JoinRate {
                joins,
                window_secs,
                baseline: state.baseline,
            };
            let id = self.next_raid_id;
            self.next_raid_id += 1;
            start_raid(
                config,
                chat,
                state,
                id,
                trigger,
                level,
                started_at,
                now,
                participants,
                out,
            );
        }
    }

    fn on_message(
        &mut self,
        chat: ChatId,
        user: UserId,
        text_body: &str,
        date: Timestamp,
        out: &mut Vec<RaidSignal>,
    ) {
        let config = &self.config;
        let Some(state) = self.chats.get_mut(&chat) else {
            return;
        };
        let now = state.now.max(date);
        state.now = now;
        evict_joiners(config, state, now);
        if !state.joined_at.contains_key(&user) {
            return;
        }
        let normalised = text::normalise(text_body);
        if text::word_count(&normalised) < config.text_min_words {
            return;
        }
        let Some(sig) = text::signature(&normalised) else {
            return;
        };
        let mut crowd: Option<Vec<(Timestamp, UserId)>> = None;
        for key in text::band_keys(&sig) {
            let bucket = state.text_buckets.entry(key).or_default();
            while bucket
                .front()
                .is_some_and(|(t, _)| *t <= now - config.text_window_secs)
            {
                bucket.pop_front();
            }
            if !bucket.iter().any(|(_, u)| *u == user) {
                bucket.push_back((now, user));
                if bucket.len() > 4096 {
                    bucket.pop_front();
                }
            }
            if bucket.len() >= config.text_trigger_users as usize
                && crowd.as_ref().is_none_or(|c| c.len() < bucket.len())
            {
                crowd = Some(bucket.iter().copied().collect());
            }
        }
        if state.text_buckets.len() > 100_000 {
            state.text_buckets.retain(|_, b| {
                b.back()
                    .is_some_and(|(t, _)| *t > now - config.text_window_secs)
            });
        }
        let Some(crowd) = crowd else {
            return;
        };
        if let Some(active) = state.raid.as_mut() {
            active.last_hot = now;
            for (_, poster) in crowd {
                if add_participant(config, active, poster) {
                    out.push(RaidSignal::JoinerDuringRaid {
                        chat,
                        user: poster,
                        raid_id: active.raid.id,
                    });
                }
            }
            return;
        }
        let started_at = crowd.first().map_or(now, |(t, _)| *t);
        let trigger = RaidTrigger::SameText {
            users: crowd.len() as u32,
            window_secs: config.text_window_secs,
        };
        let level = trigger_level(config, state.baseline);
        let participants = crowd.into_iter().map(|(_, u)| u).collect();
        let id = self.next_raid_id;
        self.next_raid_id += 1;
        start_raid(
            config,
            chat,
            state,
            id,
            trigger,
            level,
            started_at,
            now,
            participants,
            out,
        );
    }
}

fn trigger_level(config: &RaidConfig, baseline: f64) -> u32 {
    let scaled = (config.baseline_factor * baseline).ceil();
    let scaled = if scaled.is_finite() && scaled > 0.0 {
        scaled.min(f64::from(u32::MAX)) as u32
    } else {
        0
    };
    config.join_threshold.max(scaled)
}

/// Close finished baseline windows into the EWMA; windows during a raid are left out.
fn roll_baseline(config: &RaidConfig, state: &mut ChatState, now: Timestamp) {
    let bucket = now.div_euclid(config.window_secs);
    let Some(current) = state.baseline_bucket else {
        state.baseline_bucket = Some(bucket);
        return;
    };
    if bucket <= current {
        return;
    }
    let alpha = 1.0 / f64::from(config.baseline_windows.max(1));
    if !state.baseline_bucket_raided {
        state.baseline += alpha * (f64::from(state.baseline_bucket_joins) - state.baseline);
    }
    let empty_windows = (bucket - current - 1).min(10_000) as i32;
    if empty_windows > 0 && state.raid.is_none() {
        state.baseline *= (1.0 - alpha).powi(empty_windows);
    }
    state.baseline_bucket = Some(bucket);
    state.baseline_bucket_joins = 0;
    state.baseline_bucket_raided = state.raid.is_some();
}

fn record_series(config: &RaidConfig, state: &mut ChatState, now: Timestamp) {
    let bucket = now.div_euclid(config.series_bucket_secs);
    let len = config.series_len.max(1);
    match state.series_last_bucket {
        Some(last) if bucket <= last => {}
        Some(last) => {
            let gap = ((bucket - last) as usize).min(len);
            for _ in 0..gap {
                state.series.push_back(0);
            }
            state.series_last_bucket = Some(bucket);
        }
        None => {
            state.series.push_back(0);
            state.series_last_bucket = Some(bucket);
        }
    }
    while state.series.len() > len {
        state.series.pop_front();
    }
    if let Some(last) = state.series.back_mut() {
        *last += 1;
    }
}

fn evict_joins(config: &RaidConfig, state: &mut ChatState, now: Timestamp) {
    while state
        .joins
        .front()
        .is_some_and(|(t, _)| *t <= now - config.window_secs)
    {
        state.joins.pop_front();
    }
}

fn evict_joiners(config: &RaidConfig, state: &mut ChatState, now: Timestamp) {
    while let Some(&(t, user)) = state.join_order.front() {
        if t > now - config.new_member_secs {
            break;
        }
        state.join_order.pop_front();
        if state.joined_at.get(&user) == Some(&t) {
            state.joined_at.remove(&user);
        }
    }
}

fn add_participant(config: &RaidConfig, active: &mut ActiveRaid, user: UserId) -> bool {
    if !active.members.insert(user) {
        return false;
    }
    if active.raid.participants.len() < config.max_participants {
        active.raid.participants.push(user);
    }
    true
}

fn mark_contained(state: &mut ChatState, now: Timestamp) {
    if let Some(active) = state.raid.as_mut()
        && active.raid.contained_at.is_none()
    {
        active.raid.contained_at = Some(now);
        if active.raid.phase == RaidPhase::Detected {
            active.raid.phase = RaidPhase::Contained;
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn start_raid(
    config: &RaidConfig,
    chat: ChatId,
    state: &mut ChatState,
    id: u64,
    trigger: RaidTrigger,
    trigger_level: u32,
    started_at: Timestamp,
    now: Timestamp,
    participants: Vec<UserId>,
    out: &mut Vec<RaidSignal>,
) {
    let joins = state.joins.len() as u32;
    let mut active = ActiveRaid {
        raid: Raid {
            id,
            chat,
            phase: RaidPhase::Detected,
            trigger: trigger.clone(),
            started_at,
            detected_at: now,
            contained_at: None,
            cooling_at: None,
            ended_at: None,
            trigger_level,
            peak_joins_per_window: joins,
            participants: Vec::new(),
        },
        members: HashSet::new(),
        last_hot: now,
        reported_peak: joins.max(trigger_level),
        lockdown_proposed: false,
    };
    for user in &participants {
        add_participant(config, &mut active, *user);
    }
    state.baseline_bucket_raided = true;
    tracing::warn!(chat, raid_id = id, ?trigger, "raid detected");
    out.push(RaidSignal::RaidStarted {
        chat,
        raid: active.raid.clone(),
    });
    for user in active.raid.participants.iter() {
        out.push(RaidSignal::JoinerDuringRaid {
            chat,
            user: *user,
            raid_id: id,
        });
    }
    let reason = format!("raid #{id} detected");
    let current = state.containment.mode;
    state.raid = Some(active);
    if current.severity() >= config.engage.severity() {
        mark_contained(state, now);
    } else if config.auto_engage {
        if let Some(change) = state.containment.engage(
            chat,
            config.engage,
            EngagedBy::Raid { raid_id: id },
            now,
            reason,
        ) {
            out.push(RaidSignal::ContainmentChanged(change));
        }
        mark_contained(state, now);
    } else {
        out.push(RaidSignal::ContainmentProposal {
            chat,
            from: current,
            to: config.engage,
            reason,
        });
    }
}

/// Cooling and ending by time; auto-release at the end.
fn advance(
    config: &RaidConfig,
    chat: ChatId,
    state: &mut ChatState,
    now: Timestamp,
    out: &mut Vec<RaidSignal>,
) {
    evict_joins(config, state, now);
    let Some(active) = state.raid.as_mut() else {
        return;
    };
    let quiet_for = now - active.last_hot;
    if matches!(
        active.raid.phase,
        RaidPhase::Detected | RaidPhase::Contained
    ) && quiet_for >= config.cooling_after_secs
    {
        active.raid.phase = RaidPhase::Cooling;
        active.raid.cooling_at = Some(now);
        out.push(RaidSignal::RaidCooling {
            chat,
            raid_id: active.raid.id,
        });
    }
    if active.raid.phase != RaidPhase::Cooling
        || quiet_for < config.cooling_after_secs + config.quiet_period_secs
    {
        return;
    }
    let Some(mut active) = state.raid.take() else {
        return;
    };
    active.raid.phase = RaidPhase::Ended;
    active.raid.ended_at = Some(now);
    let id = active.raid.id;
    tracing::info!(chat, raid_id = id, "raid ended");
    out.push(RaidSignal::RaidEnded {
        chat,
        raid: active.raid.clone(),
    });
    state.last_raid = Some(active.raid);
    let reason = format!("raid #{id} ended: quiet for {quiet_for} s");
    match state.containment.engaged_by {
        Some(EngagedBy::Raid { raid_id }) if raid_id == id => {
            if let Some(change) = state.containment.release(chat, now, reason) {
                out.push(RaidSignal::ContainmentChanged(change));
            }
        }
        Some(_) => out.push(RaidSignal::ContainmentProposal {
            chat,
            from: state.containment.mode,
            to: state.containment.restore_to,
            reason,
        }),
        None => {}
    }
}
