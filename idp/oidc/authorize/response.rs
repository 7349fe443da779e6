//! The authorization response (RFC 6749 §4.1.2 and §4.1.2.1) in `query` or `form_post`
//! response mode (OAuth 2.0 Form Post Response Mode), always with `iss` (RFC 9207).

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use super::request::{ErrorTarget, ResponseMode};
use crate::error::Error;
use crate::web::views::FormPostView;

/// Sends `params` to the client's redirect URI.
pub fn to_client(
    issuer: &str,
    redirect_uri: &str,
    mode: ResponseMode,
    mut params: Vec<(&str, String)>,
) -> Response {
    params.push(("iss", issuer.to_owned()));
    match mode {
        ResponseMode::Query => {
            let mut url = match url::Url::parse(redirect_uri) {
                Ok(url) => url,
                Err(_) => {
                    return (StatusCode::INTERNAL_SERVER_ERROR, "bad redirect_uri").into_response()
                }
            };
            {
                let mut pairs = url.query_pairs_mut();
                for (k, v) in &params {
                    pairs.append_pair(k, v);
                }
            }
            let mut response = StatusCode::SEE_OTHER.into_response();
            if let Ok(location) = HeaderValue::from_str(url.as_str()) {
                response.headers_mut().insert(header::LOCATION, location);
            }
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        ResponseMode::FormPost => {
            let nonce = crate::security::random_token(16);
            let view = FormPostView {
                action: redirect_uri.to_owned(),
                fields: params.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
                nonce: nonce.clone(),
            };
            let mut response = crate::web::browser::render(&view);
            let csp = format!("default-src 'none'; script-src 'nonce-{nonce}'; frame-ancestors 'none'; base-uri 'none'");
            if let Ok(value) = HeaderValue::from_str(&csp) {
                response
                    .headers_mut()
                    .insert(header::CONTENT_SECURITY_POLICY, value);
            }
            response
        }
    }
}

/// Sends an error to the client (only after its redirect URI was verified).
pub fn error_to_client(issuer: &str, target: &ErrorTarget, error: &Error) -> Response {
    let mut params = vec![
        ("error", error.code.as_str().to_owned()),
        ("error_description", error.description.to_string()),
    ];
    if let Some(state) = &target.state {
        params.push(("state", state.clone()));
    }
    to_client(issuer, &target.redirect_uri, target.response_mode, params)
}
