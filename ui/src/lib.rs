//! Warden console UI: ratatui panes, keymap, popups and themes. It renders view-model records
//! read through [`DataSource`] and emits [`Command`]s; it never touches SQLite or Telegram.
//!
//! The app owns a [`Console`], passes it key/mouse events (`handle_key`, `handle_mouse`), calls
//! `on_data_changed` when the store changes and `on_tick` about once a second, and draws with
//! `render` only when `needs_redraw()` (coalescing bursts of updates into one frame).

pub mod command;
pub mod console;
mod draw;
pub mod keymap;
pub mod model;
pub mod paging;
pub mod source;
pub mod text;
pub mod theme;

pub use command::{Command, CommandContext, Parsed, parse_command_line, parse_duration};
pub use console::{Confirm, ConfirmFocus, Console, MIN_HEIGHT, MIN_WIDTH, Pane, Popup, Toast};
pub use keymap::{Action, Context, DEFAULT_KEYMAP, KeyBind, Keymap, KeymapError};
pub use model::*;
pub use source::{DataSource, Filter, Page, PageQuery};
pub use theme::{Theme, ThemeError};
