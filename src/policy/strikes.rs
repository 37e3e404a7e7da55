//! Strikes and the ladder. A strike counts while active (not expired, not forgiven) and stays in
//! history forever; the ladder maps the active count to actions.

use crate::action::{ActionKind, Actor};
use crate::model::{ChatId, MessageId, Timestamp, UserId};
use crate::policy::actions::ActionSpec;
use crate::policy::config::LadderStep;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Forgiveness {
    pub by: Actor,
    pub why: String,
    pub at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Strike {
    pub id: u64,
    pub chat_id: ChatId,
    pub user_id: UserId,
    pub message_id: Option<MessageId>,
    pub at: Timestamp,
    pub reason: String,
    pub source: Actor,
    pub expires_at: Timestamp,
    pub forgiven: Option<Forgiveness>,
    /// What the ladder actually did for this strike (after the chat's mode), to offer undoing it.
    pub applied: Vec<ActionKind>,
    /// Row id in the store once persisted.
    pub store_id: Option<i64>,
}

impl Strike {
    /// The store's record for this strike.
    pub fn to_new_strike(&self) -> warden_store::NewStrike {
        warden_store::NewStrike {
            chat_id: self.chat_id,
            user_id: self.user_id,
            reason: self.reason.clone(),
            source: self.source.to_string(),
            ts: self.at,
            expires_at: Some(self.expires_at),
            message_id: self.message_id,
        }
    }
}

impl Strike {
    pub fn is_active(&self, now: Timestamp) -> bool {
        self.at <= now && now < self.expires_at && self.forgiven.as_ref().is_none_or(|f| f.at > now)
    }
}

/// The ladder step for an active strike count: the highest step whose `strikes` is not above it.
pub fn ladder_actions(ladder: &[LadderStep], active: u32) -> Vec<ActionSpec> {
    ladder
        .iter()
        .filter(|step| step.strikes <= active)
        .max_by_key(|step| step.strikes)
        .map(|step| step.actions.clone())
        .unwrap_or_default()
}

/// What undoes an applied action, if anything lingers (a deleted message or a kick leave nothing).
pub fn lift_for(kind: &ActionKind) -> Option<ActionKind> {
    match kind {
        ActionKind::Ban { .. } => Some(ActionKind::Unban),
        ActionKind::Mute { .. }
        | ActionKind::Restrict
        | ActionKind::ShadowMute
        | ActionKind::Throttle { .. } => Some(ActionKind::Unrestrict),
        _ => None,
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StrikeAdded {
    pub strike_id: u64,
    /// Active strikes including this one.
    pub active: u32,
    /// The ladder's actions for that count.
    pub ladder: Vec<ActionSpec>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forgiven {
    pub strike_id: u64,
    /// Actions to offer the moderator (unban / unrestrict) because the ladder had acted.
    pub lift: Vec<ActionKind>,
    pub active_after: u32,
}

pub struct NewStrike<'a> {
    pub chat_id: ChatId,
    pub user_id: UserId,
    pub message_id: Option<MessageId>,
    pub reason: &'a str,
    pub source: Actor,
    pub now: Timestamp,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct StrikeBook {
    strikes: Vec<Strike>,
    next_id: u64,
}

impl StrikeBook {
    pub fn active_count(&self, chat_id: ChatId, user_id: UserId, now: Timestamp) -> u32 {
        self.strikes
            .iter()
            .filter(|s| s.chat_id == chat_id && s.user_id == user_id && s.is_active(now))
            .count() as u32
    }

    pub fn add(&mut self, new: NewStrike<'_>, expiry: u64, ladder: &[LadderStep]) -> StrikeAdded {
        self.next_id += 1;
        let strike = Strike {
            id: self.next_id,
            chat_id: new.chat_id,
            user_id: new.user_id,
            message_id: new.message_id,
            at: new.now,
            reason: new.reason.to_string(),
            source: new.source,
            expires_at: new.now.saturating_add(expiry as i64),
            forgiven: None,
            applied: Vec::new(),
            store_id: None,
        };
        self.strikes.push(strike);
        let active = self.active_count(new.chat_id, new.user_id, new.now);
        StrikeAdded {
            strike_id: self.next_id,
            active,
            ladder: ladder_actions(ladder, active),
        }
    }

    /// Rebuilds the book from the store (startup). What the ladder did is not in these records:
    /// lifts for those strikes come from the store's active restrictions instead.
    pub fn from_records(records: &[warden_store::StrikeRecord], default_expiry: u64) -> StrikeBook {
        let mut book = StrikeBook::default();
        for r in records {
            book.next_id += 1;
            book.strikes.push(Strike {
                id: book.next_id,
                chat_id: r.chat_id,
                user_id: r.user_id,
                message_id: r.message_id,
                at: r.ts,
                reason: r.reason.clone(),
                source: crate::policy::executor::parse_actor(&r.source),
                expires_at: r
                    .expires_at
                    .unwrap_or(r.ts.saturating_add(default_expiry as i64)),
                forgiven: r.forgiven_at.map(|at| Forgiveness {
                    by: crate::policy::executor::parse_actor(
                        r.forgiven_by.as_deref().unwrap_or("system"),
                    ),
                    why: r.forgiven_why.clone().unwrap_or_default(),
                    at,
                }),
                applied: Vec::new(),
                store_id: Some(r.id),
            });
        }
        book
    }

    pub fn get(&self, strike_id: u64) -> Option<&Strike> {
        self.strikes.iter().find(|s| s.id == strike_id)
    }

    /// Links a strike to its store row after `writer.add_strike`.
    pub fn set_store_id(&mut self, strike_id: u64, store_id: i64) {
        if let Some(strike) = self.strikes.iter_mut().find(|s| s.id == strike_id) {
            strike.store_id = Some(store_id);
        }
    }

    /// Remembers what was really done for a strike, so forgiving can offer to undo it.
    pub fn record_applied(&mut self, strike_id: u64, kinds: &[ActionKind]) {
        if let Some(strike) = self.strikes.iter_mut().find(|s| s.id == strike_id) {
            strike.applied.extend(kinds.iter().cloned());
        }
    }

    /// Lifts the latest active strike of the user in the chat.
    pub fn forgive(
        &mut self,
        chat_id: ChatId,
        user_id: UserId,
        by: Actor,
        why: &str,
        now: Timestamp,
    ) -> Option<Forgiven> {
        self.forgive_where(chat_id, user_id, None, by, why, now)
    }

    /// Lifts the active strike given for one message (label ham on a flagged message).
    pub fn forgive_message(
        &mut self,
        chat_id: ChatId,
        user_id: UserId,
        message_id: MessageId,
        by: Actor,
        why: &str,
        now: Timestamp,
    ) -> Option<Forgiven> {
        self.forgive_where(chat_id, user_id, Some(message_id), by, why, now)
    }

    fn forgive_where(
        &mut self,
        chat_id: ChatId,
        user_id: UserId,
        message_id: Option<MessageId>,
        by: Actor,
        why: &str,
        now: Timestamp,
    ) -> Option<Forgiven> {
        let strike = self
            .strikes
            .iter_mut()
            .filter(|s| s.chat_id == chat_id && s.user_id == user_id && s.is_active(now))
            .filter(|s| message_id.is_none() || s.message_id == message_id)
            .max_by_key(|s| (s.at, s.id))?;
        strike.forgiven = Some(Forgiveness {
            by,
            why: why.to_string(),
            at: now,
        });
        let mut lift: Vec<ActionKind> = Vec::new();
        for kind in strike.applied.iter().filter_map(lift_for) {
            if !lift.contains(&kind) {
                lift.push(kind);
            }
        }
        let strike_id = strike.id;
        Some(Forgiven {
            strike_id,
            lift,
            active_after: self.active_count(chat_id, user_id, now),
        })
    }

    /// Every strike of a user (expired and forgiven too), oldest first; `chat` narrows to one chat.
    pub fn history(&self, user_id: UserId, chat: Option<ChatId>) -> Vec<&Strike> {
        self.strikes
            .iter()
            .filter(|s| s.user_id == user_id && chat.is_none_or(|c| s.chat_id == c))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::config::default_ladder;

    const DAY: i64 = 86_400;

    fn strike(book: &mut StrikeBook, now: Timestamp) -> StrikeAdded {
        book.add(
            NewStrike {
                chat_id: 1,
                user_id: 9,
                message_id: None,
                reason: "link spam",
                source: Actor::Rule("links".into()),
                now,
            },
            30 * DAY as u64,
            &default_ladder(),
        )
    }

    fn kinds(specs: &[ActionSpec]) -> Vec<ActionKind> {
        specs.iter().map(|s| s.kind.clone()).collect()
    }

    #[test]
    fn default_ladder_warns_mutes_bans() {
        let mut book = StrikeBook::default();
        let table = [
            (1, vec![ActionKind::Delete, ActionKind::Warn]),
            (
                2,
                vec![ActionKind::Delete, ActionKind::Mute { seconds: 86_400 }],
            ),
            (
                3,
                vec![ActionKind::Delete, ActionKind::Ban { seconds: None }],
            ),
            (
                4,
                vec![ActionKind::Delete, ActionKind::Ban { seconds: None }],
            ),
        ];
        for (i, (active, expected)) in table.into_iter().enumerate() {
            let added = strike(&mut book, i as i64 * 60);
            assert_eq!(added.active, active);
            assert_eq!(kinds(&added.ladder), expected, "strike {active}");
        }
        assert!(ladder_actions(&default_ladder(), 0).is_empty());
    }

    #[test]
    fn strikes_expire_but_stay_in_history() {
        let mut book = StrikeBook::default();
        strike(&mut book, 0);
        strike(&mut book, 10 * DAY);
        let table = [
            (DAY, 1),
            (10 * DAY, 2),
            (30 * DAY - 1, 2),
            (30 * DAY, 1),
            (40 * DAY, 0),
        ];
        for (now, active) in table {
            assert_eq!(book.active_count(1, 9, now), active, "at {now}");
        }
        // A strike after the first expired is the second active one, so it mutes, not bans.
        let added = strike(&mut book, 31 * DAY);
        assert_eq!(added.active, 2);
        assert_eq!(book.history(9, Some(1)).len(), 3);
        assert!(book.history(9, Some(2)).is_empty());
    }

    #[test]
    fn forgive_lifts_latest_and_offers_undo() {
        let mut book = StrikeBook::default();
        strike(&mut book, 0);
        let second = strike(&mut book, 60);
        book.record_applied(
            second.strike_id,
            &[ActionKind::Delete, ActionKind::Mute { seconds: 86_400 }],
        );
        let forgiven = book
            .forgive(1, 9, Actor::Moderator("ann".into()), "false positive", 120)
            .unwrap();
        assert_eq!(forgiven.strike_id, second.strike_id);
        assert_eq!(forgiven.lift, vec![ActionKind::Unrestrict]);
        assert_eq!(forgiven.active_after, 1);
        let record = book.history(9, None)[1].forgiven.clone().unwrap();
        assert_eq!(
            (record.by, record.why.as_str()),
            (Actor::Moderator("ann".into()), "false positive")
        );
        // The first strike only warned: nothing to lift.
        let first = book
            .forgive(1, 9, Actor::Moderator("ann".into()), "ok", 130)
            .unwrap();
        assert!(first.lift.is_empty());
        assert!(
            book.forgive(1, 9, Actor::Moderator("ann".into()), "none left", 140)
                .is_none()
        );
    }
}
