//! Headless runs: `warden simulate` (scenarios graded against their ground truth), `warden import`
//! (a Telegram Desktop export replayed in dry-run) and `warden samples` (spam/ham sets in and out).
//! All three drive the same [`Pipeline`] the console uses.

use crate::action::{Action, ActionKind, Gateway, GatewayError};
use crate::app::captcha_gate::CaptchaGate;
use crate::app::pipeline::{Outcome, Pipeline};
use crate::cli::Env;
use crate::cli::records::unix_now;
use crate::config::Config;
use crate::import::samples::{self, Label, Sample, SampleFormat};
use crate::import::{ImportOptions, ImportSummary, read_export_file};
use crate::model::{ButtonPress, ChatId, Event, Timestamp, UserId};
use crate::policy::ChatMode;
use crate::policy::executor::{Executor, action_from_row};
use crate::raid::{Containment, RaidSignal};
use crate::sim::{
    CaptchaTally, FaultConfig, FaultStats, Pacer, Scenario, ScoreReport, Scorecard, SimGateway,
    SimItem, Simulator, Speed, Suppressed,
};
use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use serde::Serialize;
use std::collections::{BTreeMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;
use warden_store::{ActionRow, MAX_PAGE, NewLabel, Store};

/// How long after a scenario's end the executor keeps retrying (flood waits, backoff) before the
/// run gives up on the outbox; generous next to the backoff cap a run can reach.
const DRAIN_LIMIT_S: i64 = 6 * 3600;
/// Clusters at least this large are reported (pairs are too weak to call a ring).
const REPORTED_CLUSTER_MIN: usize = 3;
/// Examples shown per section of the import report.
const EXAMPLES: usize = 5;

#[derive(Debug, Clone, Args)]
pub struct SimulateArgs {
    /// A built-in scenario (chatter, spam-wave, raid, ring, evasion, demo), a scenario file, or `all`.
    #[arg(long, default_value = "all")]
    pub scenario: String,
    /// Seed of the run (default: the scenario's own).
    #[arg(long)]
    pub seed: Option<u64>,
    /// `max` (never wait) or simulated seconds per wall second (`60`, `10x`).
    #[arg(long, default_value = "max")]
    pub speed: Speed,
    /// Print the reports as JSON.
    #[arg(long)]
    pub json: bool,
    /// Fault injection: share of gateway calls that fail transiently (0..1).
    #[arg(long, value_name = "RATE")]
    pub failure_rate: Option<f64>,
    /// Fault injection: share of gateway calls answered with FLOOD_WAIT (0..1).
    #[arg(long, value_name = "RATE")]
    pub flood_wait_rate: Option<f64>,
}

#[derive(Debug, Clone, Args)]
pub struct ImportArgs {
    /// Telegram Desktop's machine-readable export (`result.json`).
    pub path: PathBuf,
    /// Keep the replay in the console's database as history (default: a throwaway store).
    #[arg(long)]
    pub store: bool,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Subcommand)]
pub enum SamplesCommand {
    /// Add samples from a file to the store's training labels.
    Import {
        file: PathBuf,
        /// Label for one-sample-per-line files (default: from the file name, e.g. spam-samples.txt).
        #[arg(long)]
        label: Option<String>,
        /// lines | tsv | csv (default: from the file extension).
        #[arg(long)]
        format: Option<String>,
    },
    /// Write the store's labels to stdout.
    Export {
        /// lines | tsv | csv (lines carry no label: pass --label with it).
        #[arg(long, default_value = "tsv")]
        format: String,
        /// Only spam or only ham.
        #[arg(long)]
        label: Option<String>,
    },
}

// ---- simulate ------------------------------------------------------------------------------------

/// Outbox rows of a run by final state: nothing acknowledged may stay pending or fail silently.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct OutboxTally {
    pub enqueued: u64,
    pub done: u64,
    /// Completed as "would do" (dry-run chats).
    pub dry_run: u64,
    pub failed: u64,
    /// Failed rows with no error recorded (must stay 0).
    pub failed_without_error: u64,
    /// Still pending or running when the run ended (must stay 0).
    pub unfinished: u64,
    /// Rows that needed more than one attempt.
    pub retried: u64,
}

