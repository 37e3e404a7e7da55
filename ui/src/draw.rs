//! Drawing the console: header, tabs, panes, popups, toast. Reads data through the
//! [`DataSource`] only for what is visible.

use ratatui::Frame;
use ratatui::layout::{Alignment, Constraint, Layout, Margin, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::canvas::{Canvas, Line as CanvasLine};
use ratatui::widgets::{
    Bar, BarChart, BarGroup, Block, BorderType, Borders, Cell, Clear, Paragraph, Row, Scrollbar,
    ScrollbarOrientation, ScrollbarState, Sparkline, Table, Wrap,
};

use crate::console::{Confirm, ConfirmFocus, Console, MIN_HEIGHT, MIN_WIDTH, Pane, Popup};
use crate::keymap::{Action, Context};
use crate::model::*;
use crate::paging::PagedList;
use crate::source::{DataSource, PageQuery};
use crate::text::{self, age, clock, countdown, date_time, one_line, thousands, truncate};

const SPARK: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

impl Console {
    /// Draws the whole screen and clears the dirty flag.
    pub fn render(&mut self, frame: &mut Frame, data: &dyn DataSource) {
        self.dirty = false;
        self.hits = Default::default();
        let area = frame.area();
        if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
            self.draw_too_small(frame, area);
            return;
        }
        self.status = data.status();
        self.sync_prompt();
        let [header, tabs, body, hints] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Length(if self.expanded { 0 } else { 1 }),
            Constraint::Min(1),
            Constraint::Length(1),
        ])
        .areas(area);
        // Panes first: they refresh the counts the tab bar shows.
        self.draw_pane(frame, body, data);
        self.draw_header(frame, header);
        if !self.expanded {
            self.draw_tabs(frame, tabs);
        }
        self.draw_hints(frame, hints);
        self.draw_popup(frame, body);
        self.draw_toast(frame, body);
    }

    fn draw_too_small(&self, frame: &mut Frame, area: Rect) {
        let t = &self.theme;
        let lines = vec![
            Line::styled("Terminal too small", t.bold(t.warn)),
            Line::raw(format!(
                "need {MIN_WIDTH}×{MIN_HEIGHT}, have {}×{}",
                area.width, area.height
            )),
            Line::styled("enlarge the window · q quits", t.muted()),
        ];
        let top = area.height.saturating_sub(3) / 2;
        let rect = Rect::new(area.x, area.y + top, area.width, area.height.min(3));
        frame.render_widget(
            Paragraph::new(lines)
                .alignment(Alignment::Center)
                .wrap(Wrap { trim: true }),
            rect,
        );
    }

    fn draw_header(&self, frame: &mut Frame, area: Rect) {
        let t = &self.theme;
        let s = &self.status;
        let sep = || Span::styled(" │ ", t.muted());
        let mut spans = vec![Span::styled(" ◆ WARDEN ", t.header())];
        for account in &s.accounts {
            spans.push(sep());
            let name = match account.kind {
                AccountKind::Bot => "bot",
                AccountKind::User => "user",
                AccountKind::Demo => "DEMO",
            };
            let (glyph, word, color) = match account.connection {
                Connection::Connected => ("●", "online", t.ok),
                Connection::Connecting => ("◌", "connecting", t.warn),
                Connection::Disconnected => ("○", "offline", t.error),
                Connection::NotConfigured => ("–", "not set up", t.muted),
            };
            spans.push(Span::styled(format!("{name} "), t.text()));
            // Narrow screens keep the glyph; the word needs room.
            let state = if area.width >= 100 {
                format!("{glyph} {word}")
            } else {
                glyph.to_string()
            };
            spans.push(Span::styled(state, t.fg(color)));
            if let Some(wait) = account.flood_wait {
                spans.push(Span::styled(
                    format!(" ⧖ wait {}", countdown(wait)),
                    t.bold(t.warn),
                ));
            }
        }
        spans.push(sep());
        let mode_color = match s.mode {
            Mode::Live => t.ok,
            Mode::DryRun => t.warn,
            Mode::Training => t.info,
        };
        spans.push(Span::styled(
            s.mode.word(),
            t.bold(mode_color).add_modifier(Modifier::REVERSED),
        ));
        spans.push(sep());
        spans.push(Span::styled(format!("{} chats", s.chats.len()), t.text()));
        spans.push(sep());
        let pending_style = if s.pending_actions > 0 {
            t.bold(t.warn)
        } else {
            t.muted()
        };
        spans.push(Span::styled(
            format!("{} pending", s.pending_actions),
            pending_style,
        ));
        if let Some(error) = &s.last_error {
            spans.push(sep());
            spans.push(Span::styled(
                format!("✖ {}", one_line(error)),
                t.fg(t.error),
            ));
        }
        let line = clip_line(Line::from(spans), area.width as usize);
        frame.render_widget(Paragraph::new(line), area);
    }

    fn draw_tabs(&mut self, frame: &mut Frame, area: Rect) {
        let t = &self.theme;
        let mut x = area.x;
        let mut spans = Vec::new();
        for pane in Pane::ALL {
            let count = match pane {
                Pane::Feed => Some(self.feed.total()),
                Pane::Alerts => Some(self.alerts.total()),
                Pane::Clusters => Some(self.clusters.total()),
                _ => None,
            };
            let label = match count {
                Some(n) if n > 0 && area.width >= 100 => {
                    format!(" {} {} {} ", pane.index() + 1, pane.title(), short_count(n))
                }
                _ => format!(" {} {} ", pane.index() + 1, pane.title()),
            };
            let width = text::truncate(&label, 40).chars().count() as u16;
            if x + width > area.x + area.width {
                break;
            }
            self.hits.tabs.push((Rect::new(x, area.y, width, 1), pane));
            x += width;
            let style = if pane == self.focus {
                t.selection()
            } else {
                t.text()
            };
            spans.push(Span::styled(label, style));
        }
        frame.render_widget(Paragraph::new(Line::from(spans)), area);
    }

    fn draw_hints(&self, frame: &mut Frame, area: Rect) {
        let t = &self.theme;
        let context = if self.focus == Pane::Rules && self.editor.is_some() {
            Context::Editor
        } else {
            self.focus.context()
        };
        let mut pairs: Vec<(String, &str)> = self
            .keymap
            .help_entries(context)
            .into_iter()
            .map(|(keys, words)| {
                (
                    keys.split(' ').next().unwrap_or_default().to_string(),
                    words,
                )
            })
            .collect();
        if context == Context::Editor {
            pairs.push(("Esc".into(), "close (keeps draft)"));
        }
        for action in [Action::CommandLine, Action::Filter, Action::Expand] {
            let key = self.keymap.hint(Context::Global, action);
            if !key.is_empty() {
                pairs.push((key, action.description()));
            }
        }
        let spans_of = |pairs: &[(String, &str)]| {
            let mut spans = Vec::new();
            for (key, words) in pairs {
                spans.push(Span::styled(format!(" {key}"), t.key()));
                spans.push(Span::styled(format!(" {words} "), t.muted()));
            }
            Line::from(spans)
        };
        // Help and quit always stay visible at the right end.
        let fixed: Vec<(String, &str)> = [Action::Help, Action::Quit]
            .into_iter()
            .map(|a| (self.keymap.hint(Context::Global, a), a.description()))
            .filter(|(k, _)| !k.is_empty())
            .collect();
        let right = spans_of(&fixed);
        let right_width = right.width() as u16;
        let [left_area, right_area] =
            Layout::horizontal([Constraint::Fill(1), Constraint::Length(right_width)]).areas(area);
        frame.render_widget(
            Paragraph::new(clip_line(spans_of(&pairs), left_area.width as usize)),
            left_area,
        );
        frame.render_widget(Paragraph::new(right), right_area);
    }

    fn block<'a>(&self, title: Vec<Span<'a>>, focused: bool) -> Block<'a> {
        let t = &self.theme;
        Block::default()
            .borders(Borders::ALL)
            .border_type(BorderType::Rounded)
            .border_style(t.border(focused))
            .title(Line::from(title))
    }

    /// " Feed " + filter, for pane titles.
    fn title<'a>(&self, pane: Pane, extra: Vec<Span<'a>>) -> Vec<Span<'a>> {
        let t = &self.theme;
        let mut spans = vec![Span::styled(format!(" {} ", pane.title()), t.bold(t.title))];
        spans.extend(extra);
        let filter = &self.filters[pane.index()];
        if !filter.is_empty() {
            spans.push(Span::styled(
                format!(" /{} ", one_line(&filter.raw)),
                t.bold(t.accent),
            ));
        }
        spans
    }

    fn draw_pane(&mut self, frame: &mut Frame, area: Rect, data: &dyn DataSource) {
        self.hits.pane = Some(area);
        match self.focus {
            Pane::Feed => self.draw_feed(frame, area, data),
            Pane::Alerts => self.draw_alerts(frame, area, data),
            Pane::Clusters => self.draw_clusters(frame, area, data),
            Pane::Investigator => self.draw_investigator(frame, area, data),
            Pane::Rules => self.draw_rules(frame, area, data),
            Pane::History => self.draw_history(frame, area, data),
            Pane::Stats => self.draw_stats(frame, area, data),
        }
    }

    /// Splits off a detail panel: right when wide, below when tall enough, none when expanded.
    fn split_detail(&self, area: Rect, below_height: u16) -> (Rect, Option<Rect>) {
        if self.expanded {
            return (area, None);
        }
        if area.width >= 110 {
            let [main, detail] =
                Layout::horizontal([Constraint::Percentage(64), Constraint::Percentage(36)])
                    .areas(area);
            (main, Some(detail))
        } else if area.height >= 18 {
            let [main, detail] =
                Layout::vertical([Constraint::Min(6), Constraint::Length(below_height)])
                    .areas(area);
            (main, Some(detail))
        } else {
            (area, None)
        }
    }

    /// Table with the selected row highlighted and a scrollbar; returns nothing, records hits.
    fn draw_table<T>(
        &mut self,
        frame: &mut Frame,
        area: Rect,
        block: Block,
        spec: TableSpec,
        list: &PagedList<T>,
        cells: impl Fn(&T) -> Vec<Cell<'static>>,
    ) {
        let TableSpec {
            header,
            widths,
            empty,
        } = spec;
        let t = self.theme.clone();
        let inner = block.inner(area);
        frame.render_widget(block, area);
        if list.total() == 0 {
            let text = Paragraph::new(Line::styled(empty.to_string(), t.muted()))
                .alignment(Alignment::Center);
            frame.render_widget(text, inner.inner(Margin::new(1, 1)));
            return;
        }
        let mut marker_widths = vec![Constraint::Length(1)];
        marker_widths.extend_from_slice(widths);
        let header_cells: Vec<Cell> = std::iter::once(Cell::from(""))
            .chain(header.iter().map(|h| Cell::from(h.to_string())))
            .collect();
        let rows: Vec<Row> = list
            .visible()
            .map(|(index, row)| {
                let selected = index == list.selected();
                let mut all = vec![Cell::from(if selected { "▌" } else { " " })];
                all.extend(cells(row));
                let row = Row::new(all);
                if selected {
                    row.style(t.selection())
                } else {
                    row
                }
            })
            .collect();
        let table = Table::new(rows, marker_widths)
            .header(
                Row::new(header_cells).style(t.bold(t.muted).add_modifier(Modifier::UNDERLINED)),
            )
            .column_spacing(1);
        frame.render_widget(table, inner);
        if list.total() > list.height() {
            let mut state = ScrollbarState::new(list.total().saturating_sub(list.height()))
                .position(list.scroll());
            frame.render_stateful_widget(
                Scrollbar::new(ScrollbarOrientation::VerticalRight)
                    .begin_symbol(None)
                    .end_symbol(None),
                area.inner(Margin::new(0, 1)),
                &mut state,
            );
        }
        let rows_area = Rect::new(
            inner.x,
            inner.y + 1,
            inner.width,
            inner.height.saturating_sub(1),
        );
        self.hits.list = Some((rows_area, list.scroll()));
    }

    fn list_height(area: Rect) -> usize {
        // Borders and the header row.
        area.height.saturating_sub(3).max(1) as usize
    }

    // ----- Feed -----

    fn draw_feed(&mut self, frame: &mut Frame, area: Rect, data: &dyn DataSource) {
        let (main, detail) = self.split_detail(area, 8);
        let filter = self.filters[Pane::Feed.index()].clone();
        let until = self.frozen_at;
        self.feed.ensure(Self::list_height(main), |offset, limit| {
            data.feed(&PageQuery {
                offset,
                limit,
                filter: filter.clone(),
                until,
            })
        });
        let t = self.theme.clone();
        let mut extra = vec![Span::styled(
            format!("{} ", thousands(self.feed.total())),
            t.muted(),
        )];
        match self.frozen_at {
            Some(_) => {
                let now_total = data
                    .feed(&PageQuery {
                        offset: 0,
                        limit: 0,
                        filter: filter.clone(),
                        until: None,
                    })
                    .total;
                let new = now_total.saturating_sub(self.feed.total());
                extra.push(Span::styled(
                    format!("❚❚ FROZEN +{new} new "),
                    t.bold(t.warn).add_modifier(Modifier::REVERSED),
                ));
            }
            None => extra.push(Span::styled("● live ", t.fg(t.ok))),
        }
        let block = self.block(self.title(Pane::Feed, extra), true);
        let wide = main.width >= 80;
        let (header, widths): (&[&str], Vec<Constraint>) = if wide {
            (
                &["Time", "Chat", "User", "Verdict", "Action", "Reasons"],
                vec![
                    Constraint::Length(8),
                    Constraint::Length(12),
                    Constraint::Length(14),
                    Constraint::Length(10),
                    Constraint::Length(11),
                    Constraint::Fill(1),
                ],
            )
        } else {
            (
                &["Time", "User", "Verdict", "Action", "Reasons"],
                vec![
                    Constraint::Length(8),
                    Constraint::Length(14),
                    Constraint::Length(10),
                    Constraint::Length(11),
                    Constraint::Fill(1),
                ],
            )
        };
        let theme = t.clone();
        let list = std::mem::take(&mut self.feed);
        self.draw_table(
            frame,
            main,
            block,
            TableSpec {
                header,
                widths: &widths,
                empty: if self.filters[0].is_empty() {
                    "No flagged messages yet: all quiet."
                } else {
                    "Nothing matches the filter (Esc clears it)."
                },
            },
            &list,
            |row| {
                let mut cells = vec![Cell::from(clock(row.time))];
                if wide {
                    cells.push(Cell::from(one_line(&row.chat_title)));
                }
                cells.push(Cell::from(user_label(row)));
                cells.push(verdict_cell(&theme, row.verdict, row.score, row.label));
                cells.push(Cell::from(one_line(&row.action)));
                cells.push(Cell::from(one_line(&row.reasons.join(", "))).style(theme.muted()));
                cells
            },
        );
        self.feed = list;
        if let Some(detail) = detail {
            self.draw_feed_detail(frame, detail);
        }
    }

    fn draw_feed_detail(&self, frame: &mut Frame, area: Rect) {
        let t = &self.theme;
        let block = self.block(vec![Span::styled(" Message ", t.bold(t.title))], false);
        let Some(row) = self.feed.selected_row() else {
            frame.render_widget(block, area);
            return;
        };
        let mut lines = vec![Line::from(vec![
            Span::styled(user_label(row), t.bold(t.accent)),
            Span::styled(format!("  id {}  ", row.user_id), t.muted()),
            Span::styled(one_line(&row.chat_title), t.text()),
            Span::styled(format!("  {}", date_time(row.time)), t.muted()),
        ])];
        lines.push(Line::from(vec![
            verdict_span(t, row.verdict),
            Span::styled(format!(" score {:.0}%", row.score * 100.0), t.text()),
            Span::styled(
                match row.label {
                    Some(Label::Spam) => "  labelled spam".to_string(),
                    Some(Label::Ham) => "  labelled ham".to_string(),
                    None => String::new(),
                },
                t.bold(t.info),
            ),
        ]));
        if !row.reasons.is_empty() {
            lines.push(Line::from(vec![
                Span::styled("why: ", t.muted()),
                Span::styled(one_line(&row.reasons.join(" · ")), t.fg(t.warn)),
            ]));
        }
        lines.push(Line::raw(""));
        for text_line in text::multi_line(&row.text).lines().take(40) {
            lines.push(Line::styled(text_line.to_string(), t.text()));
        }
        frame.render_widget(
            Paragraph::new(lines)
                .block(block)
                .wrap(Wrap { trim: false }),
            area,
        );
    }

    // ----- Alerts -----

    fn draw_alerts(&mut self, frame: &mut Frame, area: Rect, data: &dyn DataSource) {
        let (main, detail) = self.split_detail(area, 7);
        let filter = self.filters[Pane::Alerts.index()].clone();
        self.alerts
            .ensure(Self::list_height(main), |offset, limit| {
                data.alerts(&PageQuery {
                    offset,
                    limit,
                    filter: filter.clone(),
                    until: None,
                })
            });
        let t = self.theme.clone();
        let block = self.block(
            self.title(
                Pane::Alerts,
                vec![Span::styled(
                    format!("{} ", thousands(self.alerts.total())),
                    t.muted(),
                )],
            ),
            true,
        );
        let theme = t.clone();
        let list = std::mem::take(&mut self.alerts);
        self.draw_table(
            frame,
            main,
            block,
            TableSpec {
                header: &["Time", "Kind", "Chat", "What", "In"],
                widths: &[
                    Constraint::Length(8),
                    Constraint::Length(13),
                    Constraint::Length(14),
                    Constraint::Fill(1),
                    Constraint::Length(6),
                ],
                empty: "No alerts: no raids, failures or flood-waits.",
            },
            &list,
            |row| {
                let (glyph, word, color) = alert_kind(&theme, &row.kind);
                vec![
                    Cell::from(clock(row.time)),
                    Cell::from(format!("{glyph} {word}")).style(theme.bold(color)),
                    Cell::from(one_line(&row.chat_title)),
                    Cell::from(one_line(&row.summary)),
                    Cell::from(row.countdown.map(countdown).unwrap_or_default())
                        .style(theme.bold(theme.warn)),
                ]
            },
        );
        self.alerts = list;
        if let Some(detail) = detail {
            self.draw_alert_detail(frame, detail);
        }
    }

    fn draw_alert_detail(&self, frame: &mut Frame, area: Rect) {
        let t = &self.theme;
        let Some(row) = self.alerts.selected_row() else {
            frame.render_widget(
                self.block(vec![Span::styled(" Alert ", t.bold(t.title))], false),
                area,
            );
            return;
        };
        let key = |action| self.keymap.hint(Context::Alerts, action);
        let (glyph, word, color) = alert_kind(t, &row.kind);
        let title = vec![Span::styled(format!(" {glyph} {word} "), t.bold(color))];
        let block = self.block(title, false);
        let inner = block.inner(area);
        frame.render_widget(block, area);
        let mut lines = vec![Line::from(vec![
            Span::styled(one_line(&row.chat_title), t.bold(t.fg)),
            Span::styled(format!("  {}", date_time(row.time)), t.muted()),
        ])];
        lines.push(Line::styled(one_line(&row.summary), t.text()));
        let hint = |k: String, words: &str| {
            vec![
                Span::styled(k, t.key()),
                Span::styled(format!(" {words}  "), t.muted()),
            ]
        };
        match &row.kind {
            AlertKind::Raid { join_rate, state } => {
                let mut spans = vec![Span::styled(
                    format!("state: {}", state.word()),
                    t.bold(t.warn),
                )];
                if let Some(left) = row.countdown {
                    spans.push(Span::styled(
                        format!("  auto-release in {}", countdown(left)),
                        t.text(),
                    ));
                }
                lines.push(Line::from(spans));
                let mut keys = hint(key(Action::Release), "release now");
                keys.extend(hint(key(Action::Dismiss), "dismiss"));
                lines.push(Line::from(keys));
                let text_height = lines.len() as u16;
                frame.render_widget(Paragraph::new(lines), inner);
                if inner.height > text_height + 1 {
                    let spark_area = Rect::new(
                        inner.x,
                        inner.y + text_height,
                        inner.width,
                        inner.height - text_height,
                    );
                    let max = join_rate.iter().copied().max().unwrap_or(0);
                    let spark = Sparkline::default()
                        .block(
                            Block::default()
                                .title(Line::styled(format!("joins/min (peak {max})"), t.muted())),
                        )
                        .data(tail(join_rate, spark_area.width as usize))
                        .style(t.fg(t.chart));
                    frame.render_widget(spark, spark_area);
                }
                return;
            }
            AlertKind::AdminBan { admin } => {
                lines.push(Line::styled(
                    format!(
                        "banned by {}: add their messages to the dataset?",
                        one_line(admin)
                    ),
                    t.text(),
                ));
                let mut keys = hint(key(Action::Accept), "add to dataset");
                keys.extend(hint(key(Action::Dismiss), "dismiss"));
                lines.push(Line::from(keys));
            }
            AlertKind::LowConfidenceHam { score_pct } => {
                lines.push(Line::styled(
                    format!("let through at {score_pct}% risk"),
                    t.text(),
                ));
                let mut keys = hint(key(Action::OpenUser), "look at the user");
                keys.extend(hint(key(Action::Ban), "ban"));
                lines.push(Line::from(keys));
            }
            AlertKind::FailedAction { action, error } => {
                lines.push(Line::styled(
                    format!("{} failed: {}", one_line(action), one_line(error)),
                    t.fg(t.error),
                ));
                let mut keys = hint(key(Action::Retry), "retry");
                keys.extend(hint(key(Action::Dismiss), "dismiss"));
                lines.push(Line::from(keys));
            }
            AlertKind::FloodWait { account } => {
                lines.push(Line::styled(
                    format!(
                        "{} must wait {} before the next request",
                        one_line(account),
                        row.countdown.map(countdown).unwrap_or_default()
                    ),
                    t.fg(t.warn),
                ));
            }
            AlertKind::Other => {}
        }
        frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
    }

    // ----- Clusters -----

    fn draw_clusters(&mut self, frame: &mut Frame, area: Rect, data: &dyn DataSource) {
        let wide = area.width >= 100;
        let (list_area, graph_area) = if wide {
            let [a, b] =
                Layout::horizontal([Constraint::Percentage(38), Constraint::Percentage(62)])
                    .areas(area);
            (a, b)
        } else {
            let list_height = (area.height / 3).max(6);
            let [a, b] =
                Layout::vertical([Constraint::Length(list_height), Constraint::Min(3)]).areas(area);
            (a, b)
        };
        let filter = self.filters[Pane::Clusters.index()].clone();
        self.clusters
            .ensure(Self::list_height(list_area), |offset, limit| {
                data.clusters(&PageQuery {
                    offset,
                    limit,
                    filter: filter.clone(),
                    until: None,
                })
            });
        let wanted = self
            .cluster_pinned
            .or(self.clusters.selected_row().map(|c| c.id));
        if self.cluster_stale || self.cluster_view.as_ref().map(|c| c.id) != wanted {
            self.cluster_view = wanted.and_then(|id| data.cluster(id));
            self.cluster_stale = false;
            let members = self.cluster_view.as_ref().map_or(0, |c| c.members.len());
            self.node_cursor = self.node_cursor.min(members.saturating_sub(1));
        }
        let t = self.theme.clone();
        let block = self.block(
            self.title(
                Pane::Clusters,
                vec![Span::styled(
                    format!("{} ", thousands(self.clusters.total())),
                    t.muted(),
                )],
            ),
            true,
        );
        let theme = t.clone();
        let list = std::mem::take(&mut self.clusters);
        self.draw_table(
            frame,
            list_area,
            block,
            TableSpec {
                header: &["Score", "Size", "✖", "▲", "Signals"],
                widths: &[
                    Constraint::Length(5),
                    Constraint::Length(4),
                    Constraint::Length(3),
                    Constraint::Length(3),
                    Constraint::Fill(1),
                ],
                empty: "No clusters: no linked accounts found.",
            },
            &list,
            |row| {
                vec![
                    Cell::from(format!("{:>4.0}%", row.score * 100.0))
                        .style(theme.bold(risk_color(&theme, row.score))),
                    Cell::from(format!("{:>4}", row.members)),
                    Cell::from(format!("{:>3}", row.banned)).style(theme.fg(theme.banned)),
                    Cell::from(format!("{:>3}", row.flagged)).style(theme.fg(theme.flagged)),
                    Cell::from(one_line(&row.signals.join(", "))).style(theme.muted()),
                ]
            },
        );
        self.clusters = list;
        if wide {
            self.draw_graph(frame, graph_area);
        } else {
            self.draw_adjacency(frame, graph_area);
        }
    }

    fn graph_title(&self) -> Vec<Span<'static>> {
        let t = &self.theme;
        match &self.cluster_view {
            Some(view) => vec![Span::styled(
                format!(
                    " Cluster #{} · {} accounts · {:.0}% ",
                    view.id,
                    view.members.len(),
                    view.score * 100.0
                ),
                t.bold(t.title),
            )],
            None => vec![Span::styled(" Cluster ", t.bold(t.title))],
        }
    }

    fn edge_color(&self, kind: &str, kinds: &[String]) -> Color {
        let t = &self.theme;
        let palette = [t.info, t.chart, t.accent, t.ok, t.warn, t.fg];
        let index = kinds.iter().position(|k| k == kind).unwrap_or(0);
        palette[index % palette.len()]
    }

    fn draw_graph(&self, frame: &mut Frame, area: Rect) {
        let t = &self.theme;
        let block = self.block(self.graph_title(), false);
        let inner = block.inner(area);
        frame.render_widget(block, area);
        let Some(view) = &self.cluster_view else {
            frame.render_widget(
                Paragraph::new(Line::styled("Select a cluster.", t.muted()))
                    .alignment(Alignment::Center),
                inner,
            );
            return;
        };
        let mut kinds: Vec<String> = view.edges.iter().map(|e| e.kind.clone()).collect();
        kinds.sort();
        kinds.dedup();
        let [canvas_area, legend_area, info_area] = Layout::vertical([
            Constraint::Min(3),
            Constraint::Length(1),
            Constraint::Length(2),
        ])
        .areas(inner);
        let cursor = self.node_cursor;
        let marker = if self.ascii {
            Marker::Dot
        } else {
            Marker::Braille
        };
        let canvas = Canvas::default()
            .marker(marker)
            .x_bounds([-0.05, 1.05])
            .y_bounds([-0.1, 1.1])
            .paint(|ctx| {
                for edge in &view.edges {
                    let (Some(a), Some(b)) = (view.members.get(edge.a), view.members.get(edge.b))
                    else {
                        continue;
                    };
                    ctx.draw(&CanvasLine {
                        x1: a.x,
                        y1: 1.0 - a.y,
                        x2: b.x,
                        y2: 1.0 - b.y,
                        color: self.edge_color(&edge.kind, &kinds),
                    });
                }
                ctx.layer();
                let label_all = view.members.len() <= 12;
                for (i, member) in view.members.iter().enumerate() {
                    let glyph = if self.ascii {
                        member.state.ascii()
                    } else {
                        member.state.glyph()
                    };
                    let color = state_color(t, member.state);
                    let (x, y) = (member.x, 1.0 - member.y);
                    if i == cursor {
                        ctx.print(
                            x,
                            y,
                            Span::styled(
                                format!("[{glyph}]{}", truncate(&one_line(&member.name), 14)),
                                t.selection(),
                            ),
                        );
                    } else if label_all {
                        ctx.print(
                            x,
                            y,
                            Line::from(vec![
                                Span::styled(glyph.to_string(), t.bold(color)),
                                Span::styled(truncate(&one_line(&member.name), 10), t.muted()),
                            ]),
                        );
                    } else {
                        ctx.print(x, y, Span::styled(glyph.to_string(), t.bold(color)));
                    }
                }
            });
        frame.render_widget(canvas, canvas_area);
        let mut legend = Vec::new();
        for kind in &kinds {
            legend.push(Span::styled("━ ", t.fg(self.edge_color(kind, &kinds))));
            legend.push(Span::styled(format!("{kind}  "), t.text()));
        }
        for state in [
            MemberState::Clean,
            MemberState::Flagged,
            MemberState::Banned,
        ] {
            legend.push(Span::styled(
                format!("{} ", state.glyph()),
                t.bold(state_color(t, state)),
            ));
            legend.push(Span::styled(format!("{}  ", state.word()), t.muted()));
        }
        frame.render_widget(
            Paragraph::new(clip_line(Line::from(legend), legend_area.width as usize)),
            legend_area,
        );
        frame.render_widget(
            Paragraph::new(self.node_info(view)).wrap(Wrap { trim: true }),
            info_area,
        );
    }

    /// "▶ @bob ▲ flagged — invite: @a, @c" for the node under the cursor.
    fn node_info(&self, view: &ClusterView) -> Vec<Line<'static>> {
        let t = &self.theme;
        let Some(member) = view.members.get(self.node_cursor) else {
            return Vec::new();
        };
        let mut spans = vec![
            Span::styled("▶ ", t.key()),
            Span::styled(one_line(&member.name), t.bold(t.fg)),
            Span::styled(
                format!(" {} {}", member.state.glyph(), member.state.word()),
                t.bold(state_color(t, member.state)),
            ),
            Span::styled(format!(" · id {}", member.user_id), t.muted()),
        ];
        let links = neighbours(view, self.node_cursor);
        if !links.is_empty() {
            spans.push(Span::styled(format!(" — {links}"), t.text()));
        }
        vec![Line::from(spans)]
    }

    fn draw_adjacency(&self, frame: &mut Frame, area: Rect) {
        let t = &self.theme;
        let block = self.block(self.graph_title(), false);
        let Some(view) = &self.cluster_view else {
            frame.render_widget(
                Paragraph::new(Line::styled("Select a cluster.", t.muted())).block(block),
                area,
            );
            return;
        };
        let height = block.inner(area).height as usize;
        let first = self.node_cursor.saturating_sub(height.saturating_sub(1));
        let lines: Vec<Line> = view
            .members
            .iter()
            .enumerate()
            .skip(first)
            .take(height)
            .map(|(i, member)| {
                let selected = i == self.node_cursor;
                let glyph = if self.ascii {
                    member.state.ascii()
                } else {
                    member.state.glyph()
                };
                let mut spans = vec![
                    Span::styled(if selected { "▶ " } else { "  " }, t.key()),
                    Span::styled(format!("{glyph} "), t.bold(state_color(t, member.state))),
                    Span::styled(
                        format!("{:<16}", truncate(&one_line(&member.name), 16)),
                        t.text(),
                    ),
                    Span::styled(format!("{:<8}", member.state.word()), t.muted()),
                    Span::styled(neighbours(view, i), t.text()),
                ];
                if selected {
                    spans = spans
                        .into_iter()
                        .map(|s| s.patch_style(t.selection()))
                        .collect();
                }
                Line::from(spans)
            })
            .collect();
        frame.render_widget(Paragraph::new(lines).block(block), area);
    }

    // ----- Investigator -----

    fn draw_investigator(&mut self, frame: &mut Frame, area: Rect, data: &dyn DataSource) {
        let t = self.theme.clone();
        if self.user_stale {
            self.user_view = self.user.and_then(|id| data.user(id));
            self.user_stale = false;
        }
        let Some(user) = self.user_view.clone() else {
            let block = self.block(self.title(Pane::Investigator, vec![]), true);
            let message = match self.user {
                Some(id) => format!("No record of user {id}."),
                None => "No user open. Press Enter on a Feed, Alerts or Clusters row, or type :user <id>.".into(),
            };
            frame.render_widget(
                Paragraph::new(Line::styled(message, t.muted()))
                    .block(block)
                    .alignment(Alignment::Center)
                    .wrap(Wrap { trim: true }),
                area,
            );
            return;
        };
        let now = self.status.now;
        let heading = |text: &str| Line::styled(text.to_string(), t.bold(t.accent));
        let mut left = vec![Line::from(vec![
            Span::styled(one_line(&user.name), t.bold(t.fg)),
            Span::styled(
                user.username
                    .as_deref()
                    .map(|u| format!("  @{}", one_line(u)))
                    .unwrap_or_default(),
                t.fg(t.accent),
            ),
        ])];
        left.push(Line::from(vec![
            Span::styled("id ", t.muted()),
            Span::styled(user.user_id.to_string(), t.text()),
            Span::styled("  account age ≈ ", t.muted()),
            Span::styled(
                user.est_account_age_days.map_or("unknown".into(), |d| {
                    if d >= 365 {
                        format!("{:.1}y", f64::from(d) / 365.0)
                    } else {
                        format!("{d}d")
                    }
                }),
                t.text(),
            ),
        ]));
        left.push(Line::from(vec![
            Span::styled("risk ", t.muted()),
            Span::styled(
                format!("{:.0}% ", user.score * 100.0),
                t.bold(risk_color(&t, user.score)),
            ),
            Span::styled(spark_text(&user.score_history, 24), t.fg(t.chart)),
            Span::styled(if user.trusted { "  ✔ trusted" } else { "" }, t.bold(t.ok)),
        ]));
        let listed = match (user.whitelisted, user.blacklisted) {
            (true, _) => Some(("whitelisted", t.ok)),
            (_, true) => Some(("blacklisted", t.banned)),
            _ => None,
        };
        if listed.is_some() || !user.tags.is_empty() {
            let mut spans = Vec::new();
            if let Some((word, color)) = listed {
                spans.push(Span::styled(format!("{word}  "), t.bold(color)));
            }
            for tag in &user.tags {
                spans.push(Span::styled(format!("#{} ", one_line(tag)), t.fg(t.accent)));
            }
            left.push(Line::from(spans));
        }
        if let Some(note) = &user.note {
            left.push(Line::from(vec![
                Span::styled("note ", t.muted()),
                Span::styled(one_line(note), t.text()),
            ]));
        }
        if let Some(cluster) = user.cluster {
            let key = self.keymap.hint(Context::Investigator, Action::OpenCluster);
            left.push(Line::from(vec![
                Span::styled("cluster ", t.muted()),
                Span::styled(format!("#{cluster} "), t.bold(t.warn)),
                Span::styled(format!("({key} opens)"), t.muted()),
            ]));
        }
        left.push(Line::raw(""));
        left.push(heading("Chats"));
        for chat in &user.chats {
            left.push(Line::from(vec![
                Span::styled(
                    format!(" {:<18}", truncate(&one_line(&chat.chat_title), 18)),
                    t.text(),
                ),
                Span::styled(
                    format!(
                        " first {} ago  last {} ago  {} msgs",
                        age(now, chat.first_seen),
                        age(now, chat.last_seen),
                        chat.messages
                    ),
                    t.muted(),
                ),
            ]));
            if let Some(at) = chat.joined {
                let how = chat
                    .how_joined
                    .as_deref()
                    .map(|how| format!(", {how}"))
                    .unwrap_or_default();
                left.push(Line::styled(
                    format!("   joined {} ago{how}", age(now, at)),
                    t.muted(),
                ));
            }
        }
        left.push(Line::raw(""));
        left.push(heading("User account"));
        match &user.userbot {
            None => left.push(Line::styled(" needs user account (log in the user account to see bio, common chats, messages elsewhere)", t.fg(t.warn))),
            Some(extra) => {
                left.push(Line::from(vec![
                    Span::styled(" bio ", t.muted()),
                    Span::styled(extra.bio.as_deref().map(one_line).unwrap_or_else(|| "—".into()), t.text()),
                ]));
                left.push(Line::from(vec![
                    Span::styled(" common chats ", t.muted()),
                    Span::styled(if extra.common_chats.is_empty() { "—".into() } else { one_line(&extra.common_chats.join(", ")) }, t.text()),
                ]));
                for line in extra.elsewhere.iter().take(5) {
                    left.push(Line::styled(format!(" elsewhere: {}", one_line(line)), t.text()));
                }
            }
        }
        let mut right = vec![heading(&format!(
            "Strikes ({})",
            user.strikes.iter().filter(|s| !s.forgiven).count()
        ))];
        if user.strikes.is_empty() {
            right.push(Line::styled(" none", t.muted()));
        }
        for strike in &user.strikes {
            let expiry = match (strike.forgiven, strike.expires) {
                (true, _) => "forgiven".to_string(),
                (false, Some(at)) if at > now => format!("expires in {}", age(at, now)),
                (false, Some(_)) => "expired".to_string(),
                (false, None) => "permanent".to_string(),
            };
            let style = if strike.forgiven {
                t.muted().add_modifier(Modifier::CROSSED_OUT)
            } else {
                t.text()
            };
            right.push(Line::from(vec![
                Span::styled(format!(" {} ago ", age(now, strike.when)), t.muted()),
                Span::styled(one_line(&strike.reason), style),
                Span::styled(
                    format!("  {} · {expiry}", one_line(&strike.source)),
                    t.muted(),
                ),
            ]));
        }
        right.push(heading(&format!("Bans ({})", user.bans.len())));
        for ban in &user.bans {
            let until = ban
                .until
                .map_or("permanent".into(), |u| format!("until {}", date_time(u)));
            right.push(Line::from(vec![
                Span::styled(" ✖ ", t.bold(t.banned)),
                Span::styled(one_line(&ban.chat_title), t.text()),
                Span::styled(
                    format!(
                        " {until} by {} — {}",
                        one_line(&ban.by),
                        one_line(&ban.reason)
                    ),
                    t.muted(),
                ),
            ]));
        }
        if !user.labels.is_empty() {
            right.push(Line::from(vec![
                Span::styled("Labels ", t.bold(t.accent)),
                Span::styled(one_line(&user.labels.join(", ")), t.text()),
            ]));
        }
        right.push(heading("Recent messages"));
        for message in user.recent.iter().take(20) {
            right.push(Line::from(vec![
                Span::styled(format!(" {} ", clock(message.time)), t.muted()),
                verdict_span(&t, message.verdict),
                Span::styled(format!(" {}", one_line(&message.chat_title)), t.muted()),
            ]));
            right.push(Line::styled(
                format!("   {}", one_line(&message.text)),
                t.text(),
            ));
            if !message.hits.is_empty() {
                right.push(Line::styled(
                    format!("   hits: {}", one_line(&message.hits.join(", "))),
                    t.fg(t.warn),
                ));
            }
        }
        let block = self.block(
            self.title(
                Pane::Investigator,
                vec![Span::styled(
                    format!("{} ", one_line(&user.name)),
                    t.muted(),
                )],
            ),
            true,
        );
        let inner = block.inner(area);
        frame.render_widget(block, area);
        let scroll = (self.user_scroll, 0);
        if inner.width >= 100 {
            let [l, r] =
                Layout::horizontal([Constraint::Percentage(48), Constraint::Percentage(52)])
                    .spacing(1)
                    .areas(inner);
            frame.render_widget(
                Paragraph::new(left)
                    .wrap(Wrap { trim: false })
                    .scroll(scroll),
                l,
            );
            frame.render_widget(
                Paragraph::new(right)
                    .wrap(Wrap { trim: false })
                    .scroll(scroll),
                r,
            );
        } else {
            left.push(Line::raw(""));
            left.extend(right);
            frame.render_widget(
                Paragraph::new(left)
                    .wrap(Wrap { trim: false })
                    .scroll(scroll),
                inner,
            );
        }
    }

    // ----- Rules -----

    fn draw_rules(&mut self, frame: &mut Frame, area: Rect, data: &dyn DataSource) {
        if self.rules_stale {
            self.rules = data.rules();
            self.rules_stale = false;
        }
        let t = self.theme.clone();
        let wide = area.width >= 100;
        let (list_area, text_area) = if wide {
            let [a, b] =
                Layout::horizontal([Constraint::Percentage(40), Constraint::Percentage(60)])
                    .areas(area);
            (a, b)
        } else if self.editor.is_some() {
            let [a, b] = Layout::vertical([Constraint::Length(0), Constraint::Min(3)]).areas(area);
            (a, b)
        } else {
            let [a, b] = Layout::vertical([Constraint::Percentage(50), Constraint::Percentage(50)])
                .areas(area);
            (a, b)
        };
        let rules: Vec<RuleRow> = self.visible_rules().into_iter().cloned().collect();
        self.rule_selected = self.rule_selected.min(rules.len().saturating_sub(1));
        if list_area.height > 0 {
            let block = self.block(
                self.title(
                    Pane::Rules,
                    vec![Span::styled(format!("{} ", rules.len()), t.muted())],
                ),
                self.editor.is_none(),
            );
            let inner = block.inner(list_area);
            frame.render_widget(block, list_area);
            let height = inner.height.saturating_sub(1) as usize;
            let first = self.rule_selected.saturating_sub(height.saturating_sub(1));
            let rows: Vec<Row> = rules
                .iter()
                .enumerate()
                .skip(first)
                .take(height)
                .map(|(i, rule)| {
                    let (glyph, word, color) = match (rule.enabled, rule.shadow) {
                        (false, _) => ("○", "off", t.muted),
                        (true, true) => ("◐", "shadow", t.info),
                        (true, false) => ("●", "on", t.ok),
                    };
                    let selected = i == self.rule_selected;
                    let row = Row::new(vec![
                        Cell::from(if selected { "▌" } else { " " }),
                        Cell::from(format!("{:>4}", rule.priority)),
                        Cell::from(one_line(&rule.name)),
                        Cell::from(format!("{glyph} {word}")).style(t.fg(color)),
                        Cell::from(format!("{:>7}", thousands(rule.hits as usize))),
                    ]);
                    if selected {
                        row.style(t.selection())
                    } else {
                        row
                    }
                })
                .collect();
            let table = Table::new(
                rows,
                [
                    Constraint::Length(1),
                    Constraint::Length(4),
                    Constraint::Fill(1),
                    Constraint::Length(8),
                    Constraint::Length(7),
                ],
            )
            .header(
                Row::new(vec!["", "Prio", "Name", "State", "   Hits"])
                    .style(t.bold(t.muted).add_modifier(Modifier::UNDERLINED)),
            );
            frame.render_widget(table, inner);
            self.hits.list = Some((
                Rect::new(
                    inner.x,
                    inner.y + 1,
                    inner.width,
                    inner.height.saturating_sub(1),
                ),
                first,
            ));
        }
        if let Some(editor) = &mut self.editor {
            let name = editor.name.clone().unwrap_or_else(|| "new rule".into());
            let title = Line::from(vec![Span::styled(
                format!(" Editing {} ", one_line(&name)),
                t.bold(t.title),
            )]);
            let (status_line, status_style) = match &editor.check {
                Ok(()) => ("✔ valid".to_string(), t.bold(t.ok)),
                Err(error) => (format!("✖ {error}"), t.bold(t.error)),
            };
            let block = Block::default()
                .borders(Borders::ALL)
                .border_type(BorderType::Double)
                .border_style(t.border(true))
                .title(title)
                .title_bottom(Line::styled(format!(" {status_line} "), status_style));
            editor.area.set_block(block);
            editor.area.set_line_number_style(t.muted());
            editor.area.set_cursor_line_style(Style::default());
            editor
                .area
                .set_cursor_style(Style::default().add_modifier(Modifier::REVERSED));
            frame.render_widget(&editor.area, text_area);
        } else {
            let rule = rules.get(self.rule_selected);
            let block = self.block(
                vec![Span::styled(
                    format!(" {} ", rule.map_or("Rule".into(), |r| one_line(&r.name))),
                    t.bold(t.title),
                )],
                false,
            );
            let lines: Vec<Line> = rule
                .map(|r| {
                    r.text
                        .lines()
                        .enumerate()
                        .map(|(i, l)| {
                            Line::from(vec![
                                Span::styled(format!("{:>3} ", i + 1), t.muted()),
                                Span::styled(one_line(l), t.text()),
                            ])
                        })
                        .collect()
                })
                .unwrap_or_else(|| {
                    vec![Line::styled("No rules. Press n to write one.", t.muted())]
                });
            frame.render_widget(Paragraph::new(lines).block(block), text_area);
        }
    }

    // ----- History -----

    fn draw_history(&mut self, frame: &mut Frame, area: Rect, data: &dyn DataSource) {
        let (main, detail) = self.split_detail(area, 5);
        let filter = self.filters[Pane::History.index()].clone();
        self.history
            .ensure(Self::list_height(main), |offset, limit| {
                data.history(&PageQuery {
                    offset,
                    limit,
                    filter: filter.clone(),
                    until: None,
                })
            });
        let t = self.theme.clone();
        let mut extra = vec![Span::styled(
            format!("{} ", thousands(self.history.total())),
            t.muted(),
        )];
        if self.filters[Pane::History.index()].is_empty() {
            extra.push(Span::styled("(/ chat: by: action: since:) ", t.muted()));
        }
        let block = self.block(self.title(Pane::History, extra), true);
        let theme = t.clone();
        let wide = main.width >= 100;
        let (header, widths): (&[&str], Vec<Constraint>) = if wide {
            (
                &["When", "Kind", "By", "Action", "User", "Chat", "Reason"],
                vec![
                    Constraint::Length(16),
                    Constraint::Length(6),
                    Constraint::Length(12),
                    Constraint::Length(10),
                    Constraint::Length(14),
                    Constraint::Length(14),
                    Constraint::Fill(1),
                ],
            )
        } else {
            (
                &["When", "By", "Action", "User", "Reason"],
                vec![
                    Constraint::Length(11),
                    Constraint::Length(10),
                    Constraint::Length(8),
                    Constraint::Length(12),
                    Constraint::Fill(1),
                ],
            )
        };
        let list = std::mem::take(&mut self.history);
        self.draw_table(
            frame,
            main,
            block,
            TableSpec {
                header,
                widths: &widths,
                empty: "No history yet.",
            },
            &list,
            |row| {
                let when = date_time(row.time);
                let mut cells = vec![Cell::from(if wide { when } else { when[5..].to_string() })];
                if wide {
                    cells.push(Cell::from(row.kind.word()).style(theme.muted()));
                }
                cells.push(Cell::from(one_line(&row.actor)).style(theme.fg(theme.accent)));
                cells.push(Cell::from(one_line(&row.action)).style(theme.bold(theme.fg)));
                cells.push(Cell::from(one_line(&row.user)));
                if wide {
                    cells.push(Cell::from(one_line(&row.chat_title)));
                }
                cells.push(Cell::from(one_line(&row.reason)).style(theme.muted()));
                cells
            },
        );
        self.history = list;
        if let Some(detail) = detail {
            let block = self.block(vec![Span::styled(" Entry ", t.bold(t.title))], false);
            let lines = self.history.selected_row().map(|row| {
                vec![
                    Line::from(vec![
                        Span::styled(format!("{} ", date_time(row.time)), t.muted()),
                        Span::styled(
                            format!("{} {} ", row.kind.word(), one_line(&row.action)),
                            t.bold(t.fg),
                        ),
                        Span::styled(
                            format!(
                                "{} → {} in {}",
                                one_line(&row.actor),
                                one_line(&row.user),
                                one_line(&row.chat_title)
                            ),
                            t.text(),
                        ),
                    ]),
                    Line::styled(format!("reason: {}", one_line(&row.reason)), t.text()),
                ]
            });
            frame.render_widget(
                Paragraph::new(lines.unwrap_or_default())
                    .block(block)
                    .wrap(Wrap { trim: false }),
                detail,
            );
        }
    }

    // ----- Stats -----

    fn draw_stats(&mut self, frame: &mut Frame, area: Rect, data: &dyn DataSource) {
        if self.stats.is_none() {
            self.stats = Some(data.stats());
        }
        let stats = self.stats.clone().unwrap_or_default();
        let t = self.theme.clone();
        let block = self.block(self.title(Pane::Stats, vec![]), true);
        let inner = block.inner(area);
        frame.render_widget(block, area);
        let spark_height = if inner.height >= 30 { 6 } else { 4 };
        let [top, bottom] =
            Layout::vertical([Constraint::Length(spark_height), Constraint::Min(4)]).areas(inner);
        let [msgs, flagged] =
            Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)])
                .spacing(1)
                .areas(top);
        for (area, series, name, color) in [
            (msgs, &stats.messages_per_sec, "messages/s", t.info),
            (flagged, &stats.flagged_per_sec, "flagged/s", t.warn),
        ] {
            let now = series.last().copied().unwrap_or(0);
            let peak = series.iter().copied().max().unwrap_or(0);
            let spark = Sparkline::default()
                .block(
                    Block::default()
                        .borders(Borders::BOTTOM)
                        .border_style(t.border(false))
                        .title(Line::from(vec![
                            Span::styled(format!("{name} "), t.bold(t.fg)),
                            Span::styled(format!("{now} now · peak {peak}"), t.muted()),
                        ])),
                )
                .data(tail(series, area.width as usize))
                .style(t.fg(color));
            frame.render_widget(spark, area);
        }
        let [actions, risk, signals] = Layout::horizontal([
            Constraint::Percentage(32),
            Constraint::Percentage(36),
            Constraint::Percentage(32),
        ])
        .spacing(1)
        .areas(bottom);
        frame.render_widget(
            Paragraph::new(bar_lines(
                &t,
                "Actions by kind",
                &stats.actions_by_kind,
                actions.width,
                t.accent,
            )),
            actions,
        );
        let bars: Vec<Bar> = stats
            .risk_distribution
            .iter()
            .enumerate()
            .map(|(i, (label, value))| {
                let share = i as f32 / stats.risk_distribution.len().max(1) as f32;
                Bar::default()
                    .value(*value)
                    .label(Line::raw(label.clone()))
                    .style(t.fg(risk_color(&t, share)))
                    .value_style(t.header())
            })
            .collect();
        let bar_width = (risk.width.saturating_sub(2)
            / stats.risk_distribution.len().max(1) as u16)
            .clamp(1, 6);
        let chart = BarChart::default()
            .block(Block::default().title(Line::styled("Risk distribution (%)", t.bold(t.fg))))
            .data(BarGroup::default().bars(&bars))
            .bar_width(bar_width.saturating_sub(1).max(1))
            .bar_gap(1);
        frame.render_widget(chart, risk);
        frame.render_widget(
            Paragraph::new(bar_lines(
                &t,
                "Top signals",
                &stats.top_signals,
                signals.width,
                t.chart,
            )),
            signals,
        );
    }

    // ----- popups -----

    fn draw_popup(&mut self, frame: &mut Frame, body: Rect) {
        let Some(popup) = self.popup.take() else {
            return;
        };
        match &popup {
            Popup::Help { scroll } => self.draw_help(frame, body, *scroll),
            Popup::Confirm(confirm) => self.draw_confirm(frame, body, confirm),
            Popup::CommandLine(input) => self.draw_line_input(
                frame,
                body,
                ":",
                "command",
                &input.text,
                "Tab completes · ↑↓ history · Enter runs · Esc cancels",
            ),
            Popup::Prompt(prompt, text) => {
                let shown = if prompt.secret {
                    "•".repeat(text.chars().count())
                } else {
                    text.clone()
                };
                self.draw_line_input(
                    frame,
                    body,
                    &format!("{}:", prompt.label),
                    &prompt.title,
                    &shown,
                    "Enter sends · Esc cancels",
                )
            }
            Popup::Filter(input) => self.draw_line_input(
                frame,
                body,
                "/",
                "filter",
                &input.text,
                "words, chat: by: action: user: since:YYYY-MM-DD · Enter keeps · Esc restores",
            ),
        }
        self.popup = Some(popup);
    }

    fn draw_help(&self, frame: &mut Frame, body: Rect, scroll: u16) {
        let t = &self.theme;
        let area = centered(body, 76, body.height.saturating_sub(2).max(10));
        frame.render_widget(Clear, area);
        let mut lines = Vec::new();
        let section = |title: &str, context: Context, lines: &mut Vec<Line<'static>>| {
            let entries = self.keymap.help_entries(context);
            if entries.is_empty() {
                return;
            }
            lines.push(Line::styled(title.to_string(), t.bold(t.accent)));
            for (keys, words) in entries {
                lines.push(Line::from(vec![
                    Span::styled(format!("  {keys:<16}"), t.key()),
                    Span::styled(words.to_string(), t.text()),
                ]));
            }
            lines.push(Line::raw(""));
        };
        section(
            &format!("{} pane", self.focus.title()),
            self.focus.context(),
            &mut lines,
        );
        if self.focus == Pane::Rules {
            section("Rule editor", Context::Editor, &mut lines);
        }
        section("Moving", Context::List, &mut lines);
        section("Everywhere", Context::Global, &mut lines);
        lines.push(Line::styled("Command line (:)", t.bold(t.accent)));
        for usage in [
            ":ban <id|@user> [7d|perm] [reason]",
            ":mute <id|@user> <1h> [reason]",
            ":strike / :forgive / :trust <id|@user> [reason]",
            ":tag / :untag <id|@user> <tag>   :note <id|@user> [text]",
            ":stop / :unstop <phrase>   (=phrase: the whole message)",
            ":bunker on|off [chat]    :slow [chat] <30|off>    :antispam on|off [chat]",
            ":user <id|@user>   :feed … :stats   :theme dark|light   :q",
            ":login user|bot (phone, code and 2FA password asked here)",
        ] {
            lines.push(Line::styled(format!("  {usage}"), t.text()));
        }
        lines.push(Line::raw(""));
        lines.push(Line::styled(
            "Mouse: click a tab or row to select, wheel scrolls.",
            t.muted(),
        ));
        lines.push(Line::styled(
            "Keys come from keymap.toml (yours overrides the defaults).",
            t.muted(),
        ));
        let block = Block::default()
            .borders(Borders::ALL)
            .border_type(BorderType::Rounded)
            .border_style(t.border(true))
            .title(Line::styled(" Help ", t.bold(t.title)))
            .title_bottom(Line::styled(" j/k scroll · Esc closes ", t.muted()));
        frame.render_widget(Paragraph::new(lines).block(block).scroll((scroll, 0)), area);
    }

    fn draw_confirm(&mut self, frame: &mut Frame, body: Rect, confirm: &Confirm) {
        let t = self.theme.clone();
        let width = 64.min(body.width.saturating_sub(4));
        let inner_width = width.saturating_sub(4) as usize;
        let mut lines: Vec<Line> = Vec::new();
        if !confirm.target.is_empty() {
            lines.push(Line::from(vec![
                Span::styled("Target  ", t.muted()),
                Span::styled(one_line(&confirm.target), t.bold(t.fg)),
            ]));
        }
        if !confirm.consequence.is_empty() {
            lines.push(Line::from(vec![
                Span::styled("Effect  ", t.muted()),
                Span::styled(confirm.consequence.clone(), t.text()),
            ]));
        }
        for detail in &confirm.details {
            lines.push(Line::styled(detail.clone(), t.fg(t.info)));
        }
        let text_height: u16 = lines
            .iter()
            .map(|l| (l.width().max(1)).div_ceil(inner_width.max(1)) as u16)
            .sum();
        let reason_height = if confirm.reason.is_some() { 3 } else { 0 };
        let height = (text_height + reason_height + 5).min(body.height);
        let area = centered(body, width, height);
        frame.render_widget(Clear, area);
        let destructive = !matches!(confirm.command, Command::SaveRule { .. } | Command::Quit);
        let title_color = if destructive { t.error } else { t.accent };
        let block = Block::default()
            .borders(Borders::ALL)
            .border_type(BorderType::Thick)
            .border_style(t.fg(title_color))
            .title(Line::styled(
                format!(" {} ", confirm.title),
                t.bold(title_color),
            ))
            .title_bottom(Line::styled(
                " Tab moves · Enter chooses · Esc cancels ",
                t.muted(),
            ));
        let inner = block.inner(area).inner(Margin::new(1, 0));
        frame.render_widget(block, area);
        let [text_area, reason_area, _, buttons] = Layout::vertical([
            Constraint::Length(text_height + 1),
            Constraint::Length(reason_height),
            Constraint::Min(0),
            Constraint::Length(1),
        ])
        .areas(inner);
        frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), text_area);
        if let Some(reason) = &confirm.reason {
            let mut area = reason.clone();
            let focused = confirm.focus == ConfirmFocus::Reason;
            area.set_block(
                Block::default()
                    .borders(Borders::ALL)
                    .border_style(t.border(focused))
                    .title(Line::styled(
                        " Reason ",
                        if focused { t.bold(t.accent) } else { t.muted() },
                    )),
            );
            area.set_cursor_line_style(Style::default());
            area.set_cursor_style(if focused {
                Style::default().add_modifier(Modifier::REVERSED)
            } else {
                Style::default()
            });
            area.set_placeholder_style(t.muted());
            frame.render_widget(&area, reason_area);
        }
        let button = |label: &str, focused: bool| {
            if focused {
                Span::styled(format!("▸ {label} ◂"), t.selection())
            } else {
                Span::styled(format!("  {label}  "), t.text())
            }
        };
        let cancel = button("Cancel", confirm.focus == ConfirmFocus::Cancel);
        let ok = button(
            confirm.command.verb(),
            confirm.focus == ConfirmFocus::Confirm,
        );
        let (cancel_w, ok_w) = (cancel.width() as u16, ok.width() as u16);
        let total = cancel_w + 4 + ok_w;
        let x = buttons.x + buttons.width.saturating_sub(total) / 2;
        self.hits.cancel = Some(Rect::new(x, buttons.y, cancel_w, 1));
        self.hits.confirm = Some(Rect::new(x + cancel_w + 4, buttons.y, ok_w, 1));
        let ok = if destructive && confirm.focus == ConfirmFocus::Confirm {
            ok.style(
                t.selection()
                    .bg(if t.color { t.error } else { Color::Reset }),
            )
        } else {
            ok
        };
        frame.render_widget(
            Paragraph::new(Line::from(vec![cancel, Span::raw("    "), ok]))
                .alignment(Alignment::Center),
            buttons,
        );
    }

    fn draw_line_input(
        &self,
        frame: &mut Frame,
        body: Rect,
        prompt: &str,
        name: &str,
        text: &str,
        help: &str,
    ) {
        let t = &self.theme;
        let width = body.width.saturating_sub(4).min(90);
        let area = Rect::new(body.x + (body.width - width) / 2, body.y + 1, width, 3);
        frame.render_widget(Clear, area);
        let block = Block::default()
            .borders(Borders::ALL)
            .border_type(BorderType::Rounded)
            .border_style(t.border(true))
            .title(Line::styled(format!(" {name} "), t.bold(t.title)))
            .title_bottom(Line::styled(format!(" {help} "), t.muted()));
        let visible = truncate_left(&one_line(text), width.saturating_sub(6) as usize);
        let line = Line::from(vec![
            Span::styled(format!("{prompt} "), t.key()),
            Span::styled(visible, t.text()),
            Span::styled(" ", Style::default().add_modifier(Modifier::REVERSED)),
        ]);
        frame.render_widget(Paragraph::new(line).block(block), area);
    }

    fn draw_toast(&self, frame: &mut Frame, body: Rect) {
        let Some(toast) = &self.toast else { return };
        let t = &self.theme;
        let (glyph, color) = if toast.error {
            ("✖", t.error)
        } else {
            ("✔", t.ok)
        };
        let text = format!("{glyph} {}", one_line(&toast.text));
        let max = body.width.saturating_sub(4).min(70);
        let inner_width = max.saturating_sub(2) as usize;
        let width_needed = unicode_width::UnicodeWidthStr::width(text.as_str());
        let lines = width_needed.div_ceil(inner_width.max(1)).clamp(1, 3) as u16;
        let width = (width_needed as u16 + 2).min(max);
        let area = Rect::new(
            body.x + body.width.saturating_sub(width + 2),
            body.y + body.height.saturating_sub(lines + 3),
            width,
            (lines + 2).min(body.height),
        );
        frame.render_widget(Clear, area);
        let block = Block::default()
            .borders(Borders::ALL)
            .border_type(BorderType::Rounded)
            .border_style(t.fg(color));
        frame.render_widget(
            Paragraph::new(Line::styled(text, t.bold(color)))
                .block(block)
                .wrap(Wrap { trim: true }),
            area,
        );
    }
}

