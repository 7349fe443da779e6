//! JSON answers of the small APIs the pages' scripts call (`/register/lookup`,
//! `/api/esig/*`): never cached, and errors as `{"error": code, "message": localized text}`
//! so a script can show the message as it is.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use super::browser::Browser;

/// `body` with `status`, `Cache-Control: no-store`.
pub fn answer(status: StatusCode, body: serde_json::Value) -> Response {
    let mut response = (status, axum::Json(body)).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// An error: its stable `code` and the catalogue text of `key` in the browser's language.
pub fn failure(browser: &Browser, status: StatusCode, code: &str, key: &str) -> Response {
    answer(
        status,
        serde_json::json!({ "error": code, "message": browser.tr.t(key) }),
    )
}
