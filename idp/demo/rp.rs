//! The demo relying party: a small tax service that signs users in through this provider
//! exactly as an outside service would — authorization code flow with PKCE, state and nonce,
//! the token exchange, ID-token signature check against the JWKS, and userinfo, all over
//! HTTP — then shows what it received. Served only by `idp demo`.

use std::time::Duration;

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::Error;
use crate::session::{put_json, take_json};
use crate::state::AppState;
use crate::web::browser::{render, Browser};
use crate::web::i18n::Tr;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/demo", get(home))
        .route("/demo/start", get(start))
        .route("/demo/callback", get(callback))
}

#[derive(askama::Template)]
#[template(path = "demo.html")]
struct DemoView {
    tr: Tr,
    lang_links: Vec<(String, String)>,
    error: Option<String>,
    account: Option<serde_json::Value>,
    account_kind_key: &'static str,
    id_token: Option<String>,
    userinfo: Option<String>,
    logout_url: Option<String>,
}

fn view(browser: &Browser) -> DemoView {
    DemoView {
        tr: browser.tr,
        lang_links: browser.lang_links.clone(),
        error: None,
        account: None,
        account_kind_key: "account.kind.individual",
        id_token: None,
        userinfo: None,
        logout_url: None,
    }
}

async fn home(browser: Browser) -> Response {
    render(&view(&browser))
}

#[derive(Serialize, Deserialize)]
struct Pending {
    nonce: String,
    verifier: String,
}

#[derive(Deserialize)]
struct StartQuery {
    prompt: Option<String>,
}

fn demo_client(state: &AppState) -> Result<&crate::config::DemoClient, Error> {
    state.config.demo.as_ref().ok_or_else(Error::not_found)
}

async fn start(
    State(state): State<AppState>,
    Query(query): Query<StartQuery>,
) -> Result<Response, Error> {
    let client = demo_client(&state)?;
    let rp_state = crate::security::random_token(16);
    let pending = Pending {
        nonce: crate::security::random_token(16),
        verifier: crate::security::random_token(32),
    };
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(pending.verifier.as_bytes()));
    put_json(
        state.sessions.as_ref(),
        &format!("demo-rp:{rp_state}"),
        &pending,
        Duration::from_secs(600),
    )
    .await?;
    let mut url =
        url::Url::parse(&format!("{}/authorize", state.issuer())).map_err(Error::internal)?;
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", &client.client_id)
        .append_pair("redirect_uri", &format!("{}/demo/callback", state.issuer()))
        .append_pair("scope", "openid profile offline_access")
        .append_pair("state", &rp_state)
        .append_pair("nonce", &pending.nonce)
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256");
    if let Some(prompt) = query
        .prompt
        .filter(|p| p == "select_account" || p == "login")
    {
        url.query_pairs_mut().append_pair("prompt", &prompt);
    }
    Ok(Redirect::to(url.as_str()).into_response())
}

#[derive(Deserialize)]
struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    iss: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

async fn callback(
    State(state): State<AppState>,
    browser: Browser,
    Query(query): Query<CallbackQuery>,
) -> Result<Response, Error> {
    let mut page = view(&browser);
    match receive(&state, &query).await {
        Ok(result) => {
            page.account = result.id_token.get("account").cloned();
            page.account_kind_key = match page.account.as_ref().and_then(|a| a["kind"].as_str()) {
                Some("organization") => "account.kind.organization",
                Some("branch") => "account.kind.branch",
                _ => "account.kind.individual",
            };
            page.logout_url = Some(result.logout_url);
            page.id_token = serde_json::to_string_pretty(&result.id_token).ok();
            page.userinfo = serde_json::to_string_pretty(&result.userinfo).ok();
        }
        Err(message) => page.error = Some(message),
    }
    Ok(render(&page))
}

struct Received {
    id_token: serde_json::Value,
    userinfo: serde_json::Value,
    logout_url: String,
}

