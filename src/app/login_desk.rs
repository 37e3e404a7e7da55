//! `:login user|bot` from the console: the same login flow as `warden login`, on its own thread,
//! asking its questions (phone, code, 2FA password) as console prompts.

use crate::app::live::Notice;
use crate::config::Secrets;
use crate::telegram::api::AccountKind;
use crate::telegram::config::TelegramConfig;
use crate::telegram::login::LoginPrompter;
use anyhow::{Context, Result, anyhow};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use warden_ui as ui;

/// What a login needs; `None` in the console means logins are not offered (tests).
#[derive(Debug, Clone)]
pub struct LoginSetup {
    pub sessions_dir: PathBuf,
    pub secrets: Secrets,
    pub telegram: TelegramConfig,
}

#[derive(Default)]
pub struct LoginDesk {
    setup: Option<LoginSetup>,
    prompt: Arc<Mutex<Option<ui::Prompt>>>,
    answers: Option<Sender<(u64, Option<String>)>>,
    running: Option<std::thread::JoinHandle<()>>,
    /// A login succeeded: the console reconnects to bring the account in.
    logged_in: Arc<AtomicBool>,
    /// Prompt ids never repeat, not even across logins: the console skips ids it has shown.
    next_id: Arc<AtomicU64>,
}

impl LoginDesk {
    pub fn new(setup: Option<LoginSetup>) -> LoginDesk {
        LoginDesk {
            setup,
            ..LoginDesk::default()
        }
    }

    /// The question the console should show now.
    pub fn prompt(&self) -> Option<ui::Prompt> {
        self.prompt.lock().ok().and_then(|p| p.clone())
    }

    /// Whether a login has succeeded (the console then reconnects).
    pub fn logged_in(&self) -> bool {
        self.logged_in.load(Ordering::SeqCst)
    }

    /// Starts a login; its outcome arrives later as a notice.
    pub fn start(&mut self, user_account: bool, notices: Sender<Notice>) -> Result<String> {
        if self.running.as_ref().is_some_and(|t| !t.is_finished()) {
            return Err(anyhow!("a login is already in progress"));
        }
        let setup = self
            .setup
            .clone()
            .ok_or_else(|| anyhow!("logins are not available here"))?;
        let account = if user_account {
            AccountKind::User
        } else {
            AccountKind::Bot
        };
        let (answers, answers_rx) = mpsc::channel();
        self.answers = Some(answers);
        let mut prompter = ConsolePrompter {
            prompt: Arc::clone(&self.prompt),
            answers: answers_rx,
            notices: notices.clone(),
            next_id: Arc::clone(&self.next_id),
        };
        let logged_in = Arc::clone(&self.logged_in);
        let thread = std::thread::Builder::new()
            .name("warden-login".into())
            .spawn(move || {
                let outcome = run_login(account, &setup, &mut prompter);
                prompter.clear();
                if outcome.is_ok() {
                    logged_in.store(true, Ordering::SeqCst);
                }
                let notice = Notice::from_result(
                    outcome
                        .map(|()| format!("the {account} account is logged in; connecting it…"))
                        .context("login failed"),
                );
                let _ = notices.send(notice);
            })?;
        self.running = Some(thread);
        Ok(format!("logging the {account} account in…"))
    }

    /// Commands this desk carries out (the runtimes route them here).
    pub fn handles(&self, command: &ui::Command) -> bool {
        matches!(
            command,
            ui::Command::Login { .. } | ui::Command::PromptAnswer { .. }
        )
    }

    /// Carries out a login command; a notice to show, if any.
    pub fn apply(&mut self, command: ui::Command, notices: &Sender<Notice>) -> Option<Notice> {
        match command {
            ui::Command::Login { user_account } => Some(Notice::from_result(
                self.start(user_account, notices.clone()),
            )),
            ui::Command::PromptAnswer { id, text } => {
                self.answer(id, text);
                None
            }
            _ => None,
        }
    }

