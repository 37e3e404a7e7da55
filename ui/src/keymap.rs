//! Key bindings: defaults from `assets/keymap.toml`, with a user file merged over them. The help
//! popup and the hint bar are generated from the live map, so overrides show up everywhere.

use std::collections::BTreeMap;
use std::fmt;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use serde::Deserialize;
use toml::Spanned;

/// The default keymap, shipped in the binary.
pub const DEFAULT_KEYMAP: &str = include_str!("../../assets/keymap.toml");

/// Where a binding applies. Lookups try the focused pane, then `List`, then `Global`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Context {
    Global,
    List,
    Feed,
    Alerts,
    Clusters,
    Investigator,
    Rules,
    History,
    Stats,
    Editor,
}

impl Context {
    pub const ALL: [Context; 10] = [
        Context::Global,
        Context::List,
        Context::Feed,
        Context::Alerts,
        Context::Clusters,
        Context::Investigator,
        Context::Rules,
        Context::History,
        Context::Stats,
        Context::Editor,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Context::Global => "global",
            Context::List => "list",
            Context::Feed => "feed",
            Context::Alerts => "alerts",
            Context::Clusters => "clusters",
            Context::Investigator => "investigator",
            Context::Rules => "rules",
            Context::History => "history",
            Context::Stats => "stats",
            Context::Editor => "editor",
        }
    }

    fn from_name(name: &str) -> Option<Context> {
        Context::ALL.into_iter().find(|c| c.name() == name)
    }

    /// Which actions may be bound in this section.
    pub fn actions(self) -> &'static [Action] {
        use Action::*;
        match self {
            Context::Global => &[
                Quit,
                Suspend,
                Help,
                CommandLine,
                Filter,
                NextPane,
                PrevPane,
                Pane1,
                Pane2,
                Pane3,
                Pane4,
                Pane5,
                Pane6,
                Pane7,
                Expand,
                Back,
                ToggleMouse,
            ],
            Context::List => &[
                Up,
                Down,
                PageUp,
                PageDown,
                HalfPageUp,
                HalfPageDown,
                Top,
                Bottom,
                Open,
            ],
            Context::Feed => &[
                Ban, Strike, Forgive, LabelSpam, LabelHam, UndoLabel, Trust, Mute, OpenUser,
                Freeze, Bunker, SlowMode,
            ],
            Context::Alerts => &[Accept, Dismiss, Retry, Release, OpenUser, Ban],
            Context::Clusters => &[
                BanAll,
                LabelAllSpam,
                RemoveMember,
                WhitelistMember,
                NextNode,
                PrevNode,
                OpenUser,
            ],
            Context::Investigator => &[Ban, Strike, Forgive, Trust, Mute, OpenCluster],
            Context::Rules => &[Edit, NewRule, ToggleRule],
            Context::History => &[OpenUser],
            Context::Stats => &[],
            Context::Editor => &[Save],
        }
    }
}

/// What a key does in the console.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Action {
    Quit,
    Suspend,
    Help,
    CommandLine,
    Filter,
    NextPane,
    PrevPane,
    Pane1,
    Pane2,
    Pane3,
    Pane4,
    Pane5,
    Pane6,
    Pane7,
    Expand,
    Back,
    ToggleMouse,
    Up,
    Down,
    PageUp,
    PageDown,
    HalfPageUp,
    HalfPageDown,
    Top,
    Bottom,
    Open,
    Ban,
    Strike,
    Forgive,
    LabelSpam,
    LabelHam,
    UndoLabel,
    Trust,
    Mute,
    OpenUser,
    Freeze,
    Bunker,
    SlowMode,
    Accept,
    Dismiss,
    Retry,
    Release,
    BanAll,
    LabelAllSpam,
    RemoveMember,
    WhitelistMember,
    NextNode,
    PrevNode,
    OpenCluster,
    Edit,
    NewRule,
    ToggleRule,
    Save,
}

