//! Content, metadata and profile signals. Text signals are dense features of the classifier (it
//! learns their weights); signals the training texts cannot show use the configured weights.

use super::config::EngineConfig;
use super::normalize::{JOINED_SPACED_RUN, Normalized, entity_text, is_letter, normalize_into};
use super::phrases::{CONCEPTS, PhraseHits, Phrases};
use super::tokens::{Token, Tokens};
use super::{Hit, hit};
use crate::model::{EntityKind, MediaKind, Message, Person, Timestamp, UserId};
use linkify::{LinkFinder, LinkKind};
use std::collections::HashSet;

/// A named text signal fed to the classifier; training keeps its weight within `floor..=ceiling`.
pub struct DenseDef {
    pub name: &'static str,
    pub floor: f32,
    pub ceiling: f32,
}

pub const DENSE: [DenseDef; 37] = [
    DenseDef {
        name: "links",
        floor: 0.0,
        ceiling: f32::INFINITY,
    },
    DenseDef {
        name: "tg_link",
        floor: 0.0,
        ceiling: f32::INFINITY,
    },
    DenseDef {
        name: "invite_link",
        floor: 0.5,
        ceiling: f32::INFINITY,
    },
    DenseDef {
        name: "shortener",
        floor: 0.5,
        ceiling: f32::INFINITY,
    },
    DenseDef {
        name: "suspicious_tld",
        floor: 0.5,
        ceiling: f32::INFINITY,
    },
    DenseDef {
        name: "link_only",
        floor: 0.0,
        ceiling: f32::INFINITY,
    },
    DenseDef {
        name: "mention",
        floor: 0.0,
        ceiling: f32::INFINITY,
    },
    DenseDef {
        name: "bot_mention",
        floor: 0.5,
        ceiling: f32::INFINITY,
    },
    DenseDef {
        name: "emoji",
        floor: 0.0,
        ceiling: f32::INFINITY,
    },
    DenseDef {
        name: "lookalike",
        floor: 2.5,
        ceiling: f32::INFINITY,
    },
    DenseDef {
        name: "styled_text",
        floor: 1.0,
        ceiling: f32::INFINITY,
    },
    DenseDef {
        name: "spacing",
        floor: 1.0,
        ceiling: f32::INFINITY,
    },
    DenseDef {
        name: "stop_phrase",
        floor: 1.0,
        ceiling: f32::INFINITY,
    },
    DenseDef {
        name: "caps",
        floor: 0.0,
        ceiling: f32::INFINITY,
    },
    DenseDef {
        name: "money",
        floor: 0.0,
        ceiling: f32::INFINITY,
    },
    DenseDef {
        name: "invisible",
        floor: 1.0,
        ceiling: f32::INFINITY,
    },
    DenseDef {
        name: "hashtags",
        floor: 0.0,
        ceiling: f32::INFINITY,
    },
    DenseDef {
        name: "shouting",
        floor: 0.0,
        ceiling: f32::INFINITY,
    },
    DenseDef {
        name: "long_text",
        floor: 0.0,
        ceiling: f32::INFINITY,
    },
    DenseDef {
        name: "amount_per_period",
        floor: 0.0,
        ceiling: f32::INFINITY,
    },
    DenseDef {
        name: "phone_number",
        floor: 0.0,
        ceiling: f32::INFINITY,
    },
    DenseDef {
        name: CONCEPTS[0],
        floor: 0.0,
        ceiling: f32::INFINITY,
    },
    DenseDef {
        name: CONCEPTS[1],
        floor: 0.0,
        ceiling: f32::INFINITY,
    },
    DenseDef {
        name: CONCEPTS[2],
        floor: 0.0,
        ceiling: f32::INFINITY,
    },
    DenseDef {
        name: CONCEPTS[3],
        floor: 0.0,
        ceiling: f32::INFINITY,
    },
    DenseDef {
        name: CONCEPTS[4],
        floor: 0.0,
        ceiling: f32::INFINITY,
    },
    DenseDef {
        name: CONCEPTS[5],
        floor: 0.0,
        ceiling: f32::INFINITY,
    },
    DenseDef {
        name: CONCEPTS[6],
        floor: 0.0,
        ceiling: f32::INFINITY,
    },
    DenseDef {
        name: CONCEPTS[7],
        floor: 0.0,
        ceiling: f32::INFINITY,
    },
    DenseDef {
        name: CONCEPTS[8],
        floor: 0.0,
        ceiling: f32::INFINITY,
    },
    DenseDef {
        name: CONCEPTS[9],
        floor: 0.0,
        ceiling: f32::INFINITY,
    },
    DenseDef {
        name: CONCEPTS[10],
        floor: 0.0,
        ceiling: f32::INFINITY,
    },
    DenseDef {
        name: CONCEPTS[11],
        floor: 0.0,
        ceiling: f32::INFINITY,
    },
    DenseDef {
        name: CONCEPTS[12],
        floor: 0.0,
        ceiling: f32::INFINITY,
    },
    DenseDef {
        name: CONCEPTS[13],
        floor: 0.0,
        ceiling: f32::INFINITY,
    },
    // People warning about spam are not spamming; bounded so that a warning pasted into spam
    // cannot hide it.
    DenseDef {
        name: CONCEPTS[14],
        floor: -2.0,
        ceiling: 0.0,
    },
    DenseDef {
        name: "pitch",
        floor: 0.0,
        ceiling: f32::INFINITY,
    },
];

pub type DenseValues = [f32; DENSE.len()];

