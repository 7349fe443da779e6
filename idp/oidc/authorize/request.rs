//! Parsing and checking an authorization request (RFC 6749 §4.1.1, §4.1.2.1; OIDC Core
//! §3.1.2.1–2; RFC 7636 §4.3). Checks run in the order RFC 6749 §4.1.2.1 requires: until the
//! client and its redirect URI are known good, errors are shown as a page and never
//! redirected; after that, errors go back to the client.

use serde::{Deserialize, Serialize};

use crate::error::{Error, ErrorCode};
use crate::oidc::params::Params;
use crate::oidc::token::split_scopes;
use crate::state::AppState;
use crate::store::Client;

/// How the response reaches the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResponseMode {
    Query,
    FormPost,
}

/// A validated authorization request, kept in the session store while the user signs in.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AuthorizationRequest {
    pub id: String,
    pub client_id: String,
    pub client_name: String,
    pub redirect_uri: String,
    pub response_mode: ResponseMode,
    pub scopes: Vec<String>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub prompt: Vec<String>,
    pub max_age: Option<i64>,
    pub login_hint: Option<String>,
    /// `sub` of a valid `id_token_hint`.
    pub hinted_sub: Option<String>,
    pub acr_values: Vec<String>,
    pub ui_locales: Option<String>,
    /// Set once the user signed in during this request, so `prompt=login` and `max_age`
    /// are satisfied and do not loop.
    pub signed_in_here: bool,
    /// The client only accepts organization accounts.
    pub require_organization: bool,
    /// A first-party sign-in (the provider's own consoles): after sign-in the browser goes to
    /// this local path instead of a client; no code is issued and no account is chosen.
    #[serde(default)]
    pub local_return: Option<String>,
}

impl AuthorizationRequest {
    pub fn has_prompt(&self, value: &str) -> bool {
        self.prompt.iter().any(|p| p == value)
    }

    /// The lowest assurance among the requested `acr_values` that we know, if any.
    pub fn required_assurance(&self) -> Option<crate::authn::Assurance> {
        self.acr_values
            .iter()
            .filter_map(|a| crate::authn::Assurance::from_acr(a))
            .min()
    }
}

/// Where errors may be sent once the client and redirect URI are verified.
#[derive(Debug, Clone)]
pub struct ErrorTarget {
    pub redirect_uri: String,
    pub response_mode: ResponseMode,
    pub state: Option<String>,
}

/// A failed request: either shown as a page, or sent back to the client.
#[derive(Debug)]
pub enum Rejection {
    Page(Error),
    Redirect(ErrorTarget, Error),
}

/// Stage 1: client and redirect URI. Nothing is redirected unless both are good.
async fn check_client(state: &AppState, params: &Params) -> Result<(Client, String), Error> {
    let client_id = params.get("client_id").ok_or_else(|| {
        Error::invalid_request("missing client_id").with_message("error.unknown_client")
    })?;
    let client = state.store.client(client_id).await?.filter(|c| !c.disabled);
    let client = client.ok_or_else(|| {
        Error::invalid_request("unknown client_id").with_message("error.unknown_client")
    })?;
    // Exact string comparison (RFC 9700 §4.1.3); OIDC Core makes redirect_uri required.
    let redirect_uri = params.get("redirect_uri").ok_or_else(|| {
        Error::invalid_request("missing redirect_uri").with_message("error.redirect_uri")
    })?;
    if !client.redirect_uris.iter().any(|u| u == redirect_uri) {
        return Err(
            Error::invalid_request("redirect_uri is not registered for this client")
                .with_message("error.redirect_uri"),
        );
    }
    Ok((client, redirect_uri.to_owned()))
}

