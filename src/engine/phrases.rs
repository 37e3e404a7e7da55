//! Phrases of the normalised text, found in one pass of one automaton: the stop phrases
//! (substrings, editable by moderators) and the spam concepts of `assets/engine/concepts.txt`
//! (groups of words meaning one idea in many wordings and languages).

use super::normalize::normalize;
use aho_corasick::automaton::Automaton;
use aho_corasick::dfa::DFA;
use aho_corasick::{Anchored, MatchKind, StartKind};
use std::collections::{HashMap, HashSet};

/// Concept groups, in the order of their classifier features; `concepts.txt` sections must use
/// exactly these names.
pub const CONCEPTS: [&str; 15] = [
    "contact_dm",
    "profile_pointer",
    "income",
    "job_offer",
    "crypto",
    "betting",
    "adult",
    "promo",
    "channel_promo",
    "course",
    "urgency",
    "illicit",
    "testimonial",
    "solicitation",
    "spam_warning",
];

/// The stop phrases shipped in assets/.
pub const SHIPPED_STOP_PHRASES: &str = include_str!("../../assets/stop-phrases.txt");

/// What a stop phrase line is compared by: its normalised text, `=` kept for whole-message
/// entries; `None` for comments and lines that normalise to nothing.
pub fn stop_phrase_key(line: &str) -> Option<String> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    let (exact, text) = match line.strip_prefix('=') {
        Some(rest) => (true, rest),
        None => (false, line),
    };
    let n = normalize(text).text;
    (!n.is_empty()).then(|| if exact { format!("={n}") } else { n })
}

/// Longest stop phrase a moderator may add: the automaton grows with the phrases' length.
pub const MAX_STOP_PHRASE_CHARS: usize = 200;

/// The key of `phrase` (see [`stop_phrase_key`]) when it can be a stop phrase; else why not.
pub fn check_stop_phrase(phrase: &str) -> Result<String, String> {
    let chars = phrase.trim().chars().count();
    if chars > MAX_STOP_PHRASE_CHARS {
        return Err(format!(
            "a stop phrase is at most {MAX_STOP_PHRASE_CHARS} characters (this one has {chars})"
        ));
    }
    match stop_phrase_key(phrase) {
        Some(key) => Ok(key),
        None => Err(format!(
            "\"{}\" has no letters or digits left to match",
            phrase.trim()
        )),
    }
}

/// The stop phrases in effect: the shipped ones a moderator did not switch off, then the ones
/// moderators added. `edits` are (phrase, enabled), oldest first; a later edit of the same phrase
/// wins.
pub fn effective_stop_phrases<'a>(edits: impl IntoIterator<Item = (&'a str, bool)>) -> Vec<String> {
    let mut latest: Vec<(String, &str, bool)> = Vec::new();
    for (phrase, enabled) in edits {
        let Ok(key) = check_stop_phrase(phrase) else {
            continue;
        };
        latest.retain(|(k, _, _)| *k != key);
        latest.push((key, phrase.trim(), enabled));
    }
    let off = |key: &str| latest.iter().any(|(k, _, on)| k == key && !on);
    let mut out: Vec<String> = SHIPPED_STOP_PHRASES
        .lines()
        .filter(|l| stop_phrase_key(l).is_some_and(|k| !off(&k)))
        .map(str::to_string)
        .collect();
    out.extend(
        latest
            .iter()
            .filter(|(_, _, on)| *on)
            .map(|(_, phrase, _)| phrase.to_string()),
    );
    out
}

/// What one pattern of the automaton stands for.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Stop(u32),
    Concept { concept: u8, word_end: bool },
}

/// A concept pattern as written in the asset, for reasons.
#[derive(Debug, Clone)]
struct ConceptPattern {
    concept: u8,
    /// Normalised, as matched.
    text: String,
    /// As written in the asset, for reasons ("присоединяйтесь", not "присоединяитесь").
    shown: String,
    word_end: bool,
}

