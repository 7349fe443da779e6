//! An emulator of the population registry's person lookup as reached over Tunduk: it plays
//! the (provider) security server and the service behind it, speaking the X-Road Message
//! Protocol for REST `r1` for exactly one service id (by default
//! [`DEFAULT_SERVICE`](crate::adapters::population::xroad::DEFAULT_SERVICE)):
//!
//! - `GET /r1/{service id}/persons/{inn}` with `X-Road-Client: INSTANCE/CLASS/CODE[/SUBSYSTEM]`
//!   → 200 and the person as JSON ([`PersonRecord`]); an unknown INN → 404 from the
//!   "provider" with a JSON error body (no `X-Road-Error`, as X-Road passes provider answers
//!   through);
//! - a missing or malformed `X-Road-Client`, or a path that is not `r1` → 400 with
//!   `X-Road-Error: Client.BadRequest`; another service id → 500 with
//!   `X-Road-Error: Server.ServerProxy.UnknownService` (body `{"type","message","detail"}`);
//! - every answer carries `X-Road-Id` (the client's, or a fresh UUID) and
//!   `X-Road-Request-Id`; answers that reached the service echo `X-Road-Client` and
//!   `X-Road-Service`.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::adapters::population::xroad::{check_identifier, DEFAULT_SERVICE, PROTOCOL_VERSION};
use crate::adapters::population::PersonRecord;

/// The built-in demo persons (every person and entrepreneur head of the demo tax registry,
/// and two people the tax registry does not know, for «Добавить ИНН»).
pub fn demo_persons() -> Vec<PersonRecord> {
    serde_json::from_str(include_str!("population_persons.json"))
        .expect("the built-in demo persons are valid JSON")
}

/// Loads a dataset: a JSON list of [`PersonRecord`].
pub fn load_persons(path: &std::path::Path) -> anyhow::Result<Vec<PersonRecord>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
    serde_json::from_str(&text)
        .map_err(|e| anyhow::anyhow!("{}: not a JSON list of persons: {e}", path.display()))
}

struct Emulator {
    service: Vec<String>,
    service_id: String,
    persons: HashMap<String, PersonRecord>,
}

/// Serves the default service with `data` on `listener` until the task is aborted.
pub async fn spawn(listener: TcpListener, data: Vec<PersonRecord>) -> JoinHandle<()> {
    spawn_for_service(listener, data, DEFAULT_SERVICE)
}

/// Serves `service_id` (`INSTANCE/CLASS/CODE[/SUBSYSTEM]/SERVICE`) with `data`.
pub fn spawn_for_service(
    listener: TcpListener,
    data: Vec<PersonRecord>,
    service_id: &str,
) -> JoinHandle<()> {
    let app = router(data, service_id);
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "population registry emulator stopped");
        }
    })
}

/// The emulator's routes (one fallback handler parses the X-Road path itself).
pub fn router(data: Vec<PersonRecord>, service_id: &str) -> Router {
    let emulator = Arc::new(Emulator {
        service: service_id.split('/').map(str::to_string).collect(),
        service_id: service_id.to_string(),
        persons: data.into_iter().map(|p| (p.inn.clone(), p)).collect(),
    });
    Router::new().fallback(handle).with_state(emulator)
}

