//! Wiring: a runtime thread owns the pipeline (engine, policy, raids, clusters, store writes) and
//! the executor; the console thread owns the terminal and reads the store and the published
//! [`live::LiveView`]. They talk through channels only.

pub mod admin_desk;
pub mod captcha_gate;
pub mod commands;
pub mod console;
pub mod live;
pub mod live_runtime;
pub mod login_desk;
pub mod pipeline;
pub mod runtime;
pub mod source;
pub mod terminal;
