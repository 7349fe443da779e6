//! `idp inspector create`: makes a user an inspector of one or more УГНС offices (R3, D3).
//! A new login gets a password user first; an existing login only gets its offices set.
//! Also seeds the demo inspector for `idp demo`.

use std::io::Read;

use clap::Subcommand;

use crate::config::Config;
use crate::store::{Store, User};

#[derive(Subcommand)]
pub enum InspectorCommand {
    /// Create an inspector (or set the offices of an existing user); the password of a new
    /// user is read from standard input.
    Create {
        #[arg(long)]
        login: String,
        /// УГНС code the inspector decides applications for; repeat for several offices.
        #[arg(long = "ugns", required = true)]
        ugns: Vec<String>,
        /// The inspector's INN (needed when the login is new).
        #[arg(long)]
        inn: Option<String>,
        /// «Фамилия Имя Отчество» (needed when the login is new).
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        password_stdin: bool,
        #[arg(long)]
        json: bool,
    },
}

/// The demo inspector `idp demo` prints.
pub const DEMO_INSPECTOR_LOGIN: &str = "inspector";
pub const DEMO_INSPECTOR_PASSWORD: &str = "demo-inspektor-2026";
/// Offices of the demo taxpayers (domain notes §7), so every demo application is visible.
const DEMO_INSPECTOR_OFFICES: [&str; 11] = [
    "001", "002", "003", "004", "005", "012", "019", "032", "994", "998", "999",
];

/// Checks the codes against the УГНС reference list; returns them sorted, without repeats.
pub async fn check_offices(store: &dyn Store, codes: &[String]) -> anyhow::Result<Vec<String>> {
    let known = store.ugns_offices().await?;
    let mut offices: Vec<String> = codes.iter().map(|c| c.trim().to_owned()).collect();
    offices.sort();
    offices.dedup();
    if offices.is_empty() {
        anyhow::bail!("give at least one --ugns code");
    }
    let unknown: Vec<&str> = offices
        .iter()
        .filter(|c| !known.iter().any(|o| o.code == **c))
        .map(String::as_str)
        .collect();
    if !unknown.is_empty() {
        anyhow::bail!(
            "unknown УГНС code(s): {} (the reference list has {} offices, e.g. 004)",
            unknown.join(", "),
            known.len()
        );
    }
    Ok(offices)
}

/// Makes `login` an inspector of `offices`, creating the password user when the login is
/// new (then `inn`, `name` and `password` are required). Returns the user and whether it
/// was created.
pub async fn create_inspector(
    store: &dyn Store,
    hasher: &std::sync::Arc<crate::authn::password::PasswordHasher>,
    login: &str,
    offices: &[String],
    inn: Option<&str>,
    name: Option<&str>,
    password: Option<String>,
) -> anyhow::Result<(User, bool)> {
    let offices = check_offices(store, offices).await?;
    let (user, created) = match store.user_by_login(login.trim()).await? {
        Some(user) => (user, false),
        None => {
            let (Some(inn), Some(name), Some(password)) = (inn, name, password) else {
                anyhow::bail!(
                    "no user with login {login:?}: give --inn, --name and --password-stdin to create one"
                );
            };
            let user = super::create_user(
                store,
                hasher,
                login,
                inn,
                name,
                offices.first().cloned(),
                password,
            )
            .await?;
            (user, true)
        }
    };
    store.set_inspector_offices(&user.id, &offices).await?;
    super::audit(
        store,
        "inspector.set_offices",
        Some(user.id.clone()),
        serde_json::json!({ "login": user.login, "ugns_codes": offices, "created": created }),
    )
    .await;
    Ok((user, created))
}

/// Seeds the demo inspector (idempotent).
pub async fn seed_demo_inspector(
    store: &dyn Store,
    hasher: &std::sync::Arc<crate::authn::password::PasswordHasher>,
) -> anyhow::Result<()> {
    let offices: Vec<String> = DEMO_INSPECTOR_OFFICES
        .iter()
        .map(|c| (*c).to_owned())
        .collect();
    create_inspector(
        store,
        hasher,
        DEMO_INSPECTOR_LOGIN,
        &offices,
        Some("20505198099020"),
        Some("Демоинспекторов Улан Асанович"),
        Some(DEMO_INSPECTOR_PASSWORD.into()),
    )
    .await?;
    Ok(())
}

pub async fn run(config: &Config, command: InspectorCommand) -> anyhow::Result<()> {
    let InspectorCommand::Create {
        login,
        ugns,
        inn,
        name,
        password_stdin,
        json,
    } = command;
    let store = crate::app::open_store(config).await?;
    let exists = store.user_by_login(login.trim()).await?.is_some();
    let password = if password_stdin && !exists {
        let mut password = String::new();
        std::io::stdin().read_to_string(&mut password)?;
        Some(password.trim_end_matches(['\n', '\r']).to_owned())
    } else {
        None
    };
    let hasher = std::sync::Arc::new(crate::authn::password::PasswordHasher::new(
        config.argon2_memory_kib,
        config.argon2_iterations,
        1,
    )?);
    let (user, created) = create_inspector(
        store.as_ref(),
        &hasher,
        &login,
        &ugns,
        inn.as_deref(),
        name.as_deref(),
        password,
    )
    .await?;
    let offices = store.inspector_offices(&user.id).await?;
    if json {
        println!(
            "{}",
            serde_json::json!({ "id": user.id, "login": user.login, "ugns_codes": offices, "created": created })
        );
    } else {
        println!(
            "inspector {} ({}) {}; offices {}",
            user.login,
            user.id,
            if created { "created" } else { "updated" },
            offices.join(", ")
        );
    }
    Ok(())
}
