//! The Telegram adapter, through grammers 0.11. Nothing outside this module imports grammers.
//!
//! - [`session`]: grammers' session on rusqlite, one 0600 file per account.
//! - [`config`]: the `[telegram]` config section.

pub mod admin;
pub mod api;
pub mod captcha;
pub mod cli;
pub mod client;
pub mod config;
pub mod gateway;
pub mod login;
pub mod session;
pub mod updates;
