//! Every pane and popup at 80×24 and 120×40 (TestBackend text snapshots in `snapshots/`).

mod common;

use common::*;
use crossterm::event::KeyCode;
use warden_ui::*;

const SIZES: [(u16, u16); 2] = [(80, 24), (120, 40)];

/// Renders the console at both sizes after `setup` and snapshots each.
fn snap(name: &str, setup: impl Fn(&mut Console, &Fake)) {
    for (width, height) in SIZES {
        let data = Fake::new();
        let mut console = primed(&data);
        setup(&mut console, &data);
        // Prime at the target size first so paging settles, then draw the frame we keep.
        draw(&mut console, &data, width, height);
        let terminal = draw(&mut console, &data, width, height);
        insta::assert_snapshot!(format!("{name}_{width}x{height}"), terminal.backend());
    }
}

#[test]
fn pane_feed() {
    snap("feed", |c, d| {
        press(c, d, &[key('j'), key('j')]);
    });
}

#[test]
fn pane_feed_frozen_and_filtered() {
    snap("feed_frozen_filtered", |c, d| {
        press(c, d, &[key('p'), key('/')]);
        type_text(c, d, "airdrop");
        press(c, d, &[code(KeyCode::Enter)]);
    });
}

#[test]
fn pane_feed_expanded() {
    snap("feed_expanded", |c, d| {
        press(c, d, &[key('z')]);
    });
}

#[test]
fn pane_alerts() {
    snap("alerts", |c, d| {
        press(c, d, &[key('2')]);
    });
}

#[test]
fn pane_clusters() {
    snap("clusters", |c, d| {
        press(c, d, &[key('3')]);
        // Load the graph, then walk the node cursor.
        draw(c, d, 120, 40);
        press(c, d, &[key('l'), key('l')]);
    });
}

#[test]
fn pane_investigator() {
    snap("investigator", |c, d| {
        press(c, d, &[code(KeyCode::Enter)]);
    });
}

#[test]
fn pane_investigator_with_user_account() {
    snap("investigator_userbot", |c, d| {
        press(c, d, &[key('j'), code(KeyCode::Enter)]);
    });
}

#[test]
fn pane_investigator_empty() {
    snap("investigator_empty", |c, d| {
        press(c, d, &[key('4')]);
    });
}

#[test]
fn pane_rules() {
    snap("rules", |c, d| {
        press(c, d, &[key('5'), key('j')]);
    });
}

#[test]
fn pane_rules_editor_with_error() {
    snap("rules_editor", |c, d| {
        press(c, d, &[key('5'), key('j'), code(KeyCode::Enter)]);
        // Break the pattern on line 1: live validation reports line and column.
        press(
            c,
            d,
            &[
                code(KeyCode::End),
                code(KeyCode::Backspace),
                code(KeyCode::Backspace),
            ],
        );
    });
}

#[test]
fn pane_history() {
    snap("history", |c, d| {
        press(c, d, &[key('6'), key('j')]);
    });
}

#[test]
fn pane_stats() {
    snap("stats", |c, d| {
        press(c, d, &[key('7')]);
    });
}

#[test]
fn popup_help() {
    snap("help", |c, d| {
        press(c, d, &[key('?')]);
    });
}

#[test]
fn popup_confirm_ban() {
    snap("confirm_ban", |c, d| {
        press(c, d, &[key('b')]);
    });
}

#[test]
fn popup_confirm_bunker_from_command_line() {
    snap("confirm_bunker", |c, d| {
        press(c, d, &[key(':')]);
        type_text(c, d, "bunker on rust beginners");
        press(c, d, &[code(KeyCode::Enter)]);
    });
}

#[test]
fn popup_confirm_rule_backtest() {
    snap("confirm_rule", |c, d| {
        press(c, d, &[key('5'), code(KeyCode::Enter), ctrl('s')]);
    });
}

#[test]
fn popup_command_line() {
    snap("command_line", |c, d| {
        press(c, d, &[key(':')]);
        type_text(c, d, "ban @cryptoqueen88 7d scam");
    });
}

#[test]
fn popup_filter() {
    snap("filter", |c, d| {
        press(c, d, &[key('6'), key('/')]);
        type_text(c, d, "by:alice crypto");
    });
}

#[test]
fn popup_error_toast() {
    snap("toast_error", |c, d| {
        press(c, d, &[key(':')]);
        type_text(c, d, "bna 123");
        press(c, d, &[code(KeyCode::Enter), code(KeyCode::Esc)]);
    });
}

#[test]
fn popup_label_toast_offers_undo() {
    snap("toast_label", |c, d| {
        press(c, d, &[key('x')]);
    });
}
