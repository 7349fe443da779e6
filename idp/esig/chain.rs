//! Trust: the configured CAs and CRLs ([`TrustAnchors`]), the certification path from the
//! signer to one of them (built and time-checked by OpenSSL), the key-usage rules, and
//! revocation.
//!
//! Only configured CAs are trusted, never the system store. A configured CA may be an
//! intermediate (X509_V_FLAG_PARTIAL_CHAIN): the operator decides where trust starts.
//!
//! Revocation is checked here rather than with OpenSSL's CRL_CHECK flags because those fail
//! every path for which no CRL is loaded (UNABLE_TO_GET_CRL), while our rule is "check a
//! certificate against a CRL when one is configured for its issuer". Doing it ourselves
//! also lets a refusal say which certificate was revoked and which CRL was stale. OCSP needs
//! the network, so it is not here: [`super::ocsp`] serves a caller that asks responders
//! after the core has accepted the path.

use openssl::asn1::{Asn1Time, Asn1TimeRef};
use openssl::stack::Stack;
use openssl::x509::store::{X509Store, X509StoreBuilder};
use openssl::x509::verify::{X509VerifyFlags, X509VerifyParam};
use openssl::x509::{CrlStatus, X509Crl, X509StoreContext, X509StoreContextRef, X509};
use time::OffsetDateTime;
use x509_parser::certificate::X509Certificate;
use x509_parser::prelude::FromDer;

use super::identity::{CertificateInfo, CrlInfo, CERTIFICATE_LABELS, CRL_LABELS};
use super::refusal::{CertRole, TrustError};
use super::{encoding, Policy, Refusal};

const EXTENDED_KEY_USAGE: &str = "2.5.29.37";

// OpenSSL X509_V_ERR_* codes (x509_vfy.h) that we translate; most are stable across
// versions, the exception is handled in `path_refusal`.
const UNABLE_TO_GET_ISSUER_CERT: i32 = 2;
const UNABLE_TO_DECRYPT_CERT_SIGNATURE: i32 = 4;
const UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY: i32 = 6;
const CERT_SIGNATURE_FAILURE: i32 = 7;
const CERT_NOT_YET_VALID: i32 = 9;
const CERT_HAS_EXPIRED: i32 = 10;
const DEPTH_ZERO_SELF_SIGNED_CERT: i32 = 18;
const SELF_SIGNED_CERT_IN_CHAIN: i32 = 19;
const UNABLE_TO_GET_ISSUER_CERT_LOCALLY: i32 = 20;
const UNABLE_TO_VERIFY_LEAF_SIGNATURE: i32 = 21;
/// INVALID_CA before OpenSSL 3; since 3.0 code 24 is NO_ISSUER_PUBLIC_KEY.
const INVALID_CA_OR_NO_ISSUER_KEY: i32 = 24;
const INVALID_CA_OSSL3: i32 = 79;
const KU_KEY_CERT_SIGN_INVALID_FOR_NON_CA: i32 = 82;
const CA_CERT_MISSING_KEY_USAGE: i32 = 92;
const CERT_UNTRUSTED: i32 = 27;
const CERT_REJECTED: i32 = 28;
const KEYUSAGE_NO_CERTSIGN: i32 = 32;

/// The configured trusted CAs and the CRLs of any CA (trusted or intermediate).
pub struct TrustAnchors {
    cas: Vec<X509>,
    crls: Vec<Crl>,
}

struct Crl {
    crl: X509Crl,
    /// DER of the issuer Name, compared byte-wise with certificates' issuer fields.
    issuer_der: Vec<u8>,
    info: CrlInfo,
    next_update: OffsetDateTime,
}

impl std::fmt::Debug for TrustAnchors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrustAnchors")
            .field("cas", &self.cas.len())
            .field("crls", &self.crls.len())
            .finish()
    }
}

