//! [`PopulationRegistry`] over Tunduk, an X-Road instance, with the X-Road Message Protocol
//! for REST, version `r1` (NIIS PR-REST):
//!
//! ```text
//! GET {security server}/r1/{INSTANCE}/{CLASS}/{CODE}/{SUBSYSTEM}/{SERVICE}/persons/{inn}
//! X-Road-Client: {INSTANCE}/{CLASS}/{CODE}/{SUBSYSTEM}
//! X-Road-Id: {uuid}                       (optional; ours, for tracing)
//! X-Road-UserId: {user}                   (optional)
//! ```
//!
//! Identifier parts are percent-encoded separately. Answers: 200 with the person as JSON;
//! 404 *without* `X-Road-Error` from the provider → unknown person; any response carrying
//! `X-Road-Error: <type>` (body `{"type", "message", "detail"}`) is an X-Road failure: client
//! mistakes (`Client.*`) and refusals (unknown service, access denied) are
//! [`RegistryError::Protocol`], everything else (the provider or the network behind the
//! security server failed) is [`RegistryError::Unavailable`]. A connect or read timeout is
//! `Unavailable` too. Only `http://` security-server URLs: the information system talks to
//! its own security server on the internal network (the build has no TLS client).

use std::time::Duration;

use async_trait::async_trait;
use serde::Deserialize;

use super::{PersonRecord, PopulationRegistry, RegistryError};

/// Default client subsystem of Salyk ID on Tunduk (`IDP_XROAD_CLIENT`).
pub const DEFAULT_CLIENT: &str = "KG/GOV/70000001/salyk-id";
/// Default service id of the population registry's person lookup (`IDP_POPULATION_SERVICE`).
pub const DEFAULT_SERVICE: &str = "KG/GOV/70000002/grs/person-by-pin";
/// The protocol version in the path.
pub const PROTOCOL_VERSION: &str = "r1";
/// Largest body we read from the security server.
const MAX_BODY: usize = 256 * 1024;

/// How to reach the population registry through our security server.
#[derive(Debug, Clone)]
pub struct XRoadConfig {
    /// Base URL of the (consumer) security server; `None` → not configured.
    pub security_server: Option<String>,
    /// `INSTANCE/CLASS/CODE/SUBSYSTEM` of Salyk ID.
    pub client: String,
    /// `INSTANCE/CLASS/CODE/SUBSYSTEM/SERVICECODE` of the lookup.
    pub service: String,
    /// Connect and whole-request timeout.
    pub timeout: Duration,
    /// `X-Road-UserId` to send, if any.
    pub user_id: Option<String>,
}

impl Default for XRoadConfig {
    fn default() -> Self {
        XRoadConfig {
            security_server: None,
            client: DEFAULT_CLIENT.into(),
            service: DEFAULT_SERVICE.into(),
            timeout: Duration::from_secs(5),
            user_id: None,
        }
    }
}

/// Checks an X-Road identifier: `parts` (or `parts - 1` without the optional subsystem)
/// non-empty segments separated by `/`. Returns a message naming the problem.
pub fn check_identifier(id: &str, parts: usize) -> Result<(), String> {
    let segments: Vec<&str> = id.split('/').collect();
    if !(segments.len() == parts || segments.len() == parts - 1) {
        return Err(format!(
            "{id:?} must have {} or {parts} parts separated by '/'",
            parts - 1
        ));
    }
    if segments.iter().any(|s| s.trim().is_empty()) {
        return Err(format!("{id:?} has an empty part"));
    }
    Ok(())
}

/// Percent-encodes each `/`-separated part of an identifier (PR-REST §4.2).
pub fn encode_identifier(id: &str) -> String {
    id.split('/')
        .map(encode_segment)
        .collect::<Vec<_>>()
        .join("/")
}

fn encode_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The error body of an X-Road failure.
#[derive(Debug, Deserialize)]
struct XRoadErrorBody {
    #[serde(rename = "type")]
    kind: Option<String>,
    message: Option<String>,
}

/// Whether an X-Road error type means "our request or configuration is wrong" (retrying
/// will not help) rather than "something behind the security server is down".
fn is_protocol_fault(kind: &str) -> bool {
    kind.starts_with("Client.")
        || [
            "UnknownService",
            "UnknownMember",
            "AccessDenied",
            "InvalidRequest",
            "BadRequest",
            "InvalidProtocolVersion",
        ]
        .iter()
        .any(|k| kind.contains(k))
}

/// The population registry reached through an X-Road security server.
pub struct XRoadPopulationRegistry {
    config: XRoadConfig,
    http: reqwest::Client,
}

impl XRoadPopulationRegistry {
    pub fn new(config: XRoadConfig) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .connect_timeout(config.timeout)
            .timeout(config.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(XRoadPopulationRegistry { config, http })
    }

