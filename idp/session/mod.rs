//! Short-lived state with a time to live: browser SSO sessions, pending authorization
//! requests, authorization codes, CSRF state, failed-login counters, revocation markers.
//!
//! `memory` (one process) and `redis` (shared by several processes) implement one trait;
//! `tests/it/session_contract.rs` runs the same suite against both. The store enforces TTLs
//! itself, and `take` is atomic so a single-use value has exactly one winner across processes.

pub mod memory;
pub mod redis;

use std::time::Duration;

use async_trait::async_trait;
use serde::{de::DeserializeOwned, Serialize};

/// Why a session-store call failed.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// The backend could not be reached; the caller answers 503.
    #[error("session store unavailable: {0}")]
    Unavailable(String),
    /// A stored value could not be decoded.
    #[error("session store data error: {0}")]
    Corrupt(String),
}

pub type SessionResult<T> = Result<T, SessionError>;

/// Key/value store with per-key expiry. Keys are plain strings namespaced by the caller
/// (`code:…`, `sso:…`); the implementation may add its own prefix.
#[async_trait]
pub trait SessionStore: Send + Sync {
    /// Sets `key` to `value`, replacing any previous value; it expires after `ttl`.
    async fn put(&self, key: &str, value: &[u8], ttl: Duration) -> SessionResult<()>;
    /// Sets `key` only if it does not exist; returns whether it was set.
    async fn put_new(&self, key: &str, value: &[u8], ttl: Duration) -> SessionResult<bool>;
    async fn get(&self, key: &str) -> SessionResult<Option<Vec<u8>>>;
    /// Returns whether any of `keys` exists (one round trip).
    async fn exists_any(&self, keys: &[String]) -> SessionResult<bool>;
    /// Gets and deletes atomically: of concurrent callers, exactly one gets the value.
    async fn take(&self, key: &str) -> SessionResult<Option<Vec<u8>>>;
    async fn delete(&self, key: &str) -> SessionResult<()>;
    /// Increments a counter and returns the new value; the first increment starts `ttl`,
    /// later ones keep the original expiry (a fixed window).
    async fn incr(&self, key: &str, ttl: Duration) -> SessionResult<u64>;
    /// Liveness probe.
    async fn ping(&self) -> SessionResult<()>;
    /// Human-readable description for the start-up line (never a password).
    fn describe(&self) -> String;
}

/// Typed helpers over the byte API (JSON encoded).
pub async fn put_json<T: Serialize + Sync>(
    store: &dyn SessionStore,
    key: &str,
    value: &T,
    ttl: Duration,
) -> SessionResult<()> {
    let bytes = serde_json::to_vec(value).map_err(|e| SessionError::Corrupt(e.to_string()))?;
    store.put(key, &bytes, ttl).await
}

pub async fn get_json<T: DeserializeOwned>(
    store: &dyn SessionStore,
    key: &str,
) -> SessionResult<Option<T>> {
    decode(store.get(key).await?)
}

pub async fn take_json<T: DeserializeOwned>(
    store: &dyn SessionStore,
    key: &str,
) -> SessionResult<Option<T>> {
    decode(store.take(key).await?)
}

fn decode<T: DeserializeOwned>(bytes: Option<Vec<u8>>) -> SessionResult<Option<T>> {
    bytes
        .map(|b| serde_json::from_slice(&b).map_err(|e| SessionError::Corrupt(e.to_string())))
        .transpose()
}