/// (action, name in the TOML, words for help)
const ACTION_TABLE: &[(Action, &str, &str)] = &[
    (Action::Quit, "quit", "quit"),
    (Action::Suspend, "suspend", "suspend to shell"),
    (Action::Help, "help", "help"),
    (Action::CommandLine, "command_line", "command line"),
    (Action::Filter, "filter", "filter"),
    (Action::NextPane, "next_pane", "next pane"),
    (Action::PrevPane, "prev_pane", "previous pane"),
    (Action::Pane1, "pane_feed", "Feed"),
    (Action::Pane2, "pane_alerts", "Alerts"),
    (Action::Pane3, "pane_clusters", "Clusters"),
    (Action::Pane4, "pane_investigator", "Investigator"),
    (Action::Pane5, "pane_rules", "Rules"),
    (Action::Pane6, "pane_history", "History"),
    (Action::Pane7, "pane_stats", "Stats"),
    (Action::Expand, "expand", "expand pane"),
    (Action::Back, "back", "back / close"),
    (Action::ToggleMouse, "toggle_mouse", "mouse on/off"),
    (Action::Up, "up", "up"),
    (Action::Down, "down", "down"),
    (Action::PageUp, "page_up", "page up"),
    (Action::PageDown, "page_down", "page down"),
    (Action::HalfPageUp, "half_page_up", "half page up"),
    (Action::HalfPageDown, "half_page_down", "half page down"),
    (Action::Top, "top", "first"),
    (Action::Bottom, "bottom", "last"),
    (Action::Open, "open", "open"),
    (Action::Ban, "ban", "ban"),
    (Action::Strike, "strike", "strike"),
    (Action::Forgive, "forgive", "forgive"),
    (Action::LabelSpam, "label_spam", "spam"),
    (Action::LabelHam, "label_ham", "ham"),
    (Action::UndoLabel, "undo_label", "undo label"),
    (Action::Trust, "trust", "trust"),
    (Action::Mute, "mute", "mute"),
    (Action::OpenUser, "open_user", "user"),
    (Action::Freeze, "freeze", "freeze"),
    (Action::Bunker, "bunker", "bunker"),
    (Action::SlowMode, "slow_mode", "slow mode"),
    (Action::Accept, "accept", "add to dataset"),
    (Action::Dismiss, "dismiss", "dismiss"),
    (Action::Retry, "retry", "retry"),
    (Action::Release, "release", "release raid"),
    (Action::BanAll, "ban_all", "ban all"),
    (Action::LabelAllSpam, "label_all_spam", "label all spam"),
    (Action::RemoveMember, "remove_member", "remove member"),
    (
        Action::WhitelistMember,
        "whitelist_member",
        "whitelist member",
    ),
    (Action::NextNode, "next_node", "next node"),
    (Action::PrevNode, "prev_node", "previous node"),
    (Action::OpenCluster, "open_cluster", "cluster"),
    (Action::Edit, "edit", "edit"),
    (Action::NewRule, "new_rule", "new rule"),
    (Action::ToggleRule, "toggle_rule", "enable/disable"),
    (Action::Save, "save", "backtest & save"),
];

impl Action {
    pub fn name(self) -> &'static str {
        ACTION_TABLE
            .iter()
            .find(|(a, _, _)| *a == self)
            .map_or("?", |(_, name, _)| name)
    }

    pub fn description(self) -> &'static str {
        ACTION_TABLE
            .iter()
            .find(|(a, _, _)| *a == self)
            .map_or("?", |(_, _, words)| words)
    }

    fn from_name(name: &str) -> Option<Action> {
        ACTION_TABLE
            .iter()
            .find(|(_, n, _)| *n == name)
            .map(|(a, _, _)| *a)
    }
}

/// A key with modifiers, normalised: shifted letters are upper-case chars without SHIFT.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyBind {
    pub code: KeyCodeOrd,
    pub ctrl: bool,
    pub alt: bool,
}