const LINKS: usize = 0;
const TG_LINK: usize = 1;
const INVITE_LINK: usize = 2;
const SHORTENER: usize = 3;
const SUSPICIOUS_TLD: usize = 4;
const LINK_ONLY: usize = 5;
const MENTION: usize = 6;
const BOT_MENTION: usize = 7;
const EMOJI: usize = 8;
const LOOKALIKE: usize = 9;
const STYLED: usize = 10;
const SPACING: usize = 11;
const STOP_PHRASE: usize = 12;
const CAPS: usize = 13;
const MONEY: usize = 14;
const INVISIBLE: usize = 15;
const HASHTAGS: usize = 16;
const SHOUTING: usize = 17;
const LONG_TEXT: usize = 18;
const AMOUNT_PER_PERIOD: usize = 19;
const PHONE_NUMBER: usize = 20;
/// The concept features follow, in the order of [`CONCEPTS`].
const FIRST_CONCEPT: usize = 21;
/// Several spam concepts in one message: a sales pitch, where chat touches one topic at a time.
const PITCH: usize = FIRST_CONCEPT + CONCEPTS.len();
/// Spam concepts that make a pitch.
const PITCH_CONCEPTS: usize = 3;

/// The spam concepts (all but the last, `spam_warning`) found in a message.
fn pitch_topics(phrases: &PhraseHits) -> impl Iterator<Item = &'static str> + '_ {
    CONCEPTS[..CONCEPTS.len() - 1]
        .iter()
        .zip(&phrases.concepts)
        .filter(|(_, hit)| hit.is_some())
        .map(|(name, _)| *name)
}

/// Domain lists shipped in assets/engine.
#[derive(Debug, Clone, Default)]
pub struct DomainLists {
    pub shorteners: HashSet<String>,
    pub suspicious_tlds: HashSet<String>,
    /// Well-known domains with their UTS #39 skeletons.
    pub well_known: Vec<KnownDomain>,
    well_known_set: HashSet<String>,
}

#[derive(Debug, Clone)]
pub struct KnownDomain {
    pub domain: String,
    pub skeleton: String,
    /// The second-level name ("google" of "google.com").
    name: String,
    bigrams: u64,
}

fn list_lines(text: &str) -> impl Iterator<Item = &str> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
}

fn skeleton(s: &str) -> String {
    // NFD leaves ASCII alone, so when every character's prototype is ASCII the skeleton is the
    // prototypes joined, without the generic per-character lookups.
    let table = ascii_skeletons();
    if s.bytes()
        .all(|b| table.get(b as usize).is_some_and(Option::is_some))
    {
        return s
            .bytes()
            .filter_map(|b| table[b as usize].as_deref())
            .collect();
    }
    unicode_security::skeleton(s).collect()
}

/// UTS #39 prototype of each ASCII character when it is ASCII too.
fn ascii_skeletons() -> &'static [Option<String>; 128] {
    static TABLE: std::sync::OnceLock<[Option<String>; 128]> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        std::array::from_fn(|b| {
            let c = char::from(b as u8);
            let p: String = unicode_security::skeleton(c.encode_utf8(&mut [0; 4])).collect();
            p.is_ascii().then_some(p)
        })
    })
}

/// A 64-bit set of hashed byte pairs: edit distance <= 2 can lose at most 4 of a word's pairs,
/// so more missing bits rule a domain out before the edit distance is computed.
fn bigram_mask(s: &str) -> u64 {
    s.as_bytes().windows(2).fold(0u64, |m, w| {
        m | 1u64 << ((w[0] as u32 * 31 + w[1] as u32) % 64)
    })
}