/// Stop phrases and concepts, matched together.
#[derive(Debug, Clone)]
pub struct Phrases {
    /// Stop phrases, normalised: substrings, and `=phrase` entries that must equal the whole text.
    pub contains: Vec<String>,
    /// Each of `contains` as written, for reasons.
    contains_shown: Vec<String>,
    pub exact: HashSet<String>,
    concepts: Vec<ConceptPattern>,
    kinds: Vec<Kind>,
    /// Byte length of each pattern, to find where a match starts.
    lengths: Vec<u32>,
    matcher: Option<Table>,
}

/// The automaton's transitions as one flat table, so the scan is a load per byte: bytes in no
/// pattern share a class, match states come first and the state ids are premultiplied by the
/// number of classes.
#[derive(Debug, Clone)]
struct Table {
    classes: Box<[u32; 256]>,
    trans: Vec<u32>,
    start: u32,
    /// States below this id are match states.
    match_limit: u32,
    stride: u32,
    /// Patterns ending in match state k: `ids[offsets[k]..offsets[k + 1]]`, in the automaton's order.
    offsets: Vec<u32>,
    ids: Vec<u32>,
}

impl Table {
    fn from_dfa(dfa: &DFA, patterns: &[&str]) -> Option<Table> {
        let start = dfa.start_state(Anchored::No).ok()?;
        // A byte in no pattern leads every state where it leads the start state.
        let mut classes = Box::new([0u32; 256]);
        let mut stride = 1u32;
        for p in patterns {
            for &b in p.as_bytes() {
                if classes[b as usize] == 0 {
                    classes[b as usize] = stride;
                    stride += 1;
                }
            }
        }
        let mut representative = vec![0u8; stride as usize];
        for b in 0..=255u8 {
            representative[classes[b as usize] as usize] = b;
        }
        // Every state reachable from the start, then match states first.
        let mut states = vec![start];
        let mut seen = HashSet::from([start.as_u32()]);
        let mut k = 0;
        while k < states.len() {
            for &b in &representative {
                let next = dfa.next_state(Anchored::No, states[k], b);
                if seen.insert(next.as_u32()) {
                    states.push(next);
                }
            }
            k += 1;
        }
        states.sort_by_key(|&s| !dfa.is_match(s));
        let matches = states.iter().filter(|&&s| dfa.is_match(s)).count();
        let new_id: HashMap<u32, u32> = states
            .iter()
            .enumerate()
            .map(|(k, s)| (s.as_u32(), k as u32 * stride))
            .collect();
        let mut trans = Vec::with_capacity(states.len() * stride as usize);
        for &s in &states {
            for &b in &representative {
                trans.push(new_id[&dfa.next_state(Anchored::No, s, b).as_u32()]);
            }
        }
        // A power of two long, so the scan's index is masked into range instead of checked
        // (the padding is never reached).
        trans.resize(trans.len().next_power_of_two(), 0);
        let (mut offsets, mut ids) = (vec![0u32], Vec::new());
        for &s in &states[..matches] {
            for m in 0..dfa.match_len(s) {
                ids.push(dfa.match_pattern(s, m).as_u32());
            }
            offsets.push(ids.len() as u32);
        }
        Some(Table {
            classes,
            trans,
            start: new_id[&start.as_u32()],
            match_limit: matches as u32 * stride,
            stride,
            offsets,
            ids,
        })
    }
}

/// The concept of people warning each other; "не развод", "no scam" and "без обмана" are spam's
/// reassurances, not warnings.
const WARNING: u8 = (CONCEPTS.len() - 1) as u8;

/// Words that turn the warning after them into its opposite ("это не развод", "not a scam").
const NEGATIONS: [&str; 8] = ["не", "без", "ни", "нет", "no", "not", "nie", "ні"];

/// Whether the word before byte `start` (a word start), or the one before an article, negates.
fn negated(bytes: &[u8], start: usize) -> bool {
    let mut end = start;
    for _ in 0..2 {
        if end == 0 {
            return false;
        }
        let before = &bytes[..end - 1];
        let word_start = before.iter().rposition(|&b| b == b' ').map_or(0, |i| i + 1);
        let word = &before[word_start..];
        if NEGATIONS.iter().any(|n| n.as_bytes() == word) {
            return true;
        }
        if word != b"a" && word != b"an" {
            return false;
        }
        end = word_start;
    }
    false
}

