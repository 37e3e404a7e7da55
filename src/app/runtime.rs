//! The runtime thread: owns the pipeline, the executor and the event source; applies the
//! console's commands; publishes a [`LiveView`] at most ten times a second.

use crate::app::captcha_gate::CaptchaGate;
use crate::app::commands;
use crate::app::live::{LiveView, Notice, SharedView, ToRuntime};
use crate::app::login_desk::{LoginDesk, LoginSetup};
use crate::app::pipeline::{AlertKind, Pipeline};
use crate::config::Config;
use crate::model::Timestamp;
use crate::policy::{ChatMode, Executor};
use crate::raid::{Containment, RaidPhase};
use crate::sim::{FaultConfig, Pacer, Scenario, SimGateway, SimItem, Simulator, Speed};
use anyhow::{Context, Result};
use std::collections::{HashMap, VecDeque};
use std::sync::mpsc::{self, Receiver, Sender};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use warden_store::Store;
use warden_ui as ui;

/// How often the console gets a fresh view.
pub(crate) const PUBLISH_EVERY: Duration = Duration::from_millis(100);
/// Longest sleep between looking at the command channel.
pub(crate) const IDLE_STEP: Duration = Duration::from_millis(20);
/// Per-second rate history kept for the sparklines.
const RATE_SECONDS: usize = 120;

/// The demo: a simulated community played through the real pipeline.
pub struct DemoOptions {
    pub scenario: Scenario,
    pub seed: u64,
    pub speed: Speed,
    pub faults: FaultConfig,
    /// `:login` from the console (None: not offered).
    pub login: Option<LoginSetup>,
}

/// The console's side of a running runtime.
pub struct RuntimeHandle {
    pub view: SharedView,
    pub to_runtime: Sender<ToRuntime>,
    pub notices: Receiver<Notice>,
    pub thread: JoinHandle<Result<()>>,
}

/// Starts the demo runtime on its own thread.
pub fn spawn_demo(config: Config, store: Store, options: DemoOptions) -> Result<RuntimeHandle> {
    spawn_runtime(move |view, commands, notices| {
        run_demo(config, store, options, view, commands, notices)
    })
}

/// Runs `body` on the runtime thread with the channels the console talks through; an error that
/// ends it is logged (the console only sees the thread end).
pub(crate) fn spawn_runtime<F>(body: F) -> Result<RuntimeHandle>
where
    F: FnOnce(SharedView, Receiver<ToRuntime>, Sender<Notice>) -> Result<()> + Send + 'static,
{
    let view = SharedView::default();
    let (to_runtime, commands_rx) = mpsc::channel();
    let (notices_tx, notices) = mpsc::channel();
    let shared = view.clone();
    let thread = std::thread::Builder::new()
        .name("warden-runtime".into())
        .spawn(move || {
            let result = body(shared, commands_rx, notices_tx);
            if let Err(err) = &result {
                tracing::error!("runtime stopped: {err:#}");
            }
            result
        })
        .context("cannot start the runtime thread")?;
    Ok(RuntimeHandle {
        view,
        to_runtime,
        notices,
        thread,
    })
}