use crate::Command;

/// Column headers, widths and the empty-list message of a table.
struct TableSpec<'a> {
    header: &'a [&'a str],
    widths: &'a [Constraint],
    empty: &'a str,
}

fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let width = width.min(area.width);
    let height = height.min(area.height);
    Rect::new(
        area.x + (area.width - width) / 2,
        area.y + (area.height - height) / 2,
        width,
        height,
    )
}

/// Drops spans past `width` columns so a long status never wraps.
fn clip_line(line: Line<'static>, width: usize) -> Line<'static> {
    let mut used = 0;
    let mut spans = Vec::new();
    for span in line.spans {
        let w = span.width();
        if used + w <= width {
            used += w;
            spans.push(span);
        } else {
            let room = width - used;
            if room > 1 {
                spans.push(Span::styled(truncate(&span.content, room), span.style));
            }
            break;
        }
    }
    Line::from(spans)
}

fn truncate_left(text: &str, width: usize) -> String {
    let chars: Vec<char> = text.chars().collect();
    if chars.len() <= width {
        return text.to_string();
    }
    let mut out: String = "…".into();
    out.extend(&chars[chars.len() - width.saturating_sub(1)..]);
    out
}

fn short_count(n: usize) -> String {
    match n {
        0..1_000 => n.to_string(),
        1_000..1_000_000 => format!("{:.1}k", n as f64 / 1_000.0),
        _ => format!("{:.1}M", n as f64 / 1_000_000.0),
    }
}

fn tail(series: &[u64], width: usize) -> &[u64] {
    &series[series.len().saturating_sub(width)..]
}

fn spark_text(series: &[u64], width: usize) -> String {
    let series = tail(series, width);
    let max = series.iter().copied().max().unwrap_or(0).max(1);
    series
        .iter()
        .map(|v| SPARK[((v * 7) / max) as usize])
        .collect()
}

fn user_label(row: &FeedRow) -> String {
    match &row.username {
        Some(username) => format!("@{}", one_line(username)),
        None => one_line(&row.user_name),
    }
}

fn verdict_span(t: &crate::theme::Theme, verdict: Verdict) -> Span<'static> {
    let color = match verdict {
        Verdict::Spam => t.banned,
        Verdict::Suspect => t.flagged,
        Verdict::Clean => t.clean,
    };
    Span::styled(
        format!("{} {}", verdict.glyph(), verdict.word()),
        t.bold(color),
    )
}

