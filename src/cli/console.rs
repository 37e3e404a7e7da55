//! Opening the console: `warden` (live with a Telegram account, else the demo), `warden demo`,
//! and `warden daemon` (the live runtime without a terminal).

use crate::app::console::{ConsoleExit, ConsoleOptions, run_console};
use crate::app::live::ToRuntime;
use crate::app::live_runtime::spawn_live;
use crate::app::login_desk::LoginSetup;
use crate::app::runtime::{DemoOptions, RuntimeHandle, spawn_demo};
use crate::cli::Env;
use crate::config::{Config, Secrets};
use crate::logging::{self, LogFormat};
use crate::sim::{FaultConfig, Scenario, Speed};
use crate::telegram::api::AccountKind;
use crate::telegram::live::LiveConnection;
use anyhow::{Context, Result, anyhow, bail};
use clap::Args;
use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitCode;
use warden_store::Store;

#[derive(Debug, Clone, Args)]
pub struct DemoArgs {
    /// Built-in scenario name or a scenario TOML file (see assets/scenarios/).
    #[arg(long, default_value = "demo")]
    pub scenario: String,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Simulated seconds per real second (`max` plays as fast as possible).
    #[arg(long, default_value = "20")]
    pub speed: String,
    /// Record everything, send nothing: the console shows DRY-RUN.
    #[arg(long)]
    pub dry_run: bool,
}

impl Default for DemoArgs {
    fn default() -> Self {
        DemoArgs {
            scenario: "demo".into(),
            seed: 1,
            speed: "20".into(),
            dry_run: false,
        }
    }
}

/// `warden` with no subcommand: the live console when a Telegram account can connect, else the
/// demo (where `:login` sets one up).
pub fn open(env: &Env, dry_run: bool) -> Result<ExitCode> {
    env.paths.ensure_dirs()?;
    let _log = logging::init(&env.paths.log_dir, LogFormat::Text)?;
    let demo = DemoArgs {
        dry_run,
        ..DemoArgs::default()
    };
    run_until_quit(env, dry_run, || {
        if account_ready(&env.secrets()?, &env.paths.sessions_dir) {
            live_console(env, dry_run)
        } else {
            demo_console(env, &demo)
        }
    })
}

/// `warden demo`: the simulated community in its own database, never mixed with a real one.
pub fn demo(env: &Env, args: DemoArgs) -> Result<ExitCode> {
    env.paths.ensure_dirs()?;
    let _log = logging::init(&env.paths.log_dir, LogFormat::Text)?;
    let dry_run = args.dry_run;
    run_until_quit(env, dry_run, || demo_console(env, &args))
}

