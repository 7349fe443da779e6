//! Records of the trust store (D5): the certificate authorities trusted for electronic
//! signatures, the revocation lists stored for them, and the outcomes of changing them. The
//! [`TrustStore`](super::TrustStore) role trait uses them; both backends share
//! [`thumbprint_prefix`] so they agree on what `remove_ca` accepts.

use serde::Serialize;

use super::model::UnixTime;

/// The shortest thumbprint prefix `remove_ca` accepts: 8 hex digits make an accidental match
/// among a handful of CAs practically impossible, and are still easy to type.
pub const MIN_THUMBPRINT_PREFIX: usize = 8;

/// A trusted CA certificate. Names are RFC 4514 strings as shown to operators.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TrustedCa {
    /// Lowercase hex SHA-256 of `der`; the primary key.
    pub thumbprint: String,
    pub subject: String,
    pub issuer: String,
    /// Serial number, lowercase hex.
    pub serial: String,
    pub not_before: UnixTime,
    pub not_after: UnixTime,
    /// The certificate as given (DER).
    #[serde(skip)]
    pub der: Vec<u8>,
    pub added_at: UnixTime,
}

/// A stored certificate revocation list: the latest one of its issuer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Crl {
    pub id: i64,
    /// The CRL's issuer name (RFC 4514); at most one CRL per issuer is kept.
    pub issuer: String,
    /// The trusted CA whose key verifies it, when one was found.
    pub issuer_thumbprint: Option<String>,
    pub this_update: UnixTime,
    pub next_update: Option<UnixTime>,
    #[serde(skip)]
    pub der: Vec<u8>,
    pub added_at: UnixTime,
}

/// A CRL to store (the store assigns the id and the time it was added).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCrl {
    pub issuer: String,
    /// Must name a trusted CA when given (else `NotFound`).
    pub issuer_thumbprint: Option<String>,
    pub this_update: UnixTime,
    pub next_update: Option<UnixTime>,
    pub der: Vec<u8>,
}

/// What `add_ca` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddCaOutcome {
    Added,
    /// The same certificate (same thumbprint) was already trusted; nothing changed.
    AlreadyTrusted {
        added_at: UnixTime,
    },
}

/// What `remove_ca` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RemoveCaOutcome {
    /// The CA is no longer trusted; its CRLs were removed with it.
    Removed { ca: TrustedCa, crls_removed: u64 },
    /// No trusted CA has that thumbprint (or the prefix is shorter than
    /// [`MIN_THUMBPRINT_PREFIX`] or not hex).
    NotFound,
    /// The prefix matches several CAs (their thumbprints); nothing was removed.
    Ambiguous(Vec<String>),
}

/// What `put_crl` did. Only a CRL with a later `this_update` replaces the stored one, so an
/// old file fed in by mistake cannot bring revoked certificates back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PutCrlOutcome {
    /// The first CRL of this issuer.
    Added,
    /// Replaced the issuer's older CRL, whose `this_update` this was.
    Replaced { previous_this_update: UnixTime },
    /// Byte for byte the stored CRL; nothing changed.
    Unchanged,
    /// The stored CRL is as new or newer; nothing changed.
    Stale { stored_this_update: UnixTime },
}

/// Everything a signature verification needs from the database, read at once so one
/// verification sees one consistent state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustMaterial {
    /// DER of every trusted CA certificate.
    pub cas: Vec<Vec<u8>>,
    /// DER of every stored CRL.
    pub crls: Vec<Vec<u8>>,
}

/// The lowercase form of a thumbprint or prefix `remove_ca` accepts: 8–64 hex digits
/// (surrounding spaces and `:` separators, as some tools print them, are ignored).
pub fn thumbprint_prefix(input: &str) -> Option<String> {
    let hex: String = input
        .trim()
        .chars()
        .filter(|c| *c != ':')
        .map(|c| c.to_ascii_lowercase())
        .collect();
    let ok = (MIN_THUMBPRINT_PREFIX..=64).contains(&hex.len())
        && hex.bytes().all(|b| b.is_ascii_hexdigit());
    ok.then_some(hex)
}

#[cfg(test)]
mod tests {
    use super::thumbprint_prefix;

    #[test]
    fn prefixes_are_8_to_64_hex_digits() {
        assert_eq!(thumbprint_prefix(" 0A1B2C3D "), Some("0a1b2c3d".into()));
        assert_eq!(thumbprint_prefix("0a:1b:2c:3d"), Some("0a1b2c3d".into()));
        assert_eq!(thumbprint_prefix(&"f".repeat(64)), Some("f".repeat(64)));
        for bad in ["", "0a1b2c3", "0a1b2c3g", "%%%%%%%%", &"f".repeat(65)] {
            assert_eq!(thumbprint_prefix(bad), None, "{bad:?}");
        }
    }
}
