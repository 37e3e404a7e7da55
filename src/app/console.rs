//! The console thread: owns the terminal, reads the store and the published view, and sends
//! the moderator's commands to the runtime. Draws are coalesced: at most one frame per
//! [`FRAME`], and only when something changed.

use crate::app::live::{Notice, SharedView, ToRuntime};
use crate::app::source::AppSource;
use crate::app::terminal::TerminalGuard;
use crate::policy::PolicyConfig;
use anyhow::{Context as _, Result};
use crossterm::event::{self, DisableMouseCapture, EnableMouseCapture, Event, KeyEventKind};
use ratatui::Terminal;
use ratatui::backend::Backend;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender, TryRecvError};
use std::time::{Duration, Instant};
use warden_store::Reader;
use warden_ui::{Command, Console, Keymap, Theme};

/// Shortest time between two frames (~60 frames/s).
pub const FRAME: Duration = Duration::from_millis(16);
/// `Console::on_tick` cadence (toasts, countdowns).
pub const TICK: Duration = Duration::from_secs(1);
/// How long the loop waits for input when nothing needs drawing; bounds how late a notice
/// or a published view is noticed.
const IDLE_POLL: Duration = Duration::from_millis(25);
/// Events handled per loop turn before drawing again (a paste or a wheel burst).
const MAX_EVENTS_PER_TURN: usize = 256;

/// How the console looks and which keys it uses.
#[derive(Debug, Clone)]
pub struct ConsoleOptions {
    /// The user's keymap override file (merged over the shipped defaults); ignored when absent.
    pub keymap_file: Option<PathBuf>,
    /// The chosen theme; `NO_COLOR` overrides it.
    pub theme: Theme,
    /// ASCII fallbacks for braille and glyphs.
    pub ascii: bool,
    /// Rule validation and backtests follow the policy's regex limit and match mode.
    pub policy: PolicyConfig,
}

impl Default for ConsoleOptions {
    fn default() -> Self {
        ConsoleOptions {
            keymap_file: None,
            theme: Theme::dark(),
            ascii: false,
            policy: PolicyConfig::default(),
        }
    }
}

/// Why the console ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsoleExit {
    /// The moderator quit (or a signal asked to).
    Quit,
    /// An account was logged in from the console: open the connection again to bring it in.
    Reconnect,
}

/// What the terminal owner must do after an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    Quit,
    Suspend,
    MouseCapture(bool),
}

/// The console's loop without the terminal: events in, commands to the runtime out, frames
/// drawn on any ratatui backend. `run_console` drives it on the real terminal; tests drive it
/// on a `TestBackend`.
pub struct ConsoleLoop {
    pub console: Console,
    pub source: AppSource,
    to_runtime: Sender<ToRuntime>,
    notices: Receiver<Notice>,
    seen_version: u64,
    last_draw: Option<Instant>,
    last_tick: Instant,
    runtime_gone: bool,
    /// Frames drawn, for diagnostics and measurements.
    pub frames: u64,
}

impl ConsoleLoop {
    pub fn new(
        console: Console,
        source: AppSource,
        to_runtime: Sender<ToRuntime>,
        notices: Receiver<Notice>,
    ) -> ConsoleLoop {
        let seen_version = source.live().version();
        ConsoleLoop {
            console,
            source,
            to_runtime,
            notices,
            seen_version,
            last_draw: None,
            last_tick: Instant::now(),
            runtime_gone: false,
            frames: 0,
        }
    }

    /// One terminal event: keys and mouse go to the console, its commands to the runtime.
    pub fn handle_event(&mut self, event: Event) -> Vec<Effect> {
        let commands = match event {
            Event::Key(key) if key.kind != KeyEventKind::Release => {
                self.console.handle_key(key, &self.source)
            }
            Event::Mouse(mouse) => self.console.handle_mouse(mouse, &self.source),
            Event::Resize(..) => {
                self.console.on_resize();
                Vec::new()
            }
            _ => Vec::new(),
        };
        let mut effects = Vec::new();
        for command in commands {
            match command {
                Command::Quit => {
                    self.send(ToRuntime::Quit);
                    effects.push(Effect::Quit);
                }
                Command::Suspend => effects.push(Effect::Suspend),
                Command::TogglePause => {
                    let _ = self.to_runtime.send(ToRuntime::TogglePause);
                }
                Command::MouseCapture { on } => effects.push(Effect::MouseCapture(on)),
                other => self.send(ToRuntime::Command(other)),
            }
        }
        effects
    }

