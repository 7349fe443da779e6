//! In-process session store: a sharded map of byte values with per-entry expiry.
//!
//! Used when the provider runs as a single process (demo, tests, benchmarks). It sits on the
//! token endpoint's hot path, so every call takes one short `std::sync::Mutex` on one shard
//! and never awaits while holding it. Expired entries are invisible to every call; they are
//! removed lazily when touched and by an amortised sweep of a shard triggered by writes, so
//! memory stays proportional to the live entries.

use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use async_trait::async_trait;

use super::{SessionError, SessionResult, SessionStore};

/// A power of two so the shard index is a mask; enough to keep lock contention low on a
/// many-core benchmark without making the sweep of one shard expensive.
const SHARDS: usize = 32;

/// A shard is swept after at least this many writes, even when it holds few entries, so a
/// small but busy shard does not rescan on every write.
const SWEEP_MIN_WRITES: usize = 256;

/// TTLs are capped so `Instant + ttl` cannot overflow; no session state lives this long.
const MAX_TTL: Duration = Duration::from_secs(10 * 365 * 24 * 3600);

struct Entry {
    value: Vec<u8>,
    expires_at: Instant,
}

impl Entry {
    fn live(&self, now: Instant) -> bool {
        now < self.expires_at
    }
}

#[derive(Default)]
struct Shard {
    map: HashMap<String, Entry>,
    writes_since_sweep: usize,
    /// Live entries found by the previous sweep. Sweeping again only after that many writes
    /// keeps the sweep cost amortised O(1) per write while bounding garbage to about the
    /// live size.
    live_after_sweep: usize,
}

impl Shard {
    /// Counts a write and sweeps expired entries when enough writes have accumulated.
    fn note_write(&mut self, now: Instant) {
        self.writes_since_sweep += 1;
        if self.writes_since_sweep >= SWEEP_MIN_WRITES.max(self.live_after_sweep) {
            self.map.retain(|_, e| e.live(now));
            self.writes_since_sweep = 0;
            self.live_after_sweep = self.map.len();
        }
    }

    fn live_mut(&mut self, key: &str, now: Instant) -> Option<&mut Entry> {
        self.map.get_mut(key).filter(|e| e.live(now))
    }
}

/// Session store kept in this process's memory; see the module documentation.
pub struct MemorySessionStore {
    shards: Box<[Mutex<Shard>]>,
    hasher: std::collections::hash_map::RandomState,
}

impl MemorySessionStore {
    pub fn new() -> Self {
        Self {
            shards: (0..SHARDS).map(|_| Mutex::new(Shard::default())).collect(),
            hasher: Default::default(),
        }
    }

    fn shard(&self, key: &str) -> MutexGuard<'_, Shard> {
        let idx = (self.hasher.hash_one(key) as usize) & (SHARDS - 1);
        // A panic while holding the lock cannot leave a shard half-updated (every mutation
        // is a single map operation), so a poisoned lock is safe to keep using.
        self.shards[idx].lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Number of entries currently held, expired or not (for tests and diagnostics).
    pub fn raw_len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().unwrap_or_else(|p| p.into_inner()).map.len())
            .sum()
    }
}

impl Default for MemorySessionStore {
    fn default() -> Self {
        Self::new()
    }
}

fn deadline(now: Instant, ttl: Duration) -> Instant {
    now + ttl.min(MAX_TTL)
}

#[async_trait]
impl SessionStore for MemorySessionStore {
    async fn put(&self, key: &str, value: &[u8], ttl: Duration) -> SessionResult<()> {
        let now = Instant::now();
        let entry = Entry {
            value: value.to_vec(),
            expires_at: deadline(now, ttl),
        };
        let mut shard = self.shard(key);
        match shard.map.get_mut(key) {
            // Reuses the key allocation when replacing.
            Some(existing) => *existing = entry,
            None => {
                shard.map.insert(key.to_owned(), entry);
            }
        }
        shard.note_write(now);
        Ok(())
    }

    async fn put_new(&self, key: &str, value: &[u8], ttl: Duration) -> SessionResult<bool> {
        let now = Instant::now();
        let entry = Entry {
            value: value.to_vec(),
            expires_at: deadline(now, ttl),
        };
        let mut shard = self.shard(key);
        match shard.map.get_mut(key) {
            Some(existing) if existing.live(now) => return Ok(false),
            Some(expired) => *expired = entry,
            None => {
                shard.map.insert(key.to_owned(), entry);
            }
        }
        shard.note_write(now);
        Ok(true)
    }

    async fn get(&self, key: &str) -> SessionResult<Option<Vec<u8>>> {
        let now = Instant::now();
        let mut shard = self.shard(key);
        match shard.map.get(key) {
            Some(e) if e.live(now) => Ok(Some(e.value.clone())),
            Some(_) => {
                shard.map.remove(key);
                Ok(None)
            }
            None => Ok(None),
        }
    }

    async fn exists_any(&self, keys: &[String]) -> SessionResult<bool> {
        let now = Instant::now();
        Ok(keys.iter().any(|k| {
            self.shard(k)
                .map
                .get(k.as_str())
                .is_some_and(|e| e.live(now))
        }))
    }

    async fn take(&self, key: &str) -> SessionResult<Option<Vec<u8>>> {
        let now = Instant::now();
        // Removal under the shard lock is what makes exactly one concurrent caller win.
        let removed = self.shard(key).map.remove(key);
        Ok(removed.filter(|e| e.live(now)).map(|e| e.value))
    }

    async fn delete(&self, key: &str) -> SessionResult<()> {
        self.shard(key).map.remove(key);
        Ok(())
    }

    async fn incr(&self, key: &str, ttl: Duration) -> SessionResult<u64> {
        let now = Instant::now();
        let mut shard = self.shard(key);
        // Counters are stored as ASCII decimal, as Redis does, so `get` reads the same on
        // both backends and a non-counter value is reported the same way.
        if let Some(entry) = shard.live_mut(key, now) {
            let n = std::str::from_utf8(&entry.value)
                .ok()
                .and_then(|s| s.parse::<u64>().ok())
                .and_then(|n| n.checked_add(1))
                .ok_or_else(|| {
                    SessionError::Corrupt(format!("value at {key:?} is not a counter"))
                })?;
            // The expiry stays untouched: a fixed window from the first increment.
            entry.value = n.to_string().into_bytes();
            return Ok(n);
        }
        let entry = Entry {
            value: b"1".to_vec(),
            expires_at: deadline(now, ttl),
        };
        match shard.map.get_mut(key) {
            Some(expired) => *expired = entry,
            None => {
                shard.map.insert(key.to_owned(), entry);
            }
        }
        shard.note_write(now);
        Ok(1)
    }

    async fn ping(&self) -> SessionResult<()> {
        Ok(())
    }

    fn describe(&self) -> String {
        "memory (this process only)".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn sweep_bounds_memory() {
        let store = MemorySessionStore::new();
        for i in 0..20_000 {
            store
                .put(&format!("k{i}"), b"v", Duration::ZERO)
                .await
                .unwrap();
        }
        // Every entry expired at once; the write-triggered sweeps keep only the recent tail.
        assert!(
            store.raw_len() < SHARDS * SWEEP_MIN_WRITES,
            "len {}",
            store.raw_len()
        );
    }
}
