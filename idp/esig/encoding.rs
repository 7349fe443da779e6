//! Turning what callers hand us (DER, PEM, bare base64, BER from streaming signers) into
//! the DER the parsers expect. Nothing here interprets ASN.1 beyond the outer form.

use base64::Engine;
use x509_parser::pem::Pem;

use super::Refusal;

/// PEM labels under which CMS SignedData turns up in the wild.
const CMS_LABELS: &[&str] = &["CMS", "PKCS7", "PKCS #7 SIGNED DATA"];

/// Returns the DER of a CMS ContentInfo given as DER, PEM (`CMS` / `PKCS7`) or bare base64
/// (what browser plugins such as Rutoken's return).
///
/// The bytes are returned as found; BER is dealt with by the parser.
pub fn decode_cms(bytes: &[u8]) -> Result<Vec<u8>, Refusal> {
    // DER is binary: its last byte may well be 0x20 or 0x0a, so it is never trimmed.
    if bytes.first() == Some(&0x30) {
        return Ok(bytes.to_vec());
    }
    let trimmed = bytes.trim_ascii();
    let der = if trimmed.starts_with(b"-----BEGIN") {
        let blocks = pem_blocks(trimmed).map_err(Refusal::Malformed)?;
        let mut cms = blocks
            .into_iter()
            .filter(|p| CMS_LABELS.contains(&p.label.as_str()));
        match (cms.next(), cms.next()) {
            (Some(p), None) => p.contents,
            (None, _) => return Err(Refusal::malformed("no CMS or PKCS7 PEM block")),
            (Some(_), Some(_)) => return Err(Refusal::malformed("more than one CMS PEM block")),
        }
    } else {
        decode_base64(trimmed).ok_or_else(|| Refusal::malformed("neither DER, PEM nor base64"))?
    };
    Ok(der)
}

/// Decodes a certificate or CRL list given as DER or as one or more PEM blocks with one of
/// `labels`; returns each DER.
pub(crate) fn der_items(bytes: &[u8], labels: &[&str]) -> Result<Vec<Vec<u8>>, String> {
    if bytes.first() == Some(&0x30) {
        return Ok(vec![bytes.to_vec()]);
    }
    let trimmed = bytes.trim_ascii();
    if !trimmed.starts_with(b"-----BEGIN") {
        return Err("neither DER nor PEM".into());
    }
    let items: Vec<Vec<u8>> = pem_blocks(trimmed)?
        .into_iter()
        .filter(|p| labels.contains(&p.label.as_str()))
        .map(|p| p.contents)
        .collect();
    if items.is_empty() {
        return Err(format!("no PEM block labelled {}", labels.join(" or ")));
    }
    Ok(items)
}

fn pem_blocks(bytes: &[u8]) -> Result<Vec<Pem>, String> {
    Pem::iter_from_buffer(bytes)
        .map(|p| p.map_err(|e| format!("bad PEM: {e}")))
        .collect()
}

/// Standard or URL-safe alphabet, padding optional, whitespace (line breaks) ignored:
/// plugins and JavaScript callers differ in all three.
fn decode_base64(bytes: &[u8]) -> Option<Vec<u8>> {
    use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
    use base64::engine::DecodePaddingMode;
    let compact: Vec<u8> = bytes
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    let config =
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
    let standard = GeneralPurpose::new(&base64::alphabet::STANDARD, config);
    let url_safe = GeneralPurpose::new(&base64::alphabet::URL_SAFE, config);
    standard
        .decode(&compact)
        .or_else(|_| url_safe.decode(&compact))
        .ok()
        .filter(|der| der.first() == Some(&0x30))
}

/// PEM armour for `der` under `label` (64-column base64), for CLI output and test files.
pub fn to_pem(label: &str, der: &[u8]) -> String {
    let body = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in body.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).unwrap_or_default());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}
