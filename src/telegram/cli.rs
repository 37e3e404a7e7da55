//! `warden login bot|user` and `warden logout bot|user`.

use super::api::AccountKind;
use super::client::{GrammersLogin, connect};
use super::config::TelegramConfig;
use super::login::{LoginPrompter, TerminalPrompter, login_bot, login_user};
use crate::config::Secrets;
use anyhow::{Context, Result, bail};
use std::path::Path;

#[derive(Debug, Clone, clap::Subcommand)]
pub enum AccountCommand {
    /// Log in as the bot (token from WARDEN_BOT_TOKEN / secrets) or the user account (phone, code, 2FA).
    Login {
        #[arg(value_enum)]
        account: AccountKind,
    },
    /// Log out on Telegram's side and delete the session file.
    Logout {
        #[arg(value_enum)]
        account: AccountKind,
    },
}

/// Runs the command on its own runtime (the console is not running).
pub fn run(
    command: &AccountCommand,
    sessions_dir: &Path,
    credentials: &Secrets,
    config: &TelegramConfig,
) -> Result<()> {
    run_with(
        command,
        sessions_dir,
        credentials,
        config,
        &mut TerminalPrompter,
    )
}

pub fn run_with(
    command: &AccountCommand,
    sessions_dir: &Path,
    credentials: &Secrets,
    config: &TelegramConfig,
    prompter: &mut impl LoginPrompter,
) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async {
        match command {
            AccountCommand::Login { account } => {
                login(*account, sessions_dir, credentials, config, prompter).await
            }
            AccountCommand::Logout { account } => {
                logout(*account, sessions_dir, credentials, config).await
            }
        }
    })
}

fn api_id(credentials: &Secrets, config: &TelegramConfig) -> Result<i32> {
    config.api_id(credentials.api_id).context(
        "no api_id: set WARDEN_API_ID (or api_id in secrets.toml or [telegram]); get one at my.telegram.org",
    )
}

fn api_hash(credentials: &Secrets) -> Result<&str> {
    credentials
        .api_hash
        .as_deref()
        .context("no api_hash: set WARDEN_API_HASH or api_hash in secrets.toml")
}

pub async fn login(
    account: AccountKind,
    sessions_dir: &Path,
    credentials: &Secrets,
    config: &TelegramConfig,
    prompter: &mut impl LoginPrompter,
) -> Result<()> {
    let api_id = api_id(credentials, config)?;
    let api_hash = api_hash(credentials)?;
    std::fs::create_dir_all(sessions_dir)
        .with_context(|| format!("cannot create {}", sessions_dir.display()))?;
    let connection = connect(sessions_dir, account, api_id, config)?;
    if connection.session.has_self_user()?
        && connection.client.is_authorized().await.unwrap_or(false)
    {
        prompter.say(&format!("The {account} account is already logged in."));
        connection.shutdown().await;
        return Ok(());
    }
    let api = GrammersLogin(&connection.client);
    let result = match account {
        AccountKind::Bot => {
            let token = credentials
                .bot_token
                .as_deref()
                .context("no bot token: set WARDEN_BOT_TOKEN or bot_token in secrets.toml")?;
            login_bot(&api, token, api_hash).await
        }
        AccountKind::User => login_user(&api, prompter, api_hash).await,
    };
    connection.shutdown().await;
    let name = result?;
    prompter.say(&format!("Logged in as {name} ({account})."));
    Ok(())
}

pub async fn logout(
    account: AccountKind,
    sessions_dir: &Path,
    credentials: &Secrets,
    config: &TelegramConfig,
) -> Result<()> {
    let path = sessions_dir.join(account.session_file());
    if !path.exists() {
        bail!(
            "the {account} account is not logged in (no {})",
            path.display()
        );
    }
    let api_id = api_id(credentials, config)?;
    let connection = connect(sessions_dir, account, api_id, config)?;
    // Revoke the key on Telegram's side; delete the file even if that fails (offline).
    if let Err(err) = connection.client.sign_out().await {
        tracing::warn!(%account, error = %err, "sign-out on Telegram failed; deleting the session anyway");
    }
    connection.shutdown().await;
    std::fs::remove_file(&path).with_context(|| format!("cannot delete {}", path.display()))?;
    for suffix in ["-journal", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::telegram::login::LoginPrompter;

    struct NoPrompts;
    impl LoginPrompter for NoPrompts {
        fn phone(&mut self) -> Result<String> {
            bail!("not expected")
        }
        fn code(&mut self) -> Result<String> {
            bail!("not expected")
        }
        fn password(&mut self, _hint: Option<&str>) -> Result<String> {
            bail!("not expected")
        }
        fn say(&mut self, _message: &str) {}
    }

    #[test]
    fn missing_credentials_and_sessions_are_explained_before_any_network() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = TelegramConfig::default();
        let login = AccountCommand::Login {
            account: AccountKind::User,
        };
        let err = run_with(
            &login,
            dir.path(),
            &Secrets::default(),
            &cfg,
            &mut NoPrompts,
        )
        .unwrap_err();
        assert!(err.to_string().contains("WARDEN_API_ID"), "{err}");
        let creds = Secrets {
            api_id: Some(1),
            ..Default::default()
        };
        let err = run_with(&login, dir.path(), &creds, &cfg, &mut NoPrompts).unwrap_err();
        assert!(err.to_string().contains("WARDEN_API_HASH"), "{err}");
        let logout = AccountCommand::Logout {
            account: AccountKind::Bot,
        };
        let err = run_with(&logout, dir.path(), &creds, &cfg, &mut NoPrompts).unwrap_err();
        assert!(err.to_string().contains("not logged in"), "{err}");
        let secret = Secrets {
            bot_token: Some("123:SECRET".into()),
            api_id: Some(1),
            api_hash: Some("HASHVALUE".into()),
        };
        let shown = format!("{secret:?}");
        assert!(
            !shown.contains("SECRET") && !shown.contains("HASHVALUE"),
            "{shown}"
        );
    }
}
