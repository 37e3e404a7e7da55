//! The one text normalisation of the program: the engine, clusters and the simulator all use it.
//!
//! Steps: NFKC (folds fullwidth and math-alphanumeric letters), invisible/format characters removed,
//! lower case, diacritics folded (NFD minus combining marks, which also strips zalgo), then per word:
//! a word mixing Latin and Cyrillic (or Greek) letters is a lookalike word and its minority letters are
//! mapped to the majority script (UTS #39 confusable prototypes towards Latin, a small table towards
//! Cyrillic) so "САSINO" becomes "casino" and "зaрaбoтoк" becomes "заработок". Letters of every
//! Cyrillic alphabet (ў ґ є ї ђ џ қ ә ң ө ұ ү һ і) are Cyrillic, so real Ukrainian, Belarusian, Serbian
//! and Kazakh words never count as mixed. Emoji are counted by grapheme and dropped from the words.

use crate::model::{Entity, EntityKind, Message};
use regex_syntax::hir::{Class, HirKind};
use std::sync::OnceLock;
use unicode_normalization::char::{decompose_canonical, decompose_compatible, is_combining_mark};
use unicode_segmentation::UnicodeSegmentation;

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
    /// Longest run of single-letter words ("w o r d"); runs of 4+ are joined back into one word.
    pub longest_spaced_run: u32,
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

/// Sorted code point ranges of a Unicode property, taken from regex-syntax's tables.
struct CharTable(Vec<(char, char)>);

impl CharTable {
    fn from_class(pattern: &str) -> CharTable {
        let hir = regex_syntax::Parser::new()
            .parse(pattern)
            .expect("a valid Unicode property class");
        match hir.kind() {
            HirKind::Class(Class::Unicode(class)) => CharTable(
                class
                    .ranges()
                    .iter()
                    .map(|r| (r.start(), r.end()))
                    .collect(),
            ),
            other => panic!("{pattern} is not a character class: {other:?}"),
        }
    }