/// Levenshtein distance (in characters) of `a` and `b` is at most 2; banded and without
/// allocation for short ASCII strings.
fn within_two_edits(a: &str, b: &str) -> bool {
    const BAND: usize = 2;
    if !a.is_ascii() || !b.is_ascii() || a.len() > 62 || b.len() > 62 {
        return strsim::levenshtein(a, b) <= BAND;
    }
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len().abs_diff(b.len()) > BAND {
        return false;
    }
    let big = 1_000u16;
    let mut prev = [big; 64];
    let mut cur = [big; 64];
    for (j, cell) in prev.iter_mut().enumerate().take(b.len().min(BAND) + 1) {
        *cell = j as u16;
    }
    for i in 1..=a.len() {
        let lo = i.saturating_sub(BAND).max(1);
        let hi = (i + BAND).min(b.len());
        cur[lo - 1] = if lo == 1 && i <= BAND { i as u16 } else { big };
        let mut best = cur[lo - 1];
        for j in lo..=hi {
            let cost = (a[i - 1] != b[j - 1]) as u16;
            let v = (prev[j - 1] + cost).min(prev[j] + 1).min(cur[j - 1] + 1);
            cur[j] = v;
            best = best.min(v);
        }
        if hi + 1 < 64 {
            cur[hi + 1] = big;
        }
        if best as usize > BAND {
            return false;
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()] as usize <= BAND
}

impl DomainLists {
    pub fn shipped() -> DomainLists {
        let well_known: Vec<KnownDomain> =
            list_lines(include_str!("../../assets/engine/well-known-domains.txt"))
                .map(|d| {
                    let domain = d.to_lowercase();
                    let name = domain
                        .rsplit_once('.')
                        .map_or(domain.as_str(), |(n, _)| n)
                        .to_string();
                    KnownDomain {
                        skeleton: skeleton(&domain),
                        bigrams: bigram_mask(&domain),
                        name,
                        domain,
                    }
                })
                .collect();
        DomainLists {
            shorteners: list_lines(include_str!("../../assets/engine/shorteners.txt"))
                .map(str::to_lowercase)
                .collect(),
            suspicious_tlds: list_lines(include_str!("../../assets/engine/suspicious-tlds.txt"))
                .map(str::to_lowercase)
                .collect(),
            well_known_set: well_known.iter().map(|k| k.domain.clone()).collect(),
            well_known,
        }
    }

    /// The well-known domain `domain` imitates, if any.
    pub fn imitated(&self, domain: &str) -> Option<&str> {
        let (name, _) = domain.rsplit_once('.')?;
        let name = name.rsplit('.').next().unwrap_or(name);
        // The domain itself or a subdomain of a well-known one.
        let mut suffix = domain;
        loop {
            if self.well_known_set.contains(suffix) {
                return None;
            }
            match suffix.split_once('.') {
                Some((_, rest)) => suffix = rest,
                None => break,
            }
        }
        let domain_skeleton = skeleton(domain);
        let domain_chars = domain.chars().count();
        // Byte pairs stand for character pairs only in ASCII.
        let ascii = domain.is_ascii();
        let domain_bigrams = bigram_mask(domain);
        for known in &self.well_known {
            // Edit distance is at least the length difference, and two edits lose at most four
            // byte pairs: cheap tests before the distance (the shipped domains are ASCII).
            let close = known.domain.len() >= 6
                && domain_chars.abs_diff(known.domain.len()) <= 2
                && (!ascii || (known.bigrams & !domain_bigrams).count_ones() <= 4)
                && within_two_edits(domain, &known.domain);
            if close || domain_skeleton == known.skeleton {
                return Some(&known.domain);
            }
            // A name no longer than the known one contains it only by being it.
            if known.name.len() >= 5
                && name.len() > known.name.len()
                && name.contains(known.name.as_str())
            {
                return Some(&known.domain);
            }
        }
        None
    }
}

/// What the text checks found, kept for the reasons.
#[derive(Debug, Clone, Default)]
pub struct TextFacts {
    pub links: u32,
    pub first_domain: Option<String>,
    pub tg_links: u32,
    pub invite: Option<String>,
    pub shortener: Option<String>,
    pub suspicious_tld: Option<String>,
    pub lookalike_domain: Option<(String, String)>,
    pub mentions: u32,
    pub bot_mention: Option<String>,
    pub phrases: PhraseHits,
    /// An amount with a period ("500 в день", "$300 daily"), as written in the normalised text.
    pub amount_per_period: Option<String>,
    pub phone: Option<String>,
    pub money: bool,
    /// Words with letters outside links, counted up to [`LINK_ONLY_WORDS`] (only whether a
    /// message with links has fewer matters).
    pub words_outside_links: u32,
}

/// A message with links and fewer words outside them is "little more than a link".
const LINK_ONLY_WORDS: u32 = 3;

fn domain_of(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let host = rest
        .split(['/', '?', '#'])
        .next()
        .unwrap_or("")
        .rsplit('@')
        .next()
        .unwrap_or("");
    let host = host.split(':').next().unwrap_or("").trim_end_matches('.');
    let host = host.to_lowercase();
    host.strip_prefix("www.")
        .map(str::to_string)
        .unwrap_or(host)
}

/// Whether the link scan can find a link [`plausible_url`] accepts: links are only looked for in a
/// text with a '.', and a link is a substring of the text, so it needs "://" or a '.' before an
/// ASCII lower-case letter (its top-level domain). Most chat has dots, few such pairs: linkify's
/// scan is skipped for it.
fn may_hold_plausible_url(raw: &str) -> bool {
    let bytes = raw.as_bytes();
    let mut dots = memchr::memchr_iter(b'.', bytes).peekable();
    if dots.peek().is_none() {
        return false;
    }
    dots.any(|i| bytes.get(i + 1).is_some_and(u8::is_ascii_lowercase))
        || memchr::memchr_iter(b':', bytes).any(|i| bytes.get(i + 1..i + 3) == Some(b"//"))
}

/// linkify accepts any "word.word"; without a scheme we want an ASCII top-level domain, so
/// "т.е." or "попугаях.nnА" (flattened newlines) are not links.
fn plausible_url(url: &str) -> bool {
    if url.contains("://") {
        return true;
    }
    let host = url.split(['/', '?', '#', ':']).next().unwrap_or("");
    match host.rsplit_once('.') {
        Some((name, tld)) => {
            !name.is_empty()
                && (2..=24).contains(&tld.len())
                && tld.bytes().all(|b| b.is_ascii_lowercase())
        }
        None => false,
    }
}

fn is_money_word(t: &str) -> bool {
    matches!(
        t,
        "usdt"
            | "usd"
            | "btc"
            | "eth"
            | "ton"
            | "руб"
            | "рублей"
            | "рубля"
            | "р"
            | "долларов"
            | "баксов"
            | "евро"
            | "грн"
            | "тенге"
            | "eur"
            | "dollars"
            | "k"
            | "к"
            | "тыс"
            | "тысяч"
    )
}

/// Text signals of one (hidden-link-joined) text: dense values for the classifier and the facts.
pub fn text_signals(
    raw: &str,
    norm: &Normalized,
    tokens: &Tokens,
    spacing_min_run: u32,
    lists: &DomainLists,
    phrases: &Phrases,
    finder: &LinkFinder,
) -> (DenseValues, TextFacts) {
    let mut v: DenseValues = [0.0; DENSE.len()];
    let mut f = TextFacts::default();
    let mut link_bytes = 0usize;
    if may_hold_plausible_url(raw) {
        for link in finder.links(raw) {
            if *link.kind() != LinkKind::Url {
                continue;
            }
            let url = link.as_str();
            if !plausible_url(url) {
                continue;
            }
            link_bytes += url.len();
            let domain = domain_of(url);
            if domain.is_empty() {
                continue;
            }
            f.links += 1;
            let lower = url.to_lowercase();
            if matches!(domain.as_str(), "t.me" | "telegram.me" | "telegram.dog") {
                f.tg_links += 1;
                let path = lower.split_once(domain.as_str()).map_or("", |(_, p)| p);
                if f.invite.is_none() && (path.starts_with("/+") || path.starts_with("/joinchat")) {
                    f.invite = Some(url.to_string());
                }
            }
            if f.shortener.is_none() && lists.shorteners.contains(&domain) {
                f.shortener = Some(domain.clone());
            }
            if f.suspicious_tld.is_none()
                && let Some((_, tld)) = domain.rsplit_once('.')
                && lists.suspicious_tlds.contains(tld)
            {
                f.suspicious_tld = Some(domain.clone());
            }
            if f.lookalike_domain.is_none()
                && let Some(known) = lists.imitated(&domain)
            {
                f.lookalike_domain = Some((domain.clone(), known.to_string()));
            }
            if f.first_domain.is_none() {
                f.first_domain = Some(domain);
            }
        }
    }
    // @mentions: Telegram usernames are 5-32 of [A-Za-z0-9_], not part of an e-mail address.
    let bytes = raw.as_bytes();
    let mut i = 0;
    while let Some(at) = memchr::memchr(b'@', &bytes[i..]).map(|p| p + i) {
        let start = at + 1;
        let end = bytes[start..]
            .iter()
            .position(|b| !(b.is_ascii_alphanumeric() || *b == b'_'))
            .map_or(bytes.len(), |p| start + p);
        let preceded_by_word = at > 0 && (bytes[at - 1].is_ascii_alphanumeric());
        if !preceded_by_word && (5..=32).contains(&(end - start)) {
            f.mentions += 1;
            let name = &raw[start..end];
            if f.bot_mention.is_none() && name.to_ascii_lowercase().ends_with("bot") {
                f.bot_mention = Some(name.to_string());
            }
        }
        i = end.max(start);
    }
    f.phrases = phrases.scan(&norm.text);
    let mut prev_number = false;
    // Token index of the last number, for "500 в день".
    let mut last_number: Option<usize> = None;
    let starts_with_digit = |t: &Token| norm.text.as_bytes()[t.start as usize].is_ascii_digit();
    // Words before the first number can be neither an amount's currency nor its period.
    let first_number = tokens
        .list
        .iter()
        .position(starts_with_digit)
        .unwrap_or(tokens.list.len());
    for (i, t) in tokens.list.iter().enumerate().skip(first_number) {
        let number = starts_with_digit(t);
        let word = tokens.text(&norm.text, t);
        if !f.money && prev_number && t.chars <= 8 && is_money_word(word) {
            f.money = true;
        }
        if f.amount_per_period.is_none()
            && let Some(n) = last_number
            && i - n <= 4
            && t.chars <= 10
        {
            let period = match period_word(word) {
                Period::Adverb => true,
                // "в день", "per day", "pro Woche": a period after a preposition.
                Period::Noun => {
                    i > n + 1 && is_per_word(tokens.text(&norm.text, &tokens.list[i - 1]))
                }
                Period::No => false,
            };
            if period {
                let start = tokens.list[n].start as usize;
                f.amount_per_period = norm.text.get(start..t.end as usize).map(str::to_string);
            }
        }
        if number {
            last_number = Some(i);
        }
        prev_number = number;
    }
    // A phone number needs ten digits; most texts have far fewer (a vectorised count).
    let digits = ascii_digits(norm.text.as_bytes());
    if digits >= 10 {
        f.phone = phone_number(raw);
    }
    f.money |= norm.money_sign;
    let link_letters = raw.len().saturating_sub(link_bytes);
    f.words_outside_links = if f.links > 0 {
        words_with_letters_without_dots(raw, LINK_ONLY_WORDS)
    } else {
        link_letters as u32
    };

    v[LINKS] = f.links.min(4) as f32 / 2.0;
    v[TG_LINK] = (f.tg_links > 0) as u8 as f32;
    v[INVITE_LINK] = f.invite.is_some() as u8 as f32;
    v[SHORTENER] = f.shortener.is_some() as u8 as f32;
    v[SUSPICIOUS_TLD] = f.suspicious_tld.is_some() as u8 as f32;
    v[LINK_ONLY] = (f.links > 0 && f.words_outside_links < LINK_ONLY_WORDS) as u8 as f32;
    v[MENTION] = f.mentions.min(3) as f32 / 3.0;
    v[BOT_MENTION] = f.bot_mention.is_some() as u8 as f32;
    v[EMOJI] = if norm.emoji >= 3 {
        (norm.emoji.min(12) as f32 / 12.0)
            .max((norm.emoji as f32 / norm.visible.max(1) as f32 * 4.0).min(1.0))
    } else {
        0.0
    };
    v[LOOKALIKE] = match norm.lookalike_words {
        // One mixed word is often a keyboard-layout slip ("Оh boy"); several are a disguise.
        0 => 0.0,
        1 => 0.3,
        2 => 1.0,
        _ => 2.0,
    };
    v[STYLED] = (norm.styled_letters >= 3) as u8 as f32;
    v[SPACING] =
        (norm.longest_spaced_run >= spacing_min_run || norm.hyphen_split_words > 0) as u8 as f32;
    v[STOP_PHRASE] = f.phrases.stop.is_some() as u8 as f32;
    v[CAPS] = (norm.letters >= 20 && norm.uppercase * 10 >= norm.letters * 6) as u8 as f32;
    v[MONEY] = f.money as u8 as f32;
    v[INVISIBLE] = (norm.invisible > 0) as u8 as f32;
    let hashtags = if memchr::memchr(b'#', bytes).is_none() {
        0
    } else {
        raw.split_whitespace()
            .filter(|w| {
                w.len() > 2
                    && w.starts_with('#')
                    && w.chars().nth(1).is_some_and(char::is_alphabetic)
            })
            .count()
    };
    v[HASHTAGS] = (hashtags >= 2) as u8 as f32;
    let shouting = norm.shouting_words;
    v[SHOUTING] = (shouting.min(6) as f32 / 3.0).min(2.0) * (shouting >= 2) as u8 as f32;
    v[LONG_TEXT] = if norm.visible >= 150 {
        (norm.visible as f32 / 400.0).min(1.5)
    } else {
        0.0
    };
    v[AMOUNT_PER_PERIOD] = f.amount_per_period.is_some() as u8 as f32;
    v[PHONE_NUMBER] = f.phone.is_some() as u8 as f32;
    for (k, hit) in f.phrases.concepts.iter().enumerate() {
        v[FIRST_CONCEPT + k] = hit.is_some() as u8 as f32;
    }
    let topics = pitch_topics(&f.phrases).count();
    // 1 at three topics, up to 3 at five or more.
    v[PITCH] = (topics + 1).saturating_sub(PITCH_CONCEPTS).min(3) as f32;
    (v, f)
}

enum Period {
    No,
    /// "день", "week": a period after "в", "per", "a".
    Noun,
    /// "daily", "ежедневно", "айына": a period by itself.
    Adverb,
}

fn period_word(w: &str) -> Period {
    match w {
        "день" | "дня" | "сутки" | "неделю" | "неделя" | "месяц" | "мес" | "час" | "смена"
        | "смену" | "shift" | "day" | "week" | "month" | "hour" | "tag" | "woche" | "monat"
        | "stunde" | "dia" | "semana" | "mes" | "hora" | "jour" | "semaine" | "mois" | "heure"
        | "дзень" | "тыдзень" | "тиждень" | "місяць" | "добу" | "годину" | "мiсяць" => {
            Period::Noun
        }
        "ежедневно"
        | "еженедельно"
        | "ежемесячно"
        | "daily"
        | "weekly"
        | "monthly"
        | "hourly"
        | "щодня"
        | "щотижня"
        | "щомісяця"
        | "täglich"
        | "wochentlich"
        | "diarios"
        | "diario"
        | "diarias"
        | "semanales"
        | "mensuales"
        | "diariamente"
        | "dnevno"
        | "nedeljno"
        | "mesečno"
        | "mesecno"
        | "күніне"
        | "айына"
        | "аптасына" => Period::Adverb,
        _ => Period::No,
    }
}

fn is_per_word(w: &str) -> bool {
    matches!(
        w,
        "в" | "за"
            | "на"
            | "per"
            | "a"
            | "an"
            | "each"
            | "every"
            | "pro"
            | "im"
            | "por"
            | "al"
            | "par"
            | "por dia"
            | "у"
            | "в1"
            | "po"
            | "na"
    )
}

/// ASCII digits in `bytes`: byte counters per chunk of 255, which the compiler vectorises.
fn ascii_digits(bytes: &[u8]) -> usize {
    bytes
        .chunks(255)
        .map(|chunk| {
            chunk
                .iter()
                .fold(0u8, |n, &b| n + (b.wrapping_sub(b'0') < 10) as u8) as usize
        })
        .sum()
}

/// Whether any of the eight bytes of `x` is at most b' ' (ASCII white space among them), a '.',
/// or a lead byte of non-ASCII white space (C2, E1, E2, E3): the zero-byte bit tricks, exact
/// as a yes/no.
#[inline]
fn may_end_word_or_hold_dot(x: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = ONES * 0x80;
    let has_zero = |v: u64| v.wrapping_sub(ONES) & !v & HIGH != 0;
    let has = |b: u8| has_zero(x ^ (ONES * b as u64));
    x.wrapping_sub(ONES * 0x21) & !x & HIGH != 0
        || has(b'.')
        || has(0xC2)
        || has(0xE1)
        || has(0xE2)
        || has(0xE3)
}

/// Whitespace-separated words holding a letter and no '.': what
/// `raw.split_whitespace().filter(|w| !w.contains('.') && w.chars().any(is_letter)).count()`
/// gives, in one pass over the bytes, or `limit` once that many are found.
fn words_with_letters_without_dots(raw: &str, limit: u32) -> u32 {
    let bytes = raw.as_bytes();
    let (mut count, mut dot, mut letter) = (0u32, false, false);
    let mut i = 0;
    while i < bytes.len() {
        // Inside a word that has a letter, eight bytes at a time up to white space or a dot.
        if letter
            && let Some(chunk) = bytes.get(i..i + 8)
            && !may_end_word_or_hold_dot(u64::from_le_bytes(chunk.try_into().unwrap_or([0; 8])))
        {
            i += 8;
            continue;
        }
        let b = bytes[i];
        if b == b' ' || (b'\t'..=b'\r').contains(&b) {
            count += (letter && !dot) as u32;
            if count >= limit {
                return limit;
            }
            (dot, letter) = (false, false);
            i += 1;
        } else if b < 0x80 {
            dot |= b == b'.';
            letter |= b.is_ascii_alphabetic();
            i += 1;
        } else if b == 0xD0 || b == 0xD1 {
            // U+0400..U+047F: Cyrillic letters, two bytes.
            letter = true;
            i += 2;
        } else if letter && !matches!(b, 0xC2 | 0xE1 | 0xE2 | 0xE3) {
            // Non-ASCII white space starts with C2 (U+0085, U+00A0), E1 (U+1680), E2
            // (U+2000..) or E3 (U+3000); once the word has a letter nothing else matters.
            i += 1;
        } else {
            let Some(c) = raw.get(i..).and_then(|r| r.chars().next()) else {
                // A continuation byte, only reached by skipping bytes of a word with a letter.
                i += 1;
                continue;
            };
            i += c.len_utf8();
            if c.is_whitespace() {
                count += (letter && !dot) as u32;
                if count >= limit {
                    return limit;
                }
                (dot, letter) = (false, false);
            } else {
                letter |= is_letter(c);
            }
        }
    }
    (count + (letter && !dot) as u32).min(limit)
}

/// Whether any of the eight bytes of `x` is an ASCII digit or a '+': the "has a byte between"
/// and "has a zero byte" bit tricks, exact as a yes/no. (Punctuation, common in chat, does not
/// stop the eight-byte skip.)
#[inline]
fn may_hold_digit_or_plus(x: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const LOW7: u64 = ONES * 127;
    const HIGH: u64 = ONES * 128;
    let (m, n) = (b'0' as u64 - 1, b'9' as u64 + 1);
    let low = x & LOW7;
    let digit = (ONES * (127 + n)).wrapping_sub(low) & !x & (low + ONES * (127 - m)) & HIGH;
    let v = x ^ (ONES * b'+' as u64);
    let plus = v.wrapping_sub(ONES) & !v & HIGH;
    digit | plus != 0
}

/// A phone or card number: 10+ digits in groups separated by single spaces, dashes or brackets,
/// starting with `+` or written in several groups (not dots: "12.03.2024 10:00" is a date).
fn phone_number(raw: &str) -> Option<String> {
    let bytes = raw.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        // Eight bytes at a time past text without a digit or '+'.
        if let Some(chunk) = bytes.get(i..i + 8)
            && !may_hold_digit_or_plus(u64::from_le_bytes(chunk.try_into().unwrap_or([0; 8])))
        {
            i += 8;
            continue;
        }
        let b = bytes[i];
        let plus = b == b'+';
        if !(plus || b.is_ascii_digit()) || (i > 0 && bytes[i - 1].is_ascii_digit()) {
            i += 1;
            continue;
        }
        let start = i;
        let (mut digits, mut groups, mut j) = (0u32, 0u32, i + plus as usize);
        let mut in_group = false;
        while j < bytes.len() {
            let c = bytes[j];
            if c.is_ascii_digit() {
                digits += 1;
                groups += !in_group as u32;
                in_group = true;
            } else if matches!(c, b' ' | b'-' | b'(' | b')')
                && j + 1 < bytes.len()
                && (bytes[j + 1].is_ascii_digit() || matches!(bytes[j + 1], b'(' | b' '))
                && in_group | (c == b'(')
            {
                in_group = false;
            } else {
                break;
            }
            j += 1;
        }
        if (10..=16).contains(&digits) && (plus || groups >= 3) {
            return raw.get(start..j).map(|s| s.trim().to_string());
        }
        i = j.max(i + 1);
    }
    None
}

