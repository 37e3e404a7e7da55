//! `honeypot`: similarity to known spam templates (shipped samples and moderator labels).
//! An inverted index over distinctive words finds a few candidates sharing most words, so the cost
//! grows with the message, not with the number of templates; normalised Levenshtein distance
//! (strsim) then confirms a candidate.

use super::tokens::{Token, Tokens, WORD_SEED, hash_bytes};
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
    chars: usize,
    words: usize,
}

#[derive(Debug, Clone, Default)]
pub struct TemplateIndex {
    templates: Vec<Template>,
    /// Per word hash: ignored, or the templates holding it (one lookup per word of a check).
    words: FastMap<u64, WordEntry>,
    seen: FastSet<u64>,
}

#[derive(Debug, Clone)]
enum WordEntry {
    /// Too common to identify a template (the excluded-tokens list).
    Ignored,
    /// Ids of the templates with this distinctive word.
    Templates(Vec<u32>),
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

/// [`prefix`] of a normalised text and its length in characters, found from its words
/// (separated by spaces, one byte each) instead of counting every character.
fn prefix_of_words<'a>(text: &'a str, tokens: &Tokens) -> (&'a str, usize) {
    let limit = COMPARE_CHARS as u32;
    // The last word starting at or before the limit.
    let at = tokens.list.partition_point(|t| t.chars_before <= limit);
    let (end, chars) = match at.checked_sub(1).map(|k| &tokens.list[k]) {
        None => (0, 0),
        Some(t) if t.chars_before + t.chars > limit => {
            let word = tokens.text(text, t);
            let keep = (limit - t.chars_before) as usize;
            let inside = word.char_indices().nth(keep).map_or(word.len(), |(i, _)| i);
            (t.start as usize + inside, limit)
        }
        // Spaces after the word, up to the limit.
        Some(t) => {
            let spaces = (limit - t.chars_before - t.chars) as usize;
            let end = (t.end as usize + spaces).min(text.len());
            (
                end,
                t.chars_before + t.chars + (end - t.end as usize) as u32,
            )
        }
    };
    match text.get(..end) {
        Some(p) if !tokens.list.is_empty() => (p, chars as usize),
        // No words (or not a normalised text): count the characters.
        _ => {
            let p = prefix(text);
            (p, p.chars().count())
        }
    }
}

fn prefix(text: &str) -> &str {
    super::normalize::first_chars(text, COMPARE_CHARS)
}

/// A set of word hashes for one lookup: open addressing in a table that is never cleared, each
/// slot stamped with the lookup it belongs to.
#[derive(Debug, Clone, Default)]
struct WordSet {
    slots: Vec<(u64, u32)>,
    stamp: u32,
}

impl WordSet {
    /// Enough for every word of the compared prefix (a word takes at least two characters).
    const SLOTS: usize = 256;

    fn clear(&mut self) {
        if self.slots.is_empty() || self.stamp == u32::MAX {
            self.slots = vec![(0, 0); Self::SLOTS];
            self.stamp = 0;
        }
        self.stamp += 1;
    }

    /// Adds `hash`; false if it was there.
    #[inline]
    fn insert(&mut self, hash: u64) -> bool {
        let mask = Self::SLOTS - 1;
        // Exactly SLOTS long: masked indexes need no bounds check.
        let slots = &mut self.slots[..Self::SLOTS];
        let mut i = (hash >> 40) as usize & mask;
        loop {
            let slot = &mut slots[i];
            if slot.1 != self.stamp {
                *slot = (hash, self.stamp);
                return true;
            }
            if slot.0 == hash {
                return false;
            }
            i = (i + 1) & mask;
        }
    }
}

/// Reusable buffers of one lookup.
#[derive(Debug, Clone, Default)]
pub struct MatchScratch {
    /// The distinctive words met so far in this lookup.
    words: WordSet,
    /// Shared distinctive words per template id, and the ids touched.
    shared: Vec<u32>,
    touched: Vec<u32>,
    candidates: Vec<(u32, u32)>,
}

impl TemplateIndex {
    /// `ignored`: words too common to identify a template (the excluded-tokens list).
    pub fn new(ignored: HashSet<String>) -> TemplateIndex {
        TemplateIndex {
            words: ignored
                .iter()
                .map(|w| (hash_bytes(WORD_SEED, w.as_bytes()), WordEntry::Ignored))
                .collect(),
            ..TemplateIndex::default()
        }
    }

    fn is_ignored(&self, hash: u64) -> bool {
        matches!(self.words.get(&hash), Some(WordEntry::Ignored))
    }

