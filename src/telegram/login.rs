//! Login flows for the bot (token) and the user account (phone → code → 2FA password), written
//! against two small traits so a fake drives them in tests.

use super::api::TgError;
use std::future::Future;

/// Asks the human. Code and password must be read without echo.
pub trait LoginPrompter {
    fn phone(&mut self) -> anyhow::Result<String>;
    fn code(&mut self) -> anyhow::Result<String>;
    fn password(&mut self, hint: Option<&str>) -> anyhow::Result<String>;
    /// Tells the human something ("wrong code, try again").
    fn say(&mut self, message: &str);
}

/// Outcome of one sign-in step.
pub enum SignInStep<P> {
    /// Logged in as this display name.
    Done(String),
    PasswordNeeded {
        token: P,
        hint: Option<String>,
    },
    InvalidCode,
    InvalidPassword {
        token: P,
        hint: Option<String>,
    },
    SignUpRequired,
}

/// The Telegram calls a login needs.
pub trait LoginApi {
    type CodeToken;
    type PasswordToken;
    fn bot_sign_in(
        &self,
        token: &str,
        api_hash: &str,
    ) -> impl Future<Output = Result<String, TgError>>;
    fn request_code(
        &self,
        phone: &str,
        api_hash: &str,
    ) -> impl Future<Output = Result<Self::CodeToken, TgError>>;
    fn sign_in(
        &self,
        token: &Self::CodeToken,
        code: &str,
    ) -> impl Future<Output = Result<SignInStep<Self::PasswordToken>, TgError>>;
    fn check_password(
        &self,
        token: Self::PasswordToken,
        password: &str,
    ) -> impl Future<Output = Result<SignInStep<Self::PasswordToken>, TgError>>;
}

#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    #[error("Telegram: {0}")]
    Telegram(#[from] TgError),
    #[error("three wrong codes; start again with `warden login user`")]
    TooManyCodes,
    #[error("three wrong passwords; start again with `warden login user`")]
    TooManyPasswords,
    #[error(
        "this phone number has no Telegram account; create it in an official app first (grammers cannot sign up)"
    )]
    SignUpRequired,
    #[error("{0}")]
    Prompt(#[from] anyhow::Error),
}

const TRIES: usize = 3;

pub async fn login_bot<A: LoginApi>(
    api: &A,
    token: &str,
    api_hash: &str,
) -> Result<String, LoginError> {
    Ok(api.bot_sign_in(token, api_hash).await?)
}

/// Phone → code (3 tries) → 2FA password if set (3 tries). Returns the account's name.
pub async fn login_user<A: LoginApi>(
    api: &A,
    prompter: &mut impl LoginPrompter,
    api_hash: &str,
) -> Result<String, LoginError> {
    let phone = prompter.phone()?;
    let phone: String = phone
        .chars()
        .filter(|c| c.is_ascii_digit() || *c == '+')
        .collect();
    let code_token = api.request_code(&phone, api_hash).await?;
    let mut step = None;
    for attempt in 0..TRIES {
        let code = prompter.code()?;
        let code: String = code.chars().filter(char::is_ascii_digit).collect();
        match api.sign_in(&code_token, &code).await? {
            SignInStep::InvalidCode => {
                if attempt + 1 < TRIES {
                    prompter.say("That code is wrong; try again.");
                }
            }
            other => {
                step = Some(other);
                break;
            }
        }
    }
    let mut step = step.ok_or(LoginError::TooManyCodes)?;
    let mut password_tries = 0;
    loop {
        match step {
            SignInStep::Done(name) => return Ok(name),
            SignInStep::SignUpRequired => return Err(LoginError::SignUpRequired),
            SignInStep::InvalidCode => return Err(LoginError::TooManyCodes),
            SignInStep::PasswordNeeded { token, hint }
            | SignInStep::InvalidPassword { token, hint } => {
                if password_tries == TRIES {
                    return Err(LoginError::TooManyPasswords);
                }
                if password_tries > 0 {
                    prompter.say("That password is wrong; try again.");
                }
                password_tries += 1;
                let password = prompter.password(hint.as_deref())?;
                step = api.check_password(token, &password).await?;
            }
        }
    }
}

/// Reads from the terminal; code and password without echo.
pub struct TerminalPrompter;

impl LoginPrompter for TerminalPrompter {
    fn phone(&mut self) -> anyhow::Result<String> {
        use std::io::Write;
        print!("Phone number (international format, e.g. +441234567890): ");
        std::io::stdout().flush()?;
        let mut line = String::new();
        std::io::stdin().read_line(&mut line)?;
        Ok(line.trim().to_string())
    }

    fn code(&mut self) -> anyhow::Result<String> {
        Ok(rpassword::prompt_password(
            "Login code Telegram sent you (hidden): ",
        )?)
    }

    fn password(&mut self, hint: Option<&str>) -> anyhow::Result<String> {
        let prompt = match hint {
            Some(hint) if !hint.is_empty() => format!("2FA password (hint: {hint}; hidden): "),
            _ => "2FA password (hidden): ".to_string(),
        };
        Ok(rpassword::prompt_password(prompt)?)
    }