/// One-line reason of a dense signal that fired.
/// What each concept means to a moderator, in the order of [`CONCEPTS`].
const CONCEPT_REASONS: [&str; CONCEPTS.len()] = [
    "asks strangers to write in private",
    "points to a link in the profile",
    "talks about earnings",
    "recruits people for vague work",
    "crypto, trading or investment",
    "betting tips or casino",
    "dating or adult content",
    "discounts, giveaways or freebies",
    "invites to a channel, group or bot",
    "offers courses or schemes",
    "urges to act at once",
    "illegal goods or services, data or account trade",
    "reads like a scam testimonial",
    "solicits strangers (\"who wants\", \"I can share\")",
    "warns about spam or scams",
];

pub fn dense_reason(k: usize, norm: &Normalized, f: &TextFacts, phrases: &Phrases) -> String {
    // Reasons without numbers are joined with `concat`: the formatting machinery costs more than
    // the copying.
    match k {
        LINKS => match &f.first_domain {
            Some(d) if f.links > 1 => format!("{} links ({d}, ...)", f.links),
            Some(d) => ["a link to ", d].concat(),
            None => format!("{} links", f.links),
        },
        TG_LINK => format!("{} Telegram link(s) (t.me)", f.tg_links),
        INVITE_LINK => ["private invite link ", f.invite.as_deref().unwrap_or("")].concat(),
        SHORTENER => [
            "link shortener ",
            f.shortener.as_deref().unwrap_or(""),
            " hides the target",
        ]
        .concat(),
        SUSPICIOUS_TLD => [
            "link to a cheap throw-away domain ",
            f.suspicious_tld.as_deref().unwrap_or(""),
        ]
        .concat(),
        LINK_ONLY => "the message is little more than a link".to_string(),
        MENTION => format!("mentions {} account(s) or channel(s)", f.mentions),
        BOT_MENTION => ["points to a bot @", f.bot_mention.as_deref().unwrap_or("")].concat(),
        EMOJI => format!(
            "{} emoji in {} visible characters",
            norm.emoji, norm.visible
        ),
        LOOKALIKE => format!(
            "{} word(s) mix alphabets to dodge filters, e.g. \"{}\"",
            norm.lookalike_words,
            norm.lookalike_example.as_deref().unwrap_or("")
        ),
        STYLED => format!(
            "{} letters in a fancy font (math/fullwidth/circled)",
            norm.styled_letters
        ),
        SPACING => match &norm.hyphen_split_example {
            Some(word) if norm.longest_spaced_run < JOINED_SPACED_RUN => {
                ["a word cut into syllables (\"", word, "\")"].concat()
            }
            Some(word) => format!(
                "{} letters spaced apart (\"w o r d\") and a word cut into syllables (\"{word}\")",
                norm.longest_spaced_run
            ),
            None => format!(
                "{} letters spaced apart (\"w o r d\")",
                norm.longest_spaced_run
            ),
        },
        STOP_PHRASE => [
            "contains stop phrase \"",
            f.phrases.stop.map_or("", |i| phrases.stop_text(i)),
            "\"",
        ]
        .concat(),
        CAPS => "mostly capital letters".to_string(),
        MONEY => "talks money (amounts, currencies)".to_string(),
        INVISIBLE => format!("{} invisible characters hidden in the text", norm.invisible),
        HASHTAGS => "several hashtags, as in ads".to_string(),
        SHOUTING => "several words in capitals".to_string(),
        LONG_TEXT => format!(
            "a long message ({} characters) as a first message",
            norm.visible
        ),
        AMOUNT_PER_PERIOD => [
            "promises an amount per period (\"",
            f.amount_per_period.as_deref().unwrap_or(""),
            "\")",
        ]
        .concat(),
        PHONE_NUMBER => [
            "a phone or card number (",
            f.phone.as_deref().unwrap_or(""),
            ")",
        ]
        .concat(),
        PITCH => {
            let topics: Vec<&str> = pitch_topics(&f.phrases).collect();
            format!(
                "a sales pitch: {} spam topics in one message ({})",
                topics.len(),
                topics.join(", ")
            )
        }
        k if (FIRST_CONCEPT..PITCH).contains(&k) => {
            let pattern =
                f.phrases.concepts[k - FIRST_CONCEPT].map_or("", |i| phrases.concept_text(i));
            [CONCEPT_REASONS[k - FIRST_CONCEPT], " (\"", pattern, "\")"].concat()
        }
        _ => String::new(),
    }
}

