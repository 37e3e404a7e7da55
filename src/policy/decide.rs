//! The policy: user memory + strikes + rules + modes → what to do about one event, explained.
//!
//! Safety rails, in order (Doorman's lesson: delete and report by default, ban on strong evidence):
//! 1. Whitelisted users are never acted on automatically.
//! 2. Blacklisted users get `blacklist_action` on join or on any message.
//! 3. Trusted users are never auto-punished on content: a matching rule only flags them for review.
//! 4. A rule's ban or kick needs strong evidence — engine score ≥ `ban_min_score` or a known spammer;
//!    otherwise it becomes delete + report. Bans from the strike ladder are the chat's explicit policy
//!    and pass.
//! 5. The chat's mode transforms the result (dry-run, training, soft-ban).

use crate::action::{Action, ActionKind, Actor};
use crate::model::{ChatId, MessageId, Timestamp, UserId};
use crate::policy::actions::ActionSpec;
use crate::policy::config::{BlacklistAction, PolicyConfig};
use crate::policy::modes::{ChatMode, PlannedAction, apply_mode};
use crate::policy::rules::{RuleContext, RuleMatch, RuleSet, RulesError};
use crate::policy::strikes::{Forgiven, NewStrike, StrikeBook, ladder_actions};
use crate::policy::users::{DecayingScore, RiskLevel, TrustState, UserBook};

/// What the policy decided about one event.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Decision {
    pub chat_id: ChatId,
    pub user_id: UserId,
    pub mode: ChatMode,
    /// Enqueue these in the store's outbox (dry-run ones are flagged).
    pub planned: Vec<PlannedAction>,
    /// Wanted but withheld by training mode: show, never enqueue.
    pub withheld: Vec<Action>,
    /// Rules that acted, in priority order.
    pub fired: Vec<RuleMatch>,
    /// Shadow rules that matched (log only).
    pub shadow: Vec<RuleMatch>,
    /// A moderator should look (trusted user matched, or a ban was downgraded).
    pub flagged_for_review: bool,
    /// Strike added by this decision: (strike id, active count).
    pub strike: Option<(u64, u32)>,
    /// One line per safety rail or step that changed the outcome, for the console.
    pub notes: Vec<String>,
    /// This message made the user trusted in the chat.
    pub promoted: bool,
    /// This message raised the user's decaying score to this value (persist it).
    pub score_raised: Option<DecayingScore>,
}

impl Decision {
    fn empty(chat_id: ChatId, user_id: UserId, mode: ChatMode) -> Decision {
        Decision {
            chat_id,
            user_id,
            mode,
            ..Decision::default()
        }
    }

    /// Kinds that will really be carried out (not dry-run).
    pub fn live_kinds(&self) -> Vec<ActionKind> {
        self.planned
            .iter()
            .filter(|p| !p.dry_run)
            .map(|p| p.action.kind.clone())
            .collect()
    }
}

/// What forgiving a strike produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForgiveOutcome {
    pub strike_id: u64,
    pub active_after: u32,
    /// Lifts to offer the moderator (unmute / unban), ready to enqueue once confirmed.
    pub offers: Vec<Action>,
}

/// Where a wanted action came from: decides which safety rails apply.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Origin {
    Rule,
    Ladder,
    Blacklist,
}

pub struct Policy {
    pub cfg: PolicyConfig,
    rules: RuleSet,
    pub users: UserBook,
    pub strikes: StrikeBook,
}

/// Stable per intended effect: re-processing the same message after a crash enqueues nothing new.
pub fn idempotency_key(
    actor: &Actor,
    kind: &ActionKind,
    chat_id: ChatId,
    user_id: Option<UserId>,
    message_id: Option<MessageId>,
    now: Timestamp,
) -> String {
    let user = user_id.map_or("-".to_string(), |u| u.to_string());
    match message_id {
        Some(m) => format!("{actor}|{}|{chat_id}|{user}|m{m}", kind.name()),
        None => format!("{actor}|{}|{chat_id}|{user}|t{now}", kind.name()),
    }
}

impl Policy {
    pub fn new(cfg: PolicyConfig, rules: RuleSet) -> Policy {
        Policy {
            cfg,
            rules,
            users: UserBook::default(),
            strikes: StrikeBook::default(),
        }
    }

    pub fn rules(&self) -> &RuleSet {
        &self.rules
    }

