//! RP-Initiated Logout 1.0 at `/logout` (GET and POST) and `/logout/confirm`: with a valid
//! `id_token_hint` (expired ones too, §2) and a registered `post_logout_redirect_uri` the
//! session ends and the user returns with `state`; an unregistered or unverifiable
//! redirect target is an error page that neither redirects nor ends the session; without a
//! hint the user confirms on a CSRF-protected page, and «Остаться» keeps the session.

use std::sync::Arc;

use reqwest::cookie::{CookieStore, Jar};

use crate::authz_support::*;
use crate::harness::*;

const BYE: &str = "bye state/+ü";

/// A browser whose cookie jar the test can read.
fn jar_browser() -> (reqwest::Client, Arc<Jar>) {
    let jar = Arc::new(Jar::default());
    let client = reqwest::Client::builder()
        .cookie_provider(jar.clone())
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    (client, jar)
}

/// The current value of the session cookie in `jar`.
fn session_cookie(app: &TestApp, jar: &Jar) -> Option<String> {
    let header = jar.cookies(&app.base.parse().unwrap())?;
    header
        .to_str()
        .unwrap()
        .split("; ")
        .find_map(|c| c.strip_prefix("salyk_session="))
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

/// A browser carrying exactly the session cookie `id`, as if replayed after logout.
fn replaying(app: &TestApp, id: &str) -> reqwest::Client {
    let jar = Arc::new(Jar::default());
    jar.add_cookie_str(
        &format!("salyk_session={id}; Path=/"),
        &app.base.parse().unwrap(),
    );
    reqwest::Client::builder()
        .cookie_provider(jar)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

struct Signed {
    b: reqwest::Client,
    jar: Arc<Jar>,
    id_token: String,
    session: String,
}

/// Signs the test user in and returns the browser, its session id and an ID token.
async fn signed_in(app: &TestApp, rp: &Rp) -> Signed {
    let (b, jar) = jar_browser();
    let code = code_for(app, &b, &Authz::new(&rp.id)).await;
    let tokens: serde_json::Value = redeem(app, rp, &code, VERIFIER).await.json().await.unwrap();
    let session = session_cookie(app, &jar).expect("a session cookie");
    Signed {
        b,
        jar,
        id_token: tokens["id_token"].as_str().expect("id_token").to_owned(),
        session,
    }
}

/// Whether the session `id` is still alive on the server (prompt=none succeeds with it).
async fn alive(app: &TestApp, rp: &Rp, id: &str) -> bool {
    let response = replaying(app, id)
        .get(Authz::new(&rp.id).set("prompt", "none").url(app))
        .send()
        .await
        .unwrap();
    match location_params(&response).get("error").map(String::as_str) {
        None => true,
        Some("login_required") => false,
        Some(other) => panic!("unexpected {other}"),
    }
}

async fn setup(backend: Backend) -> (TestApp, Rp) {
    let app = TestApp::spawn(backend).await;
    app.user(LOGIN, INN, NAME, PASSWORD).await;
    let client = rp(&app, ClientSpec::default()).await;
    (app, client)
}

fn assert_post_logout_redirect(response: &reqwest::Response) {
    assert_eq!(response.status(), 303);
    let to = location(response);
    assert!(
        to.starts_with(&format!("{POST_LOGOUT_URI}?")),
        "to the registered URI: {to}"
    );
    assert_eq!(
        location_params(response).get("state").map(String::as_str),
        Some(BYE),
        "state passed back"
    );
}

async fn hint_and_registered_uri_logs_out(backend: Backend) {
    let (app, rp) = setup(backend).await;
    let s = signed_in(&app, &rp).await;
    let response =
        s.b.get(app.url("/logout"))
            .query(&[
                ("id_token_hint", s.id_token.as_str()),
                ("post_logout_redirect_uri", POST_LOGOUT_URI),
                ("state", BYE),
            ])
            .send()
            .await
            .unwrap();
    assert_post_logout_redirect(&response);
    let cleared = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .any(|c| c.to_str().unwrap().starts_with("salyk_session=;"));
    assert!(cleared, "the session cookie is cleared");
    assert!(session_cookie(&app, &s.jar).is_none());
    let next =
        s.b.get(Authz::new(&rp.id).set("prompt", "none").url(&app))
            .send()
            .await
            .unwrap();
    assert_client_error(&app, &next, "login_required");
    assert!(
        !alive(&app, &rp, &s.session).await,
        "the session is ended on the server, not only in the browser"
    );
}

async fn post_works_like_get(backend: Backend) {
    let (app, rp) = setup(backend).await;
    let s = signed_in(&app, &rp).await;
    let response =
        s.b.post(app.url("/logout"))
            .form(&[
                ("id_token_hint", s.id_token.as_str()),
                ("post_logout_redirect_uri", POST_LOGOUT_URI),
                ("state", BYE),
            ])
            .send()
            .await
            .unwrap();
    assert_post_logout_redirect(&response);
    assert!(!alive(&app, &rp, &s.session).await);
    // Without a redirect URI the user is told they signed out.
    let s = signed_in(&app, &rp).await;
    let response =
        s.b.post(app.url("/logout"))
            .form(&[("id_token_hint", s.id_token.as_str())])
            .send()
            .await
            .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("Вы вышли из системы"));
    assert!(!alive(&app, &rp, &s.session).await);
}

async fn untrusted_targets_are_error_pages(backend: Backend) {
    let (app, rp) = setup(backend).await;
    let other = rp_named(&app, "Other RP").await;
    let s = signed_in(&app, &rp).await;
    let hint = s.id_token.as_str();
    let cases: Vec<(&str, Vec<(&str, &str)>)> = vec![
        (
            "unregistered URI",
            vec![
                ("id_token_hint", hint),
                ("post_logout_redirect_uri", "http://evil.example/bye"),
                ("state", BYE),
            ],
        ),
        (
            "trailing slash",
            vec![
                ("id_token_hint", hint),
                ("post_logout_redirect_uri", "http://127.0.0.1:9/logged-out/"),
                ("state", BYE),
            ],
        ),
        (
            "a login redirect URI is not a logout one",
            vec![
                ("id_token_hint", hint),
                ("post_logout_redirect_uri", REDIRECT_URI),
            ],
        ),
        (
            "neither hint nor client_id",
            vec![
                ("post_logout_redirect_uri", POST_LOGOUT_URI),
                ("state", BYE),
            ],
        ),
        (
            "hint for another client_id",
            vec![
                ("id_token_hint", hint),
                ("client_id", other.id.as_str()),
                ("post_logout_redirect_uri", POST_LOGOUT_URI),
            ],
        ),
        (
            "unknown client_id",
            vec![
                ("client_id", "no-such-client"),
                ("post_logout_redirect_uri", POST_LOGOUT_URI),
            ],
        ),
        (
            "invalid hint",
            vec![
                ("id_token_hint", "not.a.jwt"),
                ("post_logout_redirect_uri", POST_LOGOUT_URI),
            ],
        ),
    ];
    for (what, query) in cases {
        let response =
            s.b.get(app.url("/logout"))
                .query(&query)
                .send()
                .await
                .unwrap();
        assert_eq!(response.status(), 400, "{what}");
        assert!(
            response.headers().get("location").is_none(),
            "{what}: never redirected"
        );
        assert!(
            response.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html"),
            "{what}"
        );
        let body = response.text().await.unwrap();
        assert!(body.contains("Ошибка"), "{what}: {body}");
        assert!(
            alive(&app, &rp, &s.session).await,
            "{what}: the session is kept"
        );
    }
    // A hint and a mismatching client_id, even without a redirect URI.
    let response =
        s.b.get(app.url("/logout"))
            .query(&[("id_token_hint", hint), ("client_id", other.id.as_str())])
            .send()
            .await
            .unwrap();
    assert_eq!(response.status(), 400);
    assert!(alive(&app, &rp, &s.session).await);
}

async fn rp_named(app: &TestApp, name: &str) -> Rp {
    rp(
        app,
        ClientSpec {
            name: Some(name.into()),
            ..Default::default()
        },
    )
    .await
}

/// Reads the confirmation page and returns its form fields.
async fn confirmation(response: reqwest::Response) -> std::collections::HashMap<String, String> {
    assert_eq!(response.status(), 200, "a confirmation page");
    assert!(response.headers().get("location").is_none());
    let html = response.text().await.unwrap();
    assert!(
        html.contains("<form method=\"post\" action=\"/logout/confirm\">"),
        "{html}"
    );
    assert!(
        html.contains("Выйти из Salyk ID?") && html.contains("Остаться"),
        "{html}"
    );
    assert!(
        html.contains("name=\"action\" value=\"logout\"")
            && html.contains("name=\"action\" value=\"stay\"")
    );
    hidden_fields(&html)
}

async fn without_hint_the_user_confirms(backend: Backend) {
    let (app, rp) = setup(backend).await;
    let s = signed_in(&app, &rp).await;
    // client_id and a registered URI, but no hint: ask first, redirect only after.
    let response =
        s.b.get(app.url("/logout"))
            .query(&[
                ("client_id", rp.id.as_str()),
                ("post_logout_redirect_uri", POST_LOGOUT_URI),
                ("state", BYE),
            ])
            .send()
            .await
            .unwrap();
    let fields = confirmation(response).await;
    assert!(fields["csrf"].len() >= 32);
    assert!(
        alive(&app, &rp, &s.session).await,
        "nothing ends before the user confirms"
    );
    let mut form: Vec<(String, String)> = fields.into_iter().collect();
    form.push(("action".into(), "logout".into()));
    let response =
        s.b.post(app.url("/logout/confirm"))
            .form(&form)
            .send()
            .await
            .unwrap();
    assert_post_logout_redirect(&response);
    assert!(
        !alive(&app, &rp, &s.session).await,
        "confirmed: the session ended"
    );

    // A plain /logout (a link anyone could plant) also only asks.
    let s = signed_in(&app, &rp).await;
    let fields = confirmation(s.b.get(app.url("/logout")).send().await.unwrap()).await;
    assert!(alive(&app, &rp, &s.session).await);
    let response =
        s.b.post(app.url("/logout/confirm"))
            .form(&[("csrf", fields["csrf"].as_str()), ("action", "logout")])
            .send()
            .await
            .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("Вы вышли из системы"));
    assert!(!alive(&app, &rp, &s.session).await);
}

