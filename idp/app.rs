//! The composition root: the only place that names concrete backends. Opens the store and
//! session store the configuration asks for, loads keys, builds the router and serves.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use tokio::net::TcpListener;

use crate::adapters::population::{XRoadConfig, XRoadPopulationRegistry};
use crate::adapters::{PopulationRegistry, StoredTaxRegistry, TaxRegistry};
use crate::authn::password::{PasswordHasher, PasswordMethod, Throttle};
use crate::authn::signature::verify::SignatureVerifier;
use crate::authn::signature::RutokenMethod;
use crate::authn::SignInMethod;
use crate::config::Config;
use crate::error::Error;
use crate::keys::Keys;
use crate::oidc;
use crate::session::memory::MemorySessionStore;
use crate::session::redis::RedisSessionStore;
use crate::session::SessionStore;
use crate::state::{AppState, Inner};
use crate::store::postgres::PostgresStore;
use crate::store::sqlite::SqliteStore;
use crate::store::Store;
use crate::web;

/// Opens the database the configuration names and applies migrations.
pub async fn open_store(config: &Config) -> anyhow::Result<Arc<dyn Store>> {
    let store: Arc<dyn Store> = match &config.database_url {
        Some(url) => Arc::new(
            PostgresStore::connect(url, config.database_schema.as_deref())
                .await
                .context("connecting to PostgreSQL")?,
        ),
        None => {
            std::fs::create_dir_all(&config.data_dir).with_context(|| {
                format!("creating data directory {}", config.data_dir.display())
            })?;
            Arc::new(
                SqliteStore::connect(&config.data_dir.join("salyk-id.sqlite"))
                    .await
                    .context("opening SQLite")?,
            )
        }
    };
    store.migrate().await.context("applying migrations")?;
    Ok(store)
}

/// Opens the session store the configuration names.
pub async fn open_sessions(config: &Config) -> anyhow::Result<Arc<dyn SessionStore>> {
    Ok(match &config.redis_url {
        Some(url) => Arc::new(
            RedisSessionStore::connect(url, &config.redis_prefix)
                .await
                .context("connecting to Redis")?,
        ),
        None => Arc::new(MemorySessionStore::new()),
    })
}

/// Builds the application state from a configuration.
pub async fn build_state(config: Config) -> anyhow::Result<AppState> {
    let store = crate::store::cached::wrap(
        open_store(&config).await?,
        Duration::from_millis(config.directory_cache_ms),
    );
    let sessions = open_sessions(&config).await?;
    let keys = Arc::new(
        Keys::load_or_create(store.as_ref(), &config.keys_dir)
            .await
            .context("loading signing keys")?,
    );
    let hasher = Arc::new(PasswordHasher::new(
        config.argon2_memory_kib,
        config.argon2_iterations,
        config.argon2_concurrency,
    )?);
    let throttle = Throttle {
        max_per_login: config.login_max_failures_per_login,
        max_per_ip: config.login_max_failures_per_ip,
        window: Duration::from_secs(config.login_window),
    };
    let signatures = Arc::new(
        SignatureVerifier::new(
            store.clone(),
            sessions.clone(),
            config.signature_policy.clone(),
        )
        .with_ocsp(crate::authn::signature::verify::ocsp_from_config(&config)?),
    );
    let methods: Vec<Arc<dyn SignInMethod>> = vec![
        Arc::new(PasswordMethod::new(
            store.clone(),
            sessions.clone(),
            hasher.clone(),
            throttle,
        )),
        Arc::new(RutokenMethod::new(store.clone(), signatures.clone())),
    ];
    let discovery = bytes::Bytes::from(serde_json::to_vec(&oidc::discovery::document(
        &config.issuer,
    ))?);
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()?;
    let tax_registry: Arc<dyn TaxRegistry> = Arc::new(StoredTaxRegistry::new(store.clone()));
    let population: Arc<dyn PopulationRegistry> = Arc::new(
        XRoadPopulationRegistry::new(XRoadConfig {
            security_server: config.population_registry_url.clone(),
            client: config.xroad_client.clone(),
            service: config.population_service.clone(),
            timeout: Duration::from_secs(config.registry_timeout),
            user_id: None,
        })
        .context("building the population registry client")?,
    );
    Ok(AppState(Arc::new(Inner {
        config,
        store,
        sessions,
        keys,
        hasher,
        methods,
        discovery,
        http,
        tax_registry,
        population,
        signatures,
        reusable_refresh_tokens: Default::default(),
    })))
}

