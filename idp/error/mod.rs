//! The one error type of the request cycle.
//!
//! An [`Error`] carries an RFC 6749 error code, a public description, an HTTP status and,
//! privately, the cause (logged, never sent). Protocol endpoints render it as RFC 6749 §5.2
//! JSON; page routes are wrapped by `web::pages::render_error_pages`, which turns the same
//! value into a localized HTML page. So a handler never decides the format: its router does.

use std::borrow::Cow;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::session::SessionError;
use crate::store::StoreError;

/// The error codes of RFC 6749 §4.1.2.1 / §5.2, RFC 6750 §3.1 and OIDC Core §3.1.2.6.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    InvalidRequest,
    InvalidClient,
    InvalidGrant,
    UnauthorizedClient,
    UnsupportedGrantType,
    UnsupportedResponseType,
    UnsupportedTokenType,
    InvalidScope,
    AccessDenied,
    ServerError,
    TemporarilyUnavailable,
    LoginRequired,
    InteractionRequired,
    ConsentRequired,
    AccountSelectionRequired,
    InvalidToken,
    InsufficientScope,
    RequestNotSupported,
    RequestUriNotSupported,
    RegistrationNotSupported,
    /// Not an OAuth code: a page that does not exist.
    NotFound,
    /// Not an OAuth code: too many attempts.
    TooManyRequests,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidRequest => "invalid_request",
            ErrorCode::InvalidClient => "invalid_client",
            ErrorCode::InvalidGrant => "invalid_grant",
            ErrorCode::UnauthorizedClient => "unauthorized_client",
            ErrorCode::UnsupportedGrantType => "unsupported_grant_type",
            ErrorCode::UnsupportedResponseType => "unsupported_response_type",
            ErrorCode::UnsupportedTokenType => "unsupported_token_type",
            ErrorCode::InvalidScope => "invalid_scope",
            ErrorCode::AccessDenied => "access_denied",
            ErrorCode::ServerError => "server_error",
            ErrorCode::TemporarilyUnavailable => "temporarily_unavailable",
            ErrorCode::LoginRequired => "login_required",
            ErrorCode::InteractionRequired => "interaction_required",
            ErrorCode::ConsentRequired => "consent_required",
            ErrorCode::AccountSelectionRequired => "account_selection_required",
            ErrorCode::InvalidToken => "invalid_token",
            ErrorCode::InsufficientScope => "insufficient_scope",
            ErrorCode::RequestNotSupported => "request_not_supported",
            ErrorCode::RequestUriNotSupported => "request_uri_not_supported",
            ErrorCode::RegistrationNotSupported => "registration_not_supported",
            ErrorCode::NotFound => "not_found",
            ErrorCode::TooManyRequests => "too_many_requests",
        }
    }

    fn default_status(self) -> StatusCode {
        match self {
            ErrorCode::InvalidClient | ErrorCode::InvalidToken => StatusCode::UNAUTHORIZED,
            ErrorCode::InsufficientScope | ErrorCode::AccessDenied => StatusCode::FORBIDDEN,
            ErrorCode::ServerError => StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::TemporarilyUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::NotFound => StatusCode::NOT_FOUND,
            ErrorCode::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
            _ => StatusCode::BAD_REQUEST,
        }
    }
}

/// An error on its way to the client.
#[derive(Debug)]
pub struct Error {
    pub code: ErrorCode,
    /// Public, English, for developers (`error_description`).
    pub description: Cow<'static, str>,
    pub status: StatusCode,
    /// `WWW-Authenticate` value (RFC 6749 §5.2 for Basic, RFC 6750 §3 for Bearer).
    pub www_authenticate: Option<String>,
    /// Catalogue key of the message a page shows a person; `None` → generic per code.
    pub message_key: Option<&'static str>,
    /// Private cause, logged only.
    source: Option<anyhow::Error>,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(code: ErrorCode, description: impl Into<Cow<'static, str>>) -> Self {
        let description = safe_description(description.into());
        Error {
            code,
            description,
            status: code.default_status(),
            www_authenticate: None,
            message_key: None,
            source: None,
        }
    }

