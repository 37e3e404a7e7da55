//! The detection engine: for each message, how likely it is spam and why.
//!
//! Every check returns named [`Hit`]s with a weight (log-odds added to `base_logit`) and a one-line
//! reason; [`combine`] turns hits into a [`Verdict`]. Text signals are learned by a logistic
//! regression trained from the shipped samples plus moderator labels; behaviour, metadata, list and
//! template signals use configured weights. See `normalize` for the one text normalisation.

pub mod classifier;
pub mod cli;
pub mod config;
pub mod data;
pub mod known_spammers;
pub mod normalize;
pub mod phrases;
pub mod signals;
mod state;
pub mod template;
pub mod tokens;

pub use config::{EngineConfig, KnownSpammersConfig, Weights};
pub use data::TrainingSet;
pub use known_spammers::{KnownSpammerEntry, KnownSpammers};
pub use normalize::{
    Normalized, normalize, normalize_into, normalize_message, normalize_with_tokens,
};
pub use signals::estimate_account_created;

use crate::model::{ChatId, Message, Person, Timestamp, UserId};
use anyhow::Result;
use classifier::{Features, Model};
use linkify::{LinkFinder, LinkKind};
use phrases::Phrases;
use serde::{Deserialize, Serialize};
use signals::{DENSE, DomainLists, TextFacts};
use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashSet;
use std::fmt::Write as _;
use template::{MatchScratch, TemplateIndex};
use tokens::Tokens;

/// A moderator's (or a dataset's) judgement of a text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Label {
    Spam,
    Ham,
}

impl Label {
    /// "spam" | "ham": how the store, rules and sample files spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Label::Spam => "spam",
            Label::Ham => "ham",
        }
    }

    /// Also accepts the 1/0 and true/false of CSV datasets.
    pub fn parse(text: &str) -> Option<Label> {
        match text.trim().to_ascii_lowercase().as_str() {
            "spam" | "1" | "true" => Some(Label::Spam),
            "ham" | "0" | "false" => Some(Label::Ham),
            _ => None,
        }
    }
}

/// One piece of evidence: a named signal, its log-odds contribution and why it fired.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hit {
    pub name: Cow<'static, str>,
    pub weight: f32,
    pub reason: String,
}

pub fn hit(name: &'static str, weight: f32, reason: String) -> Hit {
    Hit {
        name: Cow::Borrowed(name),
        weight,
        reason,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VerdictClass {
    Ham,
    Review,
    Spam,
}

impl VerdictClass {
    pub fn as_str(self) -> &'static str {
        match self {
            VerdictClass::Ham => "ham",
            VerdictClass::Review => "review",
            VerdictClass::Spam => "spam",
        }
    }
}

/// Score in [0, 1], class by the configured thresholds, and every hit (strongest first).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    pub score: f32,
    pub class: VerdictClass,
    pub hits: Vec<Hit>,
}

impl Verdict {
    /// Adds hits from other detectors (`raid`, `cluster`) and scores again.
    pub fn with_extra_hits(
        self,
        extra: impl IntoIterator<Item = Hit>,
        cfg: &EngineConfig,
    ) -> Verdict {
        let mut hits = self.hits;
        hits.extend(extra);
        combine(hits, cfg)
    }

    pub fn hit(&self, name: &str) -> Option<&Hit> {
        self.hits.iter().find(|h| h.name == name)
    }
}

/// score = sigmoid(base_logit + sum of hit weights); thresholds from the config.
pub fn combine(mut hits: Vec<Hit>, cfg: &EngineConfig) -> Verdict {
    let logit = cfg.base_logit + hits.iter().map(|h| h.weight).sum::<f32>();
    let score = 1.0 / (1.0 + (-logit).exp());
    let class = if score >= cfg.spam_threshold {
        VerdictClass::Spam
    } else if score >= cfg.review_threshold {
        VerdictClass::Review
    } else {
        VerdictClass::Ham
    };
    hits.sort_by(|a, b| b.weight.total_cmp(&a.weight));
    Verdict { score, class, hits }
}

