//! `idp client create|list|disable` (D2, CLI part).

use clap::{Subcommand, ValueEnum};

use crate::config::Config;
use crate::store::{Client, ClientAuthMethod};

#[derive(Clone, Copy, ValueEnum)]
pub enum AuthMethodArg {
    #[value(name = "client_secret_basic")]
    ClientSecretBasic,
    #[value(name = "client_secret_post")]
    ClientSecretPost,
    #[value(name = "none")]
    None,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum GrantArg {
    #[value(name = "authorization_code")]
    AuthorizationCode,
    #[value(name = "refresh_token")]
    RefreshToken,
    #[value(name = "client_credentials")]
    ClientCredentials,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum AlgArg {
    #[value(name = "RS256")]
    Rs256,
    #[value(name = "ES256")]
    Es256,
}

impl AlgArg {
    fn name(self) -> &'static str {
        match self {
            AlgArg::Rs256 => "RS256",
            AlgArg::Es256 => "ES256",
        }
    }
}

#[derive(Subcommand)]
pub enum ClientCommand {
    /// Register a client; prints its id and (once) its secret.
    Create {
        #[arg(long)]
        name: String,
        #[arg(long = "redirect-uri")]
        redirect_uris: Vec<String>,
        #[arg(long = "post-logout-redirect-uri")]
        post_logout_redirect_uris: Vec<String>,
        #[arg(long, value_enum, default_value = "client_secret_basic")]
        auth_method: AuthMethodArg,
        #[arg(long = "grant", value_enum)]
        grants: Vec<GrantArg>,
        #[arg(long = "scope")]
        scopes: Vec<String>,
        /// Signs the client's ID tokens (its `id_token_signed_response_alg`).
        #[arg(long, value_enum, default_value = "RS256")]
        id_token_alg: AlgArg,
        /// Signs the client's JWT access tokens (RFC 9068); the same as --id-token-alg
        /// when not given.
        #[arg(long, value_enum)]
        access_token_alg: Option<AlgArg>,
        /// Keep refresh tokens valid after use (confidential clients only; RFC 9700 §4.14.2).
        #[arg(long)]
        no_refresh_rotation: bool,
        /// Only organization accounts may sign in to this client.
        #[arg(long)]
        require_organization: bool,
        #[arg(long)]
        json: bool,
    },
    /// List clients.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Disable a client: it can no longer authorize or get tokens.
    Disable { id: String },
}

/// Redirect URIs must be absolute, without fragment; plain http only to the loopback
/// interface (RFC 8252 §7.3; RFC 9700 §2.6).
pub fn check_redirect_uri(uri: &str) -> Result<(), String> {
    let url = url::Url::parse(uri).map_err(|e| format!("{uri}: not an absolute URL ({e})"))?;
    if url.fragment().is_some() {
        return Err(format!("{uri}: must not contain a fragment"));
    }
    match url.scheme() {
        "https" => Ok(()),
        "http" if matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]")) => Ok(()),
        "http" => Err(format!(
            "{uri}: http is only allowed for loopback addresses; use https"
        )),
        "javascript" | "data" | "file" | "vbscript" => Err(format!("{uri}: scheme not allowed")),
        // Private-use schemes of native apps (RFC 8252 §7.1) use reverse domain names.
        scheme if scheme.contains('.') => Ok(()),
        scheme => Err(format!("{uri}: scheme {scheme} not allowed")),
    }
}

pub struct NewClient {
    pub name: String,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub auth_method: ClientAuthMethod,
    pub grants: Vec<String>,
    pub scopes: Vec<String>,
    pub id_token_alg: String,
    pub access_token_alg: String,
    pub rotate_refresh_tokens: bool,
    pub require_organization: bool,
}

/// Validates and registers a client; returns it and its secret (if confidential).
pub async fn create(
    store: &dyn crate::store::Store,
    secret_key: &[u8],
    new: NewClient,
) -> anyhow::Result<(Client, Option<String>)> {
    let mut errors = Vec::new();
    if new.name.trim().is_empty() {
        errors.push("--name must not be empty".to_owned());
    }
    for uri in new
        .redirect_uris
        .iter()
        .chain(&new.post_logout_redirect_uris)
    {
        if let Err(e) = check_redirect_uri(uri) {
            errors.push(e);
        }
    }
    let public = new.auth_method == ClientAuthMethod::None;
    if new.grants.iter().any(|g| g == "authorization_code") && new.redirect_uris.is_empty() {
        errors.push("the authorization_code grant needs at least one --redirect-uri".into());
    }
    if public && new.grants.iter().any(|g| g == "client_credentials") {
        errors.push("a public client (--auth-method none) cannot use client_credentials".into());
    }
    if public && !new.rotate_refresh_tokens {
        errors.push("--no-refresh-rotation is only allowed for confidential clients".into());
    }
    for scope in &new.scopes {
        if !crate::oidc::SUPPORTED_SCOPES.contains(&scope.as_str()) {
            errors.push(format!(
                "unknown scope {scope} (known: {})",
                crate::oidc::SUPPORTED_SCOPES.join(", ")
            ));
        }
    }
    if !errors.is_empty() {
        anyhow::bail!(errors.join("\n"));
    }
    let secret = (!public).then(|| crate::security::random_token(32));
    let client = Client {
        id: new_client_id(),
        name: new.name.trim().to_owned(),
        secret_digest: secret
            .as_ref()
            .map(|s| crate::security::keyed_digest(secret_key, &format!("client-secret:{s}"))),
        redirect_uris: new.redirect_uris,
        post_logout_redirect_uris: new.post_logout_redirect_uris,
        auth_method: new.auth_method,
        grant_types: new.grants,
        scopes: new.scopes,
        id_token_alg: new.id_token_alg,
        access_token_alg: new.access_token_alg,
        rotate_refresh_tokens: new.rotate_refresh_tokens,
        require_organization: new.require_organization,
        disabled: false,
        created_at: crate::clock::now(),
    };
    store.create_client(&client).await?;
    super::audit(
        store,
        "client.create",
        Some(client.id.clone()),
        serde_json::json!({ "name": client.name, "redirect_uris": client.redirect_uris }),
    )
    .await;
    Ok((client, secret))
}

