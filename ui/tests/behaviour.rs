//! Scripted key sequences → emitted commands, confirmations, paging bounds, NO_COLOR, small screens.

mod common;

use common::*;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
use ratatui::style::{Color, Modifier};
use warden_ui::*;

#[test]
fn ban_from_feed_opens_confirm_defaulting_to_cancel_and_carrying_the_command() {
    let data = Fake::new();
    let mut console = primed(&data);
    let row = console.feed_selected().cloned().expect("a selected row");
    assert!(
        console.handle_key(key('b'), &data).is_empty(),
        "nothing is sent before confirming"
    );
    let (command, focus) = console.pending_confirmation().expect("confirm popup");
    assert_eq!(focus, ConfirmFocus::Cancel);
    assert_eq!(
        command,
        &Command::Ban {
            user: row.user_id,
            chat: Some(row.chat_id),
            duration: None,
            reason: "link-in-first-msg".into()
        }
    );
    // Enter on the default button cancels.
    assert!(press(&mut console, &data, &[code(KeyCode::Enter)]).is_empty());
    assert!(console.popup().is_none());
}

#[test]
fn typed_reason_goes_into_the_confirmed_command() {
    let data = Fake::new();
    let mut console = primed(&data);
    press(&mut console, &data, &[key('b')]);
    // Clear the suggested reason, type our own, then Enter (→ confirm button) and Enter.
    press(&mut console, &data, &[code(KeyCode::BackTab)]);
    assert_eq!(
        console.pending_confirmation().map(|(_, f)| f),
        Some(ConfirmFocus::Reason)
    );
    for _ in 0..40 {
        console.handle_key(code(KeyCode::Backspace), &data);
    }
    type_text(&mut console, &data, "crypto scam");
    let out = press(
        &mut console,
        &data,
        &[code(KeyCode::Enter), code(KeyCode::Enter)],
    );
    assert_eq!(out.len(), 1);
    match &out[0] {
        Command::Ban { reason, user, .. } => {
            assert_eq!(reason, "crypto scam");
            assert_eq!(*user, 5_000_000_000);
        }
        other => panic!("{other:?}"),
    }
    assert!(console.popup().is_none());
}

#[test]
fn escape_cancels_any_confirmation() {
    let data = Fake::new();
    let mut console = primed(&data);
    press(&mut console, &data, &[key('m'), code(KeyCode::Tab)]);
    assert_eq!(
        console.pending_confirmation().map(|(_, f)| f),
        Some(ConfirmFocus::Confirm)
    );
    assert!(press(&mut console, &data, &[code(KeyCode::Esc)]).is_empty());
    assert!(console.popup().is_none());
}

#[test]
fn command_line_ban_goes_through_the_same_confirmation() {
    let data = Fake::new();
    let mut console = primed(&data);
    press(&mut console, &data, &[key(':')]);
    type_text(&mut console, &data, "ban 123456 7d scam links");
    assert!(press(&mut console, &data, &[code(KeyCode::Enter)]).is_empty());
    let out = press(
        &mut console,
        &data,
        &[code(KeyCode::Right), code(KeyCode::Enter)],
    );
    assert_eq!(
        out,
        vec![Command::Ban {
            user: 123456,
            chat: None,
            duration: Some(7 * 86_400),
            reason: "scam links".into()
        }]
    );
}

#[test]
fn command_line_errors_show_a_toast_and_keep_the_line() {
    let data = Fake::new();
    let mut console = primed(&data);
    press(&mut console, &data, &[key(':')]);
    type_text(&mut console, &data, "mute 1 forever");
    press(&mut console, &data, &[code(KeyCode::Enter)]);
    let toast = console.toast().expect("error toast");
    assert!(toast.error);
    assert!(
        toast.text.contains("'forever' is not a duration"),
        "{}",
        toast.text
    );
    assert!(
        matches!(console.popup(), Some(Popup::CommandLine(input)) if input.text == "mute 1 forever")
    );
}