impl OutboxTally {
    /// Every row ended done, or failed with its error recorded.
    pub fn nothing_lost(&self) -> bool {
        self.unfinished == 0 && self.failed_without_error == 0
    }
}

/// One scenario run: the graded report plus what the action seam saw.
#[derive(Debug, Clone, Serialize)]
pub struct SimRun {
    pub report: ScoreReport,
    pub outbox: OutboxTally,
    pub faults: FaultStats,
    pub suppressed: Suppressed,
    /// The join captcha's outcomes by ground truth (`None` when no chat ran it).
    pub captcha: Option<CaptchaTally>,
    /// Simulated seconds after the scenario's end the executor needed to finish its retries.
    pub drain_s: i64,
    pub wall_ms: u64,
}

impl std::fmt::Display for SimRun {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.report)?;
        let o = &self.outbox;
        write!(
            f,
            "  outbox: {} enqueued, {} done, {} dry-run, {} failed, {} retried, {} unfinished",
            o.enqueued, o.done, o.dry_run, o.failed, o.retried, o.unfinished
        )?;
        if self.drain_s > 0 {
            write!(f, " (drained {} s after the end)", self.drain_s)?;
        }
        writeln!(f)?;
        let s = &self.suppressed;
        writeln!(
            f,
            "  stopped by actions: {} posts of banned/removed, {} muted, {} bunker, {} lockdown",
            s.banned_or_removed, s.muted, s.bunker, s.lockdown
        )?;
        if let Some(c) = &self.captcha {
            writeln!(
                f,
                "  captcha: {} challenged; bots {} removed, {} guessed right; people {} passed, {} removed",
                c.challenged, c.bots_removed, c.bots_passed, c.people_passed, c.people_removed
            )?;
        }
        let fs = &self.faults;
        if fs.transient + fs.permanent + fs.flood_waits + fs.disconnected > 0 {
            writeln!(
                f,
                "  faults: {} calls, {} ok, {} transient, {} permanent, {} flood waits, {} disconnected",
                fs.calls, fs.ok, fs.transient, fs.permanent, fs.flood_waits, fs.disconnected
            )?;
        }
        writeln!(f, "  wall time {:.2} s", self.wall_ms as f64 / 1000.0)
    }
}

