//! Starts the real server on an ephemeral port for a test, on either backend family:
//! `Backend::Embedded` (SQLite file + in-process sessions) or `Backend::Production`
//! (PostgreSQL in a fresh schema + Redis under a fresh key prefix, from
//! `IDP_TEST_DATABASE_URL` / `IDP_TEST_REDIS_URL`). `both_backends!` writes a test once and
//! runs it on each; without the URLs the production variant is skipped, unless
//! `IDP_REQUIRE_BACKENDS=1`, which makes it fail.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;

use salyk_idp::config::Config;
use salyk_idp::state::AppState;
use salyk_idp::store::{AccountKind, MemberRole, Membership, Organization, User};
use tokio::net::TcpListener;

// Page steps are used next to the server in almost every test.
pub use crate::page_steps::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Embedded,
    Production,
}

/// Where a production-backend app keeps its data, so a second process can share it.
#[derive(Debug, Clone)]
pub struct Shared {
    pub database_url: Option<String>,
    pub schema: Option<String>,
    pub redis_url: Option<String>,
    pub redis_prefix: String,
    pub data_dir: PathBuf,
}

pub struct TestApp {
    pub base: String,
    pub state: AppState,
    pub shared: Shared,
    _dir: Option<Arc<tempfile::TempDir>>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    /// The population registry emulator (X-Road) this app's config points at.
    emulator: Option<tokio::task::JoinHandle<()>>,
}

/// Starts the population registry emulator (built-in demo persons) on an ephemeral port;
/// returns its base URL and task.
pub async fn spawn_population_emulator() -> (String, tokio::task::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind emulator");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let task = salyk_idp::emulators::population_registry::spawn(
        listener,
        salyk_idp::emulators::population_registry::demo_persons(),
    )
    .await;
    (url, task)
}

fn env_url(name: &str) -> Option<String> {
    match std::env::var(name) {
        Ok(v) if !v.is_empty() => Some(v),
        _ if std::env::var("IDP_REQUIRE_BACKENDS").as_deref() == Ok("1") => {
            panic!("IDP_REQUIRE_BACKENDS=1 but {name} is not set")
        }
        _ => None,
    }
}

/// Whether the production backends are configured (prints a note when they are not).
pub fn production_available() -> bool {
    let ok = env_url("IDP_TEST_DATABASE_URL").is_some() && env_url("IDP_TEST_REDIS_URL").is_some();
    if !ok {
        eprintln!("note: IDP_TEST_DATABASE_URL / IDP_TEST_REDIS_URL not set; skipping the PostgreSQL + Redis variant");
    }
    ok
}

