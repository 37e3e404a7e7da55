//! Text fingerprints shared by the cluster graph and the raid text trigger: aggressive
//! normalisation, character shingles and MinHash signatures with LSH band keys.

use unicode_normalization::UnicodeNormalization;

/// Number of MinHash functions per signature.
pub const SIGNATURE_LEN: usize = 32;
/// Rows per LSH band; `SIGNATURE_LEN / BAND_ROWS` bands.
pub const BAND_ROWS: usize = 4;
pub const BANDS: usize = SIGNATURE_LEN / BAND_ROWS;
/// Character shingle width.
const SHINGLE: usize = 5;
/// Only the start of a huge message is fingerprinted: spam says what it wants early.
const MAX_NORMALISED_CHARS: usize = 4096;

pub type Signature = [u64; SIGNATURE_LEN];

/// Lowercased NFKC letters with digit runs collapsed to `#`, punctuation dropped, whitespace
/// collapsed: "Earn 500$ TODAY!!" and "earn 700 $ today" normalise alike.
pub fn normalise(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(MAX_NORMALISED_CHARS));
    let mut chars = 0usize;
    let mut last_space = true;
    let mut last_digit = false;
    for c in text.nfkc().flat_map(char::to_lowercase) {
        if chars >= MAX_NORMALISED_CHARS {
            break;
        }
        if c.is_numeric() {
            if !last_digit {
                out.push('#');
                chars += 1;
            }
            last_digit = true;
            last_space = false;
        } else if c.is_alphabetic() {
            out.push(c);
            chars += 1;
            last_digit = false;
            last_space = false;
        } else if c.is_whitespace() && !last_space {
            out.push(' ');
            chars += 1;
            last_space = true;
            last_digit = false;
        }
    }
    while out.ends_with(' ') {
        out.pop();
    }
    out
}

/// Number of words in a normalised text.
pub fn word_count(normalised: &str) -> usize {
    normalised.split(' ').filter(|w| !w.is_empty()).count()
}

fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// SplitMix64 finaliser: a cheap, well-mixed permutation per MinHash function.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

const SEEDS: [u64; SIGNATURE_LEN] = {
    let mut seeds = [0u64; SIGNATURE_LEN];
    let mut i = 0;
    while i < SIGNATURE_LEN {
        seeds[i] = (i as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        i += 1;
    }
    seeds
};

/// MinHash signature of a normalised text over character shingles. `None` for an empty text.
pub fn signature(normalised: &str) -> Option<Signature> {
    let chars: Vec<(usize, char)> = normalised.char_indices().collect();
    if chars.is_empty() {
        return None;
    }
    let mut sig = [u64::MAX; SIGNATURE_LEN];
    let mut feed = |shingle: &str| {
        let base = fnv1a(shingle.as_bytes());
        for (slot, seed) in sig.iter_mut().zip(SEEDS.iter()) {
            let h = mix(base ^ seed);
            if h < *slot {
                *slot = h;
            }
        }
    };
    if chars.len() <= SHINGLE {
        feed(normalised);
    } else {
        for start in 0..=chars.len() - SHINGLE {
            let from = chars[start].0;
            let to = chars
                .get(start + SHINGLE)
                .map_or(normalised.len(), |(i, _)| *i);
            feed(&normalised[from..to]);
        }
    }
    Some(sig)
}

/// Estimated Jaccard similarity of the two shingle sets.
pub fn similarity(a: &Signature, b: &Signature) -> f64 {
    let same = a.iter().zip(b.iter()).filter(|(x, y)| x == y).count();
    same as f64 / SIGNATURE_LEN as f64
}

/// One key per LSH band; near-duplicates share at least one with high probability.
pub fn band_keys(sig: &Signature) -> [u64; BANDS] {
    let mut keys = [0u64; BANDS];
    for (band, key) in keys.iter_mut().enumerate() {
        let mut h = mix(band as u64 + 1);
        for v in &sig[band * BAND_ROWS..(band + 1) * BAND_ROWS] {
            h = mix(h ^ v);
        }
        *key = h;
    }
    keys
}

/// Stable 64-bit hash of a string (feature keys: links, names, invite links).
pub fn key_of(s: &str) -> u64 {
    mix(fnv1a(s.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalise_collapses_digits_case_and_punctuation() {
        assert_eq!(normalise("Earn 500$ TODAY!!  Go"), "earn # today go");
        assert_eq!(
            normalise("  ＥＡＲＮ\u{00A0}700 today go "),
            "earn # today go"
        );
    }

    #[test]
    fn near_duplicates_score_high_and_unrelated_low() {
        let a = signature(&normalise(
            "Hot offer: earn 500$ a day from home, write me in private now",
        ))
        .unwrap();
        let b = signature(&normalise(
            "Hot offer!! earn 700$ a day from home, write me in private!",
        ))
        .unwrap();
        let c = signature(&normalise(
            "Does anyone know when the next meetup in Berlin happens?",
        ))
        .unwrap();
        assert!(similarity(&a, &b) > 0.7, "{}", similarity(&a, &b));
        assert!(similarity(&a, &c) < 0.2, "{}", similarity(&a, &c));
        let shared = band_keys(&a)
            .iter()
            .zip(band_keys(&b).iter())
            .filter(|(x, y)| x == y)
            .count();
        assert!(shared > 0);
    }

    #[test]
    fn huge_and_weird_text_is_bounded() {
        let zalgo = "z\u{0336}\u{0337}a\u{0338}".repeat(300_000);
        assert!(normalise(&zalgo).chars().count() <= MAX_NORMALISED_CHARS);
        assert!(signature(&normalise(&zalgo)).is_some());
        assert!(signature(&normalise("!!! ...")).is_none());
    }
}
