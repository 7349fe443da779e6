//! The sign-in page and its POST (A1): the form's shape, CSRF, one message and one status
//! for an unknown login, a wrong password and a throttled attempt (per login and per IP),
//! the 303 after a successful sign-in, cookie flags (`Secure` exactly when the issuer is
//! https), and the expired-request page.

use crate::authz_support::*;
use crate::harness::*;

async fn setup(backend: Backend) -> (TestApp, Rp) {
    let app = TestApp::spawn(backend).await;
    app.user(LOGIN, INN, NAME, PASSWORD).await;
    let client = rp(&app, ClientSpec::default()).await;
    (app, client)
}

/// Whether `b` holds a working session: prompt=none gets a code or a consent error, not
/// login_required.
async fn has_session(app: &TestApp, b: &reqwest::Client, rp: &Rp) -> bool {
    let response = b
        .get(Authz::new(&rp.id).set("prompt", "none").url(app))
        .send()
        .await
        .unwrap();
    location_params(&response).get("error").map(String::as_str) != Some("login_required")
}

async fn sign_in_form_shape(backend: Backend) {
    let (app, rp) = setup(backend).await;
    let b = browser();
    let (_, html) = login_page(&app, &b, &Authz::new(&rp.id)).await;
    assert!(html.starts_with("<!doctype html>") && html.contains("<html lang=\"ru\">"));
    assert!(
        html.contains("<form method=\"post\" action=\"/login/password?req="),
        "{html}"
    );
    assert!(
        html.contains("<label for=\"login\">Логин</label>"),
        "{html}"
    );
    assert!(
        html.contains("<input id=\"login\" name=\"login\""),
        "{html}"
    );
    assert!(
        html.contains("<label for=\"password\">Пароль</label>"),
        "{html}"
    );
    assert!(
        html.contains("<input id=\"password\" name=\"password\" type=\"password\""),
        "{html}"
    );
    assert!(html.contains("<input type=\"hidden\" name=\"csrf\""));
    assert!(hidden(&html, "csrf").len() >= 32, "a real CSRF token");
    assert!(!hidden(&html, "req").is_empty());
    assert!(html.contains("Test RP"), "names the client");
    assert!(
        !html.contains("<script") && !html.contains("style=\""),
        "no inline script or style (CSP)"
    );
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "no external resources"
    );
}