/// Hits a check usually has at most (classifier, a few text signals, honeypot).
const HITS_CAPACITY: usize = 8;

/// Texts shorter than this many words get proportionally less weight from the classifier.
const SHORT_TEXT_WORDS: f32 = 12.0;

/// Hash of a normalised text, for duplicates and labels.
fn text_hash(s: &str) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    for &b in s.as_bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// Everything the text checks need that does not change per message.
struct Knowledge {
    lists: DomainLists,
    phrases: Phrases,
    finder: LinkFinder,
    model: Model,
    templates: TemplateIndex,
    labelled_ham: HashSet<u64>,
    spacing_min_run: u32,
}

pub struct Engine {
    cfg: EngineConfig,
    k: Knowledge,
    state: state::State,
    known: KnownSpammers,
    /// Latest message date seen: the engine's notion of "now".
    now: Option<Timestamp>,
    scratch: Scratch,
    /// Moderators' stop phrase edits, oldest first (see `edit_stop_phrases`).
    stop_edits: Vec<(String, bool)>,
}

/// Buffers a check reuses, so the check path allocates only what the verdict keeps.
#[derive(Default)]
struct Scratch {
    norm: Normalized,
    tokens: Tokens,
    features: Features,
    matches: MatchScratch,
}

thread_local! {
    /// Buffers of `check_stateless`, which only borrows the engine.
    static STATELESS_SCRATCH: RefCell<Scratch> = RefCell::default();
}

fn link_finder() -> LinkFinder {
    let mut finder = LinkFinder::new();
    finder.url_must_have_scheme(false).kinds(&[LinkKind::Url]);
    finder
}

fn excluded_tokens() -> HashSet<String> {
    let mut set = HashSet::new();
    for line in include_str!("../../assets/engine/exclude-tokens.txt").lines() {
        for token in line.split(',') {
            let t = token.trim().trim_matches('"').trim();
            if !t.is_empty() {
                set.insert(normalize(t).text);
            }
        }
    }
    set
}

impl Knowledge {
    /// Fills `out` with the classifier's features of `norm` and its words `tokens`.
    fn features(
        &self,
        raw: &str,
        norm: &Normalized,
        tokens: &Tokens,
        out: &mut Features,
    ) -> TextFacts {
        let (dense, facts) = signals::text_signals(
            raw,
            norm,
            tokens,
            self.spacing_min_run,
            &self.lists,
            &self.phrases,
            &self.finder,
        );
        classifier::extract(tokens, dense, out);
        facts
    }
}

impl Engine {
    /// Builds the engine and trains the classifier (deterministic; ~100 ms for the shipped set).
    pub fn new(cfg: EngineConfig, training: TrainingSet) -> Result<Engine> {
        if !(0.0..=1.0).contains(&cfg.review_threshold)
            || !(0.0..=1.0).contains(&cfg.spam_threshold)
            || cfg.review_threshold > cfg.spam_threshold
        {
            anyhow::bail!(
                "engine: need 0 <= review_threshold ({}) <= spam_threshold ({}) <= 1",
                cfg.review_threshold,
                cfg.spam_threshold
            );
        }
        let mut k = Knowledge {
            lists: DomainLists::shipped(),
            phrases: Phrases::shipped(),
            finder: link_finder(),
            model: Model::train(&[]),
            templates: TemplateIndex::new(excluded_tokens()),
            labelled_ham: HashSet::new(),
            spacing_min_run: cfg.spacing_min_run,
        };
        let mut samples = Vec::with_capacity(training.samples.len());
        let (mut norm, mut tokens) = (Normalized::default(), Tokens::default());
        for (text, label) in &training.samples {
            normalize_with_tokens(text, &mut norm, &mut tokens);
            let mut f = Features::default();
            k.features(text, &norm, &tokens, &mut f);
            if *label == Label::Spam {
                k.templates.add(&norm.text);
            }
            samples.push((f, *label == Label::Spam));
        }
        k.model = Model::train(&samples);
        let known = KnownSpammers::start(&cfg.known_spammers);
        Ok(Engine {
            cfg,
            k,
            state: state::State::default(),
            known,
            now: None,
            scratch: Scratch::default(),
            stop_edits: Vec::new(),
        })
    }

