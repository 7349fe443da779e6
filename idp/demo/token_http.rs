//! HTTP side of the demo soft token ([`super::token`]): `POST /demo/rutoken/{call}` with a
//! JSON body, one call per plugin method that `static/rutoken-standin.js` implements, and
//! `GET /static/rutoken-standin.js` itself. Mounted only when `IDP_DEMO_TOKEN` is on (else
//! both are 404).
//!
//! Answers are `{"result": …}` or, with a 4xx status, `{"error": "<errorCodes name>"}` (plus
//! `retries_left` for a wrong PIN); the script turns the name into the rejection the real
//! plugin gives (`Error` whose `message` is the numeric code). The endpoints take only
//! `application/json`, so another site cannot drive them with a plain form post; and they
//! hold nothing worth stealing — demo keys of demo persons.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use openssl::asn1::Asn1TimeRef;
use openssl::x509::{X509NameRef, X509Ref};
use serde::Deserialize;
use serde_json::{json, Value};

use super::token::{SoftToken, TokenError, MAX_PIN_ATTEMPTS};
use crate::state::AppState;

/// The stand-in's routes, sharing one soft token.
pub fn routes(token: Arc<SoftToken>) -> Router<AppState> {
    Router::new()
        .route("/static/rutoken-standin.js", get(script))
        .route("/demo/rutoken/{call}", post(call))
        .with_state(token)
}

/// The arguments of any call (each uses some).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Args {
    device: Option<usize>,
    /// `getDeviceInfo`'s request: `label`, `model`, `serial`, `type`, `pins`, `reader`.
    info: String,
    /// `enumerateCertificates`' category: `user`, `ca`, `other`, `unspec`.
    category: String,
    certificate: String,
    pin: String,
    session: String,
    data: String,
    /// `data` is base64 (the plugin's `isBase64` / `DATA_FORMAT_BASE64`).
    base64: bool,
    detached: bool,
    add_user_certificate: Option<bool>,
    salt: String,
}

impl Args {
    fn device(&self, token: &SoftToken) -> Result<usize, TokenError> {
        self.device
            .filter(|d| *d < token.device_count())
            .ok_or(TokenError::new("DEVICE_NOT_FOUND"))
    }
}

async fn call(
    State(token): State<Arc<SoftToken>>,
    Path(name): Path<String>,
    Json(args): Json<Args>,
) -> Response {
    // Key generation and signing are CPU work: off the async workers.
    let answer = tokio::task::spawn_blocking(move || dispatch(&token, &name, &args)).await;
    match answer {
        Ok(Some(Ok(result))) => Json(json!({ "result": result })).into_response(),
        Ok(Some(Err(e))) => {
            let status = match e.code {
                "PIN_INCORRECT" | "PIN_LOCKED" | "USER_NOT_LOGGED_IN" => StatusCode::FORBIDDEN,
                "DEVICE_NOT_FOUND" | "CERTIFICATE_NOT_FOUND" => StatusCode::NOT_FOUND,
                "FUNCTION_FAILED" => StatusCode::INTERNAL_SERVER_ERROR,
                _ => StatusCode::BAD_REQUEST,
            };
            let mut body = json!({ "error": e.code });
            if let Some(n) = e.retries_left {
                body["retries_left"] = json!(n);
            }
            (status, Json(body)).into_response()
        }
        Ok(None) => (
            StatusCode::NOT_FOUND,
            Json(json!({ "error": "UNKNOWN_ERROR" })),
        )
            .into_response(),
        Err(_) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            Json(json!({ "error": "UNKNOWN_ERROR" })),
        )
            .into_response(),
    }
}

/// Runs one plugin call; `None` for a name that is no call.
fn dispatch(token: &SoftToken, name: &str, args: &Args) -> Option<Result<Value, TokenError>> {
    Some(match name {
        "devices" => Ok(json!((0..token.device_count()).collect::<Vec<_>>())),
        "device-info" => device_info(token, args),
        "certificates" => certificates(token, args),
        "parse-certificate" => args.device(token).and_then(|d| {
            let c = token.certificate(d, &args.certificate)?;
            Ok(parsed(&c.credential.certificate))
        }),
        "certificate" => args.device(token).and_then(|d| {
            let c = token.certificate(d, &args.certificate)?;
            Ok(json!(c.credential.certificate_pem()))
        }),
        "login" => args
            .device(token)
            .and_then(|d| token.login(d, &args.pin))
            .map(|session| json!({ "session": session })),
        "logout" => {
            token.logout(&args.session);
            Ok(Value::Null)
        }
        "sign" => sign(token, args),
        "authenticate" => authenticate(token, args),
        _ => return None,
    })
}

