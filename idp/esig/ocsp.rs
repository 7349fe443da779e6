//! OCSP (RFC 6960) for the certificates of a verified path: which ones to ask about and
//! where, the DER OCSPRequest, and whether a responder's DER OCSPResponse vouches for a
//! certificate. Pure like the rest of the core: the caller
//! ([`crate::authn::signature::verify`]) posts each request through
//! [`crate::adapters::ocsp`] and hands the answer back here with `now`.
//!
//! **Who is asked.** Every certificate of the path below the trust anchor that names a
//! responder in its authorityInfoAccess (id-ad-ocsp) with an `http://` URL, the first such
//! URL. OCSP answers are signed, so plain HTTP is what RFC 6960 Appendix A describes (and the
//! build has no TLS client); other schemes are skipped. A certificate naming no responder is
//! left to the CRLs ([`super::chain::check_revocation`]); the trust anchor to the operator.
//!
//! **The request** is OpenSSL's (one CertID, SHA-1: the hash responders must support, RFC
//! 5019 §2.1.1), plus a nonce extension (RFC 8954) added through x509-ocsp's typed
//! structures, which the openssl crate cannot do.
//!
//! **An answer vouches** when: responseStatus is successful; the BasicOCSPResponse is signed
//! by the issuing CA itself or by a responder certificate that this CA issued with EKU
//! id-kp-OCSPSigning (RFC 6960 §4.2.2.2), valid at `now` — OpenSSL's `OCSP_basic_verify`
//! against a store trusting only that CA, so neither another trusted CA nor an "explicitly
//! trusted" root can sign for it; it holds a SingleResponse for our CertID; and that says
//! `good`, with thisUpdate not after `now` and nextUpdate not before it (± [`LEEWAY`]; without
//! nextUpdate, thisUpdate at most [`MAX_AGE_WITHOUT_NEXT_UPDATE`] old); and the nonce, when
//! the responder echoes one, is ours. Responders that pre-produce answers (RFC 5019) echo no
//! nonce; such answers are accepted on their freshness. A signed `revoked` is refused as
//! [`Refusal::Revoked`] whatever its age (revocation does not expire), `unknown` as
//! [`Refusal::OcspUnknown`]; anything else is [`Refusal::OcspInvalid`], except
//! `tryLater`/`internalError`, which say the responder is unavailable. The responder's own
//! certificate is not checked for revocation (RFC 6960 §4.2.2.2.1 leaves that to the CA's
//! choice, usually id-pkix-ocsp-nocheck).

use std::fmt;

use der::{Decode, Encode};
use openssl::hash::MessageDigest;
use openssl::ocsp::{
    OcspCertId, OcspCertStatus, OcspFlag, OcspRequest, OcspResponse, OcspResponseStatus,
};
use openssl::stack::Stack;
use openssl::x509::X509;
use time::{Duration, OffsetDateTime};
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::AsExtension;
use x509_parser::certificate::X509Certificate;

use super::chain;
use super::identity::CertificateInfo;
use super::refusal::CertRole;
use super::Refusal;

/// id-ad-ocsp: the access method naming an OCSP responder in authorityInfoAccess.
pub const ID_AD_OCSP: &str = "1.3.6.1.5.5.7.48.1";
/// id-pe-authorityInfoAccess.
pub const AUTHORITY_INFO_ACCESS: &str = "1.3.6.1.5.5.7.1.1";
/// Clock difference tolerated between us and a responder.
pub const LEEWAY: Duration = Duration::minutes(5);
/// Without nextUpdate "newer information is always available" (RFC 6960 §4.2.2.1): we have
/// just asked, so such an answer must be recent.
pub const MAX_AGE_WITHOUT_NEXT_UPDATE: Duration = Duration::hours(1);

/// One question for a responder: the status of one certificate of the path.
pub struct OcspQuery {
    /// Where to POST [`OcspQuery::request_der`] (from the certificate, `http://`).
    pub url: String,
    /// The DER OCSPRequest.
    pub request_der: Vec<u8>,
    pub role: CertRole,
    pub subject: String,
    pub serial_hex: String,
    cert: X509,
    issuer: X509,
    cert_id: x509_ocsp::CertId,
    nonce: Option<Vec<u8>>,
}

impl fmt::Debug for OcspQuery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OcspQuery")
            .field("url", &self.url)
            .field("role", &self.role)
            .field("subject", &self.subject)
            .field("serial_hex", &self.serial_hex)
            .finish_non_exhaustive()
    }
}

impl OcspQuery {
    /// The refusal when the responder cannot be reached or does not answer in time.
    pub fn unavailable(&self, detail: impl fmt::Display) -> Refusal {
        Refusal::OcspUnavailable {
            responder: self.url.clone(),
            detail: detail.to_string(),
        }
    }

    /// The refusal when the responder's answer cannot be used.
    pub fn invalid(&self, detail: impl fmt::Display) -> Refusal {
        Refusal::OcspInvalid {
            responder: self.url.clone(),
            detail: detail.to_string(),
        }
    }
}

