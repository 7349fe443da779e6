//! `idp demo`: a self-contained demonstration on SQLite + the in-process session store, with
//! the synthetic demo taxpayers of the research notes (INN serials 99001–99099, names marked
//! «ДЕМО»), a demo relying party at `/demo` (see `rp`) that runs the real code flow with
//! PKCE against this provider over HTTP, and a software stand-in of the Rutoken plugin for
//! the «ЭП» tabs (see [`token`], [`token_http`]) whose demo CA the trust store trusts.

mod rp;
pub mod token;
pub mod token_http;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;

use crate::authn::password::PasswordHasher;
use crate::config::{Config, DemoClient};
use crate::store::{AccountKind, ClientAuthMethod, MemberRole, Membership, Organization, Store};

pub use rp::routes;

/// The demo sign-in, printed at start.
pub const DEMO_LOGIN: &str = "21207198599011001";
pub const DEMO_PASSWORD: &str = "demo-parol-2026";

/// A demo person the registry knows but the cabinet does not: the README's registration
/// walkthrough registers her, and then ОсОО «ДЕМО Софт» as its accountant.
pub const NEWCOMER_INN: &str = "11908199599014";
pub const NEWCOMER_ORG_INN: &str = "00211201999002";

struct DemoOrg {
    inn: &'static str,
    name: &'static str,
    ugns: &'static str,
}

const ORGS: [DemoOrg; 2] = [
    DemoOrg {
        inn: "01503201699001",
        name: "ОсОО «ДЕМО Импорт Трейд»",
        ugns: "004",
    },
    DemoOrg {
        inn: "02802202399006",
        name: "ОсОО «ДЕМО СЭЗ Логистик»",
        ugns: "998",
    },
];

/// Seeds the demo tax registry and taxpayers (idempotent) and registers a fresh demo client for `issuer`.
pub async fn seed(
    store: &dyn Store,
    hasher: &Arc<PasswordHasher>,
    secret_key: &[u8],
    issuer: &str,
) -> anyhow::Result<DemoClient> {
    // The demo tax registry (domain notes §7), through the same import as
    // `idp registry import`; upserts, so re-seeding is harmless.
    crate::adapters::tax_registry_import::import_csv(store, include_str!("registry.csv"))
        .await
        .context("importing the demo tax registry")?;
    if store.user_by_login(DEMO_LOGIN).await?.is_none() {
        let user = crate::cli::create_user(
            store,
            hasher,
            DEMO_LOGIN,
            "21207198599011",
            "Демонов Азамат Бекович",
            Some("001".into()),
            DEMO_PASSWORD.into(),
        )
        .await?;
        for org in &ORGS {
            store
                .upsert_organization(&Organization {
                    inn: org.inn.into(),
                    name: org.name.into(),
                    ugns_code: org.ugns.into(),
                    kind: AccountKind::Organization,
                    parent_inn: None,
                    liquidated: false,
                })
                .await?;
            store
                .upsert_membership(&Membership {
                    org_inn: org.inn.into(),
                    user_id: user.id.clone(),
                    role: MemberRole::Head,
                    blocked: false,
                    comment: None,
                })
                .await?;
        }
    }
    crate::cli::seed_demo_inspector(store, hasher).await?;
    // A client per run: its redirect URI depends on the address the demo listens on.
    let (client, secret) = crate::cli::create_client(
        store,
        secret_key,
        crate::cli::NewClient {
            name: "Демо-сервис ГНС".into(),
            redirect_uris: vec![format!("{issuer}/demo/callback")],
            post_logout_redirect_uris: vec![format!("{issuer}/demo")],
            auth_method: ClientAuthMethod::ClientSecretBasic,
            grants: vec!["authorization_code".into(), "refresh_token".into()],
            scopes: vec!["openid".into(), "profile".into(), "offline_access".into()],
            id_token_alg: "RS256".into(),
            access_token_alg: "RS256".into(),
            rotate_refresh_tokens: true,
            require_organization: false,
        },
    )
    .await?;
    Ok(DemoClient {
        client_id: client.id,
        client_secret: secret.unwrap_or_default(),
    })
}

/// Makes (or loads) the demo soft token of `data_dir` and trusts its demo CA, so signatures
/// of the stand-in verify: what `idp demo` does, and what tests with the stand-in do.
/// Trusting the same CA again changes nothing.
pub async fn trust_demo_token(
    store: &dyn Store,
    data_dir: &std::path::Path,
) -> anyhow::Result<Arc<token::SoftToken>> {
    let dir = data_dir.to_owned();
    let token = tokio::task::spawn_blocking(move || token::SoftToken::open(&dir))
        .await
        .context("making the demo token")??;
    store
        .add_ca(&token.trusted_ca()?)
        .await
        .context("trusting the demo CA")?;
    Ok(token)
}

