//! Electronic signature end to end through the JSON API, as the «ЭП» tabs (or a desktop
//! signer) use it, on both backend families: a certification authority of the test trusted
//! with the real `idp trust add`; a person registers by signing a challenge (R6) with a
//! certificate naming their organization — both accounts exist at once, no inspector; the
//! same holder again gets R11; then a relying party built with the `openidconnect` library
//! signs them in by signature (A2) and gets `amr` with `hwk`, `acr=high` and the
//! organization's `account`. Also: step-up from a password when the client asks for
//! `acr_values=high`, and the API's refusals (replay, untrusted CA, unknown holder, CSRF).

use base64::Engine as _;
use openidconnect::core::CoreAuthPrompt;
use openidconnect::{
    AuthenticationContextClass, AuthenticationFlow, AuthorizationCode, CsrfToken, Nonce,
    PkceCodeChallenge, Scope, TokenResponse,
};
use salyk_idp::esig::pki::{self, CertSpec, CmsOptions, Credential, KeySpec, Subject};
use salyk_idp::esig::SignatureAlgorithm;
use salyk_idp::store::{Taxpayer, TaxpayerKind};
use serde_json::{json, Value};
use time::{Duration, OffsetDateTime};

use crate::authz_support::jwt_payload;
use crate::harness::*;
use crate::oidc_flow::{library_client, rp_http};
use crate::registration::taxpayer;

pub const PERSON: &str = "21207198599011";
pub const PERSON_NAME: &str = "Асанов Бакыт Маратович";
pub const ORG: &str = "00211201999002";
pub const STRANGER: &str = "11908199599014";

/// A certification authority of the test, and certificates it issues.
pub struct TestPki {
    pub ca: Credential,
}

impl TestPki {
    pub fn new(name: &str) -> TestPki {
        let now = OffsetDateTime::now_utc();
        let key = pki::generate_key(KeySpec::EcP256).expect("key");
        let spec = CertSpec::ca(
            Subject::ca(name),
            now - Duration::days(1),
            now + Duration::days(365),
        );
        TestPki {
            ca: pki::self_signed(key, &spec).expect("ca"),
        }
    }

    /// A signer certificate: `serialNumber = INN{inn}`, and `organizationIdentifier =
    /// NTRKG-{org}` when the certificate names an organization.
    pub fn person(&self, name: &str, inn: &str, org: Option<&str>) -> Credential {
        let now = OffsetDateTime::now_utc();
        let mut subject = Subject::person(name, &format!("INN{inn}"));
        subject.organization_identifier = org.map(|o| format!("NTRKG-{o}"));
        let spec =
            CertSpec::end_entity(subject, now - Duration::days(1), now + Duration::days(365));
        pki::issue(
            &self.ca,
            pki::generate_key(KeySpec::EcP256).expect("key"),
            &spec,
        )
        .expect("cert")
    }

