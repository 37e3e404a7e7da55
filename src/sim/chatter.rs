//! Message text: ham from templates, spam from real tg-spam samples and templates, and the mutations
//! spammers use to slip past filters.

use crate::sim::rng::Rng;
use crate::sim::scenario::{Language, Mutation};
use std::collections::HashMap;

const HAM_EN: &str = include_str!("../../assets/chatter/ham-en.txt");
const HAM_RU: &str = include_str!("../../assets/chatter/ham-ru.txt");
const SLOTS_EN: &str = include_str!("../../assets/chatter/slots-en.txt");
const SLOTS_RU: &str = include_str!("../../assets/chatter/slots-ru.txt");
const SPAM_SEEDS: &str = include_str!("../../assets/samples/tg-spam-spam.txt");
const SPAM_EN: &str = include_str!("../../assets/chatter/spam-en.txt");
const SPAM_RU: &str = include_str!("../../assets/chatter/spam-ru.txt");

const EMOJI: &[&str] = &[
    "🔥", "💰", "✅", "🚀", "💸", "👉", "❗", "⭐", "🎁", "📈", "💎", "🤑",
];
const SPAM_DOMAINS: &[&str] = &[
    "easy-profit",
    "cryptoboost",
    "work-from-home",
    "fastcash",
    "airdrop-claim",
    "invest-pro",
    "bonus-hub",
    "earn-daily",
    "moneyflow",
    "topsignals",
];
const SPAM_TLDS: &[&str] = &["ltd", "xyz", "top", "click", "online", "site", "pro", "ru"];

/// Cyrillic letters and their Latin twins.
const LOOKALIKES: &[(char, char)] = &[
    ('а', 'a'),
    ('е', 'e'),
    ('о', 'o'),
    ('р', 'p'),
    ('с', 'c'),
    ('у', 'y'),
    ('х', 'x'),
    ('к', 'k'),
    ('А', 'A'),
    ('В', 'B'),
    ('Е', 'E'),
    ('К', 'K'),
    ('М', 'M'),
    ('Н', 'H'),
    ('О', 'O'),
    ('Р', 'P'),
    ('С', 'C'),
    ('Т', 'T'),
    ('Х', 'X'),
];

struct Lang {
    ham: Vec<&'static str>,
    spam: Vec<&'static str>,
    slots: HashMap<&'static str, Vec<&'static str>>,
}

/// Text generator for one run. Extra ham (e.g. the shipped ham samples) can be added at runtime.
pub struct Chatter {
    en: Lang,
    ru: Lang,
    seeds_en: Vec<&'static str>,
    seeds_ru: Vec<&'static str>,
    extra_ham_en: Vec<String>,
    extra_ham_ru: Vec<String>,
}

fn lines(text: &'static str) -> Vec<&'static str> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect()
}

fn slots(text: &'static str) -> HashMap<&'static str, Vec<&'static str>> {
    lines(text)
        .into_iter()
        .filter_map(|line| {
            let (name, entries) = line.split_once(':')?;
            Some((name.trim(), entries.split('|').map(str::trim).collect()))
        })
        .collect()
}

pub fn is_mostly_cyrillic(text: &str) -> bool {
    let (mut cyr, mut lat) = (0usize, 0usize);
    for c in text.chars() {
        if ('\u{400}'..='\u{4ff}').contains(&c) {
            cyr += 1;
        } else if c.is_ascii_alphabetic() {
            lat += 1;
        }
    }
    cyr > lat
}

impl Default for Chatter {
    fn default() -> Self {
        Chatter::new()
    }
}

impl Chatter {
    pub fn new() -> Chatter {
        // The seeds file is kept byte-for-byte, so it has no comment lines to skip.
        let seeds: Vec<&'static str> = SPAM_SEEDS
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        let (seeds_ru, seeds_en) = seeds.into_iter().partition(|s| is_mostly_cyrillic(s));
        Chatter {
            en: Lang {
                ham: lines(HAM_EN),
                spam: lines(SPAM_EN),
                slots: slots(SLOTS_EN),
            },
            ru: Lang {
                ham: lines(HAM_RU),
                spam: lines(SPAM_RU),
                slots: slots(SLOTS_RU),
            },
            seeds_en,
            seeds_ru,
            extra_ham_en: Vec::new(),
            extra_ham_ru: Vec::new(),
        }
    }

