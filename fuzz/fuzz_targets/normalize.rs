#![no_main]
//! Normalisation, entity slicing and a full stateless check never panic on any input.

use libfuzzer_sys::fuzz_target;
use warden::engine::normalize::{normalize, normalize_into, utf16_slice};
use warden::engine::{Engine, EngineConfig, Normalized, TrainingSet};
use warden::model::{Entity, EntityKind, Message};

thread_local! {
    static ENGINE: Engine = Engine::new(EngineConfig::default(), TrainingSet::shipped()).unwrap();
    static REUSED: std::cell::RefCell<Normalized> = Default::default();
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 4 {
        return;
    }
    let offset = u16::from_le_bytes([data[0], data[1]]) as u32;
    let length = u16::from_le_bytes([data[2], data[3]]) as u32;
    let text = String::from_utf8_lossy(&data[4..]);
    let fresh = normalize(&text);
    // The reused-buffer path gives the same result as a fresh normalisation.
    REUSED.with(|n| {
        let mut n = n.borrow_mut();
        normalize_into(&text, &mut n);
        assert_eq!(*n, fresh);
    });
    if let Some(slice) = utf16_slice(&text, offset as usize, length as usize) {
        let _ = normalize(slice);
    }
    // A hidden link whose offsets may point anywhere, its target taken from the text itself.
    let msg = Message {
        text: text.to_string(),
        entities: vec![Entity {
            kind: EntityKind::TextUrl,
            offset,
            length,
            url: Some(text.chars().rev().take(40).collect()),
        }],
        ..Message::default()
    };
    ENGINE.with(|engine| {
        let verdict = engine.check_stateless(&msg);
        assert!((0.0..=1.0).contains(&verdict.score));
    });
});
