//! What Warden remembers about each user: where and when they were seen, trust, lists, tags, a note,
//! and a decaying risk score. Everything is a pure function of the timestamps passed in.

use crate::model::{ChatId, Timestamp, UserId};
use crate::policy::config::{PolicyConfig, RiskThresholds};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap};

#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum RiskLevel {
    #[default]
    Safe,
    Suspicious,
    Dangerous,
    Banned,
}

impl RiskLevel {
    pub fn from_score(score: f64, t: &RiskThresholds) -> RiskLevel {
        if score >= t.banned {
            RiskLevel::Banned
        } else if score >= t.dangerous {
            RiskLevel::Dangerous
        } else if score >= t.suspicious {
            RiskLevel::Suspicious
        } else {
            RiskLevel::Safe
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            RiskLevel::Safe => "SAFE",
            RiskLevel::Suspicious => "SUSPICIOUS",
            RiskLevel::Dangerous => "DANGEROUS",
            RiskLevel::Banned => "BANNED",
        }
    }

    pub fn parse(text: &str) -> Option<RiskLevel> {
        match text.trim().to_ascii_lowercase().as_str() {
            "safe" => Some(RiskLevel::Safe),
            "suspicious" => Some(RiskLevel::Suspicious),
            "dangerous" => Some(RiskLevel::Dangerous),
            "banned" => Some(RiskLevel::Banned),
            _ => None,
        }
    }
}

/// Tags as stored: lower case, words joined by '-' ("Crypto Scam" → "crypto-scam").
pub fn normalize_tag(tag: &str) -> String {
    tag.split_whitespace()
        .collect::<Vec<_>>()
        .join("-")
        .to_lowercase()
}

/// A score in [0,1] that halves every `half_life` seconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct DecayingScore {
    pub value: f64,
    pub at: Timestamp,
}

impl DecayingScore {
    pub fn value_at(&self, now: Timestamp, half_life: u64) -> f64 {
        let elapsed = (now - self.at).max(0) as f64;
        self.value * 0.5f64.powf(elapsed / half_life.max(1) as f64)
    }

    /// New evidence: the score becomes the larger of the decayed score and `score`. Returns whether
    /// the evidence raised it (otherwise the stored value still decays to the same numbers).
    pub fn observe(&mut self, score: f64, now: Timestamp, half_life: u64) -> bool {
        let decayed = self.value_at(now, half_life);
        let score = score.clamp(0.0, 1.0);
        self.value = decayed.max(score);
        self.at = now.max(self.at);
        score > decayed
    }

    /// Raises the decayed score by `delta`, capped at 1.
    pub fn bump(&mut self, delta: f64, now: Timestamp, half_life: u64) {
        let decayed = self.value_at(now, half_life);
        self.value = (decayed + delta).clamp(0.0, 1.0);
        self.at = now.max(self.at);
    }

    pub fn reset(&mut self, now: Timestamp) {
        self.value = 0.0;
        self.at = now;
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TrustState {
    #[default]
    New,
    Trusted,
}

/// One user in one chat.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ChatMemory {
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
    pub joined_at: Option<Timestamp>,
    pub messages: u64,
    pub clean_messages: u32,
    pub trust: TrustState,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UserMemory {
    pub user_id: UserId,
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
    pub messages: u64,
    /// Trusted everywhere (a moderator said so, or labelled their message ham).
    pub trusted: bool,
    /// Never acted on automatically.
    pub whitelisted: bool,
    /// Acted on at join or first message (see `blacklist_action`).
    pub blacklisted: bool,
    pub tags: BTreeSet<String>,
    pub note: Option<String>,
    pub score: DecayingScore,
    pub chats: BTreeMap<ChatId, ChatMemory>,
}

impl UserMemory {
    pub fn is_trusted_in(&self, chat_id: ChatId) -> bool {
        self.trusted
            || self
                .chats
                .get(&chat_id)
                .is_some_and(|c| c.trust == TrustState::Trusted)
    }

    pub fn score_at(&self, now: Timestamp, cfg: &PolicyConfig) -> f64 {
        self.score.value_at(now, cfg.score_half_life)
    }

    pub fn risk_at(&self, now: Timestamp, cfg: &PolicyConfig) -> RiskLevel {
        RiskLevel::from_score(self.score_at(now, cfg), &cfg.risk)
    }
}

/// Result of recording one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Observed {
    /// First message of this user in this chat.
    pub first_in_chat: bool,
    /// This message made the user trusted in the chat.
    pub promoted: bool,
    /// This message raised the user's score.
    pub score_raised: bool,
}

/// Every user Warden has seen.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct UserBook {
    users: HashMap<UserId, UserMemory>,
}

