//! An emulator of a certification authority's OCSP responder (RFC 6960) for one CA, for the
//! tests and the demo (never used in production). Over HTTP as RFC 6960 Appendix A.1 says:
//!
//! - `POST` (any path) with `Content-Type: application/ocsp-request` and the DER
//!   OCSPRequest as body, or `GET {path}/{percent-encoded base64 of the DER}` → 200
//!   `application/ocsp-response`; a POST of another content type → 415, other methods → 405;
//! - a body that is not an OCSPRequest → the OCSPResponse `malformedRequest` (still HTTP 200,
//!   as responders do), and [`OcspResponder::refuse_with`] makes every answer an error status
//!   such as `tryLater`;
//! - per CertID: `unknown` when it names another issuer (or a hash other than SHA-1 and
//!   SHA-256), or, once serials are registered with [`OcspResponder::issue`], a serial never
//!   issued; `revoked` with time and reason after [`OcspResponder::revoke`]; else `good`.
//!   thisUpdate = producedAt = now, nextUpdate = now + validity (1 hour by default);
//! - the request's nonce is echoed; the responder is named by name; the BasicOCSPResponse is
//!   signed with the CA's key, or with a delegated responder certificate
//!   ([`OcspResponder::delegated`]), which then travels in `certs`.
//!
//! The openssl crate cannot build a BasicOCSPResponse, so it is assembled from x509-ocsp's
//! typed structures and the DER of tbsResponseData signed with OpenSSL ([`pki::sign_der`]).
//! [`OcspResponder::respond`] is the whole protocol without HTTP, for unit tests.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderValue, Method, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use base64::Engine as _;
use der::asn1::{GeneralizedTime, ObjectIdentifier};
use der::{Decode, Encode};
use openssl::hash::{hash, MessageDigest};
use openssl::x509::X509Ref;
use time::{Duration, OffsetDateTime};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use x509_cert::ext::AsExtension;
use x509_ocsp::{
    BasicOcspResponse, CertId, CertStatus, OcspGeneralizedTime, OcspRequest, OcspResponse,
    OcspResponseStatus, ResponderId, ResponseData, RevokedInfo, SingleResponse, Version,
};

pub use x509_cert::ext::pkix::CrlReason;

use crate::esig::pki::{self, Credential, PkiError};

/// Largest request body read (a request names a few certificates: well under 1 KiB each).
const MAX_REQUEST: usize = 16 * 1024;
const SHA1: &str = "1.3.14.3.2.26";
const SHA256: &str = "2.16.840.1.101.3.4.2.1";

/// How a certificate was revoked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Revocation {
    pub at: OffsetDateTime,
    pub reason: Option<CrlReason>,
}

/// What the responder knows; changed while it runs.
struct Book {
    /// By serial (big-endian magnitude, no leading zeros).
    revoked: HashMap<Vec<u8>, Revocation>,
    /// `None`: every serial of the CA is taken as issued.
    issued: Option<HashSet<Vec<u8>>>,
    validity: Duration,
    refuse_with: Option<OcspResponseStatus>,
}

/// The responder of one CA.
pub struct OcspResponder {
    /// (hash OID, issuerNameHash, issuerKeyHash) of the CA, for SHA-1 and SHA-256.
    ca_ids: Vec<(ObjectIdentifier, Vec<u8>, Vec<u8>)>,
    signer: Credential,
    signer_cert: x509_cert::Certificate,
    /// Delegated: the signer's certificate travels in the answer.
    include_signer: bool,
    book: Mutex<Book>,
    /// Requests answered, so a test can tell whether it was asked at all.
    answered: AtomicUsize,
}

impl std::fmt::Debug for OcspResponder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OcspResponder")
            .field("signer", &self.signer)
            .finish_non_exhaustive()
    }
}

/// A serial as the book keys it.
fn serial_key(bytes: &[u8]) -> Vec<u8> {
    let start = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    bytes[start..].to_vec()
}

fn serial_of(cert: &X509Ref) -> Vec<u8> {
    cert.serial_number()
        .to_bn()
        .map(|bn| serial_key(&bn.to_vec()))
        .unwrap_or_default()
}