    /// Mix real ham lines into the chatter (sorted into languages by script).
    pub fn add_ham<I: IntoIterator<Item = String>>(&mut self, samples: I) {
        for sample in samples {
            let sample = sample.trim().to_string();
            if sample.is_empty() {
                continue;
            }
            if is_mostly_cyrillic(&sample) {
                self.extra_ham_ru.push(sample);
            } else {
                self.extra_ham_en.push(sample);
            }
        }
    }

    fn lang(&self, language: Language) -> &Lang {
        match language {
            Language::Ru => &self.ru,
            _ => &self.en,
        }
    }

    fn fill(&self, template: &str, language: Language, rng: &mut Rng) -> String {
        let lang = self.lang(language);
        let mut out = String::with_capacity(template.len() + 16);
        let mut rest = template;
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let Some(close) = rest[open..].find('}') else {
                break;
            };
            let slot = &rest[open + 1..open + close];
            match lang.slots.get(slot).and_then(|v| rng.pick(v)) {
                Some(value) => out.push_str(value),
                None => out.push_str(&rest[open..=open + close]),
            }
            rest = &rest[open + close + 1..];
        }
        out.push_str(rest);
        out
    }

    /// One harmless message. `language` must be `En` or `Ru` (a speaker's language).
    pub fn ham(&self, language: Language, rng: &mut Rng) -> String {
        let extra = match language {
            Language::Ru => &self.extra_ham_ru,
            _ => &self.extra_ham_en,
        };
        if !extra.is_empty() && rng.chance(0.5) {
            return rng.pick(extra).cloned().unwrap_or_default();
        }
        let template = rng.pick(&self.lang(language).ham).copied().unwrap_or("ok");
        self.fill(template, language, rng)
    }

    /// A member's name in the given language.
    pub fn name(&self, language: Language, rng: &mut Rng) -> (String, String) {
        let lang = self.lang(language);
        let first = lang
            .slots
            .get("first")
            .and_then(|v| rng.pick(v))
            .copied()
            .unwrap_or("Alex");
        let last = lang
            .slots
            .get("last")
            .and_then(|v| rng.pick(v))
            .copied()
            .unwrap_or("Smith");
        (first.to_string(), last.to_string())
    }

    /// One spam message: a real sample most of the time, a template otherwise; `link` replaces or
    /// joins the links in it.
    pub fn spam(&self, language: Language, link: &str, rng: &mut Rng) -> String {
        let seeds = match language {
            Language::Ru => &self.seeds_ru,
            _ => &self.seeds_en,
        };
        if rng.chance(0.7)
            && let Some(seed) = rng.pick(seeds)
        {
            return seed.to_string();
        }
        let template = rng
            .pick(&self.lang(language).spam)
            .copied()
            .unwrap_or("{link}");
        template.replace("{link}", link)
    }

    /// A fresh spam link.
    pub fn spam_link(&self, rng: &mut Rng) -> String {
        match rng.below(3) {
            0 => format!("https://t.me/+{}", token(rng, 16)),
            1 => format!(
                "https://t.me/{}_{}",
                rng.pick(SPAM_DOMAINS).unwrap().replace('-', "_"),
                rng.below(1000)
            ),
            _ => format!(
                "https://{}{}.{}/{}",
                rng.pick(SPAM_DOMAINS).unwrap(),
                rng.below(100),
                rng.pick(SPAM_TLDS).unwrap(),
                token(rng, 6)
            ),
        }
    }

    /// Apply each mutation with a fair chance, at least one when any is allowed.
    pub fn mutate(&self, text: &str, mutations: &[Mutation], rng: &mut Rng) -> String {
        if mutations.is_empty() {
            return text.to_string();
        }
        let forced = rng.below(mutations.len() as u64) as usize;
        let mut out = text.to_string();
        for (i, m) in mutations.iter().enumerate() {
            if i == forced || rng.chance(0.35) {
                out = apply_mutation(&out, *m, self, rng);
            }
        }
        out
    }
}

fn token(rng: &mut Rng, len: usize) -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789_-";
    (0..len)
        .map(|_| ALPHABET[rng.below(ALPHABET.len() as u64) as usize] as char)
        .collect()
}

