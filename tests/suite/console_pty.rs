//! End to end: the real binary in a pseudo-terminal, in demo mode. Ban a user through the
//! confirmation, quit, then check the store has the ban and the terminal was given back.

#![cfg(unix)]

use std::io::{Read, Write};
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Leave the alternate screen; show the cursor.
const LEAVE_ALT_SCREEN: &str = "\x1b[?1049l";
const SHOW_CURSOR: &str = "\x1b[?25h";

struct Pty {
    master: std::fs::File,
    slave: OwnedFd,
}

fn open_pty(cols: u16, rows: u16) -> Pty {
    let mut master = -1;
    let mut slave = -1;
    let size = libc::winsize {
        ws_row: rows,
        ws_col: cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: openpty writes two fresh descriptors; the size struct outlives the call.
    let rc = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            &size,
        )
    };
    assert_eq!(rc, 0, "openpty: {}", std::io::Error::last_os_error());
    // SAFETY: both descriptors were just opened and are owned here.
    unsafe {
        Pty {
            master: std::fs::File::from_raw_fd(master),
            slave: OwnedFd::from_raw_fd(slave),
        }
    }
}

/// Everything the program wrote, collected by a reader thread.
struct Screen(Arc<Mutex<Vec<u8>>>);

impl Screen {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }

    fn len(&self) -> usize {
        self.0.lock().unwrap().len()
    }

    /// Waits until `needle` appears after byte `from`.
    fn wait_for(&self, needle: &str, from: usize, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            let bytes = self.0.lock().unwrap();
            let tail = String::from_utf8_lossy(&bytes[from.min(bytes.len())..]).into_owned();
            drop(bytes);
            if tail.contains(needle) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }
}

#[test]
fn demo_in_a_pty_bans_through_the_confirmation_and_restores_the_terminal() {
    let data = tempfile::tempdir().unwrap();
    let pty = open_pty(120, 40);
    let slave = || Stdio::from(pty.slave.try_clone().unwrap());
    let mut command = Command::new(env!("CARGO_BIN_EXE_warden"));
    command
        .args(["demo", "--speed", "600", "--data"])
        .arg(data.path())
        .env("TERM", "xterm-256color")
        .env("WARDEN_CONFIG", data.path().join("no-config.toml"))
        .env_remove("NO_COLOR")
        .stdin(slave())
        .stdout(slave())
        .stderr(slave());
    // SAFETY: only async-signal-safe calls between fork and exec: a new session with the pty
    // as its controlling terminal, as a terminal emulator does.
    unsafe {
        command.pre_exec(|| {
            if libc::setsid() == -1 {
                return Err(std::io::Error::last_os_error());
            }
            if libc::ioctl(0, libc::TIOCSCTTY as _, 0) == -1 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = command.spawn().expect("start warden demo");
    drop(command);
    let output = Arc::new(Mutex::new(Vec::new()));
    let mut reader = pty.master.try_clone().unwrap();
    let sink = output.clone();
    std::thread::spawn(move || {
        let mut buf = [0u8; 8192];
        // Ends with EIO once the child has exited and the slave is closed.
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 {
                break;
            }
            sink.lock().unwrap().extend_from_slice(&buf[..n]);
        }
    });
    drop(pty.slave);
    let screen = Screen(output);
    let mut keys = pty.master;
    let mut press = |bytes: &[u8]| {
        keys.write_all(bytes).unwrap();
        keys.flush().unwrap();
        std::thread::sleep(Duration::from_millis(150));
    };

    // The demo streams flagged messages into the Feed.
    assert!(
        screen.wait_for("Feed", 0, Duration::from_secs(20)),
        "the console never drew: {}",
        screen.text()
    );
    assert!(
        screen.wait_for("✖ spam", 0, Duration::from_secs(30)),
        "no flagged message reached the Feed: {}",
        screen.text()
    );
    // Freeze so the selection stays on one message, then ban its author.
    press(b"p");
    let before = screen.len();
    press(b"b");
    assert!(
        screen.wait_for("Ban user", before, Duration::from_secs(5)),
        "no confirmation: {}",
        screen.text()
    );
    // Type a reason (focus moves into it), Enter → Confirm, Enter → send.
    press(b" pty test");
    press(b"\r");
    press(b"\r");
    // Let the runtime carry it out, then quit (confirming if actions are still pending).
    std::thread::sleep(Duration::from_secs(2));
    let before = screen.len();
    press(b"q");
    if screen.wait_for("Quit Warden?", before, Duration::from_secs(1)) {
        press(b"\t");
        press(b"\r");
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("warden demo did not exit after q: {}", screen.text());
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "exit status {status}");
    std::thread::sleep(Duration::from_millis(200));

    // The terminal was given back: alternate screen left and the cursor shown again.
    let text = screen.text();
    let leave = text
        .rfind(LEAVE_ALT_SCREEN)
        .expect("never left the alternate screen");
    assert!(
        text[leave..].contains(SHOW_CURSOR) || text.rfind(SHOW_CURSOR) > text.rfind("\x1b[?25l"),
        "cursor left hidden"
    );

    // The moderator's ban is in the store.
    let db = data.path().join("demo.db");
    let reader = warden_store::Reader::open(&db).expect("the demo database");
    let actions = reader.actions(None, None, None, 1000).unwrap().items;
    let ban = actions
        .iter()
        .find(|a| a.kind == "ban" && a.requested_by.starts_with("mod:"))
        .unwrap_or_else(|| panic!("no moderator ban in the outbox: {actions:#?}"));
    assert!(ban.reason.ends_with("pty test"), "reason {:?}", ban.reason);
}
