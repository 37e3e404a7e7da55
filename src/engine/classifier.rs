//! Logistic regression (AdaGrad) over hashed word unigrams, bigrams and 5-letter stems of the
//! normalised text, plus the named text signals (links, emoji, lookalikes, spam concepts, ...) as
//! dense features. Like tg-spam's naive Bayes it looks at which words are present, not how often;
//! unlike it, it weighs evidence jointly, sees word pairs and learns how much each named signal is
//! worth. (Character trigrams were tried and
//! lowered cross-validated recall at 0.5% false positives from 89% to 73-84%, so they are out;
//! character 3-5-grams within words were tried again next to stems and did not help either. Stems,
//! the first five letters of longer words, let "трейдингу" share evidence with "трейдинг": recall
//! at the shipped threshold went from 91.8% to 94.5% under 5-fold cross-validation. Also tried and
//! left out, each within noise of the shipped model under nested cross-validation over three fold
//! seeds: full-batch training to convergence (Adam, L2 swept), character 3-5-grams again, TF-IDF
//! scaling, training the named signals before the words, and dropping stop words as unigrams.)
//! Training is deterministic: fixed epochs, a fixed-seed shuffle, no threads.

use super::signals::{DENSE, DenseValues};
use super::tokens::{Token, Tokens, hash_bytes};
use std::cell::RefCell;

const DIM_BITS: u32 = 18;
const DIM: usize = 1 << DIM_BITS;
#[derive(Debug, Clone, Copy)]
struct Params {
    epochs: u32,
    rate: f32,
    decay: f32,
    l2: f32,
    bias_rate: f32,
}

impl Params {
    /// Chosen by nested 5-fold cross-validation on the tg-spam samples over three fold seeds.
    const DEFAULT: Params = Params {
        epochs: 8,
        rate: 0.2,
        decay: 0.5,
        l2: 2e-6,
        bias_rate: 0.1,
    };
}
/// Steps taken on a newly labelled text so it counts at once, without a full retrain.
const LABEL_STEPS: u32 = 8;

/// Hashed features of one text: distinct bucket indices and the scale of each.
#[derive(Debug, Clone)]
pub struct Features {
    /// Word unigram, bigram and stem buckets, each once.
    pub words: Vec<u32>,
    pub word_scale: f32,
    pub dense: DenseValues,
}

#[derive(Debug, Clone)]
pub struct Model {
    weights: Vec<f32>,
    /// AdaGrad: accumulated squared gradients per weight (rare words learn fast, common ones settle).
    g2: Vec<f32>,
    dense_g2: [f32; DENSE.len()],
    params: Params,
    dense: [f32; DENSE.len()],
    bias: f32,
    /// Sample count and steps taken, for the learning-rate schedule of later label updates.
    steps: u64,
}