    fn send(&mut self, message: ToRuntime) {
        if self.to_runtime.send(message).is_err() && !self.runtime_gone {
            self.runtime_gone = true;
            self.console.notify(
                "the runtime has stopped: commands are not carried out",
                true,
            );
        }
    }

    /// The runtime asks for a reconnect (a login from the console succeeded).
    pub fn reconnect_requested(&self) -> bool {
        self.source.live().lock().reconnect
    }

    /// Notices, data changes and the tick. Cheap when nothing happened.
    pub fn pump(&mut self, now: Instant) {
        loop {
            match self.notices.try_recv() {
                Ok(notice) => self.console.notify(notice.text, notice.is_error),
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => {
                    if !self.runtime_gone {
                        self.runtime_gone = true;
                        self.console.notify("the runtime has stopped", true);
                    }
                    break;
                }
            }
        }
        let version = self.source.live().version();
        if version != self.seen_version {
            self.seen_version = version;
            self.console.on_data_changed();
        }
        if now.duration_since(self.last_tick) >= TICK {
            self.last_tick = now;
            self.console.on_tick();
        }
    }

    /// Something to draw and the frame budget allows it.
    pub fn frame_due(&self, now: Instant) -> bool {
        self.console.needs_redraw()
            && self
                .last_draw
                .is_none_or(|last| now.duration_since(last) >= FRAME)
    }

    /// How long to wait for input: until the next frame slot when a redraw is pending, else
    /// a short idle poll (capped by the next tick).
    pub fn poll_timeout(&self, now: Instant) -> Duration {
        let until_tick = TICK.saturating_sub(now.duration_since(self.last_tick));
        let wait = if self.console.needs_redraw() {
            self.last_draw
                .map_or(Duration::ZERO, |last| FRAME.saturating_sub(now - last))
        } else {
            IDLE_POLL
        };
        wait.min(until_tick)
    }

    pub fn draw<B: Backend>(&mut self, terminal: &mut Terminal<B>) -> Result<()>
    where
        B::Error: Send + Sync + 'static,
    {
        let console = &mut self.console;
        let source = &self.source;
        terminal
            .draw(|frame| console.render(frame, source))
            .context("drawing the console")?;
        self.last_draw = Some(Instant::now());
        self.frames += 1;
        Ok(())
    }
}

/// Builds the console from the options: keymap overrides (a bad file is an error naming its
/// line), theme with `NO_COLOR` honoured, ASCII mode.
pub fn build_console(options: &ConsoleOptions) -> Result<Console> {
    let keymap = match &options.keymap_file {
        Some(path) if path.exists() => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read keymap {}", path.display()))?;
            Keymap::with_overrides(&text, &path.display().to_string())?
        }
        _ => Keymap::default(),
    };
    let mut console = Console::new(keymap, Theme::for_environment(options.theme.clone()));
    console.set_ascii(options.ascii);
    Ok(console)
}

/// Runs the console on the terminal until the moderator quits (or SIGTERM/SIGINT/SIGHUP),
/// then tells the runtime to stop and gives the terminal back.
pub fn run_console(
    store_path: &Path,
    live: SharedView,
    to_runtime: Sender<ToRuntime>,
    notices: Receiver<Notice>,
    options: ConsoleOptions,
) -> Result<ConsoleExit> {
    // Everything that can fail with a message is done before the terminal is taken.
    let console = build_console(&options)?;
    let reader = Reader::open(store_path)
        .with_context(|| format!("console cannot read {}", store_path.display()))?;
    let source = AppSource::new(reader, live, &options.policy);
    let watchdog_quit = to_runtime.clone();
    let mut app = ConsoleLoop::new(console, source, to_runtime, notices);
    let _signals = signals::install();
    signals::watchdog(watchdog_quit);
    let mut guard = TerminalGuard::enter()?;
    let result = drive(&mut app, &mut guard);
    if result.is_err() || signals::received() {
        // Leaving by error or signal: the runtime must still stop and flush.
        let _ = app.to_runtime.send(ToRuntime::Quit);
    }
    drop(guard);
    result
}