pub fn simulate(env: &Env, args: &SimulateArgs) -> Result<ExitCode> {
    let scenarios = if args.scenario == "all" {
        Scenario::all()?
    } else {
        vec![Scenario::load(&args.scenario)?]
    };
    let mut runs = Vec::new();
    for scenario in &scenarios {
        let mut faults = scenario.faults.clone();
        if let Some(rate) = args.failure_rate {
            faults.failure_rate = rate;
        }
        if let Some(rate) = args.flood_wait_rate {
            faults.flood_wait_rate = rate;
        }
        let seed = args.seed.unwrap_or(scenario.seed);
        let run = simulate_scenario(&env.config, scenario, seed, faults, args.speed)
            .with_context(|| format!("scenario {}", scenario.name))?;
        if !args.json {
            println!("{run}");
        }
        runs.push(run);
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&runs)?);
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs one scenario to its end through a fresh pipeline on a throwaway store, with an executor
/// carrying due actions out through the simulator's gateway every simulated second.
pub fn simulate_scenario(
    config: &Config,
    scenario: &Scenario,
    seed: u64,
    faults: FaultConfig,
    speed: Speed,
) -> Result<SimRun> {
    let started = Instant::now();
    let dir = tempfile::tempdir().context("cannot create a temporary store")?;
    let store = Store::open(&dir.path().join("simulate.db"))?;
    let mut sim = Simulator::new(scenario, seed);
    let captcha = scenario.captcha_config(&config.telegram.captcha);
    let mut run = SimLoop {
        captcha_on: captcha.enabled,
        captcha: CaptchaGate::new(captcha, seed),
        pipeline: Pipeline::new(config, store.clone(), sim.start())?,
        executor: Executor::new(store.clone(), config.policy.executor.clone()),
        gateway: sim.gateway(faults),
        store: store.clone(),
        clock: sim.start(),
        next_due: None,
    };
    let mut card = Scorecard::new(&scenario.name, seed);
    let mut pacer = Pacer::new(speed, sim.start(), Instant::now());
    while let Some(item) = sim.next_item() {
        let at = item.date();
        run.advance_to(at)?;
        if let Some(wait) = pacer.delay_until(at, Instant::now())
            && !wait.is_zero()
        {
            std::thread::sleep(wait);
        }
        pacer.delivered(at, Instant::now());
        let (event, truth) = match item {
            SimItem::Event(event, truth) => (event, truth),
            SimItem::Press(press) => {
                run.press(&press)?;
                continue;
            }
        };
        card.observe(&event, &truth);
        let outcome = run.handle(&event)?;
        if outcome.flagged()
            && let Event::Message(m) | Event::Edited(m) = &event
        {
            card.flag(m.chat_id, m.id);
        }
    }
    run.advance_to(sim.end())?;
    let drain_s = run.drain(sim.end() + DRAIN_LIMIT_S)? - sim.end();
    store.writer().flush()?;

    let clusters = reported_clusters(&run.pipeline);
    card.clusters(clusters);
    let mut outbox = OutboxTally::default();
    for row in outbox_rows(&store)? {
        outbox.enqueued += 1;
        if row.attempts > 1 {
            outbox.retried += 1;
        }
        match row.state.as_str() {
            "done" if row.dry_run => outbox.dry_run += 1,
            "done" => {
                outbox.done += 1;
                // Scored as carried out, at the time it was.
                if let Some(action) = action_from_row(&row) {
                    card.action(&action, row.updated_at);
                }
            }
            "failed" => {
                outbox.failed += 1;
                if row.last_error.as_deref().is_none_or(str::is_empty) {
                    outbox.failed_without_error += 1;
                }
            }
            _ => outbox.unfinished += 1,
        }
    }
    Ok(SimRun {
        report: card.report(),
        outbox,
        faults: run.gateway.fault_stats(),
        suppressed: sim.suppressed(),
        captcha: run.captcha_on.then(|| sim.captcha_tally()),
        drain_s: drain_s.max(0),
        wall_ms: started.elapsed().as_millis() as u64,
    })
}

/// The pipeline, the executor and the simulated clock of one run.
struct SimLoop {
    pipeline: Pipeline,
    executor: Executor,
    gateway: SimGateway,
    store: Store,
    /// The last simulated second ticked.
    clock: Timestamp,
    /// Earliest time an outbox row may be due; `None` when the outbox is idle.
    next_due: Option<Timestamp>,
    captcha: CaptchaGate,
    captcha_on: bool,
}

impl SimLoop {
    fn handle(&mut self, event: &Event) -> Result<Outcome> {
        let outcome = self.pipeline.handle(event)?;
        let challenged = self
            .captcha
            .on_event(&mut self.pipeline, &mut self.gateway, event)?;
        if !outcome.enqueued.is_empty() || challenged > 0 {
            self.due_at(event.date());
        }
        // The executor works while the second runs: what this event enqueued goes out now.
        self.run_due(event.date())?;
        Ok(outcome)
    }

    fn press(&mut self, press: &ButtonPress) -> Result<()> {
        if self
            .captcha
            .on_press(&mut self.pipeline, &mut self.gateway, press)?
            > 0
        {
            self.due_at(press.date);
        }
        self.run_due(press.date)
    }

    fn run_due(&mut self, now: Timestamp) -> Result<()> {
        if self.next_due.is_some_and(|due| due <= now) {
            self.executor.run_due(&mut self.gateway, now)?;
            self.next_due = self.earliest_pending()?;
        }
        Ok(())
    }

