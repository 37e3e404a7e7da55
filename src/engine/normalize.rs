//! The one text normalisation of the program: the engine, clusters and the simulator all use it.
//!
//! Steps: NFKC (folds fullwidth and math-alphanumeric letters), invisible/format characters removed,
//! lower case, diacritics folded (NFD minus combining marks, which also strips zalgo), then per word:
//! a word mixing Latin and Cyrillic (or Greek) letters is a lookalike word and its minority letters are
//! mapped to the majority script (UTS #39 confusable prototypes towards Latin, a small table towards
//! Cyrillic) so "САSINO" becomes "casino" and "зaрaбoтoк" becomes "заработок". Letters of every
//! Cyrillic alphabet (ў ґ є ї ђ џ қ ә ң ө ұ ү һ і) are Cyrillic, so real Ukrainian, Belarusian, Serbian
//! and Kazakh words never count as mixed. Emoji are counted by grapheme and dropped from the words.

use super::tokens::Tokens;
use crate::model::{Entity, EntityKind, Message};
use regex_syntax::hir::{Class, HirKind};
use std::sync::OnceLock;
use unicode_normalization::char::{decompose_canonical, decompose_compatible, is_combining_mark};

/// A normalised text and what normalisation noticed on the way.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Normalized {
    /// Lower-case folded words (letters and digits) joined by single spaces; no punctuation, no emoji.
    pub text: String,
    /// Graphemes holding an Extended_Pictographic character, a flag or a keycap.
    pub emoji: u32,
    /// Visible characters of the original (not whitespace, not invisible, not combining marks).
    pub visible: u32,
    /// Letters and upper-case letters of the original.
    pub letters: u32,
    pub uppercase: u32,
    /// Words mixing scripts (Latin with Cyrillic or Greek).
    pub lookalike_words: u32,
    /// The first such word as written, for the hit's reason.
    pub lookalike_example: Option<String>,
    /// Math-alphanumeric, fullwidth, circled or squared letters ("𝐟𝐫𝐞𝐞", "ｆｒｅｅ").
    pub styled_letters: u32,
    /// Invisible and format characters removed (zero-width spaces, direction overrides, ...).
    pub invisible: u32,
    /// Longest run of single-letter words ("w o r d"); runs of [`JOINED_SPACED_RUN`] or more are
    /// joined back into one word.
    pub longest_spaced_run: u32,
    /// Words cut into syllables by hyphens, dots, underscores or asterisks ("за-ра-бо-ток"),
    /// joined back into one word.
    pub hyphen_split_words: u32,
    /// The first such word as written, for the hit's reason.
    pub hyphen_split_example: Option<String>,
    /// Words of 4+ letters written all in capitals in the original.
    pub shouting_words: u32,
    /// The original has a currency sign ($ € ₽ £ ₴ ₸ ₿) and an ASCII digit.
    pub money_sign: bool,
}

impl Normalized {
    pub fn tokens(&self) -> impl Iterator<Item = &str> {
        // A plain byte loop: words are short, and memchr's setup per word cost more than it saved.
        let bytes = self.text.as_bytes();
        let mut pos = 0;
        std::iter::from_fn(move || {
            while pos < bytes.len() && bytes[pos] == b' ' {
                pos += 1;
            }
            if pos >= bytes.len() {
                return None;
            }
            let start = pos;
            while pos < bytes.len() && bytes[pos] != b' ' {
                pos += 1;
            }
            // Spaces are ASCII, so both ends are character boundaries.
            self.text.get(start..pos)
        })
    }
}

/// A Unicode property, taken from regex-syntax's tables: a bitmap for the Basic Multilingual
/// Plane (one load per lookup) and sorted ranges above it.
struct CharTable {
    bmp: Box<[u64; 1024]>,
    astral: Vec<(char, char)>,
}

impl CharTable {
    fn from_class(pattern: &str) -> CharTable {
        let hir = regex_syntax::Parser::new()
            .parse(pattern)
            .expect("a valid Unicode property class");
        let ranges: Vec<(char, char)> = match hir.kind() {
            HirKind::Class(Class::Unicode(class)) => class
                .ranges()
                .iter()
                .map(|r| (r.start(), r.end()))
                .collect(),
            other => panic!("{pattern} is not a character class: {other:?}"),
        };
        let mut bmp = Box::new([0u64; 1024]);
        for &(lo, hi) in &ranges {
            for c in lo as u32..=(hi as u32).min(0xFFFF) {
                bmp[(c >> 6) as usize] |= 1 << (c & 63);
            }
        }
        let astral = ranges.into_iter().filter(|r| r.1 as u32 > 0xFFFF).collect();
        CharTable { bmp, astral }
    }

    #[inline]
    fn contains(&self, c: char) -> bool {
        let c32 = c as u32;
        if c32 <= 0xFFFF {
            return self.bmp[(c32 >> 6) as usize] & (1 << (c32 & 63)) != 0;
        }
        self.astral
            .binary_search_by(|&(lo, hi)| {
                if hi < c {
                    std::cmp::Ordering::Less
                } else if lo > c {
                    std::cmp::Ordering::Greater
                } else {
                    std::cmp::Ordering::Equal
                }
            })
            .is_ok()
    }
}

fn pictographic() -> &'static CharTable {
    static TABLE: OnceLock<CharTable> = OnceLock::new();
    TABLE.get_or_init(|| CharTable::from_class(r"\p{Extended_Pictographic}"))
}

fn invisible_table() -> &'static CharTable {
    static TABLE: OnceLock<CharTable> = OnceLock::new();
    // Braille blank and Hangul fillers render as nothing and are favourite spam padding.
    TABLE.get_or_init(|| {
        CharTable::from_class(r"[\p{Default_Ignorable_Code_Point}\p{Cf}\x{2800}\x{3164}\x{FFA0}]")
    })
}

/// `char::is_alphabetic`, with a fast path for basic Cyrillic and a bitmap of std's own answers
/// for the rest of the first two planes (the std lookup is slow off ASCII; emoji are in plane 1).
#[inline]
pub(crate) fn is_letter(c: char) -> bool {
    match c {
        '\u{400}'..='\u{481}' | '\u{48A}'..='\u{52F}' => true,
        _ if c.is_ascii() => c.is_ascii_alphabetic(),
        _ if (c as u32) < TABLED_CHARS => {
            let bits = &char_class_bits()[0];
            bits[(c as usize) >> 6] & (1 << (c as u32 & 63)) != 0
        }
        _ => c.is_alphabetic(),
    }
}

/// `char::is_alphanumeric` by the same bitmaps.
#[inline]
fn is_letter_or_number(c: char) -> bool {
    if (c as u32) < TABLED_CHARS {
        let bits = &char_class_bits()[1];
        bits[(c as usize) >> 6] & (1 << (c as u32 & 63)) != 0
    } else {
        c.is_alphanumeric()
    }
}

/// Characters below this have their class in [`char_class_bits`]: the first two planes.
const TABLED_CHARS: u32 = 0x2_0000;

/// `char::is_alphabetic` and `char::is_alphanumeric` of every character below [`TABLED_CHARS`],
/// one bit each (built once, a few ms).
fn char_class_bits() -> &'static [Box<[u64]>; 2] {
    static TABLE: OnceLock<[Box<[u64]>; 2]> = OnceLock::new();
    TABLE.get_or_init(|| {
        let words = TABLED_CHARS as usize / 64;
        let (mut alphabetic, mut alphanumeric) = (vec![0u64; words], vec![0u64; words]);
        for c in (0..TABLED_CHARS).filter_map(char::from_u32) {
            let bit = 1 << (c as u32 & 63);
            if c.is_alphabetic() {
                alphabetic[(c as usize) >> 6] |= bit;
            }
            if c.is_alphanumeric() {
                alphanumeric[(c as usize) >> 6] |= bit;
            }
        }
        [
            alphabetic.into_boxed_slice(),
            alphanumeric.into_boxed_slice(),
        ]
    })
}

#[inline]
pub(crate) fn is_upper(c: char) -> bool {
    match c {
        '\u{400}'..='\u{42F}' => true,
        '\u{430}'..='\u{45F}' => false,
        _ => c.is_uppercase(),
    }
}

