//! One test per refusal reason, written as a table: name => expected code, how to provoke it.

use super::*;
use crate::esig::algorithms::GOST_2012_256_SIGNATURE;
use crate::esig::pki::{KeyUsageBit, Tamper};

macro_rules! refusal_cases {
    ($($name:ident => $code:literal, $body:expr;)*) => {
        $(
            #[test]
            fn $name() {
                let result: Result<SignerIdentity, Refusal> = $body;
                expect_refusal(result, $code);
            }
        )*
    };
}

fn tampered(tamper: Tamper) -> Vec<u8> {
    let mut o = rsa_options();
    o.tamper = Some(tamper);
    sign(&pki().signer, CHALLENGE, &o)
}

fn with_policy(cms: &[u8], policy: &Policy) -> Result<SignerIdentity, Refusal> {
    verify(
        SignedInput::Attached(cms),
        CHALLENGE,
        &pki().anchors,
        policy,
        now(),
    )
}

fn leaf_with(f: impl FnOnce(&mut CertSpec)) -> Result<SignerIdentity, Refusal> {
    let mut spec = leaf_spec();
    f(&mut spec);
    check_leaf(&spec)
}

/// A signer under an intermediate made from `spec`, with that intermediate in the CMS.
fn under_intermediate(spec: &CertSpec) -> Result<SignerIdentity, Refusal> {
    let inter = pki::issue(&pki().root, rsa(1), spec).unwrap();
    let signer = pki::issue(&inter, rsa(2), &leaf_spec()).unwrap();
    let mut o = rsa_options();
    o.extra_certificates = vec![inter.certificate.clone()];
    check(&sign(&signer, CHALLENGE, &o))
}

fn with_crls(crls: Vec<Vec<u8>>) -> Result<SignerIdentity, Refusal> {
    let anchors = anchors(&[&pki().root], &crls);
    check_with(&sign(&pki().signer, CHALLENGE, &rsa_options()), &anchors)
}

fn revoke(issuer: &Credential, who: &Credential, next_update: OffsetDateTime) -> Vec<u8> {
    let revoked = [(&*who.certificate, now() - days(2))];
    pki::crl(issuer, &revoked, now() - days(40), Some(next_update)).unwrap()
}

fn with_subject(f: impl FnOnce(&mut Subject)) -> Result<SignerIdentity, Refusal> {
    leaf_with(|spec| f(&mut spec.subject))
}

