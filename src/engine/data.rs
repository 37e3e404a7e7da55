//! Training data: the shipped samples and labelled datasets in tg-spam, TSV and CSV formats.

use super::Label;
use anyhow::{Context, Result, bail};
use std::io::BufRead;
use std::path::Path;

/// Labelled texts to train on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrainingSet {
    pub samples: Vec<(String, Label)>,
}

fn lines(text: &str, label: Label) -> impl Iterator<Item = (String, Label)> + '_ {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(move |l| (l.to_string(), label))
}

/// tg-spam's samples (MIT, Copyright (c) 2023 Umputun).
pub const TG_SPAM_SPAM: &str = include_str!("../../assets/samples/tg-spam-spam.txt");
pub const TG_SPAM_HAM: &str = include_str!("../../assets/samples/tg-spam-ham.txt");
/// Real Russian community chat (MIT, Copyright (c) 2025 Lena).
pub const MONALENKA_HAM: &str = include_str!("../../assets/samples/monalenka-ham.txt");
/// Written for Warden: other languages, newer scam formats, everyday chatter.
pub const WARDEN_SPAM: &str = include_str!("../../assets/samples/warden-spam.txt");
pub const WARDEN_HAM: &str = include_str!("../../assets/samples/warden-ham.txt");
/// Written for Warden and never trained on (nor tuned against): how the engine does on recent
/// scam formats and on chat about the same topics (Stars, VPNs, couriers, loans) it has not seen.
pub const HOLDOUT_SPAM: &str = include_str!("../../assets/samples/holdout-spam.txt");
pub const HOLDOUT_HAM: &str = include_str!("../../assets/samples/holdout-ham.txt");

impl TrainingSet {
    /// Everything shipped in assets/samples.
    pub fn shipped() -> TrainingSet {
        let mut set = TrainingSet::auxiliary();
        set.samples.extend(lines(TG_SPAM_SPAM, Label::Spam));
        set.samples.extend(lines(TG_SPAM_HAM, Label::Ham));
        set
    }

    /// The shipped samples other than tg-spam's: what cross-validation on tg-spam adds to each
    /// training fold.
    pub fn auxiliary() -> TrainingSet {
        let mut samples = Vec::new();
        samples.extend(lines(MONALENKA_HAM, Label::Ham));
        samples.extend(lines(WARDEN_SPAM, Label::Spam));
        samples.extend(lines(WARDEN_HAM, Label::Ham));
        TrainingSet { samples }
    }

    /// The shipped samples plus moderator labels from the store.
    pub fn shipped_with(extra: Vec<(String, Label)>) -> TrainingSet {
        let mut set = TrainingSet::shipped();
        set.samples.extend(extra);
        set
    }

    pub fn count(&self, label: Label) -> usize {
        self.samples.iter().filter(|(_, l)| *l == label).count()
    }
}

pub fn parse_label(s: &str) -> Option<Label> {
    match s.trim().trim_matches('"').to_ascii_lowercase().as_str() {
        "spam" | "1" | "true" | "yes" => Some(Label::Spam),
        "ham" | "0" | "false" | "no" | "not_spam" => Some(Label::Ham),
        _ => None,
    }
}

/// Reads one-sample-per-line texts (tg-spam's format), all with the same label.
pub fn read_lines(reader: impl BufRead, label: Label) -> Result<Vec<(String, Label)>> {
    let mut out = Vec::new();
    for (i, line) in reader.lines().enumerate() {
        let line = line.with_context(|| format!("line {}", i + 1))?;
        let line = line.trim();
        if !line.is_empty() {
            out.push((line.to_string(), label));
        }
    }
    Ok(out)
}

