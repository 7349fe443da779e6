//! OCSP: which certificates of a verified path are asked about, and the judgement of the
//! answers, made by the responder emulator (the same code that serves the integration
//! tests) for the fixture's issuing CA, all at the fixture's `now`.

use super::*;
use crate::emulators::ocsp_responder::{CrlReason, OcspResponder};
use crate::esig::ocsp::{self, OcspQuery};
use x509_ocsp::OcspResponseStatus;

const URL: &str = "http://ocsp.test.kg/issuing";
const NONCE: &[u8] = b"nonce-0123456789";
const OCSP_SIGNING: &str = "1.3.6.1.5.5.7.3.9";

fn leaf_named(url: Option<&str>) -> Credential {
    let mut spec = leaf_spec();
    spec.ocsp_url = url.map(str::to_owned);
    pki::issue(&pki().inter, rsa(2), &spec).unwrap()
}

fn path_of(signer: &Credential) -> Vec<openssl::x509::X509> {
    let cms = sign(signer, CHALLENGE, &rsa_options());
    let verified = verify_with_path(
        SignedInput::Attached(&cms),
        CHALLENGE,
        &pki().anchors,
        &Policy::default(),
        now(),
    )
    .unwrap();
    assert_eq!(verified.identity.person_inn, PERSON_INN);
    verified.path
}

/// The one query for a signer that names [`URL`].
fn query_for(signer: &Credential) -> OcspQuery {
    let mut queries = ocsp::requests_for(&path_of(signer), Some(NONCE)).unwrap();
    assert_eq!(queries.len(), 1, "{queries:?}");
    queries.remove(0)
}

/// Asks `responder` about a fresh signer naming [`URL`], answering at `answered`.
fn ask_at(
    responder: &OcspResponder,
    prepare: impl FnOnce(&OcspResponder, &Credential),
    answered: OffsetDateTime,
) -> Result<(), Refusal> {
    let signer = leaf_named(Some(URL));
    prepare(responder, &signer);
    let query = query_for(&signer);
    let answer = responder.respond(&query.request_der, answered);
    ocsp::check_response(&query, &answer, now())
}

fn ask(responder: &OcspResponder) -> Result<(), Refusal> {
    ask_at(responder, |_, _| {}, now())
}

fn by_ca() -> OcspResponder {
    OcspResponder::new(&pki().inter).unwrap()
}

/// A responder certificate issued by `issuer` (P-256), with `eku`.
fn responder_cert(issuer: &Credential, eku: &[&str], not_after: OffsetDateTime) -> Credential {
    let mut spec =
        CertSpec::end_entity(Subject::ca("Salyk Test OCSP"), now() - days(30), not_after);
    spec.key_usage = Some(vec![pki::KeyUsageBit::DigitalSignature]);
    spec.extended_key_usage = eku.iter().map(|s| (*s).to_owned()).collect();
    pki::issue(issuer, keys().p256.clone(), &spec).unwrap()
}

#[track_caller]
fn expect_code(result: Result<(), Refusal>, code: &str) -> Refusal {
    let refusal = result.expect_err(code);
    assert_eq!(refusal.code(), code, "{refusal}");
    refusal
}

#[test]
fn good_answer_from_the_ca_is_accepted() {
    ask(&by_ca()).unwrap();
}

#[test]
fn good_answer_from_a_delegated_responder_with_ocsp_signing_is_accepted() {
    let delegate = responder_cert(&pki().inter, &[OCSP_SIGNING], now() + days(30));
    ask(&OcspResponder::delegated(&pki().inter, delegate).unwrap()).unwrap();
}

#[test]
fn revoked_is_refused_with_its_time() {
    let at = now() - days(3);
    let refusal = expect_code(
        ask_at(
            &by_ca(),
            |r, signer| r.revoke(&signer.certificate, at, Some(CrlReason::KeyCompromise)),
            now(),
        ),
        "revoked",
    );
    match refusal {
        Refusal::Revoked {
            role, revoked_at, ..
        } => assert_eq!((role, revoked_at), (CertRole::Signer, at)),
        other => panic!("{other:?}"),
    }
}