    fn due_at(&mut self, at: Timestamp) {
        self.next_due = Some(self.next_due.map_or(at, |due| due.min(at)));
    }

    /// Ticks every simulated second up to `to`: raid timers, then due actions.
    fn advance_to(&mut self, to: Timestamp) -> Result<()> {
        while self.clock < to {
            self.clock += 1;
            let now = self.clock;
            if !self.pipeline.tick(now)?.is_empty() {
                self.due_at(now);
            }
            if self
                .captcha
                .expire(&mut self.pipeline, &mut self.gateway, now)?
                > 0
            {
                self.due_at(now);
            }
            self.run_due(now)?;
        }
        Ok(())
    }

    /// Keeps executing retries after the scenario's end; returns the time the outbox went idle
    /// (or `limit`).
    fn drain(&mut self, limit: Timestamp) -> Result<Timestamp> {
        while let Some(due) = self.next_due {
            if due > limit {
                break;
            }
            // Jump over idle stretches: nothing happens in the chats any more.
            self.clock = self.clock.max(due - 1);
            self.advance_to(due.max(self.clock + 1))?;
        }
        Ok(self.clock)
    }

    fn earliest_pending(&self) -> Result<Option<Timestamp>> {
        let reader = self.store.reader()?;
        let mut earliest: Option<Timestamp> = None;
        let mut cursor = None;
        loop {
            let page = reader.actions(Some("pending"), None, cursor, MAX_PAGE)?;
            for row in &page.items {
                earliest = Some(earliest.map_or(row.not_before, |e| e.min(row.not_before)));
            }
            match page.next {
                Some(next) => cursor = Some(next),
                None => return Ok(earliest),
            }
        }
    }
}

