//! Why a signature was refused ([`Refusal`]), why trust material was rejected
//! ([`TrustError`]), and the certificate roles named in refusals.
//!
//! `code()` strings are part of the JSON API (error codes) and of the i18n catalogue keys
//! (`esig.error.{code}`): never rename one, only add.

use std::fmt;

use time::OffsetDateTime;

/// Where a certificate sits in the verified path, so a refusal can say which one failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CertRole {
    /// The certificate whose key made the signature.
    Signer,
    /// A CA certificate between the signer and the trust anchor (usually supplied in the CMS).
    Intermediate,
    /// A configured trusted CA.
    TrustAnchor,
}

impl fmt::Display for CertRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CertRole::Signer => "signer certificate",
            CertRole::Intermediate => "intermediate CA certificate",
            CertRole::TrustAnchor => "trusted CA certificate",
        })
    }
}

/// One reason a signature is not accepted as proof of identity.
///
/// Subjects and issuers are RFC 4514 strings; they are for logs and support, the user sees
/// the catalogue text behind [`Refusal::message_key`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Refusal {
    #[error("malformed input: {0}")]
    Malformed(String),
    #[error("the signed content is not the issued challenge")]
    WrongChallenge,
    #[error("the CMS carries no signed content and none was supplied (detached)")]
    ContentMissing,
    #[error("the CMS has no SignerInfo")]
    NoSigner,
    #[error("the CMS has {0} SignerInfos; exactly one is accepted")]
    MultipleSigners(usize),
    #[error("the signer's certificate is not among the CMS certificates")]
    SignerCertificateMissing,
    #[error("content type mismatch: expected {expected}, found {found}")]
    ContentTypeMismatch { expected: String, found: String },
    #[error("the messageDigest signed attribute does not match the content")]
    MessageDigestMismatch,
    #[error("signed attributes are required; missing: {missing}")]
    MissingSignedAttributes { missing: &'static str },
    #[error("the signature does not verify: {detail}")]
    BadSignature { detail: String },
    #[error("unsupported algorithm {oid} ({name})")]
    UnsupportedAlgorithm { oid: String, name: String },
    #[error("{role} {subject} does not chain to a trusted CA: {reason}")]
    UntrustedIssuer {
        role: CertRole,
        subject: String,
        reason: String,
    },
    #[error("{role} {subject} expired at {not_after}")]
    CertificateExpired {
        role: CertRole,
        subject: String,
        not_after: OffsetDateTime,
    },
    #[error("{role} {subject} is not valid before {not_before}")]
    CertificateNotYetValid {
        role: CertRole,
        subject: String,
        not_before: OffsetDateTime,
    },
    #[error("{role} {subject} is not acceptable: {reason}")]
    CertificateInvalid {
        role: CertRole,
        subject: String,
        reason: String,
    },
    #[error("{role} {subject}: key usage: {detail}")]
    KeyUsage {
        role: CertRole,
        subject: String,
        detail: String,
    },
    #[error(
        "signer certificate {subject} has none of the required extended key usages {required:?}"
    )]
    ExtendedKeyUsage {
        subject: String,
        required: Vec<String>,
    },
    #[error("{role} {subject} (serial {serial_hex}) was revoked at {revoked_at}")]
    Revoked {
        role: CertRole,
        subject: String,
        serial_hex: String,
        revoked_at: OffsetDateTime,
    },
    #[error("the CRL of {issuer} expired at {next_update}")]
    CrlExpired {
        issuer: String,
        next_update: OffsetDateTime,
    },
    #[error("the CRL of {issuer} cannot be used: {detail}")]
    CrlInvalid { issuer: String, detail: String },
    #[error("no taxpayer identity in the signer certificate: {detail}")]
    IdentityMissing { detail: String },
    /// The OCSP responder does not know the certificate (RFC 6960 `unknown`): it may be
    /// forged in the name of the CA, so it is not accepted.
    #[error("OCSP responder {responder} does not know {role} {subject} (serial {serial_hex})")]
    OcspUnknown {
        role: CertRole,
        subject: String,
        serial_hex: String,
        responder: String,
    },
    /// The responder answered, but the answer proves nothing: not successful, unsigned or
    /// signed by someone not entitled to, about another certificate, stale, wrong nonce.
    #[error("the answer of OCSP responder {responder} cannot be used: {detail}")]
    OcspInvalid { responder: String, detail: String },
    /// The responder could not be reached, did not answer in time or asked to try later.
    #[error("OCSP responder {responder} is unavailable: {detail}")]
    OcspUnavailable { responder: String, detail: String },
}

