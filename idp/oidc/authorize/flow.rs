//! The interactive part of an authorization request:
//!
//! ```text
//! /authorize ─ parse ─► proceed ─┬─ no usable session ──► /login?req=…   (sign-in page)
//!                                ├─ account to choose ──► /login/account?req=…
//!                                └─ all known ──────────► complete: code → client
//! /login/{method} (success) ─────► proceed (signed_in_here)
//! /login/account (choice) ───────► complete
//! ```
//! The pending request lives in the session store (`authz:{id}`), so any process can carry
//! on a flow another one started.

use std::time::Duration;

use axum::response::{IntoResponse, Redirect, Response};

use super::request::{AuthorizationRequest, ErrorTarget};
use super::response::{error_to_client, to_client};
use crate::accounts::{self, Account};
use crate::error::{Error, ErrorCode};
use crate::oidc::token::authorization_code::{issue_code, CodeData};
use crate::session::{get_json, put_json};
use crate::sso::{self, SsoSession};
use crate::state::AppState;
use crate::store::{AccountKind, Consent, User};

/// How long a user has to finish signing in.
const PENDING_TTL: Duration = Duration::from_secs(30 * 60);

fn pending_key(id: &str) -> String {
    format!("authz:{id}")
}

pub async fn save_pending(state: &AppState, request: &AuthorizationRequest) -> Result<(), Error> {
    put_json(
        state.sessions.as_ref(),
        &pending_key(&request.id),
        request,
        PENDING_TTL,
    )
    .await?;
    Ok(())
}

/// The pending request `id`, or the "request expired" page.
pub async fn load_pending(state: &AppState, id: &str) -> Result<AuthorizationRequest, Error> {
    let found = if id.is_empty() || id.len() > 64 {
        None
    } else {
        get_json(state.sessions.as_ref(), &pending_key(id)).await?
    };
    found.ok_or_else(|| {
        Error::invalid_request("the sign-in request is unknown or expired")
            .with_message("error.request_expired")
    })
}

/// Starts a first-party sign-in that returns to `return_to` (a local path such as
/// `/inspector`): the same sign-in page and methods as for clients, no code, no account
/// choice. `prompt_login` asks for the password even when a session exists.
pub async fn start_local_sign_in(
    state: &AppState,
    return_to: &str,
    prompt_login: bool,
) -> Result<Response, Error> {
    if !return_to.starts_with('/') || return_to.starts_with("//") || return_to.contains('\\') {
        return Err(Error::invalid_request("return path must be a local path"));
    }
    let request = AuthorizationRequest {
        id: crate::security::random_token(24),
        client_id: String::new(),
        client_name: "Salyk ID".into(),
        redirect_uri: String::new(),
        response_mode: super::request::ResponseMode::Query,
        scopes: vec!["openid".into()],
        state: None,
        nonce: None,
        code_challenge: None,
        prompt: if prompt_login {
            vec!["login".into()]
        } else {
            Vec::new()
        },
        max_age: None,
        login_hint: None,
        hinted_sub: None,
        acr_values: Vec::new(),
        ui_locales: None,
        signed_in_here: false,
        require_organization: false,
        local_return: Some(return_to.to_owned()),
    };
    save_pending(state, &request).await?;
    Ok(Redirect::to(&interaction_url("/login", &request)).into_response())
}

/// A page of the flow for `request`, keeping the client's `ui_locales`.
pub fn interaction_url(path: &str, request: &AuthorizationRequest) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    query.append_pair("req", &request.id);
    if let Some(locales) = &request.ui_locales {
        query.append_pair("ui_locales", locales);
    }
    format!("{path}?{}", query.finish())
}

/// Sends an error for `request` back to its client and forgets the request.
pub async fn fail(
    state: &AppState,
    request: &AuthorizationRequest,
    error: Error,
) -> Result<Response, Error> {
    state.sessions.delete(&pending_key(&request.id)).await?;
    if request.local_return.is_some() {
        return Ok(Redirect::to("/").into_response());
    }
    let target = ErrorTarget {
        redirect_uri: request.redirect_uri.clone(),
        response_mode: request.response_mode,
        state: request.state.clone(),
    };
    Ok(error_to_client(state.issuer(), &target, &error))
}

