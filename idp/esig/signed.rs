//! The CMS half of verification (RFC 5652): parse the SignedData with the RustCrypto `cms`
//! crate, pick the one signer and its certificate, and check what its signature covers —
//! the content type, the messageDigest and the signature over the signed attributes.
//!
//! Signed attributes are required, with content-type and messageDigest (§11.1, §11.2).
//! §5.3 lets id-data be signed without them, the signature then covering the raw content;
//! tokens do not produce that shape, and refusing it keeps a single, well-tested path in
//! which the content type is bound by the signature.

use cms::cert::CertificateChoices;
use cms::content_info::ContentInfo;
use cms::signed_data::{SignedData, SignerIdentifier, SignerInfo};
use der::asn1::{ObjectIdentifier, OctetString};
use der::{Decode, Encode};
use x509_cert::ext::pkix::SubjectKeyIdentifier;
use x509_cert::Certificate;
use x509_parser::prelude::FromDer;

use super::algorithms::{self, ID_CONTENT_TYPE, ID_DATA, ID_MESSAGE_DIGEST, ID_SIGNED_DATA};
use super::Refusal;

const ID_SUBJECT_KEY_IDENTIFIER: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.14");

/// What a cryptographically consistent SignedData yields for the trust checks.
#[derive(Debug)]
pub(crate) struct Signed {
    /// The content the signer's messageDigest covers.
    pub content: Vec<u8>,
    pub signer_certificate: Vec<u8>,
    /// Every other certificate of the CMS: candidate intermediates, never trusted by itself.
    pub other_certificates: Vec<Vec<u8>>,
}

/// Parses a ContentInfo holding SignedData.
///
/// The `der` crate accepts DER only. When it refuses the input, OpenSSL (which reads BER,
/// e.g. the indefinite lengths of `openssl cms -sign -stream`) re-encodes it as DER and we
/// parse that. The certificates keep their bytes (OpenSSL caches their encoding) and the
/// signature is over the signed attributes, which are re-encoded as DER for verification in
/// any case (RFC 5652 §5.4), so the re-encoding changes nothing that is verified.
pub(crate) fn parse(der: &[u8]) -> Result<SignedData, Refusal> {
    let info = match ContentInfo::from_der(der) {
        Ok(info) => info,
        Err(first) => {
            let normalized = openssl::cms::CmsContentInfo::from_der(der)
                .and_then(|cms| cms.to_der())
                .map_err(|_| Refusal::malformed(format!("CMS: {first}")))?;
            ContentInfo::from_der(&normalized)
                .map_err(|e| Refusal::malformed(format!("CMS: {e}")))?
        }
    };
    if info.content_type != ID_SIGNED_DATA {
        return Err(Refusal::malformed(format!(
            "CMS content type {} is not SignedData",
            info.content_type
        )));
    }
    info.content
        .decode_as::<SignedData>()
        .map_err(|e| Refusal::malformed(format!("SignedData: {e}")))
}

/// Checks the single signer of `sd` and returns the signed content and the certificates.
/// `detached` is the content supplied by the caller for a detached signature.
pub(crate) fn check(sd: &SignedData, detached: Option<&[u8]>) -> Result<Signed, Refusal> {
    let signer = single_signer(sd)?;
    let hash = algorithms::digest_algorithm(&signer.digest_alg)?;
    let scheme = algorithms::signer_scheme(hash, &signer.signature_algorithm)?;

    let econtent_type = sd.encap_content_info.econtent_type;
    if econtent_type != ID_DATA {
        return Err(Refusal::ContentTypeMismatch {
            expected: ID_DATA.to_string(),
            found: econtent_type.to_string(),
        });
    }
    let content = content(sd, detached)?;
    let (signer_certificate, other_certificates) = certificates(sd, &signer.sid)?;

    let signed_attrs = signer
        .signed_attrs
        .as_ref()
        .ok_or(Refusal::MissingSignedAttributes {
            missing: "signedAttrs",
        })?;
    let content_type: ObjectIdentifier = single_attribute(signer, ID_CONTENT_TYPE, "content-type")?;
    if content_type != econtent_type {
        return Err(Refusal::ContentTypeMismatch {
            expected: econtent_type.to_string(),
            found: content_type.to_string(),
        });
    }
    let digest: OctetString = single_attribute(signer, ID_MESSAGE_DIGEST, "message-digest")?;
    if digest.as_bytes() != hash.digest(&content)?.as_slice() {
        return Err(Refusal::MessageDigestMismatch);
    }

    // The signature covers the DER of the attributes with the SET OF tag (0x31), not the
    // [0] IMPLICIT tag they carry inside SignerInfo (RFC 5652 §5.4); encoding the decoded
    // SET yields exactly that, in DER order, as OpenSSL's verifier does.
    let to_be_signed = signed_attrs
        .to_der()
        .map_err(|e| Refusal::malformed(format!("signed attributes: {e}")))?;
    let (_, leaf) = x509_parser::certificate::X509Certificate::from_der(&signer_certificate)
        .map_err(|e| Refusal::malformed(format!("signer certificate: {e}")))?;
    let key = algorithms::public_key(&leaf)?;
    algorithms::verify_signature(
        &key,
        hash,
        scheme,
        &to_be_signed,
        signer.signature.as_bytes(),
    )?;

    Ok(Signed {
        content,
        signer_certificate,
        other_certificates,
    })
}

