//! The `SessionStore` contract, written once in `cases` and run against every backend:
//! `session_contract::memory::*` always, `session_contract::redis::*` when
//! `IDP_TEST_REDIS_URL` is set (with `IDP_REQUIRE_BACKENDS=1`, a missing URL fails instead of
//! skipping). Each Redis test uses its own random key prefix so tests run in parallel against
//! one database without seeing each other; every key written has a TTL of at most a minute,
//! so nothing needs cleaning up. `redis` also holds the Redis-only checks: prefixes, key
//! layout, and failing fast (and recovering) when Redis is unreachable.

use std::sync::Arc;
use std::time::Duration;

use salyk_idp::session::memory::MemorySessionStore;
use salyk_idp::session::redis::RedisSessionStore;
use salyk_idp::session::{SessionError, SessionStore};

type Store = Arc<dyn SessionStore>;

/// Long enough that a live entry never expires mid-test, short enough that leftovers in a
/// shared Redis disappear on their own.
const LONG: Duration = Duration::from_secs(60);
/// Short TTL for expiry tests, and the sleep that is comfortably past it.
const SHORT: Duration = Duration::from_millis(300);
const PAST_SHORT: Duration = Duration::from_millis(700);

fn random_prefix() -> String {
    format!("t:{:016x}:", rand::random::<u64>())
}

fn redis_url() -> Option<String> {
    match std::env::var("IDP_TEST_REDIS_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            if std::env::var("IDP_REQUIRE_BACKENDS").as_deref() == Ok("1") {
                panic!("IDP_REQUIRE_BACKENDS=1 but IDP_TEST_REDIS_URL is not set");
            }
            eprintln!("note: IDP_TEST_REDIS_URL is not set; skipping this Redis test");
            None
        }
    }
}

async fn memory_store() -> Option<Store> {
    Some(Arc::new(MemorySessionStore::new()))
}

async fn redis_store() -> Option<Store> {
    let url = redis_url()?;
    Some(Arc::new(
        redis_store_with_prefix(&url, &random_prefix()).await,
    ))
}

async fn redis_store_with_prefix(url: &str, prefix: &str) -> RedisSessionStore {
    RedisSessionStore::connect(url, prefix)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to the test Redis: {e}"))
}

/// Expands to one `#[tokio::test]` per contract case, each building a fresh store with
/// `$factory` (which returns `None` to skip).
macro_rules! contract_suite {
    ($factory:path) => {
        contract_suite!(@cases $factory;
            put_get_roundtrip, put_replaces, ttl_expiry, put_new_only_once, exists_any,
            take_returns_once, concurrent_take_has_one_winner, incr_counts, incr_fixed_window,
            concurrent_incr_is_atomic, incr_on_non_counter_is_corrupt, json_helpers,
            ping_and_describe);
    };
    (@cases $factory:path; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $case() {
                if let Some(store) = $factory().await {
                    super::cases::$case(store).await;
                }
            }
        )*
    };
}

mod cases {
    use super::*;
    use serde::{Deserialize, Serialize};
    use tokio::sync::Barrier;

    pub async fn put_get_roundtrip(s: Store) {
        assert_eq!(s.get("missing").await.unwrap(), None);
        s.put("a", b"alpha", LONG).await.unwrap();
        assert_eq!(s.get("a").await.unwrap().as_deref(), Some(&b"alpha"[..]));
        // Values are bytes, not strings.
        let binary = [0u8, 0xff, 0xfe, b'\n', 0];
        s.put("bin", &binary, LONG).await.unwrap();
        assert_eq!(s.get("bin").await.unwrap().as_deref(), Some(&binary[..]));
        s.put("empty", b"", LONG).await.unwrap();
        assert_eq!(s.get("empty").await.unwrap(), Some(Vec::new()));
        s.delete("a").await.unwrap();
        assert_eq!(s.get("a").await.unwrap(), None);
        s.delete("a").await.unwrap();
        s.delete("never-existed").await.unwrap();
        assert_eq!(s.get("bin").await.unwrap().as_deref(), Some(&binary[..]));
    }

