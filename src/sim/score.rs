//! Grades what the pipeline decided against the simulator's ground truth.

use crate::action::{Action, ActionKind};
use crate::model::{ChatId, Event, MessageId, Timestamp, UserId};
use crate::policy::captcha;
use crate::sim::truth::{Role, Truth};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt;

#[derive(Debug, Clone)]
struct MessageTruth {
    spam: bool,
    user: Option<UserId>,
    role: Role,
    /// The start of the text (of the spam version, for spam edited in), for the report's examples.
    text: String,
}

/// Examples of each kind of mistake a report shows, and how much of each text.
const EXAMPLES: usize = 3;
const EXAMPLE_CHARS: usize = 100;

#[derive(Debug, Clone)]
struct RaidTrack {
    chat_id: ChatId,
    start: Timestamp,
    accounts: BTreeSet<UserId>,
}

/// Feed it every event with its truth ([`Scorecard::observe`]) and every decision the pipeline made
/// ([`Scorecard::flag`], [`Scorecard::action`], [`Scorecard::raid_alert`], [`Scorecard::containment`],
/// [`Scorecard::clusters`]); then [`Scorecard::report`].
#[derive(Debug, Clone, Default)]
pub struct Scorecard {
    scenario: String,
    seed: u64,
    events_seen: u64,
    messages_seen: u64,
    edits_seen: u64,
    messages: HashMap<(ChatId, MessageId), MessageTruth>,
    flagged: HashSet<(ChatId, MessageId)>,
    roles: HashMap<UserId, Role>,
    rings: BTreeMap<u32, BTreeSet<UserId>>,
    raids: BTreeMap<u32, RaidTrack>,
    alerts: Vec<(ChatId, Timestamp)>,
    containments: Vec<(ChatId, Timestamp)>,
    clusters: Vec<Vec<UserId>>,
    actions_by_kind: BTreeMap<String, u64>,
    legit_acted_on: BTreeMap<UserId, Role>,
}

/// Spam detection quality over messages (an edited message counts once, as spam if any version was).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SpamScore {
    pub spam_messages: u64,
    pub ham_messages: u64,
    pub flagged: u64,
    pub true_positives: u64,
    pub false_positives: u64,
    pub false_negatives: u64,
    /// `None` when nothing was flagged.
    pub precision: Option<f64>,
    /// `None` when there was no spam.
    pub recall: Option<f64>,
    pub false_positives_by_role: BTreeMap<String, u64>,
    pub missed_by_role: BTreeMap<String, u64>,
    /// The first few missed spam and wrongly flagged ham texts: what to look at next.
    #[serde(default)]
    pub missed_examples: Vec<String>,
    #[serde(default)]
    pub false_positive_examples: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RaidScore {
    pub raid_id: u32,
    pub chat_id: ChatId,
    pub accounts: usize,
    /// First raider's join.
    pub start: Timestamp,
    /// Seconds from start to the first raid alert in that chat; `None` = never alerted.
    pub alert_latency_s: Option<i64>,
    /// Seconds from start to bunker or lockdown in that chat; `None` = never contained.
    pub containment_latency_s: Option<i64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ClusterScore {
    pub clusters_found: usize,
    pub ring_members: usize,
    /// Distinct accounts placed in any cluster.
    pub clustered_accounts: usize,
    pub ring_members_clustered: usize,
    /// Share of clustered accounts that are ring members; `None` when no clusters.
    pub precision: Option<f64>,
    /// Share of ring members that ended up in a cluster; `None` when there was no ring.
    pub recall: Option<f64>,
    /// Legitimate members put into a cluster.
    pub legit_clustered: usize,
}

/// The graded result; renders as text (`Display`) and JSON (serde).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoreReport {
    pub scenario: String,
    pub seed: u64,
    pub events_seen: u64,
    pub messages_seen: u64,
    pub edits_seen: u64,
    pub spam: SpamScore,
    pub raids: Vec<RaidScore>,
    /// Alerts in a chat with no raid under way (within an hour of a raid's start).
    pub false_raid_alerts: usize,
    pub clusters: ClusterScore,
    pub actions_by_kind: BTreeMap<String, u64>,
    /// Legitimate members (regulars, newcomers, lurkers, admins) hit by a punitive action.
    pub legit_members_acted_on: usize,
    pub legit_acted_on_by_role: BTreeMap<String, u64>,
}

