//! Per-request browser context for page routes: the browser-id cookie (issued on first
//! visit; CSRF tokens are bound to it), the UI language (`?lang=` switch → cookie,
//! `ui_locales`, cookie, `Accept-Language`, default Russian), the language-switch links,
//! and the HTML rendering of errors that handlers return as [`crate::error::Error`].

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};

use super::cookies;
use super::i18n::{Lang, Tr};
use super::views::ErrorView;
use crate::error::{ErrorCode, PageErrorInfo};
use crate::state::AppState;

/// What a page handler knows about the browser.
#[derive(Debug, Clone)]
pub struct Browser {
    pub browser_id: String,
    pub tr: Tr,
    pub lang_links: Vec<(String, String)>,
    pub session_cookie: Option<String>,
    pub csrf: String,
    /// The client's address: the peer, or behind a trusted proxy the forwarded address.
    pub client_ip: IpAddr,
}

impl<S: Send + Sync> FromRequestParts<S> for Browser {
    type Rejection = StatusCode;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Browser>()
            .cloned()
            .ok_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

fn query_param(query: Option<&str>, name: &str) -> Option<String> {
    form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// Links to the current page in each language.
fn lang_links(path: &str, query: Option<&str>) -> Vec<(String, String)> {
    [Lang::Ru, Lang::Ky, Lang::En]
        .into_iter()
        .map(|lang| {
            let mut out = form_urlencoded::Serializer::new(String::new());
            for (k, v) in form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
                if k != "lang" {
                    out.append_pair(&k, &v);
                }
            }
            out.append_pair("lang", lang.code());
            (lang.code().to_owned(), format!("{path}?{}", out.finish()))
        })
        .collect()
}

/// The client address for throttling and audit. `X-Forwarded-For` is read only when the
/// peer is a configured proxy, from the right, skipping other trusted proxies: entries to the
/// left of the first untrusted one could have been written by the client itself.
pub fn client_ip(peer: IpAddr, headers: &axum::http::HeaderMap, trusted: &[IpAddr]) -> IpAddr {
    if !trusted.contains(&peer) {
        return peer;
    }
    let forwarded = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect::<Vec<_>>();
    for entry in forwarded.iter().rev() {
        match entry.parse::<IpAddr>() {
            Ok(ip) if trusted.contains(&ip) => continue,
            Ok(ip) => return ip,
            Err(_) => break,
        }
    }
    peer
}

/// Middleware for page routes.
pub async fn layer(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let headers = request.headers();
    let existing = cookies::get(headers, cookies::BROWSER)
        .filter(|v| v.len() >= 16 && v.len() <= 64)
        .map(str::to_owned);
    let new_browser = existing.is_none();
    let browser_id = existing.unwrap_or_else(|| crate::security::random_token(24));
    let query = request.uri().query().map(str::to_owned);
    let switched = query_param(query.as_deref(), "lang").and_then(|l| Lang::parse(&l));
    let ui_locales = query_param(query.as_deref(), "ui_locales");
    let lang = switched.unwrap_or_else(|| {
        Lang::negotiate(
            ui_locales.as_deref(),
            cookies::get(headers, cookies::LANG),
            headers
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok()),
        )
    });
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let client_ip = client_ip(
        peer.unwrap_or(IpAddr::from([0, 0, 0, 0])),
        request.headers(),
        &state.config.trusted_proxies,
    );
    let headers = request.headers();
    let browser = Browser {
        client_ip,
        csrf: super::csrf::token(state.keys.secret(), &browser_id),
        browser_id: browser_id.clone(),
        tr: Tr::new(lang),
        lang_links: lang_links(request.uri().path(), query.as_deref()),
        session_cookie: cookies::get(headers, cookies::SESSION).map(str::to_owned),
    };
    request.extensions_mut().insert(browser.clone());

    let mut response = next.run(request).await;
    if let Some(info) = response.extensions().get::<PageErrorInfo>().cloned() {
        let status = response.status();
        response = error_page(&browser, &info, status);
    }
    let secure = state.config.https();
    if new_browser {
        append_cookie(
            &mut response,
            &cookies::set(cookies::BROWSER, &browser_id, None, secure),
        );
    }
    if let Some(lang) = switched {
        append_cookie(
            &mut response,
            &cookies::set(cookies::LANG, lang.code(), Some(365 * 86_400), secure),
        );
    }
    response
}

pub fn append_cookie(response: &mut Response, cookie: &str) {
    if let Ok(value) = HeaderValue::from_str(cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
}

fn error_page(browser: &Browser, info: &PageErrorInfo, status: StatusCode) -> Response {
    let key = info.message_key.unwrap_or(match info.code {
        ErrorCode::NotFound => "error.not_found",
        ErrorCode::TemporarilyUnavailable => "error.unavailable",
        ErrorCode::TooManyRequests => "error.too_many",
        ErrorCode::ServerError => "error.generic",
        _ => "error.invalid_request",
    });
    let view = ErrorView {
        tr: browser.tr,
        lang_links: browser.lang_links.clone(),
        message: browser.tr.t(key),
        code: info.code.as_str(),
        description: info.description.clone(),
    };
    let mut response = render(&view).into_response();
    *response.status_mut() = status;
    if status == StatusCode::SERVICE_UNAVAILABLE {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
    }
    response
}

/// Renders a page; pages carry CSRF tokens and personal data, so they are never cached.
pub fn render(template: &impl askama::Template) -> Response {
    match template.render() {
        Ok(html) => {
            let mut response = Html(html).into_response();
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        Err(e) => {
            tracing::error!(error = %e, "template rendering failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::client_ip;
    use axum::http::{HeaderMap, HeaderValue};
    use std::net::IpAddr;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn forwarded_for_only_from_trusted_proxies() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-forwarded-for",
            HeaderValue::from_static("1.1.1.1, 203.0.113.7, 10.0.0.2"),
        );
        let trusted = [ip("10.0.0.1"), ip("10.0.0.2")];
        assert_eq!(
            client_ip(ip("10.0.0.1"), &headers, &trusted),
            ip("203.0.113.7"),
            "rightmost untrusted entry"
        );
        assert_eq!(
            client_ip(ip("198.51.100.1"), &headers, &trusted),
            ip("198.51.100.1"),
            "untrusted peer: header ignored"
        );
        assert_eq!(
            client_ip(ip("10.0.0.1"), &HeaderMap::new(), &trusted),
            ip("10.0.0.1")
        );
    }
}