/// The phrases found in one text: the first stop phrase and, per concept, the first pattern.
#[derive(Debug, Clone, Copy, Default)]
pub struct PhraseHits {
    pub stop: Option<u32>,
    pub concepts: [Option<u32>; CONCEPTS.len()],
}

/// Parses `concepts.txt`: `[name]` sections of patterns; `#` comments; a trailing `$` asks for a
/// word end. Errors name the line.
fn parse_concepts(text: &str) -> Result<Vec<ConceptPattern>, String> {
    let mut out: Vec<ConceptPattern> = Vec::new();
    let mut current: Option<u8> = None;
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            let Some(k) = CONCEPTS.iter().position(|c| *c == name) else {
                return Err(format!(
                    "concepts.txt: line {}: unknown concept [{name}]",
                    i + 1
                ));
            };
            current = Some(k as u8);
            continue;
        }
        let Some(concept) = current else {
            return Err(format!(
                "concepts.txt: line {}: pattern before any [concept]",
                i + 1
            ));
        };
        let (body, word_end) = match line.strip_suffix('$') {
            Some(b) => (b, true),
            None => (line, false),
        };
        let text = normalize(body).text;
        if text.is_empty() {
            return Err(format!(
                "concepts.txt: line {}: {line:?} has no letters or digits",
                i + 1
            ));
        }
        let duplicate = out
            .iter()
            .any(|p| p.concept == concept && p.text == text && p.word_end == word_end);
        if !duplicate {
            out.push(ConceptPattern {
                concept,
                shown: body.trim().to_string(),
                text,
                word_end,
            });
        }
    }
    Ok(out)
}

impl Phrases {
    /// The shipped stop phrases and concepts.
    pub fn shipped() -> Phrases {
        let concepts = parse_concepts(include_str!("../../assets/engine/concepts.txt"))
            .expect("the shipped concepts.txt parses (unit-tested)");
        let mut phrases = Phrases {
            contains: Vec::new(),
            contains_shown: Vec::new(),
            exact: HashSet::new(),
            concepts,
            kinds: Vec::new(),
            lengths: Vec::new(),
            matcher: None,
        };
        phrases.set_stop_phrases(SHIPPED_STOP_PHRASES.lines());
        phrases
    }

    /// Replaces the stop phrases (lines; `=phrase` must equal the whole message; `#` comments).
    pub fn set_stop_phrases<S: AsRef<str>>(&mut self, lines: impl IntoIterator<Item = S>) {
        self.contains.clear();
        self.contains_shown.clear();
        self.exact.clear();
        for line in lines {
            let line = line.as_ref().trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            match line.strip_prefix('=') {
                Some(exact) => {
                    let n = normalize(exact).text;
                    if !n.is_empty() {
                        self.exact.insert(n);
                    }
                }
                None => {
                    let n = normalize(line).text;
                    if !n.is_empty() && !self.contains.contains(&n) {
                        self.contains.push(n);
                        self.contains_shown.push(line.to_string());
                    }
                }
            }
        }
        self.build();
    }

    fn build(&mut self) {
        let mut patterns: Vec<&str> = Vec::new();
        self.kinds.clear();
        for (i, p) in self.contains.iter().enumerate() {
            patterns.push(p);
            self.kinds.push(Kind::Stop(i as u32));
        }
        for p in &self.concepts {
            patterns.push(&p.text);
            self.kinds.push(Kind::Concept {
                concept: p.concept,
                word_end: p.word_end,
            });
        }
        self.lengths = patterns.iter().map(|p| p.len() as u32).collect();
        // Standard semantics so that every state knows every pattern ending there, not just the
        // leftmost; a DFA because the text is scanned once per check and the set rarely changes.
        self.matcher = DFA::builder()
            .match_kind(MatchKind::Standard)
            .start_kind(StartKind::Unanchored)
            .prefilter(false)
            .build(&patterns)
            .ok()
            .and_then(|dfa| Table::from_dfa(&dfa, &patterns));
    }

