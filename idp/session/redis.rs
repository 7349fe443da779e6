//! Redis session store, shared by every provider process behind a load balancer.
//!
//! One `ConnectionManager` (a multiplexed connection that reconnects in the background) is
//! cloned per call. Connection and response timeouts, and no in-line retries, make calls
//! fail within about two seconds with `SessionError::Unavailable` while Redis is down, so
//! requests get a 503 instead of hanging; once Redis is back the manager's background
//! reconnect makes calls succeed again. Every key is stored as `{prefix}{key}` so several
//! deployments or test runs can share one database.

use std::time::Duration;

use async_trait::async_trait;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{ConnectionAddr, ErrorKind, RedisError, Script};

use super::{SessionError, SessionResult, SessionStore};

/// Bound on establishing one TCP connection (plus handshake).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// Bound on one command's reply; every command here is O(1) on the server.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(2);
/// Extra attempts per (re)connection. None: redis 0.32's backoff waits at least a second
/// (plus jitter) before any retry, and every request that arrives during an outage awaits
/// the pending reconnect, so retries would turn each 503 into a multi-second stall. Each
/// failing call schedules a fresh background reconnect anyway, so traffic itself retries.
const CONNECT_RETRIES: usize = 0;
/// Overall bound on `connect` (one connection attempt plus the PING), in case the
/// handshake takes several round trips.
const CONNECT_DEADLINE: Duration = Duration::from_secs(5);

/// TTLs are capped so `PX` never overflows Redis's clock arithmetic.
const MAX_TTL_MS: u64 = 10 * 365 * 24 * 3600 * 1000;

/// INCR and start the window on the first increment only, in one atomic step. The `PTTL`
/// check also repairs a counter that somehow lost its expiry, so a counter never lives
/// forever and locks a user out permanently.
const INCR_SCRIPT: &str = r"
local n = redis.call('INCR', KEYS[1])
if n == 1 or redis.call('PTTL', KEYS[1]) < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
end
return n
";

/// Session store backed by Redis; see the module documentation.
pub struct RedisSessionStore {
    conn: ConnectionManager,
    prefix: String,
    incr_script: Script,
    description: String,
}

impl RedisSessionStore {
    /// Connects to `url` (`redis://[user:password@]host:port[/db]`) and checks it with a
    /// PING. Fails with `Unavailable` when Redis cannot be reached within a few seconds.
    pub async fn connect(url: &str, prefix: &str) -> SessionResult<Self> {
        // The URL may embed a password, so it never goes into an error message.
        let client = redis::Client::open(url).map_err(|e| {
            SessionError::Unavailable(format!("invalid Redis URL: {}", e.category()))
        })?;
        let description = describe_client(&client, prefix);
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(CONNECT_TIMEOUT)
            .set_response_timeout(RESPONSE_TIMEOUT)
            .set_number_of_retries(CONNECT_RETRIES);
        let conn = tokio::time::timeout(
            CONNECT_DEADLINE,
            ConnectionManager::new_with_config(client, config),
        )
        .await
        .map_err(|_| SessionError::Unavailable(format!("{description}: connect timed out")))?
        .map_err(|e| SessionError::Unavailable(format!("{description}: {e}")))?;
        let store = Self {
            conn,
            prefix: prefix.to_owned(),
            incr_script: Script::new(INCR_SCRIPT),
            description,
        };
        store.ping().await?;
        Ok(store)
    }

    fn key(&self, key: &str) -> String {
        let mut k = String::with_capacity(self.prefix.len() + key.len());
        k.push_str(&self.prefix);
        k.push_str(key);
        k
    }

    async fn query<T: redis::FromRedisValue>(&self, cmd: &redis::Cmd) -> SessionResult<T> {
        let mut conn = self.conn.clone();
        cmd.query_async(&mut conn).await.map_err(map_err)
    }
}

/// Milliseconds for `PX`/`PEXPIRE`: Redis rejects 0, and a zero TTL should still expire
/// (almost) at once rather than fail.
fn ttl_ms(ttl: Duration) -> u64 {
    (ttl.as_millis().min(MAX_TTL_MS as u128) as u64).max(1)
}

