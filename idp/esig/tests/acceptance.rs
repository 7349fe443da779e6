//! What must be accepted: every supported algorithm attached and detached with an
//! intermediate CA carried in the CMS, the input encodings, raw signatures, and identity
//! extraction with the default and custom mappings.

use base64::Engine;

use super::*;

/// A signer whose key fits `algorithm`, under the fixture intermediate.
fn signer_for(algorithm: SignatureAlgorithm) -> Credential {
    use SignatureAlgorithm::*;
    let key = match algorithm {
        EcdsaSha256 | EcdsaSha512 => keys().p256.clone(),
        EcdsaSha384 => keys().p384.clone(),
        _ => rsa(2),
    };
    pki::issue(&pki().inter, key, &leaf_spec()).unwrap()
}

fn accepts_attached_and_detached(algorithm: SignatureAlgorithm) {
    let signer = signer_for(algorithm);
    let identity = check(&sign(&signer, CHALLENGE, &options(algorithm)))
        .unwrap_or_else(|r| panic!("{algorithm:?} attached: {r}"));
    assert_eq!(identity.person_inn, PERSON_INN);

    let mut o = options(algorithm);
    o.detached = true;
    let cms = sign(&signer, CHALLENGE, &o);
    let input = SignedInput::Detached {
        cms: &cms,
        content: CHALLENGE,
    };
    verify(input, CHALLENGE, &pki().anchors, &Policy::default(), now())
        .unwrap_or_else(|r| panic!("{algorithm:?} detached: {r}"));
}

fn accepts_raw(algorithm: SignatureAlgorithm) {
    let signer = signer_for(algorithm);
    let signature = pki::sign_raw(&signer.key, algorithm, CHALLENGE).unwrap();
    let cert = signer.certificate_pem();
    let inters = [pki().inter.certificate_der()];
    let raw = RawSignature {
        signature: &signature,
        algorithm,
        certificate: cert.as_bytes(),
        intermediates: &inters,
        signed_data: CHALLENGE,
    };
    let identity = verify_raw(raw, CHALLENGE, &pki().anchors, &Policy::default(), now())
        .unwrap_or_else(|r| panic!("{algorithm:?} raw: {r}"));
    assert_eq!(identity.organization_inn.as_deref(), Some(ORG_INN));
}

macro_rules! algorithm_cases {
    ($($cms:ident, $raw:ident => $alg:ident;)*) => {
        $(
            #[test]
            fn $cms() {
                accepts_attached_and_detached(SignatureAlgorithm::$alg);
            }
            #[test]
            fn $raw() {
                accepts_raw(SignatureAlgorithm::$alg);
            }
        )*
    };
}

algorithm_cases! {
    accepts_rsa_pkcs1_sha256, accepts_raw_rsa_pkcs1_sha256 => RsaPkcs1Sha256;
    accepts_rsa_pkcs1_sha384, accepts_raw_rsa_pkcs1_sha384 => RsaPkcs1Sha384;
    accepts_rsa_pkcs1_sha512, accepts_raw_rsa_pkcs1_sha512 => RsaPkcs1Sha512;
    accepts_rsa_pss_sha256, accepts_raw_rsa_pss_sha256 => RsaPssSha256;
    accepts_rsa_pss_sha384, accepts_raw_rsa_pss_sha384 => RsaPssSha384;
    accepts_rsa_pss_sha512, accepts_raw_rsa_pss_sha512 => RsaPssSha512;
    accepts_ecdsa_p256_sha256, accepts_raw_ecdsa_p256_sha256 => EcdsaSha256;
    accepts_ecdsa_p384_sha384, accepts_raw_ecdsa_p384_sha384 => EcdsaSha384;
    accepts_ecdsa_p256_sha512, accepts_raw_ecdsa_p256_sha512 => EcdsaSha512;
}

#[test]
fn every_algorithm_has_a_jose_name() {
    for alg in SignatureAlgorithm::ALL {
        assert_eq!(
            SignatureAlgorithm::from_jose_name(alg.jose_name()),
            Some(alg)
        );
    }
    assert_eq!(SignatureAlgorithm::from_jose_name("none"), None);
}

