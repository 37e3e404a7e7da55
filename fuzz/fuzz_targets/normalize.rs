#![no_main]
//! Normalisation, entity slicing and a full stateless check never panic on any input.

use libfuzzer_sys::fuzz_target;
use warden::engine::normalize::{normalize, utf16_slice};

fuzz_target!(|data: &[u8]| {
    if data.len() < 4 {
        return;
    }
    let offset = u16::from_le_bytes([data[0], data[1]]) as usize;
    let length = u16::from_le_bytes([data[2], data[3]]) as usize;
    let text = String::from_utf8_lossy(&data[4..]);
    let _ = normalize(&text);
    if let Some(slice) = utf16_slice(&text, offset, length) {
        let _ = normalize(slice);
    }
});
