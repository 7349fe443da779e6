//! `idp user create`, `idp org create`, `idp org add-member`: bootstrap accounts until
//! registration creates them.

use std::io::Read;

use clap::{Subcommand, ValueEnum};

use crate::config::Config;
use crate::store::{AccountKind, MemberRole, Membership, NewUser, Organization};

#[derive(Subcommand)]
pub enum UserCommand {
    /// Create a password user; the password is read from standard input.
    Create {
        #[arg(long)]
        login: String,
        #[arg(long)]
        inn: String,
        /// «Фамилия Имя Отчество».
        #[arg(long)]
        name: String,
        #[arg(long)]
        ugns: Option<String>,
        #[arg(long, required = true)]
        password_stdin: bool,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Clone, Copy, ValueEnum)]
pub enum RoleArg {
    Head,
    Accountant,
    Employee,
}

#[derive(Subcommand)]
pub enum OrgCommand {
    /// Create (or update) an organization account.
    Create {
        #[arg(long)]
        inn: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        ugns: String,
    },
    /// Link a user (by INN) to an organization with a role.
    AddMember {
        #[arg(long)]
        org: String,
        #[arg(long)]
        user_inn: String,
        #[arg(long, value_enum)]
        role: RoleArg,
    },
}

/// A 14-digit INN (the structural rules come with registration).
pub fn check_inn(inn: &str) -> anyhow::Result<()> {
    if inn.len() == 14 && inn.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        anyhow::bail!("INN must be exactly 14 digits, got {inn:?}")
    }
}

/// Splits «Фамилия Имя Отчество» into its parts.
pub fn split_name(name: &str) -> anyhow::Result<(String, String, Option<String>)> {
    let parts: Vec<&str> = name.split_whitespace().collect();
    match parts.as_slice() {
        [family, given] => Ok(((*family).into(), (*given).into(), None)),
        [family, given, rest @ ..] => Ok(((*family).into(), (*given).into(), Some(rest.join(" ")))),
        _ => anyhow::bail!("--name must be «Фамилия Имя [Отчество]»"),
    }
}

/// Creates a password user (also used by the demo).
pub async fn create_user(
    state_store: &dyn crate::store::Store,
    hasher: &std::sync::Arc<crate::authn::password::PasswordHasher>,
    login: &str,
    inn: &str,
    name: &str,
    ugns: Option<String>,
    password: String,
) -> anyhow::Result<crate::store::User> {
    check_inn(inn)?;
    if password.chars().count() < 8 {
        anyhow::bail!("the password must have at least 8 characters");
    }
    let (family_name, given_name, middle_name) = split_name(name)?;
    let hash = hasher.hash(password).await?;
    let user = state_store
        .create_user(
            NewUser {
                login: login.trim().into(),
                inn: inn.into(),
                family_name,
                given_name,
                middle_name,
                password_hash: Some(hash),
                ugns_code: ugns,
            },
            crate::clock::now(),
        )
        .await?;
    super::audit(
        state_store,
        "user.create",
        Some(user.id.clone()),
        serde_json::json!({ "login": user.login, "inn": user.inn }),
    )
    .await;
    Ok(user)
}

pub async fn run_user(config: &Config, command: UserCommand) -> anyhow::Result<()> {
    let UserCommand::Create {
        login,
        inn,
        name,
        ugns,
        password_stdin: _,
        json,
    } = command;
    let mut password = String::new();
    std::io::stdin().read_to_string(&mut password)?;
    let password = password.trim_end_matches(['\n', '\r']).to_owned();
    let store = crate::app::open_store(config).await?;
    let hasher = std::sync::Arc::new(crate::authn::password::PasswordHasher::new(
        config.argon2_memory_kib,
        config.argon2_iterations,
        1,
    )?);
    let user = create_user(store.as_ref(), &hasher, &login, &inn, &name, ugns, password).await?;
    if json {
        println!(
            "{}",
            serde_json::json!({ "id": user.id, "login": user.login, "inn": user.inn })
        );
    } else {
        println!("user {} created (login {})", user.id, user.login);
    }
    Ok(())
}

pub async fn run_org(config: &Config, command: OrgCommand) -> anyhow::Result<()> {
    let store = crate::app::open_store(config).await?;
    match command {
        OrgCommand::Create { inn, name, ugns } => {
            check_inn(&inn)?;
            let org = Organization {
                inn: inn.clone(),
                name,
                ugns_code: ugns,
                kind: AccountKind::Organization,
                parent_inn: None,
                liquidated: false,
            };
            store.upsert_organization(&org).await?;
            super::audit(
                store.as_ref(),
                "org.create",
                Some(inn.clone()),
                serde_json::json!({ "name": org.name }),
            )
            .await;
            println!("organization {inn} saved");
        }
        OrgCommand::AddMember {
            org,
            user_inn,
            role,
        } => {
            let user = store
                .user_by_inn(&user_inn)
                .await?
                .ok_or_else(|| anyhow::anyhow!("no user with INN {user_inn}"))?;
            let role = match role {
                RoleArg::Head => MemberRole::Head,
                RoleArg::Accountant => MemberRole::Accountant,
                RoleArg::Employee => MemberRole::Employee,
            };
            store
                .upsert_membership(&Membership {
                    org_inn: org.clone(),
                    user_id: user.id.clone(),
                    role,
                    blocked: false,
                    comment: None,
                })
                .await?;
            super::audit(
                store.as_ref(),
                "org.add_member",
                Some(org.clone()),
                serde_json::json!({ "user": user.id, "role": role.as_str() }),
            )
            .await;
            println!("{} is now {} of {org}", user.login, role.as_str());
        }
    }
    Ok(())
}