fn verdict_cell(
    t: &crate::theme::Theme,
    verdict: Verdict,
    score: f32,
    label: Option<Label>,
) -> Cell<'static> {
    let mark = match label {
        Some(Label::Spam) => "ˢ",
        Some(Label::Ham) => "ʰ",
        None => "",
    };
    let mut span = verdict_span(t, verdict);
    span.content = format!("{} {:>2.0}{mark}", span.content, (score * 100.0).min(99.0)).into();
    Cell::from(Line::from(span))
}

fn alert_kind(t: &crate::theme::Theme, kind: &AlertKind) -> (&'static str, &'static str, Color) {
    match kind {
        AlertKind::Raid { .. } => ("⚠", "raid", t.error),
        AlertKind::AdminBan { .. } => ("⊘", "admin ban", t.info),
        AlertKind::LowConfidenceHam { .. } => ("?", "unsure ham", t.warn),
        AlertKind::FailedAction { .. } => ("✖", "failed", t.error),
        AlertKind::FloodWait { .. } => ("⧖", "flood-wait", t.warn),
        AlertKind::Other => ("•", "note", t.muted),
    }
}

fn state_color(t: &crate::theme::Theme, state: MemberState) -> Color {
    match state {
        MemberState::Banned => t.banned,
        MemberState::Flagged => t.flagged,
        MemberState::Clean => t.clean,
    }
}

