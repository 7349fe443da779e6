//! `grant_type=authorization_code` (RFC 6749 §4.1.3, OIDC Core §3.1.3.2, RFC 7636 §4.6).
//!
//! A code is 256 random bits, kept only as a digest in the session store for at most 60 s,
//! and bound to the client, redirect URI, PKCE challenge, nonce and chosen account. Redeeming
//! takes it atomically, so of two concurrent redemptions (even on two processes) one wins.
//! A second redemption by the rightful client (valid client auth and verifier) is treated
//! as a stolen code: everything the first issued is revoked (RFC 6749 §4.1.2, RFC 9700
//! §4.5). A replay with bad client auth or a bad verifier revokes nothing.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{issue_access_token, issue_id_token, revoke_grant, Person, TokenResponse};
use crate::accounts;
use crate::error::Error;
use crate::oidc::params::Params;
use crate::security::{is_valid_pkce_verifier, pkce_s256_matches, random_token, token_digest};
use crate::session::{get_json, put_json, take_json};
use crate::state::AppState;
use crate::store::{Client, Grant, RefreshToken};
use crate::tokens::AuthContext;

/// What a code stands for.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CodeData {
    pub client_id: String,
    pub redirect_uri: String,
    pub code_challenge: Option<String>,
    pub nonce: Option<String>,
    pub user_id: String,
    pub account_key: String,
    pub scopes: Vec<String>,
    pub auth: AuthContext,
}

/// Left behind by a successful redemption, to recognise a replay.
#[derive(Debug, Serialize, Deserialize)]
struct Redeemed {
    grant_id: String,
    client_id: String,
    code_challenge: Option<String>,
}

fn code_key(digest: &str) -> String {
    format!("code:{digest}")
}

fn redeemed_key(digest: &str) -> String {
    format!("code-redeemed:{digest}")
}

/// Issues a code for `data` and returns it.
pub async fn issue_code(state: &AppState, data: &CodeData) -> Result<String, Error> {
    let code = random_token(32);
    let ttl = Duration::from_secs(state.config.code_ttl);
    put_json(
        state.sessions.as_ref(),
        &code_key(&token_digest(&code)),
        data,
        ttl,
    )
    .await?;
    Ok(code)
}

fn verifier_ok(challenge: Option<&str>, verifier: Option<&str>) -> bool {
    match (challenge, verifier) {
        (Some(c), Some(v)) => is_valid_pkce_verifier(v) && pkce_s256_matches(v, c),
        // RFC 9700 §2.1.1: a verifier for a code issued without a challenge is refused.
        (None, Some(_)) | (Some(_), None) => false,
        (None, None) => true,
    }
}

pub async fn exchange(
    state: &AppState,
    client: &Client,
    params: &Params,
) -> Result<TokenResponse, Error> {
    let code = params.require("code")?;
    let redirect_uri = params.require("redirect_uri")?;
    let verifier = params.get("code_verifier");
    let digest = token_digest(code);

    let Some(data) = take_json::<CodeData>(state.sessions.as_ref(), &code_key(&digest)).await?
    else {
        return Err(replayed(state, client, &digest, verifier).await);
    };
    // RFC 6749 §4.1.3: the code must have been issued to this client, for this redirect URI.
    if data.client_id != client.id {
        return Err(Error::invalid_grant(
            "the code was issued to another client",
        ));
    }
    if data.redirect_uri != redirect_uri {
        return Err(Error::invalid_grant(
            "redirect_uri does not match the authorization request",
        ));
    }
    if !verifier_ok(data.code_challenge.as_deref(), verifier) {
        return Err(Error::invalid_grant("PKCE verification failed"));
    }

    let user = state
        .store
        .user_by_id(&data.user_id)
        .await?
        .filter(|u| !u.blocked);
    let Some(user) = user else {
        return Err(Error::invalid_grant("the user can no longer sign in"));
    };
    let Some(account) =
        accounts::account_of(state.store.as_ref(), &user, &data.account_key).await?
    else {
        return Err(Error::invalid_grant(
            "the chosen account is no longer available",
        ));
    };

    let now = crate::clock::now();
    let grant = Grant {
        id: random_token(16),
        client_id: client.id.clone(),
        user_id: user.id.clone(),
        account_key: account.key.clone(),
        scopes: data.scopes.clone(),
        auth_time: data.auth.auth_time,
        amr: data.auth.amr.clone(),
        acr: data.auth.acr.clone(),
        session_id: data.auth.sid.clone(),
        created_at: now,
        revoked: false,
    };
    let person = Person {
        user: &user,
        account: &account,
        auth: &data.auth,
        grant_id: &grant.id,
    };
    let (access_token, _) = issue_access_token(state, client, &data.scopes, Some(&person), now)?;
    let id_token = if data.scopes.iter().any(|s| s == "openid") {
        Some(issue_id_token(
            state,
            client,
            &data.scopes,
            &person,
            data.nonce.as_deref(),
            &access_token,
            now,
        )?)
    } else {
        None
    };
    let refresh_token = (client.allows_grant("refresh_token")
        && data.scopes.iter().any(|s| s == "offline_access"))
    .then(|| random_token(32));
    let stored_refresh = refresh_token.as_ref().map(|t| RefreshToken {
        digest: token_digest(t),
        grant_id: grant.id.clone(),
        expires_at: now + i64::try_from(state.config.refresh_token_ttl).unwrap_or(i64::MAX / 2),
        rotated: false,
    });
    state
        .store
        .create_grant(&grant, stored_refresh.as_ref())
        .await?;
    let marker = Redeemed {
        grant_id: grant.id.clone(),
        client_id: client.id.clone(),
        code_challenge: data.code_challenge.clone(),
    };
    let marker_ttl = Duration::from_secs(state.config.access_token_ttl + 60);
    put_json(
        state.sessions.as_ref(),
        &redeemed_key(&digest),
        &marker,
        marker_ttl,
    )
    .await?;

    Ok(TokenResponse {
        access_token,
        token_type: "Bearer",
        expires_in: state.config.access_token_ttl,
        scope: data.scopes.join(" "),
        refresh_token,
        id_token,
    })
}

/// The code is gone: unknown, expired, or already redeemed. Only the rightful client
/// proving possession of the verifier triggers revocation of what the first redemption got.
async fn replayed(
    state: &AppState,
    client: &Client,
    digest: &str,
    verifier: Option<&str>,
) -> Error {
    let refused = Error::invalid_grant("the code is invalid, expired or already used");
    let marker = match get_json::<Redeemed>(state.sessions.as_ref(), &redeemed_key(digest)).await {
        Ok(Some(marker)) => marker,
        Ok(None) => return refused,
        Err(e) => return e.into(),
    };
    if marker.client_id == client.id && verifier_ok(marker.code_challenge.as_deref(), verifier) {
        tracing::warn!(client_id = %client.id, "authorization code replayed; revoking its grant");
        if let Err(e) = revoke_grant(state, &marker.grant_id).await {
            return e;
        }
    }
    refused
}
