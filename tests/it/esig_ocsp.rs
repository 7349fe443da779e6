//! OCSP end to end, on both backend families: a test CA whose signer certificates name the
//! OCSP responder emulator (authorityInfoAccess), an app with `IDP_ESIG_OCSP=on`. The holder
//! registers and signs in while the responder says `good`; a certificate the CA never
//! recorded is `ocsp_unknown`; once revoked at the responder, the next sign-in is refused
//! (`revoked`); with the responder down every certificate naming it is refused
//! (`ocsp_unavailable`), while one naming no responder still signs in (CRLs only). With OCSP
//! off the responder is never asked and the revoked certificate is accepted.

use std::sync::Arc;

use salyk_idp::emulators::ocsp_responder::{self, CrlReason, OcspResponder};
use salyk_idp::esig::pki::{self, CertSpec, Credential, KeySpec, Subject};
use time::{Duration, OffsetDateTime};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::esig_signin::{
    register_by_signature, seed, sign_in_by_signature, TestPki, PERSON, PERSON_NAME,
};
use crate::harness::*;

/// The emulator answering for `pki`'s CA on an ephemeral port: its URL, itself, its task.
async fn spawn_responder(pki: &TestPki) -> (String, Arc<OcspResponder>, JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}/ocsp", listener.local_addr().expect("addr"));
    let responder = Arc::new(OcspResponder::new(&pki.ca).expect("responder"));
    let task = ocsp_responder::spawn(listener, responder.clone());
    (url, responder, task)
}

/// A certificate of the holder naming `ocsp_url` as its responder.
fn holder_naming(pki: &TestPki, ocsp_url: &str) -> Credential {
    let now = OffsetDateTime::now_utc();
    let subject = Subject::person(PERSON_NAME, &format!("INN{PERSON}"));
    let mut spec =
        CertSpec::end_entity(subject, now - Duration::days(1), now + Duration::days(365));
    spec.ocsp_url = Some(ocsp_url.to_owned());
    let key = pki::generate_key(KeySpec::EcP256).expect("key");
    pki::issue(&pki.ca, key, &spec).expect("cert")
}

/// A sign-in by signature from a fresh browser for a fresh authorization request: the API's
/// status and error code (empty when signed in).
async fn sign_in(app: &TestApp, client_id: &str, signer: &Credential) -> (u16, String) {
    let browser = browser();
    let url = crate::authz_support::Authz::new(client_id).url(app);
    let login_page = location(&browser.get(&url).send().await.expect("authorize"));
    let (status, answer) = sign_in_by_signature(app, &browser, &login_page, signer).await;
    let code = answer["error"].as_str().unwrap_or_default().to_owned();
    (status, code)
}

async fn ocsp_on_follows_the_responder(backend: Backend) {
    let pki = TestPki::new("Test CA with OCSP");
    let (url, responder, task) = spawn_responder(&pki).await;
    let app = TestApp::spawn_with(backend, |c| c.esig_ocsp = true).await;
    seed(&app).await;
    pki.trust_in(&app);
    let holder = holder_naming(&pki, &url);
    responder.issue(&holder.certificate);

    // Good: registration and sign-in each asked the responder.
    let (status, answer) = register_by_signature(&app, &browser(), &holder, None).await;
    assert_eq!(status, 200, "{answer}");
    let (client_id, _) = app.client(ClientSpec::default()).await;
    assert_eq!(
        sign_in(&app, &client_id, &holder).await,
        (200, String::new())
    );
    assert_eq!(responder.answered(), 2);

    // A certificate in the CA's name that the responder has no record of.
    let unrecorded = holder_naming(&pki, &url);
    assert_eq!(
        sign_in(&app, &client_id, &unrecorded).await,
        (401, "ocsp_unknown".to_owned())
    );

    // Revoked at the responder (no CRL says so): the next sign-in is refused.
    let now = OffsetDateTime::now_utc();
    responder.revoke(&holder.certificate, now, Some(CrlReason::KeyCompromise));
    assert_eq!(
        sign_in(&app, &client_id, &holder).await,
        (401, "revoked".to_owned())
    );
    let refused = app.state.store.recent_events(20).await.unwrap();
    assert!(
        refused.iter().any(|e| e.kind == "sign_in.failure"),
        "audited"
    );

    // The responder goes away: certificates naming it cannot be checked, so are refused; one
    // naming no responder relies on CRLs (none loaded) and still signs in.
    task.abort();
    let _ = task.await;
    let reinstated = holder_naming(&pki, &url);
    responder.issue(&reinstated.certificate);
    assert_eq!(
        sign_in(&app, &client_id, &reinstated).await,
        (503, "ocsp_unavailable".to_owned())
    );
    let without_aia = pki.person(PERSON_NAME, PERSON, None);
    assert_eq!(
        sign_in(&app, &client_id, &without_aia).await,
        (200, String::new())
    );
}

async fn ocsp_off_ignores_the_responder(backend: Backend) {
    let pki = TestPki::new("Test CA with OCSP");
    let (url, responder, _task) = spawn_responder(&pki).await;
    let app = TestApp::spawn(backend).await;
    assert!(!app.state.config.esig_ocsp, "off by default");
    seed(&app).await;
    pki.trust_in(&app);
    let holder = holder_naming(&pki, &url);
    let now = OffsetDateTime::now_utc();
    responder.revoke(&holder.certificate, now - Duration::hours(1), None);

    let (status, answer) = register_by_signature(&app, &browser(), &holder, None).await;
    assert_eq!(status, 200, "{answer}");
    let (client_id, _) = app.client(ClientSpec::default()).await;
    assert_eq!(
        sign_in(&app, &client_id, &holder).await,
        (200, String::new())
    );
    assert_eq!(responder.answered(), 0, "never asked");
}

both_backends!(
    ocsp_on_follows_the_responder,
    ocsp_off_ignores_the_responder
);
