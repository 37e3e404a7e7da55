//! The engine on texts it never trained on: recent scam formats and everyday chat about the same
//! topics (assets/samples/holdout-*.txt). Floors sit just under what was measured when the files
//! were written, before anything was tuned; never tune the engine against these files.

use warden::engine::data::{HOLDOUT_HAM, HOLDOUT_SPAM};
use warden::engine::{Engine, EngineConfig, TrainingSet, VerdictClass};

fn lines(text: &str) -> Vec<&str> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect()
}

#[test]
fn held_out_texts_are_not_in_the_training_set() {
    let training = TrainingSet::shipped();
    for text in lines(HOLDOUT_SPAM).into_iter().chain(lines(HOLDOUT_HAM)) {
        assert!(
            !training.samples.iter().any(|(t, _)| t.trim() == text),
            "held-out text is trained on: {text}"
        );
    }
}

#[test]
fn unseen_scams_are_caught_and_unseen_chat_on_their_topics_is_left_alone() {
    let engine = Engine::new(EngineConfig::default(), TrainingSet::shipped()).unwrap();
    let called_spam = |texts: &[&'static str]| -> Vec<&'static str> {
        texts
            .iter()
            .copied()
            .filter(|t| engine.check_text(t).class == VerdictClass::Spam)
            .collect()
    };
    let spam = lines(HOLDOUT_SPAM);
    let caught = called_spam(&spam);
    // The first 30 measured 27 when written, 26 since the classifier counts each word once; 12
    // long pitches were added (11 caught when written). All 42: 36 caught.
    assert!(
        caught.len() >= 35,
        "{} of {} held-out scams called spam",
        caught.len(),
        spam.len()
    );
    let chat = lines(HOLDOUT_HAM);
    let chat_called_spam = called_spam(&chat);
    // The first 84 measured 0 when written; 47 long messages were added, many of them warnings
    // that retell a scam (the hardest chat there is). All 131: 5 called spam.
    assert!(
        chat_called_spam.len() <= 5,
        "{} of {} chat messages called spam: {chat_called_spam:?}",
        chat_called_spam.len(),
        chat.len()
    );
}