    /// Every stop phrase and concept in `normalized` (words joined by single spaces).
    pub fn scan(&self, normalized: &str) -> PhraseHits {
        let mut hits = PhraseHits::default();
        let Some(table) = &self.matcher else {
            return hits;
        };
        let bytes = normalized.as_bytes();
        let (trans, classes, limit) = (&table.trans[..], &*table.classes, table.match_limit);
        // `trans` is a power of two long and never empty: `& mask` keeps every index in range.
        let mask = trans.len() - 1;
        let mut state = table.start;
        let found = |state: u32, end: usize, hits: &mut PhraseHits| {
            let k = (state / table.stride) as usize;
            let ids = &table.ids[table.offsets[k] as usize..table.offsets[k + 1] as usize];
            self.record(ids, bytes, end, hits);
        };
        // Four bytes per round: a quarter of the loop bookkeeping.
        let mut quads = bytes.chunks_exact(4);
        let mut end = 0;
        for quad in &mut quads {
            for &byte in quad {
                state = trans[(state + classes[byte as usize]) as usize & mask];
                end += 1;
                if state < limit {
                    found(state, end, &mut hits);
                }
            }
        }
        for &byte in quads.remainder() {
            state = trans[(state + classes[byte as usize]) as usize & mask];
            end += 1;
            if state < limit {
                found(state, end, &mut hits);
            }
        }
        hits
    }

    /// The patterns `ids` end at byte `end` of `bytes`.
    fn record(&self, ids: &[u32], bytes: &[u8], end: usize, hits: &mut PhraseHits) {
        let stops = self.contains.len() as u32;
        for &id in ids {
            match self.kinds[id as usize] {
                Kind::Stop(i) => {
                    hits.stop.get_or_insert(i);
                }
                Kind::Concept { concept, word_end } => {
                    let slot = &mut hits.concepts[concept as usize];
                    if slot.is_some() {
                        continue;
                    }
                    let start = end - self.lengths[id as usize] as usize;
                    let starts_word = start == 0 || bytes[start - 1] == b' ';
                    let ends_ok = !word_end || end == bytes.len() || bytes[end] == b' ';
                    if starts_word && ends_ok && !(concept == WARNING && negated(bytes, start)) {
                        *slot = Some(id - stops);
                    }
                }
            }
        }
    }

    /// The first stop phrase `normalized` contains.
    pub fn find_stop(&self, normalized: &str) -> Option<&str> {
        self.scan(normalized).stop.map(|i| self.stop_text(i))
    }

    pub fn stop_text(&self, id: u32) -> &str {
        self.contains_shown
            .get(id as usize)
            .map_or("", String::as_str)
    }

