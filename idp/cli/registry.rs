//! `idp registry import FILE.csv` (load the tax registry's export, all or nothing) and
//! `idp emulate population-registry --listen ADDR [--data FILE.json]` (the X-Road emulator
//! of the population registry, for demos and tests).

use std::path::PathBuf;

use anyhow::Context;
use clap::Subcommand;

use crate::adapters::tax_registry_import::{import_csv, ImportFailure};
use crate::config::Config;

#[derive(Subcommand)]
pub enum RegistryCommand {
    /// Load taxpayers from the registry's CSV export (header row; idempotent upserts). A
    /// bad row is reported with its line number and nothing is imported.
    Import {
        /// The CSV file.
        file: PathBuf,
    },
}

#[derive(Subcommand)]
pub enum EmulateCommand {
    /// The population registry's person lookup behind an X-Road security server (REST r1).
    PopulationRegistry {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8090")]
        listen: String,
        /// Dataset: a JSON list of persons (default: the built-in demo persons).
        #[arg(long)]
        data: Option<PathBuf>,
        /// The service id to serve (INSTANCE/CLASS/CODE/SUBSYSTEM/SERVICE).
        #[arg(long, default_value = crate::adapters::population::xroad::DEFAULT_SERVICE)]
        service: String,
    },
}

pub async fn run_registry(config: &Config, command: RegistryCommand) -> anyhow::Result<()> {
    match command {
        RegistryCommand::Import { file } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            let store = crate::app::open_store(config).await?;
            match import_csv(store.as_ref(), &text).await {
                Ok(count) => {
                    super::audit(
                        store.as_ref(),
                        "registry.import",
                        None,
                        serde_json::json!({ "file": file.display().to_string(), "taxpayers": count }),
                    )
                    .await;
                    println!("imported {count} taxpayers");
                    Ok(())
                }
                Err(ImportFailure::Invalid(errors)) => {
                    for e in &errors {
                        eprintln!("{}: {e}", file.display());
                    }
                    anyhow::bail!("{} bad line(s); nothing was imported", errors.len())
                }
                Err(ImportFailure::Store(e)) => {
                    Err(anyhow::Error::new(e).context("nothing was imported"))
                }
            }
        }
    }
}

pub async fn run_emulate(command: EmulateCommand) -> anyhow::Result<()> {
    match command {
        EmulateCommand::PopulationRegistry {
            listen,
            data,
            service,
        } => {
            crate::adapters::population::xroad::check_identifier(&service, 5)
                .map_err(|e| anyhow::anyhow!("--service: {e}"))?;
            let persons = match &data {
                Some(path) => crate::emulators::population_registry::load_persons(path)?,
                None => crate::emulators::population_registry::demo_persons(),
            };
            let listener = tokio::net::TcpListener::bind(&listen)
                .await
                .with_context(|| format!("binding {listen}"))?;
            let addr = listener.local_addr()?;
            println!(
                "population registry emulator (X-Road REST r1) on http://{addr}: {} persons; \
                 GET /r1/{service}/persons/{{inn}} with X-Road-Client",
                persons.len()
            );
            let task = crate::emulators::population_registry::spawn_for_service(
                listener, persons, &service,
            );
            crate::app::shutdown_signal().await;
            task.abort();
            Ok(())
        }
    }
}