/// `KeyCode` subset we bind, with an order for stable help output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KeyCodeOrd {
    Char(char),
    F(u8),
    Enter,
    Esc,
    Tab,
    BackTab,
    Backspace,
    Delete,
    Insert,
    Up,
    Down,
    Left,
    Right,
    PageUp,
    PageDown,
    Home,
    End,
}

const NAMED_KEYS: &[(&str, KeyCodeOrd)] = &[
    ("enter", KeyCodeOrd::Enter),
    ("esc", KeyCodeOrd::Esc),
    ("tab", KeyCodeOrd::Tab),
    ("backtab", KeyCodeOrd::BackTab),
    ("backspace", KeyCodeOrd::Backspace),
    ("delete", KeyCodeOrd::Delete),
    ("insert", KeyCodeOrd::Insert),
    ("up", KeyCodeOrd::Up),
    ("down", KeyCodeOrd::Down),
    ("left", KeyCodeOrd::Left),
    ("right", KeyCodeOrd::Right),
    ("pgup", KeyCodeOrd::PageUp),
    ("pgdown", KeyCodeOrd::PageDown),
    ("home", KeyCodeOrd::Home),
    ("end", KeyCodeOrd::End),
    ("space", KeyCodeOrd::Char(' ')),
];

impl KeyBind {
    /// Parses "j", "G", "ctrl-d", "alt-x", "f1", "pgdown", "space", "?".
    pub fn parse(text: &str) -> Result<KeyBind, String> {
        let mut ctrl = false;
        let mut alt = false;
        let mut shift = false;
        let mut rest = text;
        loop {
            let lower = rest.to_ascii_lowercase();
            if rest.len() > 1 && lower.starts_with("ctrl-") {
                ctrl = true;
                rest = &rest[5..];
            } else if rest.len() > 1 && lower.starts_with("alt-") {
                alt = true;
                rest = &rest[4..];
            } else if rest.len() > 1 && lower.starts_with("shift-") {
                shift = true;
                rest = &rest[6..];
            } else {
                break;
            }
        }
        let lower = rest.to_ascii_lowercase();
        let code = if let Some((_, code)) = NAMED_KEYS.iter().find(|(n, _)| *n == lower) {
            *code
        } else if let Some(n) = lower.strip_prefix('f').and_then(|n| n.parse::<u8>().ok()) {
            if !(1..=12).contains(&n) {
                return Err(format!("'{text}': function keys are f1–f12"));
            }
            KeyCodeOrd::F(n)
        } else {
            let mut chars = rest.chars();
            match (chars.next(), chars.next()) {
                (Some(c), None) if !c.is_control() => KeyCodeOrd::Char(c),
                _ => {
                    return Err(format!(
                        "'{text}' is not a key (try \"x\", \"ctrl-d\", \"f1\", \"pgdown\")"
                    ));
                }
            }
        };
        let code = match code {
            KeyCodeOrd::Char(c) if shift => KeyCodeOrd::Char(c.to_ascii_uppercase()),
            KeyCodeOrd::Tab if shift => KeyCodeOrd::BackTab,
            // Ctrl-letter arrives lower-case from terminals.
            KeyCodeOrd::Char(c) if ctrl => KeyCodeOrd::Char(c.to_ascii_lowercase()),
            other => other,
        };
        Ok(KeyBind { code, ctrl, alt })
    }

