//! The sign-in page (`GET /login?req=…`) and sign-in method posts (`POST /login/{method}`).
//! The page lists every method as a tab; a method's form posts back here, the method decides,
//! and on success an SSO session starts and the authorization flow carries on.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Form;
use serde::Deserialize;

use super::browser::{append_cookie, render, Browser};
use super::i18n::Lang;
use super::views::{EsigForm, LoginView, MethodTab};
use super::{cookies, csrf};
use crate::authn::{Assurance, LoginContext, Step, StepInput};
use crate::error::Error;
use crate::oidc::authorize::flow;
use crate::oidc::authorize::request::AuthorizationRequest;
use crate::state::AppState;

#[derive(Deserialize)]
pub struct ReqQuery {
    #[serde(default)]
    pub req: String,
    /// The sign-in method tab to show (default: the first one).
    #[serde(default)]
    pub method: Option<String>,
}

/// Every method the cabinet knows, in the manual's order; those not built yet are shown
/// disabled so the page already has its final shape.
const TABS: [(&str, &str); 5] = [
    ("password", "login.tab.password"),
    ("rutoken", "login.tab.signature"),
    ("smartid", "login.tab.smartid"),
    ("cloud", "login.tab.cloud"),
    ("esi", "login.tab.esi"),
];

fn view(
    state: &AppState,
    browser: &Browser,
    request: &AuthorizationRequest,
    active: &str,
    login: String,
    error: Option<&'static str>,
) -> LoginView {
    LoginView {
        tr: browser.tr,
        lang_links: lang_links(request, active),
        csrf: browser.csrf.clone(),
        req: request.id.clone(),
        action: flow::interaction_url(&format!("/login/{active}"), request),
        client_name: request.client_name.clone(),
        login,
        error,
        needs_higher_level: request
            .required_assurance()
            .is_some_and(|a| a > Assurance::Low),
        tabs: TABS
            .iter()
            .map(|(id, label_key)| MethodTab {
                id,
                label_key,
                active: *id == active,
                available: state.method(id).is_some(),
            })
            .collect(),
        esig: (active == "rutoken").then(|| EsigForm {
            purpose: "signin",
            req: request.id.clone(),
            demo_token: state.config.demo_token,
        }),
    }
}

/// The language switch of the sign-in page points at its GET address (`/login?req=…`), not at
/// the request's own: after a failed `POST /login/{method}` the browser's address is the
/// POST's, and a GET there is 405. A tab other than the first stays open (`&method=`).
fn lang_links(request: &AuthorizationRequest, active: &str) -> Vec<(String, String)> {
    let mut page = flow::interaction_url("/login", request);
    if active != TABS[0].0 {
        page.push_str(&format!("&method={active}"));
    }
    Lang::ALL
        .iter()
        .map(|lang| {
            (
                lang.code().to_owned(),
                format!("{page}&lang={}", lang.code()),
            )
        })
        .collect()
}

/// Checks the form's CSRF token against the browser cookie.
pub fn check_csrf(
    state: &AppState,
    browser: &Browser,
    fields: &HashMap<String, String>,
) -> Result<(), Error> {
    let presented = fields.get(csrf::FIELD).map(String::as_str).unwrap_or("");
    if csrf::verify(state.keys.secret(), &browser.browser_id, presented) {
        Ok(())
    } else {
        Err(Error::invalid_request("missing or invalid CSRF token")
            .with_status(StatusCode::FORBIDDEN)
            .with_message("error.csrf"))
    }
}

pub async fn page(
    State(state): State<AppState>,
    browser: Browser,
    Query(query): Query<ReqQuery>,
) -> Result<Response, Error> {
    let request = flow::load_pending(&state, &query.req).await?;
    let login = request.login_hint.clone().unwrap_or_default();
    let active = query
        .method
        .as_deref()
        .and_then(|m| state.method(m))
        .map_or("password", |m| m.id());
    Ok(render(&view(
        &state, &browser, &request, active, login, None,
    )))
}

pub async fn submit(
    State(state): State<AppState>,
    browser: Browser,
    Path(method_id): Path<String>,
    Form(fields): Form<HashMap<String, String>>,
) -> Result<Response, Error> {
    check_csrf(&state, &browser, &fields)?;
    let method = state
        .method(&method_id)
        .ok_or_else(Error::not_found)?
        .clone();
    let mut request =
        flow::load_pending(&state, fields.get("req").map(String::as_str).unwrap_or("")).await?;
    let cx = LoginContext {
        client_ip: browser.client_ip,
        client_id: Some(request.client_id.clone()),
        browser_id: browser.browser_id.clone(),
        request_id: Some(request.id.clone()),
    };
    let login = fields.get("login").cloned().unwrap_or_default();
    match method.resume(&cx, &[], StepInput::Form(fields)).await? {
        Step::Prompt { message, .. } => {
            audit_sign_in(&state, &method_id, None, &login, &cx).await;
            Ok(render(&view(
                &state, &browser, &request, &method_id, login, message,
            )))
        }
        Step::Done(identity) => {
            audit_sign_in(&state, &method_id, Some(&identity.user_id), &login, &cx).await;
            if request
                .required_assurance()
                .is_some_and(|required| identity.assurance < required)
            {
                // Step-up: the client asked for a level this method does not reach.
                let signature = state
                    .method("rutoken")
                    .map_or(method_id.as_str(), |m| m.id());
                return Ok(render(&view(
                    &state,
                    &browser,
                    &request,
                    signature,
                    login,
                    Some(STEP_UP_MESSAGE),
                )));
            }
            let session_id = start_session(&state, &browser, &mut request, &identity).await?;
            let mut response = flow::proceed(&state, Some(&session_id), request)
                .await?
                .into_response();
            append_cookie(
                &mut response,
                &cookies::set(cookies::SESSION, &session_id, None, state.config.https()),
            );
            Ok(response)
        }
    }
}

/// Shown when a sign-in succeeded below the level the client asked for with `acr_values`.
pub const STEP_UP_MESSAGE: &str = "login.error.higher_level_required";

/// After a method succeeded: ends the browser's previous session, starts a new one for
/// `identity` and marks `request` as signed in here. Returns the new session id, which the
/// caller sets as the session cookie.
pub async fn start_session(
    state: &AppState,
    browser: &Browser,
    request: &mut AuthorizationRequest,
    identity: &crate::authn::Identity,
) -> Result<String, Error> {
    if let Some(old) = browser.session_cookie.as_deref() {
        crate::sso::end(state, old).await?;
    }
    let session = crate::sso::start(state, identity).await?;
    request.signed_in_here = true;
    Ok(session.id)
}

/// D6: every sign-in attempt, success or failure, with its method. A failed attempt records
/// the login typed (not the password).
pub async fn audit_sign_in(
    state: &AppState,
    method: &str,
    user_id: Option<&str>,
    login: &str,
    cx: &LoginContext,
) {
    let event = crate::store::AuditEvent {
        at: crate::clock::now(),
        kind: if user_id.is_some() {
            "sign_in.success".into()
        } else {
            "sign_in.failure".into()
        },
        actor: user_id.map(str::to_owned),
        subject: cx.client_id.clone(),
        detail: serde_json::json!({ "method": method, "login": login, "ip": cx.client_ip.to_string() }),
    };
    if let Err(e) = state.store.record(&event).await {
        tracing::warn!(error = %e, "audit event not recorded");
    }
}
