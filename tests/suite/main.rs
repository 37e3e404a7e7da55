//! Integration tests, one binary: each module was its own test target, merged to cut link time and
//! disk (every target links the whole crate and grammers).

mod common;

mod admin_desk;
mod app_pipeline;
mod cli_records;
mod console_latency;
mod console_pty;
mod console_source;
mod daemon;
mod engine_cli;
mod engine_holdout;
mod headless_faults;
mod headless_import;
mod headless_samples;
mod headless_simulate;
mod import_export;
mod policy_decide;
mod policy_executor;
mod policy_rules;
mod sim_determinism;
mod sim_effects;
mod sim_faults;
mod sim_run;
mod sim_scenario;
mod telegram_updates;