async fn hint_for_another_user_asks(backend: Backend) {
    let (app, rp) = setup(backend).await;
    app.user(
        "10101199000123001",
        "10101199000123",
        "Асанов Бакыт",
        PASSWORD,
    )
    .await;
    let a = signed_in(&app, &rp).await;
    let (b, jar) = jar_browser();
    let back = sign_in(
        &app,
        &b,
        &Authz::new(&rp.id).url(&app),
        "10101199000123001",
        PASSWORD,
        None,
    )
    .await;
    assert_to_client(&app, &back);
    let b_session = session_cookie(&app, &jar).unwrap();
    // B's browser receives a logout for A: B is asked, not logged out.
    let response = b
        .get(app.url("/logout"))
        .query(&[
            ("id_token_hint", a.id_token.as_str()),
            ("post_logout_redirect_uri", POST_LOGOUT_URI),
            ("state", BYE),
        ])
        .send()
        .await
        .unwrap();
    confirmation(response).await;
    assert!(alive(&app, &rp, &b_session).await);
    assert!(alive(&app, &rp, &a.session).await);
}

async fn confirmation_is_csrf_protected_and_stay_keeps(backend: Backend) {
    let (app, rp) = setup(backend).await;
    let s = signed_in(&app, &rp).await;
    let fields = confirmation(
        s.b.get(app.url("/logout"))
            .query(&[
                ("client_id", rp.id.as_str()),
                ("post_logout_redirect_uri", POST_LOGOUT_URI),
                ("state", BYE),
            ])
            .send()
            .await
            .unwrap(),
    )
    .await;
    for csrf in ["", "forged"] {
        let response =
            s.b.post(app.url("/logout/confirm"))
                .form(&[
                    ("csrf", csrf),
                    ("action", "logout"),
                    ("client_id", &rp.id),
                    ("post_logout_redirect_uri", POST_LOGOUT_URI),
                ])
                .send()
                .await
                .unwrap();
        assert_error_page(response, 403, "Срок действия формы истёк").await;
        assert!(
            alive(&app, &rp, &s.session).await,
            "a forged confirmation ends nothing"
        );
    }
    // A tampered redirect target in the confirmation form is refused as well.
    let response =
        s.b.post(app.url("/logout/confirm"))
            .form(&[
                ("csrf", fields["csrf"].as_str()),
                ("action", "logout"),
                ("client_id", &rp.id),
                ("post_logout_redirect_uri", "http://evil.example/"),
            ])
            .send()
            .await
            .unwrap();
    assert_eq!(response.status(), 400);
    assert!(response.headers().get("location").is_none());
    assert!(alive(&app, &rp, &s.session).await);
    // «Остаться»: nothing ends and the user is not sent to the client.
    let mut form: Vec<(String, String)> = fields.into_iter().collect();
    form.push(("action".into(), "stay".into()));
    let response =
        s.b.post(app.url("/logout/confirm"))
            .form(&form)
            .send()
            .await
            .unwrap();
    let to = response
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_owned())
        .unwrap_or_default();
    assert!(
        !to.starts_with(POST_LOGOUT_URI),
        "staying does not return to the client: {to}"
    );
    assert!(
        alive(&app, &rp, &s.session).await,
        "«Остаться» keeps the session"
    );
    assert!(session_cookie(&app, &s.jar).is_some());
}