fn run_demo(
    config: Config,
    store: Store,
    options: DemoOptions,
    view: SharedView,
    commands_rx: Receiver<ToRuntime>,
    notices: Sender<Notice>,
) -> Result<()> {
    let sim = Simulator::new(&options.scenario, options.seed);
    let mut captcha = CaptchaGate::new(
        options.scenario.captcha_config(&config.telegram.captcha),
        options.seed,
    );
    let mut gateway: SimGateway = sim.gateway(options.faults.clone());
    let mut pipeline = Pipeline::new(&config, store.clone(), sim.start())?;
    let executor = Executor::new(store.clone(), config.policy.executor.clone());
    let mut publisher = Publisher::new(store, true)?;
    let mut pacer = Pacer::new(options.speed, sim.start(), Instant::now());
    let mut events = sim;
    let mut pending: Option<SimItem> = None;
    let mut finished = false;
    let mut last_second = events.start();
    let mut last_publish = Instant::now() - PUBLISH_EVERY;
    let mut login = LoginDesk::new(options.login);
    loop {
        for message in commands_rx.try_iter() {
            match message {
                ToRuntime::Quit => {
                    publisher.flush(&pipeline)?;
                    return Ok(());
                }
                ToRuntime::TogglePause => pacer.toggle_pause(Instant::now()),
                ToRuntime::Command(command) if login.handles(&command) => {
                    if let Some(notice) = login.apply(command, &notices) {
                        let _ = notices.send(notice);
                    }
                    last_publish = Instant::now() - PUBLISH_EVERY;
                }
                ToRuntime::Command(command) => {
                    let notice = commands::apply(&mut pipeline, &config.general.moderator, command);
                    let _ = notices.send(notice);
                    last_publish = Instant::now() - PUBLISH_EVERY;
                }
            }
        }
        if pending.is_none() && !finished {
            match events.next_item() {
                Some(item) => pending = Some(item),
                None => {
                    finished = true;
                    publisher.finished = true;
                }
            }
        }
        let now = Instant::now();
        let mut waited = false;
        if let Some(item) = &pending {
            match pacer.delay_until(item.date(), now) {
                None => waited = true,
                Some(delay) if !delay.is_zero() => {
                    std::thread::sleep(delay.min(IDLE_STEP));
                    waited = true;
                }
                Some(_) => {
                    match item {
                        SimItem::Event(event, _truth) => {
                            let outcome = pipeline.handle(event)?;
                            publisher.count(outcome.flagged(), outcome.verdict.is_some());
                            captcha.on_event(&mut pipeline, &mut gateway, event)?;
                        }
                        SimItem::Press(press) => {
                            captcha.on_press(&mut pipeline, &mut gateway, press)?;
                        }
                    }
                    pacer.delivered(item.date(), now);
                    pending = None;
                }
            }
        }
        let sim_now = if finished || pacer.is_paused() {
            pipeline.now()
        } else {
            (pacer.sim_now(Instant::now()) as Timestamp).max(pipeline.now())
        };
        if sim_now > last_second {
            last_second = sim_now;
            pipeline.tick(sim_now)?;
            captcha.expire(&mut pipeline, &mut gateway, sim_now)?;
            executor.run_due(&mut gateway, sim_now)?;
        }
        if last_publish.elapsed() >= PUBLISH_EVERY {
            last_publish = Instant::now();
            publisher.prompt = login.prompt();
            publisher.reconnect = login.logged_in();
            view.publish(publisher.build(&pipeline, sim_now)?);
        }
        // Paused or out of events: nothing to do until a command or the next second.
        if finished || (waited && pacer.is_paused()) {
            std::thread::sleep(IDLE_STEP);
        }
    }
}

type ClusterViews = (Vec<ui::ClusterRow>, HashMap<ui::ClusterId, ui::ClusterView>);

/// Builds the console's view from the pipeline and the store.
pub struct Publisher {
    reader: warden_store::Reader,
    demo: bool,
    pub finished: bool,
    /// The live accounts as the status bar shows them (empty in the demo).
    pub accounts: Vec<ui::AccountStatus>,
    pub user_account: bool,
    /// A login step waiting for the moderator.
    pub prompt: Option<ui::Prompt>,
    /// A login succeeded: the console should reconnect.
    pub reconnect: bool,
    /// The Investigator's user-account findings, by user.
    pub userbot: HashMap<ui::UserId, ui::UserbotView>,
    messages_per_sec: VecDeque<u64>,
    flagged_per_sec: VecDeque<u64>,
    current_second: Option<Instant>,
    /// Node positions by (cluster, size): laid out again only when a cluster grows or shrinks.
    layouts: HashMap<(ui::ClusterId, usize), NodePositions>,
}

/// (user, x, y) in 0..1 from the force layout.
type NodePositions = Vec<(i64, f64, f64)>;

/// The force layout is centred on (0, 0) in its own units; the console draws in 0..1 with a margin.
fn unit_square(positions: NodePositions) -> NodePositions {
    let bounds = |pick: fn(&(i64, f64, f64)) -> f64| {
        positions
            .iter()
            .map(pick)
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
                (lo.min(v), hi.max(v))
            })
    };
    let (x_lo, x_hi) = bounds(|p| p.1);
    let (y_lo, y_hi) = bounds(|p| p.2);
    let scale = |v: f64, lo: f64, hi: f64| {
        // A single node (or all on one line) sits in the middle.
        if hi - lo < 1e-9 {
            0.5
        } else {
            0.1 + 0.8 * (v - lo) / (hi - lo)
        }
    };
    positions
        .iter()
        .map(|&(user, x, y)| (user, scale(x, x_lo, x_hi), scale(y, y_lo, y_hi)))
        .collect()
}