impl TrustAnchors {
    /// Loads CA certificates and CRLs, each given as DER or PEM (a PEM entry may hold
    /// several blocks). A CA must have basicConstraints cA=TRUE and keyUsage keyCertSign; a
    /// CRL must have nextUpdate, and when its issuer is among the CAs, verify with its key.
    pub fn new(ca_ders: &[Vec<u8>], crl_ders: &[Vec<u8>]) -> Result<TrustAnchors, TrustError> {
        let mut cas = Vec::new();
        for (index, item) in ca_ders.iter().enumerate() {
            let ders = encoding::der_items(item, CERTIFICATE_LABELS)
                .map_err(|reason| TrustError::Certificate { index, reason })?;
            for der in ders {
                let bad = |reason: String| TrustError::Certificate { index, reason };
                let (_, parsed) =
                    X509Certificate::from_der(&der).map_err(|e| bad(e.to_string()))?;
                if let Some(reason) = ca_problem(&parsed) {
                    return Err(TrustError::NotCa {
                        subject: CertificateInfo::of(&parsed, &der).subject,
                        reason,
                    });
                }
                cas.push(X509::from_der(&der).map_err(|e| bad(e.to_string()))?);
            }
        }
        let mut crls = Vec::new();
        for (index, item) in crl_ders.iter().enumerate() {
            let bad = |reason: String| TrustError::Crl { index, reason };
            for der in encoding::der_items(item, CRL_LABELS).map_err(bad)? {
                crls.push(load_crl(index, &der, &cas)?);
            }
        }
        Ok(TrustAnchors { cas, crls })
    }

    /// The configured CAs, described.
    pub fn certificates(&self) -> Vec<CertificateInfo> {
        self.cas
            .iter()
            .filter_map(|c| c.to_der().ok())
            .filter_map(|der| CertificateInfo::from_der(&der).ok())
            .collect()
    }

    /// The configured CRLs, described.
    pub fn crls(&self) -> Vec<CrlInfo> {
        self.crls.iter().map(|c| c.info.clone()).collect()
    }

    fn is_anchor(&self, cert: &X509) -> bool {
        let der = cert.to_der().ok();
        der.is_some() && self.cas.iter().any(|ca| ca.to_der().ok() == der)
    }
}

fn load_crl(index: usize, der: &[u8], cas: &[X509]) -> Result<Crl, TrustError> {
    let bad = |reason: String| TrustError::Crl { index, reason };
    let info = CrlInfo::from_der(der).map_err(bad)?;
    let (_, parsed) = x509_parser::revocation_list::CertificateRevocationList::from_der(der)
        .map_err(|e| bad(e.to_string()))?;
    let issuer_der = parsed.issuer().as_raw().to_vec();
    let crl = X509Crl::from_der(der).map_err(|e| bad(e.to_string()))?;
    let Some(next_update) = info.next_update else {
        return Err(TrustError::CrlWithoutNextUpdate {
            issuer: info.issuer,
        });
    };
    // Verifying now against a configured issuer catches a wrong file at `idp trust add`;
    // CRLs of intermediates are verified when a path through them is checked.
    let issuers: Vec<&X509> = cas
        .iter()
        .filter(|ca| ca.subject_name().to_der().ok().as_deref() == Some(&issuer_der[..]))
        .collect();
    let verifies = |ca: &&X509| {
        ca.public_key()
            .and_then(|key| crl.verify(&key))
            .unwrap_or(false)
    };
    if !issuers.is_empty() && !issuers.iter().any(verifies) {
        return Err(bad(
            "the signature does not verify with its issuer's key".into()
        ));
    }
    Ok(Crl {
        crl,
        issuer_der,
        info,
        next_update,
    })
}

/// Why `cert` cannot act as a CA, if it cannot. keyUsage is required, not merely checked
/// when present: RFC 5280 §4.2.1.3 obliges CAs to include it.
fn ca_problem(cert: &X509Certificate<'_>) -> Option<String> {
    match cert.basic_constraints() {
        Ok(Some(bc)) if bc.value.ca => {}
        Ok(_) => return Some("basicConstraints cA=TRUE is missing".into()),
        Err(e) => return Some(format!("basicConstraints: {e}")),
    }
    match cert.key_usage() {
        Ok(Some(ku)) if ku.value.key_cert_sign() => None,
        Ok(Some(_)) => Some("keyUsage lacks keyCertSign".into()),
        Ok(None) => Some("keyUsage (with keyCertSign) is missing".into()),
        Err(e) => Some(format!("keyUsage: {e}")),
    }
}