/// Lower case of one character, without the std table walk for basic Cyrillic.
#[inline]
fn lower_basic(c: char) -> Option<char> {
    match c {
        '\u{410}'..='\u{42F}' => char::from_u32(c as u32 + 0x20),
        '\u{400}'..='\u{40F}' => char::from_u32(c as u32 + 0x50),
        '\u{430}'..='\u{45F}' => Some(c),
        _ => None,
    }
}

/// The first `n` characters of `text` (all of it when shorter), as a slice: one copy when kept,
/// not a push per character.
pub(crate) fn first_chars(text: &str, n: usize) -> &str {
    match text.char_indices().nth(n) {
        Some((end, _)) => &text[..end],
        None => text,
    }
}

/// True for an Extended_Pictographic character (emoji and pictographs, by the Unicode property).
pub fn is_pictographic(c: char) -> bool {
    // Nothing below U+203C except © and ® has the property; keeps Cyrillic and Latin text fast.
    if c < '\u{203C}' {
        return c == '\u{A9}' || c == '\u{AE}';
    }
    pictographic().contains(c)
}

/// True for characters that render as nothing: zero-width, direction overrides, fillers.
pub fn is_invisible(c: char) -> bool {
    if c < '\u{AD}' {
        return false;
    }
    invisible_table().contains(c)
}

fn is_regional_indicator(c: char) -> bool {
    ('\u{1F1E6}'..='\u{1F1FF}').contains(&c)
}

fn is_emoji_char(c: char) -> bool {
    is_pictographic(c) || is_regional_indicator(c) || c == '\u{20E3}'
}

/// UAX #29 Extend: joins the cluster before it, and keeps an emoji + ZWJ sequence going.
fn grapheme_extend_table() -> &'static CharTable {
    static TABLE: OnceLock<CharTable> = OnceLock::new();
    TABLE.get_or_init(|| CharTable::from_class(r"\p{Grapheme_Cluster_Break=Extend}"))
}

/// UAX #29 SpacingMark: joins the cluster before it.
fn grapheme_spacing_mark_table() -> &'static CharTable {
    static TABLE: OnceLock<CharTable> = OnceLock::new();
    TABLE.get_or_init(|| CharTable::from_class(r"\p{Grapheme_Cluster_Break=SpacingMark}"))
}

/// Extended grapheme clusters of `text` holding an emoji character (Extended_Pictographic, a flag
/// or a keycap). Of the UAX #29 rules only those that can put two emoji characters in one cluster
/// matter for the count: Extend/ZWJ/SpacingMark join the cluster before them (GB9, GB9a), an emoji
/// after emoji + Extend* + ZWJ joins it (GB11), and regional indicators pair up (GB12, GB13).
/// Controls, Hangul and Prepend only decide where clusters without emoji split, so they change
/// no count. Tested against unicode-segmentation.
fn emoji_clusters(text: &str) -> u32 {
    let (mut count, mut cluster_has_emoji) = (0u32, false);
    // GB11: the cluster so far is emoji + Extend* (1) or that + ZWJ (2).
    let mut zwj_state = 0u8;
    let mut odd_flags = false;
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        // Eight bytes at a time while they hold only such characters (the text is valid UTF-8
        // and `i` starts a character, so every continuation byte in them follows a D0 or D1).
        if let Some(chunk) = bytes.get(i..i + 8)
            && only_ascii_or_d0_d1_letters(u64::from_le_bytes(
                chunk.try_into().unwrap_or([0xFF; 8]),
            ))
        {
            // A lead byte last: its second byte starts the next chunk.
            i += if chunk[7] >= 0xC0 { 9 } else { 8 };
            cluster_has_emoji = false;
            zwj_state = 0;
            odd_flags = false;
            continue;
        }
        let b = bytes[i];
        // ASCII and U+0400..U+047F (lead bytes D0, D1): skipped below without decoding.
        if b < 0x80 || b == 0xD0 || b == 0xD1 {
            i += if b < 0x80 { 1 } else { 2 };
            cluster_has_emoji = false;
            zwj_state = 0;
            odd_flags = false;
            continue;
        }
        let Some(c) = text.get(i..).and_then(|t| t.chars().next()) else {
            break;
        };
        i += c.len_utf8();
        if c < '\u{A9}'
            || ('\u{AF}'..'\u{300}').contains(&c)
            || ('\u{400}'..='\u{482}').contains(&c)
            || ('\u{48A}'..='\u{52F}').contains(&c)
        {
            // Letters, digits and punctuation of Latin and Cyrillic (not the Cyrillic combining
            // marks U+0483..U+0489): none joins a cluster, none is emoji.
            cluster_has_emoji = false;
            zwj_state = 0;
            odd_flags = false;
            continue;
        }
        let pictographic = is_pictographic(c);
        let flag = is_regional_indicator(c);
        let extend = c >= '\u{300}' && grapheme_extend_table().contains(c);
        let joins = if flag {
            odd_flags
        } else if pictographic {
            zwj_state == 2
        } else {
            extend
                || c == '\u{200D}'
                || (c >= '\u{300}' && grapheme_spacing_mark_table().contains(c))
        };
        if !joins {
            cluster_has_emoji = false;
        }
        if (pictographic || flag || c == '\u{20E3}') && !cluster_has_emoji {
            count += 1;
            cluster_has_emoji = true;
        }
        zwj_state = if pictographic {
            1
        } else if c == '\u{200D}' && zwj_state == 1 {
            2
        } else if extend && zwj_state == 1 {
            1
        } else {
            0
        };
        odd_flags = flag && !odd_flags;
    }
    count
}

/// Whether every byte of `x` is below C0 (ASCII or a continuation byte) or a D0/D1 lead byte:
/// exact per byte (bits 7 and 6 set mark the lead bytes; the zero-byte test is exact per lane).
#[inline]
fn only_ascii_or_d0_d1_letters(x: u64) -> bool {
    const HIGH: u64 = 0x8080_8080_8080_8080;
    const LOW7: u64 = 0x7F7F_7F7F_7F7F_7F7F;
    let leads = x & (x << 1) & HIGH;
    let v = (x & 0xFEFE_FEFE_FEFE_FEFE) ^ 0xD0D0_D0D0_D0D0_D0D0;
    let d0_d1 = !(((v & LOW7) + LOW7) | v) & HIGH;
    leads & !d0_d1 == 0
}

