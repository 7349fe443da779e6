//! The electronic-signature JSON API that the «ЭП» tabs (and any other front end: a desktop
//! signer, a mobile app, `curl` + `openssl cms -sign`) talk to:
//!
//! - `POST /api/esig/challenge` `{"purpose":"signin","req":…}` | `{"purpose":"register"}` →
//!   `{"challenge","expires_in"}`;
//! - `POST /api/esig/signin` `{"req","challenge","cms"}` → `{"redirect"}` and the session
//!   cookie;
//! - `POST /api/esig/register` `{"challenge","cms","branch","head_inn"}` → `{"redirect"}`.
//!
//! Every call carries the page's CSRF token (header `X-CSRF-Token`, or `"csrf"` in the body)
//! and the browser cookie the challenge is bound to. Errors are `{"error": code, "message":
//! localized text}`; the codes are listed in the README. Answers are built here, never from
//! [`Error`] pages, so a front end always gets JSON.

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;

use super::browser::{append_cookie, Browser};
use super::json::{answer as json, failure};
use super::login::{audit_sign_in, start_session, ReqQuery};
use super::{cookies, csrf};
use crate::authn::signature::challenge::{self, Purpose};
use crate::authn::signature::verify::Presented;
use crate::authn::{LoginContext, Step, StepInput};
use crate::error::Error;
use crate::oidc::authorize::flow;
use crate::registration::signature::{self as registration, Registered};
use crate::state::AppState;

/// Challenges one browser may ask for per window (each costs a session-store entry).
const CHALLENGES_PER_BROWSER: u64 = 30;
const CHALLENGES_PER_IP: u64 = 300;
const CHALLENGE_WINDOW: Duration = Duration::from_secs(300);
/// How long the registration result page can be opened.
const RESULT_TTL: Duration = Duration::from_secs(600);

#[derive(Deserialize, Default)]
#[serde(default)]
struct ApiRequest {
    csrf: String,
    purpose: String,
    req: String,
    challenge: String,
    cms: String,
    branch: bool,
    head_inn: String,
}

/// A backend failure as JSON (503 when a backend is down, else 500), logged like any other.
fn backend_failure(browser: &Browser, error: Error) -> Response {
    if error.status == StatusCode::SERVICE_UNAVAILABLE {
        tracing::warn!(error = ?error, "signature API: backend unavailable");
        failure(
            browser,
            error.status,
            "temporarily_unavailable",
            "error.unavailable",
        )
    } else if error.status.is_client_error() {
        let key = error.message_key.unwrap_or("error.invalid_request");
        failure(browser, error.status, error.code.as_str(), key)
    } else {
        tracing::error!(error = ?error, "signature API failed");
        failure(
            browser,
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            "error.internal",
        )
    }
}

/// 401 for a signature that proves nothing; 503 when the revocation service could not be
/// asked, which is no fault of the signer's (they may try again).
fn refusal_status(code: &str) -> StatusCode {
    if code == "ocsp_unavailable" {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::UNAUTHORIZED
    }
}