    pub fn from_event(key: &KeyEvent) -> Option<KeyBind> {
        let code = match key.code {
            KeyCode::Char(c) => {
                KeyCodeOrd::Char(if key.modifiers.contains(KeyModifiers::CONTROL) {
                    c.to_ascii_lowercase()
                } else {
                    c
                })
            }
            KeyCode::F(n) => KeyCodeOrd::F(n),
            KeyCode::Enter => KeyCodeOrd::Enter,
            KeyCode::Esc => KeyCodeOrd::Esc,
            KeyCode::Tab if key.modifiers.contains(KeyModifiers::SHIFT) => KeyCodeOrd::BackTab,
            KeyCode::Tab => KeyCodeOrd::Tab,
            KeyCode::BackTab => KeyCodeOrd::BackTab,
            KeyCode::Backspace => KeyCodeOrd::Backspace,
            KeyCode::Delete => KeyCodeOrd::Delete,
            KeyCode::Insert => KeyCodeOrd::Insert,
            KeyCode::Up => KeyCodeOrd::Up,
            KeyCode::Down => KeyCodeOrd::Down,
            KeyCode::Left => KeyCodeOrd::Left,
            KeyCode::Right => KeyCodeOrd::Right,
            KeyCode::PageUp => KeyCodeOrd::PageUp,
            KeyCode::PageDown => KeyCodeOrd::PageDown,
            KeyCode::Home => KeyCodeOrd::Home,
            KeyCode::End => KeyCodeOrd::End,
            _ => return None,
        };
        Some(KeyBind {
            code,
            ctrl: key.modifiers.contains(KeyModifiers::CONTROL),
            alt: key.modifiers.contains(KeyModifiers::ALT),
        })
    }
}

impl fmt::Display for KeyBind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.ctrl {
            f.write_str("C-")?;
        }
        if self.alt {
            f.write_str("M-")?;
        }
        match self.code {
            KeyCodeOrd::Char(' ') => f.write_str("Space"),
            KeyCodeOrd::Char(c) => write!(f, "{c}"),
            KeyCodeOrd::F(n) => write!(f, "F{n}"),
            KeyCodeOrd::Enter => f.write_str("Enter"),
            KeyCodeOrd::Esc => f.write_str("Esc"),
            KeyCodeOrd::Tab => f.write_str("Tab"),
            KeyCodeOrd::BackTab => f.write_str("S-Tab"),
            KeyCodeOrd::Backspace => f.write_str("Bksp"),
            KeyCodeOrd::Delete => f.write_str("Del"),
            KeyCodeOrd::Insert => f.write_str("Ins"),
            KeyCodeOrd::Up => f.write_str("↑"),
            KeyCodeOrd::Down => f.write_str("↓"),
            KeyCodeOrd::Left => f.write_str("←"),
            KeyCodeOrd::Right => f.write_str("→"),
            KeyCodeOrd::PageUp => f.write_str("PgUp"),
            KeyCodeOrd::PageDown => f.write_str("PgDn"),
            KeyCodeOrd::Home => f.write_str("Home"),
            KeyCodeOrd::End => f.write_str("End"),
        }
    }
}

/// A keymap file problem, naming the file, line and key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {message}")]
pub struct KeymapError {
    pub file: String,
    pub line: usize,
    pub message: String,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Keys {
    One(String),
    Many(Vec<String>),
}

type RawFile = BTreeMap<Spanned<String>, BTreeMap<Spanned<String>, Spanned<Keys>>>;

/// The live keymap: per context, which keys trigger which action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keymap {
    bindings: BTreeMap<Context, BTreeMap<Action, Vec<KeyBind>>>,
}

impl Default for Keymap {
    fn default() -> Self {
        Keymap::parse(DEFAULT_KEYMAP, "assets/keymap.toml").expect("the shipped keymap parses")
    }
}

impl Keymap {
    /// Parses one keymap file on its own.
    pub fn parse(text: &str, file: &str) -> Result<Keymap, KeymapError> {
        let mut keymap = Keymap {
            bindings: BTreeMap::new(),
        };
        keymap.merge(text, file)?;
        Ok(keymap)
    }

    /// The defaults with a user override file merged over them: an action named in the override
    /// gets exactly the override's keys, and those keys are taken away from other actions
    /// in the same section.
    pub fn with_overrides(text: &str, file: &str) -> Result<Keymap, KeymapError> {
        let mut keymap = Keymap::default();
        keymap.merge(text, file)?;
        Ok(keymap)
    }

