//! Moderation policy: user memory, strikes, modes, learning, the rules engine and the action
//! executor. The engine says how suspicious a message is; this module decides what happens.
//!
//! Flow: the app fills a [`RuleContext`] from the engine's verdict and the raid/cluster detectors,
//! calls [`Policy::on_message`] / [`Policy::on_join`], enqueues [`Decision::planned`] with
//! [`enqueue`], and runs an [`Executor`] over the outbox with a gateway.

pub mod actions;
pub mod captcha;
pub mod cli;
pub mod config;
pub mod decide;
pub mod duration;
pub mod executor;
pub mod learning;
pub mod modes;
pub mod rule_store;
pub mod rules;
pub mod strikes;
pub mod users;

pub use actions::ActionSpec;
pub use config::{
    BlacklistAction, ChatOverride, ExecutorConfig, LadderStep, MatchMode, PolicyConfig,
    RiskThresholds,
};
pub use decide::{Decision, ForgiveOutcome, Policy, idempotency_key};
pub use executor::{Executor, FakeGateway, RunReport, action_from_row, enqueue, parse_actor};
pub use learning::{Label, LabelOutcome, LabelRequest, TrainingRecord};
pub use modes::{ChatMode, ModeOutcome, PlannedAction, apply_mode};
pub use rule_store::{DEFAULT_RULES, ImportSummary};
pub use rules::{
    BacktestReport, Condition, Evaluation, Rule, RuleContext, RuleError, RuleMatch, RuleSet,
    RuleStats, RulesError, backtest,
};
pub use strikes::{Forgiven, Strike, StrikeBook};
pub use users::{DecayingScore, RiskLevel, TrustState, UserBook, UserMemory, normalize_tag};