    /// The hash of token `t` as far as it lies within the compared prefix, if it is a word of
    /// 3+ letters there (ignored words included).
    #[inline(always)]
    fn prefix_word_hash(normalized: &str, tokens: &Tokens, t: &Token) -> Option<u64> {
        if t.chars < 3 {
            return None;
        }
        if t.chars_before + t.chars <= COMPARE_CHARS as u32 {
            return Some(t.hash);
        }
        Self::cut_word_hash(normalized, tokens, t)
    }

    /// The word the prefix cuts counts by its part inside.
    #[cold]
    fn cut_word_hash(normalized: &str, tokens: &Tokens, t: &Token) -> Option<u64> {
        let word = tokens.text(normalized, t);
        let keep = (COMPARE_CHARS as u32 - t.chars_before) as usize;
        if keep < 3 {
            return None;
        }
        let end = word.char_indices().nth(keep).map_or(word.len(), |(i, _)| i);
        Some(hash_bytes(WORD_SEED, &word.as_bytes()[..end]))
    }

    /// Hashes of the words of 3+ letters within the compared prefix, minus ignored ones.
    fn distinctive_words(&self, normalized: &str, tokens: &Tokens, out: &mut Vec<u64>) {
        out.clear();
        for t in &tokens.list {
            if t.chars_before >= COMPARE_CHARS as u32 {
                break;
            }
            if let Some(hash) = Self::prefix_word_hash(normalized, tokens, t)
                && !self.is_ignored(hash)
            {
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
            chars: text.chars().count(),
            text,
            words: words.len(),
        });
        for w in words {
            let entry = self
                .words
                .entry(w)
                .or_insert_with(|| WordEntry::Templates(Vec::new()));
            if let WordEntry::Templates(ids) = entry {
                ids.push(id);
            }
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
        // One pass over the words: each distinct distinctive word counts once for every template
        // holding it (a set instead of sorting the words).
        // A power of two long, so `& mask` keeps template ids in range without a bounds check
        // (the entries past the last template stay 0).
        scratch
            .shared
            .resize(self.templates.len().next_power_of_two(), 0);
        let shared = &mut scratch.shared[..];
        let mask = shared.len() - 1;
        scratch.touched.clear();
        scratch.words.clear();
        let mut distinct = 0usize;
        for t in &tokens.list {
            if t.chars_before >= COMPARE_CHARS as u32 {
                break;
            }
            let Some(hash) = Self::prefix_word_hash(normalized, tokens, t) else {
                continue;
            };
            let entry = self.words.get(&hash);
            if matches!(entry, Some(WordEntry::Ignored)) || !scratch.words.insert(hash) {
                continue;
            }
            distinct += 1;
            if let Some(WordEntry::Templates(ids)) = entry {
                for &id in ids {
                    let n = &mut shared[id as usize & mask];
                    if *n == 0 {
                        scratch.touched.push(id);
                    }
                    *n += 1;
                }
            }
        }
        if distinct < MIN_WORDS {
            for &id in &scratch.touched {
                shared[id as usize & mask] = 0;
            }
            return None;
        }
        // Edit distance below d needs most words in common; half is a safe lower bound.
        scratch.candidates.clear();
        for &id in &scratch.touched {
            let n = std::mem::take(&mut shared[id as usize & mask]);
            let t = &self.templates[id as usize];
            if n as usize * 2 >= t.words.max(distinct) {
                scratch.candidates.push((id, n));
            }
        }
        let candidates = &mut scratch.candidates;
        if candidates.is_empty() {
            return None;
        }
        candidates.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let (text, chars) = prefix_of_words(normalized, tokens);
        let mut best: Option<TemplateMatch> = None;
        for &(id, _) in candidates.iter().take(MAX_CANDIDATES) {
            let t = &self.templates[id as usize];
            // Lengths first: no hash of the whole prefix needed.
            if t.text == text {
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
    fn the_prefix_found_from_words_is_the_counted_prefix() {
        let samples = crate::engine::data::TG_SPAM_SPAM
            .lines()
            .chain(crate::engine::data::MONALENKA_HAM.lines());
        let random =
            crate::engine::tests::random_texts(&["a", "ж", " ", "😀", "1", "é"], 400, 3_000);
        for raw in samples.chain(random.iter().map(String::as_str)) {
            let mut norm = crate::engine::Normalized::default();
            let mut tokens = Tokens::default();
            crate::engine::normalize_with_tokens(raw, &mut norm, &mut tokens);
            let expected = prefix(&norm.text);
            assert_eq!(
                prefix_of_words(&norm.text, &tokens),
                (expected, expected.chars().count()),
                "{raw}"
            );
        }
    }

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
