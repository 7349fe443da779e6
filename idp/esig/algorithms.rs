//! The algorithms we accept, their OIDs, and signature verification through OpenSSL.
//!
//! Accepted: SHA-256/384/512 digests; RSA PKCS#1 v1.5 and RSASSA-PSS (keys of at least
//! 2048 bits) and ECDSA on P-256 / P-384, each with SHA-256/384/512. Everything else —
//! notably GOST R 34.10/34.11, SHA-1 and MD5 — is refused with its OID, so a log line shows
//! exactly what a token produced.

use der::asn1::ObjectIdentifier;
use der::Encode;
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{Id, PKey, PKeyRef, Public};
use openssl::rsa::Padding;
use openssl::sign::{RsaPssSaltlen, Verifier};
use x509_cert::spki::AlgorithmIdentifierOwned;

use super::Refusal;

pub(crate) const ID_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.1");
pub(crate) const ID_SIGNED_DATA: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
pub(crate) const ID_CONTENT_TYPE: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.3");
pub(crate) const ID_MESSAGE_DIGEST: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");
pub(crate) const ID_SIGNING_TIME: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.5");

pub(crate) const SHA256: &str = "2.16.840.1.101.3.4.2.1";
pub(crate) const SHA384: &str = "2.16.840.1.101.3.4.2.2";
pub(crate) const SHA512: &str = "2.16.840.1.101.3.4.2.3";
pub(crate) const RSA_ENCRYPTION: &str = "1.2.840.113549.1.1.1";
pub(crate) const RSASSA_PSS: &str = "1.2.840.113549.1.1.10";
pub(crate) const MGF1: &str = "1.2.840.113549.1.1.8";
pub(crate) const SHA256_WITH_RSA: &str = "1.2.840.113549.1.1.11";
pub(crate) const SHA384_WITH_RSA: &str = "1.2.840.113549.1.1.12";
pub(crate) const SHA512_WITH_RSA: &str = "1.2.840.113549.1.1.13";
pub(crate) const EC_PUBLIC_KEY: &str = "1.2.840.10045.2.1";
pub(crate) const ECDSA_SHA256: &str = "1.2.840.10045.4.3.2";
pub(crate) const ECDSA_SHA384: &str = "1.2.840.10045.4.3.3";
pub(crate) const ECDSA_SHA512: &str = "1.2.840.10045.4.3.4";
/// GOST R 34.10-2012 with GOST R 34.11-2012 (256 bit), what Russian-profile tokens emit.
pub const GOST_2012_256_SIGNATURE: &str = "1.2.643.7.1.1.3.2";

/// Smallest RSA modulus accepted (NIST SP 800-131A).
const MIN_RSA_BITS: u32 = 2048;

/// A digest algorithm we accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashAlgorithm {
    Sha256,
    Sha384,
    Sha512,
}

impl HashAlgorithm {
    pub(crate) fn from_oid(oid: &str) -> Option<HashAlgorithm> {
        match oid {
            SHA256 => Some(HashAlgorithm::Sha256),
            SHA384 => Some(HashAlgorithm::Sha384),
            SHA512 => Some(HashAlgorithm::Sha512),
            _ => None,
        }
    }

    /// Dotted OID (NIST, RFC 5754).
    pub fn oid(self) -> &'static str {
        match self {
            HashAlgorithm::Sha256 => SHA256,
            HashAlgorithm::Sha384 => SHA384,
            HashAlgorithm::Sha512 => SHA512,
        }
    }

    pub(crate) fn message_digest(self) -> MessageDigest {
        match self {
            HashAlgorithm::Sha256 => MessageDigest::sha256(),
            HashAlgorithm::Sha384 => MessageDigest::sha384(),
            HashAlgorithm::Sha512 => MessageDigest::sha512(),
        }
    }

    /// Output length in bytes (also the PSS salt length our builder uses).
    pub fn output_len(self) -> usize {
        match self {
            HashAlgorithm::Sha256 => 32,
            HashAlgorithm::Sha384 => 48,
            HashAlgorithm::Sha512 => 64,
        }
    }

    pub(crate) fn digest(self, data: &[u8]) -> Result<Vec<u8>, Refusal> {
        openssl::hash::hash(self.message_digest(), data)
            .map(|d| d.to_vec())
            .map_err(|e| Refusal::malformed(format!("digest failed: {e}")))
    }
}