/// How long after a raid's start an alert still counts as being about it.
const RAID_ATTRIBUTION_S: i64 = 3600;

fn punitive(kind: &ActionKind) -> bool {
    matches!(
        kind,
        ActionKind::Delete
            | ActionKind::DeleteSilently
            | ActionKind::Purge
            | ActionKind::Warn
            | ActionKind::Strike
            | ActionKind::Mute { .. }
            | ActionKind::Restrict
            | ActionKind::Kick
            | ActionKind::Ban { .. }
            | ActionKind::LabelSpam
            | ActionKind::ShadowMute
            | ActionKind::Throttle { .. }
    )
}

fn ratio(num: u64, den: u64) -> Option<f64> {
    (den > 0).then(|| num as f64 / den as f64)
}

impl Scorecard {
    pub fn new(scenario: &str, seed: u64) -> Scorecard {
        Scorecard {
            scenario: scenario.to_string(),
            seed,
            ..Scorecard::default()
        }
    }

    /// Every event the pipeline saw, with the simulator's truth.
    pub fn observe(&mut self, event: &Event, truth: &Truth) {
        self.events_seen += 1;
        if let Some(user) = truth.user_id {
            self.roles.insert(user, truth.role);
            if let Some(ring) = truth.ring_id {
                self.rings.entry(ring).or_default().insert(user);
            }
        }
        match event {
            Event::Message(m) | Event::Edited(m) => {
                if matches!(event, Event::Edited(_)) {
                    self.edits_seen += 1;
                } else {
                    self.messages_seen += 1;
                }
                let entry = self
                    .messages
                    .entry((m.chat_id, m.id))
                    .or_insert(MessageTruth {
                        spam: false,
                        user: truth.user_id,
                        role: truth.role,
                        text: String::new(),
                    });
                if truth.spam || !entry.spam {
                    entry.text = m.text.chars().take(EXAMPLE_CHARS).collect();
                }
                entry.spam |= truth.spam;
            }
            Event::Joined {
                chat_id,
                date,
                user,
                ..
            } => {
                if let Some(raid) = truth.raid_id {
                    let track = self.raids.entry(raid).or_insert(RaidTrack {
                        chat_id: *chat_id,
                        start: *date,
                        accounts: BTreeSet::new(),
                    });
                    track.start = track.start.min(*date);
                    track.accounts.insert(user.id);
                }
            }
            _ => {}
        }
    }

    /// The pipeline judged this message spam (flagged, deleted or put up for review).
    pub fn flag(&mut self, chat_id: ChatId, message_id: MessageId) {
        self.flagged.insert((chat_id, message_id));
    }

    pub fn raid_alert(&mut self, chat_id: ChatId, at: Timestamp) {
        self.alerts.push((chat_id, at));
    }

    /// Bunker or lockdown switched on.
    pub fn containment(&mut self, chat_id: ChatId, at: Timestamp) {
        self.containments.push((chat_id, at));
    }

    /// The clusters the detector currently reports (replaces earlier ones).
    pub fn clusters(&mut self, clusters: Vec<Vec<UserId>>) {
        self.clusters = clusters;
    }

    /// An action the pipeline decided (whether or not the gateway carried it out yet). Deletes flag
    /// their message, raid alerts and bunker/lockdown are timed, punitive actions on legitimate
    /// members are counted.
    pub fn action(&mut self, action: &Action, at: Timestamp) {
        *self
            .actions_by_kind
            .entry(action.kind.name().to_string())
            .or_default() += 1;
        match action.kind {
            ActionKind::RaidAlert => self.raid_alert(action.chat_id, at),
            ActionKind::BunkerOn | ActionKind::LockdownOn => self.containment(action.chat_id, at),
            _ => {}
        }
        if matches!(action.kind, ActionKind::Delete | ActionKind::DeleteSilently)
            && let Some(id) = action.message_id
        {
            self.flag(action.chat_id, id);
        }
        if punitive(&action.kind) && action.reason != captcha::HOLD_REASON {
            let user = action.user_id.or_else(|| {
                let id = action.message_id?;
                self.messages
                    .get(&(action.chat_id, id))
                    .and_then(|m| m.user)
            });
            if let Some(user) = user
                && let Some(role) = self.roles.get(&user)
                && role.is_legit()
            {
                self.legit_acted_on.insert(user, *role);
            }
        }
    }

