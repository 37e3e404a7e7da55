//! `honeypot`: similarity to known spam templates (shipped samples and moderator labels).
//! An inverted index over distinctive words finds a few candidates sharing most words, so the cost
//! grows with the message, not with the number of templates; normalised Levenshtein distance
//! (strsim) then confirms a candidate.

use super::tokens::{Tokens, WORD_SEED, hash_bytes};
use std::collections::HashSet;

// Keys here are already word hashes or small ids: foldhash instead of SipHash.
type FastMap<K, V> = foldhash::HashMap<K, V>;
type FastSet<K> = foldhash::HashSet<K>;

/// Texts are compared on their first this-many characters: enough to recognise a template, and it
/// bounds the quadratic edit distance.
const COMPARE_CHARS: usize = 240;
const MIN_WORDS: usize = 4;
const MAX_CANDIDATES: usize = 2;

#[derive(Debug, Clone)]
struct Template {
    text: String,
    hash: u64,
    chars: usize,
    words: usize,
}

#[derive(Debug, Clone, Default)]
pub struct TemplateIndex {
    templates: Vec<Template>,
    postings: FastMap<u64, Vec<u32>>,
    seen: FastSet<u64>,
    /// Hashes of the ignored words.
    ignored: FastSet<u64>,
}

pub struct TemplateMatch<'a> {
    pub distance: f32,
    pub template: &'a str,
}

fn text_hash(s: &str) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    for &b in s.as_bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

fn prefix(text: &str) -> &str {
    match text.char_indices().nth(COMPARE_CHARS) {
        Some((i, _)) => &text[..i],
        None => text,
    }
}

/// Reusable buffers of one lookup.
#[derive(Debug, Clone, Default)]
pub struct MatchScratch {
    words: Vec<u64>,
    /// Shared distinctive words per template id, and the ids touched.
    shared: Vec<u32>,
    touched: Vec<u32>,
    candidates: Vec<(u32, u32)>,
}

impl TemplateIndex {
    /// `ignored`: words too common to identify a template (the excluded-tokens list).
    pub fn new(ignored: HashSet<String>) -> TemplateIndex {
        TemplateIndex {
            ignored: ignored
                .iter()
                .map(|w| hash_bytes(WORD_SEED, w.as_bytes()))
                .collect(),
            ..TemplateIndex::default()
        }
    }

    /// Hashes of the words of 3+ letters within the compared prefix, minus ignored ones.
    fn distinctive_words(&self, normalized: &str, tokens: &Tokens, out: &mut Vec<u64>) {
        out.clear();
        let limit = COMPARE_CHARS as u32;
        for t in &tokens.list {
            if t.chars_before >= limit {
                break;
            }
            let hash = if t.chars_before + t.chars <= limit {
                t.hash
            } else {
                // The word the prefix cuts counts by its part inside.
                let word = tokens.text(normalized, t);
                let keep = (limit - t.chars_before) as usize;
                let end = word.char_indices().nth(keep).map_or(word.len(), |(i, _)| i);
                if keep < 3 {
                    continue;
                }
                hash_bytes(WORD_SEED, &word.as_bytes()[..end])
            };
            if t.chars >= 3 && !self.ignored.contains(&hash) {
                out.push(hash);
            }
        }
        out.sort_unstable();
        out.dedup();
    }

    pub fn len(&self) -> usize {
        self.templates.len()
    }

    pub fn is_empty(&self) -> bool {
        self.templates.is_empty()
    }

    /// Adds a normalised spam text; too short or already known texts are skipped.
    pub fn add(&mut self, normalized: &str) {
        let mut tokens = Tokens::default();
        tokens.fill(normalized);
        let mut words = Vec::new();
        self.distinctive_words(normalized, &tokens, &mut words);
        if words.len() < MIN_WORDS || !self.seen.insert(text_hash(normalized)) {
            return;
        }
        let id = self.templates.len() as u32;
        let text = prefix(normalized).to_string();
        self.templates.push(Template {
            hash: text_hash(&text),
            chars: text.chars().count(),
            text,
            words: words.len(),
        });
        for w in words {
            self.postings.entry(w).or_default().push(id);
        }
    }

    /// The closest template within `max_distance`, if any.
    pub fn best_match(&self, normalized: &str, max_distance: f32) -> Option<TemplateMatch<'_>> {
        let mut tokens = Tokens::default();
        tokens.fill(normalized);
        self.best_match_tokens(
            normalized,
            &tokens,
            max_distance,
            &mut MatchScratch::default(),
        )
    }

    /// [`best_match`](Self::best_match) with the words already hashed and reused buffers.
    pub fn best_match_tokens(
        &self,
        normalized: &str,
        tokens: &Tokens,
        max_distance: f32,
        scratch: &mut MatchScratch,
    ) -> Option<TemplateMatch<'_>> {
        if self.templates.is_empty() {
            return None;
        }
        self.distinctive_words(normalized, tokens, &mut scratch.words);
        let words = &scratch.words;
        if words.len() < MIN_WORDS {
            return None;
        }
        scratch.shared.resize(self.templates.len(), 0);
        scratch.touched.clear();
        for w in words {
            if let Some(ids) = self.postings.get(w) {
                for &id in ids {
                    let n = &mut scratch.shared[id as usize];
                    if *n == 0 {
                        scratch.touched.push(id);
                    }
                    *n += 1;
                }
            }
        }
        // Edit distance below d needs most words in common; half is a safe lower bound.
        scratch.candidates.clear();
        for &id in &scratch.touched {
            let n = std::mem::take(&mut scratch.shared[id as usize]);
            let t = &self.templates[id as usize];
            if n as usize * 2 >= t.words.max(words.len()) {
                scratch.candidates.push((id, n));
            }
        }
        let candidates = &mut scratch.candidates;
        if candidates.is_empty() {
            return None;
        }
        candidates.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let text = prefix(normalized);
        let hash = text_hash(text);
        let chars = text.chars().count();
        let mut best: Option<TemplateMatch> = None;
        for &(id, _) in candidates.iter().take(MAX_CANDIDATES) {
            let t = &self.templates[id as usize];
            if t.hash == hash && t.text == text {
                // A verbatim copy: no need for the quadratic edit distance.
                return Some(TemplateMatch {
                    distance: 0.0,
                    template: &t.text,
                });
            }
            let longer = chars.max(t.chars).max(1);
            // Edit distance is at least the length difference.
            if (chars.abs_diff(t.chars) as f32 / longer as f32) >= max_distance {
                continue;
            }
            let distance = 1.0 - strsim::normalized_levenshtein(text, &t.text) as f32;
            if distance < max_distance && best.as_ref().is_none_or(|b| distance < b.distance) {
                best = Some(TemplateMatch {
                    distance,
                    template: &t.text,
                });
            }
        }
        best
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::normalize;

    #[test]
    fn a_reworded_template_matches_and_chatter_does_not() {
        let mut index = TemplateIndex::new(HashSet::new());
        index.add(
            &normalize("Ищу людей для удалённой работы, доход от 3000$ в неделю, пишите в личку")
                .text,
        );
        let hit = index
            .best_match(
                &normalize(
                    "ищу людeй для удаленной работы! доход от 5000$ в неделю, пишите в личку!!",
                )
                .text,
                0.3,
            )
            .expect("a near copy matches");
        assert!(hit.distance < 0.1, "{}", hit.distance);
        assert!(
            index
                .best_match(
                    &normalize("кто идёт вечером на пробежку в парк у реки").text,
                    0.3
                )
                .is_none()
        );
    }
}