pub async fn run(config: &Config, command: ClientCommand) -> anyhow::Result<()> {
    let store = crate::app::open_store(config).await?;
    match command {
        ClientCommand::Create {
            name,
            redirect_uris,
            post_logout_redirect_uris,
            auth_method,
            grants,
            scopes,
            id_token_alg,
            access_token_alg,
            no_refresh_rotation,
            require_organization,
            json,
        } => {
            let keys = crate::keys::Keys::load_or_create(store.as_ref(), &config.keys_dir).await?;
            let grants = if grants.is_empty() {
                vec![GrantArg::AuthorizationCode, GrantArg::RefreshToken]
            } else {
                grants
            };
            let new = NewClient {
                name,
                redirect_uris,
                post_logout_redirect_uris,
                auth_method: match auth_method {
                    AuthMethodArg::ClientSecretBasic => ClientAuthMethod::ClientSecretBasic,
                    AuthMethodArg::ClientSecretPost => ClientAuthMethod::ClientSecretPost,
                    AuthMethodArg::None => ClientAuthMethod::None,
                },
                grants: grants
                    .iter()
                    .map(|g| match g {
                        GrantArg::AuthorizationCode => "authorization_code".to_owned(),
                        GrantArg::RefreshToken => "refresh_token".to_owned(),
                        GrantArg::ClientCredentials => "client_credentials".to_owned(),
                    })
                    .collect(),
                scopes: if scopes.is_empty() {
                    vec!["openid".into(), "profile".into(), "offline_access".into()]
                } else {
                    scopes
                },
                id_token_alg: id_token_alg.name().into(),
                access_token_alg: access_token_alg.unwrap_or(id_token_alg).name().into(),
                rotate_refresh_tokens: !no_refresh_rotation,
                require_organization,
            };
            let (client, secret) = create(store.as_ref(), keys.secret(), new).await?;
            if json {
                println!(
                    "{}",
                    serde_json::json!({ "client_id": client.id, "client_secret": secret })
                );
            } else {
                println!("client_id: {}", client.id);
                match secret {
                    Some(secret) => println!(
                        "client_secret: {secret}\n(the secret is shown only now; store it safely)"
                    ),
                    None => println!("public client: no secret (PKCE required)"),
                }
            }
        }
        ClientCommand::List { json } => {
            let clients = store.list_clients().await?;
            if json {
                let list: Vec<_> = clients
                    .iter()
                    .map(|c| {
                        serde_json::json!({
                            "client_id": c.id, "name": c.name, "redirect_uris": c.redirect_uris,
                            "post_logout_redirect_uris": c.post_logout_redirect_uris,
                            "auth_method": c.auth_method.as_str(), "grant_types": c.grant_types, "scopes": c.scopes,
                            "id_token_alg": c.id_token_alg, "access_token_alg": c.access_token_alg,
                            "rotate_refresh_tokens": c.rotate_refresh_tokens,
                            "require_organization": c.require_organization, "disabled": c.disabled,
                        })
                    })
                    .collect();
                println!("{}", serde_json::Value::Array(list));
            } else {
                for c in clients {
                    println!(
                        "{}\t{}\t{}\t{}{}",
                        c.id,
                        c.name,
                        c.auth_method.as_str(),
                        c.grant_types.join(","),
                        if c.disabled { "\tdisabled" } else { "" }
                    );
                }
            }
        }
        ClientCommand::Disable { id } => {
            if !store.set_client_disabled(&id, true).await? {
                anyhow::bail!("no client {id}");
            }
            super::audit(
                store.as_ref(),
                "client.disable",
                Some(id.clone()),
                serde_json::json!({}),
            )
            .await;
            println!("client {id} disabled");
        }
    }
    Ok(())
}

/// A random client id (96 bits, base64url) that never starts with `-`, so an operator can
/// pass it to `idp client disable` without it being read as an option.
fn new_client_id() -> String {
    loop {
        let id = crate::security::random_token(12);
        if !id.starts_with('-') {
            return id;
        }
    }
}

#[cfg(test)]
mod client_id_tests {
    #[test]
    fn client_ids_never_look_like_options() {
        for _ in 0..2000 {
            let id = super::new_client_id();
            assert_eq!(id.len(), 16);
            assert!(!id.starts_with('-'), "{id}");
        }
    }
}