/// Hidden links whose anchor shows one address and leads to another.
pub fn hidden_link_hits(
    msg: &Message,
    cfg: &EngineConfig,
    finder: &LinkFinder,
    hits: &mut Vec<Hit>,
) {
    for e in &msg.entities {
        if e.kind != EntityKind::TextUrl {
            continue;
        }
        let (Some(url), Some(anchor)) = (e.url.as_deref(), entity_text(&msg.text, e)) else {
            continue;
        };
        let target = domain_of(url);
        let shown = finder
            .links(anchor)
            .find(|l| *l.kind() == LinkKind::Url)
            .map(|l| domain_of(l.as_str()));
        if let Some(shown) = shown
            && !shown.is_empty()
            && shown != target
        {
            hits.push(hit(
                "hidden_link",
                cfg.weights.hidden_link,
                format!("link text shows {shown} but leads to {target}"),
            ));
            return;
        }
    }
}

/// Metadata signals: the shape of the message rather than its words.
pub fn metadata_hits(msg: &Message, norm: &Normalized, cfg: &EngineConfig, hits: &mut Vec<Hit>) {
    let w = &cfg.weights;
    if !msg.buttons.is_empty() {
        let with_links = msg.buttons.iter().filter(|b| b.url.is_some()).count();
        hits.push(hit(
            "buttons",
            w.buttons,
            format!(
                "{} inline button(s), {with_links} with links",
                msg.buttons.len()
            ),
        ));
    }
    if let Some(fwd) = &msg.forward
        && fwd.from_channel
    {
        let from = fwd.from_name.as_deref().unwrap_or("a channel");
        hits.push(hit(
            "forwarded_channel",
            w.forwarded_channel,
            format!("forwarded from channel {from}"),
        ));
    }
    if let Some(chat) = &msg.sender_chat
        && chat.id != msg.chat_id
    {
        hits.push(hit(
            "sender_chat",
            w.sender_chat,
            format!("posted as channel \"{}\"", chat.title),
        ));
    }
    let no_text = norm.text.is_empty();
    match msg.media {
        MediaKind::Contact => hits.push(hit("contact", w.contact, "shares a contact card".into())),
        MediaKind::Story => hits.push(hit("story", w.story, "forwards a story".into())),
        MediaKind::Giveaway => hits.push(hit("giveaway", w.giveaway, "a giveaway post".into())),
        MediaKind::Photo | MediaKind::Video | MediaKind::Document if no_text => hits.push(hit(
            "media_without_text",
            w.media_without_text,
            format!("{:?} without any text", msg.media).to_lowercase(),
        )),
        _ => {}
    }
    if msg.reply_to_other_chat {
        hits.push(hit(
            "reply_other_chat",
            w.reply_other_chat,
            "replies to a message from another chat".into(),
        ));
    }
}