/// Every outbox row, oldest first.
fn outbox_rows(store: &Store) -> Result<Vec<ActionRow>> {
    let reader = store.reader()?;
    let mut rows = Vec::new();
    let mut cursor = None;
    loop {
        let page = reader.actions(None, None, cursor, MAX_PAGE)?;
        rows.extend(page.items);
        match page.next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    rows.reverse();
    Ok(rows)
}

/// Member lists of the clusters worth reporting.
fn reported_clusters(pipeline: &Pipeline) -> Vec<Vec<UserId>> {
    pipeline
        .clusters
        .clusters()
        .into_iter()
        .filter(|c| c.size >= REPORTED_CLUSTER_MIN)
        .map(|c| pipeline.clusters.members(c.id))
        .collect()
}

// ---- import --------------------------------------------------------------------------------------

/// A message the replay would have acted on.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImportExample {
    pub message_id: i64,
    /// The check of an edit (the message was checked before too).
    pub edit: bool,
    pub user_id: UserId,
    pub sender: String,
    pub date: Timestamp,
    pub score: f32,
    /// Detector hits and rules that fired, strongest first.
    pub reasons: Vec<String>,
    /// What would have been done (action kinds).
    pub actions: Vec<String>,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImportRaid {
    pub chat_id: ChatId,
    pub started_at: Timestamp,
    pub detected_at: Timestamp,
    pub participants: usize,
    pub trigger: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImportCluster {
    pub size: usize,
    pub score: f64,
    pub kinds: Vec<String>,
    pub members: Vec<UserId>,
}

/// What a dry-run replay of an export would have done.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ImportReport {
    pub summary: ImportSummary,
    /// Messages and edits checked.
    pub messages: u64,
    pub edits: u64,
    /// Checks (messages or edits) that would have been flagged.
    pub flagged: u64,
    /// Distinct users a ban or kick would have removed.
    pub would_ban: u64,
    pub would_do: BTreeMap<String, u64>,
    pub raids: Vec<ImportRaid>,
    /// Containment changes the raid detector would have made ("chat: from → to").
    pub containment: Vec<String>,
    pub clusters: Vec<ImportCluster>,
    pub flagged_examples: Vec<ImportExample>,
    pub ban_examples: Vec<ImportExample>,
    /// True when the replay was kept in the console's database.
    pub stored: bool,
}

pub fn import(env: &Env, args: &ImportArgs) -> Result<ExitCode> {
    let report = if args.store {
        let store = env.open_store()?;
        let mut report = import_export(&env.config, &args.path, store)?;
        report.stored = true;
        report
    } else {
        let dir = tempfile::tempdir().context("cannot create a temporary store")?;
        let store = Store::open(&dir.path().join("import.db"))?;
        import_export(&env.config, &args.path, store)?
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{report}");
    }
    Ok(ExitCode::SUCCESS)
}

/// Replays an export through the pipeline with every chat in dry-run: actions are recorded as
/// "would do", nothing reaches Telegram.
pub fn import_export(config: &Config, path: &Path, store: Store) -> Result<ImportReport> {
    let mut config = config.clone();
    config.policy.mode = ChatMode::DryRun;
    for chat in config.policy.chats.values_mut() {
        chat.mode = Some(ChatMode::DryRun);
    }
    let mut pipeline = Pipeline::new(&config, store.clone(), 0)?;
    let mut report = ImportReport::default();
    let mut banned: HashSet<UserId> = HashSet::new();
    let summary = read_export_file(path, &ImportOptions::default(), |event| {
        pipeline.tick(event.date())?;
        let outcome = pipeline.handle(&event)?;
        collect(&mut report, &mut banned, &event, &outcome);
        Ok(())
    })?;
    report.summary = summary;
    report.would_ban = banned.len() as u64;
    // Settle the dry-run outbox ("would do" in the audit log); no row may reach a gateway.
    Executor::new(store.clone(), config.policy.executor.clone())
        .run_due(&mut NoTelegram, pipeline.now().max(unix_now()))?;
    store.writer().flush()?;
    for summary in pipeline.clusters.clusters() {
        if summary.size < REPORTED_CLUSTER_MIN {
            continue;
        }
        report.clusters.push(ImportCluster {
            size: summary.size,
            score: summary.score,
            kinds: summary.kinds.iter().map(|k| k.name().to_string()).collect(),
            members: pipeline.clusters.members(summary.id),
        });
    }
    Ok(report)
}

fn collect(
    report: &mut ImportReport,
    banned: &mut HashSet<UserId>,
    event: &Event,
    outcome: &Outcome,
) {
    for signal in &outcome.raid_signals {
        match signal {
            RaidSignal::RaidStarted { chat, raid } => report.raids.push(ImportRaid {
                chat_id: *chat,
                started_at: raid.started_at,
                detected_at: raid.detected_at,
                participants: raid.participants.len(),
                trigger: format!("{:?}", raid.trigger).to_lowercase(),
            }),
            RaidSignal::ContainmentChanged(change) if change.to != Containment::Normal => {
                report.containment.push(format!(
                    "{}: {} → {}",
                    change.chat,
                    change.from.name(),
                    change.to.name()
                ))
            }
            _ => {}
        }
    }
    let actions: Vec<&Action> = outcome
        .decision
        .iter()
        .flat_map(|d| d.planned.iter().map(|p| &p.action))
        .collect();
    for action in &actions {
        *report
            .would_do
            .entry(action.kind.name().to_string())
            .or_default() += 1;
    }
    let (Event::Message(msg) | Event::Edited(msg)) = event else {
        return;
    };
    if matches!(event, Event::Edited(_)) {
        report.edits += 1;
    } else {
        report.messages += 1;
    }
    let bans = actions
        .iter()
        .any(|a| matches!(a.kind, ActionKind::Ban { .. } | ActionKind::Kick));
    let newly_banned = bans && banned.insert(msg.from.id);
    if !outcome.flagged() && !bans {
        return;
    }
    if outcome.flagged() {
        report.flagged += 1;
    }
    let example = || {
        let verdict = outcome.verdict.as_ref();
        let mut hits: Vec<_> = verdict
            .map(|v| v.hits.iter().filter(|h| h.weight > 0.0).collect())
            .unwrap_or_default();
        hits.sort_by(|a, b| b.weight.total_cmp(&a.weight));
        let mut reasons: Vec<String> = hits
            .iter()
            .take(4)
            .map(|h| format!("{}: {}", h.name, h.reason))
            .collect();
        if let Some(decision) = &outcome.decision {
            reasons.extend(decision.fired.iter().map(|f| format!("rule {}", f.rule)));
        }
        ImportExample {
            message_id: msg.id,
            edit: matches!(event, Event::Edited(_)),
            user_id: msg.from.id,
            sender: msg.from.display_name(),
            date: msg.date,
            score: verdict.map_or(0.0, |v| v.score),
            reasons,
            actions: actions.iter().map(|a| a.kind.name().to_string()).collect(),
            text: snippet(&msg.text, 120),
        }
    };
    if outcome.flagged() && report.flagged_examples.len() < EXAMPLES {
        report.flagged_examples.push(example());
    }
    if newly_banned && report.ban_examples.len() < EXAMPLES {
        report.ban_examples.push(example());
    }
}

/// The first `max` characters on one line.
fn snippet(text: &str, max: usize) -> String {
    let flat: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    match flat.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &flat[..cut]),
        None => flat,
    }
}

