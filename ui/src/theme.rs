//! Themes: dark and light presets from `assets/themes/`, user themes merged over them, and a
//! monochrome theme when `NO_COLOR` is set. State is always shown by glyph or word as well,
//! so nothing depends on colour.

use std::collections::BTreeMap;
use std::str::FromStr;

use ratatui::style::{Color, Modifier, Style};

pub const DARK: &str = include_str!("../../assets/themes/dark.toml");
pub const LIGHT: &str = include_str!("../../assets/themes/light.toml");

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Theme {
    pub name: String,
    /// False under `NO_COLOR`: every colour is `Reset` and emphasis uses bold/reverse only.
    pub color: bool,
    pub fg: Color,
    pub muted: Color,
    pub accent: Color,
    pub border: Color,
    pub border_focused: Color,
    pub title: Color,
    pub selection_fg: Color,
    pub selection_bg: Color,
    pub header_fg: Color,
    pub header_bg: Color,
    pub key: Color,
    pub banned: Color,
    pub flagged: Color,
    pub clean: Color,
    pub ok: Color,
    pub warn: Color,
    pub error: Color,
    pub info: Color,
    pub chart: Color,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {message}")]
pub struct ThemeError {
    pub file: String,
    pub message: String,
}

impl Default for Theme {
    fn default() -> Self {
        Theme::dark()
    }
}

impl Theme {
    pub fn dark() -> Theme {
        Theme::from_toml(DARK, "assets/themes/dark.toml", None).expect("shipped dark theme parses")
    }

    pub fn light() -> Theme {
        Theme::from_toml(LIGHT, "assets/themes/light.toml", None)
            .expect("shipped light theme parses")
    }

    /// A preset by name.
    pub fn named(name: &str) -> Option<Theme> {
        match name {
            "dark" => Some(Theme::dark()),
            "light" => Some(Theme::light()),
            _ => None,
        }
    }

    /// No colours at all (for `NO_COLOR` and monochrome terminals).
    pub fn monochrome() -> Theme {
        let r = Color::Reset;
        Theme {
            name: "no-color".into(),
            color: false,
            fg: r,
            muted: r,
            accent: r,
            border: r,
            border_focused: r,
            title: r,
            selection_fg: r,
            selection_bg: r,
            header_fg: r,
            header_bg: r,
            key: r,
            banned: r,
            flagged: r,
            clean: r,
            ok: r,
            warn: r,
            error: r,
            info: r,
            chart: r,
        }
    }

    /// `NO_COLOR` set to anything non-empty wins over the chosen theme (https://no-color.org).
    pub fn for_environment(preferred: Theme) -> Theme {
        match std::env::var_os("NO_COLOR") {
            Some(value) if !value.is_empty() => Theme::monochrome(),
            _ => preferred,
        }
    }

    /// Parses a theme file; keys it leaves out come from `base` (or the dark preset).
    pub fn from_toml(text: &str, file: &str, base: Option<&Theme>) -> Result<Theme, ThemeError> {
        let error = |message: String| ThemeError {
            file: file.to_string(),
            message,
        };
        let table: BTreeMap<String, toml::Value> =
            toml::from_str(text).map_err(|e| error(e.message().trim().to_string()))?;
        let mut theme = match base {
            Some(base) => base.clone(),
            None if file.ends_with("dark.toml") => Theme::monochrome_with_color(),
            None => Theme::dark(),
        };
        for (key, value) in table {
            if key == "name" {
                theme.name = value.as_str().unwrap_or_default().to_string();
                continue;
            }
            let color = match &value {
                toml::Value::String(s) => parse_color(s),
                toml::Value::Integer(n) => u8::try_from(*n).ok().map(Color::Indexed),
                _ => None,
            }
            .ok_or_else(|| {
                error(format!(
                    "'{key}': {value} is not a colour (use a name, \"#rrggbb\" or 0–255)"
                ))
            })?;
            let slot = theme
                .slot(&key)
                .ok_or_else(|| error(format!("unknown theme key '{key}'")))?;
            *slot = color;
        }
        Ok(theme)
    }

    fn monochrome_with_color() -> Theme {
        Theme {
            color: true,
            ..Theme::monochrome()
        }
    }

    fn slot(&mut self, key: &str) -> Option<&mut Color> {
        Some(match key {
            "fg" => &mut self.fg,
            "muted" => &mut self.muted,
            "accent" => &mut self.accent,
            "border" => &mut self.border,
            "border_focused" => &mut self.border_focused,
            "title" => &mut self.title,
            "selection_fg" => &mut self.selection_fg,
            "selection_bg" => &mut self.selection_bg,
            "header_fg" => &mut self.header_fg,
            "header_bg" => &mut self.header_bg,
            "key" => &mut self.key,
            "banned" => &mut self.banned,
            "flagged" => &mut self.flagged,
            "clean" => &mut self.clean,
            "ok" => &mut self.ok,
            "warn" => &mut self.warn,
            "error" => &mut self.error,
            "info" => &mut self.info,
            "chart" => &mut self.chart,
            _ => return None,
        })
    }

    pub fn text(&self) -> Style {
        Style::new().fg(self.fg)
    }

    pub fn muted(&self) -> Style {
        if self.color {
            Style::new().fg(self.muted)
        } else {
            Style::new().add_modifier(Modifier::DIM)
        }
    }

    pub fn fg(&self, color: Color) -> Style {
        Style::new().fg(color)
    }

    pub fn bold(&self, color: Color) -> Style {
        Style::new().fg(color).add_modifier(Modifier::BOLD)
    }

    pub fn key(&self) -> Style {
        Style::new().fg(self.key).add_modifier(Modifier::BOLD)
    }

    /// The selected row: reverse video without colour, so it is visible everywhere.
    pub fn selection(&self) -> Style {
        if self.color {
            Style::new()
                .fg(self.selection_fg)
                .bg(self.selection_bg)
                .add_modifier(Modifier::BOLD)
        } else {
            Style::new().add_modifier(Modifier::REVERSED | Modifier::BOLD)
        }
    }

    pub fn header(&self) -> Style {
        if self.color {
            Style::new()
                .fg(self.header_fg)
                .bg(self.header_bg)
                .add_modifier(Modifier::BOLD)
        } else {
            Style::new().add_modifier(Modifier::REVERSED | Modifier::BOLD)
        }
    }

    pub fn border(&self, focused: bool) -> Style {
        match (focused, self.color) {
            (true, true) => Style::new().fg(self.border_focused),
            (true, false) => Style::new().add_modifier(Modifier::BOLD),
            (false, _) => Style::new().fg(self.border),
        }
    }
}

/// A colour name, `#rrggbb`, or an index as text.
pub fn parse_color(text: &str) -> Option<Color> {
    if let Ok(index) = text.parse::<u8>() {
        return Some(Color::Indexed(index));
    }
    Color::from_str(text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_parse_and_differ() {
        let dark = Theme::dark();
        let light = Theme::light();
        assert_eq!(dark.name, "dark");
        assert_eq!(light.name, "light");
        assert_ne!(dark.fg, light.fg);
        assert!(dark.color && light.color);
    }

    #[test]
    fn partial_user_theme_overrides_some_keys() {
        let theme = Theme::from_toml(
            "banned = \"magenta\"\nkey = 208\n",
            "mine.toml",
            Some(&Theme::dark()),
        )
        .unwrap();
        assert_eq!(theme.banned, Color::Magenta);
        assert_eq!(theme.key, Color::Indexed(208));
        assert_eq!(theme.fg, Theme::dark().fg);
    }

    #[test]
    fn bad_theme_values_are_named() {
        let err = Theme::from_toml("banned = \"reddish\"\n", "mine.toml", None).unwrap_err();
        assert!(err.to_string().starts_with("mine.toml: 'banned'"), "{err}");
        let err = Theme::from_toml("bg = \"red\"\n", "mine.toml", None).unwrap_err();
        assert!(err.to_string().contains("unknown theme key 'bg'"), "{err}");
    }

    #[test]
    fn monochrome_has_no_colours() {
        let theme = Theme::monochrome();
        assert!(!theme.color);
        assert_eq!(theme.selection().bg, None);
        assert!(theme.selection().add_modifier.contains(Modifier::REVERSED));
    }
}