/// A signature algorithm we accept; also names the algorithm of a raw (non-CMS) signature.
/// ECDSA signatures are DER `Ecdsa-Sig-Value`s, as OpenSSL and PKCS#11 wrappers produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureAlgorithm {
    RsaPkcs1Sha256,
    RsaPkcs1Sha384,
    RsaPkcs1Sha512,
    /// RSASSA-PSS, MGF1 with the same hash, salt as long as the hash.
    RsaPssSha256,
    RsaPssSha384,
    RsaPssSha512,
    EcdsaSha256,
    EcdsaSha384,
    EcdsaSha512,
}

impl SignatureAlgorithm {
    pub const ALL: [SignatureAlgorithm; 9] = [
        SignatureAlgorithm::RsaPkcs1Sha256,
        SignatureAlgorithm::RsaPkcs1Sha384,
        SignatureAlgorithm::RsaPkcs1Sha512,
        SignatureAlgorithm::RsaPssSha256,
        SignatureAlgorithm::RsaPssSha384,
        SignatureAlgorithm::RsaPssSha512,
        SignatureAlgorithm::EcdsaSha256,
        SignatureAlgorithm::EcdsaSha384,
        SignatureAlgorithm::EcdsaSha512,
    ];

    pub fn hash(self) -> HashAlgorithm {
        use SignatureAlgorithm::*;
        match self {
            RsaPkcs1Sha256 | RsaPssSha256 | EcdsaSha256 => HashAlgorithm::Sha256,
            RsaPkcs1Sha384 | RsaPssSha384 | EcdsaSha384 => HashAlgorithm::Sha384,
            RsaPkcs1Sha512 | RsaPssSha512 | EcdsaSha512 => HashAlgorithm::Sha512,
        }
    }

    /// The JWA name (RFC 7518 §3.1), the vocabulary of cloud signature services.
    pub fn jose_name(self) -> &'static str {
        use SignatureAlgorithm::*;
        match self {
            RsaPkcs1Sha256 => "RS256",
            RsaPkcs1Sha384 => "RS384",
            RsaPkcs1Sha512 => "RS512",
            RsaPssSha256 => "PS256",
            RsaPssSha384 => "PS384",
            RsaPssSha512 => "PS512",
            EcdsaSha256 => "ES256",
            EcdsaSha384 => "ES384",
            EcdsaSha512 => "ES512",
        }
    }

    pub fn from_jose_name(name: &str) -> Option<SignatureAlgorithm> {
        Self::ALL.into_iter().find(|a| a.jose_name() == name)
    }

    pub(crate) fn scheme(self) -> Scheme {
        use SignatureAlgorithm::*;
        match self {
            RsaPkcs1Sha256 | RsaPkcs1Sha384 | RsaPkcs1Sha512 => Scheme::RsaPkcs1,
            RsaPssSha256 | RsaPssSha384 | RsaPssSha512 => Scheme::RsaPss {
                mgf1: self.hash(),
                salt_len: self.hash().output_len() as u32,
            },
            EcdsaSha256 | EcdsaSha384 | EcdsaSha512 => Scheme::Ecdsa,
        }
    }
}

/// How the signature value is checked; the hash is chosen separately.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scheme {
    RsaPkcs1,
    RsaPss { mgf1: HashAlgorithm, salt_len: u32 },
    Ecdsa,
}

/// Human name of an OID we refuse, for the refusal message.
pub(crate) fn algorithm_name(oid: &str) -> &'static str {
    match oid {
        "1.3.14.3.2.26" => "SHA-1",
        "1.2.840.113549.2.5" => "MD5",
        "1.2.840.113549.1.1.5" => "SHA-1 with RSA",
        "1.2.840.10045.4.1" => "ECDSA with SHA-1",
        "1.3.101.112" => "Ed25519",
        "1.2.840.10040.4.1" | "1.2.840.10040.4.3" => "DSA",
        "1.2.643.7.1.1.2.2" => "GOST R 34.11-2012 (256 bit)",
        "1.2.643.7.1.1.2.3" => "GOST R 34.11-2012 (512 bit)",
        "1.2.643.2.2.9" => "GOST R 34.11-94",
        "1.2.643.7.1.1.1.1" => "GOST R 34.10-2012 key (256 bit)",
        "1.2.643.7.1.1.1.2" => "GOST R 34.10-2012 key (512 bit)",
        GOST_2012_256_SIGNATURE => "GOST R 34.10-2012 with GOST R 34.11-2012 (256 bit)",
        "1.2.643.7.1.1.3.3" => "GOST R 34.10-2012 with GOST R 34.11-2012 (512 bit)",
        "1.2.643.2.2.19" => "GOST R 34.10-2001 key",
        "1.2.643.2.2.3" => "GOST R 34.10-2001 with GOST R 34.11-94",
        o if o.starts_with("1.2.643.") => "GOST family",
        _ => "not supported",
    }
}

