//! `warden check`, `warden classify` and `warden eval`. The I/O functions take readers and writers
//! so tests drive them without processes.

use super::classifier::Rng;
use super::data::{TrainingSet, read_dataset_file, read_lines_file};
use super::{Engine, EngineConfig, Label, Verdict, VerdictClass, normalize};
use crate::model::{Button, Entity, Forward, MediaKind, Message, Person, SenderChat};
use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::io::{BufRead, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Subcommand)]
pub enum EngineCommand {
    /// Check one message (TEXT or stdin): verdict, score and every hit with its reason.
    Check(CheckArgs),
    /// Classify JSON Lines from stdin, one verdict line per input line, in order.
    Classify(ClassifyArgs),
    /// Precision, recall, F1 and false positives on a labelled dataset, optionally K-fold.
    Eval(EvalArgs),
}

#[derive(Debug, Clone, Default, clap::Args)]
pub struct CheckArgs {
    /// Print the verdict as JSON.
    #[arg(long)]
    pub json: bool,
    /// The message; read from stdin when absent.
    pub text: Option<String>,
}

#[derive(Debug, Clone, Default, clap::Args)]
pub struct ClassifyArgs {
    /// Keep per-user state across lines (repetition, velocity, first messages) instead of
    /// judging every line as a new user's first message.
    #[arg(long)]
    pub stateful: bool,
}

#[derive(Debug, Clone, Default, clap::Args)]
pub struct EvalArgs {
    /// Labelled dataset: TSV `label<TAB>text` or CSV `text,label`.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["spam", "ham"])]
    pub dataset: Option<PathBuf>,
    /// Spam samples, one per line (tg-spam's format).
    #[arg(long, value_name = "FILE", requires = "ham")]
    pub spam: Option<PathBuf>,
    /// Ham samples, one per line.
    #[arg(long, value_name = "FILE", requires = "spam")]
    pub ham: Option<PathBuf>,
    /// K-fold cross-validation: each fold is scored by an engine trained without it.
    #[arg(long, value_name = "K")]
    pub folds: Option<usize>,
    /// Another deterministic split into folds (0 is the default split): shows how much the
    /// estimate depends on which samples share a fold.
    #[arg(long, value_name = "N", default_value_t = 0, requires = "folds")]
    pub fold_seed: u64,
    /// Repeated cross-validation: this many splits (fold seeds from --fold-seed on), each
    /// reported, then the mean and range; one split's estimate moves with which samples share a fold.
    #[arg(long, value_name = "N", default_value_t = 1, requires = "folds",
          value_parser = clap::value_parser!(u64).range(1..=1000))]
    pub repeat: u64,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

