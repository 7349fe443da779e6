//! `GET|POST /logout` (OpenID Connect RP-Initiated Logout 1.0) and `POST /logout/confirm`.
//!
//! With a valid `id_token_hint` from the current session (its `sid`) the session ends at
//! once; otherwise the user confirms (§2: the OP must ask when there is no hint or the hint
//! does not belong to the current session, so a third party cannot log users out). `post_logout_redirect_uri` must be registered for the client named by the hint or
//! `client_id` (exact match), else an error page; `state` is passed back.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;

use super::params::Params;
use crate::error::Error;
use crate::state::AppState;
use crate::web::browser::{append_cookie, render, Browser};
use crate::web::cookies;
use crate::web::login::check_csrf;
use crate::web::views::{LogoutView, MessageView};

/// Where to go after logout, once validated.
struct After {
    client_id: Option<String>,
    redirect: Option<String>,
    state: Option<String>,
}

async fn validate(
    state: &AppState,
    client_id: Option<&str>,
    hint_client: Option<&str>,
    redirect: Option<&str>,
    client_state: Option<&str>,
) -> Result<After, Error> {
    let bad = |d: &'static str| Error::invalid_request(d).with_message("error.redirect_uri");
    if let (Some(a), Some(b)) = (client_id, hint_client) {
        if a != b {
            return Err(Error::invalid_request(
                "client_id does not match the id_token_hint",
            ));
        }
    }
    let client_id = client_id.or(hint_client).map(str::to_owned);
    let Some(uri) = redirect else {
        return Ok(After {
            client_id,
            redirect: None,
            state: None,
        });
    };
    let Some(id) = client_id.as_deref() else {
        return Err(bad(
            "post_logout_redirect_uri needs id_token_hint or client_id",
        ));
    };
    let client = state
        .store
        .client(id)
        .await?
        .filter(|c| !c.disabled)
        .ok_or_else(|| bad("unknown client"))?;
    if !client.post_logout_redirect_uris.iter().any(|u| u == uri) {
        return Err(bad(
            "post_logout_redirect_uri is not registered for this client",
        ));
    }
    Ok(After {
        client_id,
        redirect: Some(uri.to_owned()),
        state: client_state.map(str::to_owned),
    })
}

fn finish(state: &AppState, browser: &Browser, after: &After, ended: bool) -> Response {
    let mut response = match &after.redirect {
        // Registered URIs were checked to be absolute URLs when the client was created.
        Some(uri) if url::Url::parse(uri).is_ok() => {
            let mut url = url::Url::parse(uri).unwrap_or_else(|_| unreachable!("checked above"));
            if let Some(s) = &after.state {
                url.query_pairs_mut().append_pair("state", s);
            }
            Redirect::to(url.as_str()).into_response()
        }
        _ => render(&MessageView {
            tr: browser.tr,
            lang_links: browser.lang_links.clone(),
            title_key: "logout.title",
            message_key: "logout.done",
        }),
    };
    if ended {
        append_cookie(
            &mut response,
            &cookies::clear(cookies::SESSION, state.config.https()),
        );
    }
    response
}

async fn end_current(state: &AppState, browser: &Browser) -> Result<bool, Error> {
    match browser.session_cookie.as_deref() {
        Some(id) => {
            crate::sso::end(state, id).await?;
            Ok(true)
        }
        None => Ok(false),
    }
}

pub async fn get(
    State(state): State<AppState>,
    browser: Browser,
    RawQuery(query): RawQuery,
) -> Result<Response, Error> {
    handle(&state, &browser, query.unwrap_or_default().as_bytes()).await
}

pub async fn post(
    State(state): State<AppState>,
    browser: Browser,
    body: Bytes,
) -> Result<Response, Error> {
    handle(&state, &browser, &body).await
}

async fn handle(state: &AppState, browser: &Browser, raw: &[u8]) -> Result<Response, Error> {
    let params = Params::parse(raw)?;
    let hint = match params.get("id_token_hint") {
        Some(token) => Some(
            crate::tokens::verify_id_token_hint(&state.keys.current(), state.issuer(), token)
                .ok_or_else(|| {
                    Error::invalid_request(
                        "id_token_hint is not a valid ID token from this provider",
                    )
                })?,
        ),
        None => None,
    };
    let after = validate(
        state,
        params.get("client_id"),
        hint.as_ref().and_then(|h| h.client_id()),
        params.get("post_logout_redirect_uri"),
        params.get("state"),
    )
    .await?;
    let session = crate::sso::find(state, browser.session_cookie.as_deref()).await?;
    match (&session, &hint) {
        (None, _) => Ok(finish(
            state,
            browser,
            &after,
            browser.session_cookie.is_some(),
        )),
        (Some(s), Some(h)) if s.user_id == h.sub && h.sid.as_deref() == Some(s.sid().as_str()) => {
            crate::sso::end(state, &s.id).await?;
            Ok(finish(state, browser, &after, true))
        }
        _ => {
            let mut fields = Vec::new();
            if let Some(id) = &after.client_id {
                fields.push(("client_id".to_owned(), id.clone()));
            }
            if let Some(uri) = &after.redirect {
                fields.push(("post_logout_redirect_uri".to_owned(), uri.clone()));
            }
            if let Some(s) = &after.state {
                fields.push(("state".to_owned(), s.clone()));
            }
            Ok(render(&LogoutView {
                tr: browser.tr,
                lang_links: browser.lang_links.clone(),
                csrf: browser.csrf.clone(),
                fields,
            }))
        }
    }
}

pub async fn confirm(
    State(state): State<AppState>,
    browser: Browser,
    Form(fields): Form<HashMap<String, String>>,
) -> Result<Response, Error> {
    check_csrf(&state, &browser, &fields)?;
    if fields.get("action").map(String::as_str) != Some("logout") {
        return Ok(Redirect::to("/").into_response());
    }
    let get = |k: &str| fields.get(k).map(String::as_str).filter(|v| !v.is_empty());
    let after = validate(
        &state,
        get("client_id"),
        None,
        get("post_logout_redirect_uri"),
        get("state"),
    )
    .await?;
    let ended = end_current(&state, &browser).await?;
    Ok(finish(&state, &browser, &after, ended))
}
