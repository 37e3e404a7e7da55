//! Moderation policy: user memory, strikes, modes, learning, the rules engine and the action
//! executor. The engine says how suspicious a message is; this module decides what happens.

pub mod actions;
pub mod config;
pub mod duration;
pub mod modes;
pub mod rules;
pub mod strikes;
pub mod users;

pub use actions::ActionSpec;
pub use config::{
    BlacklistAction, ChatOverride, ExecutorConfig, LadderStep, MatchMode, PolicyConfig,
    RiskThresholds,
};
pub use modes::{ChatMode, ModeOutcome, PlannedAction, apply_mode};
pub use rules::{
    BacktestReport, Condition, Evaluation, Rule, RuleContext, RuleError, RuleMatch, RuleSet,
    RuleStats, RulesError, backtest,
};
pub use strikes::{Forgiven, Strike, StrikeBook};
pub use users::{DecayingScore, RiskLevel, TrustState, UserBook, UserMemory};
pub mod decide;
pub mod learning;

pub use decide::{Decision, ForgiveOutcome, Policy, idempotency_key};
pub use learning::{Label, LabelOutcome, LabelRequest, TrainingRecord};
pub mod executor;

pub use executor::{Executor, FakeGateway, RunReport, action_from_row, enqueue, parse_actor};
pub mod cli;
pub mod rule_store;

pub use rule_store::{DEFAULT_RULES, ImportSummary};