    pub fn report(&self) -> ScoreReport {
        let mut spam = SpamScore::default();
        for (key, truth) in &self.messages {
            let flagged = self.flagged.contains(key);
            match (truth.spam, flagged) {
                (true, true) => spam.true_positives += 1,
                (true, false) => {
                    spam.false_negatives += 1;
                    *spam
                        .missed_by_role
                        .entry(truth.role.name().into())
                        .or_default() += 1;
                    if spam.missed_examples.len() < EXAMPLES {
                        spam.missed_examples.push(truth.text.clone());
                    }
                }
                (false, true) => {
                    spam.false_positives += 1;
                    *spam
                        .false_positives_by_role
                        .entry(truth.role.name().into())
                        .or_default() += 1;
                    if spam.false_positive_examples.len() < EXAMPLES {
                        spam.false_positive_examples.push(truth.text.clone());
                    }
                }
                (false, false) => {}
            }
            if truth.spam {
                spam.spam_messages += 1;
            } else {
                spam.ham_messages += 1;
            }
        }
        spam.flagged = spam.true_positives + spam.false_positives;
        spam.precision = ratio(spam.true_positives, spam.flagged);
        spam.recall = ratio(spam.true_positives, spam.spam_messages);

        let first_after = |events: &[(ChatId, Timestamp)], chat: ChatId, start: Timestamp| {
            events
                .iter()
                .filter(|(c, t)| *c == chat && *t >= start)
                .map(|(_, t)| t - start)
                .min()
        };
        let raids: Vec<RaidScore> = self
            .raids
            .iter()
            .map(|(id, track)| RaidScore {
                raid_id: *id,
                chat_id: track.chat_id,
                accounts: track.accounts.len(),
                start: track.start,
                alert_latency_s: first_after(&self.alerts, track.chat_id, track.start),
                containment_latency_s: first_after(&self.containments, track.chat_id, track.start),
            })
            .collect();
        let false_raid_alerts = self
            .alerts
            .iter()
            .filter(|(chat, at)| {
                !self.raids.values().any(|r| {
                    r.chat_id == *chat && (r.start..r.start + RAID_ATTRIBUTION_S).contains(at)
                })
            })
            .count();

        let ring_members: BTreeSet<UserId> = self.rings.values().flatten().copied().collect();
        let clustered: BTreeSet<UserId> = self
            .clusters
            .iter()
            .filter(|c| c.len() > 1)
            .flatten()
            .copied()
            .collect();
        let hits = clustered.intersection(&ring_members).count();
        let clusters = ClusterScore {
            clusters_found: self.clusters.iter().filter(|c| c.len() > 1).count(),
            ring_members: ring_members.len(),
            clustered_accounts: clustered.len(),
            ring_members_clustered: hits,
            precision: ratio(hits as u64, clustered.len() as u64),
            recall: ratio(hits as u64, ring_members.len() as u64),
            legit_clustered: clustered
                .iter()
                .filter(|u| self.roles.get(u).is_some_and(|r| r.is_legit()))
                .count(),
        };

        let mut legit_acted_on_by_role = BTreeMap::new();
        for role in self.legit_acted_on.values() {
            *legit_acted_on_by_role
                .entry(role.name().to_string())
                .or_default() += 1;
        }
        ScoreReport {
            scenario: self.scenario.clone(),
            seed: self.seed,
            events_seen: self.events_seen,
            messages_seen: self.messages_seen,
            edits_seen: self.edits_seen,
            spam,
            raids,
            false_raid_alerts,
            clusters,
            actions_by_kind: self.actions_by_kind.clone(),
            legit_members_acted_on: self.legit_acted_on.len(),
            legit_acted_on_by_role,
        }
    }
}

impl ScoreReport {
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a report always serializes")
    }
}

fn pct(value: Option<f64>) -> String {
    value.map_or_else(|| "n/a".to_string(), |v| format!("{:.1}%", v * 100.0))
}