/// Approximate account creation time from a user id. Telegram hands out ids roughly in order;
/// these anchors (id, unix time) come from public observations of registration dates. Between
/// anchors the date is interpolated linearly; error is about ±3 months before 2021 and ±1-2 months
/// since (ids jumped to 5e9+ in 2021-22). Ids past the last anchor are extrapolated.
const ID_ANCHORS: [(i64, i64); 13] = [
    (1_000_000, 1_380_585_600),     // 2013-10
    (100_000_000, 1_420_070_400),   // 2015-01
    (200_000_000, 1_456_790_400),   // 2016-03
    (500_000_000, 1_514_764_800),   // 2018-01
    (1_000_000_000, 1_569_888_000), // 2019-10
    (1_500_000_000, 1_606_780_800), // 2020-12
    (2_000_000_000, 1_627_776_000), // 2021-08
    (5_000_000_000, 1_640_995_200), // 2022-01
    (5_500_000_000, 1_656_633_600), // 2022-07
    (6_000_000_000, 1_677_628_800), // 2023-03
    (6_500_000_000, 1_696_118_400), // 2023-10
    (7_000_000_000, 1_711_929_600), // 2024-04
    (7_500_000_000, 1_727_740_800), // 2024-10
];

pub fn estimate_account_created(user_id: UserId) -> Option<Timestamp> {
    if user_id <= 0 {
        return None;
    }
    let pos = ID_ANCHORS.partition_point(|(id, _)| *id <= user_id);
    let (a, b) = match pos {
        0 => (ID_ANCHORS[0], ID_ANCHORS[1]),
        p if p >= ID_ANCHORS.len() => (
            ID_ANCHORS[ID_ANCHORS.len() - 2],
            ID_ANCHORS[ID_ANCHORS.len() - 1],
        ),
        p => (ID_ANCHORS[p - 1], ID_ANCHORS[p]),
    };
    let slope = (b.1 - a.1) as f64 / (b.0 - a.0) as f64;
    Some(a.1 + ((user_id - a.0) as f64 * slope) as i64)
}

