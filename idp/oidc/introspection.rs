//! `POST /introspect` (RFC 7662). Only confidential clients may ask (§2.1 requires the
//! caller to be authorized). Access tokens are verified (signature, expiry, revocation);
//! refresh tokens are looked up. Anything else is `{"active": false}`, with no reason given.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::client_auth;
use super::token::{form_params, is_revoked};
use crate::error::Error;
use crate::security::token_digest;
use crate::state::AppState;
use crate::tokens;

pub async fn post(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Error> {
    let params = form_params(&headers, &body)?;
    let client = client_auth::authenticate(&state, &headers, &params).await?;
    if client.is_public() {
        return Err(Error::invalid_client(
            "public clients may not introspect tokens",
        ));
    }
    let token = params.require("token")?;
    let now = crate::clock::now();
    let mut answer = json!({ "active": false });

    if let Some(claims) =
        tokens::verify_access_token(&state.keys.current(), state.issuer(), token, now)
    {
        if !is_revoked(&state, &claims).await? {
            answer = serde_json::to_value(&claims).map_err(Error::internal)?;
            answer["active"] = true.into();
            answer["token_type"] = "Bearer".into();
            if let Some(obj) = answer.as_object_mut() {
                obj.remove("gid");
            }
        }
    } else if let Some((refresh, grant)) = state.store.refresh_token(&token_digest(token)).await? {
        if !grant.revoked && !refresh.rotated && refresh.expires_at > now {
            answer = json!({
                "active": true,
                "token_type": "refresh_token",
                "client_id": grant.client_id,
                "sub": grant.user_id,
                "scope": grant.scopes.join(" "),
                "exp": refresh.expires_at,
                "iat": grant.created_at,
                "iss": state.issuer(),
                "auth_time": grant.auth_time,
                "acr": grant.acr,
            });
        }
    }
    let mut response = axum::Json(answer).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}
