//! The join captcha at work, the same for Telegram and the simulator: mute and kick go through
//! the outbox (durable, audited); the challenge is posted at once and deleted once answered.

use crate::action::{ActionKind, Actor, Poster};
use crate::app::commands;
use crate::app::pipeline::Pipeline;
use crate::model::{ButtonPress, ChatId, Event, OutgoingMessage, Timestamp};
use crate::policy::captcha::{self, CaptchaBook, CaptchaStep};
use crate::telegram::config::CaptchaConfig;
use anyhow::Result;

pub struct CaptchaGate {
    config: CaptchaConfig,
    book: CaptchaBook,
    nonce: u64,
}

impl CaptchaGate {
    /// `seed` makes the challenges unguessable in a live run and repeatable in a simulated one.
    pub fn new(config: CaptchaConfig, seed: u64) -> CaptchaGate {
        CaptchaGate {
            book: CaptchaBook::new(config.timeout_secs, config.choices),
            config,
            nonce: seed,
        }
    }

    fn applies_to(&self, chat: ChatId) -> bool {
        self.config.enabled && (self.config.chats.is_empty() || self.config.chats.contains(&chat))
    }

    /// Newcomers get a challenge; leavers are forgotten. Call after the pipeline saw `event`.
    /// Returns how many actions went into the outbox.
    pub fn on_event(
        &mut self,
        pipeline: &mut Pipeline,
        poster: &mut impl Poster,
        event: &Event,
    ) -> Result<usize> {
        match event {
            Event::Joined {
                chat_id,
                user,
                date,
                ..
            } if self.applies_to(*chat_id) && !user.is_bot => {
                let exempt = pipeline
                    .policy
                    .users
                    .get(user.id)
                    .is_some_and(|u| u.whitelisted || u.is_trusted_in(*chat_id));
                // A cheap deterministic mix is enough: it only has to be unguessable by a bot
                // that has not read the buttons.
                self.nonce = self
                    .nonce
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(user.id as u64 | 1);
                let step = self
                    .book
                    .on_join(*chat_id, user.id, exempt, *date, self.nonce >> 16);
                self.carry_out(pipeline, poster, step)
            }
            Event::Left {
                chat_id, user_id, ..
            } => {
                self.book.on_leave(*chat_id, *user_id);
                Ok(0)
            }
            _ => Ok(0),
        }
    }

    /// Whether `press` is an answer to a challenge (else it belongs to someone else).
    pub fn claims(press: &ButtonPress) -> bool {
        press.data.starts_with(captcha::DATA_PREFIX)
    }

    pub fn on_press(
        &mut self,
        pipeline: &mut Pipeline,
        poster: &mut impl Poster,
        press: &ButtonPress,
    ) -> Result<usize> {
        let step = self
            .book
            .on_press(press.chat_id, press.user_id, &press.data, press.date);
        let note = match &step {
            CaptchaStep::Pass { .. } => "Welcome! You can write now.",
            CaptchaStep::Remove { why, .. } => why,
            _ if captcha::parse_button(&press.data)
                .is_some_and(|(for_user, _)| for_user != press.user_id) =>
            {
                "This button is for the newcomer it greets."
            }
            _ => "",
        };
        if let Err(err) = poster.answer(press, note, press.date) {
            tracing::debug!("cannot answer the captcha button: {err}");
        }
        self.carry_out(pipeline, poster, step)
    }

    /// Removes everyone whose time ran out; call every second.
    pub fn expire(
        &mut self,
        pipeline: &mut Pipeline,
        poster: &mut impl Poster,
        now: Timestamp,
    ) -> Result<usize> {
        let mut enqueued = 0;
        for step in self.book.expire(now) {
            enqueued += self.carry_out(pipeline, poster, step)?;
        }
        Ok(enqueued)
    }