refusal_cases! {
    wrong_challenge => "wrong_challenge",
        check(&sign(&pki().signer, b"another challenge", &rsa_options()));
    challenge_prefix_when_not_allowed => "wrong_challenge", {
        let cms = sign(&pki().signer, &[CHALLENGE, b"token-random"].concat(), &rsa_options());
        with_policy(&cms, &Policy { allow_challenge_prefix: false, ..Policy::default() })
    };
    challenge_only_a_prefix_of_the_expected => "wrong_challenge",
        check(&sign(&pki().signer, &CHALLENGE[..10], &rsa_options()));
    empty_expected_challenge_matches_nothing => "wrong_challenge", {
        let cms = sign(&pki().signer, CHALLENGE, &rsa_options());
        verify(SignedInput::Attached(&cms), b"", &pki().anchors, &Policy::default(), now())
    };
    content_tampered_after_signing => "message_digest_mismatch",
        check(&tampered(Tamper::ContentAfterSigning));
    detached_content_differs => "message_digest_mismatch", {
        let mut o = rsa_options();
        o.detached = true;
        let cms = sign(&pki().signer, CHALLENGE, &o);
        let content = [CHALLENGE, b"x"].concat();
        let input = SignedInput::Detached { cms: &cms, content: &content };
        verify(input, CHALLENGE, &pki().anchors, &Policy::default(), now())
    };
    signed_attribute_tampered => "bad_signature",
        check(&tampered(Tamper::SignedAttributeAfterSigning));
    signature_corrupted => "bad_signature", check(&tampered(Tamper::CorruptSignature));
    ecdsa_declared_for_an_rsa_key => "bad_signature",
        check(&tampered(Tamper::SignatureAlgorithm("1.2.840.10045.4.3.2".into())));
    wrong_message_digest => "message_digest_mismatch",
        check(&tampered(Tamper::WrongMessageDigest));
    signed_attributes_missing => "missing_signed_attributes",
        check(&tampered(Tamper::OmitSignedAttributes));
    content_type_attribute_missing => "missing_signed_attributes",
        check(&tampered(Tamper::OmitContentTypeAttribute));
    content_type_attribute_differs => "content_type_mismatch",
        check(&tampered(Tamper::ContentTypeAttribute("1.2.840.113549.1.7.2".into())));
    gost_signature_algorithm => "unsupported_algorithm",
        check(&tampered(Tamper::SignatureAlgorithm(GOST_2012_256_SIGNATURE.into())));
    gost_digest_algorithm => "unsupported_algorithm",
        check(&tampered(Tamper::DigestAlgorithm("1.2.643.7.1.1.2.2".into())));
    sha1_digest_algorithm => "unsupported_algorithm",
        check(&tampered(Tamper::DigestAlgorithm("1.3.14.3.2.26".into())));
    digest_algorithm_disagrees_with_signature_hash => "unsupported_algorithm",
        check(&tampered(Tamper::DigestAlgorithm(HashAlgorithm::Sha384.oid().into())));
    rsa_key_below_2048_bits => "unsupported_algorithm", {
        let key = pki::generate_key(KeySpec::Rsa(1024)).unwrap();
        let signer = pki::issue(&pki().inter, key, &leaf_spec()).unwrap();
        check(&sign(&signer, CHALLENGE, &rsa_options()))
    };
    ecdsa_on_p521 => "unsupported_algorithm", {
        use openssl::ec::{EcGroup, EcKey};
        let group = EcGroup::from_curve_name(openssl::nid::Nid::SECP521R1).unwrap();
        let key = PKey::from_ec_key(EcKey::generate(&group).unwrap()).unwrap();
        let signer = pki::issue(&pki().inter, key, &leaf_spec()).unwrap();
        check(&sign(&signer, CHALLENGE, &options(SignatureAlgorithm::EcdsaSha512)))
    };
    untrusted_root => "untrusted_issuer", {
        let stranger = root_with(rsa(3), "Stranger Root CA");
        check_with(&sign(&pki().signer, CHALLENGE, &rsa_options()), &anchors(&[&stranger], &[]))
    };
    same_name_root_with_another_key => "untrusted_issuer", {
        let impostor = root_with(rsa(3), "Salyk Test Root CA");
        check_with(&sign(&pki().signer, CHALLENGE, &rsa_options()), &anchors(&[&impostor], &[]))
    };
    intermediate_not_in_cms => "untrusted_issuer", {
        let mut o = rsa_options();
        o.extra_certificates.clear();
        check(&sign(&pki().signer, CHALLENGE, &o))
    };
    self_signed_signer => "untrusted_issuer", {
        let own = pki::self_signed(rsa(2), &leaf_spec()).unwrap();
        check(&sign(&own, CHALLENGE, &rsa_options()))
    };
    signer_expired => "certificate_expired",
        leaf_with(|s| { s.not_before = now() - days(800); s.not_after = now() - days(1); });
    signer_not_yet_valid => "certificate_not_yet_valid",
        leaf_with(|s| { s.not_before = now() + days(1); s.not_after = now() + days(800); });
    intermediate_expired => "certificate_expired", {
        let mut spec = ca_spec("Salyk Old Issuing CA");
        spec.not_after = now() - days(1);
        under_intermediate(&spec)
    };
    intermediate_not_yet_valid => "certificate_not_yet_valid", {
        let mut spec = ca_spec("Salyk Future Issuing CA");
        spec.not_before = now() + days(1);
        under_intermediate(&spec)
    };
    signer_without_digital_signature => "key_usage",
        leaf_with(|s| s.key_usage = Some(vec![KeyUsageBit::NonRepudiation]));
    signer_without_key_usage => "key_usage", leaf_with(|s| s.key_usage = None);
    intermediate_not_a_ca => "key_usage", {
        let mut spec = ca_spec("Salyk Not A CA");
        spec.ca = false;
        under_intermediate(&spec)
    };
    intermediate_without_key_usage => "key_usage", {
        let mut spec = ca_spec("Salyk Lax Issuing CA");
        spec.key_usage = None;
        under_intermediate(&spec)
    };
    required_eku_absent => "extended_key_usage", {
        let policy = Policy::default().with_required_eku(["1.3.6.1.5.5.7.3.2"]).unwrap();
        with_policy(&sign(&pki().signer, CHALLENGE, &rsa_options()), &policy)
    };
    required_eku_other => "extended_key_usage", {
        let mut spec = leaf_spec();
        spec.extended_key_usage = vec!["1.3.6.1.5.5.7.3.4".into()];
        let signer = pki::issue(&pki().inter, rsa(2), &spec).unwrap();
        let policy = Policy::default().with_required_eku(["1.3.6.1.5.5.7.3.2"]).unwrap();
        with_policy(&sign(&signer, CHALLENGE, &rsa_options()), &policy)
    };
    signer_revoked => "revoked",
        with_crls(vec![revoke(&pki().inter, &pki().signer, now() + days(7))]);
    intermediate_revoked => "revoked",
        with_crls(vec![revoke(&pki().root, &pki().inter, now() + days(7))]);
    revoked_even_if_the_crl_is_stale => "revoked",
        with_crls(vec![revoke(&pki().inter, &pki().signer, now() - days(1))]);
    crl_expired => "crl_expired", {
        let crl = pki::crl(&pki().inter, &[], now() - days(40), Some(now() - days(1))).unwrap();
        with_crls(vec![crl])
    };
    crl_issuer_without_crl_sign => "crl_invalid", {
        let mut spec = ca_spec("Salyk No CRL Sign CA");
        spec.key_usage = Some(vec![KeyUsageBit::KeyCertSign]);
        let inter = pki::issue(&pki().root, rsa(1), &spec).unwrap();
        let signer = pki::issue(&inter, rsa(2), &leaf_spec()).unwrap();
        let crl = pki::crl(&inter, &[], now() - days(1), Some(now() + days(7))).unwrap();
        let mut o = rsa_options();
        o.extra_certificates = vec![inter.certificate.clone()];
        check_with(&sign(&signer, CHALLENGE, &o), &anchors(&[&pki().root], &[crl]))
    };
    crl_signed_by_another_key => "crl_invalid", {
        let impostor = pki::self_signed(rsa(3), &ca_spec("Salyk Test Issuing CA")).unwrap();
        let crl = pki::crl(&impostor, &[], now() - days(1), Some(now() + days(7))).unwrap();
        with_crls(vec![crl])
    };
    person_inn_attribute_absent => "identity_missing",
        with_subject(|s| s.serial_number = None);
    person_inn_not_an_inn => "identity_missing",
        with_subject(|s| s.serial_number = Some("INN1234".into()));
    person_inn_with_an_unexpected_prefix => "identity_missing",
        with_subject(|s| s.serial_number = Some(format!("PNOKG-{PERSON_INN}")));
    person_inn_with_impossible_birth_date => "identity_missing",
        with_subject(|s| s.serial_number = Some("INN23213198599011".into()));
    organization_identifier_not_an_inn => "identity_missing",
        with_subject(|s| s.organization_identifier = Some("VATKG-123".into()));
    garbage_input => "malformed", check(b"\x30\x03\x02\x01");
    not_base64_input => "malformed", check(b"this is not a signature");
    truncated_cms => "malformed", {
        let cms = sign(&pki().signer, CHALLENGE, &rsa_options());
        check(&cms[..cms.len() - 10])
    };
    certificate_instead_of_cms => "malformed", check(&pki().signer.certificate_der());
    pem_without_a_cms_block => "malformed", check(pki().signer.certificate_pem().as_bytes());
    no_signer_info => "no_signer", check(&tampered(Tamper::NoSignerInfo));
    two_signer_infos => "multiple_signers", check(&tampered(Tamper::SecondSignerInfo));
    signer_certificate_not_in_cms => "signer_certificate_missing", {
        let mut o = rsa_options();
        o.include_signer_certificate = false;
        check(&sign(&pki().signer, CHALLENGE, &o))
    };
    detached_cms_verified_as_attached => "content_missing", {
        let mut o = rsa_options();
        o.detached = true;
        check(&sign(&pki().signer, CHALLENGE, &o))
    };
    raw_signature_over_other_data => "bad_signature", {
        let signature = pki::sign_raw(&pki().signer.key, SignatureAlgorithm::RsaPssSha256, b"x")
            .unwrap();
        let cert = pki().signer.certificate_der();
        let inters = [pki().inter.certificate_der()];
        let raw = RawSignature {
            signature: &signature,
            algorithm: SignatureAlgorithm::RsaPssSha256,
            certificate: &cert,
            intermediates: &inters,
            signed_data: CHALLENGE,
        };
        verify_raw(raw, CHALLENGE, &pki().anchors, &Policy::default(), now())
    };
    raw_signature_of_another_challenge => "wrong_challenge", {
        let alg = SignatureAlgorithm::RsaPkcs1Sha256;
        let signature = pki::sign_raw(&pki().signer.key, alg, b"old challenge").unwrap();
        let cert = pki().signer.certificate_der();
        let inters = [pki().inter.certificate_der()];
        let raw = RawSignature {
            signature: &signature,
            algorithm: alg,
            certificate: &cert,
            intermediates: &inters,
            signed_data: b"old challenge",
        };
        verify_raw(raw, CHALLENGE, &pki().anchors, &Policy::default(), now())
    };
}