/// Runs `first`, then the live console again each time a login from the console asks to
/// reconnect, until the moderator quits.
fn run_until_quit(
    env: &Env,
    dry_run: bool,
    first: impl FnOnce() -> Result<ConsoleExit>,
) -> Result<ExitCode> {
    let mut exit = first()?;
    while exit == ConsoleExit::Reconnect {
        tracing::info!("reconnecting after a console login");
        exit = live_console(env, dry_run)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// An account can connect: a bot token, or a user account that has logged in. (With only the
/// api_id and api_hash the demo opens, and `:login user` sets the account up.)
fn account_ready(secrets: &Secrets, sessions_dir: &Path) -> bool {
    let user_session = sessions_dir.join(AccountKind::User.session_file()).exists();
    secrets.has_bot() || (secrets.has_user() && user_session)
}

fn live_console(env: &Env, dry_run: bool) -> Result<ConsoleExit> {
    let secrets = env.secrets()?;
    let config = live_config(env, dry_run);
    let store = Store::open(&env.paths.db_file)?;
    eprintln!("Connecting to Telegram…");
    let connection = LiveConnection::open(&env.paths.sessions_dir, &secrets, &config.telegram)?;
    let login = LoginSetup {
        sessions_dir: env.paths.sessions_dir.clone(),
        secrets,
        telegram: config.telegram.clone(),
    };
    let runtime = spawn_live(config.clone(), store, connection, Some(login))?;
    console_over(env, &env.paths.db_file, &config, runtime)
}

fn demo_console(env: &Env, args: &DemoArgs) -> Result<ConsoleExit> {
    let scenario = Scenario::load(&args.scenario).map_err(|e| anyhow!("{e}"))?;
    let speed: Speed = args.speed.parse().map_err(|e: String| anyhow!(e))?;
    let db = &env.paths.demo_db_file;
    // Every demo replays the same simulated timeline: start from an empty database.
    for suffix in ["", "-wal", "-shm"] {
        let file = std::path::PathBuf::from(format!("{}{suffix}", db.display()));
        if file.exists() {
            std::fs::remove_file(&file)
                .with_context(|| format!("cannot reset the demo database {}", file.display()))?;
        }
    }
    let store = Store::open(db)?;
    let config = live_config(env, args.dry_run);
    tracing::info!(scenario = %scenario.name, seed = args.seed, "demo starting");
    let runtime = spawn_demo(
        config.clone(),
        store,
        DemoOptions {
            scenario,
            seed: args.seed,
            speed,
            faults: FaultConfig::default(),
            // A broken secrets file must not keep anyone out of the demo (`:login` is then refused).
            login: env.secrets().ok().map(|secrets| LoginSetup {
                sessions_dir: env.paths.sessions_dir.clone(),
                secrets,
                telegram: config.telegram.clone(),
            }),
        },
    )?;
    console_over(env, db, &config, runtime)
}

/// The config with `--dry-run` applied: everything recorded, nothing sent.
fn live_config(env: &Env, dry_run: bool) -> Config {
    let mut config = env.config.clone();
    if dry_run {
        config.policy.mode = crate::policy::ChatMode::DryRun;
    }
    config
}

/// Runs the console until the moderator quits (or a login asks to reconnect), then stops the
/// runtime.
fn console_over(
    env: &Env,
    db: &Path,
    config: &Config,
    runtime: RuntimeHandle,
) -> Result<ConsoleExit> {
    let options = ConsoleOptions {
        keymap_file: Some(env.paths.keymap_file.clone()).filter(|f| f.exists()),
        policy: config.policy.clone(),
        ..ConsoleOptions::default()
    };
    let console = run_console(
        db,
        runtime.view.clone(),
        runtime.to_runtime.clone(),
        runtime.notices,
        options,
    );
    let _ = runtime.to_runtime.send(ToRuntime::Quit);
    let finished = runtime
        .thread
        .join()
        .map_err(|_| anyhow!("the runtime thread panicked (see the log)"))?;
    let exit = console?;
    finished?;
    Ok(exit)
}

#[derive(Debug, Clone, Args)]
pub struct DaemonArgs {
    /// Serve Prometheus metrics at http://ADDR/metrics (e.g. 127.0.0.1:9464).
    #[arg(long, value_name = "ADDR")]
    pub metrics: Option<SocketAddr>,
    /// Record everything, send nothing.
    #[arg(long)]
    pub dry_run: bool,
}

/// `warden daemon`: the live runtime without a terminal; JSON logs; stops cleanly on SIGTERM or
/// Ctrl-C. A console can open the same database alongside it.
pub fn daemon(env: &Env, args: DaemonArgs) -> Result<ExitCode> {
    env.paths.ensure_dirs()?;
    let _log = logging::init(&env.paths.log_dir, LogFormat::Json)?;
    let secrets = env.secrets()?;
    if secrets.is_empty() {
        bail!(
            "`warden daemon` needs a Telegram account: set WARDEN_BOT_TOKEN, WARDEN_API_ID and              WARDEN_API_HASH (or secrets.toml), or run `warden login user`"
        );
    }
    if let Some(addr) = args.metrics {
        crate::metrics::serve(addr)?;
        tracing::info!(%addr, "serving metrics");
    }
    let config = live_config(env, args.dry_run);
    let store = Store::open(&env.paths.db_file)?;
    let connection = LiveConnection::open(&env.paths.sessions_dir, &secrets, &config.telegram)?;
    let accounts: Vec<String> = connection
        .connected
        .iter()
        .map(|a| a.kind.to_string())
        .collect();
    tracing::info!(?accounts, db = %env.paths.db_file.display(), "daemon started");
    let runtime = spawn_live(config, store, connection, None)?;
    let signal = wait_for_stop(&runtime)?;
    tracing::info!(signal, "stopping");
    let _ = runtime.to_runtime.send(ToRuntime::Quit);
    runtime
        .thread
        .join()
        .map_err(|_| anyhow!("the runtime thread panicked (see the log)"))??;
    tracing::info!("daemon stopped");
    Ok(ExitCode::SUCCESS)
}

/// Blocks until SIGTERM, SIGINT or the runtime ending on its own (an error); says which.
fn wait_for_stop(runtime: &RuntimeHandle) -> Result<&'static str> {
    use tokio::signal::unix::{SignalKind, signal};
    let signals = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the signal watcher")?;
    signals.block_on(async {
        let mut term = signal(SignalKind::terminate()).context("cannot watch SIGTERM")?;
        let mut interrupt = signal(SignalKind::interrupt()).context("cannot watch SIGINT")?;
        let mut tick = tokio::time::interval(std::time::Duration::from_millis(200));
        loop {
            tokio::select! {
                _ = term.recv() => return Ok("SIGTERM"),
                _ = interrupt.recv() => return Ok("SIGINT"),
                _ = tick.tick() => {
                    if runtime.thread.is_finished() {
                        return Ok("runtime ended");
                    }
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_live_console_opens_only_when_an_account_can_connect() {
        let dir = tempfile::tempdir().unwrap();
        let api = Secrets {
            api_id: Some(12345),
            api_hash: Some("hash".into()),
            ..Secrets::default()
        };
        assert!(!account_ready(&Secrets::default(), dir.path()));
        // api_id and api_hash alone: the demo, where `:login user` sets the account up.
        assert!(!account_ready(&api, dir.path()));
        std::fs::write(dir.path().join(AccountKind::User.session_file()), b"").unwrap();
        assert!(account_ready(&api, dir.path()), "after a login");
        let bot = Secrets {
            bot_token: Some("1:abc".into()),
            ..Secrets::default()
        };
        assert!(account_ready(&bot, tempfile::tempdir().unwrap().path()));
    }
}