    /// The request URL for one person.
    pub fn person_url(&self, base: &str, inn: &str) -> String {
        format!(
            "{}/{PROTOCOL_VERSION}/{}/persons/{}",
            base.trim_end_matches('/'),
            encode_identifier(&self.config.service),
            encode_segment(inn)
        )
    }

    async fn read_body(mut response: reqwest::Response) -> Result<Vec<u8>, RegistryError> {
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(transport_error)? {
            body.extend_from_slice(&chunk);
            if body.len() > MAX_BODY {
                return Err(RegistryError::Protocol("response body too large".into()));
            }
        }
        Ok(body)
    }
}

fn transport_error(e: reqwest::Error) -> RegistryError {
    if e.is_timeout() {
        RegistryError::Unavailable("population registry did not answer in time".into())
    } else if e.is_connect() {
        RegistryError::Unavailable(format!("cannot reach the security server: {e}"))
    } else {
        RegistryError::Unavailable(format!("population registry request failed: {e}"))
    }
}

#[async_trait]
impl PopulationRegistry for XRoadPopulationRegistry {
    async fn person(&self, inn: &str) -> Result<Option<PersonRecord>, RegistryError> {
        let Some(base) = self.config.security_server.as_deref() else {
            return Err(RegistryError::Unavailable(
                "population registry not configured".into(),
            ));
        };
        let message_id = uuid::Uuid::new_v4().to_string();
        let mut request = self
            .http
            .get(self.person_url(base, inn))
            .header("X-Road-Client", encode_identifier(&self.config.client))
            .header("X-Road-Id", &message_id)
            .header(reqwest::header::ACCEPT, "application/json");
        if let Some(user) = &self.config.user_id {
            request = request.header("X-Road-UserId", user);
        }
        let response = request.send().await.map_err(transport_error)?;
        let status = response.status();
        let xroad_error = response
            .headers()
            .get("X-Road-Error")
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
        let request_id = response
            .headers()
            .get("X-Road-Request-Id")
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
        let body = Self::read_body(response).await?;

        if let Some(header_type) = xroad_error {
            let parsed: Option<XRoadErrorBody> = serde_json::from_slice(&body).ok();
            let kind = parsed
                .as_ref()
                .and_then(|b| b.kind.clone())
                .unwrap_or(header_type);
            let message = parsed.and_then(|b| b.message).unwrap_or_default();
            tracing::warn!(
                x_road_error = %kind,
                %message,
                status = status.as_u16(),
                x_road_id = %message_id,
                x_road_request_id = request_id.as_deref().unwrap_or("-"),
                "population registry: X-Road error"
            );
            let text = format!("X-Road error {kind} (HTTP {}): {message}", status.as_u16());
            return Err(if is_protocol_fault(&kind) {
                RegistryError::Protocol(text)
            } else {
                RegistryError::Unavailable(text)
            });
        }
        if status == reqwest::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if status.is_server_error() {
            return Err(RegistryError::Unavailable(format!(
                "population registry answered HTTP {}",
                status.as_u16()
            )));
        }
        if !status.is_success() {
            return Err(RegistryError::Protocol(format!(
                "population registry answered HTTP {}",
                status.as_u16()
            )));
        }
        let person: PersonRecord = serde_json::from_slice(&body).map_err(|e| {
            RegistryError::Protocol(format!(
                "population registry sent an unreadable person: {e}"
            ))
        })?;
        if person.inn != inn {
            return Err(RegistryError::Protocol(
                "population registry answered for another INN".into(),
            ));
        }
        Ok(Some(person))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_checked_and_encoded() {
        assert!(check_identifier(DEFAULT_CLIENT, 4).is_ok());
        assert!(check_identifier("KG/GOV/70000001", 4).is_ok());
        assert!(check_identifier("KG/GOV", 4).is_err());
        assert!(check_identifier("KG//70000001/x", 4).is_err());
        assert!(check_identifier(DEFAULT_SERVICE, 5).is_ok());
        assert_eq!(encode_identifier("KG/GOV/7 0/a%b"), "KG/GOV/7%200/a%25b");
    }

    #[test]
    fn url_has_the_r1_shape() {
        let registry = XRoadPopulationRegistry::new(XRoadConfig::default()).unwrap();
        assert_eq!(
            registry.person_url("http://ss.local/", "21207198599011"),
            "http://ss.local/r1/KG/GOV/70000002/grs/person-by-pin/persons/21207198599011"
        );
    }

    #[test]
    fn fault_classes() {
        assert!(is_protocol_fault("Client.BadRequest"));
        assert!(is_protocol_fault("Server.ServerProxy.UnknownService"));
        assert!(is_protocol_fault("Server.ServerProxy.AccessDenied"));
        assert!(!is_protocol_fault("Server.ServerProxy.ServiceFailed"));
        assert!(!is_protocol_fault("Server.ClientProxy.NetworkError"));
    }
}
