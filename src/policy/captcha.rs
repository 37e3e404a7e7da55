//! Join captcha: the newcomer is muted and shown buttons only they may answer; a wrong answer or
//! the timeout removes them. Pure state machine: the caller passes timestamps and a random nonce,
//! and carries out the returned steps.

use crate::model::{ChatId, MessageId, Timestamp, UserId};
use std::collections::HashMap;

const SYMBOLS: [&str; 8] = ["🍎", "🚗", "🐱", "⚽", "🌙", "🎸", "🌵", "🔑"];
const NAMES: [&str; 8] = [
    "apple", "car", "cat", "ball", "moon", "guitar", "cactus", "key",
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    pub chat_id: ChatId,
    pub user_id: UserId,
    /// Shown to the newcomer: "Press the cat".
    pub prompt: String,
    /// (label, callback data) for each button, one row.
    pub buttons: Vec<(String, String)>,
    pub deadline: Timestamp,
}

/// What the caller must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaptchaStep {
    /// Trusted or whitelisted: nothing to do.
    Skip,
    /// Mute the newcomer and post the challenge.
    MuteAndChallenge(Challenge),
    /// Right answer: lift the mute, delete the challenge message (when it was posted).
    Pass {
        chat_id: ChatId,
        user_id: UserId,
        challenge: Option<MessageId>,
    },
    /// Wrong answer or timeout: remove (kick) the newcomer, delete the challenge message.
    Remove {
        chat_id: ChatId,
        user_id: UserId,
        why: &'static str,
        challenge: Option<MessageId>,
    },
    /// Somebody else pressed, or an unknown/finished challenge: answer "not for you", do nothing.
    Ignore,
}

#[derive(Debug, Clone)]
struct Pending {
    answer: usize,
    deadline: Timestamp,
    message: Option<MessageId>,
}

#[derive(Debug, Clone)]
pub struct CaptchaBook {
    timeout_secs: i64,
    choices: usize,
    pending: HashMap<(ChatId, UserId), Pending>,
}

impl CaptchaBook {
    pub fn new(timeout_secs: u64, choices: u8) -> CaptchaBook {
        CaptchaBook {
            timeout_secs: timeout_secs.max(1) as i64,
            choices: usize::from(choices).clamp(2, SYMBOLS.len()),
            pending: HashMap::new(),
        }
    }

    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// A member joined. `nonce` is any random number (it picks the symbols and the answer).
    pub fn on_join(
        &mut self,
        chat_id: ChatId,
        user_id: UserId,
        exempt: bool,
        now: Timestamp,
        nonce: u64,
    ) -> CaptchaStep {
        if exempt {
            return CaptchaStep::Skip;
        }
        let first = (nonce % SYMBOLS.len() as u64) as usize;
        let answer = ((nonce / 8) % self.choices as u64) as usize;
        let picks: Vec<usize> = (0..self.choices)
            .map(|i| (first + i) % SYMBOLS.len())
            .collect();
        let deadline = now + self.timeout_secs;
        self.pending.insert(
            (chat_id, user_id),
            Pending {
                answer,
                deadline,
                message: None,
            },
        );
        CaptchaStep::MuteAndChallenge(Challenge {
            chat_id,
            user_id,
            prompt: format!(
                "Welcome! Press the {} within {} s to be able to write here.",
                NAMES[picks[answer]], self.timeout_secs
            ),
            buttons: picks
                .iter()
                .enumerate()
                .map(|(i, &s)| {
                    (
                        SYMBOLS[s].to_string(),
                        format!("{DATA_PREFIX}{user_id}:{i}"),
                    )
                })
                .collect(),
            deadline,
        })
    }

    /// A captcha button was pressed in `chat_id` by `presser` with callback `data`.
    pub fn on_press(
        &mut self,
        chat_id: ChatId,
        presser: UserId,
        data: &str,
        now: Timestamp,
    ) -> CaptchaStep {
        let Some((target, choice)) = parse_button(data) else {
            return CaptchaStep::Ignore;
        };
        if target != presser {
            return CaptchaStep::Ignore;
        }
        let Some(pending) = self.pending.remove(&(chat_id, presser)) else {
            return CaptchaStep::Ignore;
        };
        let challenge = pending.message;
        if now > pending.deadline {
            CaptchaStep::Remove {
                chat_id,
                user_id: presser,
                why: "captcha timed out",
                challenge,
            }
        } else if choice == pending.answer {
            CaptchaStep::Pass {
                chat_id,
                user_id: presser,
                challenge,
            }
        } else {
            CaptchaStep::Remove {
                chat_id,
                user_id: presser,
                why: "wrong captcha answer",
                challenge,
            }
        }
    }

    /// The challenge for `user_id` was posted as `message`: it is deleted once answered.
    pub fn posted(&mut self, chat_id: ChatId, user_id: UserId, message: MessageId) {
        if let Some(pending) = self.pending.get_mut(&(chat_id, user_id)) {
            pending.message = Some(message);
        }
    }

    /// The member left before answering: forget them.
    pub fn on_leave(&mut self, chat_id: ChatId, user_id: UserId) {
        self.pending.remove(&(chat_id, user_id));
    }

    /// Everyone whose time ran out; call every few seconds.
    pub fn expire(&mut self, now: Timestamp) -> Vec<CaptchaStep> {
        let mut due: Vec<(ChatId, UserId)> = self
            .pending
            .iter()
            .filter(|(_, p)| now > p.deadline)
            .map(|(k, _)| *k)
            .collect();
        due.sort_unstable();
        due.into_iter()
            .map(|(chat_id, user_id)| CaptchaStep::Remove {
                chat_id,
                user_id,
                why: "captcha timed out",
                challenge: self
                    .pending
                    .remove(&(chat_id, user_id))
                    .and_then(|p| p.message),
            })
            .collect()
    }
}