    pub fn rules_mut(&mut self) -> &mut RuleSet {
        &mut self.rules
    }

    /// Reload without restart. On any error the current rules stay and the error is returned.
    pub fn reload_rules(&mut self, file: &str, text: &str) -> Result<usize, RulesError> {
        let new = RuleSet::load(file, text, self.cfg.regex_size_limit)?;
        let count = new.len();
        self.rules.replace(new);
        Ok(count)
    }

    pub fn set_rules(&mut self, rules: RuleSet) {
        self.rules.replace(rules);
    }

    /// Fills the user-memory fields of a context: strikes, trust, risk, mode, joined-within.
    pub fn fill_context(&self, ctx: &mut RuleContext, now: Timestamp) {
        ctx.strikes = self.strikes.active_count(ctx.chat_id, ctx.user_id, now);
        ctx.chat_mode = self.cfg.mode_for(ctx.chat_id);
        let user = self.users.get(ctx.user_id);
        ctx.is_trusted = user.is_some_and(|u| u.is_trusted_in(ctx.chat_id));
        ctx.is_new = !ctx.is_trusted
            && user
                .and_then(|u| u.chats.get(&ctx.chat_id))
                .is_none_or(|c| c.trust == TrustState::New);
        let user_score = user.map_or(0.0, |u| u.score_at(now, &self.cfg));
        ctx.risk = RiskLevel::from_score(user_score.max(ctx.score), &self.cfg.risk);
        if ctx.joined_secs_ago.is_none() {
            ctx.joined_secs_ago = user
                .and_then(|u| u.chats.get(&ctx.chat_id))
                .and_then(|c| c.joined_at)
                .map(|at| (now - at).max(0));
        }
    }

    /// Someone joined. `ctx` carries raid/cluster/account facts; text is empty.
    pub fn on_join(&mut self, mut ctx: RuleContext, now: Timestamp) -> Decision {
        self.users.observe_join(ctx.chat_id, ctx.user_id, now);
        self.fill_context(&mut ctx, now);
        self.decide(ctx, None, now)
    }

    /// A message arrived (or was edited). Records it in user memory after deciding.
    pub fn on_message(
        &mut self,
        mut ctx: RuleContext,
        message_id: MessageId,
        now: Timestamp,
    ) -> Decision {
        self.fill_context(&mut ctx, now);
        let (chat_id, user_id, score) = (ctx.chat_id, ctx.user_id, ctx.score);
        let mut decision = self.decide(ctx, Some(message_id), now);
        // A message a rule acted on never counts toward trust.
        let trust_score = if decision.fired.is_empty() {
            score
        } else {
            score.max(self.cfg.clean_score_below)
        };
        let seen = self
            .users
            .observe_message(chat_id, user_id, trust_score, now, &self.cfg);
        if seen.promoted {
            tracing::info!(chat_id, user_id, "user trusted after clean messages");
        }
        decision.promoted = seen.promoted;
        decision.score_raised = seen
            .score_raised
            .then(|| self.users.get(user_id).map(|u| u.score))
            .flatten();
        decision
    }

