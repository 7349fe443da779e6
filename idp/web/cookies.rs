//! Reading the `Cookie` header and writing `Set-Cookie` with the provider's flags:
//! `HttpOnly`, `SameSite=Lax`, `Path=/`, and `Secure` whenever the issuer is https.

use axum::http::{header, HeaderMap};

/// Name of the SSO session cookie.
pub const SESSION: &str = "salyk_session";
/// Name of the browser-id cookie that CSRF tokens are bound to.
pub const BROWSER: &str = "salyk_browser";
/// Name of the language cookie.
pub const LANG: &str = "salyk_lang";

/// The value of cookie `name`, if sent.
pub fn get<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
}

/// A `Set-Cookie` value. `max_age: None` makes a browser-session cookie.
pub fn set(name: &str, value: &str, max_age: Option<u64>, secure: bool) -> String {
    let mut cookie = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax");
    if let Some(age) = max_age {
        cookie.push_str(&format!("; Max-Age={age}"));
    }
    if secure {
        cookie.push_str("; Secure");
    }
    cookie
}

/// A `Set-Cookie` value that deletes the cookie.
pub fn clear(name: &str, secure: bool) -> String {
    set(name, "", Some(0), secure)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn reads_among_several() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; salyk_session=xyz; b=2"),
        );
        assert_eq!(get(&headers, SESSION), Some("xyz"));
        assert_eq!(get(&headers, "c"), None);
    }

    #[test]
    fn flags() {
        let c = set(SESSION, "v", None, true);
        assert!(c.contains("HttpOnly") && c.contains("SameSite=Lax") && c.contains("Secure"));
        assert!(!set(SESSION, "v", None, false).contains("Secure"));
    }
}