    fn contains(&self, c: char) -> bool {
        self.0
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

/// `char::is_alphabetic` with a fast path for basic Cyrillic (the std lookup is slow off ASCII).
#[inline]
pub(crate) fn is_letter(c: char) -> bool {
    match c {
        '\u{400}'..='\u{481}' | '\u{48A}'..='\u{52F}' => true,
        _ => c.is_alphabetic(),
    }
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

fn is_emoji_grapheme(g: &str) -> bool {
    g.chars()
        .any(|c| is_pictographic(c) || is_regional_indicator(c) || c == '\u{20E3}')
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

/// The word being built: its letters go straight into the output text from `start`.
#[derive(Default)]
struct Word {
    /// Byte offset in the output text where the word's first letter is (0 with no letter yet).
    start: usize,
    chars: u32,
    latin: u32,
    cyrillic: u32,
    greek: u32,
    exotic: u32,
    letters: u32,
    /// Byte offset in the original text where the word started (for the lookalike example).
    raw_start: usize,
    in_word: bool,
}

struct Builder<'a> {
    raw: &'a str,
    out: &'a mut Normalized,
    word: Word,
    /// Output bytes of the current run of single-letter words ("w o r d") and its length.
    run_start: usize,
    run_end: usize,
    run_len: u32,
    /// The text has more Cyrillic than Latin letters; only needed to break ties, so found lazily.
    cyrillic_text: Option<bool>,
}

/// More Cyrillic letters than any other in the text, counted on the compatibility decomposition
/// without combining marks, so that a text and its NFKC form ("ﬁ" = "fi") always agree.
fn mostly_cyrillic(raw: &str) -> bool {
    let (mut letters, mut cyrillic) = (0u32, 0u32);
    for c in raw.chars() {
        if c.is_ascii() {
            letters += c.is_ascii_alphabetic() as u32;
        } else if ('\u{400}'..='\u{45F}').contains(&c) {
            letters += 1;
            cyrillic += 1;
        } else if !is_invisible(c) {
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
        if !self.word.in_word {
            self.word.in_word = true;
            self.word.raw_start = i;
        }
    }

    #[inline]
    fn push_char(&mut self, c: char) {
        let w = &mut self.word;
        if w.chars == 0 {
            if !self.out.text.is_empty() {
                self.out.text.push(' ');
            }
            w.start = self.out.text.len();
        }
        w.chars += 1;
        if c.is_ascii() {
            // Only letters and digits reach here.
            if c.is_ascii_alphabetic() {
                w.latin += 1;
                w.letters += 1;
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
        if !c.is_alphanumeric() {
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

    fn end_word(&mut self, raw_end: usize) {
        if !self.word.in_word {
            return;
        }
        self.word.in_word = false;
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
        let single_letter = w.chars == 1 && w.letters == 1;
        if single_letter {
            if self.run_len == 0 {
                self.run_start = w.start;
            }
            self.run_len += 1;
            self.run_end = self.out.text.len();
        } else {
            self.close_run();
        }
    }

    /// A word mixing scripts: count it when it is a disguise and map it to one alphabet.
    fn fold_lookalike(&mut self, w: &Word, raw_end: usize) {
        let word = &self.out.text[w.start..];
        // The script whose letters all have a counterpart is the impostor; else the majority.
        let (mut latin_stuck, mut cyrillic_stuck) = (0u32, 0u32);
        for c in word.chars() {
            match script_of(c) {
                Script::Latin => latin_stuck += latin_to_cyrillic(c).is_none() as u32,
                Script::Cyrillic => cyrillic_stuck += to_latin(c).is_none() as u32,
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
        let foreign = |c: char| match script_of(c) {
            Script::Cyrillic => !to_cyr,
            Script::Latin | Script::Greek => to_cyr,
            Script::Exotic => true,
            Script::Other => false,
        };
        // Model numbers like "K2С3H" are codes, not words.
        let convincing = w.letters == w.chars
            && word
                .chars()
                .any(|c| foreign(c) && (is_homoglyph(c) || script_of(c) == Script::Exotic));
        if convincing {
            self.out.lookalike_words += 1;
            if self.out.lookalike_example.is_none() {
                let example = self.raw.get(w.raw_start..raw_end).unwrap_or("").trim();
                self.out.lookalike_example = Some(example.chars().take(40).collect());
            }
        }
        let mapped: String = word
            .chars()
            .map(|c| {
                let m = if to_cyr {
                    if script_of(c) == Script::Cyrillic {
                        None
                    } else {
                        to_cyrillic(c)
                    }
                } else if matches!(
                    script_of(c),
                    Script::Cyrillic | Script::Greek | Script::Exotic
                ) {
                    to_latin(c)
                } else {
                    None
                };
                m.unwrap_or(c)
            })
            .collect();
        self.out.text.truncate(w.start);
        self.out.text.push_str(&mapped);
    }

    /// A run of 4+ single letters is a split word: join it back ("з а р а б о т о к" → "заработок").
    fn close_run(&mut self) {
        if self.run_len > self.out.longest_spaced_run {
            self.out.longest_spaced_run = self.run_len;
        }
        if self.run_len >= 4 {
            let joined: String = self.out.text[self.run_start..self.run_end]
                .chars()
                .filter(|&c| c != ' ')
                .collect();
            self.out
                .text
                .replace_range(self.run_start..self.run_end, &joined);
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
    let mut text = std::mem::take(&mut out.text);
    text.clear();
    *out = Normalized {
        text,
        ..Normalized::default()
    };
    let mut b = Builder {
        raw,
        out,
        word: Word::default(),
        run_start: 0,
        run_end: 0,
        run_len: 0,
        cyrillic_text: None,
    };
    let mut first_emoji = None;
    // Shouting: runs of 4+ letters all in capitals.
    let (mut run, mut all_upper, mut shouting) = (0u32, true, 0u32);
    let (mut currency, mut digit) = (false, false);
    for (i, c) in raw.char_indices() {
        if c.is_ascii() {
            if c.is_ascii_alphabetic() {
                let upper = c.is_ascii_uppercase();
                b.out.letters += 1;
                b.out.uppercase += upper as u32;
                run += 1;
                all_upper &= upper;
            } else {
                shouting += (run >= 4 && all_upper) as u32;
                run = 0;
                all_upper = true;
                digit |= c.is_ascii_digit();
                currency |= c == '$';
            }
            b.out.visible += !c.is_ascii_whitespace() as u32;
            b.word_char(c, i);
            continue;
        }
        if ('\u{400}'..='\u{45F}').contains(&c) {
            let upper = c <= '\u{42F}';
            b.out.letters += 1;
            b.out.visible += 1;
            b.out.uppercase += upper as u32;
            run += 1;
            all_upper &= upper;
            b.word_char(c, i);
            continue;
        }
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
        if first_emoji.is_none()
            && (is_pictographic(c) || is_regional_indicator(c) || c == '\u{20E3}')
        {
            first_emoji = Some(i);
        }
        let mark = is_combining_mark(c);
        if !c.is_whitespace() && !mark {
            b.out.visible += 1;
        }
        if mark {
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
    let out = b.out;
    out.shouting_words = shouting;
    out.money_sign = currency && digit;
    // Grapheme clusters from the first emoji-ish character on: nothing before it can join a
    // cluster holding an emoji character, and the segmentation after it is the same.
    if let Some(start) = first_emoji {
        out.emoji = raw[start..]
            .graphemes(true)
            .filter(|g| is_emoji_grapheme(g))
            .count() as u32;
    }
}

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
    fn split_words_are_joined() {
        let n = normalize("з а р а б о т о к онлайн");
        assert_eq!(n.text, "заработок онлаин"); // й folds to и like every diacritic
        assert_eq!(n.longest_spaced_run, 9);
        assert_eq!(normalize("я и ты").longest_spaced_run, 2);
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
