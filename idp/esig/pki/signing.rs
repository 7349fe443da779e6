//! CMS SignedData (RFC 5652) assembled from the RustCrypto `cms` structures and signed with
//! OpenSSL, plus raw signatures; [`Tamper`] breaks a message in one precise way so that each
//! refusal of the verifier can be provoked.

use cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{
    CertificateSet, EncapsulatedContentInfo, SignedData, SignerIdentifier, SignerInfo, SignerInfos,
};
use der::asn1::{GeneralizedTime, ObjectIdentifier, OctetString, SetOfVec, UtcTime};
use der::{Any, Decode, Encode};
use openssl::pkey::{PKeyRef, Private};
use openssl::rsa::Padding;
use openssl::sign::{RsaPssSaltlen, Signer};
use openssl::x509::X509;
use time::OffsetDateTime;
use x509_cert::attr::Attribute;
use x509_cert::ext::pkix::SubjectKeyIdentifier;
use x509_cert::spki::AlgorithmIdentifierOwned;
use x509_cert::time::Time;
use x509_cert::Certificate;

use super::{Credential, PkiError};
use crate::esig::algorithms::{
    self, Scheme, SignatureAlgorithm, ID_CONTENT_TYPE, ID_DATA, ID_MESSAGE_DIGEST, ID_SIGNED_DATA,
    ID_SIGNING_TIME,
};

/// One way to break a SignedData.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tamper {
    /// Change the encapsulated content after the digest was taken.
    ContentAfterSigning,
    /// Change the signing-time attribute after the signature was made.
    SignedAttributeAfterSigning,
    /// No signed attributes: the signature is over the content itself.
    OmitSignedAttributes,
    /// messageDigest of other bytes (correctly signed).
    WrongMessageDigest,
    OmitContentTypeAttribute,
    /// Declare this OID in the content-type attribute.
    ContentTypeAttribute(String),
    /// Declare this OID as digestAlgorithm (e.g. SHA-1 `1.3.14.3.2.26`).
    DigestAlgorithm(String),
    /// Declare this OID as signatureAlgorithm (e.g. GOST `1.2.643.7.1.1.3.2`).
    SignatureAlgorithm(String),
    NoSignerInfo,
    /// Two valid SignerInfos of the same signer.
    SecondSignerInfo,
    /// Flip a bit of the signature value.
    CorruptSignature,
}

/// How to sign.
#[derive(Debug, Clone)]
pub struct CmsOptions {
    pub algorithm: SignatureAlgorithm,
    /// Leave eContent out (the content travels separately).
    pub detached: bool,
    pub include_signer_certificate: bool,
    /// Further certificates for the CMS, e.g. intermediate CAs.
    pub extra_certificates: Vec<X509>,
    pub signing_time: OffsetDateTime,
    /// Declare RSA PKCS#1 signatures as rsaEncryption (what `openssl cms` emits) instead
    /// of shaNNNWithRSAEncryption.
    pub declare_rsa_encryption: bool,
    /// Identify the signer by subjectKeyIdentifier instead of issuer and serial number.
    pub sid_by_key_identifier: bool,
    pub tamper: Option<Tamper>,
}

impl CmsOptions {
    pub fn new(algorithm: SignatureAlgorithm) -> CmsOptions {
        CmsOptions {
            algorithm,
            detached: false,
            include_signer_certificate: true,
            extra_certificates: Vec::new(),
            signing_time: OffsetDateTime::now_utc(),
            declare_rsa_encryption: false,
            sid_by_key_identifier: false,
            tamper: None,
        }
    }
}

/// RSASSA-PSS-params (RFC 4055 §3.1) for encoding; the verifier reads them with
/// x509-parser, so the two sides are independent implementations.
#[derive(Clone, Debug, Eq, PartialEq, der::Sequence)]
struct RsaPssParams {
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    hash: Option<AlgorithmIdentifierOwned>,
    #[asn1(context_specific = "1", tag_mode = "EXPLICIT", optional = "true")]
    mask_gen: Option<AlgorithmIdentifierOwned>,
    #[asn1(context_specific = "2", tag_mode = "EXPLICIT", optional = "true")]
    salt_length: Option<u32>,
}

fn oid(dotted: &str) -> Result<ObjectIdentifier, PkiError> {
    ObjectIdentifier::new(dotted).map_err(|e| PkiError::Der(e.to_string()))
}