thread_local! {
    /// The normalised name or bio, reused across checks.
    static PROFILE_TEXT: std::cell::RefCell<Normalized> = std::cell::RefCell::default();
}

/// Stop phrases and look-alike letters in a normalised name or bio.
fn profile_text_hits(
    field: &str,
    n: &Normalized,
    phrases: &Phrases,
    w: &super::config::Weights,
    hits: &mut Vec<Hit>,
) {
    if let Some(p) = phrases.find_stop(&n.text) {
        hits.push(hit(
            "profile_stop_phrase",
            w.profile_stop_phrase,
            format!("stop phrase \"{p}\" in the {field}"),
        ));
    }
    if n.lookalike_words > 0 || n.styled_letters >= 3 {
        let example = n.lookalike_example.as_deref().unwrap_or("styled letters");
        hits.push(hit(
            "profile_lookalike",
            w.profile_lookalike,
            format!("look-alike letters in the {field}: \"{example}\""),
        ));
    }
}

/// Profile signals: name, username and bio; account age relative to `now` when known.
pub fn profile_hits(
    person: &Person,
    now: Option<Timestamp>,
    cfg: &EngineConfig,
    phrases: &Phrases,
    finder: &LinkFinder,
    hits: &mut Vec<Hit>,
) {
    let w = &cfg.weights;
    let mut name = person.display_name();
    if let Some(u) = &person.username {
        name.push(' ');
        name.push_str(u);
    }
    for (field, text) in [
        ("name", Some(name.as_str())),
        ("bio", person.bio.as_deref()),
    ] {
        let Some(text) = text.filter(|t| !t.is_empty()) else {
            continue;
        };
        // linkify finds a URL only at a ':' or a '.'.
        let has_link = (text.contains([':', '.'])
            && finder.links(text).any(|l| *l.kind() == LinkKind::Url))
            || (field == "name" && text.contains('@'));
        if has_link {
            hits.push(hit(
                "profile_link",
                w.profile_link,
                format!("link in the {field}"),
            ));
        }
        PROFILE_TEXT.with_borrow_mut(|n| {
            normalize_into(text, n);
            profile_text_hits(field, n, phrases, w, hits);
        });
    }
    // The estimate only when there is a "now" to compare it with.
    if let Some(now) = now
        && let Some(created) = estimate_account_created(person.id)
    {
        let days = (now - created) / 86_400;
        if days < cfg.new_account_days as i64 {
            hits.push(hit(
                "new_account",
                w.new_account,
                format!(
                    "account about {} days old (estimated from the id)",
                    days.max(0)
                ),
            ));
        }
    }
    if person.has_photo == Some(false) {
        hits.push(hit("no_photo", w.no_photo, "no profile photo".into()));
    }
    if person.is_premium {
        hits.push(hit(
            "premium",
            w.premium,
            "premium account (spam farms buy it)".into(),
        ));
    }
}

