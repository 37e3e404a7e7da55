//! Scenario files: built-ins load by name, user files by path, and errors name file, line and key.

use warden::sim::{Scenario, ScenarioError};

const GOOD: &str = r#"name = "mine"
duration_minutes = 30

[[chats]]
title = "A"
regulars = 3

[[raids]]
chat = "A"
at_minute = 5
accounts = 12
"#;

fn invalid(text: &str) -> (String, usize, String, String) {
    match Scenario::parse(text, "my.toml").unwrap_err() {
        ScenarioError::Invalid {
            file,
            line,
            key,
            message,
        } => (file, line, key, message),
        other => panic!("unexpected {other}"),
    }
}

#[test]
fn loads_builtins_by_name_and_user_files_by_path() {
    for name in Scenario::builtin_names() {
        let scenario = Scenario::load(name).unwrap();
        assert_eq!(scenario.origin, format!("builtin:{name}"));
        assert!(
            Scenario::builtin_text(name)
                .unwrap()
                .contains("duration_minutes")
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mine.toml");
    std::fs::write(&path, GOOD).unwrap();
    let scenario = Scenario::load(path.to_str().unwrap()).unwrap();
    assert_eq!(scenario.name, "mine");
    assert_eq!(scenario.raids[0].join_window_seconds, 60, "defaults apply");
    assert!(matches!(
        Scenario::load("nope"),
        Err(ScenarioError::Unknown { .. })
    ));
    let missing = dir.path().join("missing.toml");
    assert!(matches!(
        Scenario::load(missing.to_str().unwrap()),
        Err(ScenarioError::Io { .. })
    ));
}

#[test]
fn wrong_type_names_line_and_key() {
    let text = GOOD.replace("accounts = 12", "accounts = \"lots\"");
    let (file, line, key, message) = invalid(&text);
    assert_eq!(file, "my.toml");
    assert_eq!(line, 11);
    assert_eq!(key, "raids[0].accounts");
    assert!(message.contains("expected u32"), "{message}");
}

#[test]
fn unknown_key_is_an_error_not_ignored() {
    let text = GOOD.replace("regulars = 3", "regulars = 3\nregualrs = 4");
    let (_, line, key, message) = invalid(&text);
    assert_eq!((line, key.as_str()), (7, "chats[0].regualrs"));
    assert!(message.contains("unknown field"), "{message}");
}

#[test]
fn missing_key_is_named() {
    let text = GOOD.replace("regulars = 3\n", "");
    let (_, _, key, message) = invalid(&text);
    assert_eq!(key, "chats[0].regulars");
    assert!(message.contains("missing"), "{message}");
}

#[test]
fn toml_syntax_error_names_the_line() {
    let text = GOOD.replace("at_minute = 5", "at_minute = = 5");
    let (_, line, _, _) = invalid(&text);
    assert_eq!(line, 10);
}

#[test]
fn semantic_errors_name_line_and_key() {
    let (_, line, key, message) = invalid(&GOOD.replace("chat = \"A\"", "chat = \"B\""));
    assert_eq!((line, key.as_str()), (9, "raids[0].chat"));
    assert!(message.contains("`B`"), "{message}");

    let (_, line, key, _) = invalid(&GOOD.replace("at_minute = 5", "at_minute = 90"));
    assert_eq!((line, key.as_str()), (10, "raids[0].at_minute"));

    let text = format!("{GOOD}\n[faults]\nfailure_rate = 2.0\n");
    let (_, line, key, _) = invalid(&text);
    assert_eq!((line, key.as_str()), (14, "faults.failure_rate"));

    let (_, line, key, _) = invalid(&GOOD.replace("regulars = 3", "regulars = 0"));
    assert_eq!((line, key.as_str()), (6, "chats[0].regulars"));
}

#[test]
fn error_display_reads_file_line_key() {
    let err = Scenario::parse(
        &GOOD.replace("accounts = 12", "accounts = -1"),
        "x/raid.toml",
    )
    .unwrap_err();
    let text = err.to_string();
    assert!(
        text.starts_with("x/raid.toml:11: `raids[0].accounts`:"),
        "{text}"
    );
}