#[test]
fn labels_are_sent_at_once_and_can_be_undone() {
    let data = Fake::new();
    let mut console = primed(&data);
    let row = console.feed_selected().cloned().unwrap();
    let out = press(&mut console, &data, &[key('x')]);
    assert_eq!(
        out,
        vec![Command::LabelSpam {
            chat: row.chat_id,
            message: row.message_id,
            user: row.user_id
        }]
    );
    assert!(console.toast().unwrap().text.contains("u to undo"));
    // Undo targets the label just made, even after moving on.
    let out = press(&mut console, &data, &[key('j'), key('u')]);
    assert_eq!(
        out,
        vec![Command::UndoLabel {
            chat: row.chat_id,
            message: row.message_id
        }]
    );
}

#[test]
fn open_user_switches_to_investigator_and_escape_goes_back() {
    let data = Fake::new();
    let mut console = primed(&data);
    let out = press(&mut console, &data, &[key('j'), code(KeyCode::Enter)]);
    assert_eq!(
        out,
        vec![Command::OpenUser {
            user: 5_000_000_001
        }]
    );
    assert_eq!(console.focus(), Pane::Investigator);
    assert_eq!(console.opened_user(), Some(5_000_000_001));
    press(&mut console, &data, &[code(KeyCode::Esc)]);
    assert_eq!(console.focus(), Pane::Feed);
}

#[test]
fn number_keys_tab_and_backtab_move_between_panes() {
    let data = Fake::new();
    let mut console = primed(&data);
    press(&mut console, &data, &[key('5')]);
    assert_eq!(console.focus(), Pane::Rules);
    press(&mut console, &data, &[code(KeyCode::Tab)]);
    assert_eq!(console.focus(), Pane::History);
    press(
        &mut console,
        &data,
        &[
            KeyEvent::new(KeyCode::BackTab, KeyModifiers::SHIFT),
            code(KeyCode::BackTab),
        ],
    );
    assert_eq!(console.focus(), Pane::Investigator);
    press(&mut console, &data, &[key('1'), key('z')]);
    assert!(console.is_expanded());
    press(&mut console, &data, &[code(KeyCode::Esc)]);
    assert!(!console.is_expanded());
}

#[test]
fn quit_suspend_and_ctrl_c() {
    let data = Fake::new();
    let mut console = primed(&data);
    assert_eq!(
        press(&mut console, &data, &[ctrl('z')]),
        vec![Command::Suspend]
    );
    assert_eq!(press(&mut console, &data, &[key('q')]), vec![Command::Quit]);
    // Ctrl-C quits even from inside a popup.
    press(&mut console, &data, &[key('?')]);
    assert_eq!(
        press(&mut console, &data, &[ctrl('c')]),
        vec![Command::Quit]
    );
}

#[test]
fn quit_with_pending_actions_asks_first() {
    let mut data = Fake::new();
    data.status.pending_actions = 3;
    let mut console = primed(&data);
    assert!(press(&mut console, &data, &[key('q')]).is_empty());
    let (command, focus) = console.pending_confirmation().unwrap();
    assert_eq!((command, focus), (&Command::Quit, ConfirmFocus::Cancel));
    assert_eq!(
        press(
            &mut console,
            &data,
            &[code(KeyCode::Tab), code(KeyCode::Enter)]
        ),
        vec![Command::Quit]
    );
}

#[test]
fn bunker_key_toggles_from_the_chat_state_with_confirmation_only_for_on() {
    let data = Fake::new();
    let mut console = primed(&data);
    // Row 0 is in Rust Beginners (bunker off): B asks to turn it on.
    press(&mut console, &data, &[key('B')]);
    assert!(matches!(
        console.pending_confirmation(),
        Some((
            Command::Bunker {
                chat: -1001,
                on: true
            },
            _
        ))
    ));
    press(&mut console, &data, &[code(KeyCode::Esc)]);
    // Row 1 is in Rust Jobs (bunker on): turning it off is sent at once.
    let out = press(&mut console, &data, &[key('j'), key('B')]);
    assert_eq!(
        out,
        vec![Command::Bunker {
            chat: -1002,
            on: false
        }]
    );
}

