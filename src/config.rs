//! Configuration: `assets/config.toml` documents the compiled-in defaults; the user's TOML file is
//! laid over them key by key. Unknown keys and bad values are errors naming file, line and key.
//! Secrets never live in the config: they come from the environment or a 0600 secrets file.

use anyhow::{Context, Result, bail};
use serde::Deserialize;
use std::path::Path;

/// The defaults, as shipped; a test keeps them equal to `Config::default()`.
pub const DEFAULT_CONFIG: &str = include_str!("../assets/config.toml");

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub general: GeneralConfig,
    pub store: StoreConfig,
    pub engine: crate::engine::EngineConfig,
    pub policy: crate::policy::PolicyConfig,
    pub raid: crate::raid::RaidConfig,
    pub clusters: crate::clusters::ClusterConfig,
    pub telegram: crate::telegram::config::TelegramConfig,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GeneralConfig {
    /// Name recorded in the audit log for actions taken from this console.
    pub moderator: String,
}

impl Default for GeneralConfig {
    fn default() -> Self {
        GeneralConfig {
            moderator: "console".to_string(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StoreConfig {
    /// Message texts older than this are purged; verdicts and labels stay.
    pub retention_days: u32,
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig { retention_days: 90 }
    }
}

impl Config {
    /// Loads the user's file over the defaults; a missing file means defaults.
    pub fn load(path: &Path) -> Result<Config> {
        match std::fs::read_to_string(path) {
            Ok(text) => Config::parse(&text, path),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(Config::default()),
            Err(err) => Err(err).with_context(|| format!("cannot read config {}", path.display())),
        }
    }

    /// Parses TOML text; `origin` names the file in errors.
    pub fn parse(text: &str, origin: &Path) -> Result<Config> {
        let config: Config = toml::from_str(text).map_err(|err| {
            anyhow::anyhow!("{}: {}", origin.display(), describe_toml_error(text, &err))
        })?;
        config
            .policy
            .validate()
            .map_err(|err| anyhow::anyhow!("{}: [policy] {err}", origin.display()))?;
        config
            .raid
            .validate()
            .map_err(|err| anyhow::anyhow!("{}: [raid] {err}", origin.display()))?;
        config
            .clusters
            .validate()
            .map_err(|err| anyhow::anyhow!("{}: [clusters] {err}", origin.display()))?;
        config
            .telegram
            .validate()
            .map_err(|err| anyhow::anyhow!("{}: [telegram] {err}", origin.display()))?;
        Ok(config)
    }
}

/// "line L, column C: message (key `a.b`)", from a toml error with a span.
pub fn describe_toml_error(text: &str, err: &toml::de::Error) -> String {
    let message = err.message().trim();
    match err.span() {
        Some(span) => {
            let (line, column) = line_column(text, span.start);
            format!("line {line}, column {column}: {message}")
        }
        None => message.to_string(),
    }
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_column(text: &str, byte_offset: usize) -> (usize, usize) {
    let offset = byte_offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    (line, column)
}

/// Telegram credentials. `Debug` never prints them.
#[derive(Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Secrets {
    pub bot_token: Option<String>,
    pub api_id: Option<i32>,
    pub api_hash: Option<String>,
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let shown = |set: bool| if set { "<set>" } else { "<unset>" };
        f.debug_struct("Secrets")
            .field("bot_token", &shown(self.bot_token.is_some()))
            .field("api_id", &self.api_id)
            .field("api_hash", &shown(self.api_hash.is_some()))
            .finish()
    }
}

impl Secrets {
    /// Environment (`WARDEN_BOT_TOKEN`, `WARDEN_API_ID`, `WARDEN_API_HASH`) over the secrets file.
    pub fn load(file: &Path) -> Result<Secrets> {
        let mut secrets = Secrets::from_file(file)?;
        if let Some(token) = env_nonempty("WARDEN_BOT_TOKEN") {
            secrets.bot_token = Some(token);
        }
        if let Some(id) = env_nonempty("WARDEN_API_ID") {
            secrets.api_id = Some(
                id.parse()
                    .context("WARDEN_API_ID must be the numeric api_id from my.telegram.org")?,
            );
        }
        if let Some(hash) = env_nonempty("WARDEN_API_HASH") {
            secrets.api_hash = Some(hash);
        }
        Ok(secrets)
    }

    /// Reads the secrets file, refusing one that others can read.
    pub fn from_file(file: &Path) -> Result<Secrets> {
        let text = match std::fs::read_to_string(file) {
            Ok(text) => text,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Secrets::default()),
            Err(err) => {
                return Err(err).with_context(|| format!("cannot read secrets {}", file.display()));
            }
        };
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(file)?.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                bail!(
                    "{}: secrets file is readable by others (mode {mode:o}); run `chmod 600 {}`",
                    file.display(),
                    file.display()
                );
            }
        }
        toml::from_str(&text).map_err(|err| {
            anyhow::anyhow!("{}: {}", file.display(), describe_toml_error(&text, &err))
        })
    }

    pub fn has_bot(&self) -> bool {
        self.bot_token.is_some()
    }

    pub fn has_user(&self) -> bool {
        self.api_id.is_some() && self.api_hash.is_some()
    }

    /// Without any account Warden runs the demo.
    pub fn is_empty(&self) -> bool {
        !self.has_bot() && !self.has_user()
    }
}

fn env_nonempty(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_defaults_equal_compiled_defaults() {
        let shipped = Config::parse(DEFAULT_CONFIG, Path::new("assets/config.toml")).unwrap();
        assert_eq!(shipped, Config::default());
    }

    #[test]
    fn user_file_overrides_only_the_keys_it_sets() {
        let cfg = Config::parse("[policy]\nmode = \"dry_run\"\n", Path::new("c.toml")).unwrap();
        assert_eq!(cfg.policy.mode, crate::policy::ChatMode::DryRun);
        assert_eq!(cfg.general.moderator, "console");
        assert_eq!(cfg.store.retention_days, 90);
    }

    #[test]
    fn unknown_key_names_file_line_and_key() {
        let err = Config::parse(
            "[store]\nretention_days = 5\nretension = 3\n",
            Path::new("my.toml"),
        )
        .unwrap_err()
        .to_string();
        assert!(err.starts_with("my.toml: line 3, column 1"), "{err}");
        assert!(err.contains("retension"), "{err}");
    }

    #[test]
    fn bad_value_names_line() {
        let err = Config::parse("[policy]\n\nmode = \"yolo\"\n", Path::new("c.toml"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 3"), "{err}");
        assert!(err.contains("yolo"), "{err}");
    }

    #[test]
    fn secrets_debug_hides_values() {
        let secrets = Secrets {
            bot_token: Some("123:ABC".into()),
            api_id: Some(1),
            api_hash: Some("deadbeef".into()),
        };
        let shown = format!("{secrets:?}");
        assert!(
            !shown.contains("ABC") && !shown.contains("deadbeef"),
            "{shown}"
        );
    }

    #[cfg(unix)]
    #[test]
    fn world_readable_secrets_file_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("secrets.toml");
        std::fs::write(&file, "bot_token = \"1:x\"\n").unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = Secrets::from_file(&file).unwrap_err().to_string();
        assert!(err.contains("chmod 600"), "{err}");
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert!(Secrets::from_file(&file).unwrap().has_bot());
    }

    #[test]
    fn line_column_counts_characters() {
        assert_eq!(line_column("ab\nцd", 5), (2, 2));
    }
}