impl Refusal {
    /// Every code [`Refusal::code`] can return, for the i18n catalogue and API documentation.
    pub const ALL_CODES: &'static [&'static str] = &[
        "malformed",
        "wrong_challenge",
        "content_missing",
        "no_signer",
        "multiple_signers",
        "signer_certificate_missing",
        "content_type_mismatch",
        "message_digest_mismatch",
        "missing_signed_attributes",
        "bad_signature",
        "unsupported_algorithm",
        "untrusted_issuer",
        "certificate_expired",
        "certificate_not_yet_valid",
        "certificate_invalid",
        "key_usage",
        "extended_key_usage",
        "revoked",
        "crl_expired",
        "crl_invalid",
        "identity_missing",
        "ocsp_unknown",
        "ocsp_invalid",
        "ocsp_unavailable",
    ];

    /// Stable snake_case code, used as the JSON API error code.
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::Malformed(_) => "malformed",
            Refusal::WrongChallenge => "wrong_challenge",
            Refusal::ContentMissing => "content_missing",
            Refusal::NoSigner => "no_signer",
            Refusal::MultipleSigners(_) => "multiple_signers",
            Refusal::SignerCertificateMissing => "signer_certificate_missing",
            Refusal::ContentTypeMismatch { .. } => "content_type_mismatch",
            Refusal::MessageDigestMismatch => "message_digest_mismatch",
            Refusal::MissingSignedAttributes { .. } => "missing_signed_attributes",
            Refusal::BadSignature { .. } => "bad_signature",
            Refusal::UnsupportedAlgorithm { .. } => "unsupported_algorithm",
            Refusal::UntrustedIssuer { .. } => "untrusted_issuer",
            Refusal::CertificateExpired { .. } => "certificate_expired",
            Refusal::CertificateNotYetValid { .. } => "certificate_not_yet_valid",
            Refusal::CertificateInvalid { .. } => "certificate_invalid",
            Refusal::KeyUsage { .. } => "key_usage",
            Refusal::ExtendedKeyUsage { .. } => "extended_key_usage",
            Refusal::Revoked { .. } => "revoked",
            Refusal::CrlExpired { .. } => "crl_expired",
            Refusal::CrlInvalid { .. } => "crl_invalid",
            Refusal::IdentityMissing { .. } => "identity_missing",
            Refusal::OcspUnknown { .. } => "ocsp_unknown",
            Refusal::OcspInvalid { .. } => "ocsp_invalid",
            Refusal::OcspUnavailable { .. } => "ocsp_unavailable",
        }
    }

    /// Catalogue key of the message shown to a person: `esig.error.{code}`.
    pub fn message_key(&self) -> String {
        format!("esig.error.{}", self.code())
    }

    pub(crate) fn malformed(what: impl fmt::Display) -> Refusal {
        Refusal::Malformed(what.to_string())
    }

    pub(crate) fn unsupported(oid: impl fmt::Display, name: impl Into<String>) -> Refusal {
        Refusal::UnsupportedAlgorithm {
            oid: oid.to_string(),
            name: name.into(),
        }
    }
}

/// Why configured trust material (a CA certificate or a CRL) cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TrustError {
    #[error("certificate #{index} cannot be read: {reason}")]
    Certificate { index: usize, reason: String },
    #[error("certificate {subject} cannot be a trusted CA: {reason}")]
    NotCa { subject: String, reason: String },
    #[error("CRL #{index} cannot be read: {reason}")]
    Crl { index: usize, reason: String },
    #[error("the CRL of {issuer} has no nextUpdate, so its freshness cannot be judged")]
    CrlWithoutNextUpdate { issuer: String },
}

/// Why an [`IdentityMapping`](super::IdentityMapping) or a policy setting was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MappingError {
    #[error("{setting}: {value:?} is neither a dotted OID nor a known attribute name")]
    UnknownAttribute {
        setting: &'static str,
        value: String,
    },
    #[error("{setting}: prefix {value:?} must not contain digits")]
    BadPrefix {
        setting: &'static str,
        value: String,
    },
}