    fn decide(
        &mut self,
        ctx: RuleContext,
        message_id: Option<MessageId>,
        now: Timestamp,
    ) -> Decision {
        let (chat_id, user_id) = (ctx.chat_id, ctx.user_id);
        let mode = ctx.chat_mode;
        let mut decision = Decision::empty(chat_id, user_id, mode);
        let user = self.users.get(user_id);
        let whitelisted = user.is_some_and(|u| u.whitelisted);
        let blacklisted = user.is_some_and(|u| u.blacklisted);

        let eval = self.rules.evaluate_counted(&ctx, self.cfg.rule_match, now);
        for m in &eval.shadow {
            tracing::info!(rule = %m.rule, chat_id, user_id, "shadow rule matched (log only)");
        }
        decision.shadow = eval.shadow;
        if whitelisted {
            if !eval.fired.is_empty() {
                decision
                    .notes
                    .push("whitelisted: rules matched but nothing is done automatically".into());
            }
            decision.fired = eval.fired;
            return decision;
        }

        let mut wanted: Vec<(ActionSpec, Actor, String, Origin)> = Vec::new();
        if blacklisted {
            let kind = match self.cfg.blacklist_action_for(chat_id) {
                BlacklistAction::Ban => ActionKind::Ban { seconds: None },
                BlacklistAction::Kick => ActionKind::Kick,
                BlacklistAction::Restrict => ActionKind::Restrict,
                BlacklistAction::Report => ActionKind::NotifyAdmin,
            };
            if message_id.is_some() {
                wanted.push((
                    ActionSpec::new(ActionKind::Delete),
                    Actor::System,
                    "blacklisted user".into(),
                    Origin::Blacklist,
                ));
            }
            wanted.push((
                ActionSpec::new(kind),
                Actor::System,
                "blacklisted user".into(),
                Origin::Blacklist,
            ));
            decision.notes.push("blacklisted user".into());
        }
        for m in &eval.fired {
            for spec in &m.actions {
                wanted.push((
                    spec.clone(),
                    Actor::Rule(m.rule.clone()),
                    m.explanation.clone(),
                    Origin::Rule,
                ));
            }
        }
        decision.fired = eval.fired;

        // Trusted users: matching rules flag for review, nothing else.
        if ctx.is_trusted && !blacklisted && !wanted.is_empty() {
            let (_, actor, why, _) = wanted[0].clone();
            wanted = vec![(
                ActionSpec::new(ActionKind::NotifyAdmin),
                actor,
                format!("review (trusted user): {why}"),
                Origin::Rule,
            )];
            decision.flagged_for_review = true;
            decision
                .notes
                .push("trusted user: only flagged for review".into());
        }

        // Strong evidence for rule bans and kicks.
        let strong = ctx.score >= self.cfg.ban_min_score || ctx.known_spammer;
        let mut downgraded = false;
        let mut gated = Vec::with_capacity(wanted.len());
        for (spec, actor, why, origin) in wanted {
            let removal = matches!(spec.kind, ActionKind::Ban { .. } | ActionKind::Kick);
            if origin == Origin::Rule && removal && !strong {
                downgraded = true;
                if message_id.is_some() {
                    gated.push((
                        ActionSpec::new(ActionKind::Delete),
                        actor.clone(),
                        why.clone(),
                        origin,
                    ));
                }
                gated.push((
                    ActionSpec::new(ActionKind::NotifyAdmin),
                    actor,
                    format!("{} withheld, weak evidence: {why}", spec.kind.name()),
                    origin,
                ));
            } else {
                gated.push((spec, actor, why, origin));
            }
        }
        if downgraded {
            decision.flagged_for_review = true;
            decision.notes.push(format!(
                "ban/kick needs score >= {} or a known spammer: deleted and reported instead",
                self.cfg.ban_min_score
            ));
        }

        // A "strike" expands into the ladder's actions for the new count.
        let mut expanded = Vec::new();
        let mut strike_id = None;
        let mut ladder_done = false;
        for (spec, actor, why, origin) in gated {
            if spec.kind == ActionKind::Strike {
                if strike_id.is_some() || ladder_done {
                    continue;
                }
                ladder_done = true;
                let (active, ladder) = if matches!(mode, ChatMode::DryRun | ChatMode::Training) {
                    // Nothing really happens in these modes, so no strike is recorded either:
                    // show what the next step of the ladder would be.
                    let active = ctx.strikes + 1;
                    decision.notes.push(format!(
                        "would be strike {active} ({} mode: not recorded)",
                        mode.name()
                    ));
                    (active, ladder_actions(self.cfg.ladder_for(chat_id), active))
                } else {
                    let added = self.strikes.add(
                        NewStrike {
                            chat_id,
                            user_id,
                            message_id,
                            reason: spec.reason.as_deref().unwrap_or(&why),
                            source: actor.clone(),
                            now,
                        },
                        self.cfg.strike_expiry,
                        self.cfg.ladder_for(chat_id),
                    );
                    self.users.entry(user_id, now).score.bump(
                        self.cfg.strike_score,
                        now,
                        self.cfg.score_half_life,
                    );
                    strike_id = Some(added.strike_id);
                    decision.strike = Some((added.strike_id, added.active));
                    decision
                        .notes
                        .push(format!("strike {} of the ladder", added.active));
                    (added.active, added.ladder)
                };
                expanded.push((spec, actor.clone(), why.clone(), origin));
                for step in ladder {
                    expanded.push((
                        step,
                        actor.clone(),
                        format!("strike {active}: {why}"),
                        Origin::Ladder,
                    ));
                }
            } else {
                expanded.push((spec, actor, why, origin));
            }
        }

        let mut actions: Vec<Action> = Vec::new();
        for (spec, actor, why, _) in expanded {
            if actions.iter().any(|a| a.kind.name() == spec.kind.name()) {
                continue;
            }
            let needs_message =
                matches!(spec.kind, ActionKind::Delete | ActionKind::DeleteSilently);
            if needs_message && message_id.is_none() {
                continue;
            }
            actions.push(Action {
                idempotency_key: idempotency_key(
                    &actor,
                    &spec.kind,
                    chat_id,
                    Some(user_id),
                    message_id,
                    now,
                ),
                kind: spec.kind,
                chat_id,
                user_id: Some(user_id),
                message_id,
                reason: spec.reason.unwrap_or(why),
                requested_by: actor,
            });
        }
        let outcome = apply_mode(mode, actions);
        decision.planned = outcome.planned;
        decision.withheld = outcome.withheld;
        if let Some(id) = strike_id {
            let applied = decision.live_kinds();
            self.strikes.record_applied(id, &applied);
        }
        decision
    }