/// What `idp demo` prints at start: where to go and how to sign in.
pub fn banner(issuer: &str, data_dir: &std::path::Path, registry_url: &str) -> String {
    let lines = [
        format!("Salyk ID demo is running. Open: {issuer}/demo"),
        format!(
            "Demo login: {DEMO_LOGIN}   password: {DEMO_PASSWORD}   (heads two demo organizations)"
        ),
        format!(
            "Registration: {issuer}/register   e.g. the person {NEWCOMER_INN}, then ОсОО «ДЕМО Софт» \
             {NEWCOMER_ORG_INN} as its accountant"
        ),
        "(step by step: README, \"Walkthrough: registration and the inspector\")".to_owned(),
        format!(
            "Inspector console: {issuer}/inspector   login: {}   password: {}",
            crate::cli::DEMO_INSPECTOR_LOGIN,
            crate::cli::DEMO_INSPECTOR_PASSWORD
        ),
        format!(
            "Data: {} (SQLite + in-process sessions). Stop with Ctrl-C.",
            data_dir.display()
        ),
        format!("Population registry (X-Road emulator, «Добавить ИНН»): {registry_url}"),
        format!(
            "«ЭП» tabs: a software demo Rutoken stands in for the plugin, PIN {}   \
             ({} wrong PINs lock a device until restart)",
            token::DEMO_PIN,
            token::MAX_PIN_ATTEMPTS
        ),
    ];
    let mut text = String::from("\n");
    for line in lines {
        text.push_str("  ");
        text.push_str(&line);
        text.push('\n');
    }
    text.push('\n');
    text
}

/// Runs the demo until Ctrl-C.
pub async fn run(data_dir: Option<PathBuf>, listen: &str) -> anyhow::Result<()> {
    let addr: SocketAddr = listen
        .parse()
        .with_context(|| format!("--listen must be host:port, got {listen:?}"))?;
    let data_dir = data_dir.unwrap_or_else(|| {
        std::env::temp_dir().join(format!(
            "salyk-id-demo-{}",
            crate::security::random_token(6).to_lowercase()
        ))
    });
    let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| {
        format!("binding {addr} (is another server running? try --listen 127.0.0.1:8081)")
    })?;
    let addr = listener.local_addr()?;

    // The demo is always embedded, whatever the environment says about databases.
    let mut config = Config::load(None, &|name| match name {
        "RUST_LOG" | "IDP_ARGON2_MEMORY_KIB" | "IDP_ARGON2_ITERATIONS" => std::env::var(name).ok(),
        _ => None,
    })
    .map_err(|e| anyhow::anyhow!(e))?;
    config.issuer = format!("http://{addr}");
    config.listen = addr;
    config.keys_dir = data_dir.join("keys");
    config.data_dir = data_dir;
    config.demo_token = true;

    // The population registry («Добавить ИНН») is the X-Road emulator, in process.
    let registry_listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .context("binding the population registry emulator")?;
    let registry_url = format!("http://{}", registry_listener.local_addr()?);
    config.population_registry_url = Some(registry_url.clone());
    let _emulator = crate::emulators::population_registry::spawn(
        registry_listener,
        crate::emulators::population_registry::demo_persons(),
    )
    .await;

    let store = crate::app::open_store(&config).await?;
    let keys = crate::keys::Keys::load_or_create(store.as_ref(), &config.keys_dir).await?;
    let hasher = Arc::new(PasswordHasher::new(
        config.argon2_memory_kib,
        config.argon2_iterations,
        1,
    )?);
    config.demo = Some(seed(store.as_ref(), &hasher, keys.secret(), &config.issuer).await?);
    trust_demo_token(store.as_ref(), &config.data_dir).await?;
    drop(store);

    let issuer = config.issuer.clone();
    let data_dir = config.data_dir.clone();
    let state = crate::app::build_state(config).await?;
    print!("{}", banner(&issuer, &data_dir, &registry_url));
    crate::app::serve(state, listener, crate::app::shutdown_signal()).await
}

#[cfg(test)]
mod tests {
    #[test]
    fn banner_names_every_entry_point_and_sign_in() {
        let text = super::banner(
            "http://127.0.0.1:8097",
            std::path::Path::new("/tmp/demo"),
            "http://127.0.0.1:40000",
        );
        for needle in [
            "Open: http://127.0.0.1:8097/demo\n",
            "Demo login: 21207198599011001   password: demo-parol-2026",
            "Registration: http://127.0.0.1:8097/register ",
            "the person 11908199599014, then ОсОО «ДЕМО Софт» 00211201999002 as its accountant\n",
            "Inspector console: http://127.0.0.1:8097/inspector   login: inspector   \
             password: demo-inspektor-2026\n",
            "Data: /tmp/demo (SQLite",
            "«Добавить ИНН»): http://127.0.0.1:40000\n",
            "software demo Rutoken stands in for the plugin, PIN 12345678",
        ] {
            assert!(text.contains(needle), "{needle:?} in\n{text}");
        }
        assert!(text
            .lines()
            .skip(1)
            .all(|l| l.is_empty() || l.starts_with("  ")));
    }
}