    pub fn config(&self) -> &EngineConfig {
        &self.cfg
    }

    /// Full stateful check: windows per user and chat, content checks for a user's first N
    /// messages and for every edit.
    pub fn check(&mut self, msg: &Message) -> Verdict {
        self.check_member(msg, false)
    }

    /// [`Engine::check`] for a sender the caller already knows as established in the chat (trust
    /// earned there before a restart, or given by a moderator): content checks skip their
    /// messages as they skip anyone's after the first few, except edits, and they never count
    /// towards a spam wave. Behaviour checks (repetition, velocity, flood) still apply.
    pub fn check_member(&mut self, msg: &Message, established: bool) -> Verdict {
        self.now = Some(self.now.map_or(msg.date, |n| n.max(msg.date)));
        let raw = normalize::message_text(msg);
        let mut scratch = std::mem::take(&mut self.scratch);
        normalize_into(&raw, &mut scratch.norm);
        let norm = &scratch.norm;
        let mut hits = Vec::new();
        let seen = if msg.edited {
            self.state.seen(msg.chat_id, msg.author_id())
        } else {
            self.state.record(
                state::Arrival {
                    chat: msg.chat_id,
                    user: msg.author_id(),
                    date: msg.date,
                    text_hash: text_hash(&norm.text),
                    text_chars: norm.text.chars().count(),
                    established,
                },
                &self.cfg,
                &mut hits,
            )
        };
        if msg.edited || (seen <= self.cfg.first_messages && !established) {
            // Words only for the content checks (trusted users' messages skip them).
            scratch.tokens.fill(&scratch.norm.text);
            self.first_message_hits(msg, &raw, &mut scratch, &mut hits);
        }
        self.scratch = scratch;
        self.known_spammer_hit(msg.from.id, msg.date, &mut hits);
        combine(hits, &self.cfg)
    }

    /// Content and profile checks: what a user's first messages and every edit get.
    fn first_message_hits(
        &self,
        msg: &Message,
        raw: &str,
        scratch: &mut Scratch,
        hits: &mut Vec<Hit>,
    ) {
        content_hits(&self.k, &self.cfg, msg, raw, scratch, hits);
        signals::profile_hits(
            &msg.from,
            self.now,
            &self.cfg,
            &self.k.phrases,
            &self.k.finder,
            hits,
        );
    }

    /// A message judged as a new user's first one, leaving no trace in the state (what
    /// `warden classify` and `warden eval` use).
    pub fn check_stateless(&self, msg: &Message) -> Verdict {
        let raw = normalize::message_text(msg);
        // Room for the usual hits up front: growing the list 4 -> 8 -> 16 cost reallocations.
        let mut hits = Vec::with_capacity(HITS_CAPACITY);
        let mut run = |scratch: &mut Scratch| {
            normalize_with_tokens(&raw, &mut scratch.norm, &mut scratch.tokens);
            self.first_message_hits(msg, &raw, scratch, &mut hits);
        };
        STATELESS_SCRATCH.with(|cell| match cell.try_borrow_mut() {
            Ok(mut scratch) => run(&mut scratch),
            // A nested check (none today) gets fresh buffers rather than a panic.
            Err(_) => run(&mut Scratch::default()),
        });
        self.known_spammer_hit(msg.from.id, msg.date, &mut hits);
        combine(hits, &self.cfg)
    }

    /// Just the text, as a new user's first message (`warden check TEXT`).
    pub fn check_text(&self, text: &str) -> Verdict {
        let msg = Message {
            text: text.to_string(),
            ..Message::default()
        };
        self.check_stateless(&msg)
    }

