//! A small certification authority for the tests and for `idp demo`: keys, CA and
//! end-entity certificates with the subject attributes Salyk ID reads, CRLs, and (in
//! [`signing`]) CMS SignedData and raw signatures, including deliberately broken ones.
//!
//! Everything is made with OpenSSL; nothing here is meant for a real CA.

pub mod signing;

use openssl::asn1::{Asn1Object, Asn1OctetString, Asn1Time};
use openssl::bn::{BigNum, MsbOption};
use openssl::ec::{EcGroup, EcKey};
use openssl::error::ErrorStack;
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private};
use openssl::rsa::Rsa;
use openssl::x509::extension::{
    AuthorityKeyIdentifier, BasicConstraints, ExtendedKeyUsage, KeyUsage, SubjectKeyIdentifier,
};
use openssl::x509::{X509Builder, X509Extension, X509NameBuilder, X509Ref, X509};
use time::OffsetDateTime;

pub use signing::{sign_cms, sign_raw, CmsOptions, Tamper};

use super::SignatureAlgorithm;

/// Why the builder failed (never expected with sane input).
#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    #[error("OpenSSL: {0}")]
    OpenSsl(#[from] ErrorStack),
    #[error("DER: {0}")]
    Der(String),
}

impl From<der::Error> for PkiError {
    fn from(e: der::Error) -> Self {
        PkiError::Der(e.to_string())
    }
}

/// Key type and size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeySpec {
    Rsa(u32),
    EcP256,
    EcP384,
}

pub fn generate_key(spec: KeySpec) -> Result<PKey<Private>, PkiError> {
    Ok(match spec {
        KeySpec::Rsa(bits) => PKey::from_rsa(Rsa::generate(bits)?)?,
        KeySpec::EcP256 => {
            let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1)?;
            PKey::from_ec_key(EcKey::generate(&group)?)?
        }
        KeySpec::EcP384 => {
            let group = EcGroup::from_curve_name(Nid::SECP384R1)?;
            PKey::from_ec_key(EcKey::generate(&group)?)?
        }
    })
}

/// A certificate with its private key.
#[derive(Clone)]
pub struct Credential {
    pub certificate: X509,
    pub key: PKey<Private>,
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credential")
            .field("subject", &self.certificate.subject_name())
            .finish_non_exhaustive()
    }
}

impl Credential {
    pub fn certificate_der(&self) -> Vec<u8> {
        self.certificate.to_der().unwrap_or_default()
    }

    pub fn certificate_pem(&self) -> String {
        super::to_pem("CERTIFICATE", &self.certificate_der())
    }

    /// The private key as unencrypted PKCS#8 PEM (demo and test files only).
    pub fn key_pem(&self) -> Result<String, PkiError> {
        let pem = self.key.private_key_to_pem_pkcs8()?;
        Ok(String::from_utf8_lossy(&pem).into_owned())
    }
}

/// Subject attributes, written C, O, organizationIdentifier, serialNumber, CN (so RFC 4514
/// shows CN first).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Subject {
    pub common_name: Option<String>,
    /// serialNumber (2.5.4.5), e.g. `INN21207198599011`.
    pub serial_number: Option<String>,
    /// organizationIdentifier (2.5.4.97), e.g. `NTRKG-01503201699001`.
    pub organization_identifier: Option<String>,
    pub organization: Option<String>,
    pub country: Option<String>,
}

impl Subject {
    /// A CA named `common_name` in Kyrgyzstan.
    pub fn ca(common_name: &str) -> Subject {
        Subject {
            common_name: Some(common_name.into()),
            country: Some("KG".into()),
            ..Subject::default()
        }
    }

    /// A person: CN and the serialNumber attribute as given (prefix included).
    pub fn person(common_name: &str, serial_number: &str) -> Subject {
        Subject {
            common_name: Some(common_name.into()),
            serial_number: Some(serial_number.into()),
            country: Some("KG".into()),
            ..Subject::default()
        }
    }

    fn to_name(&self) -> Result<openssl::x509::X509Name, PkiError> {
        let mut name = X509NameBuilder::new()?;
        let entries = [
            ("C", &self.country),
            ("O", &self.organization),
            // By OID: not every OpenSSL knows the name organizationIdentifier.
            ("2.5.4.97", &self.organization_identifier),
            ("serialNumber", &self.serial_number),
            ("CN", &self.common_name),
        ];
        for (field, value) in entries {
            if let Some(value) = value {
                name.append_entry_by_text(field, value)?;
            }
        }
        Ok(name.build())
    }
}

/// A keyUsage bit (RFC 5280 §4.2.1.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyUsageBit {
    DigitalSignature,
    NonRepudiation,
    KeyEncipherment,
    KeyCertSign,
    CrlSign,
}

