//! Text fingerprints shared by the cluster graph and the raid text trigger: aggressive
//! normalisation, character shingles and MinHash signatures with LSH band keys.

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

/// Only this much of a huge input is normalised at all.
const MAX_INPUT_BYTES: usize = 16 * 1024;

/// The engine's normalisation (one place for NFKC, case, diacritics and lookalikes) with digit
/// runs collapsed to `#`: "Earn 500$ TODAY!!" and "earn 700 $ today" normalise alike.
pub fn normalise(text: &str) -> String {
    let text = &text[..text.floor_char_boundary(MAX_INPUT_BYTES)];
    let words = crate::engine::normalize(text).text;
    let mut out = String::with_capacity(words.len().min(MAX_NORMALISED_CHARS));
    let mut chars = 0usize;
    let mut last_digit = false;
    for c in words.chars() {
        if chars >= MAX_NORMALISED_CHARS {
            break;
        }
        if c.is_numeric() {
            if !last_digit {
                out.push('#');
                chars += 1;
            }
            last_digit = true;
            continue;
        }
        last_digit = false;
        out.push(c);
        chars += 1;
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

/// SplitMix64 finaliser: a cheap, well-mixed 64-bit permutation.
const fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// MinHash function `i` is `(x ^ SEEDS[i]) * MULTIPLIERS[i]` over an already mixed shingle hash:
/// one multiply per function (the minimum is decided by the product's well-mixed high bits).
const SEEDS: [u64; SIGNATURE_LEN] = constants(0x9e37_79b9_7f4a_7c15);
const MULTIPLIERS: [u64; SIGNATURE_LEN] = constants(0xd1b5_4a32_d192_ed03);

const fn constants(salt: u64) -> [u64; SIGNATURE_LEN] {
    let mut out = [0u64; SIGNATURE_LEN];
    let mut i = 0;
    while i < SIGNATURE_LEN {
        out[i] = mix((i as u64 + 1).wrapping_mul(salt)) | 1;
        i += 1;
    }
    out
}

/// MinHash signature of a normalised text over character shingles. `None` for an empty text.
pub fn signature(normalised: &str) -> Option<Signature> {
    if normalised.is_empty() {
        return None;
    }
    let bytes = normalised.as_bytes();
    let mut sig = [u64::MAX; SIGNATURE_LEN];
    let mut feed = |shingle: &[u8]| {
        let base = mix(fnv1a(shingle));
        for ((slot, seed), multiplier) in sig.iter_mut().zip(SEEDS).zip(MULTIPLIERS) {
            *slot = (*slot).min((base ^ seed).wrapping_mul(multiplier));
        }
    };
    // Byte offsets of the last SHINGLE character starts, as a ring.
    let mut starts = [0usize; SHINGLE];
    let mut count = 0usize;
    for (i, _) in normalised.char_indices() {
        if count >= SHINGLE {
            feed(&bytes[starts[count % SHINGLE]..i]);
        }
        starts[count % SHINGLE] = i;
        count += 1;
    }
    if count <= SHINGLE {
        feed(bytes);
    } else {
        feed(&bytes[starts[count % SHINGLE]..]);
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