/// Letters that NFKC turns into plain ones: the "fancy font" trick.
fn is_styled_letter(c: char) -> bool {
    matches!(c,
        '\u{1D400}'..='\u{1D7FF}'   // mathematical alphanumeric symbols
        | '\u{FF10}'..='\u{FF19}'   // fullwidth digits
        | '\u{FF21}'..='\u{FF3A}'   // fullwidth upper case
        | '\u{FF41}'..='\u{FF5A}'   // fullwidth lower case
        | '\u{24B6}'..='\u{24E9}'   // circled letters
        | '\u{1F130}'..='\u{1F149}' // squared letters
    )
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Script {
    Other,
    Latin,
    Cyrillic,
    Greek,
    /// Letters that only pass for Latin or Cyrillic: small capitals, IPA, Cherokee, Lisu, Armenian.
    Exotic,
}

fn script_of(c: char) -> Script {
    match c {
        'a'..='z' | 'A'..='Z' | '\u{C0}'..='\u{24F}' | '\u{1E00}'..='\u{1EFF}' => Script::Latin,
        '\u{400}'..='\u{52F}' | '\u{1C80}'..='\u{1C8F}' | '\u{A640}'..='\u{A69F}' => {
            Script::Cyrillic
        }
        '\u{370}'..='\u{3FF}' | '\u{1F00}'..='\u{1FFF}' => Script::Greek,
        '\u{250}'..='\u{2AF}'
        | '\u{1D00}'..='\u{1DBF}'
        | '\u{13A0}'..='\u{13FF}'
        | '\u{A4D0}'..='\u{A4FF}'
        | '\u{530}'..='\u{58F}'
        | '\u{2C60}'..='\u{2C7F}'
        | '\u{A720}'..='\u{A7FF}' => Script::Exotic,
        _ => Script::Other,
    }
}

/// Latin letters that pass for Cyrillic ones (lower case; upper-case look-alikes included: B/В, H/Н).
fn latin_to_cyrillic(c: char) -> Option<char> {
    Some(match c {
        'a' => 'а',
        'b' => 'в',
        'c' => 'с',
        'd' => 'ԁ',
        'e' => 'е',
        'h' => 'н',
        'i' => 'і',
        'j' => 'ј',
        'k' => 'к',
        'l' => 'ӏ',
        'm' => 'м',
        'n' => 'п',
        'o' => 'о',
        'p' => 'р',
        'r' => 'г',
        's' => 'ѕ',
        't' => 'т',
        'u' => 'и',
        'x' => 'х',
        'y' => 'у',
        _ => return None,
    })
}

fn cyrillic_to_latin(c: char) -> Option<char> {
    Some(match c {
        'а' => 'a',
        'в' => 'b',
        'с' => 'c',
        'ԁ' => 'd',
        'е' => 'e',
        'н' => 'h',
        'і' => 'i',
        'ј' => 'j',
        'к' => 'k',
        'ӏ' => 'l',
        'м' => 'm',
        'п' => 'n',
        'о' => 'o',
        'р' => 'p',
        'г' => 'r',
        'ѕ' => 's',
        'т' => 't',
        'и' => 'u',
        'х' => 'x',
        'у' => 'y',
        _ => return None,
    })
}

/// Letters that look the same as a letter of the other alphabet (in some case).
fn is_homoglyph(c: char) -> bool {
    matches!(
        c,
        'a' | 'b'
            | 'c'
            | 'e'
            | 'h'
            | 'i'
            | 'j'
            | 'k'
            | 'm'
            | 'o'
            | 'p'
            | 's'
            | 't'
            | 'u'
            | 'x'
            | 'y'
            | 'а'
            | 'в'
            | 'с'
            | 'е'
            | 'н'
            | 'і'
            | 'ј'
            | 'к'
            | 'м'
            | 'о'
            | 'р'
            | 'ѕ'
            | 'т'
            | 'и'
            | 'х'
            | 'у'
    ) || script_of(c) == Script::Greek
}

/// Towards Latin, the UTS #39 confusable prototype when it is one ASCII letter.
fn to_latin(c: char) -> Option<char> {
    if let Some(l) = cyrillic_to_latin(c) {
        return Some(l);
    }
    // The Cyrillic block is looked up once (lookalike words are full of it).
    if ('\u{400}'..='\u{52F}').contains(&c) {
        static CYRILLIC: OnceLock<[u8; 0x130]> = OnceLock::new();
        let table = CYRILLIC.get_or_init(|| {
            std::array::from_fn(|k| {
                char::from_u32(0x400 + k as u32)
                    .and_then(skeleton_letter)
                    .map_or(0, |l| l as u8)
            })
        });
        return Some(table[c as usize - 0x400])
            .filter(|&l| l != 0)
            .map(char::from);
    }
    skeleton_letter(c)
}

/// The UTS #39 prototype of `c` when it is one ASCII letter (lower-cased).
fn skeleton_letter(c: char) -> Option<char> {
    let mut buf = [0u8; 4];
    let mut skeleton = unicode_security::skeleton(c.encode_utf8(&mut buf));
    match (skeleton.next(), skeleton.next()) {
        (Some(p), None) if p.is_ascii_alphabetic() => Some(p.to_ascii_lowercase()),
        _ => None,
    }
}

fn to_cyrillic(c: char) -> Option<char> {
    match script_of(c) {
        Script::Latin => latin_to_cyrillic(c),
        Script::Greek | Script::Exotic => to_latin(c).and_then(latin_to_cyrillic),
        _ => None,
    }
}

/// What folding a lookalike word needs of one character: its script, whether it passes for a
/// letter of the other alphabet, and its counterparts ([`to_latin`] and [`to_cyrillic`]).
#[derive(Clone, Copy)]
struct Lookalike {
    script: Script,
    homoglyph: bool,
    latin: Option<char>,
    cyrillic: Option<char>,
}

impl Lookalike {
    const OTHER: Lookalike = Lookalike {
        script: Script::Other,
        homoglyph: false,
        latin: None,
        cyrillic: None,
    };

    fn compute(c: char) -> Lookalike {
        Lookalike {
            script: script_of(c),
            homoglyph: is_homoglyph(c),
            latin: to_latin(c),
            cyrillic: to_cyrillic(c),
        }
    }

    /// A table lookup below U+0530 (Latin, Greek, Cyrillic: the letters of lookalike words).
    #[inline]
    fn of(c: char) -> Lookalike {
        const TABLED: usize = 0x530;
        static TABLE: OnceLock<Vec<Lookalike>> = OnceLock::new();
        if (c as usize) < TABLED {
            let table = TABLE.get_or_init(|| {
                (0..TABLED as u32)
                    .map(|k| char::from_u32(k).map_or(Lookalike::OTHER, Lookalike::compute))
                    .collect()
            });
            return table[c as usize];
        }
        Lookalike::compute(c)
    }
}

/// The word being built: its letters go straight into the output text from `start`. (Plain
/// numbers only, so that closing a word copies and clears it in a few moves.)
#[derive(Default, Clone, Copy)]
struct Word {
    /// Byte offset in the output text where the word's first letter is (0 with no letter yet).
    start: usize,
    chars: u32,
    latin: u32,
    cyrillic: u32,
    greek: u32,
    exotic: u32,
    letters: u32,
    /// ASCII digits.
    digits: u32,
    /// Symbols standing in for letters ("з@работок").
    symbol_letters: u32,
    /// Byte offset in the original text where the word started (for the lookalike example).
    raw_start: usize,
}

struct Builder<'a> {
    raw: &'a str,
    /// A word is open (it may have no letter yet).
    in_word: bool,
    out: &'a mut Normalized,
    /// The words of the output, when asked for.
    tokens: Option<&'a mut Tokens>,
    /// Characters in the output so far (spaces included).
    text_chars: u32,
    word: Word,
    /// Output bytes of the current run of single-letter words ("w o r d") and its length.
    run_start: usize,
    run_end: usize,
    run_len: u32,
    /// The current chain of hyphen-joined words ("за-ра-бо-ток"), while it may be a split word.
    chain: HyphenChain,
    /// The text has more Cyrillic than Latin letters; only needed to break ties, so found lazily.
    cyrillic_text: Option<bool>,
}

/// At byte `at`, what cuts a word into syllables for the eye but not for a filter, and a letter
/// right after it ("за-ра-бо-ток", "за.ра.бо.ток"; not the ". " that ends a sentence).
fn cut_then_letter(bytes: &[u8], at: usize) -> bool {
    bytes
        .get(at)
        .is_some_and(|b| matches!(b, b'-' | b'.' | b'_' | b'*'))
        && bytes
            .get(at + 1)
            .is_some_and(|&b| b.is_ascii_alphabetic() || b >= 0x80)
}

/// Words joined by single cuts ([`cut_then_letter`]), as they close: where the chain is in the output and the
/// original, and whether it still looks like one word cut into syllables.
#[derive(Default, Clone, Copy)]
struct HyphenChain {
    words: u32,
    chars: u32,
    /// Output byte where the chain starts.
    start: usize,
    /// Original bytes from the chain's first letter to the end of its last word.
    raw_start: usize,
    raw_end: usize,
    /// Every word is 2-4 Cyrillic letters (once look-alikes are folded), none the same as the
    /// one before.
    syllables: bool,
}

/// More Cyrillic letters than any other in the text, counted on the compatibility decomposition
/// without combining marks, so that a text and its NFKC form ("ﬁ" = "fi") always agree.
fn mostly_cyrillic(raw: &str) -> bool {
    let (mut letters, mut cyrillic) = (0u32, 0u32);
    let bytes = raw.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        // ASCII and U+0400..U+045F without decoding.
        let b = bytes[i];
        if b < 0x80 {
            letters += b.is_ascii_alphabetic() as u32;
            i += 1;
            continue;
        }
        if basic_cyrillic_at(bytes, i) {
            letters += 1;
            cyrillic += 1;
            i += 2;
            continue;
        }
        let Some(c) = raw.get(i..).and_then(|r| r.chars().next()) else {
            break;
        };
        i += c.len_utf8();
        if !is_invisible(c) {
            decompose_compatible(c, |d| {
                if !is_combining_mark(d) && is_letter(d) {
                    letters += 1;
                    cyrillic += (script_of(d) == Script::Cyrillic) as u32;
                }
            });
        }
    }
    cyrillic * 2 > letters
}

