//! Opening the console: `warden` (demo when no Telegram account is configured) and `warden demo`.

use crate::app::console::{ConsoleOptions, run_console};
use crate::app::runtime::{DemoOptions, spawn_demo};
use crate::cli::Env;
use crate::logging::{self, LogFormat};
use crate::sim::{FaultConfig, Scenario, Speed};
use anyhow::{Context, Result, anyhow, bail};
use clap::Args;
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

/// `warden` with no subcommand.
pub fn open(env: &Env) -> Result<ExitCode> {
    let secrets = env.secrets()?;
    if secrets.is_empty() {
        return demo(env, DemoArgs::default());
    }
    bail!(
        "Telegram credentials are configured, but the live console is not wired to Telegram yet; \
         `warden demo` opens the console on the simulated community"
    )
}

/// `warden demo`: the simulated community in its own database, never mixed with a real one.
pub fn demo(env: &Env, args: DemoArgs) -> Result<ExitCode> {
    env.paths.ensure_dirs()?;
    let _log = logging::init(&env.paths.log_dir, LogFormat::Text)?;
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
    let mut config = env.config.clone();
    if args.dry_run {
        config.policy.mode = crate::policy::ChatMode::DryRun;
    }
    tracing::info!(scenario = %scenario.name, seed = args.seed, "demo starting");
    let runtime = spawn_demo(
        config.clone(),
        store,
        DemoOptions {
            scenario,
            seed: args.seed,
            speed,
            faults: FaultConfig::default(),
        },
    )?;
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
    let _ = runtime.to_runtime.send(crate::app::live::ToRuntime::Quit);
    let finished = runtime
        .thread
        .join()
        .map_err(|_| anyhow!("the runtime thread panicked (see the log)"))?;
    console?;
    finished?;
    Ok(ExitCode::SUCCESS)
}