/// The queries for a verified path (signer first, anchor last; see
/// [`super::verify_with_path`]): one per certificate below the anchor that names an `http://`
/// responder, signer first. `nonce` (1 to 32 bytes, RFC 8954) goes into every request; `None`
/// sends none.
pub fn requests_for(path: &[X509], nonce: Option<&[u8]>) -> Result<Vec<OcspQuery>, Refusal> {
    let mut queries = Vec::new();
    for (i, pair) in path.windows(2).enumerate() {
        let (cert, issuer) = (&pair[0], &pair[1]);
        let der = cert
            .to_der()
            .map_err(|e| Refusal::malformed(format!("certificate: {e}")))?;
        let parsed = chain::parsed(&der)?;
        let info = CertificateInfo::of(&parsed, &der);
        let role = chain::role_at(i, path.len());
        let url = responder_url(&parsed).map_err(|reason| Refusal::CertificateInvalid {
            role,
            subject: info.subject.clone(),
            reason,
        })?;
        let Some(url) = url else {
            continue;
        };
        let (request_der, cert_id) = build_request(cert, issuer, nonce)?;
        queries.push(OcspQuery {
            url,
            request_der,
            role,
            subject: info.subject,
            serial_hex: info.serial_hex,
            cert: cert.clone(),
            issuer: issuer.clone(),
            cert_id,
            nonce: nonce.map(<[u8]>::to_vec),
        });
    }
    Ok(queries)
}

/// The first `http://` OCSP responder URL of the certificate's authorityInfoAccess; `Err`
/// when the extension cannot be read.
pub(crate) fn responder_url(cert: &X509Certificate<'_>) -> Result<Option<String>, String> {
    let Some(ext) = cert
        .extensions()
        .iter()
        .find(|e| e.oid.to_id_string() == AUTHORITY_INFO_ACCESS)
    else {
        return Ok(None);
    };
    let aia = x509_cert::ext::pkix::AuthorityInfoAccessSyntax::from_der(ext.value)
        .map_err(|e| format!("unreadable authorityInfoAccess: {e}"))?;
    let found = aia.0.iter().find_map(|access| {
        let GeneralName::UniformResourceIdentifier(uri) = &access.access_location else {
            return None;
        };
        if access.access_method.to_string() != ID_AD_OCSP {
            return None;
        }
        let url = url::Url::parse(uri.as_str()).ok()?;
        (url.scheme() == "http" && url.host().is_some()).then(|| url.to_string())
    });
    Ok(found)
}

fn build_request(
    cert: &X509,
    issuer: &X509,
    nonce: Option<&[u8]>,
) -> Result<(Vec<u8>, x509_ocsp::CertId), Refusal> {
    let bad = |e: &dyn fmt::Display| Refusal::malformed(format!("OCSP request: {e}"));
    let id = OcspCertId::from_cert(MessageDigest::sha1(), cert, issuer).map_err(|e| bad(&e))?;
    let mut request = OcspRequest::new().map_err(|e| bad(&e))?;
    request.add_id(id).map_err(|e| bad(&e))?;
    let der = request.to_der().map_err(|e| bad(&e))?;
    let mut typed = x509_ocsp::OcspRequest::from_der(&der).map_err(|e| bad(&e))?;
    let cert_id = typed
        .tbs_request
        .request_list
        .first()
        .map(|r| r.req_cert.clone())
        .ok_or_else(|| bad(&"no CertID"))?;
    if let Some(nonce) = nonce {
        let extension = x509_ocsp::ext::Nonce::new(nonce)
            .and_then(|n| n.to_extension(&Default::default(), &[]))
            .map_err(|e| bad(&e))?;
        typed.tbs_request.request_extensions = Some(vec![extension]);
    }
    Ok((typed.to_der().map_err(|e| bad(&e))?, cert_id))
}

