//! Where Warden keeps its files. One place decides every path, so `warden paths` can print them all.

use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};

/// Every path Warden reads or writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paths {
    /// The user's config file (may not exist: then compiled-in defaults apply).
    pub config_file: PathBuf,
    /// Secrets (bot token, api_hash); must be mode 0600 when it exists.
    pub secrets_file: PathBuf,
    pub data_dir: PathBuf,
    /// The live database.
    pub db_file: PathBuf,
    /// The demo's own database, never mixed with the live one.
    pub demo_db_file: PathBuf,
    /// Telegram session files, one per account, mode 0600.
    pub sessions_dir: PathBuf,
    pub log_dir: PathBuf,
    /// Optional keymap override merged over the built-in keymap.
    pub keymap_file: PathBuf,
}

/// Overrides from flags or environment; `None` means "use the platform default".
#[derive(Debug, Clone, Default)]
pub struct PathOverrides {
    pub config_file: Option<PathBuf>,
    pub data_dir: Option<PathBuf>,
    pub db_file: Option<PathBuf>,
}

impl Paths {
    pub fn resolve(overrides: &PathOverrides) -> Result<Paths> {
        let dirs = directories::ProjectDirs::from("", "", "warden");
        let default_config_dir = dirs.as_ref().map(|d| d.config_dir().to_path_buf());
        let config_file = match (&overrides.config_file, &default_config_dir) {
            (Some(file), _) => file.clone(),
            (None, Some(dir)) => dir.join("config.toml"),
            (None, None) => bail!(
                "cannot find a home directory for Warden's config: pass --config FILE or set WARDEN_CONFIG"
            ),
        };
        let config_dir = config_file
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        let data_dir = match (&overrides.data_dir, &dirs) {
            (Some(dir), _) => dir.clone(),
            (None, Some(d)) => d.data_dir().to_path_buf(),
            (None, None) => bail!(
                "cannot find a home directory for Warden's data: pass --data DIR or set WARDEN_DATA"
            ),
        };
        let db_file = overrides
            .db_file
            .clone()
            .unwrap_or_else(|| data_dir.join("warden.db"));
        Ok(Paths {
            secrets_file: config_dir.join("secrets.toml"),
            keymap_file: config_dir.join("keymap.toml"),
            config_file,
            demo_db_file: data_dir.join("demo.db"),
            sessions_dir: data_dir.join("sessions"),
            log_dir: data_dir.join("logs"),
            db_file,
            data_dir,
        })
    }

    /// Creates the data, sessions and log directories (sessions private to the owner).
    pub fn ensure_dirs(&self) -> Result<()> {
        for dir in [&self.data_dir, &self.log_dir, &self.sessions_dir] {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create directory {}", dir.display()))?;
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&self.sessions_dir, std::fs::Permissions::from_mode(0o700))
                .with_context(|| format!("cannot restrict {}", self.sessions_dir.display()))?;
        }
        Ok(())
    }

    /// Name/path pairs in the order `warden paths` prints them.
    pub fn listing(&self) -> Vec<(&'static str, &Path)> {
        vec![
            ("config", &self.config_file),
            ("secrets", &self.secrets_file),
            ("keymap", &self.keymap_file),
            ("data", &self.data_dir),
            ("database", &self.db_file),
            ("demo database", &self.demo_db_file),
            ("sessions", &self.sessions_dir),
            ("logs", &self.log_dir),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_win_and_derived_paths_follow_them() {
        let paths = Paths::resolve(&PathOverrides {
            config_file: Some("/etc/w/conf.toml".into()),
            data_dir: Some("/var/w".into()),
            db_file: None,
        })
        .unwrap();
        assert_eq!(paths.secrets_file, PathBuf::from("/etc/w/secrets.toml"));
        assert_eq!(paths.db_file, PathBuf::from("/var/w/warden.db"));
        assert_eq!(paths.demo_db_file, PathBuf::from("/var/w/demo.db"));
        assert_ne!(paths.db_file, paths.demo_db_file);
    }

    #[test]
    fn explicit_db_file_is_used_as_is() {
        let paths = Paths::resolve(&PathOverrides {
            db_file: Some("/tmp/x.db".into()),
            data_dir: Some("/var/w".into()),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(paths.db_file, PathBuf::from("/tmp/x.db"));
    }
}