fn generalized(t: OffsetDateTime) -> Result<OcspGeneralizedTime, PkiError> {
    let secs = u64::try_from(t.unix_timestamp()).map_err(|e| PkiError::Der(e.to_string()))?;
    Ok(OcspGeneralizedTime(GeneralizedTime::from_unix_duration(
        std::time::Duration::from_secs(secs),
    )?))
}

impl OcspResponder {
    /// A responder that signs its answers with the CA's own key.
    pub fn new(ca: &Credential) -> Result<OcspResponder, PkiError> {
        OcspResponder::build(ca, ca.clone(), false)
    }

    /// A responder that signs with `responder`'s key and sends its certificate along (RFC
    /// 6960 §4.2.2.2: the CA should have issued it with EKU id-kp-OCSPSigning; whether it did
    /// is the client's business).
    pub fn delegated(ca: &Credential, responder: Credential) -> Result<OcspResponder, PkiError> {
        OcspResponder::build(ca, responder, true)
    }

    fn build(
        ca: &Credential,
        signer: Credential,
        include_signer: bool,
    ) -> Result<OcspResponder, PkiError> {
        let ca_cert = x509_cert::Certificate::from_der(&ca.certificate.to_der()?)?;
        let name = ca_cert.tbs_certificate.subject.to_der()?;
        let key = ca_cert
            .tbs_certificate
            .subject_public_key_info
            .subject_public_key
            .raw_bytes();
        let mut ca_ids = Vec::new();
        for (oid, digest) in [
            (SHA1, MessageDigest::sha1()),
            (SHA256, MessageDigest::sha256()),
        ] {
            ca_ids.push((
                ObjectIdentifier::new_unwrap(oid),
                hash(digest, &name)?.to_vec(),
                hash(digest, key)?.to_vec(),
            ));
        }
        let signer_cert = x509_cert::Certificate::from_der(&signer.certificate.to_der()?)?;
        Ok(OcspResponder {
            ca_ids,
            signer,
            signer_cert,
            include_signer,
            book: Mutex::new(Book {
                revoked: HashMap::new(),
                issued: None,
                validity: Duration::hours(1),
                refuse_with: None,
            }),
            answered: AtomicUsize::new(0),
        })
    }

    fn book(&self) -> MutexGuard<'_, Book> {
        // The book stays consistent whatever panicked while holding it.
        self.book
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Records `cert` as issued; once any is, serials never recorded are `unknown`.
    pub fn issue(&self, cert: &X509Ref) {
        self.book()
            .issued
            .get_or_insert_with(HashSet::new)
            .insert(serial_of(cert));
    }

    /// Revokes `cert` from `at` on.
    pub fn revoke(&self, cert: &X509Ref, at: OffsetDateTime, reason: Option<CrlReason>) {
        self.book()
            .revoked
            .insert(serial_of(cert), Revocation { at, reason });
    }

    /// Takes a revocation back (a certificate on hold released, RFC 5280 §5.3.1).
    pub fn reinstate(&self, cert: &X509Ref) {
        self.book().revoked.remove(&serial_of(cert));
    }

    /// How long an answer is valid (nextUpdate − thisUpdate).
    pub fn set_validity(&self, validity: Duration) {
        self.book().validity = validity;
    }

    /// Answers every request with this error status (`tryLater`, `internalError`…), or
    /// normally again with `None`.
    pub fn refuse_with(&self, status: Option<OcspResponseStatus>) {
        self.book().refuse_with = status;
    }

    /// How many requests [`OcspResponder::respond`] has answered.
    pub fn answered(&self) -> usize {
        self.answered.load(Ordering::Relaxed)
    }

    /// The DER OCSPResponse to the DER OCSPRequest `request`, produced at `now`.
    pub fn respond(&self, request: &[u8], now: OffsetDateTime) -> Vec<u8> {
        self.answered.fetch_add(1, Ordering::Relaxed);
        let response = self
            .answer(request, now)
            .unwrap_or_else(|status| OcspResponse {
                response_status: status,
                response_bytes: None,
            });
        response.to_der().unwrap_or_else(|_| {
            // An unsuccessful OCSPResponse is one ENUMERATED: this cannot fail to encode.
            vec![
                0x30,
                0x03,
                0x0a,
                0x01,
                OcspResponseStatus::InternalError as u8,
            ]
        })
    }

