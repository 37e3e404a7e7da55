//! The words of a normalised text, hashed once per check and shared by the classifier features,
//! the template index and the text signals.

/// FNV-1a with a seed, so the same bytes hash differently per use.
#[inline]
pub(crate) fn hash_bytes(seed: u64, bytes: &[u8]) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64 ^ seed;
    for &b in bytes {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
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
    /// Splits `text` (words joined by single spaces) and hashes every word.
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
            let mut h = 0xcbf2_9ce4_8422_2325u64 ^ WORD_SEED;
            let (mut chars, mut stem_end, mut digits) = (0u32, 0usize, true);
            while pos < bytes.len() && bytes[pos] != b' ' {
                let b = bytes[pos];
                if b & 0xC0 != 0x80 {
                    if chars == STEM_CHARS {
                        stem_end = pos;
                    }
                    chars += 1;
                }
                digits &= b.is_ascii_digit();
                h ^= b as u64;
                h = h.wrapping_mul(0x0100_0000_01b3);
                pos += 1;
            }
            let stem = if stem_end > 0 {
                hash_bytes(STEM_SEED, &bytes[start..stem_end])
            } else {
                0
            };
            self.list.push(Token {
                start: start as u32,
                end: pos as u32,
                chars_before,
                chars,
                hash: h,
                stem,
                digits,
            });
            chars_before += chars;
        }
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
}
