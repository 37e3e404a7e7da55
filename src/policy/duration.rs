//! Human durations in rules and config: "90s", "10m", "24h", "7d", "2w", or a number of seconds.

/// Parses "24h"-style text into seconds.
pub fn parse_duration(text: &str) -> Result<u64, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("empty duration".into());
    }
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    let amount: u64 = digits.parse().map_err(|_| {
        format!("bad duration '{text}': expected a number and a unit like 24h or 7d")
    })?;
    let unit_secs = match unit.trim() {
        "" | "s" | "sec" | "secs" => 1,
        "m" | "min" | "mins" => 60,
        "h" | "hour" | "hours" => 3600,
        "d" | "day" | "days" => 86_400,
        "w" | "week" | "weeks" => 7 * 86_400,
        other => {
            return Err(format!(
                "bad duration '{text}': unknown unit '{other}' (use s, m, h, d or w)"
            ));
        }
    };
    amount
        .checked_mul(unit_secs)
        .ok_or_else(|| format!("duration '{text}' is too long"))
}

/// The shortest exact form: 86400 → "1d", 5400 → "90m".
pub fn format_duration(secs: u64) -> String {
    for (unit, size) in [("w", 7 * 86_400), ("d", 86_400), ("h", 3600), ("m", 60)] {
        if secs >= size && secs.is_multiple_of(size) {
            return format!("{}{unit}", secs / size);
        }
    }
    format!("{secs}s")
}

/// Serde helper: a duration field written as "24h" or as seconds.
pub mod serde_secs {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(secs: &u64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::format_duration(*secs))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Secs(u64),
            Text(String),
        }
        match Raw::deserialize(d)? {
            Raw::Secs(secs) => Ok(secs),
            Raw::Text(text) => super::parse_duration(&text).map_err(serde::de::Error::custom),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_formats_durations() {
        let table = [
            ("90", 90),
            ("90s", 90),
            ("10m", 600),
            ("24h", 86_400),
            ("7d", 604_800),
            ("2w", 1_209_600),
        ];
        for (text, secs) in table {
            assert_eq!(parse_duration(text), Ok(secs), "{text}");
        }
        assert_eq!(format_duration(86_400), "1d");
        assert_eq!(format_duration(5400), "90m");
        assert_eq!(format_duration(61), "61s");
        assert!(parse_duration("5y").unwrap_err().contains("unknown unit"));
        assert!(parse_duration("h").is_err());
        assert!(parse_duration("99999999999999999999w").is_err());
    }
}
