//! One event in, everything that follows from it out: engine verdict, raid and cluster detection,
//! policy decision, actions into the outbox (acknowledged), records into the store (batched).
//! Every source (Telegram, the simulator, an export replay) goes through here.

use crate::action::{Action, ActionKind, Actor};
use crate::clusters::{ClusterConfig, ClusterGraph, ClusterUpdate};
use crate::config::Config;
use crate::engine::{self, Engine, EngineConfig, Hit, Label, TrainingSet, Verdict, VerdictClass};
use crate::model::{ChatId, Event, JoinKind, ListedMember, Message, Person, Timestamp, UserId};
use crate::policy::{
    self, DecayingScore, Decision, PlannedAction, Policy, RuleContext, RuleSet, RuleStats,
};
use crate::raid::{Containment, RaidDetector, RaidSignal};
use anyhow::{Context, Result};
use std::collections::{HashMap, VecDeque};
use warden_store::{
    ChatUpsert, HitRecord, MembershipJoin, NewHit, NewMessage, NewRestriction, RaidUpsert, Store,
    UserUpsert, WriteOp,
};

/// How many alerts the console keeps in memory (older ones live in the store's raids/audit).
const ALERTS_KEPT: usize = 500;
/// How often (event time) old message texts are purged.
const PURGE_EVERY_SECS: i64 = 3_600;
/// A cluster at least this large adds a `cluster` hit to its members' messages.
const CLUSTER_HIT_MIN_SIZE: usize = 3;

/// Something a moderator should look at, newest last.
#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    pub id: u64,
    pub at: Timestamp,
    pub chat_id: ChatId,
    pub kind: AlertKind,
    pub summary: String,
    pub user_id: Option<UserId>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum AlertKind {
    Raid {
        raid_id: u64,
    },
    /// Another admin banned or restricted someone: add their messages to the dataset?
    AdminBan,
    /// A message that scored just under the review threshold.
    LowConfidenceHam {
        score_pct: u8,
    },
    Containment,
    /// A banned or muted member asked to be let back in (private chat with the bot).
    Appeal,
}

/// What one event led to.
#[derive(Debug, Default)]
pub struct Outcome {
    pub verdict: Option<Verdict>,
    pub decision: Option<Decision>,
    pub raid_signals: Vec<RaidSignal>,
    pub cluster: Option<ClusterUpdate>,
    /// Outbox ids of the actions enqueued for this event.
    pub enqueued: Vec<i64>,
}

impl Outcome {
    /// True when the message was judged suspicious or a rule acted on it.
    pub fn flagged(&self) -> bool {
        self.verdict
            .as_ref()
            .is_some_and(|v| v.class != VerdictClass::Ham)
            || self
                .decision
                .as_ref()
                .is_some_and(|d| !d.fired.is_empty() || d.flagged_for_review)
    }
}

pub struct Pipeline {
    pub engine: Engine,
    pub policy: Policy,
    pub raids: RaidDetector,
    pub clusters: ClusterGraph,
    store: Store,
    titles: HashMap<ChatId, String>,
    alerts: VecDeque<Alert>,
    next_alert: u64,
    /// Time of the newest event seen: the pipeline's clock (simulated or real).
    now: Timestamp,
    retention_days: u32,
    next_purge: Timestamp,
    pub counters: Counters,
}

/// Running totals for the console's status and stats panes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Counters {
    pub events: u64,
    pub messages: u64,
    pub flagged: u64,
    pub actions_enqueued: u64,
}

impl Pipeline {
    /// Builds every detector from the config; the classifier learns the shipped samples plus every
    /// label in the store, and the rules come from the store (seeded from assets on first run).
    pub fn new(config: &Config, store: Store, now: Timestamp) -> Result<Pipeline> {
        let mut pipeline = Pipeline::with_parts(
            config.engine.clone(),
            config.policy.clone(),
            config.raid.clone(),
            config.clusters.clone(),
            store,
            now,
        )?;
        pipeline.retention_days = config.store.retention_days;
        Ok(pipeline)
    }