#[test]
fn freeze_keeps_rows_still_while_new_ones_arrive() {
    let mut data = Fake::with_feed(100);
    let mut console = primed(&data);
    press(&mut console, &data, &[key('p')]);
    assert!(console.is_frozen());
    let before = console.feed_selected().cloned();
    data.feed_rows = 150;
    console.on_data_changed();
    draw(&mut console, &data, 120, 40);
    assert_eq!(console.feed_selected().cloned(), before);
    let screen = format!("{}", draw(&mut console, &data, 120, 40).backend());
    assert!(screen.contains("FROZEN +50 new"), "{screen}");
    press(&mut console, &data, &[key('p')]);
    draw(&mut console, &data, 120, 40);
    assert_ne!(
        console.feed_selected().map(|r| r.seq),
        before.map(|r| r.seq)
    );
}

#[test]
fn filter_shows_in_title_and_escape_clears_it() {
    let data = Fake::new();
    let mut console = primed(&data);
    press(&mut console, &data, &[key('/')]);
    type_text(&mut console, &data, "airdrop");
    press(&mut console, &data, &[code(KeyCode::Enter)]);
    assert_eq!(
        console.filter(Pane::Feed).words,
        vec!["airdrop".to_string()]
    );
    let screen = format!("{}", draw(&mut console, &data, 80, 24).backend());
    assert!(screen.contains("/airdrop"), "{screen}");
    assert!(
        console
            .feed_selected()
            .unwrap()
            .text
            .to_lowercase()
            .contains("airdrop")
    );
    press(&mut console, &data, &[code(KeyCode::Esc)]);
    assert!(console.filter(Pane::Feed).is_empty());
}

#[test]
fn paging_a_million_rows_keeps_memory_bounded() {
    let data = Fake::with_feed(1_000_000);
    let mut console = console();
    draw(&mut console, &data, 80, 24);
    let mut keys = vec![key('G')];
    keys.extend(std::iter::repeat_n(code(KeyCode::PageUp), 50));
    keys.extend(std::iter::repeat_n(ctrl('d'), 50));
    keys.push(key('g'));
    keys.extend(std::iter::repeat_n(key('j'), 300));
    for k in keys {
        console.handle_key(k, &data);
        draw(&mut console, &data, 80, 24);
    }
    let (kept, largest_page) = console.feed_paging();
    // 80×24 shows about 10 rows: the console keeps that plus one screen each side.
    assert!(kept <= 40, "kept {kept} rows");
    assert!(largest_page <= 40, "asked for {largest_page} rows at once");
    assert!(data.max_limit.get() <= 40);
    assert_eq!(
        console.feed_selected().map(|r| r.seq),
        Some(1_000_000 - 300)
    );
    // Scrolling 300 rows one by one re-queries only when leaving the window, not per key.
    assert!(data.queries.get() < 100, "{} queries", data.queries.get());
}

#[test]
fn bottom_of_a_million_rows_is_the_oldest_row() {
    let data = Fake::with_feed(1_000_000);
    let mut console = console();
    draw(&mut console, &data, 120, 40);
    press(&mut console, &data, &[key('G')]);
    draw(&mut console, &data, 120, 40);
    assert_eq!(console.feed_selected().map(|r| r.seq), Some(1));
}

