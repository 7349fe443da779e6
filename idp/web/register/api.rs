//! `POST /register/lookup`: «Поиск» for the page's script. Request JSON
//! `{"csrf": …, "inn": …, "kind": "person" | "organization"}`; answer `{"name", "address",
//! "ugns_code"}` — no more than the form shows — or `{"error", "message"}` with a status
//! (403 without the page's CSRF token, 429 when the look-up budget is spent, 404 unknown
//! INN, 400 malformed INN, 503 registry down). Answers are built here, not from
//! [`Error`](crate::error::Error), so the page layer never turns them into HTML.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::super::browser::Browser;
use super::super::csrf;
use super::super::json::{answer as json, failure};
use crate::registration::guard::Requester;
use crate::registration::lookup::{self, LookupKind};
use crate::state::AppState;

#[derive(Deserialize)]
struct LookupRequest {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    inn: String,
    #[serde(default)]
    kind: String,
}

pub async fn lookup(State(state): State<AppState>, browser: Browser, body: Bytes) -> Response {
    let Ok(request) = serde_json::from_slice::<LookupRequest>(&body) else {
        return failure(
            &browser,
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "error.invalid_request",
        );
    };
    if !csrf::verify(state.keys.secret(), &browser.browser_id, &request.csrf) {
        return failure(&browser, StatusCode::FORBIDDEN, "csrf", "error.csrf");
    }
    let Some(kind) = LookupKind::parse(&request.kind) else {
        return failure(
            &browser,
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "error.invalid_request",
        );
    };
    let inn: String = request.inn.chars().take(64).collect();
    let who = Requester::new(
        &state,
        browser.client_ip,
        &browser.browser_id,
        browser.session_cookie.as_deref(),
    )
    .await;
    match lookup::lookup(&state, &who, kind, &inn, "json").await {
        Ok(Ok(found)) => json(
            StatusCode::OK,
            serde_json::json!({
                "name": found.name,
                "address": found.address,
                "ugns_code": found.ugns_code,
            }),
        ),
        Ok(Err(f)) => failure(
            &browser,
            StatusCode::from_u16(f.status()).unwrap_or(StatusCode::BAD_REQUEST),
            f.code(),
            f.message_key(),
        ),
        Err(e) => {
            let feedback = super::error_feedback(&e);
            failure(
                &browser,
                e.status,
                e.code.as_str(),
                feedback.alert.map_or("error.generic", |a| a.key),
            )
        }
    }
}