#[test]
fn refusals_name_the_failing_certificate() {
    let mut spec = ca_spec("Salyk Old Issuing CA");
    spec.not_after = now() - days(1);
    match expect_refusal(under_intermediate(&spec), "certificate_expired") {
        Refusal::CertificateExpired { role, subject, .. } => {
            assert_eq!(role, CertRole::Intermediate);
            assert!(subject.contains("CN=Salyk Old Issuing CA"), "{subject}");
        }
        other => panic!("{other:?}"),
    }
    let expired = leaf_with(|s| s.not_after = now() - days(1));
    match expect_refusal(expired, "certificate_expired") {
        Refusal::CertificateExpired {
            role, not_after, ..
        } => {
            assert_eq!(role, CertRole::Signer);
            assert!(not_after < now());
        }
        other => panic!("{other:?}"),
    }
    let revoked = with_crls(vec![revoke(&pki().root, &pki().inter, now() + days(7))]);
    match expect_refusal(revoked, "revoked") {
        Refusal::Revoked {
            role, revoked_at, ..
        } => {
            assert_eq!(role, CertRole::Intermediate);
            assert_eq!(revoked_at, now() - days(2));
        }
        other => panic!("{other:?}"),
    }
    match expect_refusal(
        check(&tampered(Tamper::SignatureAlgorithm(
            GOST_2012_256_SIGNATURE.into(),
        ))),
        "unsupported_algorithm",
    ) {
        Refusal::UnsupportedAlgorithm { oid, name } => {
            assert_eq!(oid, GOST_2012_256_SIGNATURE);
            assert!(name.contains("GOST"), "{name}");
        }
        other => panic!("{other:?}"),
    }
}
