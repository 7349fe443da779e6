//! What every page shares: languages (`ui_locales`, the `?lang=` switch and its cookie,
//! language links that work even on a page answering a POST), the security headers on HTML
//! pages and JSON endpoints (CSP with `frame-ancestors 'none'`, `X-Frame-Options`,
//! `X-Content-Type-Options`, `Referrer-Policy`; pages not cached), the stylesheet and the
//! 404 page.

use crate::authz_support::*;
use crate::harness::*;

async fn setup(backend: Backend) -> (TestApp, Rp) {
    let app = TestApp::spawn(backend).await;
    app.user(LOGIN, INN, NAME, PASSWORD).await;
    let client = rp(&app, ClientSpec::default()).await;
    (app, client)
}

/// Where a page's (first) form posts, unescaped.
fn form_action(page: &str) -> String {
    unescape(
        page.split("<form method=\"post\" action=\"")
            .nth(1)
            .expect("a form")
            .split('"')
            .next()
            .unwrap(),
    )
}

/// The three language-switch links of a page, unescaped.
fn lang_links(page: &str) -> Vec<String> {
    let nav = page
        .split("<nav class=\"langs\"")
        .nth(1)
        .expect("a language switch")
        .split("</nav>")
        .next()
        .unwrap();
    nav.split("href=\"")
        .skip(1)
        .map(|s| unescape(s.split('"').next().unwrap()))
        .collect()
}

async fn languages(backend: Backend) {
    let (app, rp) = setup(backend).await;
    let b = browser();
    let (_, html) = login_page(&app, &b, &Authz::new(&rp.id).set("ui_locales", "en-US ru")).await;
    assert!(
        html.contains("<html lang=\"en\">")
            && html.contains("<label for=\"login\">Login</label>")
            && html.contains("Sign in"),
        "{html}"
    );
    assert!(!html.contains("Пароль"));
    // A failed attempt keeps the language the client asked for.
    let action = form_action(&html);
    assert!(action.starts_with("/login/password?"), "{action}");
    let form = [
        ("csrf", hidden(&html, "csrf")),
        ("req", hidden(&html, "req")),
        ("login", LOGIN.into()),
        ("password", "nope nope".into()),
    ];
    let failed = b.post(app.url(&action)).form(&form).send().await.unwrap();
    let failed = failed.text().await.unwrap();
    assert!(
        failed.contains("<html lang=\"en\">") && failed.contains("Incorrect login or password"),
        "{failed}"
    );

    // The switch: ?lang=ky renders Kyrgyz and remembers it in a cookie.
    let (plain_path, _) = login_page(&app, &b, &Authz::new(&rp.id)).await;
    let switched = b
        .get(app.url(&format!("{plain_path}&lang=ky")))
        .send()
        .await
        .unwrap();
    let lang_cookie = cookie(&set_cookies(&switched), "salyk_lang")
        .expect("language cookie")
        .clone();
    assert!(
        lang_cookie.starts_with("salyk_lang=ky;")
            && lang_cookie.contains("HttpOnly")
            && lang_cookie.contains("SameSite=Lax"),
        "{lang_cookie}"
    );
    let html = switched.text().await.unwrap();
    assert!(
        html.contains("<html lang=\"ky\">")
            && html.contains("<label for=\"password\">Сырсөз</label>"),
        "{html}"
    );
    let later = b
        .get(app.url(&plain_path))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        later.contains("<html lang=\"ky\">"),
        "the cookie keeps Kyrgyz"
    );
    // Every language link of a sign-in page, even one re-rendered after a failed attempt,
    // leads to that sign-in page in that language.
    let form = [
        ("csrf", hidden(&later, "csrf")),
        ("req", hidden(&later, "req")),
        ("login", LOGIN.into()),
        ("password", "nope nope".into()),
    ];
    let failed = b
        .post(app.url(&form_action(&later)))
        .form(&form)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(failed.contains("Логин же сырсөз туура эмес"), "{failed}");
    for page in [&later, &failed] {
        let links = lang_links(page);
        assert_eq!(links.len(), 3, "{links:?}");
        for (link, code) in links.iter().zip(["ru", "ky", "en"]) {
            let response = b.get(app.url(link)).send().await.unwrap();
            assert_eq!(response.status(), 200, "{link}");
            let html = response.text().await.unwrap();
            assert!(
                html.contains(&format!("<html lang=\"{code}\">"))
                    && html.contains("name=\"password\""),
                "{link} → {html}"
            );
        }
    }
    // Default without any preference is Russian.
    let fresh = browser();
    let (_, html) = login_page(&app, &fresh, &Authz::new(&rp.id)).await;
    assert!(html.contains("<html lang=\"ru\">") && html.contains("Войти"));
}

