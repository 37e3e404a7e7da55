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