    fn known_spammer_hit(&self, user: UserId, now: Timestamp, hits: &mut Vec<Hit>) {
        if let Some(entry) = self.known.lookup(user, now)
            && entry.listed
        {
            hits.push(hit(
                "known_spammer",
                self.cfg.weights.known_spammer,
                format!("listed as a spammer by {} ({})", entry.source, entry.detail),
            ));
        }
    }

    /// Profile signals of a person (name, username, bio, estimated account age, photo, premium).
    pub fn check_profile(&self, person: &Person) -> Vec<Hit> {
        let mut hits = Vec::new();
        signals::profile_hits(
            person,
            self.now,
            &self.cfg,
            &self.k.phrases,
            &self.k.finder,
            &mut hits,
        );
        self.known_spammer_hit(person.id, self.now.unwrap_or(0), &mut hits);
        hits
    }

    /// A moderator's label, effective for the very next check: the classifier takes a few
    /// gradient steps on it, spam joins the template index, ham is remembered exactly.
    pub fn add_label(&mut self, text: &str, label: Label) {
        let (mut norm, mut tokens) = (Normalized::default(), Tokens::default());
        normalize_with_tokens(text, &mut norm, &mut tokens);
        let mut f = Features::default();
        self.k.features(text, &norm, &tokens, &mut f);
        self.k.model.learn(&f, label == Label::Spam);
        let h = text_hash(&norm.text);
        match label {
            Label::Spam => {
                self.k.templates.add(&norm.text);
                self.k.labelled_ham.remove(&h);
            }
            Label::Ham => {
                self.k.labelled_ham.insert(h);
            }
        }
    }

    /// Replaces the stop phrases (lines; `=phrase` must equal the whole message; `#` comments).
    pub fn set_stop_phrases<S: AsRef<str>>(&mut self, phrases: impl IntoIterator<Item = S>) {
        self.k.phrases.set_stop_phrases(phrases);
    }

    /// Applies moderators' stop phrase edits (phrase, enabled; oldest first) on top of the shipped
    /// list and the edits applied before; effective for the very next check. Returns how many
    /// stop phrases are in effect.
    pub fn edit_stop_phrases<'a>(
        &mut self,
        edits: impl IntoIterator<Item = (&'a str, bool)>,
    ) -> usize {
        self.stop_edits
            .extend(edits.into_iter().map(|(p, on)| (p.to_string(), on)));
        let lines = phrases::effective_stop_phrases(
            self.stop_edits.iter().map(|(p, on)| (p.as_str(), *on)),
        );
        self.k.phrases.set_stop_phrases(&lines);
        self.k.phrases.contains.len() + self.k.phrases.exact.len()
    }

    /// Users (per chat) whose windows are tracked.
    /// The user's messages per minute in a chat, for the `velocity_gt` rule condition.
    pub fn messages_last_minute(&self, chat: ChatId, user: UserId, now: Timestamp) -> u32 {
        self.state.last_minute(chat, user, now)
    }

    pub fn user_state_count(&self) -> usize {
        self.state.user_count()
    }

    /// Approximate bytes of the per-user state tables.
    pub fn state_bytes(&self) -> usize {
        self.state.approx_bytes()
    }

    /// Forgets idle users now (also done automatically as messages arrive).
    pub fn prune(&mut self, now: Timestamp) {
        self.state.prune(now, &self.cfg);
    }

    pub fn known_spammers(&self) -> &KnownSpammers {
        &self.known
    }

    /// Learned weights of the text signals (for `warden eval` and docs).
    pub fn signal_weights(&self) -> Vec<(&'static str, f32)> {
        self.k.model.dense_weights().collect()
    }
}