fn random_name() -> String {
    format!("{:016x}", rand::random::<u64>())
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> TestApp {
        TestApp::spawn_with(backend, |_| {}).await
    }

    /// Spawns with a configuration tweak.
    pub async fn spawn_with(backend: Backend, tweak: impl FnOnce(&mut Config)) -> TestApp {
        let dir = Arc::new(tempfile::tempdir().expect("temp dir"));
        let id = random_name();
        let shared = match backend {
            Backend::Embedded => Shared {
                database_url: None,
                schema: None,
                redis_url: None,
                redis_prefix: String::new(),
                data_dir: dir.path().to_owned(),
            },
            Backend::Production => Shared {
                database_url: env_url("IDP_TEST_DATABASE_URL"),
                schema: Some(format!("t_{id}")),
                redis_url: env_url("IDP_TEST_REDIS_URL"),
                redis_prefix: format!("t:{id}:"),
                data_dir: dir.path().to_owned(),
            },
        };
        TestApp::start(shared, Some(dir), tweak).await
    }

    /// A second process on the same database, session store and keys.
    /// It answers on its own address but under A's issuer, as processes behind one load
    /// balancer do, so tokens from either are valid at both.
    pub async fn spawn_sibling(&self) -> TestApp {
        let issuer = self.state.config.issuer.clone();
        TestApp::start(self.shared.clone(), self._dir.clone(), move |c| {
            c.issuer = issuer
        })
        .await
    }

    /// An embedded app with the demo taxpayers seeded and the demo relying party at `/demo`
    /// (its client is registered for this app's issuer before the app starts, as `idp demo` does).
    pub async fn spawn_demo() -> TestApp {
        TestApp::spawn_demo_with(|_| {}).await
    }

    /// [`TestApp::spawn_demo`] with a configuration tweak; with `demo_token` on, the demo
    /// token's CA is trusted before the app starts, as `idp demo` does.
    pub async fn spawn_demo_with(tweak: impl FnOnce(&mut Config)) -> TestApp {
        let dir = Arc::new(tempfile::tempdir().expect("temp dir"));
        let shared = Shared {
            database_url: None,
            schema: None,
            redis_url: None,
            redis_prefix: String::new(),
            data_dir: dir.path().to_owned(),
        };
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let mut config = TestApp::config(&shared, &listener);
        let (population_url, emulator) = spawn_population_emulator().await;
        config.population_registry_url = Some(population_url);
        let store = salyk_idp::app::open_store(&config).await.expect("store");
        let keys = salyk_idp::keys::Keys::load_or_create(store.as_ref(), &config.keys_dir)
            .await
            .expect("keys");
        let hasher = Arc::new(
            salyk_idp::authn::password::PasswordHasher::new(
                config.argon2_memory_kib,
                config.argon2_iterations,
                1,
            )
            .expect("hasher"),
        );
        let demo = salyk_idp::demo::seed(store.as_ref(), &hasher, keys.secret(), &config.issuer)
            .await
            .expect("demo seed");
        config.demo = Some(demo);
        tweak(&mut config);
        if config.demo_token {
            salyk_idp::demo::trust_demo_token(store.as_ref(), &config.data_dir)
                .await
                .expect("demo token");
        }
        drop(store);
        let mut app = TestApp::serve(shared, Some(dir), listener, config).await;
        app.emulator = Some(emulator);
        app
    }

    async fn start(
        shared: Shared,
        dir: Option<Arc<tempfile::TempDir>>,
        tweak: impl FnOnce(&mut Config),
    ) -> TestApp {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let mut config = TestApp::config(&shared, &listener);
        // Every app has the population registry emulator (cheap: one idle axum task);
        // `tweak` may point elsewhere or unset it.
        let (population_url, emulator) = spawn_population_emulator().await;
        config.population_registry_url = Some(population_url);
        tweak(&mut config);
        let mut app = TestApp::serve(shared, dir, listener, config).await;
        app.emulator = Some(emulator);
        app
    }

    /// The default configuration for an app listening on `listener` with `shared`'s data.
    fn config(shared: &Shared, listener: &TcpListener) -> Config {
        let addr = listener.local_addr().expect("addr");
        let mut config = Config::load(None, &|_| None).expect("default config");
        config.issuer = format!("http://{addr}");
        config.listen = addr;
        config.data_dir = shared.data_dir.clone();
        config.keys_dir = shared.data_dir.join("keys");
        config.database_url = shared.database_url.clone();
        config.database_schema = shared.schema.clone();
        config.redis_url = shared.redis_url.clone();
        config.redis_prefix = shared.redis_prefix.clone();
        config
    }

    async fn serve(
        shared: Shared,
        dir: Option<Arc<tempfile::TempDir>>,
        listener: TcpListener,
        config: Config,
    ) -> TestApp {
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let state = salyk_idp::app::build_state(config)
            .await
            .expect("build state");
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let serve_state = state.clone();
        tokio::spawn(async move {
            salyk_idp::app::serve(serve_state, listener, async move {
                let _ = rx.await;
            })
            .await
            .expect("serve");
        });
        TestApp {
            base,
            state,
            shared,
            _dir: dir,
            shutdown: Some(tx),
            emulator: None,
        }
    }

    /// An app with the Rutoken plugin's demo stand-in on (`IDP_DEMO_TOKEN`) and its demo CA
    /// trusted; [`TestApp::demo_token`] signs as its devices do.
    pub async fn spawn_with_demo_token(backend: Backend) -> TestApp {
        let app = TestApp::spawn_with(backend, |c| c.demo_token = true).await;
        app.demo_token().await;
        app
    }

    /// The demo soft token of this app's data directory (the one `/demo/rutoken/*` serves),
    /// its CA trusted: its certificates sign challenges for tests without a browser.
    pub async fn demo_token(&self) -> Arc<salyk_idp::demo::token::SoftToken> {
        salyk_idp::demo::trust_demo_token(self.state.store.as_ref(), &self.shared.data_dir)
            .await
            .expect("demo token")
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Registers a client directly through the same code path as the CLI.
    pub async fn client(&self, spec: ClientSpec) -> (String, Option<String>) {
        let new = salyk_idp::cli::NewClient {
            name: spec.name.unwrap_or_else(|| "Test RP".into()),
            redirect_uris: spec
                .redirect_uris
                .unwrap_or_else(|| vec![REDIRECT_URI.into()]),
            post_logout_redirect_uris: spec
                .post_logout_redirect_uris
                .unwrap_or_else(|| vec![POST_LOGOUT_URI.into()]),
            auth_method: spec
                .auth_method
                .unwrap_or(salyk_idp::store::ClientAuthMethod::ClientSecretBasic),
            grants: spec
                .grants
                .unwrap_or_else(|| vec!["authorization_code".into(), "refresh_token".into()]),
            scopes: spec.scopes.unwrap_or_else(|| {
                vec!["openid".into(), "profile".into(), "offline_access".into()]
            }),
            id_token_alg: spec.alg.clone().unwrap_or_else(|| "RS256".into()),
            access_token_alg: spec
                .access_token_alg
                .or(spec.alg)
                .unwrap_or_else(|| "RS256".into()),
            rotate_refresh_tokens: !spec.no_rotation,
            require_organization: spec.require_organization,
        };
        let (client, secret) =
            salyk_idp::cli::create_client(self.state.store.as_ref(), self.state.keys.secret(), new)
                .await
                .expect("create client");
        (client.id, secret)
    }

    /// Runs the real `idp` binary on this app's data (its SQLite file, or its PostgreSQL
    /// schema), as an operator would next to the running server.
    pub fn idp(&self, args: &[&str]) -> Output {
        let mut command = idp_command(&self.shared.data_dir);
        if let (Some(url), Some(schema)) = (&self.shared.database_url, &self.shared.schema) {
            command
                .env("DATABASE_URL", url)
                .env("IDP_DATABASE_SCHEMA", schema);
        }
        command.args(args).output().expect("run idp")
    }

    /// Creates a password user.
    pub async fn user(&self, login: &str, inn: &str, name: &str, password: &str) -> User {
        salyk_idp::cli::create_user(
            self.state.store.as_ref(),
            &self.state.hasher,
            login,
            inn,
            name,
            Some("004".into()),
            password.into(),
        )
        .await
        .expect("create user")
    }

    /// Creates an organization and makes `user` a member.
    pub async fn org_member(&self, user: &User, inn: &str, name: &str, role: MemberRole) {
        let org = Organization {
            inn: inn.into(),
            name: name.into(),
            ugns_code: "004".into(),
            kind: AccountKind::Organization,
            parent_inn: None,
            liquidated: false,
        };
        self.state
            .store
            .upsert_organization(&org)
            .await
            .expect("org");
        self.state
            .store
            .upsert_membership(&Membership {
                org_inn: inn.into(),
                user_id: user.id.clone(),
                role,
                blocked: false,
                comment: None,
            })
            .await
            .expect("membership");
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(emulator) = self.emulator.take() {
            emulator.abort();
        }
        // The last process of a test drops its PostgreSQL schema, so runs leave nothing behind
        // (Redis keys expire by themselves).
        let last = self
            ._dir
            .as_ref()
            .is_some_and(|d| Arc::strong_count(d) == 1);
        if let (true, Some(url), Some(schema)) = (
            last,
            self.shared.database_url.clone(),
            self.shared.schema.clone(),
        ) {
            drop_schema_blocking(url, schema);
        }
    }
}

/// The real `idp` binary with a clean environment and `IDP_DATA_DIR` = `data_dir`.
pub fn idp_command(data_dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_idp"));
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("IDP_DATA_DIR", data_dir)
        .env("RUST_LOG", "warn");
    command
}

/// Drops a PostgreSQL test schema from any context (a thread with its own runtime, since
/// `Drop` cannot await).
pub fn drop_schema_blocking(url: String, schema: String) {
    let dropped = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .ok()?;
        runtime.block_on(async {
            use sqlx::Connection;
            let mut conn = sqlx::PgConnection::connect(&url).await.ok()?;
            sqlx::query(&format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"))
                .execute(&mut conn)
                .await
                .ok()?;
            conn.close().await.ok()
        })
    });
    let _ = dropped.join();
}

