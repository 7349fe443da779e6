//! Reading the files `idp trust` is given: a CA certificate or a CRL, PEM or DER, into the
//! trust store's records, with the checks that decide whether it may be trusted (a CA
//! certificate, a CRL signed by a trusted CA's key). Names become RFC 4514 strings so the
//! same issuer always gets the same text, which is how CRLs are kept one per issuer.

use anyhow::{anyhow, bail, Context};
use sha2::{Digest, Sha256};
use x509_parser::certificate::X509Certificate;
use x509_parser::pem::Pem;
use x509_parser::x509::X509Name;

use crate::store::{NewCrl, TrustedCa, UnixTime};

/// A CRL read from a file, before we know which trusted CA signed it.
#[derive(Debug, Clone)]
pub struct ParsedCrl {
    pub issuer: String,
    pub this_update: UnixTime,
    pub next_update: Option<UnixTime>,
    pub der: Vec<u8>,
}

impl ParsedCrl {
    pub fn into_new(self, issuer_thumbprint: Option<String>) -> NewCrl {
        NewCrl {
            issuer: self.issuer,
            issuer_thumbprint,
            this_update: self.this_update,
            next_update: self.next_update,
            der: self.der,
        }
    }
}

/// Lowercase hex SHA-256 of a DER encoding.
pub fn thumbprint(der: &[u8]) -> String {
    hex::encode(Sha256::digest(der))
}