pub(super) fn algorithm_identifier(
    alg: SignatureAlgorithm,
    declare_rsa_encryption: bool,
) -> Result<AlgorithmIdentifierOwned, PkiError> {
    use SignatureAlgorithm::*;
    let hash = alg.hash();
    let (dotted, parameters) = match alg {
        RsaPkcs1Sha256 | RsaPkcs1Sha384 | RsaPkcs1Sha512 if declare_rsa_encryption => {
            (algorithms::RSA_ENCRYPTION, Some(Any::null()))
        }
        RsaPkcs1Sha256 => (algorithms::SHA256_WITH_RSA, Some(Any::null())),
        RsaPkcs1Sha384 => (algorithms::SHA384_WITH_RSA, Some(Any::null())),
        RsaPkcs1Sha512 => (algorithms::SHA512_WITH_RSA, Some(Any::null())),
        RsaPssSha256 | RsaPssSha384 | RsaPssSha512 => {
            let hash_id = AlgorithmIdentifierOwned {
                oid: oid(hash.oid())?,
                parameters: Some(Any::null()),
            };
            let params = RsaPssParams {
                hash: Some(hash_id.clone()),
                mask_gen: Some(AlgorithmIdentifierOwned {
                    oid: oid(algorithms::MGF1)?,
                    parameters: Some(Any::encode_from(&hash_id)?),
                }),
                salt_length: Some(hash.output_len() as u32),
            };
            (algorithms::RSASSA_PSS, Some(Any::encode_from(&params)?))
        }
        EcdsaSha256 => (algorithms::ECDSA_SHA256, None),
        EcdsaSha384 => (algorithms::ECDSA_SHA384, None),
        EcdsaSha512 => (algorithms::ECDSA_SHA512, None),
    };
    Ok(AlgorithmIdentifierOwned {
        oid: oid(dotted)?,
        parameters,
    })
}

/// Signs `data` with `key` (hashing it with the algorithm's hash), as a cloud signature
/// service would; ECDSA signatures are DER.
pub fn sign_raw(
    key: &PKeyRef<Private>,
    algorithm: SignatureAlgorithm,
    data: &[u8],
) -> Result<Vec<u8>, PkiError> {
    let mut signer = Signer::new(algorithm.hash().message_digest(), key)?;
    match algorithm.scheme() {
        Scheme::RsaPkcs1 => signer.set_rsa_padding(Padding::PKCS1)?,
        Scheme::RsaPss { mgf1, .. } => {
            signer.set_rsa_padding(Padding::PKCS1_PSS)?;
            signer.set_rsa_mgf1_md(mgf1.message_digest())?;
            signer.set_rsa_pss_saltlen(RsaPssSaltlen::DIGEST_LENGTH)?;
        }
        Scheme::Ecdsa => {}
    }
    Ok(signer.sign_oneshot_to_vec(data)?)
}

fn attribute(oid: ObjectIdentifier, value: Any) -> Result<Attribute, PkiError> {
    Ok(Attribute {
        oid,
        values: SetOfVec::try_from(vec![value])?,
    })
}

/// UTCTime through 2049, GeneralizedTime after (RFC 5280 §4.1.2.5, RFC 5652 §11.3).
pub(super) fn der_time(t: OffsetDateTime) -> Result<Time, PkiError> {
    let secs = u64::try_from(t.unix_timestamp()).map_err(|e| PkiError::Der(e.to_string()))?;
    let since_epoch = std::time::Duration::from_secs(secs);
    match UtcTime::from_unix_duration(since_epoch) {
        Ok(utc) => Ok(Time::UtcTime(utc)),
        Err(_) => Ok(Time::GeneralTime(GeneralizedTime::from_unix_duration(
            since_epoch,
        )?)),
    }
}

/// A DER ContentInfo with SignedData by `signer` over `content`, with content-type,
/// messageDigest and signing-time signed attributes (unless tampered otherwise).
pub fn sign_cms(
    signer: &Credential,
    content: &[u8],
    options: &CmsOptions,
) -> Result<Vec<u8>, PkiError> {
    let tamper = options.tamper.as_ref();
    let cert = Certificate::from_der(&signer.certificate.to_der()?)?;
    let mut signer_infos = Vec::new();
    if tamper != Some(&Tamper::NoSignerInfo) {
        signer_infos.push(signer_info(
            signer,
            &cert,
            content,
            options,
            options.signing_time,
        )?);
    }
    if tamper == Some(&Tamper::SecondSignerInfo) {
        let later = options.signing_time + time::Duration::seconds(1);
        signer_infos.push(signer_info(signer, &cert, content, options, later)?);
    }
    let digest_algorithms = signer_infos
        .iter()
        .map(|s| s.digest_alg.clone())
        .collect::<Vec<_>>();

    let mut certificates = Vec::new();
    if options.include_signer_certificate {
        certificates.push(CertificateChoices::Certificate(cert.clone()));
    }
    for extra in &options.extra_certificates {
        let extra = Certificate::from_der(&extra.to_der()?)?;
        certificates.push(CertificateChoices::Certificate(extra));
    }

    let mut encapsulated = content.to_vec();
    if tamper == Some(&Tamper::ContentAfterSigning) {
        encapsulated.push(b'!');
    }
    let econtent = if options.detached {
        None
    } else {
        Some(Any::encode_from(&OctetString::new(encapsulated)?)?)
    };
    let signed_data = SignedData {
        version: if options.sid_by_key_identifier {
            CmsVersion::V3
        } else {
            CmsVersion::V1
        },
        digest_algorithms: SetOfVec::try_from(dedup(digest_algorithms))?,
        encap_content_info: EncapsulatedContentInfo {
            econtent_type: ID_DATA,
            econtent,
        },
        certificates: if certificates.is_empty() {
            None
        } else {
            Some(CertificateSet(SetOfVec::try_from(certificates)?))
        },
        crls: None,
        signer_infos: SignerInfos(SetOfVec::try_from(signer_infos)?),
    };
    let info = ContentInfo {
        content_type: ID_SIGNED_DATA,
        content: Any::encode_from(&signed_data)?,
    };
    Ok(info.to_der()?)
}