#[test]
fn no_color_theme_draws_without_any_colour() {
    let data = Fake::new();
    let mut console = Console::new(Keymap::default(), Theme::monochrome());
    draw(&mut console, &data, 120, 40);
    for keys in [vec![], vec![key('b')], vec![key('3')], vec![key('7')]] {
        press(&mut console, &data, &keys);
        let terminal = draw(&mut console, &data, 120, 40);
        let buffer = terminal.backend().buffer();
        for cell in buffer.content() {
            assert_eq!(
                (cell.fg, cell.bg),
                (Color::Reset, Color::Reset),
                "coloured cell {cell:?}"
            );
        }
        press(&mut console, &data, &[code(KeyCode::Esc)]);
    }
    // Selection stays visible by reverse video.
    let terminal = draw(&mut console, &data, 80, 24);
    assert!(
        terminal
            .backend()
            .buffer()
            .content()
            .iter()
            .any(|c| c.modifier.contains(Modifier::REVERSED))
    );
    insta::assert_snapshot!("no_color_feed_80x24", terminal.backend());
}

#[test]
fn too_small_terminal_shows_a_message_instead_of_panes() {
    let data = Fake::new();
    let mut console = console();
    let terminal = draw(&mut console, &data, 40, 10);
    let screen = format!("{}", terminal.backend());
    assert!(screen.contains("Terminal too small"));
    assert!(screen.contains("need 60×16, have 40×10"));
    insta::assert_snapshot!("too_small_40x10", terminal.backend());
    // Tiny sizes never panic.
    for (w, h) in [(1, 1), (0, 0), (59, 40), (200, 15), (60, 16)] {
        draw(&mut console, &data, w, h);
    }
}

#[test]
fn redraw_only_when_dirty() {
    let data = Fake::new();
    let mut console = primed(&data);
    assert!(!console.needs_redraw());
    console.on_data_changed();
    assert!(console.needs_redraw());
    draw(&mut console, &data, 80, 24);
    assert!(!console.needs_redraw());
    console.on_resize();
    assert!(console.needs_redraw());
}

#[test]
fn mouse_click_selects_rows_and_tabs_and_wheel_scrolls() {
    let data = Fake::new();
    let mut console = console();
    draw(&mut console, &data, 80, 24);
    let click = |column, row| MouseEvent {
        kind: MouseEventKind::Down(MouseButton::Left),
        column,
        row,
        modifiers: KeyModifiers::NONE,
    };
    // Row 3 is the table header; row 4 the first message, row 6 the third.
    console.handle_mouse(click(10, 6), &data);
    assert_eq!(console.feed_selected().map(|r| r.seq), Some(38));
    let wheel = MouseEvent {
        kind: MouseEventKind::ScrollDown,
        column: 10,
        row: 6,
        modifiers: KeyModifiers::NONE,
    };
    console.handle_mouse(wheel, &data);
    draw(&mut console, &data, 80, 24);
    assert_eq!(console.feed_selected().map(|r| r.seq), Some(35));
    // The tab bar is on row 1; "3 Clusters" starts around column 18.
    console.handle_mouse(click(20, 1), &data);
    assert_eq!(console.focus(), Pane::Clusters);
    // Mouse can be switched off.
    assert_eq!(
        press(&mut console, &data, &[key('M')]),
        vec![Command::MouseCapture { on: false }]
    );
    console.handle_mouse(click(3, 1), &data);
    assert_eq!(console.focus(), Pane::Clusters);
}

#[test]
fn cluster_actions_use_the_node_cursor() {
    let data = Fake::new();
    let mut console = primed(&data);
    press(&mut console, &data, &[key('3')]);
    draw(&mut console, &data, 120, 40);
    press(&mut console, &data, &[key('l'), key('w')]);
    assert!(matches!(
        console.pending_confirmation(),
        Some((
            Command::ClusterWhitelistMember {
                cluster: 7,
                user: 5_000_000_002
            },
            ConfirmFocus::Cancel
        ))
    ));
    press(&mut console, &data, &[code(KeyCode::Esc), key('B')]);
    let out = press(
        &mut console,
        &data,
        &[code(KeyCode::Tab), code(KeyCode::Enter)],
    );
    assert_eq!(
        out,
        vec![Command::ClusterBanAll {
            cluster: 7,
            reason: "cluster #7".into()
        }]
    );
    // From the Investigator, c jumps to the user's cluster.
    press(&mut console, &data, &[key('h'), code(KeyCode::Enter)]);
    assert_eq!(console.focus(), Pane::Investigator);
    draw(&mut console, &data, 120, 40);
    press(&mut console, &data, &[key('c')]);
    assert_eq!(console.focus(), Pane::Clusters);
}

