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
    hash: u64,
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
    match text.char_indices().nth(COMPARE_CHARS) {
        Some((i, _)) => &text[..i],
        None => text,
    }
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
        let mut i = (hash >> 40) as usize & mask;
        loop {
            let slot = &mut self.slots[i];
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
            hash: text_hash(&text),
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
        scratch.shared.resize(self.templates.len(), 0);
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
                    let n = &mut scratch.shared[id as usize];
                    if *n == 0 {
                        scratch.touched.push(id);
                    }
                    *n += 1;
                }
            }
        }
        if distinct < MIN_WORDS {
            for &id in &scratch.touched {
                scratch.shared[id as usize] = 0;
            }
            return None;
        }
        // Edit distance below d needs most words in common; half is a safe lower bound.
        scratch.candidates.clear();
        for &id in &scratch.touched {
            let n = std::mem::take(&mut scratch.shared[id as usize]);
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
        let hash = text_hash(text);
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
            // strsim::normalized_levenshtein, with the bit-parallel distance.
            let distance = 1.0 - (1.0 - levenshtein(text, &t.text) as f64 / longer as f64) as f32;
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

/// Levenshtein distance in characters, as `strsim::levenshtein`, by Myers' bit-parallel
/// algorithm in blocks of 64 characters of `a`: for two 240-character texts about 4 * 240 word
/// steps instead of a 240 * 240 table.
fn levenshtein(a: &str, b: &str) -> usize {
    const BLOCKS: usize = 4;
    /// Characters below this get their bit masks through a direct table.
    const DIRECT: usize = 0x480;
    let mut pattern = ['\0'; 64 * BLOCKS];
    let mut m = 0;
    for c in a.chars() {
        if m == pattern.len() {
            return strsim::levenshtein(a, b);
        }
        pattern[m] = c;
        m += 1;
    }
    if m == 0 {
        return b.chars().count();
    }
    // Slot 0 is "not in `a`"; each other character of `a` has a slot with its position masks.
    let mut direct = [0u8; DIRECT];
    let mut others: [(char, u8); 64 * BLOCKS] = [('\0', 0); 64 * BLOCKS];
    let mut other_count = 0;
    let mut masks = [[0u64; BLOCKS]; 64 * BLOCKS + 1];
    let mut slots = 0u8;
    for (k, &c) in pattern[..m].iter().enumerate() {
        let slot = if (c as usize) < DIRECT {
            let s = &mut direct[c as usize];
            if *s == 0 {
                slots += 1;
                *s = slots;
            }
            *s
        } else if let Some(&(_, s)) = others[..other_count].iter().find(|o| o.0 == c) {
            s
        } else {
            slots += 1;
            others[other_count] = (c, slots);
            other_count += 1;
            slots
        };
        masks[slot as usize][k / 64] |= 1 << (k % 64);
    }
    let slot_of = |c: char| -> usize {
        if (c as usize) < DIRECT {
            direct[c as usize] as usize
        } else {
            others[..other_count]
                .iter()
                .find(|o| o.0 == c)
                .map_or(0, |o| o.1 as usize)
        }
    };
    let blocks = m.div_ceil(64);
    let last_bit = 1u64 << ((m - 1) % 64);
    let mut pv = [!0u64; BLOCKS];
    let mut mv = [0u64; BLOCKS];
    let mut score = m as isize;
    for c in b.chars() {
        let eq = &masks[slot_of(c)];
        // Row 0 of the table is 0, 1, 2, ...: every column starts one more than the last.
        let mut carry = 1i32;
        for k in 0..blocks {
            let high = if k + 1 == blocks { last_bit } else { 1 << 63 };
            let (p, n) = (pv[k], mv[k]);
            let mut e = eq[k];
            let xv = e | n;
            if carry < 0 {
                e |= 1;
            }
            let xh = (((e & p).wrapping_add(p)) ^ p) | e;
            let mut ph = n | !(xh | p);
            let mut mh = p & xh;
            let out = if ph & high != 0 {
                1
            } else if mh & high != 0 {
                -1
            } else {
                0
            };
            ph <<= 1;
            mh <<= 1;
            if carry < 0 {
                mh |= 1;
            } else if carry > 0 {
                ph |= 1;
            }
            pv[k] = mh | !(xv | ph);
            mv[k] = ph & xv;
            carry = out;
        }
        score += carry as isize;
    }
    score as usize
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::normalize;

    #[test]
    fn bit_parallel_levenshtein_agrees_with_strsim() {
        let alphabet: Vec<char> = "ab cдж😀é\u{301}x".chars().collect();
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for round in 0..3_000 {
            // Lengths across one to four blocks and past them (the fallback).
            let max = [5, 70, 140, 300][round % 4];
            let mut a = Vec::new();
            for _ in 0..(next() % max) {
                a.push(alphabet[(next() % alphabet.len() as u64) as usize]);
            }
            // Often a near copy, as for real templates.
            let mut b = a.clone();
            if round % 2 == 0 {
                for _ in 0..(next() % 6) {
                    if !b.is_empty() {
                        let at = (next() % b.len() as u64) as usize;
                        b[at] = alphabet[(next() % alphabet.len() as u64) as usize];
                        if next() % 3 == 0 {
                            b.remove(at);
                        }
                    }
                }
            } else {
                b.clear();
                for _ in 0..(next() % max) {
                    b.push(alphabet[(next() % alphabet.len() as u64) as usize]);
                }
            }
            let (a, b): (String, String) = (a.into_iter().collect(), b.into_iter().collect());
            assert_eq!(
                levenshtein(&a, &b),
                strsim::levenshtein(&a, &b),
                "{a:?} {b:?}"
            );
        }
    }

    #[test]
    fn the_prefix_found_from_words_is_the_counted_prefix() {
        let samples = crate::engine::data::TG_SPAM_SPAM
            .lines()
            .chain(crate::engine::data::MONALENKA_HAM.lines());
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut random = Vec::new();
        for _ in 0..3_000 {
            let mut s = String::new();
            for _ in 0..(state % 400) {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                s.push(['a', 'ж', ' ', '😀', '1', 'é'][(state % 6) as usize]);
            }
            random.push(s);
        }
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
