//! The `[telegram]` config section. Secrets (bot token, api_hash) never live here.

use serde::Deserialize;

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TelegramConfig {
    /// Numeric api_id from my.telegram.org; `WARDEN_API_ID` / the secrets file win when set.
    pub api_id: Option<i32>,
    /// Bot-API id of the chat where reports go and commands are taken (e.g. -1001234567890).
    pub admin_chat: Option<i64>,
    /// User ids allowed to command Warden, besides the admin chat's own admins.
    pub admin_ids: Vec<i64>,
    /// Admins of the admin chat are authorised too (checked by the caller against the chat).
    pub trust_admin_chat_admins: bool,
    /// grammers sleeps through FLOOD_WAITs up to this long inside a call; longer ones reach the
    /// app's flood gate and show as a countdown.
    pub flood_sleep_threshold_secs: u64,
    /// Resume from the saved update state after a restart (what happened while offline).
    pub catch_up: bool,
    /// How often the update state is saved while updates flow (it is also saved on exit).
    pub update_state_sync_secs: u64,
    /// How often the user account polls each watched chat's admin log (0 = never).
    pub admin_log_poll_secs: u64,
    /// How often each supergroup's member list is read for join dates (0 = never); the first
    /// read is shortly after start.
    pub member_list_poll_secs: u64,
    /// Most recent members read per chat.
    pub member_list_limit: usize,
    pub bot: AccountConfig,
    pub user: AccountConfig,
    pub captcha: CaptchaConfig,
}

impl Default for TelegramConfig {
    fn default() -> Self {
        TelegramConfig {
            api_id: None,
            admin_chat: None,
            admin_ids: Vec::new(),
            trust_admin_chat_admins: true,
            flood_sleep_threshold_secs: 5,
            catch_up: true,
            update_state_sync_secs: 30,
            admin_log_poll_secs: 60,
            member_list_poll_secs: 6 * 3600,
            member_list_limit: 10_000,
            bot: AccountConfig::default(),
            user: AccountConfig::default(),
            captcha: CaptchaConfig::default(),
        }
    }
}

/// Per-account connection settings.
#[derive(Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AccountConfig {
    /// `socks5://[user:pass@]host:port`; keeps the user account off the server's address.
    pub proxy: Option<String>,
    /// Connect over IPv6.
    pub ipv6: bool,
}

// A proxy URL may carry a password.
impl std::fmt::Debug for AccountConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccountConfig")
            .field("proxy", &self.proxy.as_ref().map(|p| redact_proxy(p)))
            .field("ipv6", &self.ipv6)
            .finish()
    }
}

/// `socks5://user:pass@host:1080` → `socks5://***@host:1080`, for logs and errors.
pub fn redact_proxy(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            format!("{}***{}", &url[..scheme_end + 3], &url[at..])
        }
        _ => url.to_string(),
    }
}

impl AccountConfig {
    /// Checks the proxy URL's shape so a typo fails at startup, not at the first connect.
    pub fn validate(&self, account: &str) -> Result<(), String> {
        let Some(proxy) = &self.proxy else {
            return Ok(());
        };
        let rest = proxy.strip_prefix("socks5://").ok_or_else(|| {
            format!(
                "telegram.{account}.proxy: only socks5:// proxies are supported, got {}",
                redact_proxy(proxy)
            )
        })?;
        let host_port = rest.rsplit('@').next().unwrap_or(rest);
        match host_port.rsplit_once(':') {
            Some((host, port)) if !host.is_empty() && port.parse::<u16>().is_ok() => Ok(()),
            _ => Err(format!(
                "telegram.{account}.proxy: expected socks5://host:port, got {}",
                redact_proxy(proxy)
            )),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CaptchaConfig {
    pub enabled: bool,
    /// Chats that get the captcha; empty means every watched chat.
    pub chats: Vec<i64>,
    /// A newcomer who has not answered after this long is removed.
    pub timeout_secs: u64,
    /// Buttons in the challenge (one right, the rest wrong), 2..=8.
    pub choices: u8,
}

impl Default for CaptchaConfig {
    fn default() -> Self {
        CaptchaConfig {
            enabled: false,
            chats: Vec::new(),
            timeout_secs: 60,
            choices: 4,
        }
    }
}

impl CaptchaConfig {
    pub fn applies_to(&self, chat_id: i64) -> bool {
        self.enabled && (self.chats.is_empty() || self.chats.contains(&chat_id))
    }
}

impl TelegramConfig {
    /// Cross-field checks serde cannot express.
    pub fn validate(&self) -> Result<(), String> {
        self.bot.validate("bot")?;
        self.user.validate("user")?;
        if !(2..=8).contains(&self.captcha.choices) {
            return Err(format!(
                "telegram.captcha.choices must be between 2 and 8, got {}",
                self.captcha.choices
            ));
        }
        if self.captcha.timeout_secs == 0 {
            return Err("telegram.captcha.timeout_secs must be above 0".to_string());
        }
        if let Some(chat) = self.admin_chat
            && chat >= 0
        {
            return Err(format!(
                "telegram.admin_chat must be a group id (negative, e.g. -1001234567890), got {chat}"
            ));
        }
        Ok(())
    }

    /// The api_id from the secrets if set there, else from this section.
    pub fn api_id(&self, from_secrets: Option<i32>) -> Option<i32> {
        from_secrets.or(self.api_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct Root {
        telegram: TelegramConfig,
    }

    #[test]
    fn defaults_are_valid() {
        assert!(TelegramConfig::default().validate().is_ok());
    }

    #[test]
    fn unknown_keys_and_bad_values_are_rejected() {
        assert!(toml::from_str::<Root>("[telegram]\nadmin_chats = 1\n").is_err());
        assert!(toml::from_str::<Root>("[telegram.bot]\nproxi = \"x\"\n").is_err());
        let cfg: Root =
            toml::from_str("[telegram]\nadmin_chat = 42\n[telegram.captcha]\nchoices = 9\n")
                .unwrap();
        let err = cfg.telegram.validate().unwrap_err();
        assert!(err.contains("choices"), "{err}");
    }

    #[test]
    fn proxies_are_checked_and_passwords_redacted() {
        let good = AccountConfig {
            proxy: Some("socks5://alice:s3cret@10.0.0.1:1080".into()),
            ipv6: false,
        };
        assert!(good.validate("user").is_ok());
        assert!(!format!("{good:?}").contains("s3cret"));
        let http = AccountConfig {
            proxy: Some("http://bob:hunter2@proxy:8080".into()),
            ipv6: false,
        };
        let err = http.validate("user").unwrap_err();
        assert!(err.contains("socks5") && !err.contains("hunter2"), "{err}");
        let no_port = AccountConfig {
            proxy: Some("socks5://proxy".into()),
            ipv6: false,
        };
        assert!(no_port.validate("bot").is_err());
    }

    #[test]
    fn api_id_from_secrets_wins() {
        let cfg = TelegramConfig {
            api_id: Some(1),
            ..Default::default()
        };
        assert_eq!(cfg.api_id(Some(2)), Some(2));
        assert_eq!(cfg.api_id(None), Some(1));
    }
}
