//! The `idp` command line: serve, migrate, manage clients, users, organizations, keys and
//! the trusted CAs, and run the demo. Names and flags are relied on by scripts and operators.

mod clients;
mod inspector;
mod people;
mod registry;
mod trust;
mod trust_parse;

pub use clients::{check_redirect_uri, create as create_client, NewClient};
pub use inspector::{
    create_inspector, seed_demo_inspector, DEMO_INSPECTOR_LOGIN, DEMO_INSPECTOR_PASSWORD,
};
pub use people::{create_user, split_name};

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};

use crate::config::Config;

#[derive(Parser)]
#[command(
    name = "idp",
    version,
    about = "Salyk ID — OpenID Connect provider of the taxpayer cabinet"
)]
pub struct Cli {
    /// TOML configuration file (environment variables override it).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Apply migrations if needed, then serve.
    Serve,
    /// Apply database migrations only.
    Migrate,
    /// Manage OIDC clients.
    #[command(subcommand)]
    Client(clients::ClientCommand),
    /// Manage users.
    #[command(subcommand)]
    User(people::UserCommand),
    /// Manage organization accounts (until registration creates them).
    #[command(subcommand)]
    Org(people::OrgCommand),
    /// Manage signing keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Manage inspectors of the УГНС offices, who decide registration applications.
    #[command(subcommand)]
    Inspector(inspector::InspectorCommand),
    /// The tax registry: import its CSV export.
    #[command(subcommand)]
    Registry(registry::RegistryCommand),
    /// Certificate authorities trusted for electronic signatures, and their CRLs.
    #[command(subcommand)]
    Trust(trust::TrustCommand),
    /// Run an emulator of an outside system (demo and tests only).
    #[command(subcommand)]
    Emulate(registry::EmulateCommand),
    /// A self-contained demo on SQLite + memory with demo taxpayers and a demo relying party.
    Demo {
        /// Data directory (default: a new temporary directory).
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: String,
    },
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Create new active signing keys; the previous ones stay published in the JWKS.
    Rotate,
}

/// Runs the command line; returns the process exit code.
pub async fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let load = || {
        Config::from_env(cli.config.as_deref()).map_err(|e| anyhow::anyhow!("configuration: {e}"))
    };
    match cli.command {
        Command::Serve => {
            let config = load()?;
            let listener = tokio::net::TcpListener::bind(config.listen)
                .await
                .with_context(|| format!("binding {}", config.listen))?;
            let state = crate::app::build_state(config).await?;
            crate::app::serve(state, listener, crate::app::shutdown_signal()).await
        }
        Command::Migrate => {
            let config = load()?;
            let store = crate::app::open_store(&config).await?;
            println!("migrations applied ({})", store.describe());
            Ok(())
        }
        Command::Client(cmd) => clients::run(&load()?, cmd).await,
        Command::User(cmd) => people::run_user(&load()?, cmd).await,
        Command::Org(cmd) => people::run_org(&load()?, cmd).await,
        Command::Inspector(cmd) => inspector::run(&load()?, cmd).await,
        Command::Keys(KeysCommand::Rotate) => {
            let config = load()?;
            let store = crate::app::open_store(&config).await?;
            let created = crate::keys::rotate(store.as_ref(), &config.keys_dir).await?;
            for key in &created {
                println!("{} {}", key.alg, key.kid);
            }
            audit(store.as_ref(), "key.rotate", None, serde_json::json!({ "kids": created.iter().map(|k| k.kid.clone()).collect::<Vec<_>>() })).await;
            Ok(())
        }
        Command::Registry(cmd) => registry::run_registry(&load()?, cmd).await,
        Command::Trust(cmd) => trust::run(&load()?, cmd).await,
        Command::Emulate(cmd) => registry::run_emulate(cmd).await,
        Command::Demo { data_dir, listen } => crate::demo::run(data_dir, &listen).await,
    }
}

/// Records an audit event made from the command line.
async fn audit(
    store: &dyn crate::store::Store,
    kind: &str,
    subject: Option<String>,
    detail: serde_json::Value,
) {
    let event = crate::store::AuditEvent {
        at: crate::clock::now(),
        kind: kind.into(),
        actor: Some("cli".into()),
        subject,
        detail,
    };
    if let Err(e) = store.record(&event).await {
        eprintln!("warning: audit event not recorded: {e}");
    }
}