pub fn run(
    cmd: EngineCommand,
    cfg: &EngineConfig,
    extra_labels: Vec<(String, Label)>,
) -> Result<ExitCode> {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    match cmd {
        EngineCommand::Check(args) => {
            let engine = Engine::new(cfg.clone(), TrainingSet::shipped_with(extra_labels))?;
            let text = match &args.text {
                Some(t) => t.clone(),
                None => {
                    let mut t = String::new();
                    std::io::stdin()
                        .read_to_string(&mut t)
                        .context("cannot read stdin")?;
                    t
                }
            };
            let verdict = engine.check_text(text.trim_end_matches('\n'));
            write_check(&verdict, args.json, &mut out)?;
            out.flush()?;
            Ok(ExitCode::SUCCESS)
        }
        EngineCommand::Classify(args) => {
            let mut engine = Engine::new(cfg.clone(), TrainingSet::shipped_with(extra_labels))?;
            let stdin = std::io::stdin();
            let stats = classify(&mut engine, args.stateful, stdin.lock(), &mut out)?;
            out.flush()?;
            if stats.errors > 0 {
                tracing::warn!(
                    errors = stats.errors,
                    lines = stats.lines,
                    "classify: bad input lines"
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        EngineCommand::Eval(args) => {
            let samples = load_eval_samples(&args)?;
            match args.folds {
                Some(k) if args.repeat > 1 => {
                    let seeds = args.fold_seed..args.fold_seed.saturating_add(args.repeat);
                    let report = eval_repeated(cfg, &samples, k, seeds, extra_labels)?;
                    write_repeated(&report, args.json, &mut out)?;
                }
                _ => {
                    let report =
                        eval_seeded(cfg, &samples, args.folds, args.fold_seed, extra_labels)?;
                    write_report(&report, args.json, &mut out)?;
                }
            }
            out.flush()?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Writes the JSON verdict of `check --json` and `classify`:
/// `{"verdict":..,"score":..,"hits":[{"name":..,"weight":..,"reason":..}]}` (no newline). By hand
/// rather than derived: escaping every reason through serde cost 7% of `classify`, and nearly
/// every string has no byte to escape.
pub fn write_verdict_json(v: &Verdict, out: &mut impl Write) -> Result<()> {
    out.write_all(b"{\"verdict\":\"")?;
    out.write_all(v.class.as_str().as_bytes())?;
    out.write_all(b"\",\"score\":")?;
    serde_json::to_writer(&mut *out, &round(v.score, 3))?;
    out.write_all(b",\"hits\":[")?;
    for (i, h) in v.hits.iter().enumerate() {
        out.write_all(if i == 0 {
            b"{\"name\":"
        } else {
            b",{\"name\":"
        })?;
        write_json_str(&h.name, out)?;
        out.write_all(b",\"weight\":")?;
        serde_json::to_writer(&mut *out, &round(h.weight, 2))?;
        out.write_all(b",\"reason\":")?;
        write_json_str(&h.reason, out)?;
        out.write_all(b"}")?;
    }
    out.write_all(b"]}")?;
    Ok(())
}

/// A JSON string, escaped exactly as serde_json does (quote, backslash, control characters).
fn write_json_str(s: &str, out: &mut impl Write) -> Result<()> {
    let bytes = s.as_bytes();
    // A fold without early exit, so the scan is vectorised. Control characters are all but
    // absent from reasons; serde writes those strings.
    if bytes.iter().fold(false, |control, &b| control | (b < 0x20)) {
        serde_json::to_writer(&mut *out, s)?;
        return Ok(());
    }
    out.write_all(b"\"")?;
    let mut rest = bytes;
    while let Some(i) = memchr::memchr2(b'"', b'\\', rest) {
        out.write_all(&rest[..i])?;
        out.write_all(if rest[i] == b'"' { b"\\\"" } else { b"\\\\" })?;
        rest = &rest[i + 1..];
    }
    out.write_all(rest)?;
    out.write_all(b"\"")?;
    Ok(())
}

fn round(x: f32, digits: i32) -> f32 {
    let m = 10f32.powi(digits);
    (x * m).round() / m
}

/// `warden check` output: a headline and one line per hit, or the JSON verdict.
pub fn write_check(verdict: &Verdict, json: bool, out: &mut impl Write) -> Result<()> {
    if json {
        write_verdict_json(verdict, out)?;
        writeln!(out)?;
        return Ok(());
    }
    writeln!(
        out,
        "{}  score {:.3}",
        verdict.class.as_str().to_uppercase(),
        verdict.score
    )?;
    for h in &verdict.hits {
        writeln!(out, "  {:+6.2}  {:<18} {}", h.weight, h.name, h.reason)?;
    }
    if verdict.hits.is_empty() {
        writeln!(out, "  (no signals)")?;
    }
    Ok(())
}

/// `forwarded` may be `true` (from a channel) or a full forward object.
#[derive(Deserialize)]
#[serde(untagged)]
enum ForwardedIn {
    Flag(bool),
    Full(Forward),
}

/// One `warden classify` input line; unknown fields are ignored.
#[derive(Deserialize)]
struct ClassifyIn {
    #[serde(default)]
    text: String,
    #[serde(default)]
    user_id: i64,
    #[serde(default)]
    chat_id: i64,
    #[serde(default)]
    message_id: i64,
    #[serde(default)]
    date: i64,
    #[serde(default)]
    first_name: String,
    #[serde(default)]
    last_name: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    bio: Option<String>,
    #[serde(default)]
    is_premium: bool,
    #[serde(default)]
    has_photo: Option<bool>,
    #[serde(default)]
    entities: Vec<Entity>,
    #[serde(default)]
    buttons: Vec<Button>,
    #[serde(default)]
    forwarded: Option<ForwardedIn>,
    #[serde(default)]
    sender_chat: Option<SenderChat>,
    #[serde(default)]
    media: MediaKind,
    #[serde(default)]
    reply_to_other_chat: bool,
    #[serde(default)]
    edited: bool,
}

impl ClassifyIn {
    fn into_message(self) -> Message {
        Message {
            chat_id: self.chat_id,
            id: self.message_id,
            date: self.date,
            from: Person {
                id: self.user_id,
                first_name: self.first_name,
                last_name: self.last_name,
                username: self.username,
                is_bot: false,
                is_premium: self.is_premium,
                has_photo: self.has_photo,
                bio: self.bio,
                avatar_hash: None,
            },
            text: self.text,
            entities: self.entities,
            buttons: self.buttons,
            forward: match self.forwarded {
                None | Some(ForwardedIn::Flag(false)) => None,
                Some(ForwardedIn::Flag(true)) => Some(Forward {
                    from_channel: true,
                    from_id: None,
                    from_name: None,
                }),
                Some(ForwardedIn::Full(f)) => Some(f),
            },
            sender_chat: self.sender_chat,
            media: self.media,
            reply_to_other_chat: self.reply_to_other_chat,
            reply_to: None,
            edited: self.edited,
        }
    }
}

/// `BufRead::read_until(b'\n')`, finding the newline with SIMD (std's search goes a word at a
/// time, a visible share of a short line's cost).
fn read_line(input: &mut impl BufRead, buf: &mut Vec<u8>) -> std::io::Result<usize> {
    let mut read = 0;
    loop {
        let available = match input.fill_buf() {
            Ok(available) => available,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        let (line_done, used) = match memchr::memchr(b'\n', available) {
            Some(at) => (true, at + 1),
            None => (available.is_empty(), available.len()),
        };
        buf.extend_from_slice(&available[..used]);
        input.consume(used);
        read += used;
        if line_done {
            return Ok(read);
        }
    }
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ClassifyStats {
    pub lines: u64,
    pub errors: u64,
}

/// Streams JSON Lines: one output line per input line, in order; a bad line gets
/// `{"error": "..."}` and processing continues. Memory stays constant unless `stateful`.
pub fn classify(
    engine: &mut Engine,
    stateful: bool,
    mut input: impl BufRead,
    out: &mut impl Write,
) -> Result<ClassifyStats> {
    let mut stats = ClassifyStats::default();
    let mut buf = Vec::new();
    loop {
        buf.clear();
        let n = read_line(&mut input, &mut buf).context("cannot read stdin")?;
        if n == 0 {
            break;
        }
        // SIMD validation: std's validator is slow on Cyrillic, a good share of a line's cost.
        let Ok(line) = simdutf8::basic::from_utf8(&buf) else {
            stats.lines += 1;
            stats.errors += 1;
            writeln!(
                out,
                r#"{{"error":"line {} is not valid UTF-8"}}"#,
                stats.lines
            )?;
            continue;
        };
        let trimmed = line.trim();
        if trimmed.is_empty() {
            continue;
        }
        stats.lines += 1;
        match serde_json::from_str::<ClassifyIn>(trimmed) {
            Ok(input) => {
                let msg = input.into_message();
                let verdict = if stateful {
                    engine.check(&msg)
                } else {
                    engine.check_stateless(&msg)
                };
                write_verdict_json(&verdict, &mut *out)?;
                out.write_all(b"\n")?;
            }
            Err(err) => {
                stats.errors += 1;
                let message = format!("line {}: {err}", stats.lines);
                serde_json::to_writer(&mut *out, &serde_json::json!({ "error": message }))?;
                out.write_all(b"\n")?;
            }
        }
    }
    Ok(stats)
}

fn load_eval_samples(args: &EvalArgs) -> Result<Vec<(String, Label)>> {
    match (&args.dataset, &args.spam, &args.ham) {
        (Some(path), None, None) => read_dataset_file(path),
        (None, Some(spam), Some(ham)) => {
            let mut samples = read_lines_file(spam, Label::Spam)?;
            samples.extend(read_lines_file(ham, Label::Ham)?);
            Ok(samples)
        }
        _ => bail!("give either --dataset FILE or both --spam FILE and --ham FILE"),
    }
}

/// Counts at one threshold, spam being the positive class.
#[derive(Debug, Default, Clone, Copy, PartialEq, Serialize)]
pub struct Confusion {
    pub threshold: f32,
    pub tp: u32,
    pub fp: u32,
    pub tn: u32,
    pub fn_: u32,
}

impl Confusion {
    pub fn precision(&self) -> f64 {
        self.tp as f64 / (self.tp + self.fp).max(1) as f64
    }
    pub fn recall(&self) -> f64 {
        self.tp as f64 / (self.tp + self.fn_).max(1) as f64
    }
    pub fn f1(&self) -> f64 {
        let (p, r) = (self.precision(), self.recall());
        if p + r == 0.0 {
            0.0
        } else {
            2.0 * p * r / (p + r)
        }
    }
    pub fn fpr(&self) -> f64 {
        self.fp as f64 / (self.fp + self.tn).max(1) as f64
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct EvalReport {
    pub spam: usize,
    pub ham: usize,
    pub folds: Option<usize>,
    /// Samples each training run had besides the dataset (shipped samples not in the dataset).
    pub auxiliary: usize,
    /// Dataset texts that were also in the training data (only without --folds).
    pub overlap: usize,
    /// Verdict `spam`.
    pub spam_class: Confusion,
    /// Verdict `spam` or `review`.
    pub flagged: Confusion,
    /// Lowest spam threshold keeping false positives at or under 0.5% on these scores.
    pub suggested_spam_threshold: Option<f32>,
    pub at_suggested: Confusion,
    /// With folds: nested calibration. Inside each training fold inner [`CALIBRATION_FOLDS`]-fold
    /// cross-validations (of all that fold's training data) pick the spam threshold (max recall
    /// with <= 0.5% false positives); the test fold is judged at that threshold, so these counts
    /// never looked at the test fold. Its `threshold` is the median.
    pub nested: Option<Confusion>,
    /// The threshold each outer fold's inner cross-validation chose.
    pub nested_thresholds: Vec<f32>,
    /// Misclassified samples, highest score first, for inspection.
    pub errors: Vec<Misjudged>,
    /// Learned weights of the named text signals (without folds: of the engine that scored).
    pub signal_weights: Vec<(String, f32)>,
}

/// A sample the engine got wrong, with the hits that decided it (with folds: from the engine
/// that did not train on it).
#[derive(Debug, Clone, Serialize)]
pub struct Misjudged {
    pub score: f32,
    pub label: Label,
    /// The first 100 characters.
    pub text: String,
    /// The strongest hits either way, strongest first.
    pub hits: Vec<(String, f32)>,
}

/// How many hits a misjudged sample keeps.
const MISJUDGED_HITS: usize = 5;

/// The strongest hits of `v` either way, for [`Misjudged`].
fn deciding_hits(v: &Verdict) -> Vec<(String, f32)> {
    let mut hits: Vec<(String, f32)> = v
        .hits
        .iter()
        .map(|h| (h.name.to_string(), h.weight))
        .collect();
    hits.sort_by(|a, b| b.1.abs().total_cmp(&a.1.abs()));
    hits.truncate(MISJUDGED_HITS);
    hits
}

fn confusion(scored: &[(f32, Label)], threshold: f32) -> Confusion {
    let mut c = Confusion {
        threshold,
        ..Confusion::default()
    };
    for &(score, label) in scored {
        match (score >= threshold, label) {
            (true, Label::Spam) => c.tp += 1,
            (true, Label::Ham) => c.fp += 1,
            (false, Label::Ham) => c.tn += 1,
            (false, Label::Spam) => c.fn_ += 1,
        }
    }
    c
}

/// Deterministic stratified fold of each sample; `seed` picks another split.
fn assign_folds(samples: &[(String, Label)], k: usize, seed: u64) -> Vec<usize> {
    let mut folds = vec![0; samples.len()];
    for label in [Label::Spam, Label::Ham] {
        let mut idx: Vec<usize> = (0..samples.len())
            .filter(|&i| samples[i].1 == label)
            .collect();
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15u64 ^ seed.wrapping_mul(0x5851_f42d_4c95_7f2d));
        for i in (1..idx.len()).rev() {
            idx.swap(i, (rng.next() % (i as u64 + 1)) as usize);
        }
        for (n, i) in idx.into_iter().enumerate() {
            folds[i] = n % k;
        }
    }
    folds
}

/// Highest ham false positive rate a calibrated spam threshold may have.
const MAX_FALSE_POSITIVE_RATE: f64 = 0.005;

/// The lowest spam threshold (so the highest recall) whose false positives on these scores stay
/// at or under 0.5% of the ham; `None` without ham.
pub fn calibrated_threshold(scored: &[(f32, Label)]) -> Option<f32> {
    let mut ham_scores: Vec<f32> = scored
        .iter()
        .filter(|s| s.1 == Label::Ham)
        .map(|s| s.0)
        .collect();
    ham_scores.sort_by(|a, b| b.total_cmp(a));
    let allowed_fp = (ham_scores.len() as f64 * MAX_FALSE_POSITIVE_RATE).floor() as usize;
    ham_scores.get(allowed_fp).map(|s| s.next_up().min(1.0))
}

/// Folds of a calibrating cross-validation. Its engines train on (K-1)/K of the samples and score
/// ham higher than the engine trained on all of them will, so the 0.5% tail comes out too high;
/// ten folds (90%) halve that bias against five.
pub const CALIBRATION_FOLDS: usize = 10;

/// Fold seeds whose calibrated thresholds are pooled: one split's 0.5% tail rests on a handful of
/// ham, so its threshold swings; the shipped threshold is likewise the median over five seeds.
const CALIBRATION_SEEDS: u64 = 5;

/// The spam threshold `samples` calibrate to: the median over [`CALIBRATION_SEEDS`]
/// [`CALIBRATION_FOLDS`]-fold cross-validations of the lowest threshold with at most 0.5% false
/// positives.
fn calibrate(cfg: &EngineConfig, samples: &[(String, Label)], seed: u64) -> Result<f32> {
    let mut thresholds = Vec::with_capacity(CALIBRATION_SEEDS as usize);
    for s in 0..CALIBRATION_SEEDS {
        let scored = out_of_fold_scores(cfg, samples, CALIBRATION_FOLDS, seed.wrapping_add(s))?;
        thresholds.push(calibrated_threshold(&scored).unwrap_or(cfg.spam_threshold));
    }
    thresholds.sort_by(f32::total_cmp);
    Ok(thresholds[thresholds.len() / 2])
}

/// The samples of every fold but `fold`: what the engine that judges `fold` trains on.
fn outside_fold<'a>(
    samples: &'a [(String, Label)],
    fold_of: &'a [usize],
    fold: usize,
) -> impl Iterator<Item = (String, Label)> + 'a {
    samples
        .iter()
        .zip(fold_of)
        .filter(move |(_, f)| **f != fold)
        .map(|(s, _)| s.clone())
}

/// Scores of `samples` by K-fold cross-validation: each fold judged by an engine trained on the
/// other folds.
fn out_of_fold_scores(
    cfg: &EngineConfig,
    samples: &[(String, Label)],
    k: usize,
    seed: u64,
) -> Result<Vec<(f32, Label)>> {
    let k = k.min(samples.len()).max(2);
    let fold_of = assign_folds(samples, k, seed);
    let mut scored = vec![(0.0f32, Label::Ham); samples.len()];
    for fold in 0..k {
        let mut training = TrainingSet::default();
        training
            .samples
            .extend(outside_fold(samples, &fold_of, fold));
        let engine = Engine::new(cfg.clone(), training)?;
        for (i, (text, label)) in samples.iter().enumerate() {
            if fold_of[i] == fold {
                scored[i] = (engine.check_text(text).score, *label);
            }
        }
    }
    Ok(scored)
}

/// Evaluates on `samples`. Without folds: the engine trained on everything shipped (plus labels)
/// scores the dataset. With K folds: each fold is scored by an engine trained on the other folds
/// plus the shipped samples that are not in the dataset.
pub fn eval(
    cfg: &EngineConfig,
    samples: &[(String, Label)],
    folds: Option<usize>,
    extra_labels: Vec<(String, Label)>,
) -> Result<EvalReport> {
    eval_seeded(cfg, samples, folds, 0, extra_labels)
}

/// [`eval`] with the folds split by `fold_seed` (0: the default split).
pub fn eval_seeded(
    cfg: &EngineConfig,
    samples: &[(String, Label)],
    folds: Option<usize>,
    fold_seed: u64,
    extra_labels: Vec<(String, Label)>,
) -> Result<EvalReport> {
    let mut cfg = cfg.clone();
    cfg.known_spammers.enabled = false;
    let dataset_texts: HashSet<String> = samples.iter().map(|(t, _)| normalize(t).text).collect();
    let mut scored = vec![(0.0f32, Label::Ham); samples.len()];
    let mut deciding: Vec<Vec<(String, f32)>> = vec![Vec::new(); samples.len()];
    let mut auxiliary = 0;
    let mut overlap = 0;
    let mut nested = None;
    let mut nested_thresholds = Vec::new();
    let mut signal_weights = Vec::new();
    match folds {
        None => {
            let training = TrainingSet::shipped_with(extra_labels);
            let trained: HashSet<String> = training
                .samples
                .iter()
                .map(|(t, _)| normalize(t).text)
                .collect();
            overlap = dataset_texts.intersection(&trained).count();
            let engine = Engine::new(cfg.clone(), training)?;
            for (i, (text, label)) in samples.iter().enumerate() {
                let v = engine.check_text(text);
                scored[i] = (v.score, *label);
                deciding[i] = deciding_hits(&v);
            }
            signal_weights = engine
                .signal_weights()
                .into_iter()
                .map(|(name, w)| (name.to_string(), w))
                .collect();
        }
        Some(k) => {
            if k < 2 || k > samples.len() {
                bail!(
                    "--folds must be between 2 and the number of samples ({})",
                    samples.len()
                );
            }
            let mut aux = TrainingSet::shipped_with(extra_labels);
            aux.samples
                .retain(|(t, _)| !dataset_texts.contains(&normalize(t).text));
            auxiliary = aux.samples.len();
            let fold_of = assign_folds(samples, k, fold_seed);
            // Folds run on threads of their own (each is deterministic, so the report does not
            // depend on the cores); a fold's threshold and judgements come back in fold order.
            let per_fold: Vec<Result<FoldResult>> = std::thread::scope(|scope| {
                let runs: Vec<_> = (0..k)
                    .map(|fold| {
                        let (cfg, aux, fold_of) = (&cfg, &aux, &fold_of);
                        scope.spawn(move || judge_fold(cfg, aux, samples, fold_of, fold, fold_seed))
                    })
                    .collect();
                runs.into_iter()
                    .map(|run| run.join().expect("a fold's thread panicked"))
                    .collect()
            });
            let mut nested_scored = Vec::with_capacity(samples.len());
            for result in per_fold {
                let fold = result?;
                nested_thresholds.push(fold.threshold);
                for j in fold.judged {
                    let label = samples[j.sample].1;
                    scored[j.sample] = (j.score, label);
                    deciding[j.sample] = j.deciding;
                    // Shifted so that the fold's own threshold is the cut at 0.5.
                    nested_scored.push((j.score - fold.threshold + 0.5, label));
                }
            }
            let mut sorted = nested_thresholds.clone();
            sorted.sort_by(f32::total_cmp);
            nested = Some(Confusion {
                threshold: sorted[sorted.len() / 2],
                ..confusion(&nested_scored, 0.5)
            });
        }
    }
    let spam_class = confusion(&scored, cfg.spam_threshold);
    let flagged = confusion(&scored, cfg.review_threshold);
    let suggested_spam_threshold = calibrated_threshold(&scored);
    let mut errors: Vec<Misjudged> = scored
        .iter()
        .zip(samples)
        .zip(deciding)
        .filter(|(((score, label), _), _)| match label {
            Label::Spam => *score < cfg.spam_threshold,
            Label::Ham => *score >= cfg.review_threshold,
        })
        .map(|(((score, label), (text, _)), hits)| Misjudged {
            score: *score,
            label: *label,
            text: text.chars().take(100).collect(),
            hits,
        })
        .collect();
    errors.sort_by(|a, b| b.score.total_cmp(&a.score));
    Ok(EvalReport {
        spam: samples.iter().filter(|s| s.1 == Label::Spam).count(),
        ham: samples.iter().filter(|s| s.1 == Label::Ham).count(),
        folds,
        auxiliary,
        overlap,
        spam_class,
        flagged,
        suggested_spam_threshold,
        at_suggested: confusion(&scored, suggested_spam_threshold.unwrap_or(1.0)),
        nested,
        nested_thresholds,
        errors,
        signal_weights,
    })
}

/// One test fold of a cross-validation: the threshold its training data calibrate to, and each
/// of its samples judged by an engine trained without it.
struct FoldResult {
    threshold: f32,
    judged: Vec<Judged>,
}

struct Judged {
    /// Index into the evaluated samples.
    sample: usize,
    score: f32,
    deciding: Vec<(String, f32)>,
}

fn judge_fold(
    cfg: &EngineConfig,
    aux: &TrainingSet,
    samples: &[(String, Label)],
    fold_of: &[usize],
    fold: usize,
    fold_seed: u64,
) -> Result<FoldResult> {
    let train: Vec<(String, Label)> = outside_fold(samples, fold_of, fold).collect();
    // Inner cross-validation over everything this fold trains on (its dataset folds and the
    // auxiliary samples), never the test fold: its out-of-fold scores choose this fold's
    // threshold. The auxiliary ham makes the 0.5% tail an estimate from ~2,000 ham instead of
    // ~350 (one allowed false positive).
    let mut inner_set = aux.samples.clone();
    inner_set.extend(train.iter().cloned());
    let threshold = calibrate(cfg, &inner_set, fold_seed)?;
    let mut training = aux.clone();
    training.samples.extend(train);
    let engine = Engine::new(cfg.clone(), training)?;
    let judged = samples
        .iter()
        .enumerate()
        .filter(|(i, _)| fold_of[*i] == fold)
        .map(|(sample, (text, _))| {
            let v = engine.check_text(text);
            Judged {
                sample,
                score: v.score,
                deciding: deciding_hits(&v),
            }
        })
        .collect();
    Ok(FoldResult { threshold, judged })
}

/// One split of a repeated cross-validation.
#[derive(Debug, Clone, Serialize)]
pub struct SplitResult {
    pub fold_seed: u64,
    /// At the configured spam threshold.
    pub spam_class: Confusion,
    /// At the thresholds nested calibration chose without the test folds.
    pub nested: Confusion,
}

/// Recall and false positive rate over the splits of a repeated cross-validation.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct AcrossSplits {
    pub mean_recall: f64,
    pub min_recall: f64,
    pub max_recall: f64,
    pub mean_fpr: f64,
    pub max_fpr: f64,
}

impl AcrossSplits {
    fn of<'a>(counts: impl Iterator<Item = &'a Confusion>) -> AcrossSplits {
        let (mut n, mut r) = (0.0, AcrossSplits::default());
        r.min_recall = f64::INFINITY;
        for c in counts {
            n += 1.0;
            r.mean_recall += c.recall();
            r.mean_fpr += c.fpr();
            r.min_recall = r.min_recall.min(c.recall());
            r.max_recall = r.max_recall.max(c.recall());
            r.max_fpr = r.max_fpr.max(c.fpr());
        }
        r.mean_recall /= f64::max(n, 1.0);
        r.mean_fpr /= f64::max(n, 1.0);
        r
    }
}

/// A sample misjudged in some of the splits.
#[derive(Debug, Clone, Serialize)]
pub struct OftenMisjudged {
    /// In how many splits (at the configured thresholds).
    pub splits: usize,
    /// As the first split that misjudged it saw it.
    pub sample: Misjudged,
}

#[derive(Debug, Clone, Serialize)]
pub struct RepeatedReport {
    pub spam: usize,
    pub ham: usize,
    pub folds: usize,
    pub auxiliary: usize,
    /// What counts as misjudged: spam under the spam threshold, ham at or over this one.
    pub review_threshold: f32,
    pub splits: Vec<SplitResult>,
    pub spam_class: AcrossSplits,
    pub nested: AcrossSplits,
    /// Most often misjudged first: the samples a model change has to win.
    pub often_misjudged: Vec<OftenMisjudged>,
}

/// K-fold cross-validation repeated over the fold seeds `seeds`, the splits shared between the
/// cores (each split is deterministic, so the report does not depend on how many there are).
pub fn eval_repeated(
    cfg: &EngineConfig,
    samples: &[(String, Label)],
    folds: usize,
    seeds: std::ops::Range<u64>,
    extra_labels: Vec<(String, Label)>,
) -> Result<RepeatedReport> {
    let seeds: Vec<u64> = seeds.collect();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let per_thread = seeds.len().div_ceil(threads).max(1);
    let reports: Vec<EvalReport> = std::thread::scope(|scope| {
        let runs: Vec<_> = seeds
            .chunks(per_thread)
            .map(|part| {
                let extra_labels = &extra_labels;
                scope.spawn(move || {
                    part.iter()
                        .map(|&seed| {
                            eval_seeded(cfg, samples, Some(folds), seed, extra_labels.clone())
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        runs.into_iter()
            .flat_map(|run| run.join().expect("an eval thread panicked"))
            .collect::<Result<Vec<_>>>()
    })?;
    let splits: Vec<SplitResult> = seeds
        .iter()
        .zip(&reports)
        .map(|(&fold_seed, r)| SplitResult {
            fold_seed,
            spam_class: r.spam_class,
            nested: r.nested.unwrap_or_default(),
        })
        .collect();
    let mut often: Vec<OftenMisjudged> = Vec::new();
    for m in reports.iter().flat_map(|r| &r.errors) {
        match often
            .iter_mut()
            .find(|o| o.sample.label == m.label && o.sample.text == m.text)
        {
            Some(o) => o.splits += 1,
            None => often.push(OftenMisjudged {
                splits: 1,
                sample: m.clone(),
            }),
        }
    }
    // Stable: equally often, the higher-scored first (as each split lists them).
    often.sort_by_key(|o| std::cmp::Reverse(o.splits));
    let first = reports.first();
    Ok(RepeatedReport {
        spam: first.map_or(0, |r| r.spam),
        ham: first.map_or(0, |r| r.ham),
        folds,
        auxiliary: first.map_or(0, |r| r.auxiliary),
        review_threshold: first.map_or(0.0, |r| r.flagged.threshold),
        spam_class: AcrossSplits::of(splits.iter().map(|s| &s.spam_class)),
        nested: AcrossSplits::of(splits.iter().map(|s| &s.nested)),
        splits,
        often_misjudged: often,
    })
}

pub fn write_repeated(r: &RepeatedReport, json: bool, out: &mut impl Write) -> Result<()> {
    if json {
        serde_json::to_writer_pretty(&mut *out, r)?;
        writeln!(out)?;
        return Ok(());
    }
    let (Some(first), Some(last)) = (r.splits.first(), r.splits.last()) else {
        return Ok(());
    };
    writeln!(
        out,
        "{} spam, {} ham; {}-fold cross-validation repeated over {} splits (fold seeds {}-{}), each fold trained on the other folds + {} shipped samples not in the dataset",
        r.spam,
        r.ham,
        r.folds,
        r.splits.len(),
        first.fold_seed,
        last.fold_seed,
        r.auxiliary
    )?;
    let cell = |c: &Confusion| {
        format!(
            "recall {:6.2}% ({:>4})  false positives {:5.2}% ({:>3})",
            c.recall() * 100.0,
            c.tp,
            c.fpr() * 100.0,
            c.fp
        )
    };
    writeln!(
        out,
        "{:>6}  {:<51}  nested calibration (thresholds from the training folds only)",
        "split",
        format!("verdict spam (score >= {:.2})", first.spam_class.threshold)
    )?;
    for s in &r.splits {
        writeln!(
            out,
            "{:>6}  {:<51}  {}",
            s.fold_seed,
            cell(&s.spam_class),
            cell(&s.nested)
        )?;
    }
    let summary = |a: &AcrossSplits| {
        format!(
            "recall {:.2}% ({:.2}-{:.2})  false positives {:.2}% (max {:.2})",
            a.mean_recall * 100.0,
            a.min_recall * 100.0,
            a.max_recall * 100.0,
            a.mean_fpr * 100.0,
            a.max_fpr * 100.0
        )
    };
    writeln!(out, "mean, verdict spam: {}", summary(&r.spam_class))?;
    writeln!(out, "mean, nested calibration: {}", summary(&r.nested))?;
    if !r.often_misjudged.is_empty() {
        writeln!(
            out,
            "misjudged (spam under {:.2}, ham at {:.2} or over), in how many of the {} splits:",
            first.spam_class.threshold,
            r.review_threshold,
            r.splits.len()
        )?;
        for o in r.often_misjudged.iter().take(30) {
            let label = match o.sample.label {
                Label::Spam => "spam",
                Label::Ham => "ham ",
            };
            writeln!(
                out,
                "  {:>3}/{}  {label} {}",
                o.splits,
                r.splits.len(),
                o.sample.text
            )?;
        }
    }
    Ok(())
}

pub fn write_report(r: &EvalReport, json: bool, out: &mut impl Write) -> Result<()> {
    if json {
        serde_json::to_writer_pretty(&mut *out, r)?;
        writeln!(out)?;
        return Ok(());
    }
    match r.folds {
        Some(k) => writeln!(
            out,
            "{} spam, {} ham; {k}-fold cross-validation, each fold trained on the other folds + {} shipped samples not in the dataset",
            r.spam, r.ham, r.auxiliary
        )?,
        None => {
            writeln!(
                out,
                "{} spam, {} ham; engine trained on the shipped samples",
                r.spam, r.ham
            )?;
            if r.overlap > 0 {
                writeln!(
                    out,
                    "warning: {} dataset texts are in the training data; use --folds for an honest estimate",
                    r.overlap
                )?;
            }
        }
    }
    for (name, c) in [("spam", &r.spam_class), ("spam or review", &r.flagged)] {
        let label = format!("verdict {name} (score >= {:.2})", c.threshold);
        write_scores(out, &label, c)?;
    }
    if let Some(c) = &r.nested {
        let thresholds: Vec<String> = r
            .nested_thresholds
            .iter()
            .map(|t| format!("{t:.3}"))
            .collect();
        let label = format!(
            "nested calibration (each fold's threshold the median of {CALIBRATION_SEEDS} inner {CALIBRATION_FOLDS}-fold cross-validations of its training folds: {})",
            thresholds.join(", ")
        );
        write_scores(out, &label, c)?;
    }
    if let Some(t) = r.suggested_spam_threshold {
        let c = &r.at_suggested;
        writeln!(
            out,
            "lowest spam threshold with <= 0.5% false positives on these scores: {t:.3} (recall {:.2}%, false positive rate {:.2}%)",
            c.recall() * 100.0,
            c.fpr() * 100.0
        )?;
    }
    if !r.signal_weights.is_empty() {
        let weights: Vec<String> = r
            .signal_weights
            .iter()
            .map(|(name, w)| format!("{name} {w:.2}"))
            .collect();
        writeln!(out, "learned signal weights: {}", weights.join(", "))?;
    }
    if !r.errors.is_empty() {
        writeln!(out, "misjudged samples:")?;
        for m in r.errors.iter().take(30) {
            let label = match m.label {
                Label::Spam => "spam",
                Label::Ham => "ham ",
            };
            writeln!(out, "  {:.3} {label} {}", m.score, m.text)?;
            let hits: Vec<String> = m
                .hits
                .iter()
                .map(|(name, w)| format!("{name} {w:+.2}"))
                .collect();
            if !hits.is_empty() {
                writeln!(out, "             {}", hits.join(", "))?;
            }
        }
    }
    Ok(())
}

/// "<label>: precision … false positive rate …" and the confusion matrix under it.
fn write_scores(out: &mut impl Write, label: &str, c: &Confusion) -> Result<()> {
    writeln!(
        out,
        "{label}: precision {:.2}%  recall {:.2}%  F1 {:.2}%  false positive rate {:.2}%",
        c.precision() * 100.0,
        c.recall() * 100.0,
        c.f1() * 100.0,
        c.fpr() * 100.0
    )?;
    writeln!(
        out,
        "  confusion: spam→spam {}  spam→ham {}  ham→spam {}  ham→ham {}",
        c.tp, c.fn_, c.fp, c.tn
    )?;
    Ok(())
}

/// Whether `class` counts as flagged for a moderator.
pub fn is_flagged(class: VerdictClass) -> bool {
    class != VerdictClass::Ham
}