fn risk_color(t: &crate::theme::Theme, score: f32) -> Color {
    if score >= 0.7 {
        t.banned
    } else if score >= 0.4 {
        t.flagged
    } else {
        t.clean
    }
}

/// "invite: @a, @b; name: @c" for one member.
fn neighbours(view: &ClusterView, index: usize) -> String {
    let mut by_kind: Vec<(String, Vec<String>)> = Vec::new();
    for edge in &view.edges {
        let other = if edge.a == index {
            edge.b
        } else if edge.b == index {
            edge.a
        } else {
            continue;
        };
        let Some(member) = view.members.get(other) else {
            continue;
        };
        let name = one_line(&member.name);
        match by_kind.iter_mut().find(|(k, _)| *k == edge.kind) {
            Some((_, names)) => names.push(name),
            None => by_kind.push((edge.kind.clone(), vec![name])),
        }
    }
    by_kind
        .into_iter()
        .map(|(kind, names)| format!("{kind}: {}", names.join(", ")))
        .collect::<Vec<_>>()
        .join("; ")
}

/// "ban       ████████ 123" lines scaled to the widest value.
fn bar_lines(
    t: &crate::theme::Theme,
    title: &str,
    values: &[(String, u64)],
    width: u16,
    color: Color,
) -> Text<'static> {
    let mut lines = vec![Line::styled(title.to_string(), t.bold(t.fg))];
    let max = values.iter().map(|(_, v)| *v).max().unwrap_or(0).max(1);
    let label_width = values
        .iter()
        .map(|(l, _)| l.chars().count())
        .max()
        .unwrap_or(0)
        .min(14);
    let count_width = values
        .iter()
        .map(|(_, v)| thousands(*v as usize).len())
        .max()
        .unwrap_or(1);
    let bar_room = (width as usize)
        .saturating_sub(label_width + count_width + 3)
        .max(1);
    for (label, value) in values {
        let bar = ((*value as usize * bar_room) / max as usize).max(usize::from(*value > 0));
        lines.push(Line::from(vec![
            Span::styled(
                format!("{:<label_width$} ", truncate(&one_line(label), label_width)),
                t.text(),
            ),
            Span::styled("█".repeat(bar), t.fg(color)),
            Span::styled(format!(" {}", thousands(*value as usize)), t.muted()),
        ]));
    }
    if values.is_empty() {
        lines.push(Line::styled("no data yet", t.muted()));
    }
    Text::from(lines)
}
