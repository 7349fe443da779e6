//! Fuzz target: arbitrary bytes as the certificate and CRL files an operator gives
//! `idp trust` (`esig::parse_certificate_pem_or_der`, `esig::parse_crl_pem_or_der`), and as
//! trust material (`esig::TrustAnchors::new`: as a CA, and as a CRL to check against the
//! fixed fixture CA). Nothing may panic. Seeds: seeds/certificate_parse.

#![no_main]

use libfuzzer_sys::fuzz_target;
use salyk_idp::esig::{self, TrustAnchors};

const CA: &[u8] = include_bytes!("../fixtures/ca.pem");

fuzz_target!(|data: &[u8]| {
    let _ = esig::parse_certificate_pem_or_der(data);
    let _ = esig::parse_crl_pem_or_der(data);
    let _ = TrustAnchors::new(&[data.to_vec()], &[]);
    let _ = TrustAnchors::new(&[CA.to_vec()], &[data.to_vec()]);
});