    fn carry_out(
        &mut self,
        pipeline: &mut Pipeline,
        poster: &mut impl Poster,
        step: CaptchaStep,
    ) -> Result<usize> {
        let now = pipeline.now();
        let (chat, user, kind, reason, challenge) = match step {
            CaptchaStep::Skip | CaptchaStep::Ignore => return Ok(0),
            CaptchaStep::MuteAndChallenge(challenge) => {
                let message = OutgoingMessage {
                    text: challenge.prompt.clone(),
                    buttons: vec![challenge.buttons.clone()],
                    reply_to: None,
                };
                match poster.post(challenge.chat_id, message, now) {
                    Ok(id) => self.book.posted(challenge.chat_id, challenge.user_id, id),
                    Err(err) => tracing::warn!(
                        chat_id = challenge.chat_id,
                        "cannot post the captcha: {err}"
                    ),
                }
                // Outlives the challenge, so a slow executor cannot let a bot talk first.
                let seconds = self.config.timeout_secs.max(60) * 2;
                (
                    challenge.chat_id,
                    challenge.user_id,
                    ActionKind::Mute { seconds },
                    captcha::HOLD_REASON,
                    None,
                )
            }
            CaptchaStep::Pass {
                chat_id,
                user_id,
                challenge,
            } => (
                chat_id,
                user_id,
                ActionKind::Unrestrict,
                "captcha passed",
                challenge,
            ),
            CaptchaStep::Remove {
                chat_id,
                user_id,
                why,
                challenge,
            } => (chat_id, user_id, ActionKind::Kick, why, challenge),
        };
        if let Some(message) = challenge
            && let Err(err) = poster.unpost(chat, message, now)
        {
            tracing::warn!(chat_id = chat, "cannot delete the captcha: {err}");
        }
        commands::act(pipeline, &[chat], user, kind, reason, &Actor::System)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::action::GatewayError;
    use crate::config::Config;
    use crate::model::{JoinKind, MessageId, Person, UserId};
    use warden_store::Store;

    const CHAT: ChatId = -1_000_000_000_042;
    const NOW: Timestamp = 1_700_000_000;

    /// Records what Warden posted, deleted and answered.
    #[derive(Default)]
    struct Recorder {
        posted: Vec<OutgoingMessage>,
        deleted: Vec<MessageId>,
        answers: Vec<(UserId, String)>,
    }

    impl Poster for Recorder {
        fn post(
            &mut self,
            _: ChatId,
            message: OutgoingMessage,
            _: Timestamp,
        ) -> Result<MessageId, GatewayError> {
            self.posted.push(message);
            Ok(500 + self.posted.len() as MessageId)
        }
        fn unpost(&mut self, _: ChatId, id: MessageId, _: Timestamp) -> Result<(), GatewayError> {
            self.deleted.push(id);
            Ok(())
        }
        fn answer(
            &mut self,
            press: &ButtonPress,
            text: &str,
            _: Timestamp,
        ) -> Result<(), GatewayError> {
            self.answers.push((press.user_id, text.to_string()));
            Ok(())
        }
    }

    fn joined(user: UserId) -> Event {
        Event::Joined {
            chat_id: CHAT,
            user: Person {
                id: user,
                first_name: "New".into(),
                ..Person::default()
            },
            date: NOW,
            how: JoinKind::Direct,
        }
    }

    fn press(user: UserId, data: &str, at: Timestamp) -> ButtonPress {
        ButtonPress {
            chat_id: CHAT,
            message_id: 501,
            user_id: user,
            data: data.into(),
            date: at,
            query_id: 1,
        }
    }

    fn outbox(pipeline: &Pipeline) -> Vec<(String, UserId, String)> {
        let mut rows: Vec<(String, UserId, String)> = pipeline
            .store()
            .reader()
            .unwrap()
            .actions(None, Some(CHAT), None, 100)
            .unwrap()
            .items
            .into_iter()
            .map(|r| (r.kind, r.user_id.unwrap_or(0), r.reason))
            .collect();
        rows.reverse();
        rows
    }

    #[test]
    fn newcomers_are_held_challenged_and_let_in_or_removed() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("w.db")).unwrap();
        let mut pipeline = Pipeline::new(&Config::default(), store, NOW).unwrap();
        let config = CaptchaConfig {
            enabled: true,
            ..CaptchaConfig::default()
        };
        let mut gate = CaptchaGate::new(config, 7);
        let mut tg = Recorder::default();
        for user in [1, 2, 3] {
            pipeline.handle(&joined(user)).unwrap();
            gate.on_event(&mut pipeline, &mut tg, &joined(user))
                .unwrap();
        }
        assert_eq!(tg.posted.len(), 3);
        let buttons = |i: usize| tg.posted[i].buttons[0].clone();
        let right = |i: usize| {
            captcha::reader_answer(&tg.posted[i].text, &buttons(i))
                .unwrap()
                .to_string()
        };
        let wrong = |i: usize| {
            let right = right(i);
            buttons(i).into_iter().find(|(_, d)| *d != right).unwrap().1
        };
        // User 2 presses user 1's button: nothing happens to either, 2 is told so.
        let (r1, w2) = (right(0), wrong(1));
        gate.on_press(&mut pipeline, &mut tg, &press(2, &r1, NOW + 3))
            .unwrap();
        gate.on_press(&mut pipeline, &mut tg, &press(1, &r1, NOW + 5))
            .unwrap();
        gate.on_press(&mut pipeline, &mut tg, &press(2, &w2, NOW + 6))
            .unwrap();
        gate.expire(&mut pipeline, &mut tg, NOW + 61).unwrap();
        assert_eq!(
            tg.answers,
            vec![
                (2, "This button is for the newcomer it greets.".to_string()),
                (1, "Welcome! You can write now.".to_string()),
                (2, "wrong captcha answer".to_string()),
            ]
        );
        // Every challenge is gone once settled.
        tg.deleted.sort_unstable();
        assert_eq!(tg.deleted, vec![501, 502, 503]);
        let hold = |u| ("mute".to_string(), u, captcha::HOLD_REASON.to_string());
        assert_eq!(
            outbox(&pipeline),
            vec![
                hold(1),
                hold(2),
                hold(3),
                ("unrestrict".into(), 1, "captcha passed".into()),
                ("kick".into(), 2, "wrong captcha answer".into()),
                ("kick".into(), 3, "captcha timed out".into()),
            ]
        );
    }
}
