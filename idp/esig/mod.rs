//! Electronic-signature verification core: decides whether a CMS SignedData (from a token
//! such as Rutoken) or a raw signature (from a cloud signature service) proves that the
//! holder of a certificate from a trusted CA signed the challenge we issued, and who that
//! holder is (person INN, organization INN).
//!
//! Pure and synchronous: no I/O, no clock (the caller passes `now`), no state. Challenge
//! freshness and single use are the session store's business; here the signed content is
//! only compared with the expected bytes.
//!
//! Order of checks, which decides the refusal when several apply: CMS structure and
//! algorithms → signed attributes and signature (integrity) → challenge → certification
//! path to a configured CA at `now` → key usage / EKU → revocation by CRL → identity →
//! (when the caller has OCSP on) revocation by OCSP. OCSP comes last because it is the only
//! step that needs the network: [`verify_with_path`] hands back the path, [`ocsp`] says
//! what to ask which responder and judges the answers, the caller does the HTTP.
//!
//! - [`refusal`]: [`Refusal`] (one variant per reason, stable `code()`), [`TrustError`]
//! - [`encoding`]: DER / PEM / base64 input ([`decode_cms`], [`to_pem`])
//! - [`algorithms`]: accepted algorithms and OpenSSL signature checks
//! - [`signed`]: CMS parsing and the signer's signed attributes
//! - [`chain`]: [`TrustAnchors`], path building, key usage, CRLs
//! - [`ocsp`]: OCSP requests for a verified path and the checks of the responses
//! - [`identity`]: [`IdentityMapping`], [`SignerIdentity`], certificate/CRL descriptions
//! - [`pki`]: a small CA for tests and `idp demo` (certificates, CRLs, CMS signing)

pub mod algorithms;
pub mod chain;
pub mod encoding;
pub mod identity;
pub mod ocsp;
pub mod pki;
pub mod refusal;
mod signed;
#[cfg(test)]
mod tests;

use openssl::x509::X509;
use time::OffsetDateTime;
use x509_parser::certificate::X509Certificate;
use x509_parser::prelude::FromDer;

pub use algorithms::{HashAlgorithm, SignatureAlgorithm};
pub use chain::TrustAnchors;
pub use encoding::{decode_cms, to_pem};
pub use identity::{
    certificates_to_der, crls_to_der, parse_certificate_pem_or_der, parse_crl_pem_or_der,
    CertificateInfo, CrlInfo, IdentityMapping, SignerIdentity,
};
pub use refusal::{CertRole, MappingError, Refusal, TrustError};

/// What a signature must satisfy beyond being valid and trusted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// Dotted EKU OIDs of which the signer certificate must carry one; empty: no EKU rule.
    pub required_eku: Vec<String>,
    pub mapping: IdentityMapping,
    /// Accept signed content that begins with the challenge rather than equals it
    /// (default true): protocols.md says "content must begin with the issued salt", since
    /// Rutoken's `authenticate` signs the salt followed by random data of the token.
    pub allow_challenge_prefix: bool,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            required_eku: Vec::new(),
            mapping: IdentityMapping::default(),
            allow_challenge_prefix: true,
        }
    }
}

impl Policy {
    /// Sets the required EKUs from configuration strings (dotted OIDs), refusing garbage
    /// that would otherwise silently match nothing.
    pub fn with_required_eku<I, S>(mut self, ekus: I) -> Result<Policy, MappingError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.required_eku = ekus
            .into_iter()
            .map(|s| {
                let s = s.as_ref().trim();
                der::asn1::ObjectIdentifier::new(s)
                    .map(|oid| oid.to_string())
                    .map_err(|_| MappingError::UnknownAttribute {
                        setting: "required_eku",
                        value: s.into(),
                    })
            })
            .collect::<Result<_, _>>()?;
        Ok(self)
    }
}

/// A CMS SignedData as received (DER, PEM or base64; see [`decode_cms`]).
#[derive(Debug, Clone, Copy)]
pub enum SignedInput<'a> {
    /// The content is inside the CMS.
    Attached(&'a [u8]),
    /// The CMS signs `content`, which travels separately. If the CMS nevertheless carries
    /// content, it must be the same bytes.
    Detached { cms: &'a [u8], content: &'a [u8] },
}