/// The DER inside `bytes`: the single PEM block labelled `label` when the file is PEM,
/// else `bytes` as they are.
fn der_of(bytes: &[u8], label: &str, what: &str) -> anyhow::Result<Vec<u8>> {
    if !contains(bytes, b"-----BEGIN ") {
        return Ok(bytes.to_vec());
    }
    let mut found = Vec::new();
    let mut others = Vec::new();
    for block in Pem::iter_from_buffer(bytes) {
        let block = block.map_err(|e| anyhow!("unreadable PEM: {e}"))?;
        if block.label == label {
            found.push(block.contents);
        } else {
            others.push(block.label);
        }
    }
    match found.len() {
        1 => Ok(found.pop().unwrap_or_default()),
        0 if others.is_empty() => bail!("unreadable PEM: no complete block"),
        0 => bail!(
            "the PEM file holds {} but no {what} (-----BEGIN {label}-----)",
            others.join(", ")
        ),
        n => bail!("the PEM file holds {n} {what}s; give one per file"),
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn parse_certificate(der: &[u8]) -> anyhow::Result<X509Certificate<'_>> {
    let (rest, cert) = x509_parser::parse_x509_certificate(der)
        .map_err(|e| anyhow!("not an X.509 certificate (PEM or DER): {e}"))?;
    if !rest.is_empty() {
        bail!(
            "not an X.509 certificate: {} stray bytes after it",
            rest.len()
        );
    }
    Ok(cert)
}

/// Reads a CA certificate (PEM or DER) into the record to trust, refusing anything that is
/// not a certificate authority: basicConstraints CA=true and keyUsage with keyCertSign
/// (RFC 5280 §4.2.1.3 obliges CAs to include keyUsage). These are the rules of
/// `esig::TrustAnchors`, which refuses the whole trust material if one CA breaks them.
pub fn read_ca_certificate(bytes: &[u8], now: UnixTime) -> anyhow::Result<TrustedCa> {
    let der = der_of(bytes, "CERTIFICATE", "certificate")?;
    let cert = parse_certificate(&der)?;
    let subject = rfc4514(cert.subject());
    let is_ca = cert
        .basic_constraints()
        .map_err(|e| anyhow!("{subject}: bad basicConstraints extension: {e}"))?
        .is_some_and(|bc| bc.value.ca);
    if !is_ca {
        bail!(
            "{subject} is not a CA certificate (no basicConstraints CA=true); \
             only certificate authorities can be trusted"
        );
    }
    let key_usage = cert
        .key_usage()
        .map_err(|e| anyhow!("{subject}: bad keyUsage extension: {e}"))?;
    if !key_usage.is_some_and(|ku| ku.value.key_cert_sign()) {
        bail!("{subject} is not a CA certificate (no keyUsage with keyCertSign)");
    }
    let validity = cert.validity();
    Ok(TrustedCa {
        thumbprint: thumbprint(&der),
        subject,
        issuer: rfc4514(cert.issuer()),
        serial: cert.tbs_certificate.serial.to_str_radix(16),
        not_before: validity.not_before.timestamp(),
        not_after: validity.not_after.timestamp(),
        added_at: now,
        der,
    })
}

/// Reads a CRL (PEM or DER). Its signature is checked separately, against the trusted CAs.
pub fn read_crl(bytes: &[u8]) -> anyhow::Result<ParsedCrl> {
    let der = der_of(bytes, "X509 CRL", "CRL")?;
    let (rest, crl) = x509_parser::parse_x509_crl(&der)
        .map_err(|e| anyhow!("not an X.509 CRL (PEM or DER): {e}"))?;
    if !rest.is_empty() {
        bail!("not an X.509 CRL: {} stray bytes after it", rest.len());
    }
    let issuer = rfc4514(crl.issuer());
    // Without nextUpdate nobody can tell when it goes stale; `esig::TrustAnchors` refuses
    // such a CRL, and with it the whole trust material.
    let Some(next_update) = crl.next_update() else {
        bail!("the CRL of {issuer} has no nextUpdate; refusing it");
    };
    let parsed = ParsedCrl {
        issuer,
        this_update: crl.last_update().timestamp(),
        next_update: Some(next_update.timestamp()),
        der: Vec::new(),
    };
    Ok(ParsedCrl { der, ..parsed })
}

/// The issuer name of a trusted CA's certificate as its CRLs name it (its subject).
pub fn subject_of(ca_der: &[u8]) -> anyhow::Result<String> {
    Ok(rfc4514(parse_certificate(ca_der)?.subject()))
}

/// Whether `crl_der` is signed by the key of the certificate `ca_der`. x509-parser only
/// verifies with its `verify` feature (ring); OpenSSL is already linked and knows every
/// algorithm a national CA may use.
pub fn crl_signed_by(crl_der: &[u8], ca_der: &[u8]) -> anyhow::Result<bool> {
    let crl = openssl::x509::X509Crl::from_der(crl_der).context("OpenSSL cannot read the CRL")?;
    let key = openssl::x509::X509::from_der(ca_der)
        .and_then(|ca| ca.public_key())
        .context("OpenSSL cannot read the CA's public key")?;
    // An unsupported algorithm is an error in OpenSSL's queue, not `false`: the answer is
    // still "does not verify".
    Ok(crl.verify(&key).unwrap_or(false))
}

/// `2026-05-01T12:00:00Z`.
pub fn format_time(t: UnixTime) -> String {
    time::OffsetDateTime::from_unix_timestamp(t)
        .ok()
        .and_then(|d| {
            d.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| t.to_string())
}

/// The RFC 4514 form of a name, as the signature core (`esig`) writes it: x509-cert orders
/// and escapes per the RFC; x509-parser's own form is only the fallback for names x509-cert
/// cannot read.
pub fn rfc4514(name: &X509Name<'_>) -> String {
    use der::Decode;
    x509_cert::name::Name::from_der(name.as_raw())
        .map(|n| n.to_string())
        .unwrap_or_else(|_| name.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_rfc_4514() {
        use x509_parser::prelude::FromDer;
        // C=KG, CN="a,b": PrintableString and UTF8String.
        let der = [
            0x30, 0x1b, 0x31, 0x0b, 0x30, 0x09, 0x06, 0x03, 0x55, 0x04, 0x06, 0x13, 0x02, b'K',
            b'G', 0x31, 0x0c, 0x30, 0x0a, 0x06, 0x03, 0x55, 0x04, 0x03, 0x0c, 0x03, b'a', b',',
            b'b',
        ];
        let (rest, name) = X509Name::from_der(&der).unwrap();
        assert!(rest.is_empty());
        assert_eq!(rfc4514(&name), "CN=a\\,b,C=KG");
    }

    #[test]
    fn garbage_is_refused_with_a_readable_message() {
        let err = read_ca_certificate(b"hello, world", 0).unwrap_err();
        assert!(
            format!("{err:#}").starts_with("not an X.509 certificate"),
            "{err:#}"
        );
        let err = read_crl(b"-----BEGIN X509 CRL-----\nnot base64!\n-----END X509 CRL-----\n")
            .unwrap_err();
        assert!(format!("{err:#}").contains("PEM"), "{err:#}");
        let err = read_ca_certificate(
            b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
            0,
        )
        .unwrap_err();
        assert!(format!("{err:#}").contains("no certificate"), "{err:#}");
    }

    #[test]
    fn times_print_as_rfc_3339() {
        assert_eq!(format_time(1_700_000_000), "2023-11-14T22:13:20Z");
    }
}