fn drive(app: &mut ConsoleLoop, guard: &mut TerminalGuard) -> Result<ConsoleExit> {
    loop {
        if signals::received() {
            return Ok(ConsoleExit::Quit);
        }
        if app.reconnect_requested() {
            return Ok(ConsoleExit::Reconnect);
        }
        let timeout = app.poll_timeout(Instant::now());
        let mut effects = Vec::new();
        if event::poll(timeout).context("reading terminal input")? {
            for _ in 0..MAX_EVENTS_PER_TURN {
                effects.extend(app.handle_event(event::read().context("reading terminal input")?));
                if effects.contains(&Effect::Quit) || !event::poll(Duration::ZERO)? {
                    break;
                }
            }
        }
        for effect in effects {
            match effect {
                Effect::Quit => return Ok(ConsoleExit::Quit),
                Effect::Suspend => {
                    guard.suspend()?;
                    // Taking the terminal back turns mouse capture on again.
                    if !app.console.mouse_enabled() {
                        crossterm::execute!(std::io::stdout(), DisableMouseCapture)?;
                    }
                    app.console.on_resize();
                }
                Effect::MouseCapture(on) => {
                    let mut out = std::io::stdout();
                    if on {
                        crossterm::execute!(out, EnableMouseCapture)?;
                    } else {
                        crossterm::execute!(out, DisableMouseCapture)?;
                    }
                }
            }
        }
        let now = Instant::now();
        app.pump(now);
        if app.frame_due(now) {
            app.draw(&mut guard.terminal)?;
        }
    }
}

/// SIGTERM, SIGINT and SIGHUP set a flag the loop checks; the previous handlers come back when
/// the guard drops. (In raw mode Ctrl-C arrives as a key, not as SIGINT.)
mod signals {
    use super::*;

    static RECEIVED: AtomicBool = AtomicBool::new(false);
    const SIGNALS: [libc::c_int; 3] = [libc::SIGTERM, libc::SIGINT, libc::SIGHUP];

    pub fn received() -> bool {
        RECEIVED.load(Ordering::SeqCst)
    }

    /// How long the loop gets to leave by itself after a signal.
    const GRACE: Duration = Duration::from_secs(3);

    /// After a hangup the terminal read can spin inside crossterm and never return to the loop,
    /// so a signal also starts a watchdog: it asks the runtime to stop and flush, waits a grace
    /// period, gives the terminal back and exits. Acknowledged actions are already committed.
    pub fn watchdog(to_runtime: std::sync::mpsc::Sender<ToRuntime>) {
        let spawned = std::thread::Builder::new()
            .name("warden-signal-watchdog".into())
            .spawn(move || {
                while !received() {
                    std::thread::sleep(Duration::from_millis(100));
                }
                let _ = to_runtime.send(ToRuntime::Quit);
                std::thread::sleep(GRACE);
                tracing::warn!("console did not stop after a signal; exiting");
                crate::app::terminal::restore();
                std::process::exit(0);
            });
        if let Err(err) = spawned {
            tracing::warn!("no signal watchdog: {err}");
        }
    }

    extern "C" fn on_signal(_: libc::c_int) {
        // Only an atomic store: async-signal-safe.
        RECEIVED.store(true, Ordering::SeqCst);
    }

    pub struct Guard {
        previous: Vec<(libc::c_int, libc::sigaction)>,
    }

    pub fn install() -> Guard {
        RECEIVED.store(false, Ordering::SeqCst);
        let mut previous = Vec::new();
        for signal in SIGNALS {
            // SAFETY: a zeroed sigaction with a handler that only stores an atomic is valid;
            // the old action is saved to restore it.
            unsafe {
                let mut action: libc::sigaction = std::mem::zeroed();
                action.sa_sigaction = on_signal as *const () as libc::sighandler_t;
                libc::sigemptyset(&mut action.sa_mask);
                let mut old: libc::sigaction = std::mem::zeroed();
                if libc::sigaction(signal, &action, &mut old) == 0 {
                    previous.push((signal, old));
                }
            }
        }
        Guard { previous }
    }

    impl Drop for Guard {
        fn drop(&mut self) {
            for (signal, old) in &self.previous {
                // SAFETY: restores the action saved by `install`.
                unsafe {
                    libc::sigaction(*signal, old, std::ptr::null_mut());
                }
            }
        }
    }
}