    pub async fn put_replaces(s: Store) {
        s.put("k", b"one", SHORT).await.unwrap();
        s.put("k", b"two", LONG).await.unwrap();
        assert_eq!(s.get("k").await.unwrap().as_deref(), Some(&b"two"[..]));
        // The replacing put's TTL applies, not the original one.
        tokio::time::sleep(PAST_SHORT).await;
        assert_eq!(s.get("k").await.unwrap().as_deref(), Some(&b"two"[..]));
        // And a shorter TTL replaces a longer one.
        s.put("k", b"three", SHORT).await.unwrap();
        tokio::time::sleep(PAST_SHORT).await;
        assert_eq!(s.get("k").await.unwrap(), None);
    }

    pub async fn ttl_expiry(s: Store) {
        s.put("short", b"v", SHORT).await.unwrap();
        s.put("long", b"v", LONG).await.unwrap();
        s.put("gone", b"v", SHORT).await.unwrap();
        assert!(s.get("short").await.unwrap().is_some());
        tokio::time::sleep(PAST_SHORT).await;
        // Expired entries are invisible to every call.
        assert_eq!(s.get("short").await.unwrap(), None);
        assert!(!s.exists_any(&["gone".to_owned()]).await.unwrap());
        assert_eq!(s.take("gone").await.unwrap(), None);
        assert_eq!(s.get("long").await.unwrap().as_deref(), Some(&b"v"[..]));
    }

    pub async fn put_new_only_once(s: Store) {
        assert!(s.put_new("n", b"first", SHORT).await.unwrap());
        assert!(!s.put_new("n", b"second", LONG).await.unwrap());
        assert_eq!(s.get("n").await.unwrap().as_deref(), Some(&b"first"[..]));
        // The refused put_new must not have extended the TTL either.
        tokio::time::sleep(PAST_SHORT).await;
        assert_eq!(s.get("n").await.unwrap(), None);
        // Once expired, the key can be claimed again.
        assert!(s.put_new("n", b"third", LONG).await.unwrap());
        assert_eq!(s.get("n").await.unwrap().as_deref(), Some(&b"third"[..]));
        s.delete("n").await.unwrap();
        assert!(s.put_new("n", b"fourth", LONG).await.unwrap());
    }

    pub async fn exists_any(s: Store) {
        let keys: Vec<String> = ["x", "y", "z"].iter().map(|k| k.to_string()).collect();
        assert!(!s.exists_any(&[]).await.unwrap());
        assert!(!s.exists_any(&keys).await.unwrap());
        s.put("y", b"1", LONG).await.unwrap();
        assert!(s.exists_any(&keys).await.unwrap());
        assert!(s.exists_any(&keys[1..2]).await.unwrap());
        assert!(!s
            .exists_any(&[keys[0].clone(), keys[2].clone()])
            .await
            .unwrap());
        s.delete("y").await.unwrap();
        assert!(!s.exists_any(&keys).await.unwrap());
    }

    pub async fn take_returns_once(s: Store) {
        s.put("code", b"grant", LONG).await.unwrap();
        assert_eq!(
            s.take("code").await.unwrap().as_deref(),
            Some(&b"grant"[..])
        );
        assert_eq!(s.take("code").await.unwrap(), None);
        assert_eq!(s.get("code").await.unwrap(), None);
        assert_eq!(s.take("never-existed").await.unwrap(), None);
    }

    pub async fn concurrent_take_has_one_winner(s: Store) {
        const TASKS: usize = 16;
        // Several rounds, so a race that is only lost sometimes still shows up.
        for round in 0..10 {
            let key = format!("race:{round}");
            s.put(&key, b"v", LONG).await.unwrap();
            let barrier = Arc::new(Barrier::new(TASKS));
            let handles: Vec<_> = (0..TASKS)
                .map(|_| {
                    let (s, key, barrier) = (s.clone(), key.clone(), barrier.clone());
                    tokio::spawn(async move {
                        barrier.wait().await;
                        s.take(&key).await.unwrap()
                    })
                })
                .collect();
            let mut winners = 0;
            for h in handles {
                if let Some(v) = h.await.unwrap() {
                    assert_eq!(v, b"v");
                    winners += 1;
                }
            }
            assert_eq!(winners, 1, "round {round}");
        }
    }

