//! `warden check`, `classify` and `eval` through their I/O functions (no processes).

use warden::engine::cli::{self, CheckArgs};
use warden::engine::data::{TG_SPAM_HAM, TG_SPAM_SPAM};
use warden::engine::{Engine, EngineConfig, Hit, Label, TrainingSet, Verdict, VerdictClass};

fn engine() -> Engine {
    Engine::new(EngineConfig::default(), TrainingSet::shipped()).unwrap()
}

#[test]
fn classify_streams_one_line_per_input_and_survives_bad_lines() {
    let mut e = engine();
    let mut input = Vec::new();
    input.extend_from_slice(
        "{\"text\": \"Ищу людей на удалённую работу, доход от 3000$ в неделю, пишите в личку\", \"user_id\": 5}\n"
            .as_bytes(),
    );
    input.extend_from_slice(b"{not json\n");
    input.extend_from_slice(b"\xff\xfe broken utf8\n");
    input.extend_from_slice(
        "{\"text\": \"во сколько завтра собрание?\", \"first_name\": \"Оля\", \"forwarded\": false, \"extra\": 1}\n"
            .as_bytes(),
    );
    input.extend_from_slice(b"{\"text\": \"\", \"buttons\": [{\"text\": \"Go\", \"url\": \"https://x.io\"}], \"forwarded\": true}\n");
    let mut out = Vec::new();
    let stats = cli::classify(&mut e, false, &input[..], &mut out).unwrap();
    assert_eq!(stats.lines, 5);
    assert_eq!(stats.errors, 2);
    let lines: Vec<serde_json::Value> = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 5);
    assert_eq!(lines[0]["verdict"], "spam", "{}", lines[0]);
    assert!(
        lines[0]["hits"]
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h["name"] == "classifier")
    );
    assert!(lines[1]["error"].as_str().unwrap().contains("line 2"));
    assert!(lines[2]["error"].as_str().unwrap().contains("UTF-8"));
    assert_eq!(lines[3]["verdict"], "ham", "{}", lines[3]);
    let names: Vec<&str> = lines[4]["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"buttons") && names.contains(&"forwarded_channel"),
        "{names:?}"
    );
}

#[test]
fn classify_reads_lines_that_span_many_reads_and_a_last_line_without_newline() {
    let mut e = engine();
    let long = "очень длинное сообщение ".repeat(400);
    let input = format!(
        "{{\"text\": \"{long}\"}}\n{{\"text\": \"привет всем\"}}\n\n{{\"text\": \"заработок без вложений, пиши в лс\"}}"
    );
    let mut whole = Vec::new();
    cli::classify(&mut e, false, input.as_bytes(), &mut whole).unwrap();
    // A reader handing out 7 bytes at a time: every line spans many reads, some split a
    // two-byte letter.
    let mut pieces = Vec::new();
    let reader = std::io::BufReader::with_capacity(7, input.as_bytes());
    let stats = cli::classify(&mut e, false, reader, &mut pieces).unwrap();
    assert_eq!(stats.lines, 3);
    assert_eq!(stats.errors, 0);
    assert_eq!(
        String::from_utf8(pieces).unwrap(),
        String::from_utf8(whole).unwrap()
    );
}

#[test]
fn stateful_classify_sees_repetition() {
    let mut e = engine();
    let line = "{\"text\": \"подписывайтесь на мой канал про рыбалку\", \"user_id\": 9, \"chat_id\": 1, \"date\": 100}\n";
    let input = format!("{line}{}", line.replace("100", "110"));
    let mut out = Vec::new();
    cli::classify(&mut e, true, input.as_bytes(), &mut out).unwrap();
    let last: serde_json::Value =
        serde_json::from_str(String::from_utf8(out).unwrap().lines().nth(1).unwrap()).unwrap();
    assert!(
        last["hits"]
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h["name"] == "repetition"),
        "{last}"
    );
    let mut out = Vec::new();
    cli::classify(&mut e, false, input.as_bytes(), &mut out).unwrap();
    assert!(!String::from_utf8(out).unwrap().contains("repetition"));
}