async fn expired_hint_still_logs_out(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| c.id_token_ttl = 1).await;
    app.user(LOGIN, INN, NAME, PASSWORD).await;
    let rp = rp(&app, ClientSpec::default()).await;
    let s = signed_in(&app, &rp).await;
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    assert!(
        jwt_payload(&s.id_token)["exp"].as_i64().unwrap() < salyk_idp::clock::now(),
        "the hint has expired"
    );
    let response =
        s.b.get(app.url("/logout"))
            .query(&[
                ("id_token_hint", s.id_token.as_str()),
                ("post_logout_redirect_uri", POST_LOGOUT_URI),
                ("state", BYE),
            ])
            .send()
            .await
            .unwrap();
    assert_post_logout_redirect(&response);
    assert!(!alive(&app, &rp, &s.session).await);
}

async fn without_a_session(backend: Backend) {
    let (app, rp) = setup(backend).await;
    let s = signed_in(&app, &rp).await;
    // Logged out elsewhere already: the RP's request still returns the user with state.
    let (fresh, _) = jar_browser();
    let response = fresh
        .get(app.url("/logout"))
        .query(&[
            ("id_token_hint", s.id_token.as_str()),
            ("post_logout_redirect_uri", POST_LOGOUT_URI),
            ("state", BYE),
        ])
        .send()
        .await
        .unwrap();
    assert_post_logout_redirect(&response);
    assert!(
        alive(&app, &rp, &s.session).await,
        "another browser's session is untouched"
    );
}