impl Publisher {
    pub fn new(store: Store, demo: bool) -> Result<Publisher> {
        Ok(Publisher {
            reader: store.reader()?,
            demo,
            finished: false,
            accounts: Vec::new(),
            user_account: false,
            prompt: None,
            reconnect: false,
            userbot: HashMap::new(),
            messages_per_sec: VecDeque::from(vec![0; RATE_SECONDS]),
            flagged_per_sec: VecDeque::from(vec![0; RATE_SECONDS]),
            current_second: None,
            layouts: HashMap::new(),
        })
    }

    /// Counts one processed event into the per-second rates (wall clock: what the operator sees).
    pub fn count(&mut self, flagged: bool, message: bool) {
        let now = Instant::now();
        let start = *self.current_second.get_or_insert(now);
        if now.duration_since(start) >= Duration::from_secs(1) {
            let seconds = now.duration_since(start).as_secs().min(RATE_SECONDS as u64);
            for _ in 0..seconds {
                self.messages_per_sec.push_back(0);
                self.flagged_per_sec.push_back(0);
            }
            while self.messages_per_sec.len() > RATE_SECONDS {
                self.messages_per_sec.pop_front();
                self.flagged_per_sec.pop_front();
            }
            self.current_second = Some(now);
        }
        if message && let Some(last) = self.messages_per_sec.back_mut() {
            *last += 1;
        }
        if flagged && let Some(last) = self.flagged_per_sec.back_mut() {
            *last += 1;
        }
    }

    /// Makes sure everything submitted so far is on disk (before quitting).
    pub fn flush(&self, pipeline: &Pipeline) -> Result<()> {
        pipeline.store().writer().flush()?;
        Ok(())
    }

    pub fn build(&mut self, pipeline: &Pipeline, now: Timestamp) -> Result<LiveView> {
        let pending = self.reader.pending_actions_count()? as usize;
        let failed = self.reader.actions(Some("failed"), None, None, 20)?.items;
        let last_error = failed.first().and_then(|a| {
            a.last_error
                .as_ref()
                .map(|e| format!("{} failed: {e}", a.kind))
        });
        let mut chats: Vec<ui::ChatInfo> = pipeline
            .chats()
            .map(|(id, title)| {
                let mode = pipeline.raids.containment(*id);
                ui::ChatInfo {
                    id: *id,
                    title: title.clone(),
                    username: None,
                    bunker: matches!(mode, Containment::Bunker | Containment::Lockdown),
                    slow_mode: match mode {
                        Containment::Slow { seconds } => seconds,
                        _ => 0,
                    },
                }
            })
            .collect();
        chats.sort_by(|a, b| a.title.cmp(&b.title));
        let mode = match pipeline.policy.cfg.mode {
            ChatMode::Live | ChatMode::SoftBan => ui::Mode::Live,
            ChatMode::DryRun => ui::Mode::DryRun,
            ChatMode::Training => ui::Mode::Training,
        };
        let accounts = if self.demo {
            vec![ui::AccountStatus {
                kind: ui::AccountKind::Demo,
                connection: if self.finished {
                    ui::Connection::Disconnected
                } else {
                    ui::Connection::Connected
                },
                flood_wait: None,
            }]
        } else {
            self.accounts.clone()
        };
        let status = ui::StatusView {
            accounts,
            mode,
            chats,
            pending_actions: pending,
            last_error: last_error.or_else(|| {
                self.finished
                    .then(|| "demo scenario finished: the community is quiet now".to_string())
            }),
            now,
            prompt: self.prompt.clone(),
        };
        let mut alerts: Vec<ui::AlertRow> = pipeline
            .alerts()
            .iter()
            .map(|alert| self.alert_row(pipeline, alert, now))
            .collect();
        for action in failed.iter().rev() {
            alerts.push(ui::AlertRow {
                id: (1 << 40) + action.id as u64,
                time: action.updated_at,
                chat_id: action.chat_id,
                chat_title: pipeline.chat_title(action.chat_id),
                kind: ui::AlertKind::FailedAction {
                    action: action.kind.clone(),
                    error: action.last_error.clone().unwrap_or_default(),
                },
                summary: format!(
                    "{} of {} failed after {} attempt(s)",
                    action.kind,
                    action.user_id.map(|u| u.to_string()).unwrap_or_default(),
                    action.attempts
                ),
                user_id: action.user_id,
                countdown: None,
            });
        }
        alerts.sort_by_key(|a| (a.time, a.id));
        let (clusters, cluster_views) = self.clusters(pipeline)?;
        let stats = self.stats(now)?;
        let rules = pipeline
            .policy
            .rules()
            .rules()
            .iter()
            .map(|rule| {
                let stats = pipeline.policy.rules().stats(&rule.name);
                ui::RuleRow {
                    name: rule.name.clone(),
                    priority: rule.priority as i32,
                    enabled: rule.enabled,
                    shadow: rule.shadow,
                    hits: stats.hits + stats.shadow_hits,
                    text: serde_json::to_string_pretty(&rule.source).unwrap_or_default(),
                }
            })
            .collect();
        let newest_flagged = self.reader.newest_flagged_id()? as u64;
        Ok(LiveView {
            version: 0,
            demo: self.demo,
            status,
            alerts,
            clusters,
            cluster_views,
            stats,
            rules,
            newest_flagged,
            user_account: self.user_account,
            userbot: self.userbot.clone(),
            reconnect: self.reconnect,
        })
    }