/// The signed-in user behind a session, if the session is alive and the user may sign in.
pub async fn session_user(
    state: &AppState,
    session_cookie: Option<&str>,
) -> Result<Option<(SsoSession, User)>, Error> {
    let Some(session) = sso::find(state, session_cookie).await? else {
        return Ok(None);
    };
    match state
        .store
        .user_by_id(&session.user_id)
        .await?
        .filter(|u| !u.blocked)
    {
        Some(user) => Ok(Some((session, user))),
        None => Ok(None),
    }
}

/// The accounts this request may use.
pub async fn offered_accounts(
    state: &AppState,
    request: &AuthorizationRequest,
    user: &User,
) -> Result<Vec<Account>, Error> {
    let mut all = accounts::accounts_of(state.store.as_ref(), user).await?;
    if request.require_organization {
        all.retain(|a| a.kind != AccountKind::Individual);
    }
    Ok(all)
}

fn session_satisfies(request: &AuthorizationRequest, session: &SsoSession, user: &User) -> bool {
    if request.signed_in_here {
        return true;
    }
    if request.has_prompt("login") {
        return false;
    }
    if let Some(max_age) = request.max_age {
        // OIDC Core §3.1.2.1: max_age=0 is prompt=login, even within the second of signing in.
        if max_age == 0 || crate::clock::now() - session.auth_time > max_age {
            return false;
        }
    }
    if request
        .required_assurance()
        .is_some_and(|required| session.assurance() < required)
    {
        return false;
    }
    request
        .hinted_sub
        .as_ref()
        .is_none_or(|sub| *sub == user.id)
}

/// Carries a request forward as far as it can go without the user.
pub async fn proceed(
    state: &AppState,
    session_cookie: Option<&str>,
    request: AuthorizationRequest,
) -> Result<Response, Error> {
    let current = session_user(state, session_cookie).await?;
    let Some((session, user)) = current.filter(|(s, u)| session_satisfies(&request, s, u)) else {
        if request.has_prompt("none") {
            return fail(
                state,
                &request,
                Error::new(ErrorCode::LoginRequired, "the user must sign in"),
            )
            .await;
        }
        save_pending(state, &request).await?;
        return Ok(Redirect::to(&interaction_url("/login", &request)).into_response());
    };
    if let Some(path) = &request.local_return {
        state.sessions.delete(&pending_key(&request.id)).await?;
        return Ok(Redirect::to(path).into_response());
    }

    let offered = offered_accounts(state, &request, &user).await?;
    let consent = state.store.consent(&user.id, &request.client_id).await?;
    let remembered = consent
        .filter(|c| request.scopes.iter().all(|s| c.scopes.contains(s)))
        .and_then(|c| offered.iter().find(|a| a.key == c.account_key).cloned());
    let must_ask = request.has_prompt("consent") || request.has_prompt("select_account");
    match remembered {
        Some(account) if !must_ask => complete(state, &request, &session, &user, &account).await,
        _ if request.has_prompt("none") => {
            let code = if offered.len() > 1 {
                ErrorCode::AccountSelectionRequired
            } else {
                ErrorCode::ConsentRequired
            };
            fail(
                state,
                &request,
                Error::new(code, "the user must choose an account and consent"),
            )
            .await
        }
        _ => {
            save_pending(state, &request).await?;
            Ok(Redirect::to(&interaction_url("/login/account", &request)).into_response())
        }
    }
}

/// Records the choice and sends the code to the client.
pub async fn complete(
    state: &AppState,
    request: &AuthorizationRequest,
    session: &SsoSession,
    user: &User,
    account: &Account,
) -> Result<Response, Error> {
    let now = crate::clock::now();
    state
        .store
        .save_consent(&Consent {
            user_id: user.id.clone(),
            client_id: request.client_id.clone(),
            account_key: account.key.clone(),
            scopes: request.scopes.clone(),
            updated_at: now,
        })
        .await?;
    let data = CodeData {
        client_id: request.client_id.clone(),
        redirect_uri: request.redirect_uri.clone(),
        code_challenge: request.code_challenge.clone(),
        nonce: request.nonce.clone(),
        user_id: user.id.clone(),
        account_key: account.key.clone(),
        scopes: request.scopes.clone(),
        auth: session.auth_context(),
    };
    let code = issue_code(state, &data).await?;
    state.sessions.delete(&pending_key(&request.id)).await?;
    let mut params = vec![("code", code)];
    if let Some(client_state) = &request.state {
        params.push(("state", client_state.clone()));
    }
    Ok(to_client(
        state.issuer(),
        &request.redirect_uri,
        request.response_mode,
        params,
    ))
}