    pub fn invalid_request(description: impl Into<Cow<'static, str>>) -> Self {
        Error::new(ErrorCode::InvalidRequest, description)
    }

    pub fn invalid_grant(description: impl Into<Cow<'static, str>>) -> Self {
        Error::new(ErrorCode::InvalidGrant, description)
    }

    pub fn invalid_client(description: impl Into<Cow<'static, str>>) -> Self {
        Error::new(ErrorCode::InvalidClient, description)
    }

    pub fn not_found() -> Self {
        Error::new(ErrorCode::NotFound, "not found").with_message("error.not_found")
    }

    /// An internal failure: the client sees only `server_error`.
    pub fn internal(source: impl Into<anyhow::Error>) -> Self {
        Error::new(ErrorCode::ServerError, "internal error").with_source(source)
    }

    /// A backend is down: 503 `temporarily_unavailable`.
    pub fn unavailable(source: impl Into<anyhow::Error>) -> Self {
        Error::new(
            ErrorCode::TemporarilyUnavailable,
            "a backend service is unavailable, try again shortly",
        )
        .with_message("error.unavailable")
        .with_source(source)
    }

    pub fn with_status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }

    pub fn with_www_authenticate(mut self, value: impl Into<String>) -> Self {
        self.www_authenticate = Some(value.into());
        self
    }

    pub fn with_message(mut self, key: &'static str) -> Self {
        self.message_key = Some(key);
        self
    }

    pub fn with_source(mut self, source: impl Into<anyhow::Error>) -> Self {
        self.source = Some(source.into());
        self
    }
}

/// RFC 6749 §4.1.2.1 and §5.2: `error_description` "MUST NOT include characters outside
/// the set %x20-21 / %x23-5B / %x5D-7E". Descriptions may quote request values (an unknown
/// grant type or scope), so anything else becomes `?`.
fn safe_description(description: Cow<'static, str>) -> Cow<'static, str> {
    let allowed = |c: char| matches!(c, '\x20'..='\x21' | '\x23'..='\x5B' | '\x5D'..='\x7E');
    if description.chars().all(allowed) {
        description
    } else {
        Cow::Owned(
            description
                .chars()
                .map(|c| if allowed(c) { c } else { '?' })
                .collect(),
        )
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.description)
    }
}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable(_) => Error::unavailable(e),
            _ => Error::internal(e),
        }
    }
}

impl From<SessionError> for Error {
    fn from(e: SessionError) -> Self {
        match e {
            SessionError::Unavailable(_) => Error::unavailable(e),
            SessionError::Corrupt(_) => Error::internal(e),
        }
    }
}

/// What the HTML error layer needs to render a page from an error response.
#[derive(Debug, Clone)]
pub struct PageErrorInfo {
    pub code: ErrorCode,
    pub description: String,
    pub message_key: Option<&'static str>,
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: &'static str,
    error_description: &'a str,
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        if let Some(source) = &self.source {
            if self.status.is_server_error() {
                tracing::error!(code = self.code.as_str(), error = %format!("{source:#}"), "request failed");
            } else {
                tracing::debug!(code = self.code.as_str(), error = %format!("{source:#}"), "request refused");
            }
        }
        let body = serde_json::to_vec(&ErrorBody {
            error: self.code.as_str(),
            error_description: &self.description,
        })
        .unwrap_or_default();
        let mut response = (self.status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
        if let Some(value) = self
            .www_authenticate
            .as_deref()
            .and_then(|v| HeaderValue::from_str(v).ok())
        {
            headers.insert(header::WWW_AUTHENTICATE, value);
        }
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            headers.insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
        }
        response.extensions_mut().insert(PageErrorInfo {
            code: self.code,
            description: self.description.into_owned(),
            message_key: self.message_key,
        });
        response
    }
}