    fn merge(&mut self, text: &str, file: &str) -> Result<(), KeymapError> {
        let line_of = |offset: usize| text[..offset.min(text.len())].matches('\n').count() + 1;
        let error = |offset: usize, message: String| KeymapError {
            file: file.to_string(),
            line: line_of(offset),
            message,
        };
        let raw: RawFile = toml::from_str(text).map_err(|e| {
            let offset = e.span().map_or(0, |s| s.start);
            error(offset, e.message().trim().to_string())
        })?;
        for (section, entries) in raw {
            let context = Context::from_name(section.get_ref()).ok_or_else(|| {
                error(
                    section.span().start,
                    format!(
                        "unknown section [{}] (known: {})",
                        section.get_ref(),
                        Context::ALL.map(Context::name).join(", ")
                    ),
                )
            })?;
            for (name, keys) in entries {
                let action = Action::from_name(name.get_ref())
                    .filter(|a| context.actions().contains(a))
                    .ok_or_else(|| {
                        error(
                            name.span().start,
                            format!(
                                "unknown command '{}' in [{}]",
                                name.get_ref(),
                                context.name()
                            ),
                        )
                    })?;
                let texts = match keys.get_ref() {
                    Keys::One(key) => vec![key.clone()],
                    Keys::Many(keys) => keys.clone(),
                };
                let mut parsed = Vec::with_capacity(texts.len());
                for key in &texts {
                    let bind = KeyBind::parse(key).map_err(|message| {
                        error(
                            keys.span().start,
                            format!("key for '{}': {message}", name.get_ref()),
                        )
                    })?;
                    parsed.push(bind);
                }
                let section = self.bindings.entry(context).or_default();
                for other in section.values_mut() {
                    other.retain(|k| !parsed.contains(k));
                }
                section.insert(action, parsed);
            }
        }
        Ok(())
    }

    /// The action for a key in a pane context, falling back to list keys and then global keys.
    pub fn lookup(&self, context: Context, key: &KeyEvent) -> Option<Action> {
        let bind = KeyBind::from_event(key)?;
        let mut order = vec![context];
        if context != Context::Editor {
            order.extend([Context::List, Context::Global]);
        }
        order.into_iter().find_map(|ctx| self.action_in(ctx, bind))
    }

    /// Looks up a key in exactly one section.
    pub fn action_in(&self, context: Context, bind: KeyBind) -> Option<Action> {
        self.bindings
            .get(&context)?
            .iter()
            .find(|(_, keys)| keys.contains(&bind))
            .map(|(action, _)| *action)
    }

    pub fn keys_for(&self, context: Context, action: Action) -> &[KeyBind] {
        self.bindings
            .get(&context)
            .and_then(|section| section.get(&action))
            .map_or(&[], Vec::as_slice)
    }

    /// The first key of an action as text ("b"), for hints; empty when unbound.
    pub fn hint(&self, context: Context, action: Action) -> String {
        self.keys_for(context, action)
            .first()
            .map(ToString::to_string)
            .unwrap_or_default()
    }