/// The model's view of one text: total log-odds and where they came from.
#[derive(Debug, Clone, Copy)]
pub struct Score<'a> {
    pub logit: f32,
    /// Bias plus the hashed text features.
    pub text_logit: f32,
    /// Contribution of each named dense signal.
    pub dense: [f32; DENSE.len()],
    /// Words that pushed most towards spam (for the reason).
    pub top_words: [Option<(&'a str, f32)>; 3],
}

#[inline]
fn mix(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

#[inline]
fn bucket(h: u64) -> u32 {
    (mix(h) as u32) & (DIM as u32 - 1)
}

/// Word shape for numbers, so "350000" and "120000" share evidence.
#[inline]
fn word_hash(t: &Token) -> u64 {
    if t.digits {
        hash_bytes(2, &[b'#', (t.end - t.start).min(8) as u8])
    } else {
        t.hash
    }
}

thread_local! {
    /// One bit per bucket: taken by the text being extracted (cleared again after each text).
    static TAKEN: RefCell<Vec<u64>> = RefCell::new(vec![0; DIM / 64]);
}

/// Fills `out` with the hashed features of the words and the dense signal values.
pub fn extract(tokens: &Tokens, dense: DenseValues, out: &mut Features) {
    out.words.clear();
    out.words.reserve(3 * tokens.list.len());
    out.dense = dense;
    // Presence, not counts: a long text that says "не" twenty times is not twenty times less
    // likely spam. (Counts gave 86.6–90.0% recall at 0.5% false positives in 5-fold
    // cross-validation of all shipped samples, presence 90.8–92.6%.) Each bucket once, in the
    // order of first use; a 32 KB bit set is cheaper than sorting.
    TAKEN.with_borrow_mut(|taken| {
        // Exactly DIM bits long: bucket indexes need no bounds check.
        let taken = &mut taken[..DIM / 64];
        let mut add = |b: u32| {
            let (word, bit) = ((b >> 6) as usize, 1u64 << (b & 63));
            if taken[word] & bit == 0 {
                taken[word] |= bit;
                out.words.push(b);
            }
        };
        let mut prev: u64 = 0x9e37_79b9;
        for token in &tokens.list {
            let wh = word_hash(token);
            add(bucket(wh));
            add(bucket(wh ^ prev.rotate_left(17) ^ 0x5bd1_e995));
            prev = wh;
            if token.stem != 0 {
                add(bucket(token.stem));
            }
        }
        // Every bit set belongs to this text's buckets.
        for &b in &out.words {
            taken[(b as usize >> 6) & (DIM / 64 - 1)] = 0;
        }
    });
    // Long texts carry more evidence than short ones, but not proportionally more: n^-1/4
    // measured better than n^-1/2 (cosine) or 1 (raw counts) in cross-validation.
    out.word_scale = if out.words.is_empty() {
        0.0
    } else {
        1.0 / (out.words.len() as f32).sqrt().sqrt()
    };
}

impl Default for Features {
    fn default() -> Self {
        Features {
            words: Vec::new(),
            word_scale: 0.0,
            dense: [0.0; DENSE.len()],
        }
    }
}

impl Features {
    /// Every hashed feature with its value.
    fn hashed(&self) -> impl Iterator<Item = (usize, f32)> + '_ {
        self.words.iter().map(|&b| (b as usize, self.word_scale))
    }
}

fn sigmoid(z: f32) -> f32 {
    1.0 / (1.0 + (-z).exp())
}

/// Deterministic xorshift (training shuffle, fold assignment, test inputs); the seed must not be 0.
pub(crate) struct Rng(pub u64);

impl Rng {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

impl Model {
    /// Trains on labelled feature vectors (`true` = spam), classes weighted to balance.
    pub fn train(samples: &[(Features, bool)]) -> Model {
        let params = Params::DEFAULT;
        let mut model = Model {
            weights: vec![0.0; DIM],
            g2: vec![0.0; DIM],
            dense_g2: [0.0; DENSE.len()],
            params,
            dense: std::array::from_fn(|i| DENSE[i].floor.clamp(0.0, DENSE[i].ceiling)),
            bias: 0.0,
            steps: 0,
        };
        let spam = samples.iter().filter(|(_, y)| *y).count().max(1) as f32;
        let ham = (samples.len() as f32 - spam).max(1.0);
        let total = spam + ham;
        let (w_spam, w_ham) = (total / (2.0 * spam), total / (2.0 * ham));
        let mut order: Vec<usize> = (0..samples.len()).collect();
        let mut rng = Rng(0x2545_f491_4f6c_dd1d);
        for epoch in 0..params.epochs {
            for i in (1..order.len()).rev() {
                let j = (rng.next() % (i as u64 + 1)) as usize;
                order.swap(i, j);
            }
            let rate = params.rate / (1.0 + epoch as f32 * params.decay);
            for &i in &order {
                let (features, is_spam) = &samples[i];
                let class_weight = if *is_spam { w_spam } else { w_ham };
                model.step(features, *is_spam, rate * class_weight);
            }
        }
        model.steps = samples.len() as u64 * params.epochs as u64;
        model
    }

    fn step(&mut self, f: &Features, is_spam: bool, rate: f32) {
        let z = self.logit(f);
        let gradient = sigmoid(z) - if is_spam { 1.0 } else { 0.0 };
        let l2 = self.params.l2;
        for (i, value) in f.hashed() {
            let g = gradient * value + l2 * self.weights[i];
            self.g2[i] += g * g;
            self.weights[i] -= rate * g / (self.g2[i].sqrt() + 1e-6);
        }
        for (k, value) in f.dense.iter().enumerate() {
            if *value != 0.0 {
                let g = gradient * value + l2 * self.dense[k];
                self.dense_g2[k] += g * g;
                let w = &mut self.dense[k];
                *w -= rate * g / (self.dense_g2[k].sqrt() + 1e-6);
                // Signals are evidence of spam (spam_warning of ham), never the other way round;
                // some have a hand-set minimum.
                *w = w.clamp(DENSE[k].floor, DENSE[k].ceiling);
            }
        }
        self.bias -= rate * gradient * self.params.bias_rate;
    }

    fn logit(&self, f: &Features) -> f32 {
        let mut z = self.bias;
        for (i, value) in f.hashed() {
            z += self.weights[i] * value;
        }
        for (k, value) in f.dense.iter().enumerate() {
            z += self.dense[k] * value;
        }
        z
    }

    /// Applies one moderator label at once: a few steps on it until it is on the right side.
    pub fn learn(&mut self, f: &Features, is_spam: bool) {
        for _ in 0..LABEL_STEPS {
            let z = self.logit(f);
            if (is_spam && z > 2.0) || (!is_spam && z < -2.0) {
                break;
            }
            self.step(f, is_spam, self.params.rate);
        }
        self.steps += 1;
    }

    /// Scores one text; `text` and its `tokens` supply the words for the reason.
    pub fn score<'a>(&self, text: &'a str, tokens: &Tokens, f: &Features) -> Score<'a> {
        let mut text_logit = self.bias;
        // Exactly DIM long, and buckets are below DIM: the masks replace bounds checks.
        let weights = &self.weights[..DIM];
        for (i, value) in f.hashed() {
            text_logit += weights[i & (DIM - 1)] * value;
        }
        let dense: [f32; DENSE.len()] = std::array::from_fn(|k| self.dense[k] * f.dense[k]);
        let logit = text_logit + dense.iter().sum::<f32>();
        let mut top_words: [Option<(&str, f32)>; 3] = [None; 3];
        if logit > 0.0 {
            for t in &tokens.list {
                let w = weights[bucket(word_hash(t)) as usize];
                let token = tokens.text(text, t);
                if w <= 0.0
                    || token.len() < 3
                    || top_words.iter().flatten().any(|(t, _)| *t == token)
                {
                    continue;
                }
                let weakest = (0..3)
                    .min_by(|&a, &b| {
                        let wa = top_words[a].map_or(f32::MIN, |x| x.1);
                        let wb = top_words[b].map_or(f32::MIN, |x| x.1);
                        wa.total_cmp(&wb)
                    })
                    .unwrap_or(0);
                if top_words[weakest].is_none_or(|(_, x)| x < w) {
                    top_words[weakest] = Some((token, w));
                }
            }
            top_words.sort_by(|a, b| {
                b.map_or(f32::MIN, |x| x.1)
                    .total_cmp(&a.map_or(f32::MIN, |x| x.1))
            });
        }
        Score {
            logit,
            text_logit,
            dense,
            top_words,
        }
    }

    /// Learned weight of each named dense signal, for reports.
    pub fn dense_weights(&self) -> impl Iterator<Item = (&'static str, f32)> + '_ {
        DENSE
            .iter()
            .zip(self.dense.iter())
            .map(|(d, w)| (d.name, *w))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::normalize::{Normalized, normalize_with_tokens};

    fn features(text: &str) -> Features {
        let (mut norm, mut tokens) = (Normalized::default(), Tokens::default());
        normalize_with_tokens(text, &mut norm, &mut tokens);
        let mut f = Features::default();
        extract(&tokens, [0.0; DENSE.len()], &mut f);
        f
    }

    #[test]
    fn a_repeated_word_counts_once_and_nothing_carries_over_to_the_next_text() {
        let twice = features("крипта крипта");
        // The word, the pair that starts the text, the stem and the pair "крипта крипта".
        assert_eq!(twice.words.len(), 4);
        let five_times = features("крипта крипта крипта крипта крипта");
        assert_eq!(five_times.words, twice.words);
        assert_eq!(five_times.word_scale, twice.word_scale);
        // Another text in between leaves no bucket marked as taken.
        let other = features("совсем другой текст про крипта");
        assert!(other.words.contains(&twice.words[0]));
        assert_eq!(features("крипта крипта").words, twice.words);
    }
}
