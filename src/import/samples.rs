//! Spam/ham sample files in and out (`warden samples import|export`):
//! - `lines`: one sample per line, as tg-spam keeps them (`spam-samples.txt`, `ham-samples.txt`);
//!   the label comes from the caller or the file name; newlines inside a sample become spaces.
//! - `tsv`: `label<TAB>text`; `\t`, `\n`, `\r` and `\\` are escaped in the text.
//! - `csv`: `text,label` (RFC 4180 quoting, quoted fields may span lines), optional header row.
//!
//! Labels read: `spam`/`ham`, also `1`/`0` and `true`/`false` (spam = 1/true), any case.

use serde::{Deserialize, Serialize};
use std::io::{self, Write};
use std::path::Path;

pub use crate::engine::Label;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sample {
    pub label: Label,
    pub text: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SampleFormat {
    Lines,
    Tsv,
    Csv,
}

impl SampleFormat {
    /// By extension: `.tsv`, `.csv`, anything else is one sample per line.
    pub fn from_path(path: &Path) -> SampleFormat {
        match path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("tsv") => SampleFormat::Tsv,
            Some("csv") => SampleFormat::Csv,
            _ => SampleFormat::Lines,
        }
    }

    /// `lines` (also `txt`, `tg-spam`), `tsv`, `csv`.
    pub fn parse(name: &str) -> Option<SampleFormat> {
        match name.trim().to_ascii_lowercase().as_str() {
            "lines" | "txt" | "tg-spam" => Some(SampleFormat::Lines),
            "tsv" => Some(SampleFormat::Tsv),
            "csv" => Some(SampleFormat::Csv),
            _ => None,
        }
    }
}

/// tg-spam names its files `spam-samples.txt` and `ham-samples.txt`.
pub fn label_from_file_name(path: &Path) -> Option<Label> {
    let name = path.file_name()?.to_str()?.to_ascii_lowercase();
    match (name.contains("spam"), name.contains("ham")) {
        (true, false) => Some(Label::Spam),
        (false, true) => Some(Label::Ham),
        _ => None,
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct SamplesError {
    pub line: usize,
    pub message: String,
}

fn error(line: usize, message: impl Into<String>) -> SamplesError {
    SamplesError {
        line,
        message: message.into(),
    }
}

/// Parse a whole file. `lines_label` is required for the `lines` format (it has no labels).
pub fn parse(
    format: SampleFormat,
    input: &str,
    lines_label: Option<Label>,
) -> Result<Vec<Sample>, SamplesError> {
    let input = input.strip_prefix('\u{feff}').unwrap_or(input);
    match format {
        SampleFormat::Lines => {
            let label = lines_label.ok_or_else(|| {
                error(
                    0,
                    "one-sample-per-line files carry no labels: say whether they are spam or ham",
                )
            })?;
            Ok(input
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(|text| Sample {
                    label,
                    text: text.to_string(),
                })
                .collect())
        }
        SampleFormat::Tsv => parse_tsv(input),
        SampleFormat::Csv => parse_csv(input),
    }
}

fn parse_tsv(input: &str) -> Result<Vec<Sample>, SamplesError> {
    let mut out = Vec::new();
    for (n, line) in input.lines().enumerate() {
        let line_no = n + 1;
        if line.trim().is_empty() {
            continue;
        }
        let (label, text) = line
            .split_once('\t')
            .ok_or_else(|| error(line_no, "expected `label<TAB>text`, found no tab"))?;
        let Some(label) = Label::parse(label) else {
            if line_no == 1 && label.trim().eq_ignore_ascii_case("label") {
                continue;
            }
            return Err(error(
                line_no,
                format!("unknown label `{}` (use spam or ham)", label.trim()),
            ));
        };
        out.push(Sample {
            label,
            text: unescape_tsv(text).map_err(|m| error(line_no, m))?,
        });
    }
    Ok(out)
}

fn unescape_tsv(text: &str) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('\\') => out.push('\\'),
            // Not an escape we write: keep it as it was.
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    Ok(out)
}

fn escape_tsv(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
    out
}

/// CSV records with the line each starts on.
fn csv_records(input: &str) -> Result<Vec<(usize, Vec<String>)>, SamplesError> {
    let mut records = Vec::new();
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut line = 1;
    let mut start_line = 1;
    let mut in_quotes = false;
    let mut quoted_field = false;
    let mut chars = input.chars().peekable();
    while let Some(c) = chars.next() {
        if in_quotes {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => in_quotes = false,
                '\n' => {
                    line += 1;
                    field.push('\n');
                }
                c => field.push(c),
            }
            continue;
        }
        match c {
            '"' if field.is_empty() && !quoted_field => {
                in_quotes = true;
                quoted_field = true;
            }
            '"' => {
                return Err(error(
                    line,
                    "a quote inside an unquoted field (quote the field and double the quote)",
                ));
            }
            ',' => {
                fields.push(std::mem::take(&mut field));
                quoted_field = false;
            }
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' => {
                fields.push(std::mem::take(&mut field));
                quoted_field = false;
                if !(fields.len() == 1 && fields[0].is_empty()) {
                    records.push((start_line, std::mem::take(&mut fields)));
                }
                fields.clear();
                line += 1;
                start_line = line;
            }
            c if quoted_field => {
                return Err(error(
                    line,
                    format!("unexpected `{c}` after a closing quote"),
                ));
            }
            c => field.push(c),
        }
    }
    if in_quotes {
        return Err(error(start_line, "a quoted field is never closed"));
    }
    if !field.is_empty() || !fields.is_empty() {
        fields.push(field);
        records.push((start_line, fields));
    }
    Ok(records)
}

