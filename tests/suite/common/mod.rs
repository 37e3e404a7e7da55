//! Running the real `warden` binary in tests: its own data dir, no user config, no environment
//! overrides leaking in from the machine.

use std::path::Path;
use std::process::{Command, Output};

/// `warden --data DIR --config DIR/no-config.toml ARGS…`
pub fn warden(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_warden"))
        .arg("--data")
        .arg(dir)
        .arg("--config")
        .arg(dir.join("no-config.toml"))
        .args(args)
        .env_remove("WARDEN_CONFIG")
        .env_remove("WARDEN_DATA")
        .env_remove("WARDEN_BOT_TOKEN")
        .env_remove("WARDEN_API_ID")
        .env_remove("WARDEN_API_HASH")
        .output()
        .expect("run warden")
}
