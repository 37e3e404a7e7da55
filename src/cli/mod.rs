//! The `warden` command line. Each domain keeps its own subcommands next to its code; this module
//! parses the global options, resolves paths and config once, and dispatches.

use crate::config::{Config, Secrets};
use crate::paths::{PathOverrides, Paths};
use anyhow::Result;
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

pub mod console;
pub mod headless;
pub mod records;

#[derive(Debug, Parser)]
#[command(
    name = "warden",
    version,
    about = "Terminal moderation console for Telegram communities"
)]
pub struct Cli {
    /// Config file (default: the platform config dir).
    #[arg(long, global = true, env = "WARDEN_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Data directory: database, sessions, logs.
    #[arg(long, global = true, env = "WARDEN_DATA", value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// Database file (default: warden.db in the data directory).
    #[arg(long, global = true, value_name = "FILE")]
    pub db: Option<PathBuf>,
    /// With no subcommand: open the console in dry-run (everything recorded, nothing sent).
    #[arg(long)]
    pub dry_run: bool,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Open the console on the built-in simulated community (its own database, marked DEMO).
    Demo(console::DemoArgs),
    /// The live runtime without a terminal, for servers: JSON logs, stops on SIGTERM, optional
    /// Prometheus metrics. A console can open the same database alongside it.
    Daemon(console::DaemonArgs),
    /// Print every path Warden uses.
    Paths,
    #[command(flatten)]
    Engine(crate::engine::cli::EngineCommand),
    /// A user's profile, strikes (reasons, who, when, expiry, forgiveness), bans, labels, messages.
    /// `--tag`, `--untag` and `--note` change the user first (a running console sees it at its next
    /// start; in the console use `:tag`, `:untag`, `:note`).
    User {
        id: i64,
        /// Only this chat.
        #[arg(long)]
        chat: Option<i64>,
        #[arg(long)]
        json: bool,
        /// Add a tag (repeatable).
        #[arg(long, value_name = "TAG")]
        tag: Vec<String>,
        /// Remove a tag (repeatable).
        #[arg(long, value_name = "TAG")]
        untag: Vec<String>,
        /// Set the moderator note; an empty string clears it.
        #[arg(long, value_name = "TEXT")]
        note: Option<String>,
    },
    /// Who joined a chat, newest first: when, how (added by, invite link, request) and who left.
    /// Join dates come from live joins and the member lists the Telegram account reads.
    Members {
        /// Chat id (e.g. -1001234567890) or part of its title.
        #[arg(allow_hyphen_values = true)]
        chat: String,
        /// Only members who joined within this long (e.g. 1h, 7d).
        #[arg(long)]
        since: Option<String>,
        #[arg(long, default_value_t = 100)]
        limit: usize,
        #[arg(long)]
        json: bool,
    },
    /// Remove a user's personal data (names, texts, memberships); the audit chain stays valid.
    Forget {
        id: i64,
        /// Confirm: this cannot be undone.
        #[arg(long)]
        yes: bool,
    },
    /// The hash-chained audit log.
    #[command(subcommand)]
    Audit(records::AuditCommand),
    /// Database maintenance.
    #[command(subcommand)]
    Db(records::DbCommand),
    /// Log a Telegram account in or out (`login bot`, `login user`, `logout user`).
    #[command(flatten)]
    Account(crate::telegram::cli::AccountCommand),
    /// Moderation rules: list, validate, import, export, history.
    #[command(subcommand)]
    Rules(crate::policy::cli::RulesCommand),
    /// Stop phrases: the shipped list with moderators' additions and removals (a running console
    /// applies changes at its next start; in the console use `:stop`, `:unstop`).
    #[command(subcommand)]
    StopPhrases(records::StopPhrasesCommand),
    /// Run simulated scenarios headless and grade the pipeline against their ground truth.
    Simulate(headless::SimulateArgs),
    /// Replay a Telegram Desktop export (result.json) through the pipeline in dry-run.
    Import(headless::ImportArgs),
    /// Move spam/ham samples in and out of the store.
    #[command(subcommand)]
    Samples(headless::SamplesCommand),
}

/// What every command needs: resolved paths and the loaded config.
pub struct Env {
    pub paths: Paths,
    pub config: Config,
}

impl Env {
    pub fn load(cli: &Cli) -> Result<Env> {
        let paths = Paths::resolve(&PathOverrides {
            config_file: cli.config.clone(),
            data_dir: cli.data.clone(),
            db_file: cli.db.clone(),
        })?;
        let config = Config::load(&paths.config_file)?;
        Ok(Env { paths, config })
    }

    pub fn secrets(&self) -> Result<Secrets> {
        Secrets::load(&self.paths.secrets_file)
    }
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(err) => {
            // The terminal may be gone (hangup): failing to print must not panic.
            use std::io::Write as _;
            let _ = writeln!(std::io::stderr(), "warden: {err:#}");
            ExitCode::FAILURE
        }
    }
}

pub fn run(cli: Cli) -> Result<ExitCode> {
    let env = Env::load(&cli)?;
    let dry_run = cli.dry_run;
    match cli.command {
        Some(Command::Paths) => {
            for (name, path) in env.paths.listing() {
                println!("{name:<14} {}", path.display());
            }
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::User {
            id,
            chat,
            json,
            tag,
            untag,
            note,
        }) => {
            let edit = records::UserEdit { tag, untag, note };
            records::user(&env, id, chat, json, &edit)
        }
        Some(Command::Members {
            chat,
            since,
            limit,
            json,
        }) => records::members(&env, &chat, since.as_deref(), limit, json),
        Some(Command::Forget { id, yes }) => records::forget(&env, id, yes),
        Some(Command::Audit(cmd)) => records::audit(&env, cmd),
        Some(Command::StopPhrases(cmd)) => records::stop_phrases(&env, cmd),
        Some(Command::Db(cmd)) => records::db(&env, cmd),
        Some(Command::Account(cmd)) => {
            env.paths.ensure_dirs()?;
            crate::telegram::cli::run(
                &cmd,
                &env.paths.sessions_dir,
                &env.secrets()?,
                &env.config.telegram,
            )?;
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Rules(cmd)) => {
            let store = env.open_store()?;
            let author = format!("mod:{}", env.config.general.moderator);
            crate::policy::cli::run_with(
                cmd,
                &store,
                &author,
                &env.config.policy,
                records::unix_now(),
            )
        }
        Some(Command::Demo(args)) => console::demo(&env, args),
        Some(Command::Engine(cmd)) => {
            let labels = env.stored_labels()?;
            crate::engine::cli::run(cmd, &env.config.engine, labels)
        }
        Some(Command::Simulate(args)) => headless::simulate(&env, &args),
        Some(Command::Import(args)) => headless::import(&env, &args),
        Some(Command::Samples(cmd)) => headless::samples(&env, cmd),
        Some(Command::Daemon(args)) => console::daemon(&env, args),
        None => console::open(&env, dry_run),
    }
}