impl Builder<'_> {
    /// Starts a word at byte `i` of the original unless one is open.
    #[inline]
    fn open(&mut self, i: usize) {
        if !self.in_word {
            self.in_word = true;
            self.word.raw_start = i;
        }
    }

    /// Opens the word at byte `i` of the original if needed and starts its output (after a
    /// space) if it has none yet; the caller counts the characters.
    #[inline]
    fn start_run(&mut self, i: usize) {
        let w = &mut self.word;
        if !self.in_word {
            self.in_word = true;
            w.raw_start = i;
        }
        if w.chars == 0 {
            if !self.out.text.is_empty() {
                self.out.text.push(' ');
                self.text_chars += 1;
            }
            w.start = self.out.text.len();
        }
    }

    #[inline]
    fn push_char(&mut self, c: char) {
        let w = &mut self.word;
        if w.chars == 0 {
            if !self.out.text.is_empty() {
                self.out.text.push(' ');
                self.text_chars += 1;
            }
            w.start = self.out.text.len();
        }
        w.chars += 1;
        if c.is_ascii() {
            // Only letters and digits reach here.
            if c.is_ascii_alphabetic() {
                w.latin += 1;
                w.letters += 1;
            } else {
                w.digits += 1;
            }
            self.out.text.push(c);
            return;
        }
        if ('\u{430}'..='\u{45F}').contains(&c) {
            // Lower-case basic Cyrillic, most of the text in Russian chats.
            w.cyrillic += 1;
            w.letters += 1;
            self.out.text.push(c);
            return;
        }
        match script_of(c) {
            Script::Latin => w.latin += 1,
            Script::Cyrillic => w.cyrillic += 1,
            Script::Greek => w.greek += 1,
            Script::Exotic => w.exotic += 1,
            Script::Other => {}
        }
        if is_letter(c) {
            w.letters += 1;
        }
        self.out.text.push(c);
    }

    /// One character of the (compatibility-decomposed) text, already known not to be invisible.
    #[inline]
    fn word_char(&mut self, c: char, i: usize) {
        if c.is_ascii() {
            if c.is_ascii_alphanumeric() {
                self.open(i);
                self.push_char(c.to_ascii_lowercase());
            } else {
                self.end_word(i);
            }
            return;
        }
        if let Some(lower) = lower_basic(c) {
            self.open(i);
            // й, ё and ў decompose (diacritics are folded); the rest of basic Cyrillic does not.
            if matches!(lower, 'й' | 'ё' | 'ѐ' | 'ѓ' | 'ї' | 'ќ' | 'ѝ' | 'ў') {
                decompose_canonical(lower, |d| {
                    if !is_combining_mark(d) {
                        self.push_char(d);
                    }
                });
            } else {
                self.push_char(lower);
            }
            return;
        }
        if is_invisible(c) || is_combining_mark(c) {
            return; // zero-width characters inside a word keep it whole; diacritics and zalgo go
        }
        if !is_letter_or_number(c) {
            self.end_word(i);
            return;
        }
        self.open(i);
        for lower in c.to_lowercase() {
            decompose_canonical(lower, |d| {
                if !is_combining_mark(d) {
                    self.push_char(d);
                }
            });
        }
    }

    #[inline]
    fn end_word(&mut self, raw_end: usize) {
        if self.in_word {
            self.close_word(raw_end);
        }
    }

    fn close_word(&mut self, raw_end: usize) {
        self.in_word = false;
        let w = std::mem::take(&mut self.word);
        if w.chars == 0 {
            return;
        }
        let scripts = (w.latin > 0) as u32
            + (w.cyrillic > 0) as u32
            + (w.greek > 0) as u32
            + (w.exotic > 0) as u32;
        if scripts > 1 || (w.exotic > 0 && w.exotic < w.letters) {
            self.fold_lookalike(&w, raw_end);
        }
        if w.cyrillic > 0 && (w.digits | w.symbol_letters) > 0 {
            self.fold_symbol_letters(&w, raw_end);
        }
        let word_bytes = self.out.text.len() - w.start;
        let single_letter = w.chars == 1 && w.letters == 1;
        if single_letter {
            if self.run_len == 0 {
                self.run_start = w.start;
            }
            self.run_len += 1;
            self.run_end = self.out.text.len();
        } else if self.run_len > 0 {
            // Joining the run before this word moves the word left.
            self.close_run();
        }
        if let Some(tokens) = self.tokens.as_deref_mut() {
            let end = self.out.text.len();
            tokens.push_word(
                &self.out.text,
                end - word_bytes,
                end,
                self.text_chars,
                w.chars,
                w.digits == w.chars,
            );
        }
        self.text_chars += w.chars;
        if self.chain.words > 0 || cut_then_letter(self.raw.as_bytes(), raw_end) {
            self.hyphen_chain(&w, raw_end, self.out.text.len() - word_bytes);
        }
    }

    /// Adds the word just closed (output from `start`) to the chain of words joined by single
    /// hyphens (dots, underscores, asterisks), and joins the chain into one word when it ends as
    /// three or more syllables of 2-4 letters. Real compounds have fewer or longer parts
    /// ("кто-то", "Ростов-на-Дону").
    #[inline(never)]
    fn hyphen_chain(&mut self, w: &Word, raw_end: usize, start: usize) {
        let bytes = self.raw.as_bytes();
        let end = self.out.text.len();
        let c = &mut self.chain;
        if c.words > 0 && w.raw_start == c.raw_end + 1 {
            // A part said twice in a row is laughter or a sound ("ха-ха-ха", "тра-та-та"), not
            // a disguise. Compared only while every part so far is a syllable: a single letter
            // may since have been joined into a spaced-out run, which moves the text under
            // `c.start`.
            if c.syllables {
                let before = self.out.text[c.start..start].trim_end().rsplit(' ').next();
                c.syllables = before != Some(&self.out.text[start..end]);
            }
        } else {
            *c = HyphenChain {
                start,
                raw_start: w.raw_start,
                syllables: true,
                ..HyphenChain::default()
            };
        }
        c.words += 1;
        c.chars += w.chars;
        // Cyrillic only, look-alikes folded: English compounds of short words are common
        // ("up-to-date", "all-in-one").
        c.syllables &= (2..=4).contains(&w.chars)
            && self.out.text[start..end]
                .chars()
                .all(|ch| script_of(ch) == Script::Cyrillic);
        c.raw_end = raw_end;
        if cut_then_letter(bytes, raw_end) {
            return;
        }
        let c = std::mem::take(&mut self.chain);
        if c.words < 3 || !c.syllables {
            return;
        }
        let joined: String = self.out.text[c.start..]
            .chars()
            .filter(|&ch| ch != ' ')
            .collect();
        self.out.text.truncate(c.start);
        self.out.text.push_str(&joined);
        self.text_chars -= c.words - 1;
        self.out.hyphen_split_words += 1;
        self.out
            .hyphen_split_example
            .get_or_insert_with(|| self.raw[c.raw_start..c.raw_end].to_string());
        if let Some(tokens) = self.tokens.as_deref_mut() {
            let first = tokens.list.len() - c.words as usize;
            let chars_before = tokens.list[first].chars_before;
            tokens.list.truncate(first);
            tokens.push_word(
                &self.out.text,
                c.start,
                self.out.text.len(),
                chars_before,
                c.chars,
                false,
            );
        }
    }

    /// "з@работок": an @ (at byte `i`) between Cyrillic letters is the letter а. Takes it into the
    /// word when it is one.
    fn at_sign_letter(&mut self, i: usize, next: usize) -> bool {
        let is_letter =
            self.in_word && self.word.cyrillic > 0 && basic_cyrillic_at(self.raw.as_bytes(), next);
        if is_letter {
            self.word.symbol_letters += 1;
            self.word_char('а', i);
        }
        is_letter
    }

    /// A Cyrillic word with digits or @ in it: folds the digits that stand for letters and
    /// counts the word as a lookalike when any symbol stood for a letter.
    #[inline(never)]
    fn fold_symbol_letters(&mut self, w: &Word, raw_end: usize) {
        let digits_folded = w.digits > 0
            && w.cyrillic >= 3
            && w.cyrillic + w.digits == w.chars
            && self.fold_digit_letters(w);
        if digits_folded || w.symbol_letters > 0 {
            self.note_lookalike(w, raw_end);
        }
    }

    /// Counts the word `w` (ending at byte `raw_end` of the original) as a disguised word; the
    /// first one, as written, is the reason's example.
    fn note_lookalike(&mut self, w: &Word, raw_end: usize) {
        self.out.lookalike_words += 1;
        if self.out.lookalike_example.is_none() {
            let example = self.raw.get(w.raw_start..raw_end).unwrap_or("").trim();
            self.out.lookalike_example = Some(first_chars(example, 40).to_string());
        }
    }

    /// A Cyrillic word with a digit standing in for a letter inside it ("зараб0ток",
    /// "вл0жений", "ра6ота"): the digit becomes the letter; whether it did. Only between two
    /// letters: a number glued to a word ("3часа", "5000руб") is a number.
    fn fold_digit_letters(&mut self, w: &Word) -> bool {
        let word: Vec<char> = self.out.text[w.start..].chars().collect();
        let letter_like = |c: char| match c {
            '0' => Some('о'),
            '3' => Some('з'),
            '6' => Some('б'),
            _ => None,
        };
        let inside = |i: usize| {
            i > 0
                && word.get(i + 1).is_some_and(|n| !n.is_ascii_digit())
                && !word[i - 1].is_ascii_digit()
        };
        let disguised = word
            .iter()
            .enumerate()
            .all(|(i, &c)| !c.is_ascii_digit() || (letter_like(c).is_some() && inside(i)));
        if disguised {
            let folded: String = word.iter().map(|&c| letter_like(c).unwrap_or(c)).collect();
            self.out.text.truncate(w.start);
            self.out.text.push_str(&folded);
        }
        disguised
    }

    /// A word mixing scripts: count it when it is a disguise and map it to one alphabet.
    // Out of line: inlined it made every word's close save more registers.
    #[inline(never)]
    fn fold_lookalike(&mut self, w: &Word, raw_end: usize) {
        // The characters and what folding needs of them, looked up once, on the stack for all
        // but long words.
        let mut buf = [('\0', Lookalike::OTHER); 32];
        let mut n = 0;
        let mut long: Vec<(char, Lookalike)> = Vec::new();
        for c in self.out.text[w.start..].chars() {
            if n < buf.len() {
                buf[n] = (c, Lookalike::of(c));
                n += 1;
            } else {
                if long.is_empty() {
                    long.extend_from_slice(&buf);
                }
                long.push((c, Lookalike::of(c)));
            }
        }
        let chars: &[(char, Lookalike)] = if long.is_empty() { &buf[..n] } else { &long };
        self.fold_decoded(w, raw_end, chars);
    }

    /// [`fold_lookalike`](Self::fold_lookalike) of the word's decoded characters.
    fn fold_decoded(&mut self, w: &Word, raw_end: usize, chars: &[(char, Lookalike)]) {
        // The script whose letters all have a counterpart is the impostor; else the majority.
        let (mut latin_stuck, mut cyrillic_stuck) = (0u32, 0u32);
        for (_, l) in chars {
            match l.script {
                Script::Latin => latin_stuck += l.cyrillic.is_none() as u32,
                Script::Cyrillic => cyrillic_stuck += l.latin.is_none() as u32,
                _ => {}
            }
        }
        let to_cyr = match (latin_stuck, cyrillic_stuck) {
            (0, 1..) => true,
            (1.., 0) => false,
            _ if w.cyrillic != w.latin + w.greek => w.cyrillic > w.latin + w.greek,
            // A tie ("Оh" in an English sentence) goes to the alphabet of the whole text.
            _ => *self
                .cyrillic_text
                .get_or_insert_with(|| mostly_cyrillic(self.raw)),
        };
        // Only letters that really pass for the other alphabet make a lookalike word; a stray
        // "n" before a Cyrillic word is usually a flattened newline ("текст.nnДальше").
        let foreign = |script: Script| match script {
            Script::Cyrillic => !to_cyr,
            Script::Latin | Script::Greek => to_cyr,
            Script::Exotic => true,
            Script::Other => false,
        };
        // Model numbers like "K2С3H" are codes, not words.
        let convincing = w.letters == w.chars
            && chars
                .iter()
                .any(|(_, l)| foreign(l.script) && (l.homoglyph || l.script == Script::Exotic));
        if convincing {
            self.note_lookalike(w, raw_end);
        }
        self.out.text.truncate(w.start);
        for &(c, l) in chars {
            let mapped = if to_cyr {
                if l.script == Script::Cyrillic {
                    None
                } else {
                    l.cyrillic
                }
            } else if matches!(l.script, Script::Cyrillic | Script::Greek | Script::Exotic) {
                l.latin
            } else {
                None
            };
            self.out.text.push(mapped.unwrap_or(c));
        }
    }

    /// A run of 4+ single letters is a split word: join it back ("з а р а б о т о к" → "заработок").
    fn close_run(&mut self) {
        if self.run_len > self.out.longest_spaced_run {
            self.out.longest_spaced_run = self.run_len;
        }
        if self.run_len >= JOINED_SPACED_RUN {
            let joined: String = self.out.text[self.run_start..self.run_end]
                .chars()
                .filter(|&c| c != ' ')
                .collect();
            self.out
                .text
                .replace_range(self.run_start..self.run_end, &joined);
            // The run's spaces are gone; its letters are one word now.
            self.text_chars -= self.run_len - 1;
            if let Some(tokens) = self.tokens.as_deref_mut() {
                let first = tokens.list.len() - self.run_len as usize;
                let chars_before = tokens.list[first].chars_before;
                tokens.list.truncate(first);
                let end = self.run_start + joined.len();
                tokens.push_word(
                    &self.out.text,
                    self.run_start,
                    end,
                    chars_before,
                    self.run_len,
                    false,
                );
            }
        }
        self.run_len = 0;
    }
}