fn describe_client(client: &redis::Client, prefix: &str) -> String {
    let info = client.get_connection_info();
    let addr = match &info.addr {
        ConnectionAddr::Tcp(..) => format!("redis://{}", info.addr),
        ConnectionAddr::TcpTls { .. } => format!("rediss://{}", info.addr),
        ConnectionAddr::Unix(path) => format!("redis+unix://{}", path.display()),
    };
    format!("redis {addr}/{} prefix {prefix:?}", info.redis.db)
}

/// Data problems (a value of the wrong type, an unparsable reply) are `Corrupt`; anything
/// else means the store cannot serve us right now, which callers turn into a 503.
fn map_err(e: RedisError) -> SessionError {
    let data_error = matches!(e.kind(), ErrorKind::TypeError | ErrorKind::ParseError)
        || e.code() == Some("WRONGTYPE")
        || e.detail().is_some_and(|d| d.contains("not an integer"));
    if data_error {
        SessionError::Corrupt(e.to_string())
    } else {
        SessionError::Unavailable(e.to_string())
    }
}

#[async_trait]
impl SessionStore for RedisSessionStore {
    async fn put(&self, key: &str, value: &[u8], ttl: Duration) -> SessionResult<()> {
        let mut cmd = redis::cmd("SET");
        cmd.arg(self.key(key)).arg(value).arg("PX").arg(ttl_ms(ttl));
        self.query::<()>(&cmd).await
    }

    async fn put_new(&self, key: &str, value: &[u8], ttl: Duration) -> SessionResult<bool> {
        let mut cmd = redis::cmd("SET");
        cmd.arg(self.key(key))
            .arg(value)
            .arg("NX")
            .arg("PX")
            .arg(ttl_ms(ttl));
        // Nil when the key already exists, "OK" when set.
        Ok(self.query::<Option<String>>(&cmd).await?.is_some())
    }

    async fn get(&self, key: &str) -> SessionResult<Option<Vec<u8>>> {
        self.query(redis::cmd("GET").arg(self.key(key))).await
    }

    async fn exists_any(&self, keys: &[String]) -> SessionResult<bool> {
        if keys.is_empty() {
            // EXISTS without arguments is a syntax error.
            return Ok(false);
        }
        let mut cmd = redis::cmd("EXISTS");
        for k in keys {
            cmd.arg(self.key(k));
        }
        Ok(self.query::<u64>(&cmd).await? > 0)
    }

    async fn take(&self, key: &str) -> SessionResult<Option<Vec<u8>>> {
        self.query(redis::cmd("GETDEL").arg(self.key(key))).await
    }

    async fn delete(&self, key: &str) -> SessionResult<()> {
        self.query::<()>(redis::cmd("DEL").arg(self.key(key))).await
    }

    async fn incr(&self, key: &str, ttl: Duration) -> SessionResult<u64> {
        let mut conn = self.conn.clone();
        // EVALSHA, falling back to EVAL (which caches the script) after a NOSCRIPT reply.
        let mut invocation = self.incr_script.key(self.key(key));
        invocation.arg(ttl_ms(ttl));
        invocation.invoke_async(&mut conn).await.map_err(map_err)
    }

    async fn ping(&self) -> SessionResult<()> {
        let reply: String = self.query(&redis::cmd("PING")).await?;
        if reply == "PONG" {
            Ok(())
        } else {
            Err(SessionError::Unavailable(format!(
                "unexpected PING reply {reply:?}"
            )))
        }
    }

    fn describe(&self) -> String {
        self.description.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn description_hides_password() {
        let client = redis::Client::open("redis://user:s3cret@cache.internal:6380/2").unwrap();
        let d = describe_client(&client, "idp:");
        assert_eq!(d, "redis redis://cache.internal:6380/2 prefix \"idp:\"");
        assert!(!d.contains("s3cret"));
    }

    #[test]
    fn ttl_ms_never_zero() {
        assert_eq!(ttl_ms(Duration::ZERO), 1);
        assert_eq!(ttl_ms(Duration::from_millis(300)), 300);
    }
}
