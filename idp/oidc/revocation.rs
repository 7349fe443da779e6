//! `POST /revoke` (RFC 7009). The client authenticates; a refresh token revokes its whole
//! grant, access tokens included (§2.1 SHOULD); an access token is revoked alone. Tokens that
//! are unknown, or that belong to another client, get the same 200 and nothing happens
//! (§2.2: "invalid tokens do not cause an error response").

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use super::client_auth;
use super::token::{form_params, revoke_grant, revoked_token_key};
use crate::error::Error;
use crate::security::token_digest;
use crate::state::AppState;

pub async fn post(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Error> {
    let params = form_params(&headers, &body)?;
    let token = params.require("token")?.to_owned();
    let client = client_auth::authenticate(&state, &headers, &params).await?;
    // `token_type_hint` is not consulted: both token kinds are recognised by themselves, and
    // §2.1 requires the search to go on whatever the hint says, so an unknown hint value is
    // no reason to refuse (`unsupported_token_type` is for token kinds that cannot be
    // revoked, and this provider revokes every kind it issues).

    if let Some((_, grant)) = state.store.refresh_token(&token_digest(&token)).await? {
        if grant.client_id == client.id {
            revoke_grant(&state, &grant.id).await?;
        }
    } else if let Some((payload, Some(typ))) = state.keys.current().verify(&token) {
        if typ.eq_ignore_ascii_case("at+jwt") {
            if let Ok(claims) = serde_json::from_slice::<crate::tokens::AccessClaims>(&payload) {
                let remaining = claims.exp - crate::clock::now();
                if claims.client_id == client.id && remaining > 0 {
                    let ttl =
                        std::time::Duration::from_secs(u64::try_from(remaining).unwrap_or(0) + 60);
                    state
                        .sessions
                        .put(&revoked_token_key(&claims.jti), b"1", ttl)
                        .await?;
                }
            }
        }
    }
    let mut response = StatusCode::OK.into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}