#[test]
fn revoked_wins_even_when_the_answer_is_stale() {
    let responder = by_ca();
    responder.set_validity(days(1));
    let revoke = |r: &OcspResponder, s: &Credential| r.revoke(&s.certificate, now(), None);
    expect_code(ask_at(&responder, revoke, now() - days(5)), "revoked");
}

#[test]
fn a_serial_the_ca_never_issued_is_unknown() {
    let responder = by_ca();
    responder.issue(&pki().signer.certificate);
    expect_code(ask(&responder), "ocsp_unknown");
    // Once issued it is good again.
    ask_at(&responder, |r, s| r.issue(&s.certificate), now()).unwrap();
}

#[test]
fn an_answer_signed_by_another_trusted_ca_is_invalid() {
    // The root's responder (it says `unknown`: another issuer), signed by the root, which is
    // trusted but did not issue the certificate: the answer is not even read.
    let root_responder = OcspResponder::new(&pki().root).unwrap();
    let query = query_for(&leaf_named(Some(URL)));
    let answer = root_responder.respond(&query.request_der, now());
    expect_code(ocsp::check_response(&query, &answer, now()), "ocsp_invalid");
}

#[test]
fn an_answer_signed_by_another_key_is_invalid() {
    // The CA's certificate (so the responder ID matches) with a stranger's key.
    let impostor = Credential {
        certificate: pki().inter.certificate.clone(),
        key: rsa(3),
    };
    let responder = OcspResponder::new(&impostor).unwrap();
    let refusal = expect_code(ask(&responder), "ocsp_invalid");
    assert!(refusal.to_string().contains("signature"), "{refusal}");
}

#[test]
fn a_delegated_responder_without_ocsp_signing_is_invalid() {
    let delegate = responder_cert(&pki().inter, &[], now() + days(30));
    let responder = OcspResponder::delegated(&pki().inter, delegate).unwrap();
    expect_code(ask(&responder), "ocsp_invalid");
}

#[test]
fn a_responder_certified_by_another_trusted_ca_is_invalid() {
    // OCSPSigning, but from the root: only the certificate's own issuer may delegate.
    let delegate = responder_cert(&pki().root, &[OCSP_SIGNING], now() + days(30));
    let responder = OcspResponder::delegated(&pki().inter, delegate).unwrap();
    expect_code(ask(&responder), "ocsp_invalid");
}

#[test]
fn an_expired_delegated_responder_is_invalid() {
    let delegate = responder_cert(&pki().inter, &[OCSP_SIGNING], now() - days(1));
    let responder = OcspResponder::delegated(&pki().inter, delegate).unwrap();
    expect_code(ask(&responder), "ocsp_invalid");
}

#[test]
fn a_stale_answer_is_invalid() {
    let responder = by_ca();
    responder.set_validity(days(1));
    let refusal = expect_code(
        ask_at(&responder, |_, _| {}, now() - days(2)),
        "ocsp_invalid",
    );
    assert!(refusal.to_string().contains("stale"), "{refusal}");
    // Within the leeway it is still good.
    responder.set_validity(Duration::hours(1));
    let just_late = now() - Duration::hours(1) - Duration::minutes(2);
    ask_at(&responder, |_, _| {}, just_late).unwrap();
}

#[test]
fn an_answer_from_the_future_is_invalid() {
    expect_code(ask_at(&by_ca(), |_, _| {}, now() + days(1)), "ocsp_invalid");
}

#[test]
fn an_answer_about_another_certificate_is_invalid() {
    let responder = by_ca();
    let query = query_for(&leaf_named(Some(URL)));
    // Another fresh leaf: another (random) serial.
    let other = query_for(&leaf_named(Some(URL)));
    let answer = responder.respond(&other.request_der, now());
    let refusal = expect_code(ocsp::check_response(&query, &answer, now()), "ocsp_invalid");
    assert!(
        refusal.to_string().contains("about this certificate"),
        "{refusal}"
    );
}

