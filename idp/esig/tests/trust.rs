//! Loading trust material: what `TrustAnchors::new` and the CLI helpers accept and refuse.

use super::*;
use crate::esig::pki::KeyUsageBit;

#[test]
fn anchors_accept_pem_bundles_and_der() {
    let bundle = format!(
        "{}{}",
        pki().root.certificate_pem(),
        pki().inter.certificate_pem()
    );
    let crl = pki::crl(&pki().root, &[], now() - days(1), Some(now() + days(7))).unwrap();
    let crl_pem = to_pem("X509 CRL", &crl);
    let anchors = TrustAnchors::new(&[bundle.into_bytes()], &[crl_pem.into_bytes()]).unwrap();
    let cas = anchors.certificates();
    assert_eq!(cas.len(), 2);
    assert!(cas.iter().all(|c| c.is_ca));
    assert_eq!(anchors.crls().len(), 1);
    assert_eq!(anchors.crls()[0].issuer, "CN=Salyk Test Root CA,C=KG");
    assert!(format!("{anchors:?}").contains("cas: 2"));
}

#[test]
fn anchors_refuse_what_cannot_be_a_ca() {
    let leaf = pki().signer.certificate_der();
    assert!(matches!(
        TrustAnchors::new(&[leaf], &[]),
        Err(TrustError::NotCa { .. })
    ));
    let mut spec = ca_spec("No Cert Sign");
    spec.key_usage = Some(vec![KeyUsageBit::CrlSign]);
    let weak = pki::self_signed(rsa(3), &spec).unwrap();
    assert!(matches!(
        TrustAnchors::new(&[weak.certificate_der()], &[]),
        Err(TrustError::NotCa { .. })
    ));
    assert!(matches!(
        TrustAnchors::new(&[b"not a certificate".to_vec()], &[]),
        Err(TrustError::Certificate { index: 0, .. })
    ));
}

#[test]
fn anchors_refuse_unusable_crls() {
    let root = pki().root.certificate_der();
    let no_next = pki::crl(&pki().root, &[], now(), None).unwrap();
    assert!(matches!(
        TrustAnchors::new(std::slice::from_ref(&root), &[no_next]),
        Err(TrustError::CrlWithoutNextUpdate { .. })
    ));
    // Same issuer name as the configured root, another key: a wrong file.
    let impostor = root_with(rsa(3), "Salyk Test Root CA");
    let forged = pki::crl(&impostor, &[], now(), Some(now() + days(7))).unwrap();
    assert!(matches!(
        TrustAnchors::new(std::slice::from_ref(&root), &[forged]),
        Err(TrustError::Crl { index: 0, .. })
    ));
    assert!(matches!(
        TrustAnchors::new(&[root], &[vec![0x30, 0x00]]),
        Err(TrustError::Crl { index: 0, .. })
    ));
}

#[test]
fn certificate_and_crl_descriptions_for_the_cli() {
    let info = parse_certificate_pem_or_der(pki().root.certificate_pem().as_bytes()).unwrap();
    assert_eq!(info.subject, "CN=Salyk Test Root CA,C=KG");
    assert_eq!(info.subject, info.issuer);
    assert!(info.is_ca);
    assert_eq!(
        parse_certificate_pem_or_der(&pki().root.certificate_der()).unwrap(),
        info
    );
    let two = format!(
        "{}{}",
        pki().root.certificate_pem(),
        pki().inter.certificate_pem()
    );
    assert!(parse_certificate_pem_or_der(two.as_bytes()).is_err());
    assert_eq!(certificates_to_der(two.as_bytes()).unwrap().len(), 2);

    let crl = pki::crl(
        &pki().inter,
        &[(&*pki().signer.certificate, now() - days(1))],
        now() - days(1),
        Some(now() + days(7)),
    )
    .unwrap();
    let info = parse_crl_pem_or_der(to_pem("X509 CRL", &crl).as_bytes()).unwrap();
    assert_eq!(info.issuer, "CN=Salyk Test Issuing CA,C=KG");
    assert_eq!(info.revoked_count, 1);
    assert_eq!(info.this_update, now() - days(1));
    assert_eq!(info.next_update, Some(now() + days(7)));
    assert_eq!(crls_to_der(&crl).unwrap(), vec![crl]);
    assert!(parse_crl_pem_or_der(pki().root.certificate_pem().as_bytes()).is_err());
}

#[test]
fn an_expired_trust_anchor_is_named() {
    let mut spec = ca_spec("Salyk Expired Root");
    spec.not_before = now() - days(4000);
    spec.not_after = now() - days(1);
    let root = pki::self_signed(rsa(3), &spec).unwrap();
    let signer = pki::issue(&root, rsa(2), &leaf_spec()).unwrap();
    let mut o = rsa_options();
    o.extra_certificates.clear();
    let refusal = expect_refusal(
        check_with(&sign(&signer, CHALLENGE, &o), &anchors(&[&root], &[])),
        "certificate_expired",
    );
    assert!(
        matches!(
            refusal,
            Refusal::CertificateExpired {
                role: CertRole::TrustAnchor,
                ..
            }
        ),
        "{refusal:?}"
    );
}

#[test]
fn decode_cms_forms() {
    let der = sign(&pki().signer, CHALLENGE, &rsa_options());
    assert_eq!(decode_cms(&der).unwrap(), der);
    assert_eq!(decode_cms(to_pem("CMS", &der).as_bytes()).unwrap(), der);
    let two = format!("{}{}", to_pem("CMS", &der), to_pem("CMS", &der));
    assert_eq!(decode_cms(two.as_bytes()).unwrap_err().code(), "malformed");
    assert_eq!(decode_cms(b"!!").unwrap_err().code(), "malformed");
    // DER ending in a byte that looks like whitespace must not be trimmed.
    let ends_in_newline = vec![0x30, 0x01, 0x0a];
    assert_eq!(decode_cms(&ends_in_newline).unwrap(), ends_in_newline);
    assert_eq!(
        certificates_to_der(&ends_in_newline).unwrap(),
        vec![ends_in_newline]
    );
}