/// Builds and checks the path from `leaf` through CMS-supplied `intermediates` to a
/// configured CA at time `now`. Returns it leaf first, trust anchor last.
pub(crate) fn build_path(
    anchors: &TrustAnchors,
    leaf: &[u8],
    intermediates: &[Vec<u8>],
    now: OffsetDateTime,
) -> Result<Vec<X509>, Refusal> {
    let malformed = |e: openssl::error::ErrorStack| Refusal::malformed(format!("path: {e}"));
    let leaf = X509::from_der(leaf).map_err(malformed)?;
    let mut untrusted = Stack::new().map_err(malformed)?;
    for der in intermediates {
        untrusted
            .push(X509::from_der(der).map_err(malformed)?)
            .map_err(malformed)?;
    }
    let store = store_at(&anchors.cas, now)?;

    let mut ctx = X509StoreContext::new().map_err(malformed)?;
    ctx.init(&store, &leaf, &untrusted, |ctx| {
        if ctx.verify_cert()? {
            let chain = ctx
                .chain()
                .map(|c| c.iter().map(|x| x.to_owned()).collect());
            Ok(chain.ok_or_else(|| Refusal::malformed("OpenSSL returned no path")))
        } else {
            Ok(Err(path_refusal(ctx, anchors)))
        }
    })
    .map_err(malformed)?
}

/// An OpenSSL store trusting exactly `cas` (each may be an intermediate: PARTIAL_CHAIN) and
/// verifying at `now`. Also used for OCSP responder certificates, trusting only the CA
/// whose certificate is asked about.
pub(crate) fn store_at(cas: &[X509], now: OffsetDateTime) -> Result<X509Store, Refusal> {
    let malformed = |e: openssl::error::ErrorStack| Refusal::malformed(format!("store: {e}"));
    let mut store = X509StoreBuilder::new().map_err(malformed)?;
    for ca in cas {
        store.add_cert(ca.clone()).map_err(malformed)?;
    }
    let mut param = X509VerifyParam::new().map_err(malformed)?;
    // time_t is i64 here but narrower on some targets.
    #[allow(clippy::useless_conversion)]
    let at = now
        .unix_timestamp()
        .try_into()
        .map_err(|_| Refusal::malformed("time out of range"))?;
    param.set_time(at);
    param
        .set_flags(X509VerifyFlags::PARTIAL_CHAIN)
        .map_err(malformed)?;
    store.set_param(&param).map_err(malformed)?;
    Ok(store.build())
}

