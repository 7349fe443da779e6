//! Client authentication at the token, revocation and introspection endpoints
//! (RFC 6749 §2.3): `client_secret_basic`, `client_secret_post`, or `none` for public PKCE
//! clients. A client uses exactly the method it registered, and only one per request.

use axum::http::{header, HeaderMap};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use super::params::Params;
use crate::error::Error;
use crate::security::constant_time_eq;
use crate::state::AppState;
use crate::store::{Client, ClientAuthMethod};

const BASIC_CHALLENGE: &str = "Basic realm=\"salyk-id\", charset=\"UTF-8\"";

struct Presented {
    method: ClientAuthMethod,
    client_id: String,
    secret: Option<String>,
}

fn presented(headers: &HeaderMap, params: &Params) -> Result<Presented, Error> {
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        // RFC 7235 §2.1: the scheme name is case-insensitive.
        .and_then(|v| {
            v.get(..6)
                .filter(|scheme| scheme.eq_ignore_ascii_case("basic "))
                .map(|_| &v[6..])
        });
    if let Some(encoded) = basic {
        if params.contains("client_secret") {
            return Err(Error::invalid_request(
                "more than one client authentication method",
            ));
        }
        let decoded = STANDARD
            .decode(encoded.trim())
            .ok()
            .and_then(|b| String::from_utf8(b).ok());
        let Some((id, secret)) = decoded.as_deref().and_then(|d| d.split_once(':')) else {
            return Err(Error::invalid_client("malformed Basic credentials")
                .with_www_authenticate(BASIC_CHALLENGE));
        };
        // RFC 6749 §2.3.1: both parts are form-urlencoded before Basic encoding.
        let decode = |s: &str| {
            form_urlencoded::parse(format!("x={s}").as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default()
        };
        let (id, secret) = (decode(id), decode(secret));
        if params.get("client_id").is_some_and(|p| p != id) {
            return Err(Error::invalid_request(
                "client_id does not match the Basic credentials",
            ));
        }
        return Ok(Presented {
            method: ClientAuthMethod::ClientSecretBasic,
            client_id: id,
            secret: Some(secret),
        });
    }
    match (params.get("client_id"), params.get("client_secret")) {
        (Some(id), Some(secret)) => Ok(Presented {
            method: ClientAuthMethod::ClientSecretPost,
            client_id: id.to_owned(),
            secret: Some(secret.to_owned()),
        }),
        (Some(id), None) => Ok(Presented {
            method: ClientAuthMethod::None,
            client_id: id.to_owned(),
            secret: None,
        }),
        _ => Err(Error::invalid_client("client authentication is required")
            .with_www_authenticate(BASIC_CHALLENGE)),
    }
}

/// Authenticates the calling client. Every failure is `invalid_client` (401) with the same
/// description, so a caller cannot tell an unknown client from a wrong secret.
pub async fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
    params: &Params,
) -> Result<Client, Error> {
    let presented = presented(headers, params)?;
    let used_basic = presented.method == ClientAuthMethod::ClientSecretBasic;
    let refuse = || {
        let err = Error::invalid_client("client authentication failed");
        if used_basic {
            err.with_www_authenticate(BASIC_CHALLENGE)
        } else {
            err
        }
    };
    let client = state.store.client(&presented.client_id).await?;
    let Some(client) = client.filter(|c| !c.disabled) else {
        // Spend the digest anyway so timing does not reveal whether the client exists.
        if let Some(secret) = &presented.secret {
            let _ = state.client_secret_digest(secret);
        }
        return Err(refuse());
    };
    if client.auth_method != presented.method {
        return Err(refuse());
    }
    if let Some(secret) = &presented.secret {
        let digest = state.client_secret_digest(secret);
        let stored = client.secret_digest.as_deref().unwrap_or("");
        if !constant_time_eq(&digest, stored) {
            return Err(refuse());
        }
    }
    Ok(client)
}
