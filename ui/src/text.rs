//! Making untrusted text safe to draw (control characters, bidi overrides, zalgo, megabyte
//! messages) and small formatting helpers for times and ages.

use unicode_width::UnicodeWidthStr;

use crate::model::Timestamp;
use crate::source::days_from_civil;

/// Longest text we ever look at for one cell or detail view; the rest is cut before any work.
const MAX_CHARS: usize = 4_000;
/// Combining marks kept after one base character (zalgo text stacks hundreds).
const MAX_COMBINING: usize = 2;

/// One display line: newlines and tabs become spaces, control and bidi-override characters
/// are dropped, combining marks are capped.
pub fn one_line(text: &str) -> String {
    clean(text, false)
}

/// Like [`one_line`] but keeps line breaks, for detail views.
pub fn multi_line(text: &str) -> String {
    clean(text, true)
}

fn clean(text: &str, keep_newlines: bool) -> String {
    let mut out = String::with_capacity(text.len().min(MAX_CHARS));
    let mut combining = 0;
    for c in text.chars().take(MAX_CHARS) {
        if c == '\n' && keep_newlines {
            out.push('\n');
            combining = 0;
            continue;
        }
        if c == '\n' || c == '\t' || c == '\r' {
            out.push(' ');
            combining = 0;
            continue;
        }
        if c.is_control() || is_bidi_control(c) || is_invisible(c) {
            continue;
        }
        if is_combining(c) {
            combining += 1;
            if combining > MAX_COMBINING {
                continue;
            }
        } else {
            combining = 0;
        }
        out.push(c);
    }
    out
}

fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200E}' | '\u{200F}' | '\u{061C}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

fn is_invisible(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200D}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}' | '\u{00AD}')
}

fn is_combining(c: char) -> bool {
    matches!(c,
        '\u{0300}'..='\u{036F}'
        | '\u{0483}'..='\u{0489}'
        | '\u{1AB0}'..='\u{1AFF}'
        | '\u{1DC0}'..='\u{1DFF}'
        | '\u{20D0}'..='\u{20FF}'
        | '\u{FE20}'..='\u{FE2F}')
}

/// Cuts to `width` display columns, ending with `…` when cut.
pub fn truncate(text: &str, width: usize) -> String {
    if text.width() <= width {
        return text.to_string();
    }
    if width == 0 {
        return String::new();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in text.chars() {
        let w = unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
        if used + w > width - 1 {
            break;
        }
        used += w;
        out.push(c);
    }
    out.push('…');
    out
}

/// `HH:MM:SS` (UTC).
pub fn clock(ts: Timestamp) -> String {
    let secs = ts.rem_euclid(86_400);
    format!(
        "{:02}:{:02}:{:02}",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// `YYYY-MM-DD HH:MM` (UTC).
pub fn date_time(ts: Timestamp) -> String {
    let (y, m, d) = civil_from_days(ts.div_euclid(86_400));
    let secs = ts.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}",
        secs / 3600,
        secs % 3600 / 60
    )
}

fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    debug_assert_eq!(days_from_civil(y, m, d), days);
    (y, m, d)
}

/// "5s", "3m", "2h", "4d", "3mo", "2y" ago.
pub fn age(now: Timestamp, then: Timestamp) -> String {
    let secs = (now - then).max(0);
    match secs {
        0..60 => format!("{secs}s"),
        60..3_600 => format!("{}m", secs / 60),
        3_600..86_400 => format!("{}h", secs / 3_600),
        86_400..2_592_000 => format!("{}d", secs / 86_400),
        2_592_000..31_536_000 => format!("{}mo", secs / 2_592_000),
        _ => format!("{}y", secs / 31_536_000),
    }
}

/// Countdown "1:05" / "12s".
pub fn countdown(seconds: u64) -> String {
    if seconds >= 60 {
        format!("{}:{:02}", seconds / 60, seconds % 60)
    } else {
        format!("{seconds}s")
    }
}

/// 1234567 → "1,234,567".
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_text_is_tamed() {
        let zalgo = format!("a{}b", "\u{0301}".repeat(500));
        assert_eq!(one_line(&zalgo).chars().count(), 1 + MAX_COMBINING + 1);
        assert_eq!(
            one_line("evil\u{202E}txt.exe\nnext\u{0007}"),
            "eviltxt.exe next"
        );
        let huge = "x".repeat(1 << 20);
        assert_eq!(one_line(&huge).len(), MAX_CHARS);
        assert_eq!(multi_line("a\nb"), "a\nb");
    }

    #[test]
    fn truncation_respects_display_width() {
        assert_eq!(truncate("hello", 5), "hello");
        assert_eq!(truncate("hello world", 6), "hello…");
        assert_eq!(truncate("日本語テキスト", 5), "日本…");
        assert_eq!(truncate("abc", 0), "");
    }

    #[test]
    fn times_format() {
        assert_eq!(clock(1_700_000_000), "22:13:20");
        assert_eq!(date_time(1_700_000_000), "2023-11-14 22:13");
        assert_eq!(age(100, 40), "1m");
        assert_eq!(age(0, -3 * 86_400), "3d");
        assert_eq!(countdown(65), "1:05");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(thousands(999), "999");
    }
}
