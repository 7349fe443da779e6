//! The Rutoken plugin's demo stand-in without a browser: it exists only with `IDP_DEMO_TOKEN`
//! (404 otherwise), its devices and certificates carry the demo registry's persons, wrong
//! PINs count down to PIN_LOCKED, signing needs a login, and its CMS signs a person in
//! through `/api/esig/*` exactly as a real token's would (the Rust side of the flow that
//! `browser_rutoken.rs` clicks through).

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use reqwest::StatusCode;
use salyk_idp::demo::token::{DEMO_PIN, DEVICE_LABEL};
use serde_json::{json, Value};

use crate::harness::*;
use crate::rp::{self, INN};

async fn call(app: &TestApp, name: &str, body: Value) -> (StatusCode, Value) {
    let response = rp::http()
        .post(app.url(&format!("/demo/rutoken/{name}")))
        .json(&body)
        .send()
        .await
        .expect("stand-in call");
    let status = response.status();
    let text = response.text().await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// A `data-…="…"` attribute of a page.
pub fn data_attr(page: &str, name: &str) -> String {
    let needle = format!("{name}=\"");
    let start = page
        .find(&needle)
        .unwrap_or_else(|| panic!("no {name} in page:\n{page}"))
        + needle.len();
    page[start..]
        .split('"')
        .next()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn standin_is_absent_without_the_flag() {
    let app = TestApp::spawn(Backend::Embedded).await;
    let http = rp::http();
    let script = http
        .get(app.url("/static/rutoken-standin.js"))
        .send()
        .await
        .expect("script");
    assert_eq!(script.status(), StatusCode::NOT_FOUND);
    let (status, _) = call(&app, "devices", json!({})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = call(&app, "login", json!({"device": 0, "pin": DEMO_PIN})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // The page script itself is always there.
    let esig = http
        .get(app.url("/static/esig.js"))
        .send()
        .await
        .expect("esig.js");
    assert_eq!(esig.status(), StatusCode::OK);
    assert!(esig.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/javascript"));
    // Aktiv's adapter for the real plugin is always there too.
    let adapter = http
        .get(app.url("/static/rutoken.js"))
        .send()
        .await
        .expect("adapter");
    assert_eq!(adapter.status(), StatusCode::OK);
    assert!(adapter.text().await.unwrap().starts_with("var rutoken="));
    // The «ЭП» registration tab renders with the adapter, without the stand-in or its notice.
    let page = get_text(&app, &browser(), "/register?tab=signature").await;
    assert!(page.contains("id=\"esig-form\""), "{page}");
    let adapter = page.find("/static/rutoken.js").expect("the adapter");
    assert!(adapter < page.find("/static/esig.js").expect("the page script"));
    assert!(!page.contains("rutoken-standin.js") && !page.contains("esig-demo-notice"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn standin_devices_certificates_and_pages() {
    let app = TestApp::spawn_with_demo_token(Backend::Embedded).await;
    let script = rp::http()
        .get(app.url("/static/rutoken-standin.js"))
        .send()
        .await
        .expect("script");
    assert_eq!(script.status(), StatusCode::OK);
    assert!(script.text().await.unwrap().contains("window.rutoken"));

    let (status, devices) = call(&app, "devices", json!({})).await;
    assert_eq!(status, StatusCode::OK, "{devices}");
    assert_eq!(devices["result"], json!([0, 1, 2, 3]));
    let (_, label) = call(&app, "device-info", json!({"device": 0, "info": "label"})).await;
    let label = label["result"].as_str().expect("label").to_owned();
    assert!(label.starts_with(DEVICE_LABEL), "{label}");
    let (status, missing) = call(&app, "device-info", json!({"device": 9, "info": "label"})).await;
    assert_eq!(
        (status, missing["error"].as_str()),
        (StatusCode::NOT_FOUND, Some("DEVICE_NOT_FOUND"))
    );

    let (_, handles) = call(
        &app,
        "certificates",
        json!({"device": 0, "category": "user"}),
    )
    .await;
    let handles: Vec<String> = serde_json::from_value(handles["result"].clone()).expect("handles");
    assert_eq!(handles.len(), 2);
    let (_, ca) = call(&app, "certificates", json!({"device": 0, "category": "ca"})).await;
    assert_eq!(ca["result"], json!([]));
    let mut subjects = Vec::new();
    for handle in &handles {
        let (status, parsed) = call(
            &app,
            "parse-certificate",
            json!({"device": 0, "certificate": handle}),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{parsed}");
        let parsed = &parsed["result"];
        assert!(
            parsed["validNotAfter"].as_str().unwrap().ends_with(".000Z"),
            "{parsed}"
        );
        let rdns: Vec<(String, String)> = parsed["subject"]
            .as_array()
            .expect("subject")
            .iter()
            .map(|e| {
                (
                    e["rdn"].as_str().unwrap().to_owned(),
                    e["value"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        assert!(
            rdns.contains(&("serialNumber".into(), INN.into())),
            "{rdns:?}"
        );
        assert!(
            rdns.contains(&("commonName".into(), "Демонов Азамат Бекович".into())),
            "{rdns:?}"
        );
        subjects.push(rdns);
    }
    // The second certificate is ОсОО «ДЕМО Импорт Трейд»'s, with its INN and name.
    let org = &subjects[1];
    assert!(
        org.iter().any(
            |(rdn, v)| (rdn == "organizationIdentifier" || rdn == "2.5.4.97")
                && v == "01503201699001"
        ),
        "{org:?}"
    );
    assert!(
        org.contains(&("organizationName".into(), "ОсОО «ДЕМО Импорт Трейд»".into())),
        "{org:?}"
    );
    let (_, pem) = call(
        &app,
        "certificate",
        json!({"device": 0, "certificate": handles[0]}),
    )
    .await;
    assert!(pem["result"]
        .as_str()
        .unwrap()
        .starts_with("-----BEGIN CERTIFICATE-----"));

    // Both «ЭП» tabs load the stand-in before the page script and say it is a demo.
    let b = browser();
    let page = get_text(&app, &b, "/register?tab=signature").await;
    for needle in [
        "data-purpose=\"register\"",
        "Я филиал",
        "ИНН организации",
        "Зарегистрироваться",
        "Выберите рутокен",
        "Выберите сертификат",
        "id=\"esig-demo-notice\"",
    ] {
        assert!(page.contains(needle), "{needle} not on\n{page}");
    }
    let standin = page
        .find("/static/rutoken-standin.js")
        .expect("stand-in script");
    assert!(standin < page.find("/static/esig.js").expect("page script"));
    assert!(
        !page.contains("/static/rutoken.js"),
        "no real adapter beside the stand-in"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_pins_count_down_and_lock() {
    let app = TestApp::spawn_with_demo_token(Backend::Embedded).await;
    for left in [2, 1] {
        let (status, answer) = call(&app, "login", json!({"device": 1, "pin": "00000000"})).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert_eq!(
            answer,
            json!({"error": "PIN_INCORRECT", "retries_left": left})
        );
        let (_, pins) = call(&app, "device-info", json!({"device": 1, "info": "pins"})).await;
        assert_eq!(pins["result"]["retriesLeft"], json!(left));
    }
    let (_, answer) = call(&app, "login", json!({"device": 1, "pin": "00000000"})).await;
    assert_eq!(answer["error"], "PIN_LOCKED");
    // Locked: even the right PIN is refused.
    let (status, answer) = call(&app, "login", json!({"device": 1, "pin": DEMO_PIN})).await;
    assert_eq!(
        (status, answer["error"].as_str()),
        (StatusCode::FORBIDDEN, Some("PIN_LOCKED"))
    );
    let (_, pins) = call(&app, "device-info", json!({"device": 1, "info": "pins"})).await;
    assert_eq!(pins["result"]["retriesLeft"], json!(0));

    // Another device: a wrong PIN, then the right one restores the counter.
    let (_, answer) = call(&app, "login", json!({"device": 0, "pin": "1"})).await;
    assert_eq!(answer["retries_left"], json!(2));
    let (status, login) = call(&app, "login", json!({"device": 0, "pin": DEMO_PIN})).await;
    assert_eq!(status, StatusCode::OK, "{login}");
    let session = login["result"]["session"]
        .as_str()
        .expect("session")
        .to_owned();
    let (_, pins) = call(&app, "device-info", json!({"device": 0, "info": "pins"})).await;
    assert_eq!(pins["result"]["retriesLeft"], json!(3));

    // Signing needs the session of that device; after logout it is gone.
    let (_, handles) = call(
        &app,
        "certificates",
        json!({"device": 0, "category": "user"}),
    )
    .await;
    let handle = handles["result"][0].as_str().unwrap().to_owned();
    let sign = |session: &str| json!({"device": 0, "session": session, "certificate": handle, "data": "проверка", "detached": false, "add_user_certificate": true});
    let (status, answer) = call(&app, "sign", sign("not-a-session")).await;
    assert_eq!(
        (status, answer["error"].as_str()),
        (StatusCode::FORBIDDEN, Some("USER_NOT_LOGGED_IN"))
    );
    let (status, answer) = call(&app, "sign", sign(&session)).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let cms = STANDARD
        .decode(answer["result"].as_str().unwrap())
        .expect("base64 CMS");
    assert_eq!(cms[0], 0x30, "DER");
    call(&app, "logout", json!({"device": 0, "session": session})).await;
    let (_, answer) = call(&app, "sign", sign(&session)).await;
    assert_eq!(answer["error"], "USER_NOT_LOGGED_IN");
}

/// The sign-in of `browser_rutoken.rs` without a browser: the demo token's certificate signs
/// the challenge and `/api/esig/signin` lets Демонов Азамат in.
async fn signs_in_through_the_api(backend: Backend) {
    let (app, _user) = rp::app_with_user_and(backend, |c| c.demo_token = true).await;
    let token = app.demo_token().await;
    let client = rp::register(&app, ClientSpec::default()).await;
    let b = browser();
    let pair = rp::pkce();
    let authorize = b
        .get(rp::authorize_url(
            &app,
            &client.id,
            "openid profile",
            Some(&pair.challenge),
        ))
        .send()
        .await
        .expect("authorize");
    let login = location(&authorize);
    assert!(login.starts_with("/login?"), "{login}");
    let page = get_text(&app, &b, &format!("{login}&method=rutoken")).await;
    assert!(
        page.contains("id=\"esig-form\"") && page.contains("data-purpose=\"signin\""),
        "{page}"
    );
    assert!(
        page.contains("&#38;method=rutoken&#38;lang=ky"),
        "the language switch keeps the tab:\n{page}"
    );
    let csrf = data_attr(&page, "data-csrf");
    let req = data_attr(&page, "data-req");

    let post = |path: &str, body: Value| {
        b.post(app.url(path))
            .header("X-CSRF-Token", csrf.as_str())
            .json(&body)
            .send()
    };
    let issued: Value = post(
        "/api/esig/challenge",
        json!({"purpose": "signin", "req": req}),
    )
    .await
    .expect("challenge")
    .json()
    .await
    .expect("challenge JSON");
    let challenge = issued["challenge"]
        .as_str()
        .expect("challenge text")
        .to_owned();
    let cms = token
        .find(INN, None)
        .expect("Азамат's personal certificate")
        .sign(challenge.as_bytes())
        .expect("sign");
    let answer = post(
        "/api/esig/signin",
        json!({"req": req, "challenge": challenge, "cms": STANDARD.encode(cms)}),
    )
    .await
    .expect("signin");
    let status = answer.status();
    let answer: Value = answer.json().await.expect("signin JSON");
    assert_eq!(status, StatusCode::OK, "{answer}");
    let mut next = answer["redirect"].as_str().expect("redirect").to_owned();
    // On to the client, through the account choice if it is shown.
    for _ in 0..5 {
        if next.starts_with(REDIRECT_URI) {
            break;
        }
        let url = if next.starts_with('/') {
            app.url(&next)
        } else {
            next.clone()
        };
        let response = b.get(url).send().await.expect("hop");
        if response.status().is_redirection() {
            next = location(&response);
            continue;
        }
        let page = response.text().await.expect("page");
        let account = radio_values(&page)
            .into_iter()
            .next()
            .expect("an account choice");
        let chosen = b
            .post(app.url("/login/account"))
            .form(&[
                ("csrf", hidden(&page, "csrf").as_str()),
                ("req", hidden(&page, "req").as_str()),
                ("account", account.as_str()),
                ("action", "allow"),
            ])
            .send()
            .await
            .expect("account");
        next = location(&chosen);
    }
    assert!(next.starts_with(REDIRECT_URI), "ended at {next}");
    let code = url::Url::parse(&next)
        .expect("url")
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .expect("a code");
    let tokens = rp::redeem(&app, &client, &code, Some(&pair.verifier)).await;
    let id_token = tokens.ok()["id_token"]
        .as_str()
        .expect("id_token")
        .to_owned();
    let claims = rp::jwt_claims(&id_token);
    assert!(claims["amr"].to_string().len() > 2, "{claims}");
}

both_backends!(signs_in_through_the_api);