    fn answer(
        &self,
        request: &[u8],
        now: OffsetDateTime,
    ) -> Result<OcspResponse, OcspResponseStatus> {
        let book = self.book();
        if let Some(status) = book.refuse_with {
            return Err(status);
        }
        let request =
            OcspRequest::from_der(request).map_err(|_| OcspResponseStatus::MalformedRequest)?;
        if request.tbs_request.request_list.is_empty() {
            return Err(OcspResponseStatus::MalformedRequest);
        }
        let internal = |_| OcspResponseStatus::InternalError;
        let this_update = generalized(now).map_err(internal)?;
        let next_update = generalized(now + book.validity).map_err(internal)?;
        let mut responses = Vec::new();
        for one in &request.tbs_request.request_list {
            responses.push(SingleResponse {
                cert_id: one.req_cert.clone(),
                cert_status: self.status_of(&book, &one.req_cert).map_err(internal)?,
                this_update,
                next_update: Some(next_update),
                single_extensions: None,
            });
        }
        let nonce = request
            .nonce()
            .map(|n| n.to_extension(&Default::default(), &[]))
            .transpose()
            .map_err(|_| OcspResponseStatus::InternalError)?;
        let data = ResponseData {
            version: Version::V1,
            responder_id: ResponderId::ByName(self.signer_cert.tbs_certificate.subject.clone()),
            produced_at: this_update,
            responses,
            response_extensions: nonce.map(|n| vec![n]),
        };
        let tbs = data
            .to_der()
            .map_err(|_| OcspResponseStatus::InternalError)?;
        let (signature_algorithm, signature) =
            pki::sign_der(&self.signer.key, &tbs).map_err(internal)?;
        let basic = BasicOcspResponse {
            tbs_response_data: data,
            signature_algorithm,
            signature,
            certs: self.include_signer.then(|| vec![self.signer_cert.clone()]),
        };
        OcspResponse::successful(basic).map_err(|_| OcspResponseStatus::InternalError)
    }

    fn status_of(&self, book: &Book, id: &CertId) -> Result<CertStatus, PkiError> {
        let ours = self.ca_ids.iter().any(|(oid, name, key)| {
            id.hash_algorithm.oid == *oid
                && id.issuer_name_hash.as_bytes() == &name[..]
                && id.issuer_key_hash.as_bytes() == &key[..]
        });
        if !ours {
            return Ok(CertStatus::unknown());
        }
        let serial = serial_key(id.serial_number.as_bytes());
        if let Some(revocation) = book.revoked.get(&serial) {
            return Ok(CertStatus::Revoked(RevokedInfo {
                revocation_time: generalized(revocation.at)?,
                revocation_reason: revocation.reason,
            }));
        }
        Ok(match &book.issued {
            Some(issued) if !issued.contains(&serial) => CertStatus::unknown(),
            _ => CertStatus::good(),
        })
    }
}

/// Serves `responder` on `listener` until the task is aborted.
pub fn spawn(listener: TcpListener, responder: Arc<OcspResponder>) -> JoinHandle<()> {
    let app = router(responder);
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "OCSP responder emulator stopped");
        }
    })
}

/// The responder's routes: one handler for every path, as a responder URL may have any.
pub fn router(responder: Arc<OcspResponder>) -> Router {
    Router::new().fallback(handle).with_state(responder)
}