pub fn apply_mutation(text: &str, mutation: Mutation, chatter: &Chatter, rng: &mut Rng) -> String {
    match mutation {
        Mutation::Lookalike => lookalike(text, rng),
        Mutation::Spacing => split_spacing(text, rng),
        Mutation::Syllables => split_syllables(text, rng),
        Mutation::Symbols => symbols_for_letters(text, rng),
        Mutation::Emoji => sprinkle_emoji(text, rng),
        Mutation::Link => swap_links(text, chatter, rng),
    }
}

/// Swap letters for their twin in the other script (Cyrillic ↔ Latin).
pub fn lookalike(text: &str, rng: &mut Rng) -> String {
    let to_latin = is_mostly_cyrillic(text);
    text.chars()
        .map(|c| {
            let twin = if to_latin {
                LOOKALIKES
                    .iter()
                    .find(|(cyr, _)| *cyr == c)
                    .map(|(_, lat)| *lat)
            } else {
                LOOKALIKES
                    .iter()
                    .find(|(_, lat)| *lat == c)
                    .map(|(cyr, _)| *cyr)
            };
            match twin {
                Some(t) if rng.chance(0.4) => t,
                _ => c,
            }
        })
        .collect()
}

/// Rewrites up to `most` randomly picked words (at least one draw) that are `eligible`.
fn rewrite_some_words(
    text: &str,
    rng: &mut Rng,
    most: u64,
    eligible: impl Fn(&str) -> bool,
    mut rewrite: impl FnMut(&str, &mut Rng) -> String,
) -> String {
    let words: Vec<&str> = text.split(' ').collect();
    let candidates: Vec<usize> = (0..words.len()).filter(|&i| eligible(words[i])).collect();
    let mut picked = std::collections::HashSet::new();
    for _ in 0..1 + rng.below(most) {
        if let Some(i) = rng.pick(&candidates) {
            picked.insert(*i);
        }
    }
    words
        .iter()
        .enumerate()
        .map(|(i, w)| {
            if picked.contains(&i) {
                rewrite(w, rng)
            } else {
                (*w).to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A word of at least `n` letters and nothing else (no punctuation, digits or links).
fn plain_word(n: usize) -> impl Fn(&str) -> bool {
    move |w| w.chars().count() >= n && w.chars().all(char::is_alphabetic)
}

/// Split one to three long words letter by letter.
pub fn split_spacing(text: &str, rng: &mut Rng) -> String {
    rewrite_some_words(
        text,
        rng,
        3,
        |w| w.chars().count() >= 5 && !w.contains("://"),
        |w, _| w.chars().map(String::from).collect::<Vec<_>>().join(" "),
    )
}

/// Cut one or two long words into pieces of two or three letters, joined by hyphens (or now and
/// then dots or underscores).
pub fn split_syllables(text: &str, rng: &mut Rng) -> String {
    rewrite_some_words(text, rng, 2, plain_word(6), |w, rng| {
        let chars: Vec<char> = w.chars().collect();
        let mut pieces: Vec<String> = Vec::new();
        let mut at = 0;
        while at < chars.len() {
            let mut len = if rng.chance(0.25) { 3 } else { 2 };
            // No one-letter tail: it joins the piece before.
            if chars.len() - at <= len + 1 {
                len = chars.len() - at;
            }
            pieces.push(chars[at..at + len].iter().collect());
            at += len;
        }
        pieces.join(*rng.pick(&["-", "-", "-", ".", "_"]).unwrap())
    })
}

/// In one or two longer words, one letter inside the word written as a look-alike digit or @.
pub fn symbols_for_letters(text: &str, rng: &mut Rng) -> String {
    let symbol = |c: char| match c {
        'о' | 'o' => Some('0'),
        'з' => Some('3'),
        'б' => Some('6'),
        'а' | 'a' => Some('@'),
        _ => None,
    };
    rewrite_some_words(text, rng, 2, plain_word(5), |w, _| {
        let mut chars: Vec<char> = w.chars().collect();
        let inside = 1..chars.len() - 1;
        if let Some((i, s)) = inside
            .filter_map(|i| symbol(chars[i]).map(|s| (i, s)))
            .next()
        {
            chars[i] = s;
        }
        chars.into_iter().collect()
    })
}

pub fn sprinkle_emoji(text: &str, rng: &mut Rng) -> String {
    let mut out = String::new();
    out.push_str(rng.pick(EMOJI).unwrap());
    for (i, word) in text.split(' ').enumerate() {
        out.push(' ');
        if i > 0 && rng.chance(0.15) {
            out.push_str(rng.pick(EMOJI).unwrap());
            out.push(' ');
        }
        out.push_str(word);
    }
    out.push(' ');
    out.push_str(rng.pick(EMOJI).unwrap());
    out
}

/// Replace every link with a fresh one (append one when there is none).
pub fn swap_links(text: &str, chatter: &Chatter, rng: &mut Rng) -> String {
    let mut replaced = false;
    let out = text
        .split(' ')
        .map(|word| {
            let lower = word.to_ascii_lowercase();
            if lower.starts_with("http://")
                || lower.starts_with("https://")
                || lower.starts_with("t.me/")
            {
                replaced = true;
                chatter.spam_link(rng)
            } else {
                word.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(" ");
    if replaced {
        out
    } else {
        format!("{out} {}", chatter.spam_link(rng))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_are_filled_and_languages_differ() {
        let chatter = Chatter::new();
        let mut rng = Rng::new(3);
        for _ in 0..200 {
            let en = chatter.ham(Language::En, &mut rng);
            let ru = chatter.ham(Language::Ru, &mut rng);
            assert!(
                !en.contains('{') && !ru.contains('{'),
                "unfilled slot in {en:?} / {ru:?}"
            );
            assert!(!is_mostly_cyrillic(&en));
        }
        assert!((0..50).any(|_| is_mostly_cyrillic(&chatter.ham(Language::Ru, &mut rng))));
    }

    #[test]
    fn spam_seeds_are_loaded_in_both_languages() {
        let chatter = Chatter::new();
        assert!(chatter.seeds_ru.len() > 100, "{}", chatter.seeds_ru.len());
        assert!(chatter.seeds_en.len() > 30, "{}", chatter.seeds_en.len());
    }

    #[test]
    fn lookalike_mixes_scripts_and_spacing_splits_words() {
        let mut rng = Rng::new(9);
        let text = "Заработок в интернете от 5000 рублей в день, пишите в личку";
        let mutated = lookalike(text, &mut rng);
        assert_ne!(mutated, text);
        assert!(mutated.chars().any(|c| c.is_ascii_alphabetic()));
        assert_eq!(mutated.chars().count(), text.chars().count());
        let spaced = split_spacing(text, &mut rng);
        assert!(spaced.len() > text.len());
        assert_eq!(spaced.replace(' ', ""), text.replace(' ', ""));
    }

    #[test]
    fn syllable_cuts_keep_the_letters_and_normalise_back() {
        for seed in 1..50 {
            let mut rng = Rng::new(seed);
            let text = "Заработок в интернете от 5000 рублей в день, пишите в личку";
            let cut = split_syllables(text, &mut rng);
            let is_cut = |c: char| matches!(c, '-' | '.' | '_');
            assert!(cut.contains(is_cut), "{cut}");
            assert_eq!(cut.replace(is_cut, ""), text);
            // Pieces of two to four letters, so the engine's normalisation can undo a cut into
            // three or more of them.
            for word in cut.split(' ').filter(|w| w.contains(is_cut)) {
                let pieces: Vec<&str> = word.split(is_cut).collect();
                assert!(
                    pieces.iter().all(|p| (2..=4).contains(&p.chars().count())),
                    "{word}"
                );
                if pieces.len() >= 3 {
                    let n = crate::engine::normalize(word);
                    let whole = crate::engine::normalize(&word.replace(is_cut, ""));
                    assert_eq!(n.text, whole.text);
                }
            }
        }
    }

    #[test]
    fn symbols_stand_in_for_letters_and_normalise_back() {
        let text = "Заработок без вложений, работа на дому";
        for seed in 1..30 {
            let mut rng = Rng::new(seed);
            let mutated = symbols_for_letters(text, &mut rng);
            assert_ne!(mutated, text);
            assert_eq!(mutated.chars().count(), text.chars().count());
            assert_eq!(
                crate::engine::normalize(&mutated).text,
                crate::engine::normalize(text).text,
                "{mutated}"
            );
        }
    }

    #[test]
    fn swap_links_replaces_every_link() {
        let chatter = Chatter::new();
        let mut rng = Rng::new(5);
        let out = swap_links(
            "join https://tinyurl.com/abc now https://urlz.fr/x",
            &chatter,
            &mut rng,
        );
        assert!(
            !out.contains("tinyurl") && !out.contains("urlz.fr"),
            "{out}"
        );
        assert_eq!(out.matches("https://").count(), 2);
    }
}