async fn csrf_is_enforced(backend: Backend) {
    let (app, rp) = setup(backend).await;
    let b = browser();
    let (path, html) = login_page(&app, &b, &Authz::new(&rp.id)).await;
    let req = hidden(&html, "req");
    let other_browsers_token = hidden(
        &login_page(&app, &browser(), &Authz::new(&rp.id)).await.1,
        "csrf",
    );
    for csrf in [
        None,
        Some(""),
        Some("forged"),
        Some(other_browsers_token.as_str()),
    ] {
        let mut form = vec![
            ("req", req.as_str()),
            ("login", LOGIN),
            ("password", PASSWORD),
        ];
        if let Some(token) = csrf {
            form.push(("csrf", token));
        }
        let response = post_login(&app, &b, &form).await;
        assert!(
            cookie(&set_cookies(&response), "salyk_session").is_none(),
            "no session without a valid CSRF token"
        );
        assert_error_page(response, 403, "Срок действия формы истёк").await;
    }
    assert!(!has_session(&app, &b, &rp).await, "no sign-in happened");
    // A cross-site POST without the browser cookie at all is refused too.
    let cookieless = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = cookieless
        .post(app.url("/login/password"))
        .form(&[
            ("csrf", hidden(&html, "csrf").as_str()),
            ("req", req.as_str()),
            ("login", LOGIN),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);

    // The account page's form is protected the same way.
    let right = post_login(
        &app,
        &b,
        &[
            ("csrf", hidden(&html, "csrf").as_str()),
            ("req", req.as_str()),
            ("login", LOGIN),
            ("password", PASSWORD),
        ],
    )
    .await;
    assert_eq!(right.status(), 303);
    let account_page = location(&right);
    assert!(
        account_page.starts_with("/login/account?"),
        "got {account_page} (from {path})"
    );
    let response = b
        .post(app.url("/login/account"))
        .form(&[
            ("csrf", "forged"),
            ("req", req.as_str()),
            ("account", &format!("individual:{INN}")),
            ("action", "allow"),
        ])
        .send()
        .await
        .unwrap();
    assert_error_page(response, 403, "Срок действия формы истёк").await;
    let response = b
        .post(app.url("/login/account"))
        .form(&[
            ("csrf", "forged"),
            ("req", req.as_str()),
            ("action", "cancel"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403, "cancelling needs the token too");
}

async fn failures_look_the_same(backend: Backend) {
    let (app, rp) = setup(backend).await;
    let b = browser();
    let (_, html) = login_page(&app, &b, &Authz::new(&rp.id)).await;
    let (csrf, req) = (hidden(&html, "csrf"), hidden(&html, "req"));
    let unknown_login = "99999999999999001";
    let unknown = post_login(
        &app,
        &b,
        &[
            ("csrf", &csrf),
            ("req", &req),
            ("login", unknown_login),
            ("password", PASSWORD),
        ],
    )
    .await;
    let wrong = post_login(
        &app,
        &b,
        &[
            ("csrf", &csrf),
            ("req", &req),
            ("login", LOGIN),
            ("password", "not the password"),
        ],
    )
    .await;
    assert_eq!(unknown.status(), wrong.status(), "same status");
    assert!(
        cookie(&set_cookies(&unknown), "salyk_session").is_none()
            && cookie(&set_cookies(&wrong), "salyk_session").is_none()
    );
    let unknown = unknown.text().await.unwrap();
    let wrong = wrong.text().await.unwrap();
    assert!(unknown.contains("Неверный логин или пароль"), "{unknown}");
    assert_eq!(
        unknown.replace(unknown_login, LOGIN),
        wrong,
        "the pages differ only in the login typed"
    );
    assert!(!has_session(&app, &b, &rp).await);
}

async fn throttling_per_login(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| c.login_max_failures_per_login = 3).await;
    app.user(LOGIN, INN, NAME, PASSWORD).await;
    app.user(
        "10101199000123001",
        "10101199000123",
        "Асанов Бакыт",
        PASSWORD,
    )
    .await;
    let rp = rp(&app, ClientSpec::default()).await;
    let b = browser();
    let (_, html) = login_page(&app, &b, &Authz::new(&rp.id)).await;
    let (csrf, req) = (hidden(&html, "csrf"), hidden(&html, "req"));
    let mut wrong_page = String::new();
    for _ in 0..3 {
        let response = post_login(
            &app,
            &b,
            &[
                ("csrf", &csrf),
                ("req", &req),
                ("login", LOGIN),
                ("password", "guess guess"),
            ],
        )
        .await;
        assert_eq!(response.status(), 200);
        wrong_page = response.text().await.unwrap();
    }
    let throttled = post_login(
        &app,
        &b,
        &[
            ("csrf", &csrf),
            ("req", &req),
            ("login", LOGIN),
            ("password", PASSWORD),
        ],
    )
    .await;
    assert_eq!(
        throttled.status(),
        200,
        "the same status as a wrong password"
    );
    assert!(cookie(&set_cookies(&throttled), "salyk_session").is_none());
    assert_eq!(
        throttled.text().await.unwrap(),
        wrong_page,
        "the same page as a wrong password"
    );
    assert!(!has_session(&app, &b, &rp).await);
    // The limit is per login: another user on the same IP still signs in.
    let other = post_login(
        &app,
        &b,
        &[
            ("csrf", &csrf),
            ("req", &req),
            ("login", "10101199000123001"),
            ("password", PASSWORD),
        ],
    )
    .await;
    assert_eq!(other.status(), 303);
}

async fn throttling_per_ip(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| c.login_max_failures_per_ip = 3).await;
    app.user(LOGIN, INN, NAME, PASSWORD).await;
    let rp = rp(&app, ClientSpec::default()).await;
    let b = browser();
    let (_, html) = login_page(&app, &b, &Authz::new(&rp.id)).await;
    let (csrf, req) = (hidden(&html, "csrf"), hidden(&html, "req"));
    for guess in [
        "11111111111111001",
        "22222222222222001",
        "33333333333333001",
    ] {
        post_login(
            &app,
            &b,
            &[
                ("csrf", &csrf),
                ("req", &req),
                ("login", guess),
                ("password", "guess guess"),
            ],
        )
        .await;
    }
    let throttled = post_login(
        &app,
        &b,
        &[
            ("csrf", &csrf),
            ("req", &req),
            ("login", LOGIN),
            ("password", PASSWORD),
        ],
    )
    .await;
    assert_eq!(throttled.status(), 200);
    assert!(throttled
        .text()
        .await
        .unwrap()
        .contains("Неверный логин или пароль"));
}

async fn success_is_303_with_http_cookies(backend: Backend) {
    let (app, rp) = setup(backend).await;
    let b = browser();
    let first = b.get(Authz::new(&rp.id).url(&app)).send().await.unwrap();
    let browser_cookie = cookie(&set_cookies(&first), "salyk_browser")
        .expect("browser-id cookie")
        .clone();
    let path = location(&first);
    let html = b
        .get(app.url(&path))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let response = post_login(
        &app,
        &b,
        &[
            ("csrf", &hidden(&html, "csrf")),
            ("req", &hidden(&html, "req")),
            ("login", LOGIN),
            ("password", PASSWORD),
        ],
    )
    .await;
    assert_eq!(
        response.status(),
        303,
        "a successful POST answers 303 See Other"
    );
    let cookies = set_cookies(&response);
    let session = cookie(&cookies, "salyk_session").expect("session cookie");
    for c in [session, &browser_cookie] {
        let flags: Vec<&str> = c.split(';').map(str::trim).collect();
        assert!(
            flags.contains(&"HttpOnly")
                && flags.contains(&"SameSite=Lax")
                && flags.contains(&"Path=/"),
            "{c}"
        );
        assert!(
            !flags.iter().any(|f| f.eq_ignore_ascii_case("secure")),
            "no Secure on an http issuer: {c}"
        );
    }
    assert!(
        !session.to_ascii_lowercase().contains("max-age")
            && !session.to_ascii_lowercase().contains("expires"),
        "a browser-session cookie: {session}"
    );
}

async fn https_issuer_makes_cookies_secure(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| c.issuer = "https://id.salyk.example".into()).await;
    app.user(LOGIN, INN, NAME, PASSWORD).await;
    let rp = rp(&app, ClientSpec::default()).await;
    // Requests go to the plain http listener; a cookie jar would not send Secure cookies
    // there, so cookies go by hand.
    let listener = format!("http://{}", app.state.config.listen);
    let url = |path: &str| format!("{listener}{path}");
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let first = http
        .get(url(&format!("/authorize?{}", Authz::new(&rp.id).query())))
        .send()
        .await
        .unwrap();
    let cookies = set_cookies(&first);
    let browser_cookie = cookie(&cookies, "salyk_browser")
        .expect("browser-id cookie")
        .clone();
    let pair = browser_cookie.split(';').next().unwrap().to_owned();
    let html = http
        .get(url(&location(&first)))
        .header("cookie", &pair)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let form = [
        ("csrf", hidden(&html, "csrf")),
        ("req", hidden(&html, "req")),
        ("login", LOGIN.into()),
        ("password", PASSWORD.into()),
    ];
    let response = http
        .post(url("/login/password"))
        .header("cookie", &pair)
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    let cookies = set_cookies(&response);
    let session = cookie(&cookies, "salyk_session").expect("session cookie");
    for c in [session, &browser_cookie] {
        let flags: Vec<&str> = c.split(';').map(str::trim).collect();
        assert!(
            flags.contains(&"Secure")
                && flags.contains(&"HttpOnly")
                && flags.contains(&"SameSite=Lax")
                && flags.contains(&"Path=/"),
            "{c}"
        );
    }
    let lang = http.get(url("/?lang=en")).send().await.unwrap();
    let lang_cookie = cookie(&set_cookies(&lang), "salyk_lang")
        .expect("language cookie")
        .clone();
    assert!(lang_cookie.contains("; Secure"), "{lang_cookie}");
}

