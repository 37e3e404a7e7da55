//! The words of a normalised text, hashed once per check and shared by the classifier features,
//! the template index and the text signals.

/// A seeded hash of a word, eight bytes at a time (words are short; users of the hash mix it
/// further before bucketing).
#[inline]
pub(crate) fn hash_bytes(seed: u64, bytes: &[u8]) -> u64 {
    hash_in(seed, bytes, 0, bytes.len())
}

/// `hash_bytes(seed, &text[start..end])`, reading the last partial chunk with one 8-byte load
/// ending at `end` (shifted) instead of byte by byte.
#[inline(always)]
pub(crate) fn hash_in(seed: u64, text: &[u8], start: usize, end: usize) -> u64 {
    const K: u64 = 0x9E37_79B9_7F4A_7C15;
    // Cut at `end` once: the loads below then need no bounds checks of their own.
    let text = &text[..end];
    let mut h = (seed ^ 0xcbf2_9ce4_8422_2325).wrapping_mul(K) ^ (end - start) as u64;
    let mut at = start;
    while at + 8 <= end {
        h = (h ^ load8(text, at)).wrapping_mul(K).rotate_left(29);
        at += 8;
    }
    let rest = end - at;
    if rest > 0 {
        let v = if end >= 8 {
            // The bytes before `at` in the window are shifted out.
            load8(text, end - 8) >> (8 * (8 - rest))
        } else {
            let mut v = 0u64;
            for (k, &b) in text[at..end].iter().enumerate() {
                v |= (b as u64) << (8 * k);
            }
            v
        };
        h = (h ^ v).wrapping_mul(K).rotate_left(29);
    }
    h
}

#[inline(always)]
fn load8(text: &[u8], at: usize) -> u64 {
    let mut chunk = [0u8; 8];
    chunk.copy_from_slice(&text[at..at + 8]);
    u64::from_le_bytes(chunk)
}

/// Seeds of the word and stem hashes.
pub(crate) const WORD_SEED: u64 = 1;
pub(crate) const STEM_SEED: u64 = 3;
/// Words longer than this also count by their first `STEM_CHARS` letters.
pub(crate) const STEM_CHARS: u32 = 5;

/// One word of the normalised text.
#[derive(Debug, Clone, Copy)]
pub struct Token {
    /// Byte range in the normalised text.
    pub start: u32,
    pub end: u32,
    /// Characters before the word (spaces included) and in it.
    pub chars_before: u32,
    pub chars: u32,
    /// `hash_bytes(WORD_SEED, word)`.
    pub hash: u64,
    /// `hash_bytes(STEM_SEED, first STEM_CHARS letters)` for longer words, else 0.
    pub stem: u64,
    pub digits: bool,
}

/// Reusable list of the words of one normalised text.
#[derive(Debug, Clone, Default)]
pub struct Tokens {
    pub list: Vec<Token>,
}

impl Tokens {
    /// Splits `text` (words joined by single spaces) and hashes every word. (The engine's checks
    /// get their tokens from the normalisation itself; see `normalize_with_tokens`.)
    pub fn fill(&mut self, text: &str) {
        self.list.clear();
        let bytes = text.as_bytes();
        let mut pos = 0;
        let mut chars_before = 0u32;
        while pos < bytes.len() {
            if bytes[pos] == b' ' {
                pos += 1;
                chars_before += 1;
                continue;
            }
            let start = pos;
            while pos < bytes.len() && bytes[pos] != b' ' {
                pos += 1;
            }
            let word = &bytes[start..pos];
            // Characters are the bytes that do not continue a UTF-8 sequence.
            let chars = word.iter().filter(|&&b| b & 0xC0 != 0x80).count() as u32;
            let digits = word.iter().all(u8::is_ascii_digit);
            self.push_word(text, start, pos, chars_before, chars, digits);
            chars_before += chars;
        }
    }

    /// Adds the word `text[start..end]` of `chars` characters, hashing it and its stem.
    #[inline(always)]
    pub(crate) fn push_word(
        &mut self,
        text: &str,
        start: usize,
        end: usize,
        chars_before: u32,
        chars: u32,
        digits: bool,
    ) {
        let bytes = text.as_bytes();
        let word = &bytes[start..end];
        let stem = if chars > STEM_CHARS {
            let stem_end = if word.len() == chars as usize {
                STEM_CHARS as usize
            } else if word.len() == 2 * chars as usize {
                2 * STEM_CHARS as usize
            } else {
                word.iter()
                    .enumerate()
                    .filter(|&(_, &b)| b & 0xC0 != 0x80)
                    .nth(STEM_CHARS as usize)
                    .map_or(word.len(), |(k, _)| k)
            };
            hash_in(STEM_SEED, bytes, start, start + stem_end)
        } else {
            0
        };
        self.list.push(Token {
            start: start as u32,
            end: end as u32,
            chars_before,
            chars,
            hash: hash_in(WORD_SEED, bytes, start, end),
            stem,
            digits,
        });
    }

    pub fn text<'a>(&self, text: &'a str, t: &Token) -> &'a str {
        text.get(t.start as usize..t.end as usize).unwrap_or("")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_hashes_and_stems() {
        let mut t = Tokens::default();
        t.fill("привет 12 заработок");
        assert_eq!(t.list.len(), 3);
        let text = "привет 12 заработок";
        assert_eq!(t.text(text, &t.list[2]), "заработок");
        assert_eq!(t.list[2].chars_before, 10);
        assert_eq!(
            t.list[2].hash,
            hash_bytes(WORD_SEED, "заработок".as_bytes())
        );
        assert_eq!(t.list[2].stem, hash_bytes(STEM_SEED, "зараб".as_bytes()));
        assert_eq!(t.list[0].stem, hash_bytes(STEM_SEED, "приве".as_bytes()));
        assert!(t.list[1].digits && t.list[1].stem == 0);
    }

    /// The windowed loads hash exactly the bytes of the word, wherever it sits in the text.
    #[test]
    fn hashing_inside_a_text_equals_hashing_the_word_alone() {
        fn reference(seed: u64, bytes: &[u8]) -> u64 {
            const K: u64 = 0x9E37_79B9_7F4A_7C15;
            let mut h = (seed ^ 0xcbf2_9ce4_8422_2325).wrapping_mul(K) ^ bytes.len() as u64;
            for chunk in bytes.chunks(8) {
                let mut v = 0u64;
                for (k, &b) in chunk.iter().enumerate() {
                    v |= (b as u64) << (8 * k);
                }
                h = (h ^ v).wrapping_mul(K).rotate_left(29);
            }
            h
        }
        let text: Vec<u8> = (0..40u8).map(|b| b.wrapping_mul(37) ^ 0xA5).collect();
        for len in 0..text.len() {
            let text = &text[..len];
            for start in 0..=len {
                for end in start..=len {
                    assert_eq!(
                        hash_in(7, text, start, end),
                        reference(7, &text[start..end]),
                        "{start}..{end} of {len}"
                    );
                }
            }
        }
    }
}