#[test]
fn rule_editor_validates_live_and_saves_only_after_backtest_confirmation() {
    let data = Fake::new();
    let mut console = primed(&data);
    press(&mut console, &data, &[key('5'), code(KeyCode::Enter)]);
    assert!(console.is_editing_rule());
    press(
        &mut console,
        &data,
        &[KeyEvent::new(KeyCode::Home, KeyModifiers::NONE)],
    );
    // Pane keys (o = label ham, s = strike) type into the editor instead.
    assert!(type_text(&mut console, &data, "oops ").is_empty());
    assert!(
        data.validated
            .borrow()
            .last()
            .unwrap()
            .starts_with("oops when")
    );
    // Save with an error: not saved, error named with line and column.
    assert!(press(&mut console, &data, &[ctrl('s')]).is_empty());
    let toast = console.toast().unwrap();
    assert!(
        toast.error && toast.text.contains("line 1, column 1"),
        "{}",
        toast.text
    );
    assert!(console.popup().is_none());
    // Fix it, save: backtest confirmation, default Cancel.
    for _ in 0..5 {
        console.handle_key(code(KeyCode::Delete), &data);
    }
    press(&mut console, &data, &[ctrl('s')]);
    let (command, focus) = console.pending_confirmation().expect("backtest confirm");
    assert_eq!(focus, ConfirmFocus::Cancel);
    assert!(
        matches!(command, Command::SaveRule { name: Some(n), .. } if n == "links-from-newcomers")
    );
    let out = press(
        &mut console,
        &data,
        &[code(KeyCode::Right), code(KeyCode::Enter)],
    );
    assert!(
        matches!(&out[..], [Command::SaveRule { text, .. }] if text.starts_with("when message.has_link"))
    );
    assert!(!console.is_editing_rule());
}

#[test]
fn rule_editor_escape_keeps_the_draft() {
    let data = Fake::new();
    let mut console = primed(&data);
    press(&mut console, &data, &[key('5'), key('n')]);
    type_text(&mut console, &data, "when x");
    press(&mut console, &data, &[code(KeyCode::Esc)]);
    assert!(!console.is_editing_rule());
    press(&mut console, &data, &[key('n')]);
    assert_eq!(console.editor_text().as_deref(), Some("when x"));
}

#[test]
fn help_is_generated_from_the_live_keymap_with_overrides() {
    let data = Fake::new();
    let keymap = Keymap::with_overrides("[feed]\nban = \"K\"\n", "user-keymap.toml").unwrap();
    let mut console = Console::new(keymap, Theme::dark());
    draw(&mut console, &data, 120, 40);
    press(&mut console, &data, &[code(KeyCode::F(1))]);
    let screen = format!("{}", draw(&mut console, &data, 120, 40).backend());
    assert!(screen.contains("K               ban"), "{screen}");
    assert!(!screen.contains("b               ban"), "{screen}");
    // The overridden key now bans; the old one does nothing.
    press(&mut console, &data, &[code(KeyCode::Esc)]);
    assert!(press(&mut console, &data, &[key('b')]).is_empty());
    assert!(console.popup().is_none());
    press(&mut console, &data, &[key('K')]);
    assert!(matches!(
        console.pending_confirmation(),
        Some((Command::Ban { .. }, _))
    ));
}

