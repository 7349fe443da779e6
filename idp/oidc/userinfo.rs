//! `GET|POST /userinfo` (OIDC Core §5.3). The access token comes in the `Authorization:
//! Bearer` header or, for POST, as the `access_token` form field (RFC 6750 §2.1–2.2), never
//! both. Errors carry `WWW-Authenticate` (RFC 6750 §3). Claims come from the current data,
//! so a blocked user or an ended membership stops answering at once (A7).

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};

use super::params::Params;
use super::token::is_revoked;
use crate::accounts;
use crate::error::{Error, ErrorCode};
use crate::state::AppState;
use crate::tokens::{self, AccessClaims};

fn bearer_error(code: ErrorCode, description: &'static str) -> Error {
    Error::new(code, description).with_www_authenticate(format!(
        "Bearer realm=\"salyk-id\", error=\"{}\", error_description=\"{description}\"",
        code.as_str()
    ))
}

/// The bearer token of a request: header or form body, exactly one.
pub fn bearer_token(
    method: &Method,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<Option<String>, Error> {
    let from_header = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.get(..7)
                .filter(|p| p.eq_ignore_ascii_case("bearer "))
                .map(|_| v[7..].trim().to_owned())
        });
    let from_body = if method == Method::POST && !body.is_empty() && super::token::is_form(headers)
    {
        // RFC 6750 §3.1: a repeated parameter is an invalid_request, not a missing token.
        let mut params = Params::parse(body)
            .map_err(|_| bearer_error(ErrorCode::InvalidRequest, "a parameter is repeated"))?;
        params.take("access_token")
    } else {
        None
    };
    match (from_header, from_body) {
        (Some(_), Some(_)) => Err(bearer_error(
            ErrorCode::InvalidRequest,
            "more than one access token was sent",
        )),
        (token, None) | (None, token) => Ok(token),
    }
}

/// Verifies a presented access token: signature, type, issuer, expiry and revocation.
pub async fn verify_bearer(state: &AppState, token: &str) -> Result<AccessClaims, Error> {
    let now = crate::clock::now();
    let claims = tokens::verify_access_token(&state.keys.current(), state.issuer(), token, now)
        .ok_or_else(|| {
            bearer_error(
                ErrorCode::InvalidToken,
                "the access token is invalid or expired",
            )
        })?;
    if is_revoked(state, &claims).await? {
        return Err(bearer_error(
            ErrorCode::InvalidToken,
            "the access token was revoked",
        ));
    }
    Ok(claims)
}

pub async fn handle(
    State(state): State<AppState>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Error> {
    let Some(token) = bearer_token(&method, &headers, &body)? else {
        // RFC 6750 §3.1: no credentials at all → a bare challenge, and no error code or
        // other error information (in the body either).
        let mut response = StatusCode::UNAUTHORIZED.into_response();
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"salyk-id\""),
        );
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        return Ok(response);
    };
    let claims = verify_bearer(&state, &token).await?;
    if !claims.scopes().any(|s| s == "openid") {
        return Err(
            bearer_error(ErrorCode::InsufficientScope, "the openid scope is required")
                .with_status(StatusCode::FORBIDDEN),
        );
    }
    let gone = || {
        bearer_error(
            ErrorCode::InvalidToken,
            "the user or account can no longer sign in",
        )
    };
    let key = claims.account_key().ok_or_else(gone)?;
    let (user, account) = accounts::user_and_account(state.store.as_ref(), &claims.sub, &key)
        .await?
        .ok_or_else(gone)?;

    let scopes: Vec<String> = claims.scopes().map(str::to_owned).collect();
    let mut body = tokens::person_claims(&user, &account, &scopes);
    body.insert("sub".into(), user.id.clone().into());
    if let Some(auth_time) = claims.auth_time {
        body.insert("auth_time".into(), auth_time.into());
    }
    if let Some(acr) = claims.acr {
        body.insert("acr".into(), acr.into());
    }
    if let Some(amr) = claims.amr {
        body.insert("amr".into(), amr.into());
    }
    let mut response = axum::Json(body).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}