    pub async fn incr_counts(s: Store) {
        for expected in 1..=5 {
            assert_eq!(s.incr("fails", LONG).await.unwrap(), expected);
        }
        // Counters are independent per key.
        assert_eq!(s.incr("other", LONG).await.unwrap(), 1);
        s.delete("fails").await.unwrap();
        assert_eq!(s.incr("fails", LONG).await.unwrap(), 1);
    }

    pub async fn incr_on_non_counter_is_corrupt(s: Store) {
        s.put("text", b"abc", LONG).await.unwrap();
        let result = s.incr("text", LONG).await;
        assert!(
            matches!(result, Err(SessionError::Corrupt(_))),
            "{result:?}"
        );
        assert_eq!(s.get("text").await.unwrap().as_deref(), Some(&b"abc"[..]));
    }

    pub async fn incr_fixed_window(s: Store) {
        let window = Duration::from_millis(600);
        assert_eq!(s.incr("w", window).await.unwrap(), 1);
        assert_eq!(s.incr("w", window).await.unwrap(), 2);
        tokio::time::sleep(Duration::from_millis(300)).await;
        // A later increment, even with a longer TTL, must not move the window's end.
        assert_eq!(s.incr("w", LONG).await.unwrap(), 3);
        tokio::time::sleep(Duration::from_millis(500)).await;
        // 800 ms after the first increment: the 600 ms window is over.
        assert_eq!(s.get("w").await.unwrap(), None);
        assert_eq!(s.incr("w", SHORT).await.unwrap(), 1);
        tokio::time::sleep(PAST_SHORT).await;
        assert_eq!(s.incr("w", SHORT).await.unwrap(), 1);
    }

    pub async fn concurrent_incr_is_atomic(s: Store) {
        const TASKS: u64 = 16;
        let barrier = Arc::new(Barrier::new(TASKS as usize));
        let handles: Vec<_> = (0..TASKS)
            .map(|_| {
                let (s, barrier) = (s.clone(), barrier.clone());
                tokio::spawn(async move {
                    barrier.wait().await;
                    s.incr("hits", LONG).await.unwrap()
                })
            })
            .collect();
        let mut seen = Vec::new();
        for h in handles {
            seen.push(h.await.unwrap());
        }
        seen.sort_unstable();
        assert_eq!(seen, (1..=TASKS).collect::<Vec<_>>());
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct PendingAuth {
        client_id: String,
        scopes: Vec<String>,
        nonce: Option<String>,
    }

    pub async fn json_helpers(s: Store) {
        use salyk_idp::session::{get_json, put_json, take_json};
        let value = PendingAuth {
            client_id: "portal".into(),
            scopes: vec!["openid".into(), "profile".into()],
            nonce: Some("n-0S6_WzA2Mj".into()),
        };
        put_json(&*s, "auth:1", &value, LONG).await.unwrap();
        assert_eq!(
            get_json::<PendingAuth>(&*s, "auth:1")
                .await
                .unwrap()
                .as_ref(),
            Some(&value)
        );
        assert_eq!(
            take_json::<PendingAuth>(&*s, "auth:1").await.unwrap(),
            Some(value)
        );
        assert_eq!(take_json::<PendingAuth>(&*s, "auth:1").await.unwrap(), None);
        assert_eq!(get_json::<PendingAuth>(&*s, "auth:1").await.unwrap(), None);
        // Bytes that are not the expected JSON are reported as corrupt, not as absent.
        s.put("auth:2", b"not json", LONG).await.unwrap();
        assert!(matches!(
            get_json::<PendingAuth>(&*s, "auth:2").await,
            Err(SessionError::Corrupt(_))
        ));
    }

    pub async fn ping_and_describe(s: Store) {
        s.ping().await.unwrap();
        assert!(!s.describe().is_empty());
    }
}

mod memory {
    contract_suite!(super::memory_store);
}

mod redis {
    use std::time::Instant;