async fn unknown_or_expired_request(backend: Backend) {
    let (app, rp) = setup(backend).await;
    let b = browser();
    let message = "Срок действия запроса на вход истёк";
    for path in [
        "/login?req=unknown-request-id",
        "/login",
        "/login/account?req=unknown-request-id",
    ] {
        assert_error_page(b.get(app.url(path)).send().await.unwrap(), 400, message).await;
    }
    let (_, html) = login_page(&app, &b, &Authz::new(&rp.id)).await;
    let response = post_login(
        &app,
        &b,
        &[
            ("csrf", &hidden(&html, "csrf")),
            ("req", "unknown-request-id"),
            ("login", LOGIN),
            ("password", PASSWORD),
        ],
    )
    .await;
    assert_error_page(response, 400, message).await;
    let response = b
        .post(app.url("/login/account"))
        .form(&[
            ("csrf", hidden(&html, "csrf").as_str()),
            ("req", "unknown-request-id"),
            ("action", "cancel"),
        ])
        .send()
        .await
        .unwrap();
    assert_error_page(response, 400, message).await;
    // A finished request cannot be resumed either.
    let req = hidden(&html, "req");
    let response = post_login(
        &app,
        &b,
        &[
            ("csrf", &hidden(&html, "csrf")),
            ("req", &req),
            ("login", LOGIN),
            ("password", PASSWORD),
        ],
    )
    .await;
    let account_page = location(&response);
    let page = b
        .get(app.url(&account_page))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let form = [
        ("csrf", hidden(&page, "csrf")),
        ("req", req.clone()),
        ("account", format!("individual:{INN}")),
        ("action", "allow".into()),
    ];
    let back = b
        .post(app.url("/login/account"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert!(location(&back).starts_with(REDIRECT_URI));
    assert_error_page(
        b.get(app.url(&account_page)).send().await.unwrap(),
        400,
        message,
    )
    .await;
    assert_error_page(
        b.post(app.url("/login/account"))
            .form(&form)
            .send()
            .await
            .unwrap(),
        400,
        message,
    )
    .await;
}

both_backends!(
    sign_in_form_shape,
    csrf_is_enforced,
    failures_look_the_same,
    throttling_per_login,
    throttling_per_ip,
    success_is_303_with_http_cookies,
    https_issuer_makes_cookies_secure,
    unknown_or_expired_request,
);