/// Reads a labelled dataset: TSV `label<TAB>text` or CSV `text,label` (RFC 4180 quoting, a header
/// row is skipped). `origin` names the file in errors.
pub fn read_dataset(reader: impl BufRead, origin: &str) -> Result<Vec<(String, Label)>> {
    let mut text = String::new();
    let mut reader = reader;
    reader
        .read_to_string(&mut text)
        .with_context(|| format!("cannot read {origin}"))?;
    let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    let tsv = first.contains('\t') || origin.ends_with(".tsv");
    let mut out = Vec::new();
    if tsv {
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let Some((label, body)) = line.split_once('\t') else {
                bail!("{origin}: line {}: expected `label<TAB>text`", i + 1);
            };
            match parse_label(label) {
                Some(l) => out.push((body.trim().to_string(), l)),
                None if i == 0 => {} // header
                None => bail!(
                    "{origin}: line {}: unknown label {label:?} (spam|ham|1|0)",
                    i + 1
                ),
            }
        }
    } else {
        for (row, (line_no, fields)) in parse_csv(&text).into_iter().enumerate() {
            if fields.len() < 2 {
                if fields.iter().all(|f| f.trim().is_empty()) {
                    continue;
                }
                bail!("{origin}: line {line_no}: expected `text,label`");
            }
            let label = &fields[fields.len() - 1];
            let body = fields[..fields.len() - 1].join(",");
            match parse_label(label) {
                Some(l) => out.push((body.trim().to_string(), l)),
                None if row == 0 => {} // header
                None => bail!("{origin}: line {line_no}: unknown label {label:?} (spam|ham|1|0)"),
            }
        }
    }
    if out.is_empty() {
        bail!("{origin}: no labelled samples found");
    }
    Ok(out)
}

/// Minimal RFC 4180 CSV: quoted fields may hold commas, doubled quotes and newlines.
/// Returns each record with the line it starts on.
fn parse_csv(text: &str) -> Vec<(usize, Vec<String>)> {
    let mut records = Vec::new();
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut line = 1;
    let mut start_line = 1;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\n' {
            line += 1;
        }
        if quoted {
            if c == '"' {
                if chars.peek() == Some(&'"') {
                    chars.next();
                    field.push('"');
                } else {
                    quoted = false;
                }
            } else {
                field.push(c);
            }
            continue;
        }
        match c {
            '"' if field.is_empty() => quoted = true,
            ',' => fields.push(std::mem::take(&mut field)),
            '\r' => {}
            '\n' => {
                fields.push(std::mem::take(&mut field));
                records.push((start_line, std::mem::take(&mut fields)));
                start_line = line;
            }
            _ => field.push(c),
        }
    }
    if !field.is_empty() || !fields.is_empty() {
        fields.push(field);
        records.push((start_line, fields));
    }
    records
}

/// Reads a dataset file by path (see [`read_dataset`]).
pub fn read_dataset_file(path: &Path) -> Result<Vec<(String, Label)>> {
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    read_dataset(std::io::BufReader::new(file), &path.display().to_string())
}

pub fn read_lines_file(path: &Path, label: Label) -> Result<Vec<(String, Label)>> {
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    read_lines(std::io::BufReader::new(file), label).with_context(|| path.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_with_quotes_commas_and_newlines() {
        let data = "text,label\n\"hello, world\",ham\n\"buy \"\"now\"\"\nlink\",spam\nplain,1\n";
        let rows = read_dataset(data.as_bytes(), "d.csv").unwrap();
        assert_eq!(
            rows,
            vec![
                ("hello, world".to_string(), Label::Ham),
                ("buy \"now\"\nlink".to_string(), Label::Spam),
                ("plain".to_string(), Label::Spam),
            ]
        );
    }

    #[test]
    fn tsv_and_bad_label_errors_name_the_line() {
        let rows = read_dataset("spam\tbuy now\nham\thi there\n".as_bytes(), "d.tsv").unwrap();
        assert_eq!(rows.len(), 2);
        let err = read_dataset("spam\tx\nmaybe\ty\n".as_bytes(), "d.tsv")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("d.tsv: line 2") && err.contains("maybe"),
            "{err}"
        );
    }
}
