//! Login + password sign-in (A1).
//!
//! Argon2id runs on a few threads of its own (one per permit of a semaphore, `cores` by
//! default) at a lower scheduling priority than the async workers, so a burst of sign-ins
//! queues for the CPU and takes what is idle first instead of stalling the workers that serve
//! tokens. Each hash needs its memory cost in RAM (19 MiB by default); those buffers are kept
//! and reused, so the process holds at most one per thread (freed ones would otherwise stay
//! in the allocator's per-thread arenas, several hundred MB after a sign-in burst) and no
//! hash pays for faulting in fresh pages. An unknown login costs the same hash as a wrong
//! password (a dummy hash is verified) and gets the same message; failures are counted per
//! login and per client IP in the session store, so the limit holds across processes, and a
//! throttled attempt gets that same message too.

use std::sync::mpsc;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use argon2::password_hash::{
    rand_core::OsRng, Output, ParamsString, PasswordHash, PasswordHasher as _, SaltString,
};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use async_trait::async_trait;
use subtle::ConstantTimeEq;
use tokio::sync::Semaphore;

use super::{Assurance, AuthnError, Identity, LoginContext, SignInMethod, Step, StepInput};
use crate::session::SessionStore;
use crate::store::Store;

/// Catalogue key of the one failure message (A1: it must not tell which field was wrong).
pub const INVALID_MESSAGE: &str = "login.error.invalid";

/// Nice value of the argon2 threads: under CPU contention they get about a tenth of what a
/// normal thread gets, and all of an idle CPU.
const ARGON2_NICE: i32 = 10;

type Job = Box<dyn FnOnce() + Send>;

/// Argon2id hashing with bounded concurrency.
pub struct PasswordHasher {
    argon2: Argon2<'static>,
    permits: Semaphore,
    /// Work for the argon2 threads; they stop when this is dropped.
    jobs: mpsc::Sender<Job>,
    /// Argon2 memory, reused: at most one buffer per permit ever exists.
    buffers: Mutex<Vec<Vec<Block>>>,
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
        let concurrency = concurrency.max(1);
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for i in 0..concurrency {
            let queue = queue.clone();
            std::thread::Builder::new()
                .name(format!("argon2-{i}"))
                .spawn(move || {
                    lower_priority();
                    loop {
                        let job = queue.lock().unwrap_or_else(PoisonError::into_inner).recv();
                        match job {
                            // A panic fails that one hash (its caller sees an error), not the thread.
                            Ok(job) => {
                                let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
                            }
                            Err(_) => break,
                        }
                    }
                })?;
        }
        Ok(PasswordHasher {
            argon2,
            permits: Semaphore::new(concurrency),
            jobs,
            buffers: Mutex::new(Vec::new()),
            dummy_hash,
        })
    }

    /// Runs `f` on an argon2 thread once a permit is free.
    async fn run<T: Send + 'static>(
        self: &Arc<Self>,
        f: impl FnOnce(&PasswordHasher) -> anyhow::Result<T> + Send + 'static,
    ) -> anyhow::Result<T> {
        let _permit = self.permits.acquire().await?;
        let (done, result) = tokio::sync::oneshot::channel();
        let this = self.clone();
        let job: Job = Box::new(move || {
            let _ = done.send(f(&this));
        });
        self.jobs
            .send(job)
            .map_err(|_| anyhow::anyhow!("argon2 threads stopped"))?;
        result
            .await
            .map_err(|_| anyhow::anyhow!("argon2 thread failed"))?
    }

    /// Runs `f` with a memory buffer of at least `blocks` blocks from the pool (callers hold
    /// a permit, so the pool never grows past the number of permits).
    fn with_memory<T>(&self, blocks: usize, f: impl FnOnce(&mut [Block]) -> T) -> T {
        let lock = || self.buffers.lock().unwrap_or_else(PoisonError::into_inner);
        let mut buffer = lock().pop().unwrap_or_default();
        if buffer.len() < blocks {
            buffer.resize(blocks, Block::default());
        }
        let result = f(&mut buffer[..blocks]);
        lock().push(buffer);
        result
    }

    /// Argon2id of `password` with `salt` under `argon2`'s parameters, into `out`.
    fn compute(
        &self,
        argon2: &Argon2<'_>,
        params: &Params,
        password: &[u8],
        salt: &[u8],
        out: &mut [u8],
    ) -> anyhow::Result<()> {
        self.with_memory(params.block_count(), |memory| {
            argon2.hash_password_into_with_memory(password, salt, out, memory)
        })
        .map_err(|e| anyhow::anyhow!("argon2: {e}"))
    }

    /// A new PHC string for `password` (what `hash_password` makes, with pooled memory).
    fn hash_blocking(&self, password: &[u8]) -> anyhow::Result<String> {
        let err = |e: argon2::password_hash::Error| anyhow::anyhow!("argon2: {e}");
        let salt = SaltString::generate(&mut OsRng);
        let mut salt_bytes = [0u8; 64];
        let salt_bytes = salt.decode_b64(&mut salt_bytes).map_err(err)?;
        let params = self.argon2.params();
        let mut out = vec![0u8; params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN)];
        self.compute(&self.argon2, params, password, salt_bytes, &mut out)?;
        let hash = PasswordHash {
            algorithm: Algorithm::Argon2id.ident(),
            version: Some(Version::V0x13.into()),
            params: ParamsString::try_from(params).map_err(err)?,
            salt: Some(salt.as_salt()),
            hash: Some(Output::new(&out).map_err(err)?),
        };
        Ok(hash.to_string())
    }

    /// Whether `password` matches the PHC string `phc` (under the parameters stored in it,
    /// so hashes made with another cost still verify), with pooled memory. As with
    /// `PasswordVerifier::verify_password`, a hash that parses but cannot be checked (unknown
    /// algorithm, bad parameters, no salt) is a mismatch; one that does not parse is an error.
    fn verify_blocking(&self, password: &[u8], phc: &str) -> anyhow::Result<bool> {
        let parsed = PasswordHash::new(phc).map_err(|e| anyhow::anyhow!("stored hash: {e}"))?;
        let matches = || -> Option<bool> {
            let algorithm = Algorithm::try_from(parsed.algorithm).ok()?;
            let version = match parsed.version {
                Some(v) => Version::try_from(v).ok()?,
                None => Version::default(),
            };
            let params = Params::try_from(&parsed).ok()?;
            let (salt, expected) = (parsed.salt?, parsed.hash?);
            let mut salt_bytes = [0u8; 64];
            let salt_bytes = salt.decode_b64(&mut salt_bytes).ok()?;
            let mut out = vec![0u8; expected.len()];
            let argon2 = Argon2::new(algorithm, version, params.clone());
            self.compute(&argon2, &params, password, salt_bytes, &mut out)
                .ok()?;
            Some(bool::from(out.as_slice().ct_eq(expected.as_bytes())))
        };
        Ok(matches().unwrap_or(false))
    }

    /// Hashes a new password (PHC string).
    pub async fn hash(self: &Arc<Self>, password: String) -> anyhow::Result<String> {
        self.run(move |this| this.hash_blocking(password.as_bytes()))
            .await
    }

    /// Verifies `password` against `phc`, or against the dummy hash when `phc` is `None`
    /// (then the answer is always false).
    pub async fn verify(
        self: &Arc<Self>,
        password: String,
        phc: Option<String>,
    ) -> anyhow::Result<bool> {
        self.run(move |this| {
            let known = phc.is_some();
            let phc = phc.as_deref().unwrap_or(&this.dummy_hash);
            let ok = this.verify_blocking(password.as_bytes(), phc)?;
            Ok(ok && known)
        })
        .await
    }
}