    fn alert_row(
        &self,
        pipeline: &Pipeline,
        alert: &crate::app::pipeline::Alert,
        now: Timestamp,
    ) -> ui::AlertRow {
        let (kind, countdown) = match &alert.kind {
            AlertKind::Raid { raid_id } => {
                let series = pipeline.raids.join_rate_series(alert.chat_id);
                let raid = pipeline
                    .raids
                    .active_raid(alert.chat_id)
                    .filter(|r| r.id == *raid_id);
                let state = match raid.map(|r| r.phase) {
                    Some(RaidPhase::Detected) => ui::RaidState::Detected,
                    Some(RaidPhase::Contained) => ui::RaidState::BunkerOn,
                    Some(RaidPhase::Cooling) => ui::RaidState::Releasing,
                    Some(RaidPhase::Ended) | None => ui::RaidState::Over,
                };
                let countdown = pipeline
                    .raids
                    .release_countdown(alert.chat_id, now)
                    .filter(|_| raid.is_some());
                (
                    ui::AlertKind::Raid {
                        join_rate: series.counts,
                        state,
                    },
                    countdown,
                )
            }
            AlertKind::AdminBan => (
                ui::AlertKind::AdminBan {
                    admin: alert
                        .summary
                        .split_whitespace()
                        .nth(1)
                        .unwrap_or("")
                        .to_string(),
                },
                None,
            ),
            AlertKind::LowConfidenceHam { score_pct } => (
                ui::AlertKind::LowConfidenceHam {
                    score_pct: *score_pct,
                },
                None,
            ),
            AlertKind::Containment | AlertKind::Appeal => (ui::AlertKind::Other, None),
        };
        ui::AlertRow {
            id: alert.id,
            time: alert.at,
            chat_id: alert.chat_id,
            chat_title: pipeline.chat_title(alert.chat_id),
            kind,
            summary: alert.summary.clone(),
            user_id: alert.user_id,
            countdown,
        }
    }