    use super::*;
    use tokio::net::{TcpListener, TcpSocket, TcpStream};
    use tokio::task::JoinSet;

    contract_suite!(super::redis_store);

    #[tokio::test]
    async fn prefixes_do_not_see_each_other() {
        let Some(url) = redis_url() else { return };
        let a = redis_store_with_prefix(&url, &random_prefix()).await;
        let b = redis_store_with_prefix(&url, &random_prefix()).await;
        a.put("k", b"from a", LONG).await.unwrap();
        assert_eq!(b.get("k").await.unwrap(), None);
        assert!(!b.exists_any(&["k".to_owned()]).await.unwrap());
        assert_eq!(b.take("k").await.unwrap(), None);
        assert!(b.put_new("k", b"from b", LONG).await.unwrap());
        assert_eq!(b.incr("n", LONG).await.unwrap(), 1);
        assert_eq!(a.incr("n", LONG).await.unwrap(), 1);
        assert_eq!(a.get("k").await.unwrap().as_deref(), Some(&b"from a"[..]));
        assert_eq!(b.get("k").await.unwrap().as_deref(), Some(&b"from b"[..]));
    }

    /// Looks at the raw keys: prefixed, and never without an expiry.
    #[tokio::test]
    async fn keys_are_prefixed_and_always_expire() {
        let Some(url) = redis_url() else { return };
        let prefix = random_prefix();
        let store = redis_store_with_prefix(&url, &prefix).await;
        let client = ::redis::Client::open(url.as_str()).unwrap();
        let mut raw = client.get_multiplexed_async_connection().await.unwrap();
        let pttl_conn = raw.clone();
        let pttl = |key: String| {
            let mut raw = pttl_conn.clone();
            async move {
                ::redis::cmd("PTTL")
                    .arg(key)
                    .query_async::<i64>(&mut raw)
                    .await
                    .unwrap()
            }
        };

        store.put("p", b"v", LONG).await.unwrap();
        let value: Option<Vec<u8>> = ::redis::cmd("GET")
            .arg(format!("{prefix}p"))
            .query_async(&mut raw)
            .await
            .unwrap();
        assert_eq!(value.as_deref(), Some(&b"v"[..]));
        assert!((1..=60_000).contains(&pttl(format!("{prefix}p")).await));

        store.incr("c", Duration::from_secs(30)).await.unwrap();
        let first = pttl(format!("{prefix}c")).await;
        assert!((1..=30_000).contains(&first), "pttl {first}");
        store.incr("c", LONG).await.unwrap();
        let second = pttl(format!("{prefix}c")).await;
        assert!(
            (1..=first).contains(&second),
            "window moved: {first} -> {second}"
        );

        // A counter that lost its expiry (written by hand here) gets one on the next incr.
        ::redis::cmd("SET")
            .arg(format!("{prefix}c2"))
            .arg(5)
            .exec_async(&mut raw)
            .await
            .unwrap();
        assert_eq!(store.incr("c2", Duration::from_secs(30)).await.unwrap(), 6);
        assert!((1..=30_000).contains(&pttl(format!("{prefix}c2")).await));

        // A zero TTL expires at once instead of being rejected or living forever.
        store.put("z", b"v", Duration::ZERO).await.unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert_eq!(store.get("z").await.unwrap(), None);
    }

    #[tokio::test]
    async fn unreachable_url_is_unavailable() {
        let started = Instant::now();
        let result = tokio::time::timeout(
            Duration::from_secs(15),
            RedisSessionStore::connect("redis://127.0.0.1:1", "t:"),
        )
        .await
        .expect("connect must give up on its own");
        assert!(
            matches!(result, Err(SessionError::Unavailable(_))),
            "{:?}",
            result.err()
        );
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "took {:?}",
            started.elapsed()
        );
    }