fn percent_decode(segment: &str) -> Option<String> {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = segment.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Headers every answer carries.
struct Ids {
    message_id: String,
    request_id: String,
}

fn xroad_error(ids: &Ids, status: StatusCode, kind: &str, message: &str) -> Response {
    let body = serde_json::json!({ "type": kind, "message": message, "detail": ids.request_id });
    let mut response = (status, axum::Json(body)).into_response();
    let headers = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(kind) {
        headers.insert("X-Road-Error", v);
    }
    stamp(headers, ids);
    response
}

fn stamp(headers: &mut HeaderMap, ids: &Ids) {
    for (name, value) in [
        ("X-Road-Id", &ids.message_id),
        ("X-Road-Request-Id", &ids.request_id),
    ] {
        if let Ok(v) = HeaderValue::from_str(value) {
            headers.insert(name, v);
        }
    }
    headers.insert(
        axum::http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json;charset=utf-8"),
    );
}

async fn handle(State(emulator): State<Arc<Emulator>>, request: Request<Body>) -> Response {
    let headers = request.headers();
    let message_id = headers
        .get("X-Road-Id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 200)
        .map(str::to_string)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let ids = Ids {
        message_id,
        request_id: uuid::Uuid::new_v4().to_string(),
    };

    // Path: /r1/{service id parts…}/persons/{inn}
    let segments: Option<Vec<String>> = request
        .uri()
        .path()
        .trim_start_matches('/')
        .split('/')
        .map(percent_decode)
        .collect();
    let Some(segments) = segments else {
        return xroad_error(
            &ids,
            StatusCode::BAD_REQUEST,
            "Client.BadRequest",
            "The request path is not valid percent-encoded UTF-8.",
        );
    };
    if segments.first().map(String::as_str) != Some(PROTOCOL_VERSION) {
        return xroad_error(
            &ids,
            StatusCode::BAD_REQUEST,
            "Client.BadRequest",
            "Error parsing the client's REST request: the path must start with the protocol version r1 (X-Road Message Protocol for REST).",
        );
    }
    let client = headers
        .get("X-Road-Client")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let Some(client) = client.filter(|c| check_identifier(c, 4).is_ok()) else {
        return xroad_error(
            &ids,
            StatusCode::BAD_REQUEST,
            "Client.BadRequest",
            "Error parsing the client's REST request: missing or malformed X-Road-Client header (INSTANCE/CLASS/MEMBER[/SUBSYSTEM]).",
        );
    };
    let n = emulator.service.len();
    if segments.len() <= n || segments[1..=n] != emulator.service[..] {
        let asked = segments[1..]
            .iter()
            .take(n)
            .cloned()
            .collect::<Vec<_>>()
            .join("/");
        return xroad_error(
            &ids,
            StatusCode::INTERNAL_SERVER_ERROR,
            "Server.ServerProxy.UnknownService",
            &format!("Unknown service: SERVICE:{asked}"),
        );
    }

    // From here on the request reached the "provider"; its answers pass through as they are.
    let rest = &segments[n + 1..];
    let (status, body) = if request.method() != Method::GET {
        (
            StatusCode::METHOD_NOT_ALLOWED,
            serde_json::json!({ "type": "MethodNotAllowed", "message": "only GET is supported", "detail": ids.request_id }),
        )
    } else {
        match rest {
            [persons, inn] if persons == "persons" => match emulator.persons.get(inn) {
                Some(person) => (
                    StatusCode::OK,
                    serde_json::to_value(person).unwrap_or_default(),
                ),
                None => (
                    StatusCode::NOT_FOUND,
                    serde_json::json!({ "type": "NotFound", "message": "no person with this PIN", "detail": ids.request_id }),
                ),
            },
            _ => (
                StatusCode::NOT_FOUND,
                serde_json::json!({ "type": "NotFound", "message": "no such resource", "detail": ids.request_id }),
            ),
        }
    };
    let mut response = (status, axum::Json(body)).into_response();
    let out = response.headers_mut();
    stamp(out, &ids);
    if let Ok(v) = HeaderValue::from_str(&client) {
        out.insert("X-Road-Client", v);
    }
    if let Ok(v) = HeaderValue::from_str(&emulator.service_id) {
        out.insert("X-Road-Service", v);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_persons_are_consistent_with_their_pins() {
        let persons = demo_persons();
        assert!(persons.len() >= 8);
        for p in &persons {
            crate::accounts::inn::normalize_inn(&p.inn, true).unwrap();
            // d1 = sex, d2–d9 = birth date DDMMYYYY.
            let sex = if p.inn.starts_with('1') {
                "female"
            } else {
                "male"
            };
            assert_eq!(p.sex, sex, "{}", p.inn);
            let date = format!("{}-{}-{}", &p.inn[5..9], &p.inn[3..5], &p.inn[1..3]);
            assert_eq!(p.birth_date, date, "{}", p.inn);
        }
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("a%2Fb").as_deref(), Some("a/b"));
        assert_eq!(percent_decode("%D0%94").as_deref(), Some("Д"));
        assert_eq!(percent_decode("%zz"), None);
    }
}
