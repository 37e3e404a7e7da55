//! The Telegram adapter, through grammers 0.11. Nothing outside this module imports grammers.
//!
//! - [`session`]: grammers' session on rusqlite, one 0600 file per account.
//! - [`config`]: the `[telegram]` config section.
//! - [`api`]: the `ModerationApi` seam, `TgError`, `Rights`, `AccountKind`.
//! - [`gateway`]: `TelegramGateway`, the `action::Gateway` with per-account flood gates.
//! - [`updates`]: pure `map_update` from grammers updates to `model::Event`s.
//! - [`admin`]: admin-chat commands, reports with buttons, members' private requests.
//! - [`login`], [`cli`]: login flows and `warden login|logout bot|user`.
//! - [`client`]: connecting through grammers, the update task, the real `ModerationApi`.
//! - [`live`]: both accounts connected for the live runtime, events deduplicated across them.

pub mod admin;
pub mod api;
pub mod cli;
pub mod client;
pub mod config;
pub mod gateway;
pub mod live;
pub mod login;
pub mod session;
pub mod updates;
