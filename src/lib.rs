//! Warden: a terminal moderation console for Telegram communities.
//!
//! Data flows one way: a source (Telegram or the simulator) → [`model::Event`] → engine → policy
//! decisions → actions out and records into the store → UI.

pub mod action;
pub mod app;
pub mod cli;
pub mod clusters;
pub mod config;
pub mod engine;
pub mod import;
pub mod logging;
pub mod metrics;
pub mod model;
pub mod paths;
pub mod policy;
pub mod raid;
pub mod sim;
pub mod telegram;