#[cfg(test)]
mod domain_tests {
    use super::*;
    use crate::engine::classifier::Rng;

    #[test]
    fn banded_edit_distance_agrees_with_strsim() {
        let alphabet = b"abcg.lo";
        let mut rng = Rng(0x2545_f491_4f6c_dd1d);
        let mut next = move || rng.next();
        for _ in 0..50_000 {
            let mut word = || -> String {
                let n = next() % 9;
                (0..n)
                    .map(|_| alphabet[(next() % alphabet.len() as u64) as usize] as char)
                    .collect()
            };
            let a = word();
            let b = word();
            assert_eq!(
                within_two_edits(&a, &b),
                strsim::levenshtein(&a, &b) <= 2,
                "{a:?} {b:?}"
            );
            // The byte-pair filter never rules out a close pair.
            if strsim::levenshtein(&a, &b) <= 2 {
                assert!(
                    (bigram_mask(&a) & !bigram_mask(&b)).count_ones() <= 4,
                    "{a:?} {b:?}"
                );
            }
        }
    }

    #[test]
    fn one_pass_word_count_agrees_with_split_whitespace() {
        let pieces = [
            "a", "ж", "Ё", " ", "\n", "\t", ".", "1", "\u{A0}", "\u{2003}", "\u{3000}", "\u{85}",
            "\u{1680}", "é", "😀", "\u{301}", "\u{2800}", "x.y", "ℕ", "\u{202F}", "—", "中",
        ];
        for text in crate::engine::tests::random_texts(&pieces, 14, 20_000) {
            let expected = text
                .split_whitespace()
                .filter(|w| !w.contains('.') && w.chars().any(is_letter))
                .count() as u32;
            assert_eq!(
                words_with_letters_without_dots(&text, u32::MAX),
                expected,
                "{text:?}"
            );
            assert_eq!(
                words_with_letters_without_dots(&text, 3),
                expected.min(3),
                "{text:?}"
            );
        }
    }

    #[test]
    fn the_chunk_test_finds_every_digit_and_plus() {
        let mut rng = Rng(0x2545_f491_4f6c_dd1d);
        for _ in 0..200_000 {
            let state = rng.next();
            let bytes = state.to_le_bytes();
            let expected = bytes.iter().any(|&b| b.is_ascii_digit() || b == b'+');
            assert_eq!(may_hold_digit_or_plus(state), expected, "{bytes:?}");
        }
        for b in 0..=255u8 {
            let x = u64::from_le_bytes([b' ', b, b'a', 0xD0, 0xB0, b'z', b'\n', 0xFF]);
            let expected = b.is_ascii_digit() || b == b'+';
            assert_eq!(may_hold_digit_or_plus(x), expected, "{b}");
            let x = u64::from_le_bytes([b'.', b',', b'-', b'/', b, b'*', b',', b'.']);
            assert_eq!(may_hold_digit_or_plus(x), expected, "{b}");
        }
    }

    #[test]
    fn the_word_end_chunk_test_is_exact() {
        let hit = |b: u8| b <= b' ' || matches!(b, b'.' | 0xC2 | 0xE1 | 0xE2 | 0xE3);
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for _ in 0..200_000 {
            let state = rng.next();
            let expected = state.to_le_bytes().iter().any(|&b| hit(b));
            assert_eq!(may_end_word_or_hold_dot(state), expected, "{state:x}");
        }
        for b in 0..=255u8 {
            let x = u64::from_le_bytes([b'a', 0xD0, 0xB0, b, 0xD1, 0x8F, b'z', 0xBF]);
            assert_eq!(may_end_word_or_hold_dot(x), hit(b), "{b}");
        }
    }

    #[test]
    fn ascii_skeletons_match_the_generic_ones() {
        for d in [
            "paypa1.com",
            "g00gle.com",
            "rnicrosoft.com",
            "vvhatsapp.com",
            "t.me",
            "my-site_1.io",
            "a`b'c\"d",
        ] {
            assert_eq!(
                skeleton(d),
                unicode_security::skeleton(d).collect::<String>(),
                "{d}"
            );
        }
        // Every character a domain is made of has an ASCII prototype.
        let table = ascii_skeletons();
        assert!(
            "abcdefghijklmnopqrstuvwxyz0123456789.-_"
                .bytes()
                .all(|b| table[b as usize].is_some())
        );
    }
}