/// Normalises one text. Never panics, whatever the input (property-tested).
pub fn normalize(raw: &str) -> Normalized {
    let mut out = Normalized {
        text: String::with_capacity(raw.len()),
        ..Normalized::default()
    };
    normalize_into(raw, &mut out);
    out
}

/// [`normalize`] into `out`, reusing its buffers (the engine's check path allocates nothing here).
///
/// One pass over the original: counts, shouting words and words at once. Instead of NFKC of the
/// whole text each character is compatibility-decomposed (NFKD); words drop combining marks anyway,
/// and NFD of NFKC is NFKD, so the words are the same.
pub fn normalize_into(raw: &str, out: &mut Normalized) {
    normalize_words(raw, out, None);
}

/// [`normalize_into`] that also splits the result into hashed words, as [`Tokens::fill`] of the
/// text would but without another pass over it.
pub fn normalize_with_tokens(raw: &str, out: &mut Normalized, tokens: &mut Tokens) {
    tokens.list.clear();
    normalize_words(raw, out, Some(tokens));
}

fn normalize_words(raw: &str, out: &mut Normalized, tokens: Option<&mut Tokens>) {
    let mut text = std::mem::take(&mut out.text);
    text.clear();
    text.reserve(raw.len());
    *out = Normalized {
        text,
        ..Normalized::default()
    };
    let mut b = Builder {
        raw,
        out,
        tokens,
        text_chars: 0,
        word: Word::default(),
        run_start: 0,
        run_end: 0,
        run_len: 0,
        chain: HyphenChain::default(),
        cyrillic_text: None,
        in_word: false,
    };
    let mut first_emoji = None;
    // Shouting: runs of 4+ letters all in capitals.
    let (mut run, mut all_upper, mut shouting) = (0u32, true, 0u32);
    let (mut currency, mut digit) = (false, false);
    // Kept in registers by the fast paths, added to `out` at the end.
    let (mut letters, mut uppercase, mut visible) = (0u32, 0u32, 0u32);
    let bytes = raw.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let byte = bytes[i];
        // Fast paths for runs of ASCII letters and digits and of basic Cyrillic letters
        // (U+0400..U+045F), most of every chat: the same steps as the general path below,
        // without decoding, tables or decomposition, counted once per run.
        if ASCII_CLASS[byte as usize] & ALNUM != 0 {
            b.start_run(i);
            let start = i;
            let mut alpha = 0u32;
            let capitals_before = uppercase;
            while let Some(&byte) = bytes.get(i) {
                let class = ASCII_CLASS[byte as usize];
                if class & ALNUM == 0 {
                    break;
                }
                if class & ALPHA != 0 {
                    let upper = class & UPPER_ASCII != 0;
                    alpha += 1;
                    uppercase += upper as u32;
                    run += 1;
                    all_upper &= upper;
                } else {
                    shouting += (run >= 4 && all_upper) as u32;
                    run = 0;
                    all_upper = true;
                    digit = true;
                }
                i += 1;
            }
            let at = b.out.text.len();
            b.out.text.push_str(&raw[start..i]);
            if uppercase != capitals_before {
                lowercase_ascii_from(&mut b.out.text, at);
            }
            let n = (i - start) as u32;
            letters += alpha;
            visible += n;
            let w = &mut b.word;
            w.chars += n;
            w.latin += alpha;
            w.letters += alpha;
            w.digits += n - alpha;
            continue;
        }
        if byte == b'@' && b.at_sign_letter(i, i + 1) {
            visible += 1;
            i += 1;
            continue;
        }
        if byte < 0x80 {
            shouting += (run >= 4 && all_upper) as u32;
            run = 0;
            all_upper = true;
            currency |= byte == b'$';
            visible += !byte.is_ascii_whitespace() as u32;
            b.end_word(i);
            i += 1;
            continue;
        }
        // basic_cyrillic_at, on the byte already loaded: through the helper this hot loop cost
        // 0.5% more instructions per check.
        if byte == 0xD0 || (byte == 0xD1 && bytes[i + 1] < 0xA0) {
            b.start_run(i);
            let start = i;
            let (len, upper, folds_end) = basic_cyrillic_run(&bytes[i..]);
            i += len;
            let n = ((i - start) / 2) as u32;
            uppercase += upper;
            run += n;
            all_upper &= upper == n;
            if folds_end > 0 {
                // Capitals, й, ё, ў...: those letters folded, the bytes between and after them as
                // they are (usually just a capital first letter, so one pair is looked at).
                let mut from = start;
                for (k, pair) in bytes[start..start + folds_end].chunks_exact(2).enumerate() {
                    let flags = BASIC_CYRILLIC_FLAGS
                        [((pair[0] as usize & 1) << 6) | (pair[1] as usize & 0x3F)];
                    if flags & FOLDS != 0 {
                        let at = start + 2 * k;
                        if from < at {
                            b.out.text.push_str(&raw[from..at]);
                        }
                        let c = ((pair[0] as usize & 0x1F) << 6) | (pair[1] as usize & 0x3F);
                        b.out.text.push(BASIC_CYRILLIC_CHARS[c - 0x400]);
                        from = at + 2;
                    }
                }
                if from < i {
                    b.out.text.push_str(&raw[from..i]);
                }
            } else {
                // Already lower case and folded: the original bytes, already valid UTF-8.
                b.out.text.push_str(&raw[start..i]);
            }
            letters += n;
            visible += n;
            let w = &mut b.word;
            w.chars += n;
            w.cyrillic += n;
            w.letters += n;
            continue;
        }
        let Some(c) = raw[i..].chars().next() else {
            break;
        };
        let char_start = i;
        i += c.len_utf8();
        let i = char_start;
        let letter = is_letter(c);
        if letter {
            run += 1;
            all_upper &= is_upper(c);
        } else {
            shouting += (run >= 4 && all_upper) as u32;
            run = 0;
            all_upper = true;
            currency |= matches!(c, '€' | '₽' | '£' | '₴' | '₸' | '₿');
        }
        if is_invisible(c) {
            // Joiners, variation selectors and tags are parts of emoji, not hiding tricks.
            let emoji_part = matches!(
                c,
                '\u{200D}' | '\u{FE0E}' | '\u{FE0F}' | '\u{E0020}'..='\u{E007F}'
            );
            b.out.invisible += !emoji_part as u32;
            continue; // also inside a word: zero-width characters keep it whole
        }
        if letter {
            b.out.letters += 1;
            b.out.uppercase += is_upper(c) as u32;
        }
        if is_styled_letter(c) {
            b.out.styled_letters += 1;
        }
        if first_emoji.is_none() && is_emoji_char(c) {
            first_emoji = Some(i);
        }
        let mark = is_combining_mark(c);
        if !c.is_whitespace() && !mark {
            b.out.visible += 1;
        }
        if mark {
            continue;
        }
        // Fullwidth and small @ are @ after NFKC.
        if matches!(c, '＠' | '﹫') && b.at_sign_letter(i, i + c.len_utf8()) {
            continue;
        }
        if nfkc_stable(c) {
            b.word_char(c, i);
        } else {
            decompose_compatible(c, |d| b.word_char(d, i));
        }
    }
    b.end_word(raw.len());
    b.close_run();
    shouting += (run >= 4 && all_upper) as u32;
    b.out.letters += letters;
    b.out.uppercase += uppercase;
    b.out.visible += visible;
    let out = b.out;
    out.shouting_words = shouting;
    out.money_sign = currency && digit;
    // Grapheme clusters from the first emoji-ish character on: nothing before it can join a
    // cluster holding an emoji character, and the segmentation after it is the same.
    if let Some(start) = first_emoji {
        out.emoji = emoji_clusters(&raw[start..]);
    }
}