/// Translates OpenSSL's verification error into a refusal naming the certificate.
fn path_refusal(ctx: &X509StoreContextRef, anchors: &TrustAnchors) -> Refusal {
    let error = ctx.error();
    let depth = ctx.error_depth();
    let cert = ctx.current_cert().map(|c| c.to_owned());
    let info = cert
        .as_ref()
        .and_then(|c| c.to_der().ok())
        .and_then(|der| CertificateInfo::from_der(&der).ok());
    let subject = info
        .as_ref()
        .map_or_else(|| "?".into(), |i| i.subject.clone());
    let role = match (depth, &cert) {
        (0, _) => CertRole::Signer,
        (_, Some(c)) if anchors.is_anchor(c) => CertRole::TrustAnchor,
        _ => CertRole::Intermediate,
    };
    let reason = error.error_string().to_owned();
    let code = match error.as_raw() {
        INVALID_CA_OR_NO_ISSUER_KEY if openssl::version::number() >= 0x3000_0000 => {
            UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY
        }
        INVALID_CA_OR_NO_ISSUER_KEY => INVALID_CA_OSSL3,
        other => other,
    };
    match code {
        CERT_HAS_EXPIRED => Refusal::CertificateExpired {
            role,
            subject,
            not_after: info.map_or(OffsetDateTime::UNIX_EPOCH, |i| i.not_after),
        },
        CERT_NOT_YET_VALID => Refusal::CertificateNotYetValid {
            role,
            subject,
            not_before: info.map_or(OffsetDateTime::UNIX_EPOCH, |i| i.not_before),
        },
        UNABLE_TO_GET_ISSUER_CERT
        | UNABLE_TO_DECRYPT_CERT_SIGNATURE
        | UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY
        | CERT_SIGNATURE_FAILURE
        | DEPTH_ZERO_SELF_SIGNED_CERT
        | SELF_SIGNED_CERT_IN_CHAIN
        | UNABLE_TO_GET_ISSUER_CERT_LOCALLY
        | UNABLE_TO_VERIFY_LEAF_SIGNATURE
        | CERT_UNTRUSTED
        | CERT_REJECTED => Refusal::UntrustedIssuer {
            role,
            subject,
            reason,
        },
        INVALID_CA_OSSL3
        | KEYUSAGE_NO_CERTSIGN
        | KU_KEY_CERT_SIGN_INVALID_FOR_NON_CA
        | CA_CERT_MISSING_KEY_USAGE => Refusal::KeyUsage {
            role,
            subject,
            detail: reason,
        },
        _ => Refusal::CertificateInvalid {
            role,
            subject,
            reason,
        },
    }
}

pub(crate) fn role_at(index: usize, len: usize) -> CertRole {
    match index {
        0 => CertRole::Signer,
        i if i + 1 == len => CertRole::TrustAnchor,
        _ => CertRole::Intermediate,
    }
}

pub(crate) fn parsed<'a>(der: &'a [u8]) -> Result<X509Certificate<'a>, Refusal> {
    X509Certificate::from_der(der)
        .map(|(_, c)| c)
        .map_err(|e| Refusal::malformed(format!("certificate: {e}")))
}

/// Key usage rules on the built path: the signer needs keyUsage with digitalSignature
/// (required, not only checked when present: a certificate that does not say it may sign
/// should not sign us in) and, when the policy lists EKUs, one of them; every CA above it
/// needs cA=TRUE and keyCertSign (see [`ca_problem`]).
pub(crate) fn check_usage(path: &[X509], policy: &Policy) -> Result<(), Refusal> {
    let ders = path
        .iter()
        .map(|c| c.to_der())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| Refusal::malformed(format!("certificate: {e}")))?;
    let Some((leaf_der, cas)) = ders.split_first() else {
        return Err(Refusal::malformed("empty path"));
    };
    let leaf = parsed(leaf_der)?;
    let subject = || CertificateInfo::of(&leaf, leaf_der).subject;
    let key_usage = |detail: &str| Refusal::KeyUsage {
        role: CertRole::Signer,
        subject: subject(),
        detail: detail.into(),
    };
    match leaf.key_usage() {
        Ok(Some(ku)) if ku.value.digital_signature() => {}
        Ok(Some(_)) => return Err(key_usage("digitalSignature is not set")),
        Ok(None) => {
            return Err(key_usage(
                "no keyUsage extension; digitalSignature is required",
            ))
        }
        Err(e) => return Err(key_usage(&format!("unreadable keyUsage: {e}"))),
    }
    if !policy.required_eku.is_empty() {
        let present = extended_key_usages(&leaf)?;
        // anyExtendedKeyUsage does not satisfy a policy that names its EKUs: the policy
        // exists to admit only certificates issued for this purpose.
        if !policy.required_eku.iter().any(|r| present.contains(r)) {
            return Err(Refusal::ExtendedKeyUsage {
                subject: subject(),
                required: policy.required_eku.clone(),
            });
        }
    }
    for (i, der) in cas.iter().enumerate() {
        let cert = parsed(der)?;
        if let Some(detail) = ca_problem(&cert) {
            return Err(Refusal::KeyUsage {
                role: role_at(i + 1, ders.len()),
                subject: CertificateInfo::of(&cert, der).subject,
                detail,
            });
        }
    }
    Ok(())
}