pub const REDIRECT_URI: &str = "http://127.0.0.1:9/callback";
pub const POST_LOGOUT_URI: &str = "http://127.0.0.1:9/logged-out";
pub const PASSWORD: &str = "correct horse battery";

/// Client registration options; `None` means the CLI default.
#[derive(Default, Clone)]
pub struct ClientSpec {
    pub name: Option<String>,
    pub redirect_uris: Option<Vec<String>>,
    pub post_logout_redirect_uris: Option<Vec<String>>,
    pub auth_method: Option<salyk_idp::store::ClientAuthMethod>,
    pub grants: Option<Vec<String>>,
    pub scopes: Option<Vec<String>>,
    /// Signs ID tokens, and access tokens unless `access_token_alg` is given.
    pub alg: Option<String>,
    pub access_token_alg: Option<String>,
    pub no_rotation: bool,
    pub require_organization: bool,
}

/// Writes one async test body and runs it on both backend families.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),+ $(,)?) => {
        mod embedded {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::harness::Backend::Embedded).await;
                }
            )+
        }
        mod production {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if $crate::harness::production_available() {
                        super::$name($crate::harness::Backend::Production).await;
                    }
                }
            )+
        }
    };
}

/// How long a change made outside a serving process (the CLI, a sibling process) may take to
/// reach it: the directory cache's default refresh (1 s) plus slack for a loaded CI machine.
pub const CHANGE_ARRIVES_WITHIN: std::time::Duration = std::time::Duration::from_secs(15);

/// Asks `check` again until it holds; panics with `what` when [`CHANGE_ARRIVES_WITHIN`]
/// passes first.
pub async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = std::time::Instant::now();
    while !check().await {
        assert!(
            start.elapsed() < CHANGE_ARRIVES_WITHIN,
            "{what}: not seen within {CHANGE_ARRIVES_WITHIN:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}
