//! `GET|POST /authorize` (RFC 6749 §4.1.1, OIDC Core §3.1.2): parse and check the request
//! (`request`), then hand it to the interactive flow (`flow`), which answers the client
//! (`response`).

pub mod flow;
pub mod request;
pub mod response;

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap};
use axum::response::Response;

use crate::error::Error;
use crate::state::AppState;
use crate::web::browser::Browser;
use request::Rejection;

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
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Error> {
    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return Err(Error::invalid_request(
            "the body must be application/x-www-form-urlencoded",
        ));
    }
    handle(&state, &browser, &body).await
}

async fn handle(state: &AppState, browser: &Browser, raw: &[u8]) -> Result<Response, Error> {
    match request::parse(state, raw).await {
        Ok(request) => flow::proceed(state, browser.session_cookie.as_deref(), request).await,
        Err(Rejection::Page(error)) => Err(error),
        Err(Rejection::Redirect(target, error)) => {
            Ok(response::error_to_client(state.issuer(), &target, &error))
        }
    }
}