impl UserBook {
    pub fn get(&self, user_id: UserId) -> Option<&UserMemory> {
        self.users.get(&user_id)
    }

    pub fn entry(&mut self, user_id: UserId, now: Timestamp) -> &mut UserMemory {
        self.users.entry(user_id).or_insert_with(|| UserMemory {
            user_id,
            first_seen: now,
            last_seen: now,
            score: DecayingScore {
                value: 0.0,
                at: now,
            },
            ..UserMemory::default()
        })
    }

    fn chat_entry(&mut self, chat_id: ChatId, user_id: UserId, now: Timestamp) -> &mut ChatMemory {
        let user = self.entry(user_id, now);
        user.last_seen = user.last_seen.max(now);
        user.chats.entry(chat_id).or_insert_with(|| ChatMemory {
            first_seen: now,
            last_seen: now,
            ..ChatMemory::default()
        })
    }

    pub fn observe_join(&mut self, chat_id: ChatId, user_id: UserId, now: Timestamp) {
        let chat = self.chat_entry(chat_id, user_id, now);
        chat.joined_at = Some(now);
        chat.last_seen = chat.last_seen.max(now);
    }

    /// Records a message with the engine's score; clean messages count toward trust.
    pub fn observe_message(
        &mut self,
        chat_id: ChatId,
        user_id: UserId,
        score: f64,
        now: Timestamp,
        cfg: &PolicyConfig,
    ) -> Observed {
        let chat = self.chat_entry(chat_id, user_id, now);
        let first_in_chat = chat.messages == 0;
        chat.messages += 1;
        chat.last_seen = chat.last_seen.max(now);
        let mut promoted = false;
        if score < cfg.clean_score_below {
            chat.clean_messages += 1;
            if chat.trust == TrustState::New
                && chat.clean_messages >= cfg.trust_after_clean_messages
            {
                chat.trust = TrustState::Trusted;
                promoted = true;
            }
        }
        let user = self.entry(user_id, now);
        user.messages += 1;
        let score_raised = user.score.observe(score, now, cfg.score_half_life);
        Observed {
            first_in_chat,
            promoted,
            score_raised,
        }
    }

    pub fn set_trusted(&mut self, user_id: UserId, trusted: bool, now: Timestamp) {
        let user = self.entry(user_id, now);
        user.trusted = trusted;
        if trusted {
            user.score.reset(now);
        }
    }

    pub fn set_whitelisted(&mut self, user_id: UserId, on: bool, now: Timestamp) {
        let user = self.entry(user_id, now);
        user.whitelisted = on;
        if on {
            user.blacklisted = false;
        }
    }

    pub fn set_blacklisted(&mut self, user_id: UserId, on: bool, now: Timestamp) {
        let user = self.entry(user_id, now);
        user.blacklisted = on;
        if on {
            user.whitelisted = false;
            user.score.value = 1.0;
            user.score.at = now;
        }
    }

    /// Trust earned in a chat in an earlier run.
    pub fn restore_chat_trust(&mut self, chat_id: ChatId, user_id: UserId, since: Timestamp) {
        let chat = self.chat_entry(chat_id, user_id, since);
        chat.trust = TrustState::Trusted;
    }

    /// The score as persisted: it keeps decaying from when it was last raised.
    pub fn restore_score(&mut self, user_id: UserId, score: DecayingScore) {
        self.entry(user_id, score.at).score = score;
    }

