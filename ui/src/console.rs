//! The console state machine: keys and mouse in, [`Command`]s out; rendering lives in `draw`.

use std::collections::HashMap;

use crossterm::event::{
    KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseButton, MouseEvent, MouseEventKind,
};
use ratatui::layout::{Position, Rect};
use ratatui_textarea::{CursorMove, TextArea};

use crate::Command;
use crate::command::{CommandContext, Parsed, complete_verb, format_duration, parse_command_line};
use crate::keymap::{Action, Context, Keymap};
use crate::model::*;
use crate::paging::PagedList;
use crate::source::{DataSource, Filter, PageQuery};
use crate::text;
use crate::theme::Theme;

/// Smallest terminal the console draws panes in; below it shows "terminal too small".
pub const MIN_WIDTH: u16 = 60;
pub const MIN_HEIGHT: u16 = 16;
/// Default mute from the `m` key (the command line takes any duration).
pub const DEFAULT_MUTE_SECONDS: u64 = 3_600;
/// How many `on_tick` calls a toast stays up.
const TOAST_TICKS: u8 = 5;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Pane {
    Feed,
    Alerts,
    Clusters,
    Investigator,
    Rules,
    History,
    Stats,
}

impl Pane {
    pub const ALL: [Pane; 7] = [
        Pane::Feed,
        Pane::Alerts,
        Pane::Clusters,
        Pane::Investigator,
        Pane::Rules,
        Pane::History,
        Pane::Stats,
    ];

    pub fn index(self) -> usize {
        Pane::ALL.iter().position(|p| *p == self).unwrap_or(0)
    }

    pub fn title(self) -> &'static str {
        match self {
            Pane::Feed => "Feed",
            Pane::Alerts => "Alerts",
            Pane::Clusters => "Clusters",
            Pane::Investigator => "Investigator",
            Pane::Rules => "Rules",
            Pane::History => "History",
            Pane::Stats => "Stats",
        }
    }

    pub fn context(self) -> Context {
        match self {
            Pane::Feed => Context::Feed,
            Pane::Alerts => Context::Alerts,
            Pane::Clusters => Context::Clusters,
            Pane::Investigator => Context::Investigator,
            Pane::Rules => Context::Rules,
            Pane::History => Context::History,
            Pane::Stats => Context::Stats,
        }
    }

    fn filterable(self) -> bool {
        !matches!(self, Pane::Investigator | Pane::Stats)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfirmFocus {
    Cancel,
    Confirm,
    Reason,
}

/// A confirmation that carries the pending command until the moderator decides.
#[derive(Debug)]
pub struct Confirm {
    pub command: Command,
    pub title: String,
    pub target: String,
    pub consequence: String,
    /// Extra lines (backtest results).
    pub details: Vec<String>,
    pub reason: Option<TextArea<'static>>,
    pub focus: ConfirmFocus,
}

/// A one-line input (command line, filter).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LineInput {
    pub text: String,
    /// The filter before editing, restored on Esc.
    pub previous: String,
    history_index: Option<usize>,
}