/// EKU OIDs of `cert` (dotted), decoded with x509-cert, which keeps every OID as is.
fn extended_key_usages(cert: &X509Certificate<'_>) -> Result<Vec<String>, Refusal> {
    use der::Decode;
    let Some(ext) = cert
        .extensions()
        .iter()
        .find(|e| e.oid.to_id_string() == EXTENDED_KEY_USAGE)
    else {
        return Ok(Vec::new());
    };
    let eku = x509_cert::ext::pkix::ExtendedKeyUsage::from_der(ext.value)
        .map_err(|e| Refusal::malformed(format!("extendedKeyUsage: {e}")))?;
    Ok(eku.0.iter().map(|oid| oid.to_string()).collect())
}

/// Checks every certificate below the trust anchor against the configured CRLs of its
/// issuer (none configured: not checked). A CRL must verify with the issuer's key and the
/// issuer must have cRLSign; a revoked certificate is refused even if that CRL is stale,
/// and a stale newest CRL is refused because it can no longer vouch for the others.
pub(crate) fn check_revocation(
    path: &[X509],
    anchors: &TrustAnchors,
    now: OffsetDateTime,
) -> Result<(), Refusal> {
    for (i, pair) in path.windows(2).enumerate() {
        let (cert, issuer) = (&pair[0], &pair[1]);
        let der = cert
            .to_der()
            .map_err(|e| Refusal::malformed(e.to_string()))?;
        let subject_cert = parsed(&der)?;
        let issuer_der = subject_cert.issuer().as_raw();
        let candidates: Vec<&Crl> = anchors
            .crls
            .iter()
            .filter(|c| c.issuer_der == issuer_der)
            .collect();
        let Some(first) = candidates.first() else {
            continue;
        };
        let crl_invalid = |detail: &str| Refusal::CrlInvalid {
            issuer: first.info.issuer.clone(),
            detail: detail.into(),
        };
        let issuer_cert_der = issuer
            .to_der()
            .map_err(|e| Refusal::malformed(e.to_string()))?;
        match parsed(&issuer_cert_der)?.key_usage() {
            Ok(Some(ku)) if ku.value.crl_sign() => {}
            _ => return Err(crl_invalid("the issuer's keyUsage lacks cRLSign")),
        }
        let key = issuer
            .public_key()
            .map_err(|e| Refusal::malformed(e.to_string()))?;
        let verified: Vec<&Crl> = candidates
            .into_iter()
            .filter(|c| c.crl.verify(&key).unwrap_or(false))
            .collect();
        if verified.is_empty() {
            return Err(crl_invalid("no CRL of this issuer verifies with its key"));
        }
        for crl in &verified {
            if let CrlStatus::Revoked(entry) = crl.crl.get_by_serial(cert.serial_number()) {
                let info = CertificateInfo::of(&subject_cert, &der);
                return Err(Refusal::Revoked {
                    role: role_at(i, path.len()),
                    subject: info.subject,
                    serial_hex: info.serial_hex,
                    revoked_at: offset_time(entry.revocation_date()),
                });
            }
        }
        let newest = verified.iter().max_by_key(|c| c.info.this_update);
        if let Some(newest) = newest.filter(|c| c.next_update < now) {
            return Err(Refusal::CrlExpired {
                issuer: newest.info.issuer.clone(),
                next_update: newest.next_update,
            });
        }
    }
    Ok(())
}

fn offset_time(t: &Asn1TimeRef) -> OffsetDateTime {
    Asn1Time::from_unix(0)
        .and_then(|epoch| epoch.diff(t))
        .map(|d| i64::from(d.days) * 86_400 + i64::from(d.secs))
        .ok()
        .and_then(|secs| OffsetDateTime::from_unix_timestamp(secs).ok())
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}