/// The digest algorithm of a SignerInfo (used for messageDigest and the signature).
pub(crate) fn digest_algorithm(id: &AlgorithmIdentifierOwned) -> Result<HashAlgorithm, Refusal> {
    let oid = id.oid.to_string();
    HashAlgorithm::from_oid(&oid).ok_or_else(|| {
        let name = algorithm_name(&oid);
        Refusal::unsupported(&oid, name)
    })
}

/// The scheme of a SignerInfo's signatureAlgorithm. When the OID names a hash (e.g.
/// sha384WithRSAEncryption, or the PSS parameters), it must be the digestAlgorithm: CMS
/// hashes the signed attributes with the digestAlgorithm (RFC 5652 §5.4), and accepting a
/// disagreement would leave it to the verifier which one counts.
pub(crate) fn signer_scheme(
    digest: HashAlgorithm,
    id: &AlgorithmIdentifierOwned,
) -> Result<Scheme, Refusal> {
    let oid = id.oid.to_string();
    let (scheme, named_hash) = match oid.as_str() {
        // rsaEncryption / id-ecPublicKey as a signature algorithm: the hash is the
        // digestAlgorithm (what `openssl cms -sign` emits for RSA).
        RSA_ENCRYPTION => (Scheme::RsaPkcs1, None),
        EC_PUBLIC_KEY => (Scheme::Ecdsa, None),
        SHA256_WITH_RSA => (Scheme::RsaPkcs1, Some(HashAlgorithm::Sha256)),
        SHA384_WITH_RSA => (Scheme::RsaPkcs1, Some(HashAlgorithm::Sha384)),
        SHA512_WITH_RSA => (Scheme::RsaPkcs1, Some(HashAlgorithm::Sha512)),
        ECDSA_SHA256 => (Scheme::Ecdsa, Some(HashAlgorithm::Sha256)),
        ECDSA_SHA384 => (Scheme::Ecdsa, Some(HashAlgorithm::Sha384)),
        ECDSA_SHA512 => (Scheme::Ecdsa, Some(HashAlgorithm::Sha512)),
        RSASSA_PSS => {
            let (hash, scheme) = pss_parameters(id)?;
            (scheme, Some(hash))
        }
        _ => return Err(Refusal::unsupported(&oid, algorithm_name(&oid))),
    };
    match named_hash {
        Some(h) if h != digest => Err(Refusal::unsupported(
            &oid,
            format!(
                "signature hash {} differs from digestAlgorithm {}",
                h.oid(),
                digest.oid()
            ),
        )),
        _ => Ok(scheme),
    }
}

/// Reads RSASSA-PSS-params (RFC 4055 §3.1) with x509-parser; absent fields take the
/// RFC's SHA-1 defaults and are therefore refused.
fn pss_parameters(id: &AlgorithmIdentifierOwned) -> Result<(HashAlgorithm, Scheme), Refusal> {
    use x509_parser::asn1_rs::{Any, FromDer};
    use x509_parser::signature_algorithm::RsaSsaPssParams;

    let params = id
        .parameters
        .as_ref()
        .ok_or_else(|| Refusal::malformed("RSASSA-PSS without parameters"))?
        .to_der()
        .map_err(Refusal::malformed)?;
    let (_, any) = Any::from_der(&params).map_err(|e| Refusal::malformed(format!("PSS: {e}")))?;
    let pss = RsaSsaPssParams::try_from(&any)
        .map_err(|e| Refusal::malformed(format!("PSS parameters: {e}")))?;
    let hash_oid = pss.hash_algorithm_oid().to_id_string();
    let hash = HashAlgorithm::from_oid(&hash_oid)
        .ok_or_else(|| Refusal::unsupported(&hash_oid, algorithm_name(&hash_oid)))?;
    let mgf = pss
        .mask_gen_algorithm()
        .map_err(|e| Refusal::malformed(format!("PSS mask generation: {e}")))?;
    let mgf_oid = mgf.mgf.to_id_string();
    if mgf_oid != MGF1 {
        return Err(Refusal::unsupported(
            &mgf_oid,
            "PSS mask generation other than MGF1",
        ));
    }
    let mgf_hash_oid = mgf.hash.to_id_string();
    let mgf1 = HashAlgorithm::from_oid(&mgf_hash_oid)
        .ok_or_else(|| Refusal::unsupported(&mgf_hash_oid, algorithm_name(&mgf_hash_oid)))?;
    if pss.trailer_field() != 1 {
        return Err(Refusal::malformed("PSS trailerField other than 1"));
    }
    let salt_len = pss.salt_length();
    Ok((hash, Scheme::RsaPss { mgf1, salt_len }))
}