/// Why every newcomer is muted while their challenge is open: a precaution, not a judgement
/// (scorecards do not count it against the member).
pub const HOLD_REASON: &str = "captcha: waiting for the answer";

/// Callback data of captcha buttons: `c:<user>:<choice>` (admin-report buttons never start so).
pub const DATA_PREFIX: &str = "c:";

/// (user the challenge is for, choice) from a captcha button's callback data.
pub fn parse_button(data: &str) -> Option<(UserId, usize)> {
    let (user, choice) = data.strip_prefix(DATA_PREFIX)?.split_once(':')?;
    Some((user.parse().ok()?, choice.parse().ok()?))
}

/// The button a person who reads `prompt` presses: the symbol it names. A bot that does not
/// read the text can only guess. (The simulator's people answer with this.)
pub fn reader_answer<'a>(prompt: &str, buttons: &'a [(String, String)]) -> Option<&'a str> {
    let named = NAMES.iter().position(|name| {
        prompt
            .split(|c: char| !c.is_alphanumeric())
            .any(|word| word == *name)
    })?;
    buttons
        .iter()
        .find(|(label, _)| label == SYMBOLS[named])
        .map(|(_, data)| data.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHAT: ChatId = -1001;

    fn challenge(book: &mut CaptchaBook, user: UserId, nonce: u64) -> Challenge {
        match book.on_join(CHAT, user, false, 1000, nonce) {
            CaptchaStep::MuteAndChallenge(c) => c,
            other => panic!("{other:?}"),
        }
    }

    fn right_and_wrong(book: &CaptchaBook, c: &Challenge) -> (String, String) {
        let answer = book.pending[&(CHAT, c.user_id)].answer;
        let wrong = (answer + 1) % c.buttons.len();
        (c.buttons[answer].1.clone(), c.buttons[wrong].1.clone())
    }

    #[test]
    fn right_answer_passes_and_names_the_symbol() {
        let mut book = CaptchaBook::new(60, 4);
        let c = challenge(&mut book, 42, 12345);
        assert_eq!(c.buttons.len(), 4);
        assert_eq!(c.deadline, 1060);
        let answer = book.pending[&(CHAT, 42)].answer;
        let name = NAMES[SYMBOLS
            .iter()
            .position(|s| *s == c.buttons[answer].0)
            .unwrap()];
        assert!(c.prompt.contains(name));
        let (right, _) = right_and_wrong(&book, &c);
        assert_eq!(
            book.on_press(CHAT, 42, &right, 1030),
            CaptchaStep::Pass {
                chat_id: CHAT,
                user_id: 42,
                challenge: None,
            }
        );
        assert_eq!(reader_answer(&c.prompt, &c.buttons), Some(right.as_str()));
        assert_eq!(parse_button(&right).map(|(user, _)| user), Some(42));
        for garbage in ["c:42", "c:x:1", "r:42:1", "c:42:1:2", ""] {
            assert_eq!(parse_button(garbage), None, "{garbage}");
        }
        assert_eq!(book.pending(), 0);
    }

    #[test]
    fn wrong_answer_removes_and_others_cannot_answer() {
        let mut book = CaptchaBook::new(60, 3);
        let c = challenge(&mut book, 42, 7);
        let (right, wrong) = right_and_wrong(&book, &c);
        // Another member pressing the right button changes nothing.
        assert_eq!(book.on_press(CHAT, 43, &right, 1001), CaptchaStep::Ignore);
        assert!(matches!(
            book.on_press(CHAT, 42, &wrong, 1002),
            CaptchaStep::Remove {
                user_id: 42,
                why: "wrong captcha answer",
                ..
            }
        ));
        // A second press after the verdict is ignored.
        assert_eq!(book.on_press(CHAT, 42, &right, 1003), CaptchaStep::Ignore);
        assert_eq!(
            book.on_press(CHAT, 42, "garbage", 1003),
            CaptchaStep::Ignore
        );
    }

    #[test]
    fn timeouts_remove_and_exempt_members_skip() {
        let mut book = CaptchaBook::new(60, 4);
        challenge(&mut book, 1, 1);
        challenge(&mut book, 2, 2);
        book.posted(CHAT, 1, 777);
        assert_eq!(book.on_join(CHAT, 3, true, 1000, 3), CaptchaStep::Skip);
        assert!(book.expire(1060).is_empty());
        let removed = book.expire(1061);
        assert_eq!(removed.len(), 2);
        // The posted challenge goes with its newcomer; one never posted has nothing to delete.
        assert!(matches!(
            removed[0],
            CaptchaStep::Remove {
                user_id: 1,
                challenge: Some(777),
                ..
            }
        ));
        assert!(matches!(
            removed[1],
            CaptchaStep::Remove {
                user_id: 2,
                challenge: None,
                ..
            }
        ));
        assert!(removed.iter().all(|s| matches!(
            s,
            CaptchaStep::Remove {
                why: "captcha timed out",
                ..
            }
        )));
        let c = challenge(&mut book, 4, 4);
        let (right, _) = right_and_wrong(&book, &c);
        // A right answer after the deadline is still too late.
        assert!(matches!(
            book.on_press(CHAT, 4, &right, 1061),
            CaptchaStep::Remove { .. }
        ));
        challenge(&mut book, 5, 5);
        book.on_leave(CHAT, 5);
        assert_eq!(book.pending(), 0);
    }
}