fn assert_security_headers(what: &str, response: &reqwest::Response) {
    let h = response.headers();
    let csp = h
        .get("content-security-policy")
        .unwrap_or_else(|| panic!("{what}: no CSP"))
        .to_str()
        .unwrap();
    assert!(
        csp.split(';')
            .map(str::trim)
            .any(|d| d == "frame-ancestors 'none'"),
        "{what}: {csp}"
    );
    assert_eq!(
        h.get("x-frame-options").map(|v| v.to_str().unwrap()),
        Some("DENY"),
        "{what}"
    );
    assert_eq!(
        h.get("x-content-type-options").map(|v| v.to_str().unwrap()),
        Some("nosniff"),
        "{what}"
    );
    assert_eq!(
        h.get("referrer-policy").map(|v| v.to_str().unwrap()),
        Some("no-referrer"),
        "{what}"
    );
}

async fn security_headers_everywhere(backend: Backend) {
    let (app, rp) = setup(backend).await;
    let b = browser();
    let (login_path, _) = login_page(&app, &b, &Authz::new(&rp.id)).await;
    let pages = [
        ("home", "/".to_owned()),
        ("sign-in page", login_path),
        ("error page", "/authorize?client_id=nope".to_owned()),
        ("expired request page", "/login?req=nope".to_owned()),
        ("404 page", "/no/such/page".to_owned()),
        ("logout confirmation", "/logout".to_owned()),
    ];
    for (what, path) in pages {
        let response = b.get(app.url(&path)).send().await.unwrap();
        assert_security_headers(what, &response);
        assert_eq!(
            response
                .headers()
                .get("cache-control")
                .map(|v| v.to_str().unwrap()),
            Some("no-store"),
            "{what} is not cached"
        );
        assert!(
            response.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html"),
            "{what}"
        );
    }
    let redirect = b.get(Authz::new(&rp.id).url(&app)).send().await.unwrap();
    assert_security_headers("authorize redirect", &redirect);
    let http = reqwest::Client::new();
    for (what, response) in [
        (
            "discovery",
            http.get(app.url("/.well-known/openid-configuration"))
                .send()
                .await
                .unwrap(),
        ),
        ("jwks", http.get(app.url("/jwks")).send().await.unwrap()),
        (
            "token error",
            http.post(app.url("/token"))
                .form(&[("grant_type", "authorization_code")])
                .send()
                .await
                .unwrap(),
        ),
        (
            "userinfo error",
            http.get(app.url("/userinfo")).send().await.unwrap(),
        ),
        (
            "introspection error",
            http.post(app.url("/introspect"))
                .form(&[("token", "x")])
                .send()
                .await
                .unwrap(),
        ),
    ] {
        assert_security_headers(what, &response);
        // (A userinfo request without a token gets a bare 401, RFC 6750 §3.1.)
        let content_type = response
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned());
        assert!(
            content_type.is_none_or(|t| t.contains("json")),
            "{what} is not HTML"
        );
    }
}

async fn stylesheet_and_not_found(backend: Backend) {
    let (app, _) = setup(backend).await;
    let b = browser();
    let css = b.get(app.url("/static/style.css")).send().await.unwrap();
    assert_eq!(css.status(), 200);
    assert!(css.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/css"));
    assert_security_headers("stylesheet", &css);
    assert!(css.text().await.unwrap().contains('{'), "a stylesheet");
    let missing = b.get(app.url("/no/such/page")).send().await.unwrap();
    assert_error_page(missing, 404, "Страница не найдена").await;
    let missing_en = b
        .get(app.url("/static/nope.css?lang=en"))
        .send()
        .await
        .unwrap();
    assert_error_page(missing_en, 404, "Page not found").await;
}

both_backends!(
    languages,
    security_headers_everywhere,
    stylesheet_and_not_found,
);