#[test]
fn check_prints_verdict_score_and_reasons() {
    let e = engine();
    let v = e.check_text("Зaрaбoтoк в интернете от 500$ в день, пишите в личку 💰💰💰");
    let mut out = Vec::new();
    cli::write_check(&v, false, &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(text.starts_with("SPAM  score"), "{text}");
    assert!(
        text.contains("lookalike") && text.contains("stop_phrase"),
        "{text}"
    );
    let mut out = Vec::new();
    cli::write_check(&v, true, &mut out).unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(json["verdict"], "spam");
    assert!(json["score"].as_f64().unwrap() > 0.9);
    let _ = CheckArgs::default();
}

/// The verdict JSON as serde writes it, for comparison with the hand-written one.
#[derive(serde::Serialize)]
struct VerdictJson<'a> {
    verdict: &'a str,
    score: f32,
    hits: Vec<HitJson<'a>>,
}

#[derive(serde::Serialize)]
struct HitJson<'a> {
    name: &'a str,
    weight: f32,
    reason: &'a str,
}

fn round(x: f32, digits: i32) -> f32 {
    let m = 10f32.powi(digits);
    (x * m).round() / m
}

/// Any printable text, or text dense with what JSON must escape.
const TRICKY: &str = r#"\PC{0,40}|["\\\x00-\x1f\x7fa-zя]{0,40}"#;

proptest::proptest! {
    #[test]
    fn verdict_json_is_what_serde_writes(
        score in proptest::num::f32::ANY,
        hits in proptest::collection::vec((TRICKY, proptest::num::f32::ANY, TRICKY), 0..4),
    ) {
        let v = Verdict {
            score,
            class: VerdictClass::Review,
            hits: hits
                .iter()
                .map(|(name, weight, reason)| Hit {
                    name: name.clone().into(),
                    weight: *weight,
                    reason: reason.clone(),
                })
                .collect(),
        };
        let mut ours = Vec::new();
        cli::write_verdict_json(&v, &mut ours).unwrap();
        let reference = serde_json::to_string(&VerdictJson {
            verdict: "review",
            score: round(score, 3),
            hits: v
                .hits
                .iter()
                .map(|h| HitJson {
                    name: &h.name,
                    weight: round(h.weight, 2),
                    reason: &h.reason,
                })
                .collect(),
        })
        .unwrap();
        proptest::prop_assert_eq!(String::from_utf8(ours).unwrap(), reference);
    }
}

/// The first `spam` and `ham` of tg-spam's samples.
fn tg_spam_samples(spam: usize, ham: usize) -> Vec<(String, Label)> {
    let lines = |text: &'static str, n: usize, label: Label| {
        text.lines()
            .filter(|l| !l.is_empty())
            .take(n)
            .map(move |l| (l.to_string(), label))
    };
    lines(TG_SPAM_SPAM, spam, Label::Spam)
        .chain(lines(TG_SPAM_HAM, ham, Label::Ham))
        .collect()
}