async fn sid_is_not_the_session_secret(backend: Backend) {
    let (app, rp) = setup(backend).await;
    let s = signed_in(&app, &rp).await;
    let sid = jwt_payload(&s.id_token)["sid"]
        .as_str()
        .expect("sid in the ID token")
        .to_owned();
    // The ID token goes to the relying party: what it carries must not open the session.
    assert_ne!(sid, s.session, "sid must not be the session cookie");
    assert!(
        !alive(&app, &rp, &sid).await,
        "the sid does not work as a session cookie"
    );
    assert!(alive(&app, &rp, &s.session).await);
}

async fn hint_from_an_earlier_session_asks(backend: Backend) {
    let (app, rp) = setup(backend).await;
    let s = signed_in(&app, &rp).await;
    let first =
        s.b.get(app.url("/logout"))
            .query(&[("id_token_hint", s.id_token.as_str())])
            .send()
            .await
            .unwrap();
    assert_eq!(first.status(), 200);
    assert!(!alive(&app, &rp, &s.session).await);
    // Signed in again: the old ID token belongs to a session that is over (§2: the OP must
    // ask when the hint does not belong to the current session).
    let code = code_for(&app, &s.b, &Authz::new(&rp.id)).await;
    let tokens: serde_json::Value = redeem(&app, &rp, &code, VERIFIER)
        .await
        .json()
        .await
        .unwrap();
    let current = session_cookie(&app, &s.jar).unwrap();
    let response =
        s.b.get(app.url("/logout"))
            .query(&[
                ("id_token_hint", s.id_token.as_str()),
                ("post_logout_redirect_uri", POST_LOGOUT_URI),
                ("state", BYE),
            ])
            .send()
            .await
            .unwrap();
    confirmation(response).await;
    assert!(
        alive(&app, &rp, &current).await,
        "a stale hint ends nothing by itself"
    );
    // The current session's ID token logs out at once.
    let hint = tokens["id_token"].as_str().unwrap();
    let response =
        s.b.get(app.url("/logout"))
            .query(&[
                ("id_token_hint", hint),
                ("post_logout_redirect_uri", POST_LOGOUT_URI),
                ("state", BYE),
            ])
            .send()
            .await
            .unwrap();
    assert_post_logout_redirect(&response);
    assert!(!alive(&app, &rp, &current).await);
}

both_backends!(
    sid_is_not_the_session_secret,
    hint_from_an_earlier_session_asks,
    hint_and_registered_uri_logs_out,
    post_works_like_get,
    untrusted_targets_are_error_pages,
    without_hint_the_user_confirms,
    hint_for_another_user_asks,
    confirmation_is_csrf_protected_and_stay_keeps,
    expired_hint_still_logs_out,
    without_a_session,
);
