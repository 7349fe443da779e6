//! Who signed: the taxpayer identity read from the signer certificate's subject
//! ([`IdentityMapping`] → [`SignerIdentity`]), and descriptions of certificates and CRLs
//! ([`CertificateInfo`], [`CrlInfo`]) for logs, the API and the `idp trust` CLI.

use serde::{Serialize, Serializer};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use x509_parser::certificate::X509Certificate;
use x509_parser::prelude::FromDer;
use x509_parser::revocation_list::CertificateRevocationList;
use x509_parser::x509::X509Name;

use super::encoding::der_items;
use super::refusal::{MappingError, TrustError};
use super::Refusal;
use crate::accounts::inn::normalize_inn_at;

pub(crate) const CERTIFICATE_LABELS: &[&str] = &["CERTIFICATE", "X509 CERTIFICATE"];
pub(crate) const CRL_LABELS: &[&str] = &["X509 CRL"];

/// Where the INNs are in a signer certificate's subject.
///
/// The Kyrgyz qualified-certificate profile is not published, so the default follows
/// the X.520 / ETSI EN 319 412-1 conventions used by neighbouring national PKIs:
/// - the person's INN in `serialNumber` (2.5.4.5), possibly written `INN21207198599011`
///   or `INN-21207198599011` (Kazakhstan writes `IIN…`: set the prefix to `IIN`);
/// - the organization's INN in `organizationIdentifier` (2.5.4.97), possibly with the
///   ETSI semantics prefix `NTRKG-` (national trade register, Kyrgyzstan).
///
/// A prefix is stripped when present (case-insensitive, followed by an optional `-`,
/// `:` or space) and tolerated when absent; what remains must be a valid INN
/// (`accounts::inn` rules, non-strict).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityMapping {
    /// Dotted OID of the subject attribute holding the person's INN.
    pub person_inn_attribute: String,
    pub person_inn_prefix: Option<String>,
    /// Dotted OID of the subject attribute holding the organization's INN (optional in a
    /// certificate; when present it must be a valid INN).
    pub organization_inn_attribute: String,
    pub organization_inn_prefix: Option<String>,
}

impl Default for IdentityMapping {
    fn default() -> Self {
        IdentityMapping {
            person_inn_attribute: "2.5.4.5".into(),
            person_inn_prefix: Some("INN".into()),
            organization_inn_attribute: "2.5.4.97".into(),
            organization_inn_prefix: Some("NTRKG".into()),
        }
    }
}

impl IdentityMapping {
    /// Builds a mapping from configuration strings. Attributes are dotted OIDs or names
    /// (`serialNumber`, `organizationIdentifier`, `CN`, `UID`, `OU`, `O`, `title`); an
    /// empty prefix means none.
    pub fn from_strings(
        person_inn_attribute: &str,
        person_inn_prefix: &str,
        organization_inn_attribute: &str,
        organization_inn_prefix: &str,
    ) -> Result<IdentityMapping, MappingError> {
        Ok(IdentityMapping {
            person_inn_attribute: attribute_oid("person_inn_attribute", person_inn_attribute)?,
            person_inn_prefix: prefix("person_inn_prefix", person_inn_prefix)?,
            organization_inn_attribute: attribute_oid(
                "organization_inn_attribute",
                organization_inn_attribute,
            )?,
            organization_inn_prefix: prefix("organization_inn_prefix", organization_inn_prefix)?,
        })
    }
}

fn attribute_oid(setting: &'static str, value: &str) -> Result<String, MappingError> {
    let known = match value.trim().to_ascii_lowercase().as_str() {
        "cn" | "commonname" => Some("2.5.4.3"),
        "serialnumber" => Some("2.5.4.5"),
        "o" | "organizationname" => Some("2.5.4.10"),
        "ou" | "organizationalunitname" => Some("2.5.4.11"),
        "title" => Some("2.5.4.12"),
        "organizationidentifier" => Some("2.5.4.97"),
        "uid" | "userid" => Some("0.9.2342.19200300.100.1.1"),
        _ => None,
    };
    if let Some(oid) = known {
        return Ok(oid.into());
    }
    der::asn1::ObjectIdentifier::new(value.trim())
        .map(|oid| oid.to_string())
        .map_err(|_| MappingError::UnknownAttribute {
            setting,
            value: value.into(),
        })
}