/// Runs of this many single letters ("w o r d") and more are joined back into one word.
pub const JOINED_SPACED_RUN: u32 = 4;

/// A letter of U+0400..U+045F starts at byte `i`.
fn basic_cyrillic_at(bytes: &[u8], i: usize) -> bool {
    match bytes.get(i) {
        Some(0xD0) => true,
        Some(0xD1) => bytes.get(i + 1).is_some_and(|&b| b < 0xA0),
        _ => false,
    }
}

/// ASCII letters and digits (`ALNUM`), letters (`ALPHA`) and capitals (`UPPER_ASCII`), one load
/// per byte in the normalisation's ASCII runs.
const ALNUM: u8 = 1;
const ALPHA: u8 = 2;
const UPPER_ASCII: u8 = 4;
static ASCII_CLASS: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut b = 0;
    while b < 128 {
        let byte = b as u8;
        table[b] = if byte.is_ascii_uppercase() {
            ALNUM | ALPHA | UPPER_ASCII
        } else if byte.is_ascii_lowercase() {
            ALNUM | ALPHA
        } else if byte.is_ascii_digit() {
            ALNUM
        } else {
            0
        };
        b += 1;
    }
    table
};

/// U+0400..U+045F lower-cased with diacritics folded (й→и, ё→е, ў→у, ї→і, ...): what the general
/// path makes of each, so the fast path is a lookup.
static BASIC_CYRILLIC_FOLDED: [[u8; 2]; 0x60] = {
    let mut table = [[0u8; 2]; 0x60];
    let mut k = 0;
    while k < 0x60 {
        let c = 0x400 + k as u32;
        let lower = match c {
            0x410..=0x42F => c + 0x20,
            0x400..=0x40F => c + 0x50,
            _ => c,
        };
        let folded = match lower {
            0x439 => 0x438,         // й → и
            0x451 | 0x450 => 0x435, // ё ѐ → е
            0x453 => 0x433,         // ѓ → г
            0x457 => 0x456,         // ї → і
            0x45C => 0x43A,         // ќ → к
            0x45D => 0x438,         // ѝ → и
            0x45E => 0x443,         // ў → у
            other => other,
        };
        // U+0430..U+045F in UTF-8: two bytes.
        table[k] = [0xC0 | (folded >> 6) as u8, 0x80 | (folded & 0x3F) as u8];
        k += 1;
    }
    table
};

/// Per letter of U+0400..U+045F, indexed by the low bit of its UTF-8 lead byte (D0/D1) and the
/// six payload bits of the second byte: capital (`UPPER`), and changed by folding (`FOLDS`).
const UPPER: u8 = 1;
const FOLDS: u8 = 2;
static BASIC_CYRILLIC_FLAGS: [u8; 128] = {
    let mut table = [0u8; 128];
    let mut k = 0;
    while k < 0x60 {
        let c = 0x400 + k as u32;
        let utf8 = [0xC0 | (c >> 6) as u8, 0x80 | (c & 0x3F) as u8];
        let index = ((utf8[0] as usize & 1) << 6) | (utf8[1] as usize & 0x3F);
        let folded = BASIC_CYRILLIC_FOLDED[k];
        let upper = if c <= 0x42F { UPPER } else { 0 };
        let folds = if folded[0] != utf8[0] || folded[1] != utf8[1] {
            FOLDS
        } else {
            0
        };
        table[index] = upper | folds;
        k += 1;
    }
    table
};

/// `text[at..]` in ASCII lower case. Out of line: inlined, its vector constants were reloaded
/// after every call in the normalisation loop.
#[inline(never)]
fn lowercase_ascii_from(text: &mut str, at: usize) {
    if let Some(tail) = text.get_mut(at..) {
        tail.make_ascii_lowercase();
    }
}

