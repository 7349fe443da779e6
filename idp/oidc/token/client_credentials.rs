//! `grant_type=client_credentials` (RFC 6749 §4.4): a token about the client itself. No
//! refresh token and no ID token; `openid` and `offline_access` mean nothing here.

use super::{issue_access_token, split_scopes, TokenResponse};
use crate::error::{Error, ErrorCode};
use crate::oidc::params::Params;
use crate::state::AppState;
use crate::store::Client;

const USER_ONLY_SCOPES: [&str; 3] = ["openid", "offline_access", "profile"];

pub async fn exchange(
    state: &AppState,
    client: &Client,
    params: &Params,
) -> Result<TokenResponse, Error> {
    if client.is_public() {
        return Err(Error::new(
            ErrorCode::UnauthorizedClient,
            "public clients cannot use client_credentials",
        ));
    }
    let allowed: Vec<String> = client
        .scopes
        .iter()
        .filter(|s| !USER_ONLY_SCOPES.contains(&s.as_str()))
        .cloned()
        .collect();
    let scopes = match params.get("scope") {
        Some(scope) => {
            let requested = split_scopes(scope);
            if let Some(bad) = requested.iter().find(|s| !allowed.contains(s)) {
                return Err(Error::new(
                    ErrorCode::InvalidScope,
                    format!("scope {bad} is not allowed for client_credentials"),
                ));
            }
            requested
        }
        None => allowed,
    };
    let now = crate::clock::now();
    let (access_token, _) = issue_access_token(state, client, &scopes, None, now)?;
    Ok(TokenResponse {
        access_token,
        token_type: "Bearer",
        expires_in: state.config.access_token_ttl,
        scope: scopes.join(" "),
        refresh_token: None,
        id_token: None,
    })
}