    /// The moderator answered (or cancelled) prompt `id`.
    pub fn answer(&mut self, id: u64, text: Option<String>) {
        if let Some(answers) = &self.answers {
            let _ = answers.send((id, text));
        }
    }
}

fn run_login(
    account: AccountKind,
    setup: &LoginSetup,
    prompter: &mut ConsolePrompter,
) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(crate::telegram::cli::login(
        account,
        &setup.sessions_dir,
        &setup.secrets,
        &setup.telegram,
        prompter,
    ))
}

/// Asks through the console and blocks the login thread until the answer comes.
struct ConsolePrompter {
    prompt: Arc<Mutex<Option<ui::Prompt>>>,
    answers: Receiver<(u64, Option<String>)>,
    notices: Sender<Notice>,
    next_id: Arc<AtomicU64>,
}

impl ConsolePrompter {
    fn ask(&mut self, title: &str, label: &str, secret: bool) -> Result<String> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut prompt) = self.prompt.lock() {
            *prompt = Some(ui::Prompt {
                id,
                title: title.to_string(),
                label: label.to_string(),
                secret,
            });
        }
        loop {
            match self.answers.recv() {
                Ok((answered, Some(text))) if answered == id => {
                    self.clear();
                    return Ok(text);
                }
                Ok((answered, None)) if answered == id => {
                    self.clear();
                    return Err(anyhow!("cancelled"));
                }
                // An answer to an older prompt: ignore it.
                Ok(_) => continue,
                Err(_) => return Err(anyhow!("the console went away")),
            }
        }
    }

    fn clear(&self) {
        if let Ok(mut prompt) = self.prompt.lock() {
            *prompt = None;
        }
    }
}

impl LoginPrompter for ConsolePrompter {
    fn phone(&mut self) -> Result<String> {
        self.ask("Telegram login", "phone (+country code)", false)
    }

    fn code(&mut self) -> Result<String> {
        self.ask("Telegram login", "code sent by Telegram", true)
    }

    fn password(&mut self, hint: Option<&str>) -> Result<String> {
        let label = match hint {
            Some(hint) => format!("2FA password (hint: {hint})"),
            None => "2FA password".to_string(),
        };
        self.ask("Telegram login", &label, true)
    }

    fn say(&mut self, message: &str) {
        let _ = self.notices.send(Notice {
            text: message.to_string(),
            is_error: false,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prompts_are_answered_in_order_and_stale_answers_ignored() {
        let (answers, answers_rx) = mpsc::channel();
        let (notices, _notices_rx) = mpsc::channel();
        let prompt = Arc::new(Mutex::new(None));
        let mut prompter = ConsolePrompter {
            prompt: Arc::clone(&prompt),
            answers: answers_rx,
            notices,
            next_id: Arc::new(AtomicU64::new(1)),
        };
        let watcher = Arc::clone(&prompt);
        let console = std::thread::spawn(move || {
            let wait_for = |id: u64| loop {
                let shown = watcher.lock().unwrap().clone();
                if let Some(p) = shown.filter(|p: &ui::Prompt| p.id == id) {
                    return p;
                }
                std::thread::yield_now();
            };
            let phone = wait_for(1);
            assert!(!phone.secret);
            answers.send((0, Some("stale".into()))).unwrap();
            answers.send((1, Some("+15550100".into()))).unwrap();
            let code = wait_for(2);
            assert!(code.secret, "codes are not shown");
            answers.send((2, None)).unwrap();
        });
        assert_eq!(prompter.phone().unwrap(), "+15550100");
        let cancelled = prompter.code().unwrap_err();
        assert!(cancelled.to_string().contains("cancelled"));
        console.join().unwrap();
        assert_eq!(*prompt.lock().unwrap(), None, "nothing left on screen");
    }

    #[test]
    fn without_a_setup_login_is_refused_in_words() {
        let (notices, _rx) = mpsc::channel();
        let mut desk = LoginDesk::new(None);
        let err = desk.start(true, notices).unwrap_err();
        assert!(err.to_string().contains("not available"));
    }
}