/// What to put in a certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertSpec {
    pub subject: Subject,
    pub not_before: OffsetDateTime,
    pub not_after: OffsetDateTime,
    /// None: 63 random bits.
    pub serial: Option<u64>,
    /// basicConstraints cA (always written, critical).
    pub ca: bool,
    /// None: no keyUsage extension at all.
    pub key_usage: Option<Vec<KeyUsageBit>>,
    /// Dotted EKU OIDs; empty: no extendedKeyUsage extension.
    pub extended_key_usage: Vec<String>,
    /// An OCSP responder URL for authorityInfoAccess (id-ad-ocsp); None: no such extension.
    pub ocsp_url: Option<String>,
}

impl CertSpec {
    /// A CA: cA=TRUE, keyCertSign and cRLSign.
    pub fn ca(subject: Subject, not_before: OffsetDateTime, not_after: OffsetDateTime) -> Self {
        CertSpec {
            subject,
            not_before,
            not_after,
            serial: None,
            ca: true,
            key_usage: Some(vec![KeyUsageBit::KeyCertSign, KeyUsageBit::CrlSign]),
            extended_key_usage: Vec::new(),
            ocsp_url: None,
        }
    }

    /// A signer: cA=FALSE, digitalSignature and nonRepudiation.
    pub fn end_entity(
        subject: Subject,
        not_before: OffsetDateTime,
        not_after: OffsetDateTime,
    ) -> Self {
        CertSpec {
            subject,
            not_before,
            not_after,
            serial: None,
            ca: false,
            key_usage: Some(vec![
                KeyUsageBit::DigitalSignature,
                KeyUsageBit::NonRepudiation,
            ]),
            extended_key_usage: Vec::new(),
            ocsp_url: None,
        }
    }
}

/// A self-signed (root) certificate for `key`.
pub fn self_signed(key: PKey<Private>, spec: &CertSpec) -> Result<Credential, PkiError> {
    build(None, key, spec)
}

/// A certificate for `key` signed by `issuer`.
pub fn issue(
    issuer: &Credential,
    key: PKey<Private>,
    spec: &CertSpec,
) -> Result<Credential, PkiError> {
    build(Some(issuer), key, spec)
}

fn asn1_time(t: OffsetDateTime) -> Result<Asn1Time, PkiError> {
    // time_t is i64 here but narrower on some targets.
    #[allow(clippy::useless_conversion)]
    let secs = t
        .unix_timestamp()
        .try_into()
        .map_err(|_| PkiError::Der("time out of range".into()))?;
    Ok(Asn1Time::from_unix(secs)?)
}

fn build(
    issuer: Option<&Credential>,
    key: PKey<Private>,
    spec: &CertSpec,
) -> Result<Credential, PkiError> {
    let mut b = X509Builder::new()?;
    b.set_version(2)?;
    let serial = match spec.serial {
        Some(n) => BigNum::from_dec_str(&n.to_string())?,
        None => {
            let mut n = BigNum::new()?;
            n.rand(63, MsbOption::MAYBE_ZERO, false)?;
            n
        }
    };
    let serial = serial.to_asn1_integer()?;
    b.set_serial_number(&serial)?;
    let subject = spec.subject.to_name()?;
    b.set_subject_name(&subject)?;
    match issuer {
        Some(i) => b.set_issuer_name(i.certificate.subject_name())?,
        None => b.set_issuer_name(&subject)?,
    }
    b.set_pubkey(&key)?;
    let (not_before, not_after) = (asn1_time(spec.not_before)?, asn1_time(spec.not_after)?);
    b.set_not_before(&not_before)?;
    b.set_not_after(&not_after)?;

    let mut bc = BasicConstraints::new();
    bc.critical();
    if spec.ca {
        bc.ca();
    }
    b.append_extension(bc.build()?)?;
    if let Some(bits) = &spec.key_usage {
        let mut ku = KeyUsage::new();
        ku.critical();
        for bit in bits {
            match bit {
                KeyUsageBit::DigitalSignature => ku.digital_signature(),
                KeyUsageBit::NonRepudiation => ku.non_repudiation(),
                KeyUsageBit::KeyEncipherment => ku.key_encipherment(),
                KeyUsageBit::KeyCertSign => ku.key_cert_sign(),
                KeyUsageBit::CrlSign => ku.crl_sign(),
            };
        }
        b.append_extension(ku.build()?)?;
    }
    if !spec.extended_key_usage.is_empty() {
        let mut eku = ExtendedKeyUsage::new();
        for oid in &spec.extended_key_usage {
            eku.other(oid);
        }
        b.append_extension(eku.build()?)?;
    }
    if let Some(url) = &spec.ocsp_url {
        b.append_extension(authority_info_access(url)?)?;
    }
    let ski = SubjectKeyIdentifier::new().build(&b.x509v3_context(None, None))?;
    b.append_extension(ski)?;
    if let Some(i) = issuer {
        let aki = AuthorityKeyIdentifier::new()
            .keyid(false)
            .build(&b.x509v3_context(Some(&i.certificate), None))?;
        b.append_extension(aki)?;
    }
    let signing_key = issuer.map_or(&key, |i| &i.key);
    b.sign(signing_key, MessageDigest::sha256())?;
    Ok(Credential {
        certificate: b.build(),
        key,
    })
}

