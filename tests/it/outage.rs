//! Backend outages (issue 2, storage and sessions): with a TCP proxy between the app and
//! Redis, or the app and PostgreSQL, cutting the proxy makes the APIs answer a quick 503
//! `temporarily_unavailable` JSON and the pages a 503 HTML page — no hang, no panic — and
//! restoring it makes the same running process succeed again, with everything written
//! before the outage intact. Production backends only.

use std::future::Future;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio::net::{TcpSocket, TcpStream};
use tokio::task::JoinSet;

use crate::harness::*;
use crate::rp::*;

/// Longest a request may take to fail while a backend is down.
const FAIL_FAST: Duration = Duration::from_secs(10);
/// Longest the app may take to recover once the backend is back.
const RECOVERY: Duration = Duration::from_secs(30);

/// A TCP proxy that can be cut (listener and every connection dropped) and restarted on the
/// same port.
struct Proxy {
    addr: SocketAddr,
    upstream: String,
    tasks: JoinSet<()>,
}

impl Proxy {
    async fn start(upstream: String, addr: SocketAddr) -> Proxy {
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

    /// A proxy in front of the server of `url`, and `url` rewritten to go through it.
    async fn in_front_of(url: &str) -> (Proxy, String) {
        let mut proxied = url::Url::parse(url).unwrap();
        let default_port = if proxied.scheme().starts_with("redis") {
            6379
        } else {
            5432
        };
        let upstream = format!(
            "{}:{}",
            proxied.host_str().unwrap(),
            proxied.port().unwrap_or(default_port)
        );
        let proxy = Proxy::start(upstream, "127.0.0.1:0".parse().unwrap()).await;
        proxied.set_host(Some("127.0.0.1")).unwrap();
        proxied.set_port(Some(proxy.addr.port())).unwrap();
        (proxy, proxied.to_string())
    }

    async fn cut(mut self) -> (String, SocketAddr) {
        self.tasks.shutdown().await;
        (self.upstream, self.addr)
    }
}

/// Runs a request and checks it came back within [`FAIL_FAST`].
async fn quickly<T>(what: &str, request: impl Future<Output = T>) -> T {
    let started = Instant::now();
    let result = tokio::time::timeout(FAIL_FAST * 2, request)
        .await
        .unwrap_or_else(|_| panic!("{what} hung"));
    assert!(
        started.elapsed() < FAIL_FAST,
        "{what} took {:?}",
        started.elapsed()
    );
    result
}

#[track_caller]
fn assert_unavailable_json(what: &str, reply: &Reply) {
    assert_eq!(reply.status, 503, "{what}: {}", reply.text);
    assert_eq!(
        reply.json["error"], "temporarily_unavailable",
        "{what}: {}",
        reply.text
    );
    assert!(
        reply
            .header("content-type")
            .is_some_and(|c| c.starts_with("application/json")),
        "{what}"
    );
}

async fn page(url: &str) -> Reply {
    Reply::read(browser().get(url).send().await.expect("page")).await
}

#[track_caller]
fn assert_unavailable_page(what: &str, reply: &Reply) {
    assert_eq!(reply.status, 503, "{what}: {}", reply.text);
    assert!(
        reply
            .header("content-type")
            .is_some_and(|c| c.starts_with("text/html")),
        "{what}: {:?}",
        reply.headers
    );
    assert!(reply.text.contains("<html"), "{what}");
}

/// Polls `/health` until both backends answer.
async fn wait_until_healthy(app: &TestApp) {
    let deadline = Instant::now() + RECOVERY;
    loop {
        let health =
            Reply::read(http().get(app.url("/health")).send().await.expect("health")).await;
        if health.status == 200 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the app did not recover: {}",
            health.text
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_outage_is_503_then_recovers() {
    if !production_available() {
        return;
    }
    let (proxy, proxied) = Proxy::in_front_of(&std::env::var("IDP_TEST_REDIS_URL").unwrap()).await;
    let (app, _) = app_with_user_and(Backend::Production, |c| c.redis_url = Some(proxied)).await;
    let client = register(&app, ClientSpec::default()).await;
    let browser = browser();
    let tokens = signed_in_tokens(&app, &browser, &client, "openid offline_access").await;
    let access = tokens["access_token"].as_str().unwrap();
    let pkce = pkce();
    let pending_code =
        authorize_code(&app, &browser, &client.id, "openid", Some(&pkce.challenge)).await;

    let (upstream, addr) = proxy.cut().await;
    for _ in 0..2 {
        let reply = quickly(
            "/token",
            redeem(&app, &client, &pending_code, Some(&pkce.verifier)),
        )
        .await;
        assert_unavailable_json("/token", &reply);
        assert!(reply
            .header("cache-control")
            .is_some_and(|c| c == "no-store"));
        let reply = quickly("/userinfo", userinfo(&app, access)).await;
        assert_unavailable_json("/userinfo", &reply);
        let reply = quickly("/login", page(&app.url("/login?req=x"))).await;
        assert_unavailable_page("/login", &reply);
    }
    let health = quickly(
        "/health",
        Reply::read(http().get(app.url("/health")).send().await.unwrap()),
    )
    .await;
    assert_eq!(health.status, 503);
    assert_eq!(
        health.json,
        serde_json::json!({"database": true, "sessions": false})
    );

    let _proxy = Proxy::start(upstream, addr).await;
    wait_until_healthy(&app).await;
    // Same process, no restart: what was stored before the outage still works.
    userinfo(&app, access).await.ok();
    redeem(&app, &client, &pending_code, Some(&pkce.verifier))
        .await
        .ok();
    refresh(
        &app,
        &client,
        tokens["refresh_token"].as_str().unwrap(),
        None,
    )
    .await
    .ok();
    // The SSO session survived: no sign-in page.
    let response = browser
        .get(authorize_url(&app, &client.id, "openid", None))
        .send()
        .await
        .unwrap();
    assert!(
        location(&response).starts_with(REDIRECT_URI),
        "{}",
        location(&response)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_outage_is_503_then_recovers() {
    if !production_available() {
        return;
    }
    let (proxy, proxied) =
        Proxy::in_front_of(&std::env::var("IDP_TEST_DATABASE_URL").unwrap()).await;
    let (app, user) =
        app_with_user_and(Backend::Production, |c| c.database_url = Some(proxied)).await;
    let client = register(
        &app,
        ClientSpec {
            grants: Some(vec![
                "authorization_code".into(),
                "refresh_token".into(),
                "client_credentials".into(),
            ]),
            ..Default::default()
        },
    )
    .await;
    let browser = browser();
    let tokens = signed_in_tokens(&app, &browser, &client, "openid offline_access").await;
    let access = tokens["access_token"].as_str().unwrap();
    let refresh_token = tokens["refresh_token"].as_str().unwrap();

    let (upstream, addr) = proxy.cut().await;
    // The directory cache may answer client and user lookups from memory until its last
    // successful poll of the database is older than its stale limit; from then on, nothing.
    let cache_limit = salyk_idp::store::cached::stale_limit(Duration::from_millis(
        app.state.config.directory_cache_ms,
    ));
    let cut_at = Instant::now();
    while introspect(&app, &client, access).await.status != 503 {
        assert!(
            cut_at.elapsed() < cache_limit + FAIL_FAST,
            "the directory cache still answers {:?} after the outage began",
            cut_at.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for _ in 0..2 {
        let reply = quickly(
            "/token refresh",
            refresh(&app, &client, refresh_token, None),
        )
        .await;
        assert_unavailable_json("/token refresh", &reply);
        let reply = quickly(
            "/token client_credentials",
            token(
                &app,
                &client.auth(),
                &[("grant_type", "client_credentials")],
            ),
        )
        .await;
        assert_unavailable_json("/token client_credentials", &reply);
        let reply = quickly("/userinfo", userinfo(&app, access)).await;
        assert_unavailable_json("/userinfo", &reply);
        let reply = quickly("/introspect", introspect(&app, &client, access)).await;
        assert_unavailable_json("/introspect", &reply);
        let reply = quickly(
            "/authorize",
            page(&authorize_url(&app, &client.id, "openid", None)),
        )
        .await;
        assert_unavailable_page("/authorize", &reply);
    }
    // Documents served from memory do not depend on the database.
    assert_eq!(
        http().get(app.url("/jwks")).send().await.unwrap().status(),
        200
    );

    let _proxy = Proxy::start(upstream, addr).await;
    wait_until_healthy(&app).await;
    assert_eq!(
        app.state
            .store
            .user_by_login(LOGIN)
            .await
            .unwrap()
            .map(|u| u.id),
        Some(user.id)
    );
    userinfo(&app, access).await.ok();
    assert!(is_active(&app, &client, access).await);
    let refreshed = refresh(&app, &client, refresh_token, None).await;
    refreshed.ok();
    // The remembered account choice (a consent row) survived too: straight back to the client.
    let response = browser
        .get(authorize_url(&app, &client.id, "openid", None))
        .send()
        .await
        .unwrap();
    assert!(
        location(&response).starts_with(REDIRECT_URI),
        "{}",
        location(&response)
    );
}