fn dedup(mut algs: Vec<AlgorithmIdentifierOwned>) -> Vec<AlgorithmIdentifierOwned> {
    algs.dedup();
    algs
}

fn signer_info(
    signer: &Credential,
    cert: &Certificate,
    content: &[u8],
    options: &CmsOptions,
    at: OffsetDateTime,
) -> Result<SignerInfo, PkiError> {
    let tamper = options.tamper.as_ref();
    let hash = options.algorithm.hash();
    let digest_oid = match tamper {
        Some(Tamper::DigestAlgorithm(o)) => oid(o)?,
        _ => oid(hash.oid())?,
    };
    let digested: &[u8] = if tamper == Some(&Tamper::WrongMessageDigest) {
        b"not the content"
    } else {
        content
    };
    let digest = openssl::hash::hash(hash.message_digest(), digested)?;

    let attrs = |time: OffsetDateTime| -> Result<SetOfVec<Attribute>, PkiError> {
        let mut attrs = Vec::new();
        match tamper {
            Some(Tamper::OmitContentTypeAttribute) => {}
            Some(Tamper::ContentTypeAttribute(o)) => {
                attrs.push(attribute(ID_CONTENT_TYPE, Any::encode_from(&oid(o)?)?)?)
            }
            _ => attrs.push(attribute(ID_CONTENT_TYPE, Any::encode_from(&ID_DATA)?)?),
        }
        let digest = OctetString::new(digest.to_vec())?;
        attrs.push(attribute(ID_MESSAGE_DIGEST, Any::encode_from(&digest)?)?);
        attrs.push(attribute(
            ID_SIGNING_TIME,
            Any::encode_from(&der_time(time)?)?,
        )?);
        Ok(SetOfVec::try_from(attrs)?)
    };
    let signed_attrs = attrs(at)?;
    let omit_attrs = tamper == Some(&Tamper::OmitSignedAttributes);
    // The signature covers the attributes as a DER SET (tag 0x31), RFC 5652 §5.4.
    let to_be_signed = if omit_attrs {
        content.to_vec()
    } else {
        signed_attrs.to_der()?
    };
    let mut signature = sign_raw(&signer.key, options.algorithm, &to_be_signed)?;
    if tamper == Some(&Tamper::CorruptSignature) {
        if let Some(last) = signature.last_mut() {
            *last ^= 0x01;
        }
    }
    let signed_attrs = match tamper {
        _ if omit_attrs => None,
        Some(Tamper::SignedAttributeAfterSigning) => Some(attrs(at + time::Duration::minutes(5))?),
        _ => Some(signed_attrs),
    };
    let signature_algorithm = match tamper {
        Some(Tamper::SignatureAlgorithm(o)) => AlgorithmIdentifierOwned {
            oid: oid(o)?,
            parameters: None,
        },
        _ => algorithm_identifier(options.algorithm, options.declare_rsa_encryption)?,
    };
    let sid = if options.sid_by_key_identifier {
        let ski = cert
            .tbs_certificate
            .extensions
            .iter()
            .flatten()
            .find(|e| e.extn_id.to_string() == "2.5.29.14")
            .ok_or_else(|| PkiError::Der("certificate has no subjectKeyIdentifier".into()))?;
        SignerIdentifier::SubjectKeyIdentifier(SubjectKeyIdentifier::from_der(
            ski.extn_value.as_bytes(),
        )?)
    } else {
        SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
            issuer: cert.tbs_certificate.issuer.clone(),
            serial_number: cert.tbs_certificate.serial_number.clone(),
        })
    };
    Ok(SignerInfo {
        version: if options.sid_by_key_identifier {
            CmsVersion::V3
        } else {
            CmsVersion::V1
        },
        sid,
        digest_alg: AlgorithmIdentifierOwned {
            oid: digest_oid,
            parameters: None,
        },
        signed_attrs,
        signature_algorithm,
        signature: OctetString::new(signature)?,
        unsigned_attrs: None,
    })
}