#[test]
fn hostile_text_renders_without_panic() {
    struct Hostile(Fake);
    impl DataSource for Hostile {
        fn feed(&self, q: &PageQuery) -> Page<FeedRow> {
            let mut page = self.0.feed(q);
            for row in &mut page.rows {
                row.text = format!(
                    "{}\u{202E}evil\n{}",
                    "Z\u{0336}\u{0337}".repeat(10_000),
                    "x".repeat(1 << 20)
                );
                row.user_name = "\u{0000}\u{001b}[31mred".into();
                row.username = None;
                row.chat_title = "日本語".repeat(50);
            }
            page
        }
        fn alerts(&self, q: &PageQuery) -> Page<AlertRow> {
            self.0.alerts(q)
        }
        fn clusters(&self, q: &PageQuery) -> Page<ClusterRow> {
            self.0.clusters(q)
        }
        fn cluster(&self, id: ClusterId) -> Option<ClusterView> {
            self.0.cluster(id)
        }
        fn user(&self, id: UserId) -> Option<UserView> {
            self.0.user(id)
        }
        fn find_user(&self, h: &str) -> Option<UserId> {
            self.0.find_user(h)
        }
        fn rules(&self) -> Vec<RuleRow> {
            self.0.rules()
        }
        fn history(&self, q: &PageQuery) -> Page<HistoryRow> {
            self.0.history(q)
        }
        fn stats(&self) -> StatsView {
            self.0.stats()
        }
        fn status(&self) -> StatusView {
            self.0.status()
        }
        fn validate_rule(&self, t: &str) -> Result<(), RuleError> {
            self.0.validate_rule(t)
        }
        fn backtest_rule(&self, t: &str) -> BacktestSummary {
            self.0.backtest_rule(t)
        }
    }
    let data = Hostile(Fake::new());
    let mut console = console();
    let mut terminal = ratatui::Terminal::new(ratatui::backend::TestBackend::new(120, 40)).unwrap();
    terminal.draw(|f| console.render(f, &data)).unwrap();
    let screen = format!("{}", terminal.backend());
    assert!(!screen.contains('\u{1b}'));
    assert!(!screen.contains('\u{202E}'));
}

#[test]
fn an_app_prompt_opens_masks_secrets_and_answers_with_its_id() {
    let mut data = Fake::new();
    let mut console = primed(&data);
    data.status.prompt = Some(Prompt {
        id: 7,
        title: "Telegram login".into(),
        label: "code sent by Telegram".into(),
        secret: true,
    });
    let screen = draw(&mut console, &data, 100, 30);
    assert!(matches!(console.popup(), Some(Popup::Prompt(p, _)) if p.id == 7));
    type_text(&mut console, &data, "12345");
    let screen_text = format!("{:?}", draw(&mut console, &data, 100, 30).backend());
    assert!(screen_text.contains("•••••"), "the code is masked");
    assert!(!screen_text.contains("12345"));
    drop(screen);
    let out = press(&mut console, &data, &[code(KeyCode::Enter)]);
    assert_eq!(
        out,
        vec![Command::PromptAnswer {
            id: 7,
            text: Some("12345".into())
        }]
    );
    // The same prompt is not opened again; the app withdrawing it keeps the screen clear.
    draw(&mut console, &data, 100, 30);
    assert!(console.popup().is_none());
    data.status.prompt = Some(Prompt {
        id: 8,
        title: "Telegram login".into(),
        label: "2FA password".into(),
        secret: true,
    });
    draw(&mut console, &data, 100, 30);
    let out = press(&mut console, &data, &[code(KeyCode::Esc)]);
    assert_eq!(out, vec![Command::PromptAnswer { id: 8, text: None }]);
}

#[test]
fn login_command_line() {
    let data = Fake::new();
    let mut console = primed(&data);
    press(&mut console, &data, &[key(':')]);
    type_text(&mut console, &data, "login user");
    let out = press(&mut console, &data, &[code(KeyCode::Enter)]);
    assert_eq!(out, vec![Command::Login { user_account: true }]);
}