    /// (keys, description) for a section in the order the section lists its actions.
    pub fn help_entries(&self, context: Context) -> Vec<(String, &'static str)> {
        context
            .actions()
            .iter()
            .filter_map(|action| {
                let keys = self.keys_for(context, *action);
                (!keys.is_empty()).then(|| {
                    let text = keys
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(" ");
                    (text, action.description())
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    #[test]
    fn defaults_bind_vim_keys_and_arrows() {
        let keymap = Keymap::default();
        for code in [KeyCode::Char('j'), KeyCode::Down] {
            assert_eq!(keymap.lookup(Context::Feed, &key(code)), Some(Action::Down));
        }
        assert_eq!(
            keymap.lookup(
                Context::Feed,
                &KeyEvent::new(KeyCode::Char('d'), KeyModifiers::CONTROL)
            ),
            Some(Action::HalfPageDown)
        );
        assert_eq!(
            keymap.lookup(Context::Feed, &key(KeyCode::Char('G'))),
            Some(Action::Bottom)
        );
        assert_eq!(
            keymap.lookup(Context::Feed, &key(KeyCode::F(1))),
            Some(Action::Help)
        );
        assert_eq!(
            keymap.lookup(
                Context::Feed,
                &KeyEvent::new(KeyCode::BackTab, KeyModifiers::SHIFT)
            ),
            Some(Action::PrevPane)
        );
        // Pane keys win over list and global keys.
        assert_eq!(
            keymap.lookup(Context::Feed, &key(KeyCode::Char('b'))),
            Some(Action::Ban)
        );
    }

    #[test]
    fn override_replaces_keys_and_steals_them_from_other_actions() {
        let keymap = Keymap::with_overrides(
            "[feed]\nban = [\"B\", \"ctrl-b\"]\nstrike = \"b\"\n",
            "user.toml",
        )
        .unwrap();
        assert_eq!(
            keymap.lookup(Context::Feed, &key(KeyCode::Char('B'))),
            Some(Action::Ban)
        );
        assert_eq!(
            keymap.lookup(Context::Feed, &key(KeyCode::Char('b'))),
            Some(Action::Strike)
        );
        assert_eq!(keymap.keys_for(Context::Feed, Action::Ban).len(), 2);
        // Other sections keep their defaults.
        assert_eq!(
            keymap.lookup(Context::Feed, &key(KeyCode::Char('q'))),
            Some(Action::Quit)
        );
        let help = keymap.help_entries(Context::Feed);
        assert!(help.contains(&("B C-b".to_string(), "ban")), "{help:?}");
    }

    #[test]
    fn unknown_command_names_file_line_and_key() {
        let err = Keymap::with_overrides("# mine\n[feed]\nbann = \"b\"\n", "/home/me/keymap.toml")
            .unwrap_err();
        assert_eq!(err.file, "/home/me/keymap.toml");
        assert_eq!(err.line, 3);
        assert_eq!(
            err.to_string(),
            "/home/me/keymap.toml:3: unknown command 'bann' in [feed]"
        );
    }

    #[test]
    fn bad_key_names_line_and_command() {
        let err = Keymap::with_overrides("[global]\n\nquit = [\"q\", \"ctrl-\"]\n", "k.toml")
            .unwrap_err();
        assert_eq!(err.line, 3);
        assert!(err.message.contains("key for 'quit'"), "{err}");
        assert!(err.message.contains("'ctrl-' is not a key"), "{err}");
        let err = Keymap::with_overrides("[global]\nhelp = \"f13\"\n", "k.toml").unwrap_err();
        assert!(err.message.contains("f1–f12"), "{err}");
    }

    #[test]
    fn unknown_section_and_syntax_errors_name_the_line() {
        let err = Keymap::with_overrides("[fed]\nban = \"b\"\n", "k.toml").unwrap_err();
        assert_eq!(err.line, 1);
        assert!(err.message.starts_with("unknown section [fed]"), "{err}");
        let err = Keymap::with_overrides("[feed]\nban = \n", "k.toml").unwrap_err();
        assert_eq!(err.line, 2, "{err}");
        // An action from another pane is rejected in this section.
        let err = Keymap::with_overrides("[stats]\nban = \"b\"\n", "k.toml").unwrap_err();
        assert!(
            err.message.contains("unknown command 'ban' in [stats]"),
            "{err}"
        );
    }

    #[test]
    fn key_parsing_normalises_shift_and_ctrl() {
        assert_eq!(KeyBind::parse("shift-g"), KeyBind::parse("G"));
        assert_eq!(KeyBind::parse("CTRL-D"), KeyBind::parse("ctrl-d"));
        let event = KeyEvent::new(KeyCode::Char('G'), KeyModifiers::SHIFT);
        assert_eq!(KeyBind::from_event(&event), KeyBind::parse("G").ok());
        assert_eq!(KeyBind::parse("space").unwrap().to_string(), "Space");
    }
}