fn percent_decode(segment: &str) -> Option<Vec<u8>> {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            out.push(u8::from_str_radix(segment.get(i + 1..i + 3)?, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Some(out)
}

async fn handle(State(responder): State<Arc<OcspResponder>>, request: Request<Body>) -> Response {
    let request_der = match *request.method() {
        Method::POST => {
            let content_type = request
                .headers()
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            if !content_type.eq_ignore_ascii_case("application/ocsp-request") {
                return StatusCode::UNSUPPORTED_MEDIA_TYPE.into_response();
            }
            match axum::body::to_bytes(request.into_body(), MAX_REQUEST).await {
                Ok(body) => body.to_vec(),
                Err(_) => return StatusCode::PAYLOAD_TOO_LARGE.into_response(),
            }
        }
        // GET {url}/{url-encoding of base-64 encoding of the DER encoding of the OCSPRequest}
        Method::GET => request
            .uri()
            .path()
            .rsplit('/')
            .next()
            .and_then(percent_decode)
            .and_then(|b64| base64::engine::general_purpose::STANDARD.decode(b64).ok())
            .unwrap_or_default(),
        _ => return StatusCode::METHOD_NOT_ALLOWED.into_response(),
    };
    let body = responder.respond(&request_der, OffsetDateTime::now_utc());
    let mut response = (StatusCode::OK, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/ocsp-response"),
    );
    // Answers are made per request (nonces): nothing for caches.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serials_are_keyed_without_leading_zeros() {
        assert_eq!(serial_key(&[0, 0x80, 1]), vec![0x80, 1]);
        assert_eq!(serial_key(&[0]), Vec::<u8>::new());
    }

    #[test]
    fn garbage_is_a_malformed_request() {
        let now = OffsetDateTime::now_utc();
        let key = pki::generate_key(pki::KeySpec::EcP256).unwrap();
        let spec = pki::CertSpec::ca(
            pki::Subject::ca("Emulated CA"),
            now - Duration::days(1),
            now + Duration::days(1),
        );
        let responder = OcspResponder::new(&pki::self_signed(key, &spec).unwrap()).unwrap();
        let answer = OcspResponse::from_der(&responder.respond(b"junk", now)).unwrap();
        assert_eq!(answer.response_status, OcspResponseStatus::MalformedRequest);
        responder.refuse_with(Some(OcspResponseStatus::TryLater));
        let answer = OcspResponse::from_der(&responder.respond(b"junk", now)).unwrap();
        assert_eq!(answer.response_status, OcspResponseStatus::TryLater);
    }

    #[tokio::test]
    async fn http_binding() {
        let now = OffsetDateTime::now_utc();
        let ca_spec = pki::CertSpec::ca(
            pki::Subject::ca("Emulated CA"),
            now - Duration::days(1),
            now + Duration::days(1),
        );
        let key = || pki::generate_key(pki::KeySpec::EcP256).unwrap();
        let ca = pki::self_signed(key(), &ca_spec).unwrap();
        let leaf_spec = pki::CertSpec::end_entity(
            pki::Subject::person("Holder", "INN21207198599011"),
            now - Duration::days(1),
            now + Duration::days(1),
        );
        let leaf = pki::issue(&ca, key(), &leaf_spec).unwrap();
        let id = openssl::ocsp::OcspCertId::from_cert(
            MessageDigest::sha1(),
            &leaf.certificate,
            &ca.certificate,
        )
        .unwrap();
        let mut request = openssl::ocsp::OcspRequest::new().unwrap();
        request.add_id(id).unwrap();
        let request = request.to_der().unwrap();

        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}/ocsp", listener.local_addr().unwrap());
        let responder = Arc::new(OcspResponder::new(&ca).unwrap());
        let task = spawn(listener, responder.clone());
        let http = reqwest::Client::new();
        let status_of = |body: &[u8]| {
            let response = OcspResponse::from_der(body).unwrap();
            assert_eq!(response.response_status, OcspResponseStatus::Successful);
            let bytes = response.response_bytes.unwrap();
            let basic = BasicOcspResponse::from_der(bytes.response.as_bytes()).unwrap();
            basic.tbs_response_data.responses[0].cert_status
        };

        let posted = http
            .post(&base)
            .header("content-type", "application/ocsp-request")
            .body(request.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(posted.status(), 200);
        assert_eq!(
            posted.headers()["content-type"],
            "application/ocsp-response"
        );
        assert_eq!(
            status_of(&posted.bytes().await.unwrap()),
            CertStatus::good()
        );

        responder.revoke(&leaf.certificate, now, None);
        let encoded = base64::engine::general_purpose::STANDARD
            .encode(&request)
            .replace('+', "%2B")
            .replace('/', "%2F")
            .replace('=', "%3D");
        let got = http.get(format!("{base}/{encoded}")).send().await.unwrap();
        assert!(matches!(
            status_of(&got.bytes().await.unwrap()),
            CertStatus::Revoked(_)
        ));

        let wrong_type = http.post(&base).body(request).send().await.unwrap();
        assert_eq!(wrong_type.status(), 415);
        assert_eq!(responder.answered(), 2);
        task.abort();
    }
}