/// How many of the four two-byte letters in `x` (eight bytes of UTF-8, little-endian), from the
/// first on, are "plain": lower-case basic Cyrillic that folding leaves alone (а-я but й, read as
/// D0 B0..BF and D1 80..8F). Each 16-bit lane is one letter, lead byte low; the tests are exact
/// per lane, so the count stops at the first other letter or byte.
#[inline]
fn plain_cyrillic_letters(x: u64) -> u32 {
    const LANE_LOW15: u64 = 0x7FFF_7FFF_7FFF_7FFF;
    const LANE_HIGH: u64 = 0x8000_8000_8000_8000;
    // The high bit of each lane that is zero (no carry crosses a lane).
    let zero = |v: u64| !(((v & LANE_LOW15) + LANE_LOW15) | v) & LANE_HIGH;
    // Lead and the second byte's high nibble: D0 Bx (а-п) or D1 8x (р-я).
    let shape = x & 0xF0FF_F0FF_F0FF_F0FF;
    let plain = (zero(shape ^ 0xB0D0_B0D0_B0D0_B0D0) | zero(shape ^ 0x80D1_80D1_80D1_80D1))
        // й (D0 B9) folds to и.
        & !zero(x ^ 0xB9D0_B9D0_B9D0_B9D0);
    (!plain & LANE_HIGH).trailing_zeros() / 16
}

/// The run of U+0400..U+045F letters `bytes` starts with: its byte length, its capitals, and
/// the byte offset after the last letter folding changes (0 when it changes none).
#[inline]
fn basic_cyrillic_run(bytes: &[u8]) -> (usize, u32, usize) {
    let (mut k, mut upper, mut folds_end) = (0usize, 0u32, 0usize);
    loop {
        // Plain lower-case letters four at a time (most of Russian text), then one letter the
        // table way.
        while let Some(chunk) = bytes.get(k..k + 8) {
            let plain =
                plain_cyrillic_letters(u64::from_le_bytes(chunk.try_into().unwrap_or([0; 8])));
            k += 2 * plain as usize;
            if plain < 4 {
                break;
            }
        }
        let (Some(&lead), Some(&next)) = (bytes.get(k), bytes.get(k + 1)) else {
            break;
        };
        if !(lead == 0xD0 || (lead == 0xD1 && next < 0xA0)) {
            break;
        }
        let flags = BASIC_CYRILLIC_FLAGS[((lead as usize & 1) << 6) | (next as usize & 0x3F)];
        upper += (flags & UPPER) as u32;
        k += 2;
        if flags & FOLDS != 0 {
            folds_end = k;
        }
    }
    (k, upper, folds_end)
}

/// [`BASIC_CYRILLIC_FOLDED`] as characters.
static BASIC_CYRILLIC_CHARS: [char; 0x60] = {
    let mut table = ['\0'; 0x60];
    let mut k = 0;
    while k < 0x60 {
        let [hi, lo] = BASIC_CYRILLIC_FOLDED[k];
        let c = ((hi as u32 & 0x1F) << 6) | (lo as u32 & 0x3F);
        table[k] = match char::from_u32(c) {
            Some(ch) => ch,
            None => '\0',
        };
        k += 1;
    }
    table
};

/// Characters that are NFKC-normalised starters whatever surrounds them.
#[inline]
fn nfkc_stable(c: char) -> bool {
    c.is_ascii()
        || ('\u{400}'..='\u{45F}').contains(&c)
        || matches!(c, '«' | '»' | '–' | '—' | '‘' | '’' | '“' | '”' | '„' | '•')
}

/// The text of a message as the checks see it: the text plus the targets of hidden links.
pub fn message_text(msg: &Message) -> std::borrow::Cow<'_, str> {
    let hidden: Vec<&str> = msg
        .entities
        .iter()
        .filter(|e| e.kind == EntityKind::TextUrl)
        .filter_map(|e| e.url.as_deref())
        .collect();
    if hidden.is_empty() {
        return std::borrow::Cow::Borrowed(&msg.text);
    }
    let mut text = msg.text.clone();
    for url in hidden {
        text.push(' ');
        text.push_str(url);
    }
    std::borrow::Cow::Owned(text)
}

/// Normalises a message's text with its hidden link targets joined in.
pub fn normalize_message(msg: &Message) -> Normalized {
    normalize(&message_text(msg))
}

/// The text an entity covers. Telegram counts in UTF-16 code units; offsets past the end give
/// `None`, an offset inside a surrogate pair starts at that character, lengths are clamped.
pub fn entity_text<'a>(text: &'a str, entity: &Entity) -> Option<&'a str> {
    utf16_slice(text, entity.offset as usize, entity.length as usize)
}

pub fn utf16_slice(text: &str, offset: usize, length: usize) -> Option<&str> {
    let end_unit = offset.saturating_add(length);
    let mut unit = 0usize;
    let mut start = None;
    let mut end = text.len();
    for (i, c) in text.char_indices() {
        let next = unit + c.len_utf16();
        if start.is_none() && next > offset {
            start = Some(i);
        }
        if unit >= end_unit {
            end = i;
            break;
        }
        unit = next;
    }
    let start = start?;
    text.get(start..end.max(start))
}

#[cfg(test)]
mod tests {
    /// The letter-pair loop the four-at-a-time run replaced.
    fn basic_cyrillic_run_by_pairs(bytes: &[u8]) -> (usize, u32, usize) {
        let (mut k, mut upper, mut folds_end) = (0usize, 0u32, 0usize);
        for pair in bytes.chunks_exact(2) {
            let (lead, next) = (pair[0], pair[1]);
            if !(lead == 0xD0 || (lead == 0xD1 && next < 0xA0)) {
                break;
            }
            let flags =
                super::BASIC_CYRILLIC_FLAGS[((lead as usize & 1) << 6) | (next as usize & 0x3F)];
            upper += (flags & super::UPPER) as u32;
            k += 2;
            if flags & super::FOLDS != 0 {
                folds_end = k;
            }
        }
        (k, upper, folds_end)
    }

    #[test]
    fn four_letters_at_a_time_run_as_the_pair_loop() {
        // Every U+0400..U+045F letter, their neighbours in UTF-8 and other bytes.
        let mut pieces: Vec<String> = (0x3F0..0x470u32)
            .filter_map(char::from_u32)
            .map(String::from)
            .collect();
        pieces.extend(["a", " ", "1", "ǅ", "😀", "\u{301}", "ԁ"].map(String::from));
        let pieces: Vec<&str> = pieces.iter().map(String::as_str).collect();
        for text in crate::engine::tests::random_texts(&pieces, 24, 50_000) {
            let bytes = text.as_bytes();
            for start in (0..bytes.len()).filter(|&s| text.is_char_boundary(s)) {
                assert_eq!(
                    super::basic_cyrillic_run(&bytes[start..]),
                    basic_cyrillic_run_by_pairs(&bytes[start..]),
                    "{text:?} from {start}"
                );
            }
        }
    }

    use super::*;
    use unicode_normalization::UnicodeNormalization;

    #[test]
    fn mixed_alphabets_fold_to_one_word() {
        let n = normalize("САSINO бонус");
        assert_eq!(n.text, "casino бонус");
        assert_eq!(n.lookalike_words, 1);
        assert_eq!(n.lookalike_example.as_deref(), Some("САSINO"));
        let n = normalize("зaрaбoтoк в сети");
        assert_eq!(n.text, "заработок в сети");
        assert_eq!(n.lookalike_words, 1);
    }

    #[test]
    fn cyrillic_letters_inside_latin_words_are_found() {
        let n = normalize("Free bitсоin now");
        assert_eq!(n.text, "free bitcoin now");
        assert_eq!(n.lookalike_words, 1);
    }

    #[test]
    fn real_words_of_cyrillic_alphabets_are_not_lookalikes() {
        let texts = [
            "Привіт, як справи? Їжак ґанок єдність", // Ukrainian
            "Добры дзень, ўсё добра, дзякуй",        // Belarusian
            "Ђак џеп љубав њега ћерка јесте",        // Serbian
            "Қазақстан әже өмір ұлт үй һәм ңғ",      // Kazakh
            "ўсё і ў ґ є ї ђ џ қ ә ң ө ұ ү һ",
        ];
        for text in texts {
            let n = normalize(text);
            assert_eq!(n.lookalike_words, 0, "{text} -> {n:?}");
            assert_eq!(n.styled_letters, 0, "{text}");
        }
    }