    pub fn with_parts(
        engine_cfg: EngineConfig,
        policy_cfg: policy::PolicyConfig,
        raid_cfg: crate::raid::RaidConfig,
        cluster_cfg: ClusterConfig,
        store: Store,
        now: Timestamp,
    ) -> Result<Pipeline> {
        let reader = store.reader()?;
        let mut training = TrainingSet::shipped();
        for label in reader.all_labels()? {
            if let Some(kind) = Label::parse(&label.label) {
                training.samples.push((label.text, kind));
            }
        }
        let mut engine = Engine::new(engine_cfg, training).context("cannot build the engine")?;
        let stop_edits = reader.stop_phrases()?;
        engine.edit_stop_phrases(stop_edits.iter().map(|e| (e.phrase.as_str(), e.enabled)));
        let rules: RuleSet =
            policy::rule_store::load_or_seed(&store, policy_cfg.regex_size_limit, now)
                .context("cannot load the rules")?;
        let mut policy = Policy::new(policy_cfg, rules);
        for user in reader.moderated_users()? {
            let users = &mut policy.users;
            users.set_trusted(user.id, user.trust == "trusted", now);
            users.set_whitelisted(user.id, user.listed == "whitelist", now);
            users.set_blacklisted(user.id, user.listed == "blacklist", now);
            for tag in &user.tags {
                users.tag(user.id, tag, now);
            }
            users.set_note(user.id, user.note.clone(), now);
            if let (Some(value), Some(at)) = (user.score, user.score_at) {
                users.restore_score(user.id, DecayingScore { value, at });
            }
        }
        for trust in reader.chat_trust()? {
            policy
                .users
                .restore_chat_trust(trust.chat_id, trust.user_id, trust.trusted_at);
        }
        for rule in reader.rule_hits()? {
            let stats = RuleStats {
                hits: rule.hits,
                shadow_hits: rule.shadow_hits,
                last_hit: rule.last_hit,
            };
            policy.rules_mut().restore_stats(&rule.name, stats);
        }
        let strikes = active_strikes(&reader, now - policy.cfg.strike_expiry as i64)?;
        policy.strikes = policy::StrikeBook::from_records(&strikes, policy.cfg.strike_expiry);
        let mut titles = HashMap::new();
        let mut raids = RaidDetector::new(raid_cfg);
        for chat in reader.chats()? {
            if let Some(mode) = containment_from_name(&chat.mode) {
                raids.set_resting_containment(chat.id, mode, now);
            }
            titles.insert(chat.id, chat.title);
        }
        Ok(Pipeline {
            engine,
            policy,
            raids,
            clusters: ClusterGraph::new(cluster_cfg),
            store,
            titles,
            alerts: VecDeque::new(),
            next_alert: 1,
            now,
            retention_days: crate::config::StoreConfig::default().retention_days,
            next_purge: now,
            counters: Counters::default(),
        })
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn now(&self) -> Timestamp {
        self.now
    }

    /// Every chat seen so far.
    pub fn chat_ids(&self) -> Vec<ChatId> {
        self.titles.keys().copied().collect()
    }

    /// A chat's member list, read through Telegram: join dates into the store (the Investigator
    /// shows them), names and join times into the clusters. Returns how many clusters grew.
    pub fn members_listed(&mut self, chat: ChatId, members: &[ListedMember]) -> usize {
        let now = self.now;
        let mut rows = Vec::with_capacity(members.len());
        let mut dated = Vec::with_capacity(members.len());
        for member in members {
            self.upsert_user(&member.person, member.joined_at.unwrap_or(now));
            let Some(joined_at) = member.joined_at else {
                continue;
            };
            let (join_kind, inviter_id) = match member.inviter {
                Some(by) => join_kind_name(&JoinKind::AddedBy { by }),
                None => ("unknown", None),
            };
            rows.push(MembershipJoin {
                chat_id: chat,
                user_id: member.person.id,
                joined_at,
                join_kind: join_kind.into(),
                inviter_id,
            });
            dated.push((member.person.clone(), joined_at));
        }
        self.store.writer().submit(WriteOp::MembersListed(rows));
        let grown = self.clusters.observe_member_list(&dated, now);
        for update in &grown {
            self.persist_cluster(update.cluster);
        }
        grown.len()
    }

    /// A profile the user account looked at (bio links, photo) is cluster evidence too.
    pub fn profile_seen(&mut self, person: &Person) {
        if let Some(update) = self.clusters.observe_profile(person, self.now) {
            self.persist_cluster(update.cluster);
        }
    }

    pub fn chat_title(&self, chat: ChatId) -> String {
        self.titles
            .get(&chat)
            .cloned()
            .unwrap_or_else(|| chat.to_string())
    }

    pub fn chats(&self) -> impl Iterator<Item = (&ChatId, &String)> {
        self.titles.iter()
    }

    pub fn alerts(&self) -> &VecDeque<Alert> {
        &self.alerts
    }

    /// Processes one event in time order.
    pub fn handle(&mut self, event: &Event) -> Result<Outcome> {
        self.now = self.now.max(event.date());
        self.counters.events += 1;
        let mut outcome = Outcome::default();
        match event {
            Event::ChatSeen {
                chat_id,
                title,
                kind,
                date,
            } => {
                self.titles.insert(*chat_id, title.clone());
                self.store.writer().submit(WriteOp::UpsertChat(ChatUpsert {
                    id: *chat_id,
                    title: title.clone(),
                    kind: kind.as_str().to_string(),
                    seen_at: *date,
                }));
            }
            Event::Joined {
                chat_id,
                user,
                date,
                how,
            } => {
                self.upsert_user(user, *date);
                let (join_kind, inviter) = join_kind_name(how);
                self.store.writer().submit(WriteOp::Joined(MembershipJoin {
                    chat_id: *chat_id,
                    user_id: user.id,
                    joined_at: *date,
                    join_kind: join_kind.to_string(),
                    inviter_id: inviter,
                }));
                outcome.raid_signals = self.raids.on_event(event);
                outcome.cluster = self.clusters.on_event(event);
                if let Some(update) = self.clusters.observe_profile(user, *date) {
                    outcome.cluster = Some(update);
                }
                let mut ctx = self.context(*chat_id, user, "", *date);
                ctx.joined_secs_ago = Some(0);
                let decision = self.policy.on_join(ctx, *date);
                outcome.enqueued = self.enqueue_decision(&decision)?;
                outcome.decision = Some(decision);
            }
            Event::Message(msg) | Event::Edited(msg) => {
                self.on_message(event, msg, &mut outcome)?;
            }
            Event::Deleted { chat_id, ids, date } => {
                self.store.writer().submit(WriteOp::MessagesDeleted {
                    chat_id: *chat_id,
                    message_ids: ids.clone(),
                    at: *date,
                });
            }
            Event::Left {
                chat_id,
                user_id,
                date,
            } => {
                self.store.writer().submit(WriteOp::Left {
                    chat_id: *chat_id,
                    user_id: *user_id,
                    at: *date,
                });
                outcome.raid_signals = self.raids.on_event(event);
            }
            Event::RestrictedByAdmin {
                chat_id,
                user_id,
                admin_id,
                date,
                banned,
                until,
            } => {
                self.store
                    .writer()
                    .add_restriction(NewRestriction {
                        chat_id: *chat_id,
                        user_id: *user_id,
                        kind: if *banned { "ban" } else { "restrict" }.to_string(),
                        since: *date,
                        until: *until,
                        reason: "by another admin".to_string(),
                        by: format!("admin:{admin_id}"),
                    })
                    .context("cannot record another admin's ban")?;
                let verb = if *banned { "banned" } else { "restricted" };
                self.alert(
                    *date,
                    *chat_id,
                    AlertKind::AdminBan,
                    format!(
                        "admin {admin_id} {verb} user {user_id}: add their messages to the dataset?"
                    ),
                    Some(*user_id),
                );
            }
        }
        for signal in outcome.raid_signals.clone() {
            outcome.enqueued.extend(self.on_raid_signal(signal)?);
        }
        if let Some(update) = &outcome.cluster {
            self.persist_cluster(update.cluster);
        }
        Ok(outcome)
    }

    fn on_message(&mut self, event: &Event, msg: &Message, outcome: &mut Outcome) -> Result<()> {
        self.counters.messages += 1;
        let author = msg.author();
        self.upsert_user(&author, msg.date);
        // Trust survives a restart in the store; the engine's message counts do not. A post as
        // the group itself is an anonymous admin's.
        let established = author.id == msg.chat_id
            || self
                .policy
                .users
                .get(author.id)
                .is_some_and(|u| u.is_trusted_in(msg.chat_id));
        let verdict = self.engine.check_member(msg, established);
        outcome.raid_signals = self.raids.on_event(event);
        outcome.cluster = self.clusters.on_event(event);
        let extra = self.context_hits(msg.chat_id, author.id);
        let verdict = if extra.is_empty() {
            verdict
        } else {
            verdict.with_extra_hits(extra, self.engine.config())
        };
        let mut ctx = self.context(msg.chat_id, &author, &msg.text, msg.date);
        ctx.score = f64::from(verdict.score);
        ctx.hits = verdict
            .hits
            .iter()
            .map(|h| (h.name.to_string(), f64::from(h.weight)))
            .collect();
        ctx.link_domains = link_domains(msg);
        let decision = self.policy.on_message(ctx, msg.id, msg.date);
        outcome.enqueued = self.enqueue_decision(&decision)?;
        let flagged = verdict.class != VerdictClass::Ham
            || !decision.fired.is_empty()
            || decision.flagged_for_review;
        if flagged {
            self.counters.flagged += 1;
        } else if f64::from(verdict.score) >= f64::from(self.engine.config().review_threshold) * 0.8
        {
            self.alert(
                msg.date,
                msg.chat_id,
                AlertKind::LowConfidenceHam {
                    score_pct: (verdict.score * 100.0).round() as u8,
                },
                format!(
                    "{} scored {:.0}% — just under review",
                    author.display_name(),
                    verdict.score * 100.0
                ),
                Some(author.id),
            );
        }
        self.store
            .writer()
            .submit(WriteOp::RecordMessage(message_record(
                msg, &verdict, &decision, flagged,
            )));
        outcome.verdict = Some(verdict);
        outcome.decision = Some(decision);
        Ok(())
    }

    /// Hits other detectors add to a message: raid participation and cluster membership.
    fn context_hits(&self, chat: ChatId, user: UserId) -> Vec<Hit> {
        let mut hits = Vec::new();
        if let Some(raid) = self.raids.active_raid(chat)
            && raid.participants.contains(&user)
        {
            hits.push(engine::hit(
                "raid",
                self.engine.config().weights.raid,
                format!(
                    "joined during raid #{} ({} accounts)",
                    raid.id,
                    raid.participants.len()
                ),
            ));
        }
        let size = self.clusters.cluster_size(user);
        if size >= CLUSTER_HIT_MIN_SIZE {
            let kinds = self
                .clusters
                .cluster_of(user)
                .map(|c| {
                    c.kinds
                        .iter()
                        .map(|k| k.name())
                        .collect::<Vec<_>>()
                        .join(", ")
                })
                .unwrap_or_default();
            hits.push(engine::hit(
                "cluster",
                self.engine.config().weights.cluster,
                format!("one of {size} linked accounts ({kinds})"),
            ));
        }
        hits
    }

    /// The rule context facts that do not come from the verdict.
    fn context(&self, chat: ChatId, person: &Person, text: &str, now: Timestamp) -> RuleContext {
        RuleContext {
            chat_id: chat,
            user_id: person.id,
            score: 0.0,
            hits: Vec::new(),
            risk: policy::RiskLevel::Safe,
            velocity: f64::from(self.engine.messages_last_minute(chat, person.id, now)),
            strikes: 0,
            is_new: true,
            is_trusted: false,
            account_age_secs: engine::estimate_account_created(person.id)
                .map(|created| (now - created).max(0)),
            chat_mode: self.policy.cfg.mode_for(chat),
            joined_secs_ago: None,
            cluster_size: self.clusters.cluster_size(person.id) as u32,
            raid_active: self.raids.is_raid_active(chat, now),
            text: text.to_string(),
            link_domains: Vec::new(),
            known_spammer: self
                .engine
                .known_spammers()
                .lookup(person.id, now)
                .is_some_and(|e| e.listed),
        }
    }

    /// User memory and rule counters the decision changed. Not acknowledged: the writer batches
    /// them, and losing the last moments of them in a crash costs nothing a moderator did.
    fn remember(&self, decision: &Decision) {
        let writer = self.store.writer();
        let (chat_id, user_id, at) = (decision.chat_id, decision.user_id, self.now);
        if decision.promoted {
            writer.submit(WriteOp::SetChatTrust {
                chat_id,
                user_id,
                trusted: true,
                by: "policy".to_string(),
                at,
            });
        }
        if let Some(score) = decision.score_raised {
            writer.submit(WriteOp::SetUserScore {
                user_id,
                score: score.value,
                at: score.at,
            });
        }
        let hits: Vec<(String, bool)> = decision
            .fired
            .iter()
            .chain(&decision.shadow)
            .map(|m| (m.rule.clone(), m.shadow))
            .collect();
        if !hits.is_empty() {
            writer.submit(WriteOp::CountRuleHits { hits, at });
        }
    }

    fn upsert_user(&self, person: &Person, at: Timestamp) {
        self.store.writer().submit(WriteOp::UpsertUser(UserUpsert {
            id: person.id,
            first_name: person.first_name.clone(),
            last_name: person.last_name.clone(),
            username: person.username.clone(),
            is_bot: person.is_bot,
            seen_at: at,
        }));
    }

    /// Enqueues a decision's actions (acknowledged) and persists what it changed: a strike, trust
    /// earned in the chat, a raised score, rule hit counters.
    pub fn enqueue_decision(&mut self, decision: &Decision) -> Result<Vec<i64>> {
        self.remember(decision);
        if let Some((strike_id, _)) = decision.strike
            && let Some(strike) = self.policy.strikes.get(strike_id)
            && strike.store_id.is_none()
        {
            let store_id = self.store.writer().add_strike(strike.to_new_strike())?;
            self.policy.strikes.set_store_id(strike_id, store_id);
        }
        self.enqueue(&decision.planned)
    }

    pub fn enqueue(&mut self, planned: &[PlannedAction]) -> Result<Vec<i64>> {
        let ids = policy::enqueue(&self.store, planned, self.now)?;
        self.counters.actions_enqueued += ids.len() as u64;
        Ok(ids)
    }

    /// Actions for a chat-wide change (containment), under the chat's mode.
    pub fn plan_chat_actions(
        &self,
        chat: ChatId,
        kinds: &[ActionKind],
        by: Actor,
        reason: &str,
        at: Timestamp,
    ) -> Vec<PlannedAction> {
        let actions = kinds
            .iter()
            .map(|kind| Action {
                kind: kind.clone(),
                chat_id: chat,
                user_id: None,
                message_id: None,
                reason: reason.to_string(),
                requested_by: by.clone(),
                idempotency_key: format!("{chat}:{}:{at}:{}", kind.name(), by),
            })
            .collect();
        policy::apply_mode(self.policy.cfg.mode_for(chat), actions).planned
    }

    fn on_raid_signal(&mut self, signal: RaidSignal) -> Result<Vec<i64>> {
        match signal {
            RaidSignal::RaidStarted { chat, raid } => {
                self.persist_raid(&raid)?;
                self.alert(
                    raid.detected_at,
                    chat,
                    AlertKind::Raid { raid_id: raid.id },
                    format!(
                        "raid #{} in {}: {} joins (trigger {})",
                        raid.id,
                        self.chat_title(chat),
                        raid.participants.len(),
                        raid.trigger_level
                    ),
                    None,
                );
                let planned = self.plan_chat_actions(
                    chat,
                    &[ActionKind::RaidAlert, ActionKind::NotifyAdmin],
                    Actor::System,
                    &format!("raid #{} detected", raid.id),
                    raid.detected_at,
                );
                self.enqueue(&planned)
            }
            RaidSignal::RaidEnded { chat, raid } => {
                self.persist_raid(&raid)?;
                self.alert(
                    raid.ended_at.unwrap_or(self.now),
                    chat,
                    AlertKind::Raid { raid_id: raid.id },
                    format!("raid #{} in {} ended", raid.id, self.chat_title(chat)),
                    None,
                );
                Ok(Vec::new())
            }
            RaidSignal::ContainmentChanged(change) => {
                self.store.writer().submit(WriteOp::SetChatMode {
                    chat_id: change.chat,
                    mode: change.to.name(),
                    by: "rule:raid-containment".to_string(),
                    at: change.at,
                });
                self.alert(
                    change.at,
                    change.chat,
                    AlertKind::Containment,
                    format!(
                        "{}: {} → {} ({})",
                        self.chat_title(change.chat),
                        change.from.name(),
                        change.to.name(),
                        change.reason
                    ),
                    None,
                );
                let planned = self.plan_chat_actions(
                    change.chat,
                    &change.actions,
                    Actor::Rule("raid-containment".to_string()),
                    &change.reason,
                    change.at,
                );
                self.enqueue(&planned)
            }
            RaidSignal::ContainmentProposal {
                chat,
                from,
                to,
                reason,
            } => {
                self.alert(
                    self.now,
                    chat,
                    AlertKind::Containment,
                    format!("proposed: {} → {} ({reason})", from.name(), to.name()),
                    None,
                );
                Ok(Vec::new())
            }
            RaidSignal::JoinerDuringRaid {
                chat,
                user,
                raid_id,
            } => {
                // The rules decide (raid_newcomer_mute); here the raid keeps its participant list.
                tracing::debug!(chat, user, raid_id, "joined during a raid");
                Ok(Vec::new())
            }
            RaidSignal::RaidEscalated { chat, reason, .. } => {
                self.alert(self.now, chat, AlertKind::Containment, reason, None);
                Ok(Vec::new())
            }
            RaidSignal::RaidCooling { .. } => Ok(Vec::new()),
        }
    }

    fn persist_raid(&self, raid: &crate::raid::Raid) -> Result<()> {
        self.store.writer().submit(WriteOp::UpsertRaid(RaidUpsert {
            chat_id: raid.chat,
            started_at: raid.started_at,
            ended_at: raid.ended_at,
            joins: raid.participants.len() as i64,
            peak_per_min: f64::from(raid.peak_joins_per_window),
            state: format!("{:?}", raid.phase).to_lowercase(),
            detail: serde_json::to_value(raid)?,
        }));
        Ok(())
    }

    /// Keeps a cluster that grew in the store (members and edges replace the previous ones).
    fn persist_cluster(&self, id: crate::clusters::ClusterId) {
        let Some(cluster) = self.clusters.cluster(id) else {
            return;
        };
        if cluster.members.len() < 2 {
            return;
        }
        let edges = cluster
            .edges
            .iter()
            .flat_map(|edge| {
                edge.evidence
                    .iter()
                    .map(|evidence| warden_store::EdgeRecord {
                        a: edge.a,
                        b: edge.b,
                        kind: evidence.kind.name().to_string(),
                        weight: evidence.weight,
                    })
            })
            .collect();
        self.store
            .writer()
            .submit(WriteOp::UpsertCluster(warden_store::ClusterUpsert {
                key: cluster.id.to_string(),
                chat_id: None,
                at: cluster.last_seen,
                score: cluster.score,
                state: "open".to_string(),
                members: cluster.members.clone(),
                edges,
            }));
    }

    /// Time-driven work: raid cooling and auto-release, and once an hour of event time the
    /// retention purge of old message texts (verdicts and labels stay).
    pub fn tick(&mut self, now: Timestamp) -> Result<Vec<i64>> {
        self.now = self.now.max(now);
        if now >= self.next_purge {
            self.next_purge = now + PURGE_EVERY_SECS;
            let before = now - i64::from(self.retention_days) * 86_400;
            self.store
                .writer()
                .submit(WriteOp::PurgeTextsOlderThan { before, now });
        }
        let mut enqueued = Vec::new();
        for signal in self.raids.tick(now) {
            enqueued.extend(self.on_raid_signal(signal)?);
        }
        Ok(enqueued)
    }

    /// Sets a chat's containment by hand (console or admin chat).
    pub fn set_containment(
        &mut self,
        chat: ChatId,
        mode: Containment,
        by: Actor,
    ) -> Result<Vec<i64>> {
        let reason = format!("set by {by}");
        match self.raids.set_containment(chat, mode, self.now, &reason) {
            Some(change) => self.on_raid_signal(RaidSignal::ContainmentChanged(change)),
            None => Ok(Vec::new()),
        }
    }

    /// A member's appeal: an alert with their words; the console accepts (forgive) or dismisses.
    pub fn appeal(&mut self, user: UserId, text: &str, at: Timestamp) {
        self.alert(
            at,
            user,
            AlertKind::Appeal,
            format!("appeal from {user}: {text}"),
            Some(user),
        );
    }

    pub fn dismiss_alert(&mut self, id: u64) {
        self.alerts.retain(|a| a.id != id);
    }

    fn alert(
        &mut self,
        at: Timestamp,
        chat_id: ChatId,
        kind: AlertKind,
        summary: String,
        user_id: Option<UserId>,
    ) {
        if self.alerts.len() == ALERTS_KEPT {
            self.alerts.pop_front();
        }
        self.alerts.push_back(Alert {
            id: self.next_alert,
            at,
            chat_id,
            kind,
            summary,
            user_id,
        });
        self.next_alert += 1;
    }
}

fn message_record(
    msg: &Message,
    verdict: &Verdict,
    decision: &Decision,
    flagged: bool,
) -> NewMessage {
    let mut summary: Vec<String> = verdict
        .hits
        .iter()
        .filter(|h| h.weight > 0.0)
        .take(3)
        .map(|h| h.name.to_string())
        .collect();
    for fired in &decision.fired {
        summary.push(format!("rule:{}", fired.rule));
    }
    NewMessage {
        chat_id: msg.chat_id,
        message_id: msg.id,
        user_id: msg.author_id(),
        ts: msg.date,
        text: msg.text.clone(),
        media: format!("{:?}", msg.media).to_lowercase(),
        edited: msg.edited,
        verdict: verdict.class.as_str().to_string(),
        score: f64::from(verdict.score),
        flagged,
        summary: summary.join(", "),
        hits: verdict
            .hits
            .iter()
            .map(|h| NewHit {
                name: h.name.to_string(),
                weight: f64::from(h.weight),
                detail: h.reason.clone(),
            })
            .collect(),
    }
}

/// Store hit records back as engine hits (for display and backtests).
pub fn hits_from_records(records: &[HitRecord]) -> Vec<(String, f64)> {
    records.iter().map(|h| (h.name.clone(), h.weight)).collect()
}

/// Strikes given since `since` and not forgiven: what the ladder still counts.
fn active_strikes(
    reader: &warden_store::Reader,
    since: Timestamp,
) -> Result<Vec<warden_store::StrikeRecord>> {
    let filter = warden_store::StrikeFilter {
        since: Some(since),
        ..Default::default()
    };
    let mut all = Vec::new();
    let mut cursor = None;
    loop {
        let page = reader.strikes(&filter, cursor, warden_store::MAX_PAGE)?;
        all.extend(page.items);
        match page.next {
            Some(next) => cursor = Some(next),
            None => return Ok(all),
        }
    }
}

fn join_kind_name(how: &JoinKind) -> (&'static str, Option<UserId>) {
    match how {
        JoinKind::Direct => ("direct", None),
        JoinKind::AddedBy { by } => ("added", Some(*by)),
        JoinKind::InviteLink { inviter, .. } => ("invite_link", *inviter),
        JoinKind::Request { approved_by } => ("request", *approved_by),
    }
}

fn containment_from_name(name: &str) -> Option<Containment> {
    match name {
        "normal" => Some(Containment::Normal),
        "bunker" => Some(Containment::Bunker),
        "lockdown" => Some(Containment::Lockdown),
        other => other
            .strip_prefix("slow:")
            .and_then(|s| s.parse().ok())
            .and_then(|s| Containment::slow(s).ok()),
    }
}

/// Lower-case domains of the links in a message (text, hidden links, buttons).
pub fn link_domains(msg: &Message) -> Vec<String> {
    domains(crate::clusters::features::message_links(msg))
}

/// Lower-case domains of the links in a stored text (for backtests).
pub fn text_link_domains(text: &str) -> Vec<String> {
    domains(crate::clusters::features::text_links(text))
}

fn domains(links: Vec<crate::clusters::features::LinkFeature>) -> Vec<String> {
    let mut domains: Vec<String> = links.into_iter().map(|l| l.domain).collect();
    domains.sort();
    domains.dedup();
    domains
}
