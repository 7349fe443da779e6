//! Login + password sign-in (A1).
//!
//! Argon2id runs on the blocking pool behind a semaphore, so a burst of sign-ins queues for
//! the CPU instead of stalling the async workers that serve tokens. An unknown login costs
//! the same hash as a wrong password (a dummy hash is verified) and gets the same message;
//! failures are counted per login and per client IP in the session store, so the limit holds
//! across processes, and a throttled attempt gets that same message too.

use std::sync::Arc;
use std::time::Duration;

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString,
};
use argon2::{Algorithm, Argon2, Params, Version};
use async_trait::async_trait;
use tokio::sync::Semaphore;

use super::{Assurance, AuthnError, Identity, LoginContext, SignInMethod, Step, StepInput};
use crate::session::SessionStore;
use crate::store::Store;

/// Catalogue key of the one failure message (A1: it must not tell which field was wrong).
pub const INVALID_MESSAGE: &str = "login.error.invalid";

/// Argon2id hashing with bounded concurrency.
pub struct PasswordHasher {
    argon2: Argon2<'static>,
    permits: Semaphore,
    /// Verified for unknown logins so they cost the same as known ones.
    dummy_hash: String,
}

impl PasswordHasher {
    pub fn new(memory_kib: u32, iterations: u32, concurrency: usize) -> anyhow::Result<Self> {
        let params = Params::new(memory_kib, iterations, 1, None)
            .map_err(|e| anyhow::anyhow!("argon2 params: {e}"))?;
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let salt = SaltString::generate(&mut OsRng);
        let dummy_hash = argon2
            .hash_password(b"dummy password for unknown logins", &salt)
            .map_err(|e| anyhow::anyhow!("argon2: {e}"))?
            .to_string();
        Ok(PasswordHasher {
            argon2,
            permits: Semaphore::new(concurrency.max(1)),
            dummy_hash,
        })
    }

    /// Hashes a new password (PHC string).
    pub async fn hash(self: &Arc<Self>, password: String) -> anyhow::Result<String> {
        let _permit = self.permits.acquire().await?;
        let this = self.clone();
        tokio::task::spawn_blocking(move || {
            let salt = SaltString::generate(&mut OsRng);
            this.argon2
                .hash_password(password.as_bytes(), &salt)
                .map(|h| h.to_string())
                .map_err(|e| anyhow::anyhow!("argon2: {e}"))
        })
        .await?
    }

    /// Verifies `password` against `phc`, or against the dummy hash when `phc` is `None`
    /// (then the answer is always false).
    pub async fn verify(
        self: &Arc<Self>,
        password: String,
        phc: Option<String>,
    ) -> anyhow::Result<bool> {
        let _permit = self.permits.acquire().await?;
        let this = self.clone();
        tokio::task::spawn_blocking(move || {
            let known = phc.is_some();
            let phc = phc.unwrap_or_else(|| this.dummy_hash.clone());
            let parsed =
                PasswordHash::new(&phc).map_err(|e| anyhow::anyhow!("stored hash: {e}"))?;
            let ok = this
                .argon2
                .verify_password(password.as_bytes(), &parsed)
                .is_ok();
            Ok(ok && known)
        })
        .await?
    }
}

/// Throttling limits.
#[derive(Debug, Clone, Copy)]
pub struct Throttle {
    pub max_per_login: u64,
    pub max_per_ip: u64,
    pub window: Duration,
}

/// The password sign-in method.
pub struct PasswordMethod {
    store: Arc<dyn Store>,
    sessions: Arc<dyn SessionStore>,
    hasher: Arc<PasswordHasher>,
    throttle: Throttle,
}

impl PasswordMethod {
    pub fn new(
        store: Arc<dyn Store>,
        sessions: Arc<dyn SessionStore>,
        hasher: Arc<PasswordHasher>,
        throttle: Throttle,
    ) -> Self {
        PasswordMethod {
            store,
            sessions,
            hasher,
            throttle,
        }
    }

    async fn failures(&self, key: &str) -> Result<u64, AuthnError> {
        let raw = self.sessions.get(key).await?;
        Ok(raw
            .and_then(|b| String::from_utf8(b).ok())
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(0))
    }

    async fn check(
        &self,
        cx: &LoginContext,
        login: &str,
        password: &str,
    ) -> Result<Option<String>, AuthnError> {
        let login_key = format!("fail:login:{login}");
        let ip_key = format!("fail:ip:{}", cx.client_ip);
        if self.failures(&login_key).await? >= self.throttle.max_per_login
            || self.failures(&ip_key).await? >= self.throttle.max_per_ip
        {
            tracing::info!(ip = %cx.client_ip, "password sign-in throttled");
            return Ok(None);
        }
        let user = self.store.user_by_login(login).await?;
        let phc = user.as_ref().and_then(|u| u.password_hash.clone());
        let ok = self
            .hasher
            .verify(password.to_owned(), phc)
            .await
            .map_err(AuthnError::Internal)?;
        match user {
            // A7: a blocked user is refused with the same message as a wrong password.
            Some(user) if ok && !user.blocked => {
                self.sessions.delete(&login_key).await?;
                Ok(Some(user.id))
            }
            _ => {
                self.sessions.incr(&login_key, self.throttle.window).await?;
                self.sessions.incr(&ip_key, self.throttle.window).await?;
                Ok(None)
            }
        }
    }
}

#[async_trait]
impl SignInMethod for PasswordMethod {
    fn id(&self) -> &'static str {
        "password"
    }

    fn assurance(&self) -> Assurance {
        Assurance::Low
    }

    async fn begin(&self, _cx: &LoginContext) -> Result<Step, AuthnError> {
        Ok(Step::Prompt {
            state: Vec::new(),
            message: None,
        })
    }

    async fn resume(
        &self,
        cx: &LoginContext,
        _state: &[u8],
        input: StepInput,
    ) -> Result<Step, AuthnError> {
        let StepInput::Form(fields) = input;
        let login = fields.get("login").map(|l| l.trim()).unwrap_or_default();
        let password = fields
            .get("password")
            .map(String::as_str)
            .unwrap_or_default();
        if login.is_empty() || password.is_empty() || login.len() > 64 || password.len() > 1024 {
            return Ok(Step::Prompt {
                state: Vec::new(),
                message: Some(INVALID_MESSAGE),
            });
        }
        match self.check(cx, login, password).await? {
            Some(user_id) => Ok(Step::Done(Identity {
                user_id,
                amr: vec!["pwd".into()],
                assurance: Assurance::Low,
            })),
            None => Ok(Step::Prompt {
                state: Vec::new(),
                message: Some(INVALID_MESSAGE),
            }),
        }
    }
}