fn single_signer(sd: &SignedData) -> Result<&SignerInfo, Refusal> {
    // One signer only: the identity we return must be unambiguous, and a second signature
    // would be one more thing to verify for no benefit to sign-in.
    let mut signers = sd.signer_infos.0.iter();
    match (signers.next(), signers.next()) {
        (None, _) => Err(Refusal::NoSigner),
        (Some(signer), None) => Ok(signer),
        (Some(_), Some(_)) => Err(Refusal::MultipleSigners(sd.signer_infos.0.len())),
    }
}

fn content(sd: &SignedData, detached: Option<&[u8]>) -> Result<Vec<u8>, Refusal> {
    let encapsulated = match &sd.encap_content_info.econtent {
        Some(any) => Some(
            any.decode_as::<OctetString>()
                .map_err(|e| Refusal::malformed(format!("eContent: {e}")))?
                .into_bytes(),
        ),
        None => None,
    };
    match (encapsulated, detached) {
        (Some(inside), Some(outside)) if inside != outside => Err(Refusal::malformed(
            "the CMS carries content different from the detached content supplied",
        )),
        (Some(inside), _) => Ok(inside),
        (None, Some(outside)) => Ok(outside.to_vec()),
        (None, None) => Err(Refusal::ContentMissing),
    }
}

/// Splits the CMS certificates into the signer's (matched by `sid`) and the others, as DER.
fn certificates(
    sd: &SignedData,
    sid: &SignerIdentifier,
) -> Result<(Vec<u8>, Vec<Vec<u8>>), Refusal> {
    let mut signer = None;
    let mut others = Vec::new();
    let certs = sd.certificates.iter().flat_map(|set| set.0.iter());
    for choice in certs {
        // Other certificate formats (attribute certificates, …) cannot be in a path.
        let CertificateChoices::Certificate(cert) = choice else {
            continue;
        };
        let der = cert
            .to_der()
            .map_err(|e| Refusal::malformed(format!("certificate: {e}")))?;
        if signer.is_none() && identifies(sid, cert) {
            signer = Some(der);
        } else {
            others.push(der);
        }
    }
    let signer = signer.ok_or(Refusal::SignerCertificateMissing)?;
    Ok((signer, others))
}

fn identifies(sid: &SignerIdentifier, cert: &Certificate) -> bool {
    let tbs = &cert.tbs_certificate;
    match sid {
        SignerIdentifier::IssuerAndSerialNumber(ias) => {
            tbs.issuer == ias.issuer && tbs.serial_number == ias.serial_number
        }
        SignerIdentifier::SubjectKeyIdentifier(wanted) => tbs
            .extensions
            .iter()
            .flatten()
            .filter(|ext| ext.extn_id == ID_SUBJECT_KEY_IDENTIFIER)
            .filter_map(|ext| SubjectKeyIdentifier::from_der(ext.extn_value.as_bytes()).ok())
            .any(|ski| ski == *wanted),
    }
}

/// The value of a signed attribute that must occur once with one value (RFC 5652 §11.1,
/// §11.2); `name` is what a refusal calls it.
fn single_attribute<T>(
    signer: &SignerInfo,
    oid: ObjectIdentifier,
    name: &'static str,
) -> Result<T, Refusal>
where
    T: for<'a> der::Choice<'a> + for<'a> der::DecodeValue<'a>,
{
    let mut found = signer
        .signed_attrs
        .iter()
        .flat_map(|attrs| attrs.iter())
        .filter(|attr| attr.oid == oid);
    let attr = match (found.next(), found.next()) {
        (None, _) => return Err(Refusal::MissingSignedAttributes { missing: name }),
        (Some(attr), None) => attr,
        (Some(_), Some(_)) => {
            return Err(Refusal::malformed(format!(
                "{name} signed attribute repeated"
            )))
        }
    };
    let mut values = attr.values.iter();
    match (values.next(), values.next()) {
        (Some(value), None) => value
            .decode_as::<T>()
            .map_err(|e| Refusal::malformed(format!("{name} signed attribute: {e}"))),
        _ => Err(Refusal::malformed(format!(
            "{name} signed attribute must have exactly one value"
        ))),
    }
}