#[derive(Debug)]
pub enum Popup {
    Confirm(Box<Confirm>),
    Help {
        scroll: u16,
    },
    CommandLine(LineInput),
    Filter(LineInput),
    /// The app's question (a login step) and what has been typed so far.
    Prompt(Prompt, String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Toast {
    pub text: String,
    pub error: bool,
    ticks_left: u8,
}

pub(crate) struct RuleEditor {
    pub name: Option<String>,
    pub area: TextArea<'static>,
    pub check: Result<(), RuleError>,
}

/// Where things were drawn last frame, for the mouse.
#[derive(Debug, Default, Clone)]
pub(crate) struct HitMap {
    pub tabs: Vec<(Rect, Pane)>,
    /// Rows of the focused list: area of the first data row onwards, and the index drawn at its top.
    pub list: Option<(Rect, usize)>,
    pub pane: Option<Rect>,
    pub cancel: Option<Rect>,
    pub confirm: Option<Rect>,
}

/// The whole console. The app owns one, feeds it keys, mouse events, ticks and data-change
/// notices, carries out the commands it returns, and calls `render` when `needs_redraw()`.
pub struct Console {
    pub(crate) keymap: Keymap,
    pub(crate) theme: Theme,
    pub(crate) focus: Pane,
    pub(crate) previous: Option<Pane>,
    pub(crate) expanded: bool,
    pub(crate) dirty: bool,
    pub(crate) mouse: bool,
    pub(crate) ascii: bool,
    pub(crate) feed: PagedList<FeedRow>,
    pub(crate) frozen_at: Option<u64>,
    pub(crate) alerts: PagedList<AlertRow>,
    pub(crate) clusters: PagedList<ClusterRow>,
    pub(crate) cluster_view: Option<ClusterView>,
    pub(crate) cluster_stale: bool,
    /// Shown instead of the list selection after "open cluster" from the Investigator.
    pub(crate) cluster_pinned: Option<ClusterId>,
    pub(crate) node_cursor: usize,
    pub(crate) user: Option<UserId>,
    pub(crate) user_view: Option<UserView>,
    pub(crate) user_stale: bool,
    pub(crate) user_scroll: u16,
    pub(crate) rules: Vec<RuleRow>,
    pub(crate) rules_stale: bool,
    pub(crate) rule_selected: usize,
    pub(crate) editor: Option<RuleEditor>,
    drafts: HashMap<Option<String>, Vec<String>>,
    pub(crate) history: PagedList<HistoryRow>,
    pub(crate) stats: Option<StatsView>,
    pub(crate) status: StatusView,
    /// The last app prompt opened, so an answered one is not opened again.
    prompt_shown: Option<u64>,
    pub(crate) filters: [Filter; 7],
    pub(crate) popup: Option<Popup>,
    pub(crate) toast: Option<Toast>,
    last_label: Option<(ChatId, MessageId)>,
    command_history: Vec<String>,
    pub(crate) hits: HitMap,
}

impl Console {
    pub fn new(keymap: Keymap, theme: Theme) -> Console {
        Console {
            keymap,
            theme,
            focus: Pane::Feed,
            previous: None,
            expanded: false,
            dirty: true,
            mouse: true,
            ascii: false,
            feed: PagedList::default(),
            frozen_at: None,
            alerts: PagedList::default(),
            clusters: PagedList::default(),
            cluster_view: None,
            cluster_stale: true,
            cluster_pinned: None,
            node_cursor: 0,
            user: None,
            user_view: None,
            user_stale: true,
            user_scroll: 0,
            rules: Vec::new(),
            rules_stale: true,
            rule_selected: 0,
            editor: None,
            drafts: HashMap::new(),
            history: PagedList::default(),
            stats: None,
            status: StatusView::default(),
            prompt_shown: None,
            filters: Default::default(),
            popup: None,
            toast: None,
            last_label: None,
            command_history: Vec::new(),
            hits: HitMap::default(),
        }
    }

    // ----- what the app's loop needs -----

    /// True when something changed since the last `render`. The app draws only then (and at most
    /// ~60 times a second), so a burst of updates costs one frame.
    pub fn needs_redraw(&self) -> bool {
        self.dirty
    }

    /// Opens the app's prompt when a new one appears; closes it when the app withdrew it.
    pub(crate) fn sync_prompt(&mut self) {
        match &self.status.prompt {
            Some(prompt) if self.prompt_shown != Some(prompt.id) && self.popup.is_none() => {
                self.prompt_shown = Some(prompt.id);
                self.popup = Some(Popup::Prompt(prompt.clone(), String::new()));
                self.dirty = true;
            }
            None if matches!(self.popup, Some(Popup::Prompt(..))) => {
                self.popup = None;
                self.dirty = true;
            }
            _ => {}
        }
    }

    /// New or changed data in the store: lists are re-read on the next render. A frozen Feed keeps
    /// its rows (it reads up to the freeze anchor).
    pub fn on_data_changed(&mut self) {
        self.feed.invalidate();
        self.alerts.invalidate();
        self.clusters.invalidate();
        self.history.invalidate();
        self.cluster_stale = true;
        self.user_stale = true;
        self.rules_stale = true;
        self.stats = None;
        self.dirty = true;
    }

    /// The terminal was resized: relayout everything on the next render.
    pub fn on_resize(&mut self) {
        self.dirty = true;
    }

    /// Call about once a second: ages out toasts.
    pub fn on_tick(&mut self) {
        if let Some(toast) = &mut self.toast {
            toast.ticks_left = toast.ticks_left.saturating_sub(1);
            if toast.ticks_left == 0 {
                self.toast = None;
                self.dirty = true;
            }
        }
    }

    /// Shows a message from the app (an action's result or failure) in the toast.
    pub fn notify(&mut self, text: impl Into<String>, error: bool) {
        self.toast = Some(Toast {
            text: text.into(),
            error,
            ticks_left: TOAST_TICKS,
        });
        self.dirty = true;
    }

    pub fn set_theme(&mut self, theme: Theme) {
        self.theme = theme;
        self.dirty = true;
    }

    /// ASCII fallbacks for braille and glyphs (`--no-unicode`).
    pub fn set_ascii(&mut self, ascii: bool) {
        self.ascii = ascii;
        self.dirty = true;
    }

    pub fn set_keymap(&mut self, keymap: Keymap) {
        self.keymap = keymap;
        self.dirty = true;
    }

    // ----- read access, for the app and tests -----

    pub fn focus(&self) -> Pane {
        self.focus
    }

    pub fn is_expanded(&self) -> bool {
        self.expanded
    }

    pub fn is_frozen(&self) -> bool {
        self.frozen_at.is_some()
    }

    pub fn mouse_enabled(&self) -> bool {
        self.mouse
    }

    pub fn popup(&self) -> Option<&Popup> {
        self.popup.as_ref()
    }

    /// The command a confirmation popup is holding, and where its focus is.
    pub fn pending_confirmation(&self) -> Option<(&Command, ConfirmFocus)> {
        match &self.popup {
            Some(Popup::Confirm(confirm)) => Some((&confirm.command, confirm.focus)),
            _ => None,
        }
    }

    pub fn toast(&self) -> Option<&Toast> {
        self.toast.as_ref()
    }

    pub fn filter(&self, pane: Pane) -> &Filter {
        &self.filters[pane.index()]
    }

    pub fn opened_user(&self) -> Option<UserId> {
        self.user
    }

    pub fn is_editing_rule(&self) -> bool {
        self.editor.is_some()
    }

    /// (rows kept in memory, largest page requested) for the Feed: bounded by the screen, not the data.
    pub fn feed_paging(&self) -> (usize, usize) {
        (self.feed.max_kept, self.feed.max_limit)
    }

    pub fn feed_selected(&self) -> Option<&FeedRow> {
        self.feed.selected_row()
    }

    // ----- input -----

    /// Handles one key press. Release and repeat-release events are ignored.
    pub fn handle_key(&mut self, key: KeyEvent, data: &dyn DataSource) -> Vec<Command> {
        if key.kind == KeyEventKind::Release {
            return Vec::new();
        }
        self.dirty = true;
        let mut out = Vec::new();
        if key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL) {
            out.push(Command::Quit);
            return out;
        }
        if self.popup.is_some() {
            self.popup_key(key, data, &mut out);
            return out;
        }
        if self.focus == Pane::Rules && self.editor.is_some() {
            self.editor_key(key, data);
            return out;
        }
        if let Some(action) = self.keymap.lookup(self.focus.context(), &key) {
            self.action(action, data, &mut out);
        }
        out
    }

    /// Handles a mouse event: click focuses and selects, the wheel scrolls.
    pub fn handle_mouse(&mut self, mouse: MouseEvent, _data: &dyn DataSource) -> Vec<Command> {
        if !self.mouse {
            return Vec::new();
        }
        let at = Position::new(mouse.column, mouse.row);
        match mouse.kind {
            MouseEventKind::Down(MouseButton::Left) => {
                if let Some(Popup::Confirm(confirm)) = &mut self.popup {
                    if self.hits.cancel.is_some_and(|r| r.contains(at)) {
                        self.popup = None;
                        self.dirty = true;
                    } else if self.hits.confirm.is_some_and(|r| r.contains(at)) {
                        confirm.focus = ConfirmFocus::Confirm;
                        return self.confirm_now();
                    }
                    return Vec::new();
                }
                if let Some((_, pane)) = self.hits.tabs.iter().find(|(r, _)| r.contains(at)) {
                    let pane = *pane;
                    self.goto(pane);
                } else if let Some((area, first)) = self.hits.list
                    && area.contains(at)
                {
                    let index = first + usize::from(at.y - area.y);
                    self.select_index(index);
                    self.dirty = true;
                }
            }
            MouseEventKind::ScrollDown => self.scroll_focused(3),
            MouseEventKind::ScrollUp => self.scroll_focused(-3),
            _ => {}
        }
        Vec::new()
    }

    fn scroll_focused(&mut self, delta: isize) {
        if self.popup.is_some() {
            if let Some(Popup::Help { scroll }) = &mut self.popup {
                *scroll = scroll.saturating_add_signed(delta as i16);
            }
        } else {
            self.move_selection(delta);
        }
        self.dirty = true;
    }

    fn select_index(&mut self, index: usize) {
        match self.focus {
            Pane::Feed => self.feed.select(index),
            Pane::Alerts => self.alerts.select(index),
            Pane::Clusters => {
                self.clusters.select(index);
                self.cluster_moved();
            }
            Pane::History => self.history.select(index),
            Pane::Rules => {
                self.rule_selected = index.min(self.visible_rules().len().saturating_sub(1))
            }
            Pane::Investigator | Pane::Stats => {}
        }
    }

    fn move_selection(&mut self, delta: isize) {
        match self.focus {
            Pane::Feed => self.feed.move_by(delta),
            Pane::Alerts => self.alerts.move_by(delta),
            Pane::Clusters => {
                self.clusters.move_by(delta);
                self.cluster_moved();
            }
            Pane::History => self.history.move_by(delta),
            Pane::Rules => {
                let last = self.visible_rules().len().saturating_sub(1);
                self.rule_selected = self.rule_selected.saturating_add_signed(delta).min(last);
            }
            Pane::Investigator => {
                self.user_scroll = self.user_scroll.saturating_add_signed(delta as i16);
            }
            Pane::Stats => {}
        }
    }

    fn cluster_moved(&mut self) {
        self.cluster_pinned = None;
        self.node_cursor = 0;
        self.cluster_stale = true;
    }

    fn page_height(&self) -> isize {
        let height = match self.focus {
            Pane::Feed => self.feed.height(),
            Pane::Alerts => self.alerts.height(),
            Pane::Clusters => self.clusters.height(),
            Pane::History => self.history.height(),
            _ => 10,
        };
        height.max(2) as isize
    }

    fn goto(&mut self, pane: Pane) {
        if pane != self.focus {
            self.previous = Some(self.focus);
            self.focus = pane;
        }
        self.dirty = true;
    }

    fn action(&mut self, action: Action, data: &dyn DataSource, out: &mut Vec<Command>) {
        if self.focus == Pane::Rules && self.rules_stale {
            self.rules = data.rules();
            self.rules_stale = false;
        }
        let page = self.page_height();
        match action {
            Action::Quit => {
                let pending = data.status().pending_actions;
                if pending > 0 {
                    self.popup = Some(Popup::Confirm(Box::new(Confirm {
                        command: Command::Quit,
                        title: "Quit Warden?".into(),
                        target: format!("{pending} action(s) still pending"),
                        consequence: "They stay queued and resume on the next start.".into(),
                        details: Vec::new(),
                        reason: None,
                        focus: ConfirmFocus::Cancel,
                    })));
                } else {
                    out.push(Command::Quit);
                }
            }
            Action::Suspend => out.push(Command::Suspend),
            Action::Help => self.popup = Some(Popup::Help { scroll: 0 }),
            Action::CommandLine => self.popup = Some(Popup::CommandLine(LineInput::default())),
            Action::Filter => {
                if self.focus.filterable() {
                    let current = self.filters[self.focus.index()].raw.clone();
                    self.popup = Some(Popup::Filter(LineInput {
                        text: current.clone(),
                        previous: current,
                        history_index: None,
                    }));
                } else {
                    self.notify(
                        format!("nothing to filter in {}", self.focus.title()),
                        false,
                    );
                }
            }
            Action::NextPane => self.goto(Pane::ALL[(self.focus.index() + 1) % 7]),
            Action::PrevPane => self.goto(Pane::ALL[(self.focus.index() + 6) % 7]),
            Action::Pane1 => self.goto(Pane::Feed),
            Action::Pane2 => self.goto(Pane::Alerts),
            Action::Pane3 => self.goto(Pane::Clusters),
            Action::Pane4 => self.goto(Pane::Investigator),
            Action::Pane5 => self.goto(Pane::Rules),
            Action::Pane6 => self.goto(Pane::History),
            Action::Pane7 => self.goto(Pane::Stats),
            Action::Expand => self.expanded = !self.expanded,
            Action::Back => self.back(),
            Action::ToggleMouse => {
                self.mouse = !self.mouse;
                out.push(Command::MouseCapture { on: self.mouse });
                self.notify(if self.mouse { "mouse on" } else { "mouse off" }, false);
            }
            Action::Up => self.move_selection(-1),
            Action::Down => self.move_selection(1),
            Action::PageUp => self.move_selection(-page),
            Action::PageDown => self.move_selection(page),
            Action::HalfPageUp => self.move_selection(-(page / 2).max(1)),
            Action::HalfPageDown => self.move_selection((page / 2).max(1)),
            Action::Top => self.move_selection(isize::MIN / 2),
            Action::Bottom => self.move_selection(isize::MAX / 2),
            Action::Open => {}
            Action::Freeze => self.toggle_freeze(data),
            Action::NextNode | Action::PrevNode => {
                let members = self.cluster_view.as_ref().map_or(0, |c| c.members.len());
                if members > 0 {
                    let step = if action == Action::NextNode {
                        1
                    } else {
                        members - 1
                    };
                    self.node_cursor = (self.node_cursor + step) % members;
                }
            }
            Action::OpenCluster => {
                if let Some(cluster) = self.user_view.as_ref().and_then(|u| u.cluster) {
                    self.cluster_pinned = Some(cluster);
                    self.cluster_stale = true;
                    self.node_cursor = 0;
                    self.goto(Pane::Clusters);
                } else {
                    self.notify("this user is in no cluster", false);
                }
            }
            Action::Edit => self.open_editor(false, data),
            Action::NewRule => self.open_editor(true, data),
            Action::ToggleRule => {
                if let Some(rule) = self.visible_rules().get(self.rule_selected) {
                    out.push(Command::ToggleRule {
                        name: rule.name.clone(),
                        enabled: !rule.enabled,
                    });
                }
            }
            Action::Save => {}
            _ => match self.target_command(action) {
                Ok(Some(command)) => self.submit(command, data, out),
                Ok(None) => {}
                Err(message) => self.notify(message, true),
            },
        }
    }

    fn back(&mut self) {
        if !self.filters[self.focus.index()].is_empty() {
            self.filters[self.focus.index()] = Filter::default();
            self.reset_focused_list();
        } else if self.expanded {
            self.expanded = false;
        } else if let Some(previous) = self.previous.take() {
            self.focus = previous;
        }
    }

    fn toggle_freeze(&mut self, data: &dyn DataSource) {
        if self.frozen_at.take().is_some() {
            self.notify("feed live again", false);
        } else {
            let newest = data
                .feed(&PageQuery {
                    offset: 0,
                    limit: 1,
                    filter: self.filters[0].clone(),
                    until: None,
                })
                .rows
                .first()
                .map_or(0, |row| row.seq);
            self.frozen_at = Some(newest);
            self.notify("feed frozen: new messages wait until you unfreeze", false);
        }
        self.feed.invalidate();
    }

    /// The command an action means for the thing under the cursor.
    fn target_command(&mut self, action: Action) -> Result<Option<Command>, String> {
        let reason_of = |row: &FeedRow| row.reasons.first().cloned().unwrap_or_default();
        let command = match (self.focus, action) {
            (Pane::Feed, _) => {
                let Some(row) = self.feed.selected_row() else {
                    return Err("no message selected".into());
                };
                let (user, chat) = (row.user_id, Some(row.chat_id));
                match action {
                    Action::Ban => Command::Ban {
                        user,
                        chat,
                        duration: None,
                        reason: reason_of(row),
                    },
                    Action::Strike => Command::Strike {
                        user,
                        chat,
                        reason: reason_of(row),
                    },
                    Action::Forgive => Command::Forgive {
                        user,
                        reason: String::new(),
                    },
                    Action::Trust => Command::Trust {
                        user,
                        reason: String::new(),
                    },
                    Action::Mute => Command::Mute {
                        user,
                        chat,
                        seconds: DEFAULT_MUTE_SECONDS,
                        reason: reason_of(row),
                    },
                    Action::LabelSpam => Command::LabelSpam {
                        chat: row.chat_id,
                        message: row.message_id,
                        user,
                    },
                    Action::LabelHam => Command::LabelHam {
                        chat: row.chat_id,
                        message: row.message_id,
                        user,
                    },
                    Action::UndoLabel => match self.last_label.take() {
                        Some((chat, message)) => Command::UndoLabel { chat, message },
                        None if row.label.is_some() => Command::UndoLabel {
                            chat: row.chat_id,
                            message: row.message_id,
                        },
                        None => return Err("nothing to undo: this message has no label".into()),
                    },
                    Action::OpenUser => Command::OpenUser { user },
                    Action::Bunker => {
                        let on = !self
                            .status
                            .chats
                            .iter()
                            .any(|c| c.id == row.chat_id && c.bunker);
                        Command::Bunker {
                            chat: row.chat_id,
                            on,
                        }
                    }
                    Action::SlowMode => {
                        let chat = row.chat_id;
                        self.popup = Some(Popup::CommandLine(LineInput {
                            text: format!("slow {chat} 30"),
                            ..LineInput::default()
                        }));
                        return Ok(None);
                    }
                    _ => return Ok(None),
                }
            }
            (Pane::Alerts, _) => {
                let Some(alert) = self.alerts.selected_row() else {
                    return Err("no alert selected".into());
                };
                match action {
                    Action::Accept => Command::AcceptAlert { alert: alert.id },
                    Action::Dismiss => Command::DismissAlert { alert: alert.id },
                    Action::Retry => Command::RetryAlert { alert: alert.id },
                    Action::Release => Command::Bunker {
                        chat: alert.chat_id,
                        on: false,
                    },
                    Action::OpenUser | Action::Ban => {
                        let Some(user) = alert.user_id else {
                            return Err("this alert is not about one user".into());
                        };
                        if action == Action::Ban {
                            Command::Ban {
                                user,
                                chat: Some(alert.chat_id),
                                duration: None,
                                reason: alert.summary.clone(),
                            }
                        } else {
                            Command::OpenUser { user }
                        }
                    }
                    _ => return Ok(None),
                }
            }
            (Pane::Clusters, _) => {
                let Some(view) = &self.cluster_view else {
                    return Err("no cluster selected".into());
                };
                let cluster = view.id;
                let member = view.members.get(self.node_cursor).map(|m| m.user_id);
                let need_member = || member.ok_or_else(|| "no member under the cursor".to_string());
                match action {
                    Action::BanAll => Command::ClusterBanAll {
                        cluster,
                        reason: format!("cluster #{cluster}"),
                    },
                    Action::LabelAllSpam => Command::ClusterLabelSpam { cluster },
                    Action::RemoveMember => Command::ClusterRemoveMember {
                        cluster,
                        user: need_member()?,
                    },
                    Action::WhitelistMember => Command::ClusterWhitelistMember {
                        cluster,
                        user: need_member()?,
                    },
                    Action::OpenUser => Command::OpenUser {
                        user: need_member()?,
                    },
                    _ => return Ok(None),
                }
            }
            (Pane::Investigator, _) => {
                let Some(user) = self.user else {
                    return Err("no user open: press Enter on a row or type :user <id>".into());
                };
                match action {
                    Action::Ban => Command::Ban {
                        user,
                        chat: None,
                        duration: None,
                        reason: String::new(),
                    },
                    Action::Strike => Command::Strike {
                        user,
                        chat: None,
                        reason: String::new(),
                    },
                    Action::Forgive => Command::Forgive {
                        user,
                        reason: String::new(),
                    },
                    Action::Trust => Command::Trust {
                        user,
                        reason: String::new(),
                    },
                    Action::Mute => Command::Mute {
                        user,
                        chat: None,
                        seconds: DEFAULT_MUTE_SECONDS,
                        reason: String::new(),
                    },
                    _ => return Ok(None),
                }
            }
            (Pane::History, Action::OpenUser) => {
                return Err(
                    "open users from the Feed, Alerts or Clusters, or with :user <id>".into(),
                );
            }
            _ => return Ok(None),
        };
        Ok(Some(command))
    }

    /// Routes a command: confirm first when destructive, handle console-side effects, emit.
    fn submit(&mut self, command: Command, data: &dyn DataSource, out: &mut Vec<Command>) {
        if command.needs_confirmation() {
            self.popup = Some(Popup::Confirm(Box::new(self.describe(command, data))));
            return;
        }
        match &command {
            Command::OpenUser { user } => {
                self.user = Some(*user);
                self.user_stale = true;
                self.user_scroll = 0;
                self.goto(Pane::Investigator);
            }
            Command::LabelSpam { chat, message, .. } | Command::LabelHam { chat, message, .. } => {
                self.last_label = Some((*chat, *message));
                let undo = self.keymap.hint(Context::Feed, Action::UndoLabel);
                let word = if matches!(command, Command::LabelSpam { .. }) {
                    "spam"
                } else {
                    "ham"
                };
                self.notify(format!("labelled {word} · {undo} to undo"), false);
            }
            Command::UndoLabel { .. } => self.notify("label undone", false),
            _ => {}
        }
        out.push(command);
    }

    fn user_name(&self, user: UserId, data: &dyn DataSource) -> String {
        match data.user(user) {
            Some(view) => match &view.username {
                Some(username) => {
                    format!("{} (@{username}, id {user})", text::one_line(&view.name))
                }
                None => format!("{} (id {user})", text::one_line(&view.name)),
            },
            None => format!("user {user}"),
        }
    }

    fn chat_name(&self, chat: Option<ChatId>) -> String {
        match chat {
            None => {
                let n = self.status.chats.len();
                if n == 1 {
                    format!("in {}", self.status.chats[0].title)
                } else {
                    format!("in all {n} watched chats")
                }
            }
            Some(id) => match self.status.chats.iter().find(|c| c.id == id) {
                Some(chat) => format!("in {}", text::one_line(&chat.title)),
                None => format!("in chat {id}"),
            },
        }
    }

    /// Builds the confirmation: names the target and the consequence, focus on Cancel.
    pub(crate) fn describe(&mut self, command: Command, data: &dyn DataSource) -> Confirm {
        if self.status.chats.is_empty() {
            self.status = data.status();
        }
        let cluster_size = |cluster: ClusterId| {
            data.cluster(cluster)
                .map(|c| {
                    (
                        c.members.len(),
                        c.members
                            .iter()
                            .filter(|m| m.state == MemberState::Banned)
                            .count(),
                    )
                })
                .unwrap_or_default()
        };
        let (title, target, consequence) = match &command {
            Command::Ban {
                user,
                chat,
                duration,
                ..
            } => (
                "Ban user".to_string(),
                format!("{} {}", self.user_name(*user, data), self.chat_name(*chat)),
                match duration {
                    Some(seconds) => format!(
                        "Removed and blocked from rejoining for {}; their recent messages are deleted.",
                        format_duration(*seconds)
                    ),
                    None => {
                        "Removed and blocked permanently; their recent messages are deleted.".into()
                    }
                },
            ),
            Command::Mute {
                user,
                chat,
                seconds,
                ..
            } => (
                "Mute user".to_string(),
                format!("{} {}", self.user_name(*user, data), self.chat_name(*chat)),
                format!("Cannot send messages for {}.", format_duration(*seconds)),
            ),
            Command::Strike { user, chat, .. } => (
                "Strike user".to_string(),
                format!("{} {}", self.user_name(*user, data), self.chat_name(*chat)),
                "Adds a strike; enough strikes escalate to mute and ban per policy.".into(),
            ),
            Command::Forgive { user, .. } => (
                "Forgive user".to_string(),
                self.user_name(*user, data),
                "Clears their active strikes; past bans stay in history.".into(),
            ),
            Command::Trust { user, .. } => (
                "Trust user".to_string(),
                self.user_name(*user, data),
                "Trusted users skip every spam check until trust is removed.".into(),
            ),
            Command::Bunker { chat, on } => (
                if *on {
                    "Bunker mode on"
                } else {
                    "Bunker mode off"
                }
                .to_string(),
                self.chat_name(Some(*chat)),
                if *on {
                    "New members are restricted on join until released.".into()
                } else {
                    "New members can post again.".into()
                },
            ),
            Command::SlowMode { chat, seconds } => (
                "Slow mode".to_string(),
                self.chat_name(Some(*chat)),
                if *seconds == 0 {
                    "Turns slow mode off.".into()
                } else {
                    format!("Members may post once every {}.", format_duration(*seconds))
                },
            ),
            Command::ClusterBanAll { cluster, .. } => {
                let (members, banned) = cluster_size(*cluster);
                (
                    "Ban whole cluster".to_string(),
                    format!("cluster #{cluster}: {members} accounts ({banned} already banned)"),
                    format!("Bans {} accounts in every watched chat.", members - banned),
                )
            }
            Command::ClusterLabelSpam { cluster } => {
                let (members, _) = cluster_size(*cluster);
                (
                    "Label cluster as spam".to_string(),
                    format!("cluster #{cluster}: {members} accounts"),
                    "Adds all their stored messages to the dataset as spam.".into(),
                )
            }
            Command::ClusterRemoveMember { cluster, user } => (
                "Remove from cluster".to_string(),
                format!("{} from cluster #{cluster}", self.user_name(*user, data)),
                "The link is dropped; the account is judged on its own.".into(),
            ),
            Command::ClusterWhitelistMember { cluster, user } => (
                "Whitelist member".to_string(),
                format!("{} in cluster #{cluster}", self.user_name(*user, data)),
                "Trusted and removed from the cluster; never grouped again.".into(),
            ),
            other => (other.verb().to_string(), String::new(), String::new()),
        };
        let reason = command.reason().map(|initial| {
            let mut area = TextArea::new(vec![initial.to_string()]);
            area.move_cursor(CursorMove::End);
            area.set_placeholder_text("reason (shown in the audit log)");
            area
        });
        Confirm {
            command,
            title,
            target,
            consequence,
            details: Vec::new(),
            reason,
            focus: ConfirmFocus::Cancel,
        }
    }

    fn popup_key(&mut self, key: KeyEvent, data: &dyn DataSource, out: &mut Vec<Command>) {
        let Some(popup) = self.popup.take() else {
            return;
        };
        match popup {
            Popup::Help { scroll } => {
                let action = self.keymap.lookup(Context::List, &key);
                self.popup = match (key.code, action) {
                    (KeyCode::Esc | KeyCode::Char('q') | KeyCode::Char('?') | KeyCode::F(1), _) => {
                        None
                    }
                    (_, Some(Action::Down)) => Some(Popup::Help {
                        scroll: scroll.saturating_add(1),
                    }),
                    (_, Some(Action::Up)) => Some(Popup::Help {
                        scroll: scroll.saturating_sub(1),
                    }),
                    (_, Some(Action::PageDown | Action::HalfPageDown)) => Some(Popup::Help {
                        scroll: scroll.saturating_add(10),
                    }),
                    (_, Some(Action::PageUp | Action::HalfPageUp)) => Some(Popup::Help {
                        scroll: scroll.saturating_sub(10),
                    }),
                    (_, Some(Action::Top)) => Some(Popup::Help { scroll: 0 }),
                    _ => Some(Popup::Help { scroll }),
                };
            }
            Popup::Confirm(mut confirm) => {
                match key.code {
                    KeyCode::Esc => {
                        self.notify(format!("{} cancelled", confirm.command.verb()), false);
                        return;
                    }
                    KeyCode::Tab | KeyCode::BackTab => {
                        let order = if confirm.reason.is_some() {
                            &[
                                ConfirmFocus::Reason,
                                ConfirmFocus::Cancel,
                                ConfirmFocus::Confirm,
                            ][..]
                        } else {
                            &[ConfirmFocus::Cancel, ConfirmFocus::Confirm][..]
                        };
                        let at = order.iter().position(|f| *f == confirm.focus).unwrap_or(0);
                        let step = if key.code == KeyCode::Tab {
                            1
                        } else {
                            order.len() - 1
                        };
                        confirm.focus = order[(at + step) % order.len()];
                    }
                    KeyCode::Enter => match confirm.focus {
                        ConfirmFocus::Cancel => {
                            self.notify(format!("{} cancelled", confirm.command.verb()), false);
                            return;
                        }
                        ConfirmFocus::Reason => confirm.focus = ConfirmFocus::Confirm,
                        ConfirmFocus::Confirm => {
                            self.popup = Some(Popup::Confirm(confirm));
                            out.extend(self.confirm_now());
                            return;
                        }
                    },
                    KeyCode::Left | KeyCode::Right | KeyCode::Char('h') | KeyCode::Char('l')
                        if confirm.focus != ConfirmFocus::Reason =>
                    {
                        confirm.focus = if confirm.focus == ConfirmFocus::Cancel {
                            ConfirmFocus::Confirm
                        } else {
                            ConfirmFocus::Cancel
                        };
                    }
                    _ => {
                        if let Some(area) = &mut confirm.reason {
                            // Typing while a button has focus goes into the reason.
                            let printable = matches!(key.code, KeyCode::Char(_))
                                && !key.modifiers.contains(KeyModifiers::CONTROL);
                            if confirm.focus == ConfirmFocus::Reason || printable {
                                confirm.focus = ConfirmFocus::Reason;
                                area.input(key);
                            }
                        }
                    }
                }
                self.popup = Some(Popup::Confirm(confirm));
            }
            Popup::CommandLine(mut input) => match key.code {
                KeyCode::Esc => {}
                KeyCode::Enter => self.run_command_line(input, data, out),
                KeyCode::Tab => {
                    let verb = input.text.split_whitespace().next().unwrap_or_default();
                    if !input.text.contains(' ')
                        && let Some(full) = complete_verb(verb)
                    {
                        input.text = format!("{full} ");
                    }
                    self.popup = Some(Popup::CommandLine(input));
                }
                KeyCode::Up | KeyCode::Down => {
                    if !self.command_history.is_empty() {
                        let last = self.command_history.len() - 1;
                        let index = match (input.history_index, key.code) {
                            (None, KeyCode::Up) => Some(last),
                            (Some(i), KeyCode::Up) => Some(i.saturating_sub(1)),
                            (Some(i), _) if i < last => Some(i + 1),
                            _ => None,
                        };
                        input.history_index = index;
                        input.text = index
                            .map(|i| self.command_history[i].clone())
                            .unwrap_or_default();
                    }
                    self.popup = Some(Popup::CommandLine(input));
                }
                _ => {
                    edit_line(&mut input.text, key);
                    self.popup = Some(Popup::CommandLine(input));
                }
            },
            Popup::Prompt(prompt, mut text) => match key.code {
                KeyCode::Esc => out.push(Command::PromptAnswer {
                    id: prompt.id,
                    text: None,
                }),
                KeyCode::Enter => out.push(Command::PromptAnswer {
                    id: prompt.id,
                    text: Some(text),
                }),
                _ => {
                    edit_line(&mut text, key);
                    self.popup = Some(Popup::Prompt(prompt, text));
                }
            },
            Popup::Filter(mut input) => {
                match key.code {
                    KeyCode::Esc => {
                        let previous = input.previous.clone();
                        self.set_filter(&previous);
                        return;
                    }
                    KeyCode::Enter => return,
                    _ => {
                        edit_line(&mut input.text, key);
                        let text = input.text.clone();
                        self.set_filter(&text);
                    }
                }
                self.popup = Some(Popup::Filter(input));
            }
        }
    }

    /// Emits the confirmed command (with the typed reason) and closes the popup.
    fn confirm_now(&mut self) -> Vec<Command> {
        let Some(Popup::Confirm(confirm)) = self.popup.take() else {
            return Vec::new();
        };
        self.dirty = true;
        let mut command = confirm.command;
        if let Some(area) = &confirm.reason {
            command.set_reason(area.lines().join(" ").trim().to_string());
        }
        if let Command::SaveRule { name, .. } = &command {
            self.drafts.remove(name);
            self.editor = None;
            self.rules_stale = true;
            self.notify("rule saved", false);
        } else if command != Command::Quit {
            self.notify(format!("{}: sent", command.verb()), false);
        }
        vec![command]
    }

    fn set_filter(&mut self, raw: &str) {
        self.filters[self.focus.index()] = Filter::parse(raw);
        self.reset_focused_list();
    }

    fn reset_focused_list(&mut self) {
        match self.focus {
            Pane::Feed => self.feed.reset(),
            Pane::Alerts => self.alerts.reset(),
            Pane::Clusters => {
                self.clusters.reset();
                self.cluster_moved();
            }
            Pane::History => self.history.reset(),
            Pane::Rules => self.rule_selected = 0,
            Pane::Investigator | Pane::Stats => {}
        }
        self.dirty = true;
    }

    fn run_command_line(
        &mut self,
        input: LineInput,
        data: &dyn DataSource,
        out: &mut Vec<Command>,
    ) {
        let line = input.text.trim().to_string();
        if line.is_empty() {
            return;
        }
        self.command_history.retain(|l| *l != line);
        self.command_history.push(line.clone());
        let status = data.status();
        let find_user = |handle: &str| data.find_user(handle);
        let ctx = CommandContext {
            chats: &status.chats,
            find_user: &find_user,
            focused_chat: None,
        };
        match parse_command_line(&line, &ctx) {
            Err(message) => {
                self.notify(message, true);
                // Keep the line so a typo can be fixed.
                self.popup = Some(Popup::CommandLine(LineInput {
                    text: line,
                    ..input
                }));
            }
            Ok(Parsed::Goto(index)) => self.goto(Pane::ALL[index]),
            Ok(Parsed::Help) => self.popup = Some(Popup::Help { scroll: 0 }),
            Ok(Parsed::Freeze) => self.toggle_freeze(data),
            Ok(Parsed::Theme(name)) => match Theme::named(&name) {
                Some(_) if !self.theme.color => {
                    self.notify("NO_COLOR is set: staying monochrome", false)
                }
                Some(theme) => self.set_theme(theme),
                None => self.notify(format!("unknown theme '{name}' (dark, light)"), true),
            },
            Ok(Parsed::Command(command)) => {
                self.status = status;
                self.submit(command, data, out);
            }
        }
    }

    // ----- rules editor -----

    pub(crate) fn visible_rules(&self) -> Vec<&RuleRow> {
        let filter = &self.filters[Pane::Rules.index()];
        self.rules
            .iter()
            .filter(|r| filter.matches_words(&[&r.name, &r.text]))
            .collect()
    }

    fn open_editor(&mut self, new: bool, data: &dyn DataSource) {
        if self.rules_stale {
            self.rules = data.rules();
            self.rules_stale = false;
        }
        let (name, text) = if new {
            (None, String::new())
        } else {
            match self.visible_rules().get(self.rule_selected) {
                Some(rule) => (Some(rule.name.clone()), rule.text.clone()),
                None => return self.notify("no rule selected: n makes a new one", true),
            }
        };
        let lines = self
            .drafts
            .get(&name)
            .cloned()
            .unwrap_or_else(|| text.lines().map(String::from).collect());
        let mut area = TextArea::new(lines);
        area.set_placeholder_text("write the rule here");
        let check = data.validate_rule(&area.lines().join("\n"));
        self.editor = Some(RuleEditor { name, area, check });
    }

    fn editor_key(&mut self, key: KeyEvent, data: &dyn DataSource) {
        let Some(editor) = &mut self.editor else {
            return;
        };
        if key.code == KeyCode::Esc {
            let lines = editor.area.lines().to_vec();
            let name = editor.name.clone();
            self.drafts.insert(name, lines);
            self.editor = None;
            self.notify("draft kept: Enter on the rule resumes it", false);
            return;
        }
        if self.keymap.lookup(Context::Editor, &key) == Some(Action::Save) {
            let text = editor.area.lines().join("\n");
            match data.validate_rule(&text) {
                Err(error) => {
                    let (row, col) = (error.line.saturating_sub(1), error.column.saturating_sub(1));
                    editor.area.move_cursor(CursorMove::Jump(
                        u16::try_from(row).unwrap_or(u16::MAX),
                        u16::try_from(col).unwrap_or(u16::MAX),
                    ));
                    editor.check = Err(error.clone());
                    self.notify(format!("not saved: {error}"), true);
                }
                Ok(()) => {
                    let summary = data.backtest_rule(&text);
                    let name = editor.name.clone();
                    let title = match &name {
                        Some(name) => format!("Save rule '{name}'?"),
                        None => "Save new rule?".into(),
                    };
                    let mut details = vec![format!(
                        "Backtest on {} recent messages: would flag {}",
                        text::thousands(summary.messages_checked as usize),
                        text::thousands(summary.would_flag as usize)
                    )];
                    details.push(format!(
                        "  +{} newly flagged   −{} no longer flagged",
                        summary.newly_flagged, summary.no_longer_flagged
                    ));
                    details.extend(
                        summary
                            .examples
                            .iter()
                            .take(3)
                            .map(|e| format!("  e.g. {}", text::one_line(e))),
                    );
                    self.popup = Some(Popup::Confirm(Box::new(Confirm {
                        command: Command::SaveRule { name, text },
                        title,
                        target: String::new(),
                        consequence: "The rule takes effect immediately for new messages.".into(),
                        details,
                        reason: None,
                        focus: ConfirmFocus::Cancel,
                    })));
                }
            }
            return;
        }
        if editor.area.input(key) {
            editor.check = data.validate_rule(&editor.area.lines().join("\n"));
        }
    }

    /// Lines of the focused rule text for tests.
    pub fn editor_text(&self) -> Option<String> {
        self.editor.as_ref().map(|e| e.area.lines().join("\n"))
    }
}

/// Minimal line editing for the command line and filter.
fn edit_line(text: &mut String, key: KeyEvent) {
    match key.code {
        KeyCode::Backspace => {
            text.pop();
        }
        KeyCode::Char('u') if key.modifiers.contains(KeyModifiers::CONTROL) => text.clear(),
        KeyCode::Char('w') if key.modifiers.contains(KeyModifiers::CONTROL) => {
            let trimmed = text.trim_end().len();
            text.truncate(trimmed);
            let cut = text.rfind(' ').map_or(0, |i| i + 1);
            text.truncate(cut);
        }
        KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => text.push(c),
        _ => {}
    }
}