/// authorityInfoAccess naming one OCSP responder, encoded with x509-cert: the openssl crate
/// has no typed builder for it, only the deprecated config-string one.
fn authority_info_access(url: &str) -> Result<X509Extension, PkiError> {
    use der::asn1::{Ia5String, ObjectIdentifier};
    use der::Encode;
    use x509_cert::ext::pkix::{name::GeneralName, AccessDescription, AuthorityInfoAccessSyntax};

    let aia = AuthorityInfoAccessSyntax(vec![AccessDescription {
        access_method: ObjectIdentifier::new_unwrap(super::ocsp::ID_AD_OCSP),
        access_location: GeneralName::UniformResourceIdentifier(Ia5String::new(url)?),
    }]);
    let value = Asn1OctetString::new_from_bytes(&aia.to_der()?)?;
    let oid = Asn1Object::from_str(super::ocsp::AUTHORITY_INFO_ACCESS)?;
    Ok(X509Extension::new_from_der(&oid, false, &value)?)
}

/// Signs `tbs` (the DER of a to-be-signed structure: a CRL's, an OCSP response's) with
/// `key`: SHA-256 with RSA PKCS#1 v1.5 or ECDSA, as the key allows. Returns the
/// AlgorithmIdentifier to write beside it and the signature BIT STRING.
pub fn sign_der(
    key: &PKey<Private>,
    tbs: &[u8],
) -> Result<
    (
        x509_cert::spki::AlgorithmIdentifierOwned,
        der::asn1::BitString,
    ),
    PkiError,
> {
    let algorithm = default_algorithm(key);
    let signature = sign_raw(key, algorithm, tbs)?;
    Ok((
        signing::algorithm_identifier(algorithm, false)?,
        der::asn1::BitString::from_bytes(&signature)?,
    ))
}

/// What the builder signs CRLs and OCSP responses with: SHA-256 with ECDSA or RSA PKCS#1.
fn default_algorithm(key: &PKey<Private>) -> SignatureAlgorithm {
    if key.id() == openssl::pkey::Id::EC {
        SignatureAlgorithm::EcdsaSha256
    } else {
        SignatureAlgorithm::RsaPkcs1Sha256
    }
}

/// A DER CRL (v2) of `issuer` listing `revoked` (certificate, revocation time), assembled
/// with x509-cert and signed with OpenSSL (SHA-256). OpenSSL's own CRL builder insists on
/// nextUpdate, AKI and cRLNumber, and the tests need CRLs without nextUpdate; the verifier
/// needs neither extension, so none is written.
pub fn crl(
    issuer: &Credential,
    revoked: &[(&X509Ref, OffsetDateTime)],
    this_update: OffsetDateTime,
    next_update: Option<OffsetDateTime>,
) -> Result<Vec<u8>, PkiError> {
    use der::{Decode, Encode};
    use x509_cert::crl::{CertificateList, RevokedCert, TbsCertList};

    let issuer_cert = x509_cert::Certificate::from_der(&issuer.certificate.to_der()?)?;
    let entries = revoked
        .iter()
        .map(|(cert, at)| {
            let cert = x509_cert::Certificate::from_der(&cert.to_der()?)?;
            Ok(RevokedCert {
                serial_number: cert.tbs_certificate.serial_number,
                revocation_date: signing::der_time(*at)?,
                crl_entry_extensions: None,
            })
        })
        .collect::<Result<Vec<_>, PkiError>>()?;
    let algorithm = default_algorithm(&issuer.key);
    let algorithm_id = signing::algorithm_identifier(algorithm, false)?;
    let tbs = TbsCertList {
        version: x509_cert::Version::V2,
        signature: algorithm_id.clone(),
        issuer: issuer_cert.tbs_certificate.subject,
        this_update: signing::der_time(this_update)?,
        next_update: next_update.map(signing::der_time).transpose()?,
        revoked_certificates: if entries.is_empty() {
            None
        } else {
            Some(entries)
        },
        crl_extensions: None,
    };
    let signature = sign_raw(&issuer.key, algorithm, &tbs.to_der()?)?;
    let list = CertificateList {
        tbs_cert_list: tbs,
        signature_algorithm: algorithm_id,
        signature: der::asn1::BitString::from_bytes(&signature)?,
    };
    Ok(list.to_der()?)
}