/// What a careful relying party does with the authorization response.
async fn receive(state: &AppState, query: &CallbackQuery) -> Result<Received, String> {
    if let Some(error) = &query.error {
        return Err(format!(
            "{error}: {}",
            query.error_description.as_deref().unwrap_or("")
        ));
    }
    let client = demo_client(state).map_err(|e| e.to_string())?;
    let rp_state = query.state.as_deref().ok_or("no state in the response")?;
    let pending: Pending = take_json(state.sessions.as_ref(), &format!("demo-rp:{rp_state}"))
        .await
        .map_err(|e| e.to_string())?
        .ok_or("unknown or reused state")?;
    if query.iss.as_deref() != Some(state.issuer()) {
        return Err("the iss parameter does not name this provider (RFC 9207)".into());
    }
    let code = query.code.as_deref().ok_or("no code in the response")?;
    let issuer = state.issuer();
    let tokens: serde_json::Value = state
        .http
        .post(format!("{issuer}/token"))
        .basic_auth(&client.client_id, Some(&client.client_secret))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", &format!("{issuer}/demo/callback")),
            ("code_verifier", &pending.verifier),
        ])
        .send()
        .await
        .map_err(|e| e.to_string())?
        .json()
        .await
        .map_err(|e| e.to_string())?;
    let id_token = tokens["id_token"]
        .as_str()
        .ok_or_else(|| format!("token endpoint answered {tokens}"))?;
    let access_token = tokens["access_token"].as_str().ok_or("no access token")?;
    let jwks: serde_json::Value = state
        .http
        .get(format!("{issuer}/jwks"))
        .send()
        .await
        .map_err(|e| e.to_string())?
        .json()
        .await
        .map_err(|e| e.to_string())?;
    let claims = verify_id_token(&jwks, id_token)
        .ok_or("the ID token signature does not verify against the JWKS")?;
    let now = crate::clock::now();
    if claims["iss"] != issuer
        || claims["aud"] != client.client_id.as_str()
        || claims["nonce"] != pending.nonce.as_str()
        || claims["exp"].as_i64().unwrap_or(0) <= now
    {
        return Err("the ID token's iss, aud, nonce or exp is wrong".into());
    }
    let userinfo: serde_json::Value = state
        .http
        .get(format!("{issuer}/userinfo"))
        .bearer_auth(access_token)
        .send()
        .await
        .map_err(|e| e.to_string())?
        .json()
        .await
        .map_err(|e| e.to_string())?;
    let mut logout = url::Url::parse(&format!("{issuer}/logout")).map_err(|e| e.to_string())?;
    logout
        .query_pairs_mut()
        .append_pair("id_token_hint", id_token)
        .append_pair("post_logout_redirect_uri", &format!("{issuer}/demo"));
    Ok(Received {
        id_token: claims,
        userinfo,
        logout_url: logout.to_string(),
    })
}

/// Verifies a compact JWS against a JWKS document the way any relying party would.
fn verify_id_token(jwks: &serde_json::Value, token: &str) -> Option<serde_json::Value> {
    use josekit::jwk::Jwk;
    use josekit::jws::{JwsVerifier, ES256, RS256};
    let header = josekit::jwt::decode_header(token).ok()?;
    let kid = header.claim("kid")?.as_str()?.to_owned();
    let key = jwks["keys"]
        .as_array()?
        .iter()
        .find(|k| k["kid"] == kid.as_str())?;
    let jwk = Jwk::from_map(key.as_object()?.clone()).ok()?;
    let verifier: Box<dyn JwsVerifier> = match key["alg"].as_str()? {
        "RS256" => Box::new(RS256.verifier_from_jwk(&jwk).ok()?),
        "ES256" => Box::new(ES256.verifier_from_jwk(&jwk).ok()?),
        _ => return None,
    };
    let (payload, _) = josekit::jws::deserialize_compact(token, verifier.as_ref()).ok()?;
    serde_json::from_slice(&payload).ok()
}