/// The replay's gateway: dry-run rows never reach one, so any call is a bug worth an error.
struct NoTelegram;

impl Gateway for NoTelegram {
    fn execute(&mut self, _action: &Action, _now: Timestamp) -> Result<(), GatewayError> {
        Err(GatewayError::Permanent(
            "an export replay never acts on Telegram".into(),
        ))
    }
}

impl std::fmt::Display for ImportReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let h = &self.summary.header;
        let s = &self.summary.stats;
        writeln!(
            f,
            "export \"{}\" (chat {}): {} messages, {} service messages, {} edits, {} events",
            h.name, h.chat_id, s.messages, s.service_messages, s.edits, s.events
        )?;
        if s.out_of_order > 0 {
            writeln!(f, "  {} messages out of time order", s.out_of_order)?;
        }
        writeln!(
            f,
            "dry run: {} messages and {} edits checked, {} would be flagged, {} users would be banned",
            self.messages, self.edits, self.flagged, self.would_ban
        )?;
        if !self.would_do.is_empty() {
            let kinds: Vec<String> = self
                .would_do
                .iter()
                .map(|(k, n)| format!("{k} {n}"))
                .collect();
            writeln!(f, "  would do: {}", kinds.join(", "))?;
        }
        write_examples(f, "flagged", &self.flagged_examples)?;
        write_examples(f, "banned", &self.ban_examples)?;
        writeln!(f, "raids: {}", self.raids.len())?;
        for raid in &self.raids {
            writeln!(
                f,
                "  chat {} at {}: {} accounts ({}), detected after {} s",
                raid.chat_id,
                crate::cli::records::format_time(raid.started_at),
                raid.participants,
                raid.trigger,
                raid.detected_at - raid.started_at
            )?;
        }
        for change in &self.containment {
            writeln!(f, "  containment {change}")?;
        }
        writeln!(f, "clusters: {}", self.clusters.len())?;
        for cluster in &self.clusters {
            writeln!(
                f,
                "  {} accounts, score {:.2} ({}): {}",
                cluster.size,
                cluster.score,
                cluster.kinds.join(", "),
                cluster
                    .members
                    .iter()
                    .map(|m| m.to_string())
                    .collect::<Vec<_>>()
                    .join(" ")
            )?;
        }
        if self.stored {
            writeln!(f, "kept in the console's database as history")?;
        }
        Ok(())
    }
}