    /// A server that accepts connections but never answers must not hang `connect`.
    #[tokio::test]
    async fn silent_server_is_unavailable() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("redis://{}", listener.local_addr().unwrap());
        let hold = tokio::spawn(async move {
            let mut open = Vec::new();
            while let Ok((sock, _)) = listener.accept().await {
                open.push(sock);
            }
        });
        let started = Instant::now();
        let result = tokio::time::timeout(
            Duration::from_secs(20),
            RedisSessionStore::connect(&url, "t:"),
        )
        .await
        .expect("connect must give up on its own");
        hold.abort();
        assert!(
            matches!(result, Err(SessionError::Unavailable(_))),
            "{:?}",
            result.err()
        );
        assert!(
            started.elapsed() < Duration::from_secs(8),
            "took {:?}",
            started.elapsed()
        );
    }

    /// A TCP proxy in front of the test Redis that can be cut and restored on the same port,
    /// to simulate Redis going away and coming back.
    struct Proxy {
        addr: std::net::SocketAddr,
        upstream: String,
        tasks: JoinSet<()>,
    }

    impl Proxy {
        async fn start(upstream: String, addr: std::net::SocketAddr) -> Proxy {
            let socket = TcpSocket::new_v4().unwrap();
            socket.set_reuseaddr(true).unwrap();
            socket.bind(addr).unwrap();
            let listener = socket.listen(64).unwrap();
            let addr = listener.local_addr().unwrap();
            let mut tasks = JoinSet::new();
            let target = upstream.clone();
            tasks.spawn(async move {
                let mut conns = JoinSet::new();
                while let Ok((mut client, _)) = listener.accept().await {
                    let target = target.clone();
                    conns.spawn(async move {
                        if let Ok(mut server) = TcpStream::connect(target).await {
                            let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                        }
                    });
                }
            });
            Proxy {
                addr,
                upstream,
                tasks,
            }
        }

        /// Drops the listener and every proxied connection.
        async fn cut(mut self) -> (String, std::net::SocketAddr) {
            self.tasks.shutdown().await;
            (self.upstream, self.addr)
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn outage_fails_fast_then_recovers() {
        let Some(url) = redis_url() else { return };
        let mut proxied = url::Url::parse(&url).unwrap();
        let upstream = format!(
            "{}:{}",
            proxied.host_str().unwrap(),
            proxied.port().unwrap_or(6379)
        );
        let proxy = Proxy::start(upstream, "127.0.0.1:0".parse().unwrap()).await;
        proxied.set_host(Some("127.0.0.1")).unwrap();
        proxied.set_port(Some(proxy.addr.port())).unwrap();
        let store = redis_store_with_prefix(proxied.as_str(), &random_prefix()).await;
        store.put("k", b"v", LONG).await.unwrap();

        let (upstream, addr) = proxy.cut().await;
        for _ in 0..3 {
            let started = Instant::now();
            let result = store.get("k").await;
            assert!(
                matches!(result, Err(SessionError::Unavailable(_))),
                "{result:?}"
            );
            assert!(
                started.elapsed() < Duration::from_secs(3),
                "took {:?}",
                started.elapsed()
            );
        }
        assert!(matches!(
            store.ping().await,
            Err(SessionError::Unavailable(_))
        ));

        let _proxy = Proxy::start(upstream, addr).await;
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            match store.get("k").await {
                Ok(v) => {
                    assert_eq!(v.as_deref(), Some(&b"v"[..]));
                    break;
                }
                Err(e) if Instant::now() < deadline => {
                    eprintln!("still reconnecting: {e}");
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Err(e) => panic!("store did not recover after Redis came back: {e}"),
            }
        }
        store.ping().await.unwrap();
    }
}