/// Judges the responder's DER OCSPResponse to `query` at `now`; see the module doc.
pub fn check_response(query: &OcspQuery, der: &[u8], now: OffsetDateTime) -> Result<(), Refusal> {
    let response = OcspResponse::from_der(der)
        .map_err(|e| query.invalid(format!("not an OCSPResponse: {e}")))?;
    let status = response.status();
    if status != OcspResponseStatus::SUCCESSFUL {
        let name = status_name(status);
        return Err(
            if status == OcspResponseStatus::TRY_LATER
                || status == OcspResponseStatus::INTERNAL_ERROR
            {
                query.unavailable(format!("the responder answered {name}"))
            } else {
                query.invalid(format!("responseStatus {name}"))
            },
        );
    }
    let basic = response
        .basic()
        .map_err(|e| query.invalid(format!("not a BasicOCSPResponse: {e}")))?;

    // Signature and signer: the issuer, or its delegate with id-kp-OCSPSigning. NO_EXPLICIT:
    // never fall back to "the root is explicitly trusted for OCSP signing".
    let store = chain::store_at(std::slice::from_ref(&query.issuer), now)?;
    let mut certs = Stack::new().map_err(|e| Refusal::malformed(e.to_string()))?;
    certs
        .push(query.issuer.clone())
        .map_err(|e| Refusal::malformed(e.to_string()))?;
    basic
        .verify(&certs, &store, OcspFlag::NO_EXPLICIT)
        .map_err(|e| query.invalid(format!("signature or signer not acceptable: {e}")))?;

    let id = OcspCertId::from_cert(MessageDigest::sha1(), &query.cert, &query.issuer)
        .map_err(|e| Refusal::malformed(e.to_string()))?;
    let Some(found) = basic.find_status(&id) else {
        return Err(query.invalid("no answer about this certificate"));
    };
    // The openssl crate gives thisUpdate/nextUpdate/revocationTime only as printable strings
    // and no nonce at all, so those are read from the same (now verified) DER, typed.
    let (single, response_nonce) = typed_single(der, &query.cert_id)
        .map_err(|detail| query.invalid(format!("unreadable BasicOCSPResponse: {detail}")))?;

    if found.status == OcspCertStatus::REVOKED {
        let revoked_at = match &single.cert_status {
            x509_ocsp::CertStatus::Revoked(info) => time_of(&info.revocation_time),
            _ => None,
        };
        return Err(Refusal::Revoked {
            role: query.role,
            subject: query.subject.clone(),
            serial_hex: query.serial_hex.clone(),
            revoked_at: revoked_at.unwrap_or(OffsetDateTime::UNIX_EPOCH),
        });
    }
    check_window(query, &single, now)?;
    if let (Some(ours), Some(theirs)) = (&query.nonce, &response_nonce) {
        if ours != theirs {
            return Err(query.invalid("the nonce is not the one we sent (a replayed answer?)"));
        }
    }
    if found.status == OcspCertStatus::GOOD {
        Ok(())
    } else {
        Err(Refusal::OcspUnknown {
            role: query.role,
            subject: query.subject.clone(),
            serial_hex: query.serial_hex.clone(),
            responder: query.url.clone(),
        })
    }
}

/// The SingleResponse about `id` and the response's nonce, decoded with x509-ocsp.
fn typed_single(
    der: &[u8],
    id: &x509_ocsp::CertId,
) -> Result<(x509_ocsp::SingleResponse, Option<Vec<u8>>), String> {
    let response = x509_ocsp::OcspResponse::from_der(der).map_err(|e| e.to_string())?;
    let bytes = response
        .response_bytes
        .ok_or_else(|| "no responseBytes".to_string())?;
    let basic = x509_ocsp::BasicOcspResponse::from_der(bytes.response.as_bytes())
        .map_err(|e| e.to_string())?;
    let nonce = basic.nonce().map(|n| n.0.as_bytes().to_vec());
    let single = basic
        .tbs_response_data
        .responses
        .into_iter()
        .find(|r| same_cert_id(&r.cert_id, id))
        .ok_or_else(|| "no SingleResponse for this certificate".to_string())?;
    Ok((single, nonce))
}

/// CertID equality as OpenSSL's `OCSP_id_cmp` has it: hash algorithm OID (parameters, NULL or
/// absent, do not matter), both hashes, serial.
fn same_cert_id(a: &x509_ocsp::CertId, b: &x509_ocsp::CertId) -> bool {
    a.hash_algorithm.oid == b.hash_algorithm.oid
        && a.issuer_name_hash == b.issuer_name_hash
        && a.issuer_key_hash == b.issuer_key_hash
        && a.serial_number == b.serial_number
}

fn time_of(t: &x509_ocsp::OcspGeneralizedTime) -> Option<OffsetDateTime> {
    let secs = i64::try_from(t.0.to_unix_duration().as_secs()).ok()?;
    OffsetDateTime::from_unix_timestamp(secs).ok()
}

fn check_window(
    query: &OcspQuery,
    single: &x509_ocsp::SingleResponse,
    now: OffsetDateTime,
) -> Result<(), Refusal> {
    let this_update =
        time_of(&single.this_update).ok_or_else(|| query.invalid("thisUpdate out of range"))?;
    if this_update > now + LEEWAY {
        return Err(query.invalid(format!("thisUpdate {this_update} is in the future")));
    }
    match single.next_update.as_ref().map(time_of) {
        Some(None) => Err(query.invalid("nextUpdate out of range")),
        Some(Some(next_update)) if next_update < now - LEEWAY => {
            Err(query.invalid(format!("stale: nextUpdate {next_update} has passed")))
        }
        None if this_update < now - MAX_AGE_WITHOUT_NEXT_UPDATE => {
            Err(query.invalid(format!("stale: thisUpdate {this_update} and no nextUpdate")))
        }
        _ => Ok(()),
    }
}

fn status_name(status: OcspResponseStatus) -> &'static str {
    match status {
        s if s == OcspResponseStatus::MALFORMED_REQUEST => "malformedRequest",
        s if s == OcspResponseStatus::INTERNAL_ERROR => "internalError",
        s if s == OcspResponseStatus::TRY_LATER => "tryLater",
        s if s == OcspResponseStatus::SIG_REQUIRED => "sigRequired",
        s if s == OcspResponseStatus::UNAUTHORIZED => "unauthorized",
        _ => "an unknown status",
    }
}