/// Loads a certificate's public key for verification, refusing key types and sizes we do
/// not accept (reported with the key's algorithm OID, e.g. a GOST key).
pub(crate) fn public_key(
    cert: &x509_parser::certificate::X509Certificate<'_>,
) -> Result<PKey<Public>, Refusal> {
    let spki = cert.public_key();
    let oid = spki.algorithm.algorithm.to_id_string();
    if ![RSA_ENCRYPTION, RSASSA_PSS, EC_PUBLIC_KEY].contains(&oid.as_str()) {
        return Err(Refusal::unsupported(&oid, algorithm_name(&oid)));
    }
    let key = PKey::public_key_from_der(spki.raw)
        .map_err(|e| Refusal::malformed(format!("signer public key: {e}")))?;
    match key.id() {
        Id::RSA | Id::RSA_PSS if key.bits() < MIN_RSA_BITS => Err(Refusal::unsupported(
            &oid,
            format!("RSA-{} (at least {MIN_RSA_BITS} bits required)", key.bits()),
        )),
        Id::EC => {
            let curve = key.ec_key().ok().and_then(|k| k.group().curve_name());
            match curve {
                Some(Nid::X9_62_PRIME256V1) | Some(Nid::SECP384R1) => Ok(key),
                other => Err(Refusal::unsupported(
                    &oid,
                    format!(
                        "elliptic curve {} (P-256 or P-384 required)",
                        other.and_then(|n| n.short_name().ok()).unwrap_or("unnamed")
                    ),
                )),
            }
        }
        _ => Ok(key),
    }
}

/// Checks `signature` over `data` with OpenSSL. Any failure, including a signature OpenSSL
/// cannot even decode, is `bad_signature`: to the user they are the same forgery.
pub(crate) fn verify_signature(
    key: &PKeyRef<Public>,
    hash: HashAlgorithm,
    scheme: Scheme,
    data: &[u8],
    signature: &[u8],
) -> Result<(), Refusal> {
    let key_fits = match scheme {
        Scheme::RsaPkcs1 => key.id() == Id::RSA,
        Scheme::RsaPss { .. } => matches!(key.id(), Id::RSA | Id::RSA_PSS),
        Scheme::Ecdsa => key.id() == Id::EC,
    };
    if !key_fits {
        return Err(Refusal::BadSignature {
            detail: format!("a {:?} key cannot make a {scheme:?} signature", key.id()),
        });
    }
    let checked = (|| {
        let mut verifier = Verifier::new(hash.message_digest(), key)?;
        match scheme {
            Scheme::RsaPkcs1 => verifier.set_rsa_padding(Padding::PKCS1)?,
            Scheme::RsaPss { mgf1, salt_len } => {
                verifier.set_rsa_padding(Padding::PKCS1_PSS)?;
                verifier.set_rsa_mgf1_md(mgf1.message_digest())?;
                let salt = i32::try_from(salt_len).unwrap_or(i32::MAX);
                verifier.set_rsa_pss_saltlen(RsaPssSaltlen::custom(salt))?;
            }
            Scheme::Ecdsa => {}
        }
        verifier.verify_oneshot(signature, data)
    })();
    match checked {
        Ok(true) => Ok(()),
        Ok(false) => Err(Refusal::BadSignature {
            detail: "the signature value does not match".into(),
        }),
        Err(e) => Err(Refusal::BadSignature {
            detail: format!("OpenSSL: {e}"),
        }),
    }
}