    /// Trusts the CA as an operator does: `idp trust add FILE.pem`.
    pub fn trust_in(&self, app: &TestApp) {
        let file = tempfile::NamedTempFile::new().expect("temp");
        std::fs::write(file.path(), self.ca.certificate_pem()).expect("write");
        let out = app.idp(&["trust", "add", file.path().to_str().expect("path")]);
        assert!(
            out.status.success(),
            "trust add: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// Base64 of a CMS over `challenge` by `signer` (attached content, signed attributes).
pub fn sign(signer: &Credential, challenge: &str) -> String {
    let cms = pki::sign_cms(
        signer,
        challenge.as_bytes(),
        &CmsOptions::new(SignatureAlgorithm::EcdsaSha256),
    )
    .expect("cms");
    base64::engine::general_purpose::STANDARD.encode(cms)
}

/// The registry: the person, and an organization they head.
pub async fn seed(app: &TestApp) {
    let mut person = taxpayer(PERSON, TaxpayerKind::Person, PERSON_NAME);
    person.ugns_code = "004".into();
    let mut org: Taxpayer = taxpayer(ORG, TaxpayerKind::Organization, "ОсОО «Тест Подпись»");
    org.head_pin = Some(PERSON.into());
    let stranger = taxpayer(STRANGER, TaxpayerKind::Person, "Чужой Чужак Чужакович");
    app.state
        .store
        .upsert_taxpayers(&[person, org, stranger])
        .await
        .expect("registry");
}

/// A page's CSRF token for `browser` (any page of ours carries one).
pub async fn csrf_of(app: &TestApp, browser: &reqwest::Client, path: &str) -> String {
    hidden(&get_text(app, browser, path).await, "csrf")
}

/// `POST /api/esig/{what}` with the CSRF header; returns status and JSON.
pub async fn api(
    app: &TestApp,
    browser: &reqwest::Client,
    csrf: &str,
    what: &str,
    body: Value,
) -> (u16, Value) {
    let response = browser
        .post(app.url(&format!("/api/esig/{what}")))
        .header("X-CSRF-Token", csrf)
        .json(&body)
        .send()
        .await
        .expect("api");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Registers the holder of `signer` by signature; returns the API's status and answer.
pub async fn register_by_signature(
    app: &TestApp,
    browser: &reqwest::Client,
    signer: &Credential,
    branch_of: Option<&str>,
) -> (u16, Value) {
    let csrf = csrf_of(app, browser, "/register").await;
    let (status, issued) = api(
        app,
        browser,
        &csrf,
        "challenge",
        json!({ "purpose": "register" }),
    )
    .await;
    assert_eq!(status, 200, "{issued}");
    let challenge = issued["challenge"].as_str().expect("challenge").to_owned();
    assert!(issued["expires_in"].as_i64().unwrap() > 0);
    let body = json!({
        "challenge": challenge,
        "cms": sign(signer, &challenge),
        "branch": branch_of.is_some(),
        "head_inn": branch_of.unwrap_or(""),
    });
    api(app, browser, &csrf, "register", body).await
}

/// From a `/login?req=…` location: signs a sign-in challenge with `signer` and posts it.
pub async fn sign_in_by_signature(
    app: &TestApp,
    browser: &reqwest::Client,
    login_location: &str,
    signer: &Credential,
) -> (u16, Value) {
    let page = get_text(app, browser, login_location).await;
    let (csrf, req) = (hidden(&page, "csrf"), hidden(&page, "req"));
    let (status, issued) = api(
        app,
        browser,
        &csrf,
        "challenge",
        json!({ "purpose": "signin", "req": req }),
    )
    .await;
    assert_eq!(status, 200, "{issued}");
    let challenge = issued["challenge"].as_str().expect("challenge").to_owned();
    let body = json!({ "req": req, "challenge": challenge, "cms": sign(signer, &challenge) });
    api(app, browser, &csrf, "signin", body).await
}

/// Follows local redirects (choosing the account with INN `account_inn` on «Выбор входа»)
/// until the browser is sent to the client; returns that response.
pub async fn follow_to_client(
    app: &TestApp,
    browser: &reqwest::Client,
    mut next: String,
    account_inn: &str,
) -> reqwest::Response {
    loop {
        let response = browser.get(app.url(&next)).send().await.expect("page");
        if !response.status().is_redirection() {
            let page = response.text().await.expect("html");
            assert!(
                page.contains("name=\"account\""),
                "expected the account page: {page}"
            );
            let value = radio_values(&page)
                .into_iter()
                .find(|v| v.ends_with(account_inn))
                .expect("account");
            let chosen = browser
                .post(app.url("/login/account"))
                .form(&[
                    ("csrf", hidden(&page, "csrf").as_str()),
                    ("req", hidden(&page, "req").as_str()),
                    ("account", value.as_str()),
                    ("action", "allow"),
                ])
                .send()
                .await
                .expect("account");
            return chosen;
        }
        next = location(&response);
        if !next.starts_with('/') {
            return response;
        }
    }
}

async fn registers_and_signs_in_by_signature(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let pki = TestPki::new("Test CA");
    pki.trust_in(&app);
    let holder = pki.person(PERSON_NAME, PERSON, Some(ORG));

    // R6: registered at once, the organization account too.
    let browser = browser();
    let (status, answer) = register_by_signature(&app, &browser, &holder, None).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["redirect"], "/register/signature/done");
    let done = get_text(&app, &browser, "/register/signature/done").await;
    assert!(
        done.contains(&format!("{PERSON}001")),
        "the generated login is shown: {done}"
    );
    assert!(done.contains("ОсОО «Тест Подпись»"));
    let user = app
        .state
        .store
        .user_by_inn(PERSON)
        .await
        .unwrap()
        .expect("user created");
    assert_eq!(user.login, format!("{PERSON}001"));
    assert!(user.password_hash.is_none());
    let events = app.state.store.recent_events(20).await.unwrap();
    assert!(
        events.iter().any(|e| e.kind == "registration.signature"),
        "audited"
    );

    // R11: the same holder again.
    let (status, answer) = register_by_signature(&app, &browser, &holder, None).await;
    assert_eq!(status, 409, "{answer}");
    assert_eq!(answer["error"], "already_registered");
    assert_eq!(
        answer["message"],
        "Ошибка регистрации. Такой пользователь уже существует"
    );

    // A2 through a certified client library, choosing the organization.
    let (client_id, secret) = app.client(ClientSpec::default()).await;
    let client = library_client(&app, &client_id, secret).await;
    let (pkce, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state, nonce) = client
        .authorize_url(
            AuthenticationFlow::<openidconnect::core::CoreResponseType>::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .set_pkce_challenge(pkce)
        .add_scope(Scope::new("profile".into()))
        .add_auth_context_value(AuthenticationContextClass::new("high".into()))
        .add_prompt(CoreAuthPrompt::SelectAccount)
        .url();
    let browser = super::harness::browser();
    let first = browser.get(url.as_str()).send().await.expect("authorize");
    let login_page = location(&first);
    assert!(login_page.starts_with("/login?"), "{login_page}");
    let (status, answer) = sign_in_by_signature(&app, &browser, &login_page, &holder).await;
    assert_eq!(status, 200, "{answer}");
    let next = answer["redirect"].as_str().expect("redirect").to_owned();
    let back = follow_to_client(&app, &browser, next, ORG).await;
    let params = location_params(&back);
    assert_eq!(params["state"], *state.secret());
    let tokens = client
        .exchange_code(AuthorizationCode::new(params["code"].clone()))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&rp_http())
        .await
        .expect("code exchange");
    let id_token = tokens.id_token().expect("id token");
    id_token
        .claims(&client.id_token_verifier(), &nonce)
        .expect("valid ID token");
    let claims = jwt_payload(&id_token.to_string());
    assert_eq!(claims["acr"], "high");
    assert!(
        claims["amr"].as_array().unwrap().iter().any(|a| a == "hwk"),
        "{claims}"
    );
    assert_eq!(claims["inn"], PERSON);
    assert_eq!(claims["account"]["inn"], ORG);
    assert_eq!(claims["account"]["role"], "head");
}

async fn password_is_not_enough_when_the_client_asks_for_high(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let pki = TestPki::new("Test CA");
    pki.trust_in(&app);
    let holder = pki.person(PERSON_NAME, PERSON, None);
    assert_eq!(
        register_by_signature(&app, &browser(), &holder, None)
            .await
            .0,
        200
    );
    let password_user = app
        .user(
            "pw",
            "21207198599022",
            "Паролев Пароль",
            "пароль-для-теста-1",
        )
        .await;

    let (client_id, _) = app.client(ClientSpec::default()).await;
    let url = crate::authz_support::Authz::new(&client_id)
        .set("acr_values", "high")
        .url(&app);
    let browser = super::harness::browser();
    let login_page = location(&browser.get(&url).send().await.expect("authorize"));
    let page = get_text(&app, &browser, &login_page).await;
    let response = browser
        .post(app.url("/login/password"))
        .form(&[
            ("csrf", hidden(&page, "csrf").as_str()),
            ("req", hidden(&page, "req").as_str()),
            ("login", password_user.login.as_str()),
            ("password", "пароль-для-теста-1"),
        ])
        .send()
        .await
        .expect("password");
    assert_eq!(
        response.status(),
        200,
        "no redirect: the page asks for a signature"
    );
    assert!(response
        .headers()
        .get("set-cookie")
        .is_none_or(|c| !c.to_str().unwrap().contains("salyk_session")));
    let page = response.text().await.unwrap();
    assert!(
        page.contains("Этот сервис требует входа с электронной подписью"),
        "{page}"
    );

    // The signature then signs in, at the level asked for.
    let (status, answer) = sign_in_by_signature(&app, &browser, &login_page, &holder).await;
    assert_eq!(status, 200, "{answer}");
    let next = answer["redirect"].as_str().unwrap().to_owned();
    let back = follow_to_client(&app, &browser, next, PERSON).await;
    assert!(location_params(&back).contains_key("code"));
}

/// Sign-in attempts through the API from `browser`, for the pending request `req` whose page
/// gave `csrf`.
struct Attempt<'a> {
    app: &'a TestApp,
    browser: &'a reqwest::Client,
    csrf: &'a str,
    req: &'a str,
}

impl Attempt<'_> {
    async fn challenge(&self) -> String {
        let (status, issued) = api(
            self.app,
            self.browser,
            self.csrf,
            "challenge",
            json!({ "purpose": "signin", "req": self.req }),
        )
        .await;
        assert_eq!(status, 200, "{issued}");
        issued["challenge"].as_str().unwrap().to_owned()
    }

    async fn post(&self, challenge: &str, cms: String) -> (u16, Value) {
        let body = json!({ "req": self.req, "challenge": challenge, "cms": cms });
        api(self.app, self.browser, self.csrf, "signin", body).await
    }

    /// A fresh challenge signed over `content` (default: the challenge) by `signer`.
    async fn refused(&self, signer: &Credential, content: Option<&str>) -> (u16, String) {
        let c = self.challenge().await;
        let (status, answer) = self.post(&c, sign(signer, content.unwrap_or(&c))).await;
        (
            status,
            answer["error"].as_str().unwrap_or_default().to_owned(),
        )
    }
}

async fn api_refusals(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let pki = TestPki::new("Test CA");
    pki.trust_in(&app);
    let holder = pki.person(PERSON_NAME, PERSON, None);
    assert_eq!(
        register_by_signature(&app, &browser(), &holder, None)
            .await
            .0,
        200
    );
    let (client_id, _) = app.client(ClientSpec::default()).await;
    let url = crate::authz_support::Authz::new(&client_id).url(&app);
    let b = super::harness::browser();
    let login_page = location(&b.get(&url).send().await.expect("authorize"));
    let page = get_text(&app, &b, &login_page).await;
    let (csrf, req) = (hidden(&page, "csrf"), hidden(&page, "req"));
    let at = Attempt {
        app: &app,
        browser: &b,
        csrf: &csrf,
        req: &req,
    };

    // No CSRF token: 403, and no challenge.
    let (status, answer) = api(
        &app,
        &b,
        "",
        "challenge",
        json!({ "purpose": "signin", "req": req }),
    )
    .await;
    assert_eq!((status, answer["error"].as_str()), (403, Some("csrf")));

    // Replay: the second use of one signed challenge is refused.
    let c = at.challenge().await;
    assert_eq!(at.post(&c, sign(&holder, &c)).await.0, 200);
    let (status, answer) = at.post(&c, sign(&holder, &c)).await;
    assert_eq!(
        (status, answer["error"].as_str()),
        (401, Some("challenge_used")),
        "{answer}"
    );

    // Another browser cannot redeem this browser's challenge.
    let c = at.challenge().await;
    let other = super::harness::browser();
    let other_csrf = csrf_of(&app, &other, "/register").await;
    let from_other = Attempt {
        app: &app,
        browser: &other,
        csrf: &other_csrf,
        req: &req,
    };
    let (status, answer) = from_other.post(&c, sign(&holder, &c)).await;
    assert_eq!(
        (status, answer["error"].as_str()),
        (401, Some("challenge_wrong_context")),
        "{answer}"
    );

    // A certificate from a CA nobody trusted; a trusted one of someone never registered; a
    // signature over something else than the challenge.
    let rogue = TestPki::new("Rogue CA").person(PERSON_NAME, PERSON, None);
    let stranger = pki.person("Чужой Чужак Чужакович", STRANGER, None);
    for (signer, content, code) in [
        (&rogue, None, "untrusted_issuer"),
        (&stranger, None, "not_registered"),
        (&holder, Some("salyk-id:signin:forged"), "wrong_challenge"),
    ] {
        assert_eq!(at.refused(signer, content).await, (401, code.to_owned()));
    }
    let c = at.challenge().await;
    let (status, answer) = at.post(&c, sign(&rogue, &c)).await;
    assert_eq!(status, 401);
    assert_eq!(
        answer["message"],
        "Сертификат выдан неизвестным удостоверяющим центром."
    );

    // Garbage.
    let c = at.challenge().await;
    let (status, answer) = at.post(&c, "bm90IGEgY21z".into()).await;
    assert_eq!(
        (status, answer["error"].as_str()),
        (401, Some("malformed")),
        "{answer}"
    );

    // Every refusal was audited as a failed sign-in.
    let failures = app
        .state
        .store
        .recent_events(50)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == "sign_in.failure")
        .count();
    assert!(failures >= 6, "{failures} failures audited");
}

both_backends!(
    registers_and_signs_in_by_signature,
    password_is_not_enough_when_the_client_asks_for_high,
    api_refusals,
);