#[test]
fn an_answer_with_another_nonce_is_a_replay() {
    let path = path_of(&leaf_named(Some(URL)));
    let ours = ocsp::requests_for(&path, Some(NONCE)).unwrap().remove(0);
    let earlier = ocsp::requests_for(&path, Some(b"an-earlier-nonce"))
        .unwrap()
        .remove(0);
    let answer = by_ca().respond(&earlier.request_der, now());
    let refusal = expect_code(ocsp::check_response(&ours, &answer, now()), "ocsp_invalid");
    assert!(refusal.to_string().contains("nonce"), "{refusal}");
    // Without a nonce in the answer (pre-produced), it stands on its freshness.
    let without = ocsp::requests_for(&path, None).unwrap().remove(0);
    let answer = by_ca().respond(&without.request_der, now());
    ocsp::check_response(&ours, &answer, now()).unwrap();
}

#[test]
fn error_statuses() {
    let responder = by_ca();
    for (status, code) in [
        (OcspResponseStatus::TryLater, "ocsp_unavailable"),
        (OcspResponseStatus::InternalError, "ocsp_unavailable"),
        (OcspResponseStatus::MalformedRequest, "ocsp_invalid"),
        (OcspResponseStatus::Unauthorized, "ocsp_invalid"),
        (OcspResponseStatus::SigRequired, "ocsp_invalid"),
    ] {
        responder.refuse_with(Some(status));
        expect_code(ask(&responder), code);
    }
    let query = query_for(&leaf_named(Some(URL)));
    for garbage in [
        &b""[..],
        b"<html>Not Found</html>",
        &[0x30, 0x03, 0x0a, 0x01, 0x00],
    ] {
        expect_code(ocsp::check_response(&query, garbage, now()), "ocsp_invalid");
    }
}

#[test]
fn certificates_without_a_usable_responder_are_not_asked_about() {
    // The fixture signer has no authorityInfoAccess.
    let path = path_of(&pki().signer);
    assert!(ocsp::requests_for(&path, Some(NONCE)).unwrap().is_empty());
    for url in [
        "https://ocsp.test.kg/",
        "ldap://ldap.test.kg/cn=ocsp",
        "not a url",
    ] {
        let path = path_of(&leaf_named(Some(url)));
        assert!(ocsp::requests_for(&path, None).unwrap().is_empty(), "{url}");
    }
}

#[test]
fn every_certificate_below_the_anchor_that_names_a_responder_is_asked_about() {
    let mut spec = ca_spec("Salyk Test Issuing CA");
    spec.ocsp_url = Some("http://ocsp.test.kg/root".into());
    let inter = pki::issue(&pki().root, rsa(1), &spec).unwrap();
    let mut leaf = leaf_spec();
    leaf.ocsp_url = Some(URL.into());
    let signer = pki::issue(&inter, rsa(2), &leaf).unwrap();
    let mut o = rsa_options();
    o.extra_certificates = vec![inter.certificate.clone()];
    let cms = sign(&signer, CHALLENGE, &o);
    let verified = verify_with_path(
        SignedInput::Attached(&cms),
        CHALLENGE,
        &pki().anchors,
        &Policy::default(),
        now(),
    )
    .unwrap();
    let queries = ocsp::requests_for(&verified.path, Some(NONCE)).unwrap();
    let asked: Vec<(&str, CertRole)> = queries.iter().map(|q| (q.url.as_str(), q.role)).collect();
    assert_eq!(
        asked,
        [
            (URL, CertRole::Signer),
            ("http://ocsp.test.kg/root", CertRole::Intermediate)
        ]
    );
    // The intermediate's question goes to the root's responder, signed by the root.
    let root_responder = OcspResponder::new(&pki().root).unwrap();
    root_responder.revoke(&inter.certificate, now() - days(1), None);
    let answer = root_responder.respond(&queries[1].request_der, now());
    let refusal = expect_code(ocsp::check_response(&queries[1], &answer, now()), "revoked");
    assert!(matches!(
        refusal,
        Refusal::Revoked {
            role: CertRole::Intermediate,
            ..
        }
    ));
}