/// Parses the body and checks the CSRF token; the `Err` is the answer to send.
fn accept(
    state: &AppState,
    browser: &Browser,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<ApiRequest, Box<Response>> {
    let Ok(request) = serde_json::from_slice::<ApiRequest>(body) else {
        return Err(Box::new(failure(
            browser,
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "error.invalid_request",
        )));
    };
    let presented = headers
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
        .unwrap_or(&request.csrf);
    if !csrf::verify(state.keys.secret(), &browser.browser_id, presented) {
        return Err(Box::new(failure(
            browser,
            StatusCode::FORBIDDEN,
            "csrf",
            "error.csrf",
        )));
    }
    Ok(request)
}

pub async fn challenge(
    State(state): State<AppState>,
    browser: Browser,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match accept(&state, &browser, &headers, &body) {
        Ok(request) => respond(&browser, issue(&state, &browser, request).await),
        Err(refused) => *refused,
    }
}

/// The answer to send: the handler's, or its backend failure as JSON.
fn respond(browser: &Browser, outcome: Result<Response, Error>) -> Response {
    outcome.unwrap_or_else(|e| backend_failure(browser, e))
}

async fn issue(state: &AppState, browser: &Browser, api: ApiRequest) -> Result<Response, Error> {
    let Some(purpose) = Purpose::parse(&api.purpose) else {
        return Ok(failure(
            browser,
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "error.invalid_request",
        ));
    };
    let request_id = match purpose {
        Purpose::SignIn => Some(flow::load_pending(state, &api.req).await?.id),
        Purpose::Register => None,
    };
    let per_browser = state
        .sessions
        .incr(
            &format!("esig:rl:b:{}", browser.browser_id),
            CHALLENGE_WINDOW,
        )
        .await?;
    let per_ip = state
        .sessions
        .incr(
            &format!("esig:rl:ip:{}", browser.client_ip),
            CHALLENGE_WINDOW,
        )
        .await?;
    if per_browser > CHALLENGES_PER_BROWSER || per_ip > CHALLENGES_PER_IP {
        return Ok(failure(
            browser,
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_requests",
            "esig.error.too_many_requests",
        ));
    }
    let now = crate::clock::now();
    let issued = challenge::issue(
        state.sessions.as_ref(),
        purpose,
        &browser.browser_id,
        request_id.as_deref(),
        now,
    )
    .await?;
    Ok(json(
        StatusCode::OK,
        serde_json::json!({ "challenge": issued.text, "expires_in": issued.expires_at - now }),
    ))
}

pub async fn sign_in(
    State(state): State<AppState>,
    browser: Browser,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match accept(&state, &browser, &headers, &body) {
        Ok(request) => respond(&browser, sign_in_with(&state, &browser, request).await),
        Err(refused) => *refused,
    }
}

async fn sign_in_with(
    state: &AppState,
    browser: &Browser,
    api: ApiRequest,
) -> Result<Response, Error> {
    let Some(method) = state.method("rutoken").cloned() else {
        return Ok(failure(
            browser,
            StatusCode::NOT_FOUND,
            "not_found",
            "error.not_found",
        ));
    };
    let mut request = flow::load_pending(state, &api.req).await?;
    let cx = LoginContext {
        client_ip: browser.client_ip,
        client_id: Some(request.client_id.clone()),
        browser_id: browser.browser_id.clone(),
        request_id: Some(request.id.clone()),
    };
    let fields = [
        ("challenge".to_owned(), api.challenge),
        ("cms".to_owned(), api.cms),
    ];
    match method
        .resume(&cx, &[], StepInput::Form(fields.into_iter().collect()))
        .await?
    {
        Step::Prompt { message, .. } => {
            audit_sign_in(state, method.id(), None, "", &cx).await;
            let key = message.unwrap_or("esig.error.malformed");
            let code = key.rsplit('.').next().unwrap_or("refused");
            Ok(failure(browser, refusal_status(code), code, key))
        }
        Step::Done(identity) => {
            audit_sign_in(state, method.id(), Some(&identity.user_id), "", &cx).await;
            let session_id = start_session(state, browser, &mut request, &identity).await?;
            flow::save_pending(state, &request).await?;
            let mut response = json(
                StatusCode::OK,
                serde_json::json!({ "redirect": flow::interaction_url("/login/continue", &request) }),
            );
            append_cookie(
                &mut response,
                &cookies::set(cookies::SESSION, &session_id, None, state.config.https()),
            );
            Ok(response)
        }
    }
}

/// `GET /login/continue?req=…`: where the page goes after the API signed it in; the flow
/// carries on as after a form sign-in (account choice, code to the client).
pub async fn continue_flow(
    State(state): State<AppState>,
    browser: Browser,
    Query(query): Query<ReqQuery>,
) -> Result<Response, Error> {
    let request = flow::load_pending(&state, &query.req).await?;
    flow::proceed(&state, browser.session_cookie.as_deref(), request).await
}

/// The session-store key of this browser's registration result ([`Registered`]), kept
/// there rather than in the address because it carries the new login.
pub fn result_key(browser_id: &str) -> String {
    format!("esig:registered:{browser_id}")
}

pub async fn register(
    State(state): State<AppState>,
    browser: Browser,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match accept(&state, &browser, &headers, &body) {
        Ok(request) => respond(&browser, register_with(&state, &browser, request).await),
        Err(refused) => *refused,
    }
}

async fn register_with(
    state: &AppState,
    browser: &Browser,
    api: ApiRequest,
) -> Result<Response, Error> {
    let presented = Presented {
        purpose: Purpose::Register,
        browser_id: &browser.browser_id,
        request_id: None,
        challenge: &api.challenge,
        cms: &api.cms,
    };
    let signer = match state.signatures.verify(&presented).await? {
        Ok(signer) => signer,
        Err(failure_) => {
            let key = crate::authn::signature::static_key(failure_.code());
            return Ok(failure(
                browser,
                refusal_status(failure_.code()),
                failure_.code(),
                key,
            ));
        }
    };
    let branch_of = api.branch.then_some(api.head_inn.as_str());
    let outcome = match registration::register(state, &signer, branch_of).await? {
        Ok(outcome) => outcome,
        Err(refusal) => {
            return Ok(failure(
                browser,
                StatusCode::CONFLICT,
                refusal.code(),
                refusal.message_key(),
            ));
        }
    };
    crate::session::put_json(
        state.sessions.as_ref(),
        &result_key(&browser.browser_id),
        &outcome,
        RESULT_TTL,
    )
    .await?;
    Ok(json(
        StatusCode::OK,
        serde_json::json!({ "redirect": "/register/signature/done" }),
    ))
}

#[derive(askama::Template)]
#[template(path = "register_signature_done.html")]
struct RegisteredView {
    tr: crate::web::i18n::Tr,
    lang_links: Vec<(String, String)>,
    outcome: Option<Registered>,
}

/// `GET /register/signature/done`: what the registration by signature did, for the browser
/// that did it (the new login is shown once more on reload, for ten minutes).
pub async fn registered_page(
    State(state): State<AppState>,
    browser: Browser,
) -> Result<Response, Error> {
    let outcome: Option<Registered> =
        crate::session::get_json(state.sessions.as_ref(), &result_key(&browser.browser_id)).await?;
    Ok(super::browser::render(&RegisteredView {
        tr: browser.tr,
        lang_links: browser.lang_links.clone(),
        outcome,
    }))
}