/// Lowers the calling thread's scheduling priority to [`ARGON2_NICE`] (on Linux the nice
/// value belongs to the thread). Best effort: without it sign-ins only compete harder.
#[cfg(target_os = "linux")]
fn lower_priority() {
    extern "C" {
        fn setpriority(which: i32, who: u32, prio: i32) -> i32;
    }
    const PRIO_PROCESS: i32 = 0;
    // SAFETY: setpriority takes plain integers and touches no memory of ours; `who = 0` is
    // the calling thread.
    unsafe {
        setpriority(PRIO_PROCESS, 0, ARGON2_NICE);
    }
}

#[cfg(not(target_os = "linux"))]
fn lower_priority() {}

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

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::password_hash::PasswordVerifier as _;

    fn hasher() -> Arc<PasswordHasher> {
        Arc::new(PasswordHasher::new(19_456, 2, 2).unwrap())
    }

    #[tokio::test]
    async fn pooled_hash_and_verify_agree_with_the_argon2_crate() {
        let h = hasher();
        let phc = h.hash("correct horse".into()).await.unwrap();
        let parsed = PasswordHash::new(&phc).unwrap();
        assert!(Argon2::default()
            .verify_password(b"correct horse", &parsed)
            .is_ok());
        assert!(h
            .verify("correct horse".into(), Some(phc.clone()))
            .await
            .unwrap());
        assert!(!h.verify("wrong horse".into(), Some(phc)).await.unwrap());
        // A hash made elsewhere, with another cost, verifies under its own parameters.
        let other = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(8, 1, 1, None).unwrap(),
        )
        .hash_password(b"pw-12345678", &SaltString::generate(&mut OsRng))
        .unwrap()
        .to_string();
        assert!(h
            .verify("pw-12345678".into(), Some(other.clone()))
            .await
            .unwrap());
        assert!(!h.verify("pw-123456789".into(), Some(other)).await.unwrap());
        // Unknown login: the dummy hash is checked and the answer is no.
        assert!(!h.verify("correct horse".into(), None).await.unwrap());
        // No more buffers than permits.
        assert!(h.buffers.lock().unwrap().len() <= 2);
    }

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn argon2_threads_run_below_normal_priority() {
        let h = hasher();
        assert!(h.verify("x".into(), None).await.is_ok());
        let mut seen = 0;
        for task in std::fs::read_dir("/proc/self/task").unwrap().flatten() {
            let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
            if !comm.starts_with("argon2-") {
                continue;
            }
            let stat = std::fs::read_to_string(task.path().join("stat")).unwrap_or_default();
            // Fields after "(comm) ": state is the 1st, nice the 17th.
            let nice: i32 = stat
                .rsplit_once(") ")
                .unwrap()
                .1
                .split(' ')
                .nth(16)
                .unwrap()
                .parse()
                .unwrap();
            if nice == ARGON2_NICE {
                seen += 1;
            }
        }
        assert!(seen >= 2, "argon2 threads at nice {ARGON2_NICE}: {seen}");
    }

    #[tokio::test]
    async fn unusable_stored_hashes() {
        let h = hasher();
        assert!(h
            .verify("x".into(), Some("not a phc string".into()))
            .await
            .is_err());
        let bcrypt_like = "$2b$v=1$c29tZXNhbHQxMjM$aGFzaGhhc2hoYXNoaGFzaA";
        assert!(!h
            .verify("x".into(), Some(bcrypt_like.into()))
            .await
            .unwrap_or(false));
    }
}
