//! Tests of the verification core against the `pki` builder: a shared fixture (keys made
//! once, a root → intermediate → signer PKI at a fixed `now`) and helpers; the cases are in
//! the submodules, one test per refusal reason and per accepted algorithm.

mod acceptance;
mod ocsp;
mod openssl_cli;
mod refusals;
mod trust;

use std::sync::OnceLock;

use openssl::pkey::{PKey, Private};
use time::{Duration, OffsetDateTime};

use super::pki::{self, CertSpec, CmsOptions, Credential, KeySpec, Subject};
use super::*;

pub(super) const CHALLENGE: &[u8] = b"salyk-id challenge 7f3a9c0e";
pub(super) const PERSON_INN: &str = "21207198599011";
pub(super) const ORG_INN: &str = "01503201699001";

/// 2026-03-01T12:00:00Z: every certificate validity is relative to it, never to the clock.
pub(super) fn now() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_772_366_400).unwrap()
}

pub(super) fn days(n: i64) -> Duration {
    Duration::days(n)
}

/// Keys are generated once per test binary: RSA generation dominates the run time.
pub(super) struct Keys {
    pub rsa: Vec<PKey<Private>>,
    pub p256: PKey<Private>,
    pub p384: PKey<Private>,
}

pub(super) fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| Keys {
        rsa: (0..4)
            .map(|_| pki::generate_key(KeySpec::Rsa(2048)).unwrap())
            .collect(),
        p256: pki::generate_key(KeySpec::EcP256).unwrap(),
        p384: pki::generate_key(KeySpec::EcP384).unwrap(),
    })
}

/// Root key 0, intermediate key 1, RSA signer key 2; key 3 is for strangers.
pub(super) fn rsa(i: usize) -> PKey<Private> {
    keys().rsa[i].clone()
}

pub(super) struct Pki {
    pub root: Credential,
    pub inter: Credential,
    pub signer: Credential,
    pub anchors: TrustAnchors,
}

pub(super) fn pki() -> &'static Pki {
    static PKI: OnceLock<Pki> = OnceLock::new();
    PKI.get_or_init(|| {
        let root = root_with(rsa(0), "Salyk Test Root CA");
        let inter = pki::issue(&root, rsa(1), &ca_spec("Salyk Test Issuing CA")).unwrap();
        let signer = pki::issue(&inter, rsa(2), &leaf_spec()).unwrap();
        let anchors = anchors(&[&root], &[]);
        Pki {
            root,
            inter,
            signer,
            anchors,
        }
    })
}

pub(super) fn root_with(key: PKey<Private>, name: &str) -> Credential {
    pki::self_signed(key, &ca_spec(name)).unwrap()
}

pub(super) fn ca_spec(name: &str) -> CertSpec {
    CertSpec::ca(Subject::ca(name), now() - days(3650), now() + days(3650))
}

pub(super) fn person_subject() -> Subject {
    Subject {
        common_name: Some("ДЕМОНОВА НУРЖАН МАРАТОВНА".into()),
        serial_number: Some(format!("INN{PERSON_INN}")),
        organization_identifier: Some(format!("NTRKG-{ORG_INN}")),
        organization: Some("ОсОО «ДЕМО Софт»".into()),
        country: Some("KG".into()),
    }
}

pub(super) fn leaf_spec() -> CertSpec {
    CertSpec::end_entity(person_subject(), now() - days(365), now() + days(365))
}

pub(super) fn anchors(cas: &[&Credential], crls: &[Vec<u8>]) -> TrustAnchors {
    let ders: Vec<Vec<u8>> = cas.iter().map(|c| c.certificate_der()).collect();
    TrustAnchors::new(&ders, crls).unwrap()
}

/// Options for the fixture: attached, the intermediate in the CMS, signing time `now`.
pub(super) fn options(algorithm: SignatureAlgorithm) -> CmsOptions {
    let mut o = CmsOptions::new(algorithm);
    o.extra_certificates = vec![pki().inter.certificate.clone()];
    o.signing_time = now();
    o
}

pub(super) fn rsa_options() -> CmsOptions {
    options(SignatureAlgorithm::RsaPkcs1Sha256)
}

pub(super) fn sign(signer: &Credential, content: &[u8], options: &CmsOptions) -> Vec<u8> {
    pki::sign_cms(signer, content, options).unwrap()
}

/// Verifies attached `cms` for [`CHALLENGE`] against `anchors` with the default policy.
pub(super) fn check_with(cms: &[u8], anchors: &TrustAnchors) -> Result<SignerIdentity, Refusal> {
    verify(
        SignedInput::Attached(cms),
        CHALLENGE,
        anchors,
        &Policy::default(),
        now(),
    )
}

pub(super) fn check(cms: &[u8]) -> Result<SignerIdentity, Refusal> {
    check_with(cms, &pki().anchors)
}

/// Signs the challenge with `spec` issued by the fixture intermediate (RSA key 2) and
/// verifies it against the fixture root.
pub(super) fn check_leaf(spec: &CertSpec) -> Result<SignerIdentity, Refusal> {
    let signer = pki::issue(&pki().inter, rsa(2), spec).unwrap();
    check(&sign(&signer, CHALLENGE, &rsa_options()))
}

#[track_caller]
pub(super) fn expect_refusal(result: Result<SignerIdentity, Refusal>, code: &str) -> Refusal {
    match result {
        Ok(identity) => panic!("expected {code}, but accepted {identity:?}"),
        Err(refusal) => {
            assert_eq!(refusal.code(), code, "refusal: {refusal}");
            refusal
        }
    }
}

#[test]
fn every_refusal_has_a_listed_code_and_catalogue_key() {
    let samples = [
        Refusal::Malformed("x".into()),
        Refusal::WrongChallenge,
        Refusal::MissingSignedAttributes {
            missing: "signedAttrs",
        },
        Refusal::CrlExpired {
            issuer: "CN=x".into(),
            next_update: now(),
        },
    ];
    for refusal in samples {
        assert!(Refusal::ALL_CODES.contains(&refusal.code()));
        assert_eq!(
            refusal.message_key(),
            format!("esig.error.{}", refusal.code())
        );
        assert!(!refusal.to_string().is_empty());
    }
    let mut codes = Refusal::ALL_CODES.to_vec();
    codes.sort_unstable();
    codes.dedup();
    assert_eq!(codes.len(), Refusal::ALL_CODES.len(), "codes are unique");
    assert!(codes
        .iter()
        .all(|c| c.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')));
}