/// The classifier hit's reason: `wording resembles known spam: "w1", "w2" (classifier p=0.97)`.
fn classifier_reason(spam: bool, top_words: &[Option<(&str, f32)>; 3], p: f32) -> String {
    if !spam {
        return format!("wording resembles normal chat (classifier p={p:.2})");
    }
    // One string, no string per word.
    let mut reason = String::from("wording resembles known spam");
    for (k, (w, _)) in top_words.iter().flatten().enumerate() {
        reason.push_str(if k == 0 { ": \"" } else { ", \"" });
        reason.push_str(w);
        reason.push('"');
    }
    let _ = write!(reason, " (classifier p={p:.2})");
    reason
}

/// Text and metadata checks of one message.
fn content_hits(
    k: &Knowledge,
    cfg: &EngineConfig,
    msg: &Message,
    raw: &str,
    scratch: &mut Scratch,
    hits: &mut Vec<Hit>,
) {
    let Scratch {
        norm,
        tokens,
        features,
        matches,
    } = scratch;
    let norm = &*norm;
    // Both sets are usually empty: no hashing of the whole text then.
    if !k.phrases.exact.is_empty() && k.phrases.exact.contains(&norm.text) {
        hits.push(hit(
            "stop_phrase",
            cfg.weights.exact_stop_phrase,
            format!("the whole message is the stop phrase \"{}\"", norm.text),
        ));
    }
    if !norm.text.is_empty()
        && !k.labelled_ham.is_empty()
        && k.labelled_ham.contains(&text_hash(&norm.text))
    {
        hits.push(hit(
            "labelled_ham",
            cfg.weights.labelled_ham,
            "a moderator marked this exact text as not spam".into(),
        ));
    }
    let facts = k.features(raw, norm, tokens, features);
    if !norm.text.is_empty() {
        let score = k.model.score(&norm.text, tokens, features);
        // A few words are thin evidence: the classifier alone must not call "got a message from
        // support about my account" spam. Short texts keep a share of their spam weight.
        let evidence = (tokens.list.len() as f32 / SHORT_TEXT_WORDS).min(1.0);
        let text_weight = match score.text_logit - cfg.base_logit {
            w if w > 0.0 => w * evidence,
            w => w,
        };
        let p = 1.0 / (1.0 + (-score.logit).exp());
        let reason = classifier_reason(text_weight > 0.0, &score.top_words, p);
        hits.push(hit("classifier", text_weight, reason));
        for (i, contribution) in score.dense.iter().enumerate() {
            if contribution.abs() > 0.01 {
                hits.push(hit(
                    DENSE[i].name,
                    *contribution,
                    signals::dense_reason(i, norm, &facts, &k.phrases),
                ));
            }
        }
        if let Some(m) =
            k.templates
                .best_match_tokens(&norm.text, tokens, cfg.honeypot_max_distance, matches)
        {
            let preview = normalize::first_chars(m.template, 40);
            hits.push(hit(
                "honeypot",
                cfg.weights.honeypot,
                format!(
                    "matches known spam \"{preview}...\" (edit distance {:.2})",
                    m.distance
                ),
            ));
        }
    }
    if let Some((domain, known)) = &facts.lookalike_domain {
        hits.push(hit(
            "lookalike_domain",
            cfg.weights.lookalike_domain,
            format!("{domain} imitates {known}"),
        ));
    }
    signals::hidden_link_hits(msg, cfg, &k.finder, hits);
    signals::metadata_hits(msg, norm, cfg, hits);
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod reason_tests {
    use super::*;

    #[test]
    fn classifier_reasons_read_as_before() {
        let words = [Some(("заработок", 1.0)), Some(("лс", 0.5)), None];
        assert_eq!(
            classifier_reason(true, &words, 0.971),
            "wording resembles known spam: \"заработок\", \"лс\" (classifier p=0.97)"
        );
        assert_eq!(
            classifier_reason(true, &[None; 3], 0.5),
            "wording resembles known spam (classifier p=0.50)"
        );
        assert_eq!(
            classifier_reason(false, &words, 0.004),
            "wording resembles normal chat (classifier p=0.00)"
        );
    }
}