#[test]
fn identity_and_certificate_are_described() {
    let identity = check(&sign(&pki().signer, CHALLENGE, &rsa_options())).unwrap();
    assert_eq!(identity.person_inn, PERSON_INN);
    assert_eq!(identity.organization_inn.as_deref(), Some(ORG_INN));
    assert_eq!(
        identity.common_name.as_deref(),
        Some("ДЕМОНОВА НУРЖАН МАРАТОВНА")
    );
    let info = &identity.certificate;
    assert!(
        info.subject.starts_with("CN=ДЕМОНОВА НУРЖАН МАРАТОВНА,"),
        "{}",
        info.subject
    );
    assert!(info.subject.ends_with(",C=KG"), "{}", info.subject);
    assert_eq!(info.issuer, "CN=Salyk Test Issuing CA,C=KG");
    let serial = pki().signer.certificate.serial_number().to_bn().unwrap();
    assert_eq!(
        info.serial_hex,
        serial.to_hex_str().unwrap().to_ascii_lowercase()
    );
    assert_eq!(info.thumbprint_sha256_hex.len(), 64);
    assert_eq!(info.not_after, now() + days(365));
    assert!(!info.is_ca);
    let json = serde_json::to_value(&identity).unwrap();
    assert_eq!(json["person_inn"], PERSON_INN);
    assert_eq!(json["certificate"]["not_after"], "2027-03-01T12:00:00Z");
}

#[test]
fn content_beginning_with_the_challenge_is_accepted_by_default() {
    let content = [CHALLENGE, b"\x01\x02token random"].concat();
    check(&sign(&pki().signer, &content, &rsa_options())).unwrap();
}

#[test]
fn openssl_style_rsa_encryption_oid_and_key_identifier_sid() {
    let mut o = rsa_options();
    o.declare_rsa_encryption = true;
    check(&sign(&pki().signer, CHALLENGE, &o)).unwrap();
    let mut o = rsa_options();
    o.sid_by_key_identifier = true;
    check(&sign(&pki().signer, CHALLENGE, &o)).unwrap();
}

#[test]
fn pem_and_base64_encodings_are_accepted() {
    let der = sign(&pki().signer, CHALLENGE, &rsa_options());
    for label in ["CMS", "PKCS7"] {
        check(to_pem(label, &der).as_bytes()).unwrap();
    }
    let standard = base64::engine::general_purpose::STANDARD.encode(&der);
    check(standard.as_bytes()).unwrap();
    let wrapped: String = standard
        .as_bytes()
        .chunks(76)
        .map(|l| format!("{}\r\n", std::str::from_utf8(l).unwrap()))
        .collect();
    check(wrapped.as_bytes()).unwrap();
    let url_safe = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&der);
    check(url_safe.as_bytes()).unwrap();
}

#[test]
fn detached_signature_with_the_same_content_inside_is_accepted() {
    let cms = sign(&pki().signer, CHALLENGE, &rsa_options());
    let input = SignedInput::Detached {
        cms: &cms,
        content: CHALLENGE,
    };
    verify(input, CHALLENGE, &pki().anchors, &Policy::default(), now()).unwrap();
}

#[test]
fn crls_that_do_not_list_the_path_are_fine() {
    let other = pki::issue(&pki().inter, rsa(3), &leaf_spec()).unwrap();
    let inter_crl = pki::crl(
        &pki().inter,
        &[(&*other.certificate, now() - days(3))],
        now() - days(1),
        Some(now() + days(7)),
    )
    .unwrap();
    let root_crl = pki::crl(&pki().root, &[], now() - days(1), Some(now() + days(7))).unwrap();
    // An older, stale CRL beside a fresh one does not matter: the newest one counts.
    let stale = pki::crl(&pki().inter, &[], now() - days(60), Some(now() - days(30))).unwrap();
    let anchors = anchors(&[&pki().root], &[inter_crl, root_crl, stale]);
    check_with(&sign(&pki().signer, CHALLENGE, &rsa_options()), &anchors).unwrap();
}

#[test]
fn required_eku_present_is_accepted() {
    let mut spec = leaf_spec();
    spec.extended_key_usage = vec!["1.3.6.1.5.5.7.3.4".into(), "1.3.6.1.5.5.7.3.2".into()];
    let signer = pki::issue(&pki().inter, rsa(2), &spec).unwrap();
    let policy = Policy::default()
        .with_required_eku(["1.3.6.1.5.5.7.3.2"])
        .unwrap();
    let cms = sign(&signer, CHALLENGE, &rsa_options());
    verify(
        SignedInput::Attached(&cms),
        CHALLENGE,
        &pki().anchors,
        &policy,
        now(),
    )
    .unwrap();
}

#[test]
fn a_configured_intermediate_is_a_trust_anchor() {
    let mut o = rsa_options();
    o.extra_certificates.clear();
    let cms = sign(&pki().signer, CHALLENGE, &o);
    check_with(&cms, &anchors(&[&pki().inter], &[])).unwrap();
}