#[test]
fn the_request_is_an_rfc_6960_request_with_sha1_and_our_nonce() {
    use der::Decode;
    let query = query_for(&leaf_named(Some(URL)));
    openssl::ocsp::OcspRequest::from_der(&query.request_der).expect("OpenSSL reads it");
    let typed = x509_ocsp::OcspRequest::from_der(&query.request_der).unwrap();
    assert_eq!(typed.tbs_request.request_list.len(), 1);
    let id = &typed.tbs_request.request_list[0].req_cert;
    assert_eq!(id.hash_algorithm.oid.to_string(), "1.3.14.3.2.26");
    assert_eq!(typed.nonce().unwrap().0.as_bytes(), NONCE);
    assert!(query.url == URL && query.role == CertRole::Signer);
}

/// Interoperability with OpenSSL's own OCSP client: it reads our request, and accepts the
/// emulator's answers (CA-signed and delegated) as verified. Skipped without /usr/bin/openssl.
#[test]
fn openssl_ocsp_reads_our_request_and_verifies_the_emulators_answers() {
    const OPENSSL: &str = "/usr/bin/openssl";
    if !std::path::Path::new(OPENSSL).exists() {
        eprintln!("note: {OPENSSL} is missing; the openssl ocsp interoperability test is skipped");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let file = |name: &str, bytes: &[u8]| {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        path.to_string_lossy().into_owned()
    };
    let openssl = |args: &[&str]| {
        let out = std::process::Command::new(OPENSSL)
            .args(args)
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "openssl {args:?}: {text}");
        text
    };
    let signer = leaf_named(Some(URL));
    let query = query_for(&signer);
    let request = file("request.der", &query.request_der);
    let text = openssl(&["ocsp", "-reqin", &request, "-req_text"]);
    assert!(
        text.contains("sha1") && text.contains("OCSP Nonce"),
        "{text}"
    );

    let inter = file("inter.pem", pki().inter.certificate_pem().as_bytes());
    let leaf = file("leaf.pem", signer.certificate_pem().as_bytes());
    let delegate = responder_cert(&pki().inter, &[OCSP_SIGNING], now() + days(3650));
    for (name, responder) in [
        ("by-ca.der", by_ca()),
        (
            "delegated.der",
            OcspResponder::delegated(&pki().inter, delegate).unwrap(),
        ),
    ] {
        responder.revoke(&signer.certificate, now(), Some(CrlReason::Superseded));
        // The CLI judges thisUpdate/nextUpdate by the wall clock.
        let answer = responder.respond(&query.request_der, OffsetDateTime::now_utc());
        let answer = file(name, &answer);
        // Verified, with the nonce of our request (the CLI refuses a mismatch)…
        let text = openssl(&[
            "ocsp",
            "-reqin",
            &request,
            "-respin",
            &answer,
            "-CAfile",
            &inter,
            "-verify_other",
            &inter,
            "-partial_chain",
        ]);
        assert!(text.contains("Response verify OK"), "{name}: {text}");
        // …and about our certificate (`-cert` makes the CLI a request of its own: no nonce).
        let text = openssl(&[
            "ocsp",
            "-respin",
            &answer,
            "-issuer",
            &inter,
            "-cert",
            &leaf,
            "-CAfile",
            &inter,
            "-partial_chain",
            "-no_nonce",
        ]);
        assert!(text.contains("Response verify OK"), "{name}: {text}");
        assert!(
            text.contains(": revoked") && text.contains("superseded"),
            "{name}: {text}"
        );
    }
}

#[test]
fn every_refusal_code_has_a_message_in_every_language() {
    use crate::web::i18n::{t, Lang};
    for code in Refusal::ALL_CODES {
        let key = format!("esig.error.{code}");
        for lang in [Lang::Ru, Lang::Ky, Lang::En] {
            assert_ne!(t(lang, &key), key, "{key} is missing in {lang:?}");
        }
    }
}