fn write_examples(
    f: &mut std::fmt::Formatter<'_>,
    what: &str,
    examples: &[ImportExample],
) -> std::fmt::Result {
    if examples.is_empty() {
        return Ok(());
    }
    writeln!(f, "  top {what}:")?;
    for e in examples {
        writeln!(
            f,
            "    #{}{} {} ({}) score {:.0}% → {}: {}",
            e.message_id,
            if e.edit { " (edit)" } else { "" },
            e.sender,
            e.user_id,
            e.score * 100.0,
            if e.actions.is_empty() {
                "review".to_string()
            } else {
                e.actions.join("+")
            },
            e.text
        )?;
        for reason in &e.reasons {
            writeln!(f, "        {reason}")?;
        }
    }
    Ok(())
}

// ---- samples -------------------------------------------------------------------------------------

/// What `samples import` did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SamplesImported {
    pub added: usize,
    /// Already in the store with the same label.
    pub duplicates: usize,
}

pub fn samples(env: &Env, cmd: SamplesCommand) -> Result<ExitCode> {
    let store = env.open_store()?;
    match cmd {
        SamplesCommand::Import {
            file,
            label,
            format,
        } => {
            let label = label.as_deref().map(parse_label).transpose()?;
            let format = format.as_deref().map(parse_format).transpose()?;
            let by = format!("mod:{}", env.config.general.moderator);
            let done = import_samples(&store, &file, format, label, &by, unix_now())?;
            println!(
                "{}: {} samples added, {} already present",
                file.display(),
                done.added,
                done.duplicates
            );
        }
        SamplesCommand::Export { format, label } => {
            let format = parse_format(&format)?;
            let label = label.as_deref().map(parse_label).transpose()?;
            let stdout = std::io::stdout();
            let mut out = stdout.lock();
            export_samples(&store, format, label, &mut out)?;
            out.flush()?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn parse_label(text: &str) -> Result<Label> {
    Label::parse(text).with_context(|| format!("--label must be spam or ham, not `{text}`"))
}

fn parse_format(text: &str) -> Result<SampleFormat> {
    SampleFormat::parse(text)
        .with_context(|| format!("--format must be lines, tsv or csv, not `{text}`"))
}

/// Adds a file's samples to the store as labels (origin `import`), skipping ones already there.
pub fn import_samples(
    store: &Store,
    file: &Path,
    format: Option<SampleFormat>,
    label: Option<Label>,
    by: &str,
    now: Timestamp,
) -> Result<SamplesImported> {
    let format = format.unwrap_or_else(|| SampleFormat::from_path(file));
    let label = label.or_else(|| samples::label_from_file_name(file));
    let text =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let parsed =
        samples::parse(format, &text, label).with_context(|| format!("{}", file.display()))?;
    let mut known: HashSet<(String, String)> = store
        .reader()?
        .all_labels()?
        .into_iter()
        .map(|l| (l.label, l.text))
        .collect();
    let mut done = SamplesImported::default();
    for sample in parsed {
        let key = (sample.label.as_str().to_string(), sample.text);
        if known.contains(&key) {
            done.duplicates += 1;
            continue;
        }
        store.writer().add_label(NewLabel {
            chat_id: None,
            message_id: None,
            user_id: None,
            text: key.1.clone(),
            label: key.0.clone(),
            origin: "import".to_string(),
            by: by.to_string(),
            ts: now,
        })?;
        known.insert(key);
        done.added += 1;
    }
    Ok(done)
}

/// Writes the store's labels (oldest first), optionally of one kind.
pub fn export_samples(
    store: &Store,
    format: SampleFormat,
    label: Option<Label>,
    out: &mut impl Write,
) -> Result<usize> {
    if format == SampleFormat::Lines && label.is_none() {
        bail!("one-sample-per-line output carries no labels: pass --label spam or --label ham");
    }
    let samples: Vec<Sample> = store
        .reader()?
        .all_labels()?
        .into_iter()
        .filter_map(|l| {
            Some(Sample {
                label: Label::parse(&l.label)?,
                text: l.text,
            })
        })
        .filter(|s| label.is_none_or(|wanted| s.label == wanted))
        .collect();
    samples::write(format, &samples, out)?;
    Ok(samples.len())
}