fn parse_csv(input: &str) -> Result<Vec<Sample>, SamplesError> {
    let mut out = Vec::new();
    for (index, (line, fields)) in csv_records(input)?.into_iter().enumerate() {
        if fields.len() != 2 {
            return Err(error(
                line,
                format!("expected 2 fields `text,label`, found {}", fields.len()),
            ));
        }
        let Some(label) = Label::parse(&fields[1]) else {
            if index == 0 && fields[1].trim().eq_ignore_ascii_case("label") {
                continue;
            }
            return Err(error(
                line,
                format!("unknown label `{}` (use spam or ham)", fields[1].trim()),
            ));
        };
        out.push(Sample {
            label,
            text: fields[0].clone(),
        });
    }
    Ok(out)
}

fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) || text.starts_with(' ') || text.ends_with(' ') {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

/// Write samples. `lines` writes only the texts (one file per label is the caller's job), with
/// inner newlines flattened to spaces as tg-spam does; `csv` writes a `text,label` header.
pub fn write(format: SampleFormat, samples: &[Sample], out: &mut impl Write) -> io::Result<()> {
    if format == SampleFormat::Csv {
        writeln!(out, "text,label")?;
    }
    for sample in samples {
        match format {
            SampleFormat::Lines => {
                let flat: String = sample
                    .text
                    .split(['\n', '\r'])
                    .filter(|p| !p.is_empty())
                    .collect::<Vec<_>>()
                    .join(" ");
                if !flat.trim().is_empty() {
                    writeln!(out, "{}", flat.trim())?;
                }
            }
            SampleFormat::Tsv => writeln!(
                out,
                "{}\t{}",
                sample.label.as_str(),
                escape_tsv(&sample.text)
            )?,
            SampleFormat::Csv => {
                writeln!(out, "{},{}", csv_field(&sample.text), sample.label.as_str())?
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn samples() -> Vec<Sample> {
        vec![
            Sample {
                label: Label::Spam,
                text: "Заработок, \"лёгкий\"\nпишите в личку\t👉 https://x.io".into(),
            },
            Sample {
                label: Label::Ham,
                text: "back\\slash and, comma".into(),
            },
            Sample {
                label: Label::Ham,
                text: " leading space".into(),
            },
        ]
    }

    fn roundtrip(format: SampleFormat) -> Vec<Sample> {
        let mut buf = Vec::new();
        write(format, &samples(), &mut buf).unwrap();
        parse(format, std::str::from_utf8(&buf).unwrap(), None).unwrap()
    }

    #[test]
    fn tsv_and_csv_round_trip_exactly() {
        assert_eq!(roundtrip(SampleFormat::Tsv), samples());
        assert_eq!(roundtrip(SampleFormat::Csv), samples());
    }

    #[test]
    fn lines_format_flattens_and_needs_a_label() {
        let mut buf = Vec::new();
        write(SampleFormat::Lines, &samples(), &mut buf).unwrap();
        let text = String::from_utf8(buf).unwrap();
        assert_eq!(text.lines().count(), 3);
        assert!(text.starts_with("Заработок, \"лёгкий\" пишите в личку\t👉"));
        assert!(parse(SampleFormat::Lines, &text, None).is_err());
        let back = parse(
            SampleFormat::Lines,
            &format!("\u{feff}{text}\n\n"),
            Some(Label::Spam),
        )
        .unwrap();
        assert_eq!(back.len(), 3);
        assert!(back.iter().all(|s| s.label == Label::Spam));
    }

    #[test]
    fn reads_tg_spam_file_names_and_extensions() {
        assert_eq!(
            label_from_file_name(Path::new("data/spam-samples.txt")),
            Some(Label::Spam)
        );
        assert_eq!(
            label_from_file_name(Path::new("ham-samples.txt")),
            Some(Label::Ham)
        );
        assert_eq!(label_from_file_name(Path::new("samples.txt")), None);
        assert_eq!(
            SampleFormat::from_path(Path::new("x.CSV")),
            SampleFormat::Csv
        );
        assert_eq!(
            SampleFormat::from_path(Path::new("x.tsv")),
            SampleFormat::Tsv
        );
        assert_eq!(
            SampleFormat::from_path(Path::new("x.txt")),
            SampleFormat::Lines
        );
        assert_eq!(SampleFormat::parse("tg-spam"), Some(SampleFormat::Lines));
    }

    #[test]
    fn csv_accepts_header_crlf_multiline_and_numeric_labels() {
        let input = "text,label\r\n\"two\r\nlines\",1\r\nplain,0\r\n";
        let parsed = parse(SampleFormat::Csv, input, None).unwrap();
        assert_eq!(
            parsed,
            vec![
                Sample {
                    label: Label::Spam,
                    text: "two\r\nlines".into()
                },
                Sample {
                    label: Label::Ham,
                    text: "plain".into()
                },
            ]
        );
    }

    #[test]
    fn bad_input_names_the_line() {
        let err = parse(SampleFormat::Tsv, "spam\tok\nmaybe\tx\n", None).unwrap_err();
        assert_eq!(err.line, 2);
        assert!(err.message.contains("maybe"));
        assert_eq!(
            parse(SampleFormat::Tsv, "spam\tok\nno tab here\n", None)
                .unwrap_err()
                .line,
            2
        );
        assert_eq!(
            parse(SampleFormat::Csv, "a,spam\nb,c,ham\n", None)
                .unwrap_err()
                .line,
            2
        );
        assert_eq!(
            parse(SampleFormat::Csv, "a,spam\n\"open\nstill,ham\n", None)
                .unwrap_err()
                .line,
            2
        );
        assert_eq!(
            parse(SampleFormat::Csv, "a,spam\nx\"y,ham\n", None)
                .unwrap_err()
                .line,
            2
        );
    }

    #[test]
    fn the_shipped_spam_seeds_parse_as_lines() {
        let seeds = include_str!("../../assets/samples/tg-spam-spam.txt");
        let parsed = parse(SampleFormat::Lines, seeds, Some(Label::Spam)).unwrap();
        assert_eq!(parsed.len(), 182);
    }
}