/// A signature made outside CMS, e.g. by a cloud signature service: `signature` by the key
/// of `certificate` over `signed_data` (hashed by the algorithm, not pre-hashed).
#[derive(Debug, Clone, Copy)]
pub struct RawSignature<'a> {
    pub signature: &'a [u8],
    pub algorithm: SignatureAlgorithm,
    /// DER or PEM.
    pub certificate: &'a [u8],
    /// Untrusted intermediates (DER or PEM each) that may complete the path.
    pub intermediates: &'a [Vec<u8>],
    pub signed_data: &'a [u8],
}

/// A signature that passed every check of the core, with the certification path that made
/// it trusted.
#[derive(Debug, Clone)]
pub struct Verified {
    pub identity: SignerIdentity,
    /// Signer first, trust anchor last: what [`ocsp::requests_for`] asks about.
    pub path: Vec<X509>,
}

/// Verifies a CMS SignedData proving `expected_challenge`; see the module doc for the
/// order of checks.
pub fn verify(
    input: SignedInput<'_>,
    expected_challenge: &[u8],
    anchors: &TrustAnchors,
    policy: &Policy,
    now: OffsetDateTime,
) -> Result<SignerIdentity, Refusal> {
    verify_with_path(input, expected_challenge, anchors, policy, now).map(|v| v.identity)
}

/// [`verify`], also returning the certification path, for a caller that goes on to ask
/// OCSP responders about it.
pub fn verify_with_path(
    input: SignedInput<'_>,
    expected_challenge: &[u8],
    anchors: &TrustAnchors,
    policy: &Policy,
    now: OffsetDateTime,
) -> Result<Verified, Refusal> {
    let (cms, detached) = match input {
        SignedInput::Attached(cms) => (cms, None),
        SignedInput::Detached { cms, content } => (cms, Some(content)),
    };
    let der = decode_cms(cms)?;
    let signed_data = signed::parse(&der)?;
    let signed = signed::check(&signed_data, detached)?;
    check_challenge(&signed.content, expected_challenge, policy)?;
    trusted_identity(
        &signed.signer_certificate,
        &signed.other_certificates,
        anchors,
        policy,
        now,
    )
}

/// Verifies a raw signature over `signed_data`, which must prove `expected_challenge` like
/// CMS content does; then the same trust and identity checks as [`verify`].
pub fn verify_raw(
    raw: RawSignature<'_>,
    expected_challenge: &[u8],
    anchors: &TrustAnchors,
    policy: &Policy,
    now: OffsetDateTime,
) -> Result<SignerIdentity, Refusal> {
    let one_der = |bytes: &[u8]| -> Result<Vec<u8>, Refusal> {
        let mut ders = certificates_to_der(bytes).map_err(Refusal::malformed)?;
        match ders.len() {
            1 => Ok(ders.remove(0)),
            n => Err(Refusal::malformed(format!(
                "expected one certificate, found {n}"
            ))),
        }
    };
    let leaf = one_der(raw.certificate)?;
    let mut intermediates = Vec::new();
    for item in raw.intermediates {
        intermediates.extend(certificates_to_der(item).map_err(Refusal::malformed)?);
    }
    let (_, parsed) = X509Certificate::from_der(&leaf)
        .map_err(|e| Refusal::malformed(format!("signer certificate: {e}")))?;
    let key = algorithms::public_key(&parsed)?;
    algorithms::verify_signature(
        &key,
        raw.algorithm.hash(),
        raw.algorithm.scheme(),
        raw.signed_data,
        raw.signature,
    )?;
    check_challenge(raw.signed_data, expected_challenge, policy)?;
    trusted_identity(&leaf, &intermediates, anchors, policy, now).map(|v| v.identity)
}

/// The signed content must be the challenge, or begin with it when the policy allows. An
/// empty challenge never matches: with prefixes allowed it would match anything. No
/// constant-time comparison is needed: the challenge is no secret, its holder was sent it.
fn check_challenge(content: &[u8], expected: &[u8], policy: &Policy) -> Result<(), Refusal> {
    let matches = !expected.is_empty()
        && (content == expected
            || (policy.allow_challenge_prefix && content.starts_with(expected)));
    if matches {
        Ok(())
    } else {
        Err(Refusal::WrongChallenge)
    }
}

fn trusted_identity(
    leaf: &[u8],
    intermediates: &[Vec<u8>],
    anchors: &TrustAnchors,
    policy: &Policy,
    now: OffsetDateTime,
) -> Result<Verified, Refusal> {
    let path = chain::build_path(anchors, leaf, intermediates, now)?;
    chain::check_usage(&path, policy)?;
    chain::check_revocation(&path, anchors, now)?;
    let identity = identity::extract(leaf, &policy.mapping, now)?;
    Ok(Verified { identity, path })
}