    fn say(&mut self, message: &str) {
        println!("{message}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;
    use std::collections::VecDeque;

    #[derive(Default)]
    struct Script {
        phones: VecDeque<&'static str>,
        codes: VecDeque<&'static str>,
        passwords: VecDeque<&'static str>,
        said: Vec<String>,
        hints: Vec<Option<String>>,
    }

    impl LoginPrompter for Script {
        fn phone(&mut self) -> anyhow::Result<String> {
            Ok(self.phones.pop_front().unwrap().into())
        }
        fn code(&mut self) -> anyhow::Result<String> {
            self.codes
                .pop_front()
                .map(Into::into)
                .ok_or_else(|| anyhow::anyhow!("no more codes"))
        }
        fn password(&mut self, hint: Option<&str>) -> anyhow::Result<String> {
            self.hints.push(hint.map(str::to_string));
            Ok(self.passwords.pop_front().unwrap().into())
        }
        fn say(&mut self, message: &str) {
            self.said.push(message.into());
        }
    }

    /// A fake Telegram: right code 22222, password "pw" when `two_fa`.
    struct FakeTelegram {
        two_fa: bool,
        registered: bool,
        calls: RefCell<Vec<String>>,
    }

    impl LoginApi for FakeTelegram {
        type CodeToken = String;
        type PasswordToken = u32;
        async fn bot_sign_in(&self, token: &str, _api_hash: &str) -> Result<String, TgError> {
            self.calls.borrow_mut().push("bot".into());
            if token.starts_with("123:") {
                Ok("WardenBot".into())
            } else {
                Err(TgError::from_rpc(400, "ACCESS_TOKEN_INVALID", None))
            }
        }
        async fn request_code(&self, phone: &str, _h: &str) -> Result<String, TgError> {
            self.calls.borrow_mut().push(format!("code for {phone}"));
            Ok(format!("token-{phone}"))
        }
        async fn sign_in(&self, token: &String, code: &str) -> Result<SignInStep<u32>, TgError> {
            self.calls
                .borrow_mut()
                .push(format!("sign in {token} {code}"));
            Ok(match (code, self.registered, self.two_fa) {
                ("22222", false, _) => SignInStep::SignUpRequired,
                ("22222", true, true) => SignInStep::PasswordNeeded {
                    token: 1,
                    hint: Some("pet".into()),
                },
                ("22222", true, false) => SignInStep::Done("Alice".into()),
                _ => SignInStep::InvalidCode,
            })
        }
        async fn check_password(
            &self,
            token: u32,
            password: &str,
        ) -> Result<SignInStep<u32>, TgError> {
            self.calls.borrow_mut().push(format!("password {token}"));
            Ok(if password == "pw" {
                SignInStep::Done("Alice".into())
            } else {
                SignInStep::InvalidPassword {
                    token: token + 1,
                    hint: Some("pet".into()),
                }
            })
        }
    }

    fn fake(two_fa: bool) -> FakeTelegram {
        FakeTelegram {
            two_fa,
            registered: true,
            calls: RefCell::new(Vec::new()),
        }
    }

    fn run<F: Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(f)
    }

    #[test]
    fn user_login_with_a_wrong_code_then_2fa() {
        let api = fake(true);
        let mut p = Script {
            phones: ["+44 1234-567"].into(),
            codes: ["11111", "2 2 2 2 2"].into(),
            passwords: ["nope", "pw"].into(),
            ..Default::default()
        };
        assert_eq!(run(login_user(&api, &mut p, "hash")).unwrap(), "Alice");
        assert_eq!(
            *api.calls.borrow(),
            [
                "code for +441234567",
                "sign in token-+441234567 11111",
                "sign in token-+441234567 22222",
                "password 1",
                "password 2"
            ]
        );
        assert_eq!(p.said.len(), 2);
        assert_eq!(p.hints, [Some("pet".to_string()), Some("pet".to_string())]);
    }

    #[test]
    fn user_login_gives_up_after_three_wrong_codes_or_passwords() {
        let mut p = Script {
            phones: ["+1"].into(),
            codes: ["1", "2", "3", "22222"].into(),
            ..Default::default()
        };
        assert!(matches!(
            run(login_user(&fake(false), &mut p, "h")),
            Err(LoginError::TooManyCodes)
        ));
        let mut p = Script {
            phones: ["+1"].into(),
            codes: ["22222"].into(),
            passwords: ["a", "b", "c", "pw"].into(),
            ..Default::default()
        };
        assert!(matches!(
            run(login_user(&fake(true), &mut p, "h")),
            Err(LoginError::TooManyPasswords)
        ));
    }

    #[test]
    fn unregistered_numbers_and_bad_tokens_are_explained() {
        let api = FakeTelegram {
            two_fa: false,
            registered: false,
            calls: RefCell::new(Vec::new()),
        };
        let mut p = Script {
            phones: ["+1"].into(),
            codes: ["22222"].into(),
            ..Default::default()
        };
        let err = run(login_user(&api, &mut p, "h")).unwrap_err();
        assert!(err.to_string().contains("official app"));
        assert_eq!(
            run(login_bot(&fake(false), "123:abc", "h")).unwrap(),
            "WardenBot"
        );
        assert!(run(login_bot(&fake(false), "bad", "h")).is_err());
    }
}