    pub fn tag(&mut self, user_id: UserId, tag: &str, now: Timestamp) {
        let tag = normalize_tag(tag);
        if !tag.is_empty() {
            self.entry(user_id, now).tags.insert(tag);
        }
    }

    pub fn untag(&mut self, user_id: UserId, tag: &str, now: Timestamp) {
        self.entry(user_id, now).tags.remove(&normalize_tag(tag));
    }

    pub fn set_note(&mut self, user_id: UserId, note: Option<String>, now: Timestamp) {
        self.entry(user_id, now).note = note.filter(|n| !n.trim().is_empty());
    }

    pub fn len(&self) -> usize {
        self.users.len()
    }

    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400;

    #[test]
    fn score_decays_by_half_life() {
        let half_life = 7 * DAY as u64;
        let table = [(0, 0.8), (7 * DAY, 0.4), (14 * DAY, 0.2), (-5, 0.8)];
        let score = DecayingScore {
            value: 0.8,
            at: 1000,
        };
        for (elapsed, expected) in table {
            let got = score.value_at(1000 + elapsed, half_life);
            assert!((got - expected).abs() < 1e-9, "{elapsed}: {got}");
        }
    }

    #[test]
    fn risk_levels_follow_thresholds() {
        let t = RiskThresholds::default();
        let table = [
            (0.0, RiskLevel::Safe),
            (0.29, RiskLevel::Safe),
            (0.3, RiskLevel::Suspicious),
            (0.6, RiskLevel::Dangerous),
            (0.79, RiskLevel::Dangerous),
            (0.8, RiskLevel::Banned),
            (1.0, RiskLevel::Banned),
        ];
        for (score, level) in table {
            assert_eq!(RiskLevel::from_score(score, &t), level, "{score}");
        }
    }

    #[test]
    fn risk_falls_as_the_score_decays() {
        let cfg = PolicyConfig::default();
        let mut book = UserBook::default();
        book.observe_message(1, 7, 0.85, 0, &cfg);
        let user = book.get(7).unwrap();
        assert_eq!(user.risk_at(0, &cfg), RiskLevel::Banned);
        assert_eq!(user.risk_at(7 * DAY, &cfg), RiskLevel::Suspicious);
        assert_eq!(user.risk_at(21 * DAY, &cfg), RiskLevel::Safe);
    }

    #[test]
    fn trust_comes_after_n_clean_messages_per_chat() {
        let cfg = PolicyConfig::default();
        let mut book = UserBook::default();
        // (chat, score, promoted, trusted in chat 1 afterwards)
        let table = [
            (1, 0.1, false, false),
            (1, 0.9, false, false), // spammy messages do not count
            (1, 0.0, false, false),
            (2, 0.0, false, false), // other chats count separately
            (1, 0.2, true, true),
            (1, 0.0, false, true),
        ];
        for (i, (chat, score, promoted, trusted)) in table.into_iter().enumerate() {
            let seen = book.observe_message(chat, 7, score, i as i64 * 10, &cfg);
            assert_eq!(seen.promoted, promoted, "step {i}");
            assert_eq!(book.get(7).unwrap().is_trusted_in(1), trusted, "step {i}");
        }
        assert!(!book.get(7).unwrap().is_trusted_in(2));
        let user = book.get(7).unwrap();
        assert_eq!(user.messages, 6);
        assert_eq!(user.chats[&1].messages, 5);
        assert_eq!((user.first_seen, user.last_seen), (0, 50));
    }

    #[test]
    fn lists_tags_and_notes() {
        let mut book = UserBook::default();
        book.set_whitelisted(5, true, 0);
        book.set_blacklisted(5, true, 1);
        let user = book.get(5).unwrap();
        assert!(user.blacklisted && !user.whitelisted, "lists are exclusive");
        book.tag(5, "crypto", 2);
        book.set_note(5, Some("asked about refunds".into()), 2);
        book.set_note(6, Some("  ".into()), 2);
        assert!(book.get(5).unwrap().tags.contains("crypto"));
        assert_eq!(
            book.get(5).unwrap().note.as_deref(),
            Some("asked about refunds")
        );
        assert_eq!(book.get(6).unwrap().note, None);
    }
}