    /// The pattern of a concept hit, as written in concepts.txt.
    pub fn concept_text(&self, id: u32) -> &str {
        self.concepts
            .get(id as usize)
            .map_or("", |p| p.shown.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_concepts_parse_and_every_concept_has_patterns() {
        let concepts = parse_concepts(include_str!("../../assets/engine/concepts.txt")).unwrap();
        for (k, name) in CONCEPTS.iter().enumerate() {
            assert!(
                concepts.iter().filter(|p| p.concept as usize == k).count() >= 5,
                "{name}"
            );
        }
    }

    #[test]
    fn bad_concept_files_name_the_line() {
        let err = parse_concepts("[income]\nдоход\n[nonsense]\nx\n").unwrap_err();
        assert!(err.contains("line 3") && err.contains("nonsense"), "{err}");
        let err = parse_concepts("доход\n").unwrap_err();
        assert!(err.contains("line 1"), "{err}");
    }

    /// The flat table finds what the automaton's own transitions find, match for match.
    #[test]
    fn the_table_scan_agrees_with_the_automaton() {
        let p = Phrases::shipped();
        let mut patterns: Vec<&str> = p.contains.iter().map(String::as_str).collect();
        patterns.extend(p.concepts.iter().map(|c| c.text.as_str()));
        let dfa = DFA::builder()
            .match_kind(MatchKind::Standard)
            .start_kind(StartKind::Unanchored)
            .prefilter(false)
            .build(&patterns)
            .unwrap();
        let texts = [
            crate::engine::data::TG_SPAM_SPAM,
            crate::engine::data::TG_SPAM_HAM,
            crate::engine::data::WARDEN_SPAM,
        ];
        let mut found = 0;
        for line in texts.iter().flat_map(|t| t.lines()) {
            let text = normalize(line).text;
            let bytes = text.as_bytes();
            let mut expected = PhraseHits::default();
            let mut state = dfa.start_state(Anchored::No).unwrap();
            for (i, &byte) in bytes.iter().enumerate() {
                state = dfa.next_state(Anchored::No, state, byte);
                if dfa.is_match(state) {
                    let ids: Vec<u32> = (0..dfa.match_len(state))
                        .map(|k| dfa.match_pattern(state, k).as_u32())
                        .collect();
                    p.record(&ids, bytes, i + 1, &mut expected);
                }
            }
            let got = p.scan(&text);
            assert_eq!(format!("{got:?}"), format!("{expected:?}"), "{text}");
            found += got.concepts.iter().flatten().count() + got.stop.is_some() as usize;
        }
        assert!(found > 1_000, "{found}");
    }

    /// The pattern (as written) by which concept `name` is found in `text`.
    fn concept_hit(p: &Phrases, text: &str, name: &str) -> Option<String> {
        let k = CONCEPTS.iter().position(|c| *c == name).unwrap();
        p.scan(&normalize(text).text).concepts[k].map(|id| p.concept_text(id).to_string())
    }

    #[test]
    fn concepts_start_at_words_and_dollar_ends_them() {
        let p = Phrases::shipped();
        let concept = |text: &str, name: &str| concept_hit(&p, text, name);
        assert_eq!(
            concept("Зарабатываю от 500$", "income").as_deref(),
            Some("зарабатыва")
        );
        assert_eq!(
            concept("Пиши в ЛС!", "contact_dm").as_deref(),
            Some("пиши в лс")
        );
        // "лс" must end the word; "доход" must start one.
        assert_eq!(concept("Пиши в лсд", "contact_dm"), None);
        assert_eq!(concept("подоходный налог", "income"), None);
        assert!(p.find_stop(&normalize("детали в ЛС").text).is_some());
    }

    #[test]
    fn occult_doxxing_and_card_renting_offers_are_illicit() {
        let p = Phrases::shipped();
        let illicit = |text: &str| concept_hit(&p, text, "illicit").is_some();
        for offer in [
            "Сильный приворот, верну любимого за 3 дня",
            "Снятие порчи и сглаза по фото",
            "Пробью человека по номеру телефона",
            "Куплю вашу карту Сбер, дорого",
            "Напишу курсовую за сутки",
        ] {
            assert!(illicit(offer), "{offer}");
        }
        for chat in [
            "Тьфу-тьфу, чтобы не сглазить",
            "Курсовая горит, помогите с темой",
        ] {
            assert!(!illicit(chat), "{chat}");
        }
    }

    /// "не развод" and "not a scam" reassure the reader of a spam offer; "это развод" warns.
    #[test]
    fn a_negated_warning_is_a_reassurance() {
        let p = Phrases::shipped();
        let found = |text: &str, name: &str| concept_hit(&p, text, name).is_some();
        for warning in ["Это развод, не ведитесь", "it's a scam", "Шахрай!"]
        {
            assert!(found(warning, "spam_warning"), "{warning}");
        }
        for reassurance in [
            "Это не развод, всё честно",
            "no scam, real profit",
            "This is not a scam",
            "Сразу на карту, без обмана",
        ] {
            assert!(!found(reassurance, "spam_warning"), "{reassurance}");
            assert!(found(reassurance, "testimonial"), "{reassurance}");
        }
        for word in NEGATIONS {
            assert_eq!(normalize(word).text, word, "compared with normalised text");
        }
        // Only the word right before (or before an article) negates.
        assert!(found("не знаю, но это развод", "spam_warning"));
    }
}