fn secs(value: Option<i64>) -> String {
    value.map_or_else(|| "never".to_string(), |v| format!("{v} s"))
}

impl fmt::Display for ScoreReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "scenario {} (seed {})", self.scenario, self.seed)?;
        writeln!(
            f,
            "  events {}  messages {}  edits {}",
            self.events_seen, self.messages_seen, self.edits_seen
        )?;
        let s = &self.spam;
        writeln!(
            f,
            "  spam: {} spam / {} ham messages; flagged {} (tp {}, fp {}, fn {}); precision {}, recall {}",
            s.spam_messages,
            s.ham_messages,
            s.flagged,
            s.true_positives,
            s.false_positives,
            s.false_negatives,
            pct(s.precision),
            pct(s.recall)
        )?;
        if !s.false_positives_by_role.is_empty() {
            writeln!(
                f,
                "    false positives by role: {}",
                join_counts(&s.false_positives_by_role)
            )?;
            for text in &s.false_positive_examples {
                writeln!(f, "      e.g. {text:?}")?;
            }
        }
        if !s.missed_by_role.is_empty() {
            writeln!(
                f,
                "    missed spam by role: {}",
                join_counts(&s.missed_by_role)
            )?;
            for text in &s.missed_examples {
                writeln!(f, "      e.g. {text:?}")?;
            }
        }
        for raid in &self.raids {
            writeln!(
                f,
                "  raid {} in chat {}: {} accounts; start → alert {}, start → bunker {}",
                raid.raid_id,
                raid.chat_id,
                raid.accounts,
                secs(raid.alert_latency_s),
                secs(raid.containment_latency_s)
            )?;
        }
        if self.false_raid_alerts > 0 {
            writeln!(f, "  raid alerts with no raid: {}", self.false_raid_alerts)?;
        }
        let c = &self.clusters;
        if c.ring_members > 0 || c.clusters_found > 0 {
            writeln!(
                f,
                "  clusters: {} found, {} of {} ring accounts clustered; precision {}, recall {}; legit clustered {}",
                c.clusters_found,
                c.ring_members_clustered,
                c.ring_members,
                pct(c.precision),
                pct(c.recall),
                c.legit_clustered
            )?;
        }
        if self.actions_by_kind.is_empty() {
            writeln!(f, "  actions: none")?;
        } else {
            writeln!(f, "  actions: {}", join_counts(&self.actions_by_kind))?;
        }
        write!(
            f,
            "  legitimate members wrongly acted on: {}",
            self.legit_members_acted_on
        )?;
        if !self.legit_acted_on_by_role.is_empty() {
            write!(f, " ({})", join_counts(&self.legit_acted_on_by_role))?;
        }
        writeln!(f)
    }
}

fn join_counts(counts: &BTreeMap<String, u64>) -> String {
    counts
        .iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Message;

    fn posted(id: MessageId, text: &str, edited: bool) -> Event {
        let m = Message {
            chat_id: -100,
            id,
            text: text.into(),
            edited,
            ..Message::default()
        };
        if edited {
            Event::Edited(m)
        } else {
            Event::Message(m)
        }
    }

    fn truth(spam: bool, role: Role) -> Truth {
        Truth {
            spam,
            role,
            ..Truth::system()
        }
    }

    #[test]
    fn the_report_shows_what_was_missed_and_what_was_wrongly_flagged() {
        let mut card = Scorecard::new("t", 1);
        card.observe(&posted(1, "hello all", false), &truth(false, Role::Spammer));
        card.observe(
            &posted(1, "earn $500 a day, dm me", true),
            &truth(true, Role::Spammer),
        );
        card.observe(
            &posted(2, "lunch at noon?", false),
            &truth(false, Role::Regular),
        );
        card.observe(
            &posted(3, "casino bonus", false),
            &truth(true, Role::Spammer),
        );
        card.flag(-100, 2);
        card.flag(-100, 3);
        let spam = card.report().spam;
        assert_eq!((spam.true_positives, spam.false_negatives), (1, 1));
        // The spam version of a message edited into spam, not its harmless first version.
        assert_eq!(spam.missed_examples, ["earn $500 a day, dm me"]);
        assert_eq!(spam.false_positive_examples, ["lunch at noon?"]);
    }
}