    fn clusters(&mut self, pipeline: &Pipeline) -> Result<ClusterViews> {
        let mut rows = Vec::new();
        let mut views = HashMap::new();
        let mut summaries = pipeline.clusters.clusters();
        summaries.sort_by(|a, b| b.score.total_cmp(&a.score));
        for summary in summaries.into_iter().filter(|s| s.size >= 2).take(50) {
            let Some(cluster) = pipeline.clusters.cluster(summary.id) else {
                continue;
            };
            let positions = self
                .layouts
                .entry((cluster.id, cluster.members.len()))
                .or_insert_with(|| unit_square(crate::clusters::layout(&cluster)))
                .clone();
            let mut members = Vec::with_capacity(cluster.members.len());
            let mut index = HashMap::new();
            let (mut banned, mut flagged) = (0, 0);
            for (i, user) in cluster.members.iter().enumerate() {
                index.insert(*user, i);
                let history = self.reader.user(*user)?;
                let state = self.member_state(*user)?;
                match state {
                    ui::MemberState::Banned => banned += 1,
                    ui::MemberState::Flagged => flagged += 1,
                    ui::MemberState::Clean => {}
                }
                let (x, y) = positions
                    .iter()
                    .find(|(id, _, _)| id == user)
                    .map(|(_, x, y)| (*x, *y))
                    .unwrap_or((0.5, 0.5));
                let name = history
                    .map(|u| match u.username {
                        Some(name) => format!("@{name}"),
                        None => u.first_name.unwrap_or_else(|| user.to_string()),
                    })
                    .unwrap_or_else(|| user.to_string());
                members.push(ui::ClusterMember {
                    user_id: *user,
                    name,
                    state,
                    x,
                    y,
                });
            }
            let mut edges = Vec::new();
            for edge in &cluster.edges {
                if let (Some(a), Some(b)) = (index.get(&edge.a), index.get(&edge.b)) {
                    let kind = edge
                        .evidence
                        .iter()
                        .max_by(|x, y| x.weight.total_cmp(&y.weight))
                        .map(|e| e.kind.name())
                        .unwrap_or("link");
                    edges.push(ui::ClusterEdge {
                        a: *a,
                        b: *b,
                        kind: kind.to_string(),
                    });
                }
            }
            rows.push(ui::ClusterRow {
                id: cluster.id,
                score: (cluster.score / (1.0 + cluster.score)) as f32,
                members: cluster.members.len(),
                banned,
                flagged,
                signals: cluster
                    .kinds
                    .iter()
                    .map(|k| k.name().replace('_', " "))
                    .collect(),
            });
            views.insert(
                cluster.id,
                ui::ClusterView {
                    id: cluster.id,
                    score: (cluster.score / (1.0 + cluster.score)) as f32,
                    members,
                    edges,
                },
            );
        }
        Ok((rows, views))
    }

    fn member_state(&self, user: i64) -> Result<ui::MemberState> {
        let history = self.reader.user_history(user, None)?;
        if history
            .restrictions
            .iter()
            .any(|r| r.kind == "ban" && r.lifted_at.is_none())
        {
            return Ok(ui::MemberState::Banned);
        }
        if history.recent_messages.iter().any(|m| m.flagged) {
            return Ok(ui::MemberState::Flagged);
        }
        Ok(ui::MemberState::Clean)
    }

    fn stats(&self, now: Timestamp) -> Result<ui::StatsView> {
        let since = now - 86_400;
        let mut by_kind: HashMap<String, u64> = HashMap::new();
        for count in self.reader.action_counts(since)? {
            *by_kind.entry(count.kind).or_default() += count.count as u64;
        }
        let mut actions_by_kind: Vec<(String, u64)> = by_kind.into_iter().collect();
        actions_by_kind.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let top_signals = self
            .reader
            .top_signals(None, since, now + 1, 10)?
            .into_iter()
            .map(|s| (s.name, s.hits as u64))
            .collect();
        let edges = [0.0, 0.3, 0.6, 0.8, 1.01];
        let names = ["safe", "suspicious", "dangerous", "banned"];
        let risk_distribution = self
            .reader
            .risk_distribution(&edges)?
            .into_iter()
            .zip(names)
            .map(|(band, name)| (name.to_string(), band.users as u64))
            .collect();
        Ok(ui::StatsView {
            messages_per_sec: self.messages_per_sec.iter().copied().collect(),
            flagged_per_sec: self.flagged_per_sec.iter().copied().collect(),
            actions_by_kind,
            risk_distribution,
            top_signals,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::unit_square;

    #[test]
    fn layout_positions_fill_the_unit_square() {
        let placed = unit_square(vec![(1, -30.0, 5.0), (2, 10.0, -15.0), (3, 0.0, 0.0)]);
        assert_eq!(placed[0], (1, 0.1, 0.9));
        assert_eq!(placed[1], (2, 0.9, 0.1));
        assert!(
            placed
                .iter()
                .all(|p| (0.1..=0.9).contains(&p.1) && (0.1..=0.9).contains(&p.2))
        );
        assert_eq!(unit_square(vec![(7, 3.0, 3.0)]), vec![(7, 0.5, 0.5)]);
    }
}
