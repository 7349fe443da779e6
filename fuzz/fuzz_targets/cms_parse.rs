//! Fuzz target: arbitrary bytes as a CMS SignedData from a signing token, through the whole
//! signature sign-in check (`esig::decode_cms`, then `esig::verify` attached and detached)
//! against a fixed trust anchor set (fixtures/: a CA, its CRL). Nothing may panic; every
//! input must end in a `Refusal` or, for a genuine signature of the challenge, an identity.
//! Seeds: seeds/cms_parse (a valid signature as DER, PEM and base64).

#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use salyk_idp::esig::{self, Policy, SignedInput, TrustAnchors};
use time::OffsetDateTime;

/// What fixtures/signed.cms.der signs.
const CHALLENGE: &[u8] = b"salyk-fuzz-challenge";

/// 2030-01-01T00:00:00Z: inside the validity of every fixture, whenever the fuzzer runs.
const NOW: i64 = 1_893_456_000;

fn anchors() -> &'static TrustAnchors {
    static ANCHORS: OnceLock<TrustAnchors> = OnceLock::new();
    ANCHORS.get_or_init(|| {
        TrustAnchors::new(
            &[include_bytes!("../fixtures/ca.pem").to_vec()],
            &[include_bytes!("../fixtures/ca.crl.pem").to_vec()],
        )
        .expect("the fixture CA and CRL load")
    })
}

fuzz_target!(|data: &[u8]| {
    let _ = esig::decode_cms(data);
    let now = OffsetDateTime::from_unix_timestamp(NOW).expect("a valid time");
    let policy = Policy::default();
    let _ = esig::verify(
        SignedInput::Attached(data),
        CHALLENGE,
        anchors(),
        &policy,
        now,
    );
    let detached = SignedInput::Detached {
        cms: data,
        content: CHALLENGE,
    };
    let _ = esig::verify(detached, CHALLENGE, anchors(), &policy, now);
});