fn device_info(token: &SoftToken, args: &Args) -> Result<Value, TokenError> {
    let device = args.device(token)?;
    Ok(match args.info.as_str() {
        "label" => json!(token.label(device)?),
        "model" => json!("Rutoken ECP (демо, программный)"),
        "reader" => json!(format!("Demo Soft Token {device}")),
        "serial" => json!(format!("DEMO-{:08}", device + 1)),
        "type" => json!("rutoken_ecp"),
        "pins" => json!({
            "retriesLeft": token.retries_left(device)?,
            "maxRetriesCount": MAX_PIN_ATTEMPTS,
            "isPinCached": false,
            // DEMO_PIN is the user PIN a Rutoken leaves the factory with.
            "isPinDefault": true,
        }),
        "pin_retries_left" => json!(token.retries_left(device)?),
        _ => return Err(TokenError::new("BAD_PARAMS")),
    })
}

fn certificates(token: &SoftToken, args: &Args) -> Result<Value, TokenError> {
    let device = args.device(token)?;
    Ok(match args.category.as_str() {
        // Every demo certificate is a user certificate with its key pair on the device.
        "user" | "unspec" => json!(token
            .certificates(device)?
            .iter()
            .map(|c| c.handle.clone())
            .collect::<Vec<_>>()),
        "ca" | "other" => json!([]),
        _ => return Err(TokenError::new("CERTIFICATE_CATEGORY_BAD")),
    })
}

fn sign(token: &SoftToken, args: &Args) -> Result<Value, TokenError> {
    let device = args.device(token)?;
    let content = if args.base64 {
        STANDARD
            .decode(args.data.trim())
            .map_err(|_| TokenError::new("BASE64_DECODE_FAILED"))?
    } else {
        args.data.as_bytes().to_vec()
    };
    let cms = token.sign(
        device,
        &args.session,
        &args.certificate,
        &content,
        args.detached,
        args.add_user_certificate.unwrap_or(true),
    )?;
    Ok(json!(STANDARD.encode(cms)))
}

/// `authenticate(device, cert, salt)`: an attached CMS over the salt followed by 32 random
/// bytes (hex) of the token. The real layout is documented only on dev.rutoken.ru; "the
/// content begins with the salt" is all a verifier may rely on, and that holds here.
fn authenticate(token: &SoftToken, args: &Args) -> Result<Value, TokenError> {
    let device = args.device(token)?;
    if args.salt.is_empty() {
        return Err(TokenError::new("BAD_PARAMS"));
    }
    let content = format!("{}{}", args.salt, hex::encode(rand::random::<[u8; 32]>()));
    let cms = token.sign(
        device,
        &args.session,
        &args.certificate,
        content.as_bytes(),
        false,
        true,
    )?;
    Ok(json!(STANDARD.encode(cms)))
}

/// `parseCertificate`'s answer: `subject` / `issuer` as `[{rdn, value}]` with OpenSSL's long
/// attribute names (what the plugin reports), hex `serialNumber`, ISO `validNotBefore` /
/// `validNotAfter`, key usages and OpenSSL's text dump.
fn parsed(cert: &X509Ref) -> Value {
    json!({
        "subject": rdns(cert.subject_name()),
        "issuer": rdns(cert.issuer_name()),
        "serialNumber": cert
            .serial_number()
            .to_bn()
            .map(|n| colon_hex(&n.to_vec()))
            .unwrap_or_default(),
        "validNotBefore": iso(cert.not_before()),
        "validNotAfter": iso(cert.not_after()),
        // What token::spec_for issues: CertSpec::end_entity without EKU.
        "extensions": { "keyUsage": ["digitalSignature", "nonRepudiation"], "extKeyUsage": [] },
        "text": cert
            .to_text()
            .map(|t| String::from_utf8_lossy(&t).into_owned())
            .unwrap_or_default(),
    })
}

fn rdns(name: &X509NameRef) -> Value {
    name.entries()
        .map(|entry| {
            let object = entry.object();
            let rdn = object
                .nid()
                .long_name()
                .map(str::to_owned)
                .unwrap_or_else(|_| object.to_string());
            let value = entry.data().to_string().unwrap_or_default();
            json!({ "rdn": rdn, "value": value })
        })
        .collect()
}

fn colon_hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// `2027-05-01T10:00:00.000Z`, the plugin's date form.
fn iso(t: &Asn1TimeRef) -> String {
    let unix = openssl::asn1::Asn1Time::from_unix(0)
        .and_then(|epoch| epoch.diff(t))
        .map(|d| i64::from(d.days) * 86_400 + i64::from(d.secs))
        .unwrap_or(0);
    time::OffsetDateTime::from_unix_timestamp(unix)
        .map(|t| {
            format!(
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.000Z",
                t.year(),
                u8::from(t.month()),
                t.day(),
                t.hour(),
                t.minute(),
                t.second()
            )
        })
        .unwrap_or_default()
}

/// `GET /static/rutoken-standin.js`.
async fn script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        include_str!("../../static/rutoken-standin.js"),
    )
        .into_response()
}