#[test]
fn an_ec_root_and_intermediate_work_too() {
    let root = pki::self_signed(keys().p384.clone(), &ca_spec("Salyk EC Root")).unwrap();
    let inter = pki::issue(&root, keys().p256.clone(), &ca_spec("Salyk EC Issuing")).unwrap();
    let signer = pki::issue(&inter, rsa(2), &leaf_spec()).unwrap();
    let mut o = rsa_options();
    o.extra_certificates = vec![inter.certificate.clone()];
    check_with(&sign(&signer, CHALLENGE, &o), &anchors(&[&root], &[])).unwrap();
}

fn identity_with(subject: Subject, mapping: IdentityMapping) -> Result<SignerIdentity, Refusal> {
    let spec = CertSpec::end_entity(subject, now() - days(1), now() + days(1));
    let signer = pki::issue(&pki().inter, rsa(2), &spec).unwrap();
    let policy = Policy {
        mapping,
        ..Policy::default()
    };
    let cms = sign(&signer, CHALLENGE, &rsa_options());
    verify(
        SignedInput::Attached(&cms),
        CHALLENGE,
        &pki().anchors,
        &policy,
        now(),
    )
}

#[test]
fn identity_mapping_variants() {
    let person = |serial: &str, org: Option<&str>| Subject {
        serial_number: Some(serial.into()),
        organization_identifier: org.map(str::to_owned),
        ..Subject::person("Тест", "")
    };
    let default = IdentityMapping::default;
    // (subject, mapping, expected (person INN, organization INN) or identity_missing)
    type Case<'a> = (Subject, IdentityMapping, Option<(&'a str, Option<&'a str>)>);
    let cases: Vec<Case> = vec![
        (
            person(&format!("INN{PERSON_INN}"), None),
            default(),
            Some((PERSON_INN, None)),
        ),
        (
            person(&format!("inn-{PERSON_INN}"), None),
            default(),
            Some((PERSON_INN, None)),
        ),
        (
            person(&format!("INN: {PERSON_INN}"), None),
            default(),
            Some((PERSON_INN, None)),
        ),
        (
            person(PERSON_INN, Some(ORG_INN)),
            default(),
            Some((PERSON_INN, Some(ORG_INN))),
        ),
        (
            person(PERSON_INN, Some(&format!("NTRKG-{ORG_INN}"))),
            default(),
            Some((PERSON_INN, Some(ORG_INN))),
        ),
        (person(&format!("IIN{PERSON_INN}"), None), default(), None),
        (
            person(&format!("IIN{PERSON_INN}"), Some(&format!("BIN{ORG_INN}"))),
            IdentityMapping::from_strings("serialNumber", "IIN", "2.5.4.97", "BIN").unwrap(),
            Some((PERSON_INN, Some(ORG_INN))),
        ),
        (
            Subject {
                common_name: Some(format!("ИНН {PERSON_INN}")),
                ..Subject::default()
            },
            IdentityMapping::from_strings("CN", "инн", "organizationIdentifier", "").unwrap(),
            Some((PERSON_INN, None)),
        ),
        (
            person(&format!("INN{PERSON_INN}"), Some("VATKG-123")),
            default(),
            None,
        ),
    ];
    for (i, (subject, mapping, expected)) in cases.into_iter().enumerate() {
        let result = identity_with(subject, mapping);
        match expected {
            Some((person, org)) => {
                let identity = result.unwrap_or_else(|r| panic!("case {i}: {r}"));
                assert_eq!(identity.person_inn, person, "case {i}");
                assert_eq!(identity.organization_inn.as_deref(), org, "case {i}");
            }
            None => {
                expect_refusal(result, "identity_missing");
            }
        }
    }
}

#[test]
fn identity_mapping_from_strings() {
    let m =
        IdentityMapping::from_strings("serialNumber", "INN", "organizationIdentifier", "").unwrap();
    assert_eq!(m.person_inn_attribute, "2.5.4.5");
    assert_eq!(m.person_inn_prefix.as_deref(), Some("INN"));
    assert_eq!(m.organization_inn_attribute, "2.5.4.97");
    assert_eq!(m.organization_inn_prefix, None);
    let m = IdentityMapping::from_strings("0.9.2342.19200300.100.1.1", "", "UID", "x").unwrap();
    assert_eq!(m.person_inn_attribute, "0.9.2342.19200300.100.1.1");
    assert!(matches!(
        IdentityMapping::from_strings("bogus", "", "2.5.4.97", ""),
        Err(MappingError::UnknownAttribute { .. })
    ));
    assert!(matches!(
        IdentityMapping::from_strings("2.5.4.5", "IN1", "2.5.4.97", ""),
        Err(MappingError::BadPrefix { .. })
    ));
    assert!(Policy::default().with_required_eku(["clientAuth"]).is_err());
}