fn prefix(setting: &'static str, value: &str) -> Result<Option<String>, MappingError> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(None);
    }
    // Digits in a prefix would make "strip if present" ambiguous with the INN itself.
    if value.chars().any(|c| c.is_ascii_digit()) {
        return Err(MappingError::BadPrefix {
            setting,
            value: value.into(),
        });
    }
    Ok(Some(value.into()))
}

/// The verified signer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SignerIdentity {
    /// 14-digit INN of the person who signed.
    pub person_inn: String,
    /// 14-digit INN of the organization named in the certificate, if any.
    pub organization_inn: Option<String>,
    pub common_name: Option<String>,
    pub certificate: CertificateInfo,
}

/// A certificate described for logs, the API and the CLI.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CertificateInfo {
    /// Lower-case hex of the serial number, without leading zero bytes.
    pub serial_hex: String,
    /// RFC 4514 string (most specific attribute first).
    pub subject: String,
    pub issuer: String,
    pub thumbprint_sha256_hex: String,
    #[serde(serialize_with = "rfc3339")]
    pub not_before: OffsetDateTime,
    #[serde(serialize_with = "rfc3339")]
    pub not_after: OffsetDateTime,
    /// basicConstraints cA=TRUE.
    pub is_ca: bool,
}

impl CertificateInfo {
    pub(crate) fn from_der(der: &[u8]) -> Result<CertificateInfo, String> {
        let (_, cert) = X509Certificate::from_der(der).map_err(|e| e.to_string())?;
        Ok(CertificateInfo::of(&cert, der))
    }

    pub(crate) fn of(cert: &X509Certificate<'_>, der: &[u8]) -> CertificateInfo {
        let serial = cert.raw_serial();
        let first = serial
            .iter()
            .position(|b| *b != 0)
            .unwrap_or(serial.len().saturating_sub(1));
        CertificateInfo {
            serial_hex: hex::encode(&serial[first..]),
            subject: name_string(cert.subject()),
            issuer: name_string(cert.issuer()),
            thumbprint_sha256_hex: hex::encode(Sha256::digest(der)),
            not_before: cert.validity().not_before.to_datetime(),
            not_after: cert.validity().not_after.to_datetime(),
            is_ca: cert.is_ca(),
        }
    }
}

/// A CRL described for the CLI.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CrlInfo {
    pub issuer: String,
    #[serde(serialize_with = "rfc3339")]
    pub this_update: OffsetDateTime,
    #[serde(serialize_with = "rfc3339_opt")]
    pub next_update: Option<OffsetDateTime>,
    pub revoked_count: usize,
}

impl CrlInfo {
    pub(crate) fn from_der(der: &[u8]) -> Result<CrlInfo, String> {
        let (_, crl) = CertificateRevocationList::from_der(der).map_err(|e| e.to_string())?;
        Ok(CrlInfo {
            issuer: name_string(crl.issuer()),
            this_update: crl.last_update().to_datetime(),
            next_update: crl.next_update().map(|t| t.to_datetime()),
            revoked_count: crl.iter_revoked_certificates().count(),
        })
    }
}

/// Describes the one certificate in `bytes` (DER or PEM), e.g. a CA file given to
/// `idp trust add`.
pub fn parse_certificate_pem_or_der(bytes: &[u8]) -> Result<CertificateInfo, TrustError> {
    let der = single(certificates_to_der(bytes)?, "certificate")
        .map_err(|reason| TrustError::Certificate { index: 0, reason })?;
    CertificateInfo::from_der(&der).map_err(|reason| TrustError::Certificate { index: 0, reason })
}

/// Describes the one CRL in `bytes` (DER or PEM `X509 CRL`).
pub fn parse_crl_pem_or_der(bytes: &[u8]) -> Result<CrlInfo, TrustError> {
    let der = single(crls_to_der(bytes)?, "CRL")
        .map_err(|reason| TrustError::Crl { index: 0, reason })?;
    CrlInfo::from_der(&der).map_err(|reason| TrustError::Crl { index: 0, reason })
}

/// The DER of every certificate in `bytes` (DER, or PEM with one or more blocks).
pub fn certificates_to_der(bytes: &[u8]) -> Result<Vec<Vec<u8>>, TrustError> {
    der_items(bytes, CERTIFICATE_LABELS)
        .map_err(|reason| TrustError::Certificate { index: 0, reason })
}

/// The DER of every CRL in `bytes` (DER, or PEM with one or more blocks).
pub fn crls_to_der(bytes: &[u8]) -> Result<Vec<Vec<u8>>, TrustError> {
    der_items(bytes, CRL_LABELS).map_err(|reason| TrustError::Crl { index: 0, reason })
}