    /// A moderator (or system) strike, outside any rule: the ladder applies as usual.
    pub fn strike(
        &mut self,
        chat_id: ChatId,
        user_id: UserId,
        message_id: Option<MessageId>,
        reason: &str,
        by: Actor,
        now: Timestamp,
    ) -> Decision {
        let mode = self.cfg.mode_for(chat_id);
        let mut decision = Decision::empty(chat_id, user_id, mode);
        let added = self.strikes.add(
            NewStrike {
                chat_id,
                user_id,
                message_id,
                reason,
                source: by.clone(),
                now,
            },
            self.cfg.strike_expiry,
            self.cfg.ladder_for(chat_id),
        );
        self.users.entry(user_id, now).score.bump(
            self.cfg.strike_score,
            now,
            self.cfg.score_half_life,
        );
        decision.strike = Some((added.strike_id, added.active));
        let mut actions = Vec::new();
        for spec in std::iter::once(ActionSpec::new(ActionKind::Strike)).chain(added.ladder) {
            if message_id.is_none()
                && matches!(spec.kind, ActionKind::Delete | ActionKind::DeleteSilently)
            {
                continue;
            }
            actions.push(Action {
                idempotency_key: idempotency_key(
                    &by,
                    &spec.kind,
                    chat_id,
                    Some(user_id),
                    message_id,
                    now,
                ),
                kind: spec.kind,
                chat_id,
                user_id: Some(user_id),
                message_id,
                reason: spec.reason.unwrap_or_else(|| reason.to_string()),
                requested_by: by.clone(),
            });
        }
        let outcome = apply_mode(mode, actions);
        decision.planned = outcome.planned;
        decision.withheld = outcome.withheld;
        self.strikes
            .record_applied(added.strike_id, &decision.live_kinds());
        decision
    }

    /// Lifts the latest active strike; offers to undo what the ladder did for it.
    pub fn forgive(
        &mut self,
        chat_id: ChatId,
        user_id: UserId,
        by: Actor,
        why: &str,
        now: Timestamp,
    ) -> Option<ForgiveOutcome> {
        let forgiven = self
            .strikes
            .forgive(chat_id, user_id, by.clone(), why, now)?;
        Some(self.forgive_outcome(chat_id, user_id, forgiven, by, why, now))
    }

    pub(crate) fn forgive_outcome(
        &self,
        chat_id: ChatId,
        user_id: UserId,
        forgiven: Forgiven,
        by: Actor,
        why: &str,
        now: Timestamp,
    ) -> ForgiveOutcome {
        let offers = forgiven
            .lift
            .iter()
            .map(|kind| Action {
                idempotency_key: format!(
                    "{}|s{}",
                    idempotency_key(&by, kind, chat_id, Some(user_id), None, now),
                    forgiven.strike_id
                ),
                kind: kind.clone(),
                chat_id,
                user_id: Some(user_id),
                message_id: None,
                reason: format!("strike forgiven: {why}"),
                requested_by: by.clone(),
            })
            .collect();
        ForgiveOutcome {
            strike_id: forgiven.strike_id,
            active_after: forgiven.active_after,
            offers,
        }
    }
}