/// Parses and checks the request parameters.
pub async fn parse(state: &AppState, raw: &[u8]) -> Result<AuthorizationRequest, Rejection> {
    let (params, repeated) = Params::parse_lenient(raw);
    // A repeated client_id or redirect_uri leaves nothing verified to redirect to.
    if repeated.iter().any(|r| r == "client_id") {
        return Err(Rejection::Page(Error::invalid_request(
            "parameter client_id is repeated",
        )));
    }
    if repeated.iter().any(|r| r == "redirect_uri") {
        return Err(Rejection::Page(
            Error::invalid_request("parameter redirect_uri is repeated")
                .with_message("error.redirect_uri"),
        ));
    }
    let (client, redirect_uri) = check_client(state, &params)
        .await
        .map_err(Rejection::Page)?;
    let response_mode = match params.get("response_mode") {
        None | Some("query") => ResponseMode::Query,
        Some("form_post") => ResponseMode::FormPost,
        Some(_) => ResponseMode::Query,
    };
    let target = ErrorTarget {
        redirect_uri: redirect_uri.clone(),
        response_mode,
        state: params.get("state").map(str::to_owned),
    };
    let reject = |e: Error| Rejection::Redirect(target.clone(), e);

    // RFC 6749 §4.1.2.1: any other repeated parameter is an invalid_request for the client
    // (a repeated state is not echoed: neither value can be trusted).
    if let Some(name) = repeated.first() {
        return Err(reject(Error::invalid_request(format!(
            "parameter {name} is repeated"
        ))));
    }

    if let Some(mode) = params.get("response_mode") {
        if mode != "query" && mode != "form_post" {
            return Err(reject(Error::invalid_request(format!(
                "response_mode {mode} is not supported"
            ))));
        }
    }
    if params.contains("request") {
        return Err(reject(Error::new(
            ErrorCode::RequestNotSupported,
            "request objects are not supported",
        )));
    }
    if params.contains("request_uri") {
        return Err(reject(Error::new(
            ErrorCode::RequestUriNotSupported,
            "request_uri is not supported",
        )));
    }
    if params.contains("registration") {
        return Err(reject(Error::new(
            ErrorCode::RegistrationNotSupported,
            "registration is not supported",
        )));
    }
    match params.get("response_type") {
        None => return Err(reject(Error::invalid_request("missing response_type"))),
        Some("code") => {}
        Some(other) => {
            return Err(reject(Error::new(
                ErrorCode::UnsupportedResponseType,
                format!("response_type {other} is not supported; use code"),
            )))
        }
    }
    if !client.allows_grant("authorization_code") {
        return Err(reject(Error::new(
            ErrorCode::UnauthorizedClient,
            "this client may not use the authorization code flow",
        )));
    }
    let scopes = split_scopes(params.get("scope").unwrap_or(""));
    if !scopes.iter().any(|s| s == "openid") {
        return Err(reject(Error::new(
            ErrorCode::InvalidScope,
            "the openid scope is required",
        )));
    }
    if let Some(bad) = scopes.iter().find(|s| !client.scopes.contains(s)) {
        return Err(reject(Error::new(
            ErrorCode::InvalidScope,
            format!("scope {bad} is not allowed for this client"),
        )));
    }

    let code_challenge = params.get("code_challenge").map(str::to_owned);
    match (
        code_challenge.as_deref(),
        params.get("code_challenge_method"),
    ) {
        (None, Some(_)) => {
            return Err(reject(Error::invalid_request(
                "code_challenge_method without code_challenge",
            )))
        }
        (None, None) if client.is_public() => {
            return Err(reject(Error::invalid_request(
                "PKCE (code_challenge with S256) is required for public clients",
            )))
        }
        (None, None) => {}
        // RFC 7636 §4.3: an absent method means "plain", which we refuse.
        (Some(_), None | Some("plain")) => {
            return Err(reject(Error::invalid_request(
                "code_challenge_method must be S256",
            )))
        }
        (Some(_), Some(m)) if m != "S256" => {
            return Err(reject(Error::invalid_request(
                "code_challenge_method must be S256",
            )))
        }
        (Some(challenge), Some(_)) => {
            let well_formed = challenge.len() == 43
                && challenge
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
            if !well_formed {
                return Err(reject(Error::invalid_request(
                    "code_challenge must be a base64url SHA-256 value (43 characters)",
                )));
            }
        }
    }

    let prompt: Vec<String> = params.get("prompt").map(split_scopes).unwrap_or_default();
    for p in &prompt {
        if !["none", "login", "consent", "select_account"].contains(&p.as_str()) {
            return Err(reject(Error::invalid_request(format!(
                "prompt {p} is not supported"
            ))));
        }
    }
    if prompt.iter().any(|p| p == "none") && prompt.len() > 1 {
        return Err(reject(Error::invalid_request(
            "prompt=none cannot be combined with other values",
        )));
    }
    let max_age = match params.get("max_age") {
        None => None,
        Some(v) => match v.parse::<i64>() {
            Ok(n) if n >= 0 => Some(n),
            _ => {
                return Err(reject(Error::invalid_request(
                    "max_age must be a non-negative integer",
                )))
            }
        },
    };
    let hinted_sub = match params.get("id_token_hint") {
        None => None,
        Some(hint) => {
            match crate::tokens::verify_id_token_hint(&state.keys.current(), state.issuer(), hint) {
                Some(claims) => Some(claims.sub),
                None => {
                    return Err(reject(Error::invalid_request(
                        "id_token_hint is not a valid ID token from this provider",
                    )))
                }
            }
        }
    };
    let nonce = params.get("nonce").map(str::to_owned);
    if nonce.as_ref().is_some_and(|n| n.len() > 512)
        || target.state.as_ref().is_some_and(|s| s.len() > 2048)
    {
        return Err(reject(Error::invalid_request("nonce or state is too long")));
    }

    Ok(AuthorizationRequest {
        id: crate::security::random_token(24),
        client_id: client.id.clone(),
        client_name: client.name.clone(),
        redirect_uri,
        response_mode,
        scopes,
        state: target.state.clone(),
        nonce,
        code_challenge,
        prompt,
        max_age,
        login_hint: params
            .get("login_hint")
            .map(|h| h.chars().take(64).collect()),
        hinted_sub,
        acr_values: params
            .get("acr_values")
            .map(split_scopes)
            .unwrap_or_default(),
        ui_locales: params.get("ui_locales").map(str::to_owned),
        signed_in_here: false,
        require_organization: client.require_organization,
        local_return: None,
    })
}