#[test]
fn eval_reports_confusion_without_and_with_folds() {
    let samples = tg_spam_samples(40, 80);
    let cfg = EngineConfig::default();
    let plain = cli::eval(&cfg, &samples, None, Vec::new()).unwrap();
    assert_eq!((plain.spam, plain.ham), (40, 80));
    assert!(
        plain.overlap > 100,
        "shipped samples overlap: {}",
        plain.overlap
    );
    let cv = cli::eval(&cfg, &samples, Some(2), Vec::new()).unwrap();
    let c = cv.spam_class;
    assert_eq!(c.tp + c.fn_ + c.fp + c.tn, 120);
    assert!(c.recall() > 0.7 && c.fpr() < 0.05, "{c:?}");
    let mut out = Vec::new();
    cli::write_report(&cv, false, &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(
        text.contains("2-fold cross-validation") && text.contains("precision"),
        "{text}"
    );
    assert!(cli::eval(&cfg, &samples, Some(1), Vec::new()).is_err());
}

/// `eval --repeat`: one report per fold seed, exactly what a single run with that seed reports
/// (the splits run on several threads), and the summary over them.
#[test]
fn repeated_cross_validation_reports_each_split_and_the_spread() {
    let samples = tg_spam_samples(30, 60);
    let cfg = EngineConfig::default();
    let repeated = cli::eval_repeated(&cfg, &samples, 2, 4..6, Vec::new()).unwrap();
    assert_eq!(
        repeated
            .splits
            .iter()
            .map(|s| s.fold_seed)
            .collect::<Vec<_>>(),
        [4, 5]
    );
    let single = cli::eval_seeded(&cfg, &samples, Some(2), 5, Vec::new()).unwrap();
    assert_eq!(repeated.splits[1].spam_class, single.spam_class);
    assert_eq!(Some(repeated.splits[1].nested), single.nested);
    let recalls: Vec<f64> = repeated
        .splits
        .iter()
        .map(|s| s.spam_class.recall())
        .collect();
    let mean = (recalls[0] + recalls[1]) / 2.0;
    assert!((repeated.spam_class.mean_recall - mean).abs() < 1e-12);
    assert_eq!(repeated.spam_class.min_recall, recalls[0].min(recalls[1]));
    // Every sample the single run misjudged is counted, and no count exceeds the splits.
    for m in &single.errors {
        assert!(
            repeated
                .often_misjudged
                .iter()
                .any(|o| o.sample.text == m.text && o.sample.label == m.label),
            "{m:?}"
        );
    }
    assert!(
        repeated
            .often_misjudged
            .windows(2)
            .all(|w| w[0].splits >= w[1].splits && w[0].splits <= 2)
    );
    let mut out = Vec::new();
    cli::write_repeated(&repeated, false, &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(
        text.contains("repeated over 2 splits (fold seeds 4-5)")
            && text.contains("mean, nested calibration: recall"),
        "{text}"
    );
}

/// The quality bar: 5-fold cross-validation on tg-spam's samples, folds trained only on the
/// training folds (plus the shipped samples not in tg-spam).
#[test]
fn cross_validation_on_tg_spam() {
    let mut samples: Vec<(String, Label)> = Vec::new();
    samples.extend(
        TG_SPAM_SPAM
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| (l.trim().to_string(), Label::Spam)),
    );
    samples.extend(
        TG_SPAM_HAM
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| (l.trim().to_string(), Label::Ham)),
    );
    let report = cli::eval(&EngineConfig::default(), &samples, Some(5), Vec::new()).unwrap();
    let c = report.spam_class;
    // Regression guards just under today's measured quality (this default split). At the shipped
    // threshold (0.40): 2 of 438 ham (both read like job spam), 178 of 182 spam.
    assert!(c.fp <= 2, "{c:?}");
    assert!(c.tp >= 176, "{c:?}");
    // The honest estimate: each fold's threshold chosen by inner 10-fold cross-validations of its
    // own training data: 2 of 438 ham, 178 of 182 spam (97.8%; 95.6-97.8%, mean 97.1%, over fold
    // seeds 0-9).
    let nested = report.nested.expect("folds give a nested estimate");
    assert_eq!(report.nested_thresholds.len(), 5);
    assert_eq!(nested.tp + nested.fn_ + nested.fp + nested.tn, 620);
    assert!(nested.fp <= 2, "{nested:?}");
    assert!(nested.tp >= 176, "{nested:?}");
    // Each miss says what decided it, from the engine that did not train on it.
    assert!(!report.errors.is_empty());
    for m in &report.errors {
        assert!(!m.hits.is_empty(), "{m:?}");
        let strongest = m.hits[0].1.abs();
        assert!(m.hits.iter().all(|h| h.1.abs() <= strongest), "{m:?}");
    }
}

#[test]
fn reasons_quote_concept_phrases_as_written_not_as_normalised() {
    let e = engine();
    let v = e.check_text("Подписывайтесь на наш канал, там всё расписано");
    let promo = v
        .hits
        .iter()
        .find(|h| h.name == "channel_promo")
        .expect("a channel promo");
    // Matching folds й to и; the reason must not show the folded spelling.
    assert!(
        promo.reason.contains("\"подписывайтесь\""),
        "{}",
        promo.reason
    );
}

#[test]
fn established_members_saying_the_same_thing_are_not_a_spam_wave() {
    let mut e = engine();
    let say = |id: i64, user: i64| warden::model::Message {
        chat_id: -100,
        id,
        date: 1_700_000_000 + id,
        from: warden::model::Person {
            id: user,
            ..Default::default()
        },
        text: "restarted it and now it works fine".into(),
        ..Default::default()
    };
    let waves = |e: &mut Engine, first_user: i64, established: bool| {
        (0..3)
            .map(|k| e.check_member(&say(first_user + k, first_user + k), established))
            .filter(|v| v.hits.iter().any(|h| h.name == "duplicate"))
            .count()
    };
    assert_eq!(waves(&mut e, 10, true), 0, "members trusted in the chat");
    assert_eq!(waves(&mut e, 20, false), 1, "three newcomers with one text");
}