    #[test]
    fn styled_letters_and_fullwidth_fold_and_are_counted() {
        let n = normalize("𝐟𝐫𝐞𝐞 ｍｏｎｅｙ");
        assert_eq!(n.text, "free money");
        assert_eq!(n.styled_letters, 9);
    }

    #[test]
    fn invisible_characters_and_diacritics_go() {
        let n = normalize("fr\u{200B}ee m\u{301}o\u{302}ney \u{202E}café");
        assert_eq!(n.text, "free money cafe");
        assert_eq!(n.invisible, 2);
    }

    #[test]
    fn emoji_are_counted_by_grapheme_and_dropped_from_words() {
        let n = normalize("hi 👍🏽 👨‍👩‍👧 🇺🇦 1️⃣ ok ✅");
        assert_eq!(n.emoji, 5);
        assert_eq!(n.text, "hi 1 ok");
        assert_eq!(normalize("© 2024 plain").emoji, 1);
        assert_eq!(normalize("просто текст").emoji, 0);
    }

    #[test]
    fn words_from_the_normalisation_are_those_of_the_text() {
        for text in [
            "Привет, мир! з а р а б о т о к онлайн 12 345 ЗАРАБОТОК",
            "a b c d e f g h ok",
            "САSINO бонус 𝐟𝐫𝐞𝐞 ﬁnal 😀 x y z w",
            "１２３ full ｗｉｄｔｈ ёжик йогурт",
            "",
            "  ,, ",
        ] {
            let mut n = Normalized::default();
            let mut t = Tokens::default();
            normalize_with_tokens(text, &mut n, &mut t);
            let mut expected = Tokens::default();
            expected.fill(&n.text);
            assert_eq!(
                format!("{:?}", t.list),
                format!("{:?}", expected.list),
                "{text}"
            );
        }
    }

    #[test]
    fn the_eight_byte_test_matches_the_byte_test() {
        let bytes = [
            0x00, 0x41, 0x7F, 0x80, 0xBF, 0xC0, 0xCF, 0xD0, 0xD1, 0xD2, 0xE2, 0xF0, 0xFF,
        ];
        let mut rng = crate::engine::classifier::Rng(0x1234_5678_9abc_def1);
        for _ in 0..200_000 {
            let r = rng.next();
            let chunk: [u8; 8] = std::array::from_fn(|k| bytes[(r >> (5 * k)) as usize % 13]);
            let expected = chunk.iter().all(|&b| b < 0xC0 || b == 0xD0 || b == 0xD1);
            assert_eq!(
                only_ascii_or_d0_d1_letters(u64::from_le_bytes(chunk)),
                expected,
                "{chunk:02X?}"
            );
        }
    }

    #[test]
    fn emoji_clusters_agree_with_unicode_segmentation() {
        use unicode_segmentation::UnicodeSegmentation;
        let pieces = [
            "a",
            "ж",
            " ",
            "\n",
            "\u{1}",
            "😀",
            "👍",
            "🏽",
            "\u{200D}",
            "\u{FE0F}",
            "\u{20E3}",
            "🇺",
            "🇦",
            "©",
            "1",
            "\u{301}",
            "\u{E0067}",
            "👨",
            "\u{0903}",
            "\u{1100}",
            "\u{0600}",
            "🏴",
            "❤",
            "\u{483}",
            "ї",
            "«",
            "\u{AD}",
        ];
        for text in crate::engine::tests::random_texts(&pieces, 12, 20_000) {
            let expected = text
                .graphemes(true)
                .filter(|g| g.chars().any(is_emoji_char))
                .count() as u32;
            assert_eq!(emoji_clusters(&text), expected, "{text:?}");
        }
    }

    #[test]
    fn characters_skipped_by_the_nfkc_check_are_nfkc_starters() {
        let stable = (0u32..0x3000)
            .filter_map(char::from_u32)
            .filter(|&c| nfkc_stable(c));
        for c in stable {
            let s = c.to_string();
            assert_eq!(s.nfkc().collect::<String>(), s, "U+{:04X}", c as u32);
            assert_eq!(unicode_normalization::char::canonical_combining_class(c), 0);
        }
        // A text needing NFKC is still folded when it also holds skipped characters.
        assert_eq!(normalize("ﬁnal «ｆｒｅｅ» — ок").text, "final free ок");
    }

    #[test]
    fn the_letter_table_agrees_with_std_on_every_character() {
        for c in (0..=0x10FFFFu32).filter_map(char::from_u32) {
            assert_eq!(is_letter(c), c.is_alphabetic(), "U+{:04X}", c as u32);
            assert_eq!(
                is_letter_or_number(c),
                c.is_alphanumeric(),
                "U+{:04X}",
                c as u32
            );
        }
    }

    #[test]
    fn split_words_are_joined() {
        let n = normalize("з а р а б о т о к онлайн");
        assert_eq!(n.text, "заработок онлаин"); // й folds to и like every diacritic
        assert_eq!(n.longest_spaced_run, 9);
        assert_eq!(normalize("я и ты").longest_spaced_run, 2);
    }

    #[test]
    fn digits_and_at_signs_posing_as_letters_inside_cyrillic_words_are_folded() {
        let n = normalize("Зараб0ток без вл0жений, ра6ота на д0му");
        assert_eq!(n.text, "заработок без вложении работа на дому");
        assert_eq!(n.lookalike_words, 4);
        assert_eq!(n.lookalike_example.as_deref(), Some("Зараб0ток"));
        let n = normalize("З@работок, р@бота; ivan@mail.ru, пиши @ivan, в 5@дом");
        assert_eq!(n.text, "заработок работа ivan mail ru пиши ivan в 5 дом");
        assert_eq!(n.lookalike_words, 2);
        assert_eq!(n.lookalike_example.as_deref(), Some("З@работок"));
        // Numbers glued to words, codes and digits that look like no letter stay numbers.
        let n = normalize("через 3часа, 5000руб, 10ка, в1, 1с, мп3, зараб00ток, зараб1ток, работ0");
        assert_eq!(
            n.text,
            "через 3часа 5000руб 10ка в1 1с мп3 зараб00ток зараб1ток работ0"
        );
        assert_eq!(n.lookalike_words, 0);
    }

    #[test]
    fn words_cut_into_syllables_by_hyphens_are_joined_back() {
        let n = normalize("Зa-ра-бо-ток без вло.же.ний, пи-ши, ра_бо_та");
        assert_eq!(n.text, "заработок без вложении пи ши работа");
        assert_eq!(n.hyphen_split_words, 3);
        assert_eq!(n.hyphen_split_example.as_deref(), Some("Зa-ра-бо-ток"));
        let mut tokens = Tokens::default();
        let mut with_tokens = Normalized::default();
        normalize_with_tokens("ну, за-ра-бо-ток!", &mut with_tokens, &mut tokens);
        let words: Vec<&str> = tokens
            .list
            .iter()
            .map(|t| tokens.text(&with_tokens.text, t))
            .collect();
        assert_eq!(words, ["ну", "заработок"]);
        // Laughter, sounds, compounds, dates and English stay as they are.
        for text in [
            "ха-ха-ха",
            "тра-та-та",
            "кто-то",
            "Ростов-на-Дону",
            "2023-09-21",
            "up-to-date",
            "за-ра-бо-ток2",
            "ёq-aА-ха", // a Latin part once folded
        ] {
            let n = normalize(text);
            assert_eq!(n.hyphen_split_words, 0, "{text}");
            assert_eq!(normalize(&n.text).text, n.text);
            assert!(n.text.contains(' '), "{text}: {}", n.text);
        }
    }

    #[test]
    fn utf16_slices_cope_with_bad_offsets() {
        let text = "a😀b";
        assert_eq!(utf16_slice(text, 0, 1), Some("a"));
        assert_eq!(utf16_slice(text, 1, 2), Some("😀"));
        assert_eq!(utf16_slice(text, 2, 1), Some("😀")); // inside the surrogate pair
        assert_eq!(utf16_slice(text, 3, 100), Some("b"));
        assert_eq!(utf16_slice(text, 4, 1), None);
        assert_eq!(
            utf16_slice(text, u32::MAX as usize, u32::MAX as usize),
            None
        );
    }
}