/// All routes. Protocol endpoints answer JSON errors; page routes go through the browser
/// layer, which renders errors as pages.
pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .route(
            "/.well-known/openid-configuration",
            get(oidc::discovery::get),
        )
        .route("/jwks", get(oidc::jwks::get))
        .route("/token", post(oidc::token::post))
        .route(
            "/userinfo",
            get(oidc::userinfo::handle).post(oidc::userinfo::handle),
        )
        .route("/revoke", post(oidc::revocation::post))
        .route("/introspect", post(oidc::introspection::post))
        .route("/health", get(health))
        .route("/static/style.css", get(stylesheet))
        .route("/static/esig.js", get(esig_script))
        .route("/static/rutoken.js", get(rutoken_adapter));
    // The Rutoken plugin's demo stand-in exists only when configured (404 otherwise).
    let api = if state.config.demo_token {
        match crate::demo::token::SoftToken::open(&state.config.data_dir) {
            Ok(token) => api.merge(crate::demo::token_http::routes(token)),
            Err(e) => {
                tracing::error!(error = %format!("{e:#}"), "IDP_DEMO_TOKEN: the demo token cannot be made; its routes are off");
                api
            }
        }
    } else {
        api
    };
    let mut pages = Router::new()
        .route("/", get(web::home::page))
        .route(
            "/authorize",
            get(oidc::authorize::get).post(oidc::authorize::post),
        )
        .route("/login", get(web::login::page))
        .route(
            "/login/account",
            get(web::account::page).post(web::account::submit),
        )
        .route("/login/{method}", post(web::login::submit))
        .route("/login/continue", get(web::signature_api::continue_flow))
        .route("/api/esig/challenge", post(web::signature_api::challenge))
        .route("/api/esig/signin", post(web::signature_api::sign_in))
        .route("/api/esig/register", post(web::signature_api::register))
        .route(
            "/register/signature/done",
            get(web::signature_api::registered_page),
        )
        .route(
            "/logout",
            get(oidc::end_session::get).post(oidc::end_session::post),
        )
        .route("/logout/confirm", post(oidc::end_session::confirm))
        .merge(web::inspector::routes())
        .merge(web::branches::routes())
        .merge(web::register::routes());
    if state.config.demo.is_some() {
        pages = pages.merge(crate::demo::routes());
    }
    let pages = pages
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            web::browser::layer,
        ));
    api.merge(pages)
        .layer(middleware::from_fn(web::security_headers::apply))
        .with_state(state)
}

async fn not_found() -> Error {
    Error::not_found()
}

async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../static/style.css"),
    )
        .into_response()
}

/// `GET /static/esig.js`: the «ЭП» tabs' script (the CSP allows only `'self'` scripts).
async fn esig_script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../static/esig.js"),
    )
        .into_response()
}

/// `GET /static/rutoken.js`: Aktiv's adapter for the Rutoken plugin (npm `rutoken`, BSD;
/// see `static/vendor/rutoken/`), which gives `esig.js` the real plugin.
async fn rutoken_adapter() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        include_str!("../static/vendor/rutoken/rutoken.min.js"),
    )
        .into_response()
}

/// Liveness of both backends, for load balancers.
async fn health(State(state): State<AppState>) -> Response {
    let db = state.store.ping().await.is_ok();
    let sessions = state.sessions.ping().await.is_ok();
    let status = if db && sessions {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        axum::Json(serde_json::json!({ "database": db, "sessions": sessions })),
    )
        .into_response()
}

/// Background upkeep: pick up rotated keys, purge expired refresh tokens.
fn spawn_upkeep(state: &AppState) {
    let s = state.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(30));
        let mut n: u64 = 0;
        loop {
            tick.tick().await;
            n += 1;
            match s.keys.reload_if_changed(s.store.as_ref()).await {
                Ok(true) => {
                    tracing::info!(kids = ?s.keys.current().kids(), "signing keys reloaded")
                }
                Ok(false) => {}
                Err(e) => tracing::warn!(error = %format!("{e:#}"), "key reload failed"),
            }
            if n % 120 == 0 {
                if let Err(e) = s.store.purge_expired(crate::clock::now()).await {
                    tracing::warn!(error = %e, "purging expired tokens failed");
                }
            }
        }
    });
}

/// Serves on `listener` until `shutdown` resolves.
pub async fn serve(
    state: AppState,
    listener: TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let addr = listener.local_addr()?;
    tracing::info!(
        "Salyk ID listening on {addr}; issuer {}; database {}; sessions {}; keys {} ({})",
        state.config.issuer,
        state.store.describe(),
        state.sessions.describe(),
        state.config.keys_dir.display(),
        state.keys.current().kids().join(", ")
    );
    spawn_upkeep(&state);
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await?;
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { () = ctrl_c => {}, () = term => {} }
}