fn single(mut items: Vec<Vec<u8>>, what: &str) -> Result<Vec<u8>, String> {
    match items.len() {
        1 => Ok(items.remove(0)),
        n => Err(format!("expected one {what}, found {n}")),
    }
}

/// RFC 4514 form of a name, via x509-cert (which orders and escapes per the RFC; attributes
/// it has no name for, such as organizationIdentifier, appear as `2.5.4.97=#…`).
pub(crate) fn name_string(name: &X509Name<'_>) -> String {
    use der::Decode;
    x509_cert::name::Name::from_der(name.as_raw())
        .map(|n| n.to_string())
        .unwrap_or_else(|_| name.to_string())
}

/// Reads the signer identity from the leaf certificate per `mapping`; `now` dates the INN
/// birth-date check.
pub(crate) fn extract(
    der: &[u8],
    mapping: &IdentityMapping,
    now: OffsetDateTime,
) -> Result<SignerIdentity, Refusal> {
    let (_, cert) = X509Certificate::from_der(der)
        .map_err(|e| Refusal::malformed(format!("signer certificate: {e}")))?;
    let subject = cert.subject();
    let today = now.date();
    let person = attribute(subject, &mapping.person_inn_attribute)?.ok_or_else(|| {
        Refusal::IdentityMissing {
            detail: format!("no subject attribute {}", mapping.person_inn_attribute),
        }
    })?;
    let person_inn = inn(&person, mapping.person_inn_prefix.as_deref(), today)
        .map_err(|detail| Refusal::IdentityMissing { detail })?;
    let organization_inn = attribute(subject, &mapping.organization_inn_attribute)?
        .map(|value| inn(&value, mapping.organization_inn_prefix.as_deref(), today))
        .transpose()
        // A present but unreadable organization identifier means the mapping does not fit
        // this CA's profile; refusing makes that visible instead of silently signing the
        // person in without their organization.
        .map_err(|detail| Refusal::IdentityMissing {
            detail: format!("organization: {detail}"),
        })?;
    let common_name = subject
        .iter_common_name()
        .next()
        .and_then(|cn| cn.as_str().ok())
        .map(str::to_owned);
    Ok(SignerIdentity {
        person_inn,
        organization_inn,
        common_name,
        certificate: CertificateInfo::of(&cert, der),
    })
}

/// The single string value of attribute `oid`; several differing values are ambiguous.
fn attribute(name: &X509Name<'_>, oid: &str) -> Result<Option<String>, Refusal> {
    let mut values: Vec<String> = Vec::new();
    for atv in name.iter_attributes() {
        if atv.attr_type().to_id_string() != oid {
            continue;
        }
        let value = atv.as_str().map_err(|_| Refusal::IdentityMissing {
            detail: format!("subject attribute {oid} is not a string"),
        })?;
        if !values.iter().any(|v| v == value) {
            values.push(value.to_owned());
        }
    }
    match values.len() {
        0 => Ok(None),
        1 => Ok(values.pop()),
        _ => Err(Refusal::IdentityMissing {
            detail: format!("subject attribute {oid} has several values"),
        }),
    }
}

fn inn(value: &str, prefix: Option<&str>, today: time::Date) -> Result<String, String> {
    let mut rest = value.trim();
    if let Some(prefix) = prefix {
        if let Some(after) = strip_prefix_ignoring_case(rest, prefix) {
            rest = after.strip_prefix(['-', ':', ' ']).unwrap_or(after);
        }
    }
    normalize_inn_at(rest, false, today).map_err(|e| format!("{value:?}: {e}"))
}

/// `value` without `prefix`, compared case-insensitively (Cyrillic «ИНН» included).
fn strip_prefix_ignoring_case<'a>(value: &'a str, prefix: &str) -> Option<&'a str> {
    let mut chars = value.char_indices();
    for p in prefix.chars() {
        let (_, c) = chars.next()?;
        if !c.to_lowercase().eq(p.to_lowercase()) {
            return None;
        }
    }
    Some(chars.next().map_or("", |(i, _)| &value[i..]))
}

fn rfc3339<S: Serializer>(t: &OffsetDateTime, s: S) -> Result<S::Ok, S::Error> {
    use time::format_description::well_known::Rfc3339;
    let text = t.format(&Rfc3339).map_err(serde::ser::Error::custom)?;
    s.serialize_str(&text)
}

fn rfc3339_opt<S: Serializer>(t: &Option<OffsetDateTime>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => rfc3339(t, s),
        None => s.serialize_none(),
    }
}
