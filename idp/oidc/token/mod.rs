//! `POST /token` (RFC 6749 §3.2). The shared phases run here for every grant, in order —
//! parse the form once, authenticate the client, check the grant type is supported and
//! allowed for this client — and then a small per-grant handler does what is unique to it.
//! Every response carries `Cache-Control: no-store` (RFC 6749 §5.1).

pub mod authorization_code;
pub mod client_credentials;
pub mod refresh_token;
pub mod reusable;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::client_auth;
use super::params::Params;
use crate::accounts::Account;
use crate::error::{Error, ErrorCode};
use crate::keys::Alg;
use crate::state::AppState;
use crate::store::{Client, User};
use crate::tokens::{self, AccessClaims, AuthContext};

/// A successful token response (RFC 6749 §5.1, OIDC Core §3.1.3.3).
#[derive(Debug, Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: u64,
    /// RFC 6749 §3.3: a scope is one or more scope tokens, so an empty one is left out.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub scope: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
}

impl IntoResponse for TokenResponse {
    fn into_response(self) -> Response {
        let mut response = axum::Json(self).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
        response
    }
}

/// Whether the request body is `application/x-www-form-urlencoded`.
pub fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(';').next().is_some_and(|m| {
                m.trim()
                    .eq_ignore_ascii_case("application/x-www-form-urlencoded")
            })
        })
}

/// Parses a form body; the content type must be `application/x-www-form-urlencoded`.
pub fn form_params(headers: &HeaderMap, body: &Bytes) -> Result<Params, Error> {
    if !is_form(headers) {
        return Err(Error::invalid_request(
            "the body must be application/x-www-form-urlencoded",
        ));
    }
    Params::parse(body)
}

pub async fn post(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<TokenResponse, Error> {
    let params = form_params(&headers, &body)?;
    let grant_type = params.require("grant_type")?.to_owned();
    let client = client_auth::authenticate(&state, &headers, &params).await?;
    let known = ["authorization_code", "refresh_token", "client_credentials"];
    if !known.contains(&grant_type.as_str()) {
        return Err(Error::new(
            ErrorCode::UnsupportedGrantType,
            format!("grant_type {grant_type} is not supported"),
        ));
    }
    if !client.allows_grant(&grant_type) {
        return Err(Error::new(
            ErrorCode::UnauthorizedClient,
            format!("this client may not use {grant_type}"),
        ));
    }
    match grant_type.as_str() {
        "authorization_code" => authorization_code::exchange(&state, &client, &params).await,
        "refresh_token" => refresh_token::exchange(&state, &client, &params).await,
        _ => client_credentials::exchange(&state, &client, &params).await,
    }
}

/// The person and account a user token speaks for.
pub struct Person<'a> {
    pub user: &'a User,
    pub account: &'a Account,
    pub auth: &'a AuthContext,
    pub grant_id: &'a str,
}

/// The algorithm that signs a client's ID tokens.
fn id_token_alg(client: &Client) -> Alg {
    Alg::parse(&client.id_token_alg).unwrap_or(Alg::Rs256)
}

/// The algorithm that signs a client's access tokens.
fn access_token_alg(client: &Client) -> Alg {
    Alg::parse(&client.access_token_alg).unwrap_or(Alg::Rs256)
}

/// Issues a JWT access token for `client`, about `person` or (client credentials) the
/// client itself.
pub fn issue_access_token(
    state: &AppState,
    client: &Client,
    scopes: &[String],
    person: Option<&Person<'_>>,
    now: i64,
) -> Result<(String, AccessClaims), Error> {
    let ttl = state.config.access_token_ttl;
    let claims = AccessClaims {
        iss: state.issuer().to_owned(),
        sub: person.map_or_else(|| client.id.clone(), |p| p.user.id.clone()),
        aud: state.issuer().to_owned(),
        exp: now + i64::try_from(ttl).unwrap_or(i64::MAX / 2),
        iat: now,
        jti: crate::security::random_token(16),
        client_id: client.id.clone(),
        scope: scopes.join(" "),
        auth_time: person.map(|p| p.auth.auth_time),
        acr: person.map(|p| p.auth.acr.clone()),
        amr: person.map(|p| p.auth.amr.clone()),
        inn: person.map(|p| p.user.inn.clone()),
        account: person.map(|p| p.account.claim()),
        gid: person.map(|p| p.grant_id.to_owned()),
    };
    let token = tokens::sign_access_token(&state.keys.current(), access_token_alg(client), &claims)
        .map_err(Error::internal)?;
    Ok((token, claims))
}

/// Issues an ID token for `client` about `person`.
pub fn issue_id_token(
    state: &AppState,
    client: &Client,
    scopes: &[String],
    person: &Person<'_>,
    nonce: Option<&str>,
    access_token: &str,
    now: i64,
) -> Result<String, Error> {
    let claims = tokens::id_token_claims(&tokens::IdTokenInput {
        issuer: state.issuer(),
        client_id: &client.id,
        user: person.user,
        account: person.account,
        scopes,
        auth: person.auth,
        nonce,
        access_token: Some(access_token),
        now,
        ttl: state.config.id_token_ttl,
    });
    tokens::sign_id_token(&state.keys.current(), id_token_alg(client), &claims)
        .map_err(Error::internal)
}

/// Session-store key marking a revoked grant until its access tokens have expired.
pub fn revoked_grant_key(grant_id: &str) -> String {
    format!("revoked:grant:{grant_id}")
}

/// Session-store key marking one revoked access token.
pub fn revoked_token_key(jti: &str) -> String {
    format!("revoked:jti:{jti}")
}

/// Revokes a grant: its refresh tokens in the database, its access tokens by a marker that
/// outlives them.
pub async fn revoke_grant(state: &AppState, grant_id: &str) -> Result<(), Error> {
    state.store.revoke_grant(grant_id).await?;
    let ttl = std::time::Duration::from_secs(state.config.access_token_ttl + 60);
    state
        .sessions
        .put(&revoked_grant_key(grant_id), b"1", ttl)
        .await?;
    Ok(())
}

/// Whether a grant has been revoked, by the marker [`revoke_grant`] leaves (no database read).
pub async fn grant_is_revoked(state: &AppState, grant_id: &str) -> Result<bool, Error> {
    Ok(state
        .sessions
        .exists_any(&[revoked_grant_key(grant_id)])
        .await?)
}

/// Whether an access token (by its claims) has been revoked.
pub async fn is_revoked(state: &AppState, claims: &AccessClaims) -> Result<bool, Error> {
    let mut keys = vec![revoked_token_key(&claims.jti)];
    if let Some(gid) = &claims.gid {
        keys.push(revoked_grant_key(gid));
    }
    Ok(state.sessions.exists_any(&keys).await?)
}

/// Splits a space-separated scope string, dropping duplicates.
pub fn split_scopes(scope: &str) -> Vec<String> {
    let mut scopes: Vec<String> = Vec::new();
    for s in scope.split(' ').filter(|s| !s.is_empty()) {
        if !scopes.iter().any(|x| x == s) {
            scopes.push(s.to_owned());
        }
    }
    scopes
}
