//! `/authorize` request checking, against the specs rather than the code: RFC 6749 §4.1.1
//! and §4.1.2.1 (which errors are a page, never a redirect, and which go back to the
//! client, with `state` and — RFC 9207 — `iss`), RFC 9700 §4.1.3 (exact redirect URI
//! match), RFC 7636 (S256 only), OIDC Core §3.1.2.1 (prompt, max_age, id_token_hint,
//! request objects), repeated parameters, and POST /authorize.

use base64::Engine;

use crate::authz_support::*;
use crate::harness::*;

async fn setup(backend: Backend) -> (TestApp, Rp) {
    let app = TestApp::spawn(backend).await;
    app.user(LOGIN, INN, NAME, PASSWORD).await;
    let client = rp(&app, ClientSpec::default()).await;
    (app, client)
}

async fn rp_with(app: &TestApp, spec: ClientSpec) -> String {
    app.client(spec).await.0
}

// ---- Errors that must be a page: the client or its redirect URI is not trusted ----

async fn untrusted_client_gets_a_page(backend: Backend) {
    let (app, rp) = setup(backend).await;
    let b = browser();
    let unknown = b
        .get(Authz::new("no-such-client").url(&app))
        .send()
        .await
        .unwrap();
    assert_error_page(unknown, 400, "Неизвестный сервис (client_id)").await;
    let missing = b
        .get(Authz::new(&rp.id).without("client_id").url(&app))
        .send()
        .await
        .unwrap();
    assert_error_page(missing, 400, "Неизвестный сервис (client_id)").await;
    let empty = b
        .get(Authz::new(&rp.id).set("client_id", "").url(&app))
        .send()
        .await
        .unwrap();
    assert_error_page(empty, 400, "Неизвестный сервис (client_id)").await;
    // A repeated client_id is ambiguous, so the client is not verified.
    let repeated = b
        .get(Authz::new(&rp.id).again("client_id", &rp.id).url(&app))
        .send()
        .await
        .unwrap();
    assert_error_page(repeated, 400, "Некорректный запрос").await;
    // Even with other errors present, nothing is redirected for an unknown client.
    let worse = b
        .get(
            Authz::new("no-such-client")
                .set("response_type", "token")
                .url(&app),
        )
        .send()
        .await
        .unwrap();
    assert_error_page(worse, 400, "Неизвестный сервис").await;
    app.state
        .store
        .set_client_disabled(&rp.id, true)
        .await
        .unwrap();
    let disabled = b.get(Authz::new(&rp.id).url(&app)).send().await.unwrap();
    assert_error_page(disabled, 400, "Неизвестный сервис (client_id)").await;
}

async fn untrusted_redirect_uri_gets_a_page(backend: Backend) {
    let (app, rp) = setup(backend).await;
    let b = browser();
    let missing = b
        .get(Authz::new(&rp.id).without("redirect_uri").url(&app))
        .send()
        .await
        .unwrap();
    assert_error_page(missing, 400, "Недопустимый адрес возврата (redirect_uri)").await;
    // RFC 9700 §4.1.3: exact string matching, no normalisation of any kind.
    for near_miss in [
        "http://evil.example/callback",
        "http://127.0.0.1:9/callback/",
        "http://127.0.0.1:9/callback?x=1",
        "http://127.0.0.1:9/callback#f",
        "http://127.0.0.1:9/Callback",
        "HTTP://127.0.0.1:9/callback",
        "http://127.0.0.1:9/callback/../callback",
    ] {
        let response = b
            .get(
                Authz::new(&rp.id)
                    .set("redirect_uri", near_miss)
                    .set("response_type", "token")
                    .url(&app),
            )
            .send()
            .await
            .unwrap();
        assert_error_page(response, 400, "Недопустимый адрес возврата (redirect_uri)").await;
    }
    let repeated = b
        .get(
            Authz::new(&rp.id)
                .again("redirect_uri", REDIRECT_URI)
                .url(&app),
        )
        .send()
        .await
        .unwrap();
    assert_error_page(repeated, 400, "Недопустимый адрес возврата (redirect_uri)").await;
}

// ---- Errors sent back to the verified redirect URI ----

async fn response_type_errors_go_to_the_client(backend: Backend) {
    let (app, rp) = setup(backend).await;
    let b = browser();
    // A missing required parameter is invalid_request (RFC 6749 §4.1.2.1).
    let missing = b
        .get(Authz::new(&rp.id).without("response_type").url(&app))
        .send()
        .await
        .unwrap();
    assert_client_error(&app, &missing, "invalid_request");
    for other in [
        "token",
        "id_token",
        "code id_token",
        "code token",
        "id_token token",
        "none",
    ] {
        let response = b
            .get(Authz::new(&rp.id).set("response_type", other).url(&app))
            .send()
            .await
            .unwrap();
        let params = assert_client_error(&app, &response, "unsupported_response_type");
        assert!(params.contains_key("error_description"));
    }
    let no_code_grant = rp_with(
        &app,
        ClientSpec {
            grants: Some(vec!["client_credentials".into()]),
            ..Default::default()
        },
    )
    .await;
    let response = b
        .get(Authz::new(&no_code_grant).url(&app))
        .send()
        .await
        .unwrap();
    assert_client_error(&app, &response, "unauthorized_client");
}

async fn scope_errors_go_to_the_client(backend: Backend) {
    let (app, rp) = setup(backend).await;
    let b = browser();
    for scope in [
        None,
        Some("profile"),
        Some("openid admin"),
        Some("openid profile email"),
    ] {
        let request = match scope {
            Some(s) => Authz::new(&rp.id).set("scope", s),
            None => Authz::new(&rp.id).without("scope"),
        };
        let response = b.get(request.url(&app)).send().await.unwrap();
        assert_client_error(&app, &response, "invalid_scope");
    }
    let narrow = rp_with(
        &app,
        ClientSpec {
            scopes: Some(vec!["openid".into()]),
            ..Default::default()
        },
    )
    .await;
    let response = b
        .get(
            Authz::new(&narrow)
                .set("scope", "openid offline_access")
                .url(&app),
        )
        .send()
        .await
        .unwrap();
    assert_client_error(&app, &response, "invalid_scope");
    // The allowed scopes are accepted: the user is sent to sign in.
    let ok = b
        .get(
            Authz::new(&rp.id)
                .set("scope", "openid profile offline_access")
                .url(&app),
        )
        .send()
        .await
        .unwrap();
    assert!(
        location(&ok).starts_with("/login?"),
        "got {}",
        location(&ok)
    );
}

async fn pkce_rules(backend: Backend) {
    let (app, confidential) = setup(backend).await;
    let public = rp_with(
        &app,
        ClientSpec {
            auth_method: Some(salyk_idp::store::ClientAuthMethod::None),
            ..Default::default()
        },
    )
    .await;
    let b = browser();
    let challenge = s256(VERIFIER);
    let cases = [
        (
            "public client without PKCE",
            Authz::new(&public)
                .without("code_challenge")
                .without("code_challenge_method"),
        ),
        (
            "plain",
            Authz::new(&public)
                .set("code_challenge", VERIFIER)
                .set("code_challenge_method", "plain"),
        ),
        (
            "plain (confidential)",
            Authz::new(&confidential.id)
                .set("code_challenge", VERIFIER)
                .set("code_challenge_method", "plain"),
        ),
        (
            "no method means plain (RFC 7636 §4.3)",
            Authz::new(&public).without("code_challenge_method"),
        ),
        (
            "unknown method",
            Authz::new(&public).set("code_challenge_method", "S512"),
        ),
        (
            "method without challenge",
            Authz::new(&confidential.id).without("code_challenge"),
        ),
        (
            "too short",
            Authz::new(&public).set("code_challenge", &challenge[..42]),
        ),
        (
            "too long",
            Authz::new(&public).set("code_challenge", &format!("{challenge}A")),
        ),
        (
            "not base64url",
            Authz::new(&public).set("code_challenge", &format!("{}+", &challenge[..42])),
        ),
        (
            "padded",
            Authz::new(&public).set("code_challenge", &format!("{}=", &challenge[..42])),
        ),
    ];
    for (what, request) in cases {
        let response = b.get(request.url(&app)).send().await.unwrap();
        let params = assert_to_client(&app, &response);
        assert_eq!(
            params.get("error").map(String::as_str),
            Some("invalid_request"),
            "{what}: {params:?}"
        );
    }
    // PKCE is accepted but optional for a confidential client; S256 is accepted for both.
    for request in [
        Authz::new(&confidential.id)
            .without("code_challenge")
            .without("code_challenge_method"),
        Authz::new(&public),
    ] {
        let response = b.get(request.url(&app)).send().await.unwrap();
        assert!(
            location(&response).starts_with("/login?"),
            "got {}",
            location(&response)
        );
    }
}

async fn repeated_parameters_are_invalid_request(backend: Backend) {
    let (app, rp) = setup(backend).await;
    let b = browser();
    // RFC 6749 §3.1 / §4.1.2.1: once client and redirect URI are verified, a repeated
    // parameter is an invalid_request sent to the client.
    for (name, value) in [
        ("scope", "openid"),
        ("response_type", "code"),
        ("nonce", "n2"),
        ("code_challenge", s256("other").as_str()),
        ("prompt", "login"),
        ("max_age", "5"),
    ] {
        let response = b
            .get(
                Authz::new(&rp.id)
                    .set(name, value)
                    .again(name, value)
                    .url(&app),
            )
            .send()
            .await
            .unwrap();
        let params = assert_client_error(&app, &response, "invalid_request");
        assert!(
            params["error_description"].contains(name),
            "the description names {name}: {params:?}"
        );
    }
    // A repeated state cannot be echoed faithfully, but the error still goes to the client.
    let response = b
        .get(Authz::new(&rp.id).again("state", "other").url(&app))
        .send()
        .await
        .unwrap();
    assert!(
        location(&response).starts_with(&format!("{REDIRECT_URI}?")),
        "got {}",
        location(&response)
    );
    assert_eq!(location_params(&response)["error"], "invalid_request");
    assert_eq!(location_params(&response)["iss"], app.base);
    // The same rules hold for a POSTed request.
    let response = b
        .post(app.url("/authorize"))
        .body(Authz::new(&rp.id).again("scope", "openid").query())
        .header("content-type", "application/x-www-form-urlencoded")
        .send()
        .await
        .unwrap();
    assert_client_error(&app, &response, "invalid_request");
}

async fn oidc_parameter_errors(backend: Backend) {
    let (app, rp) = setup(backend).await;
    let b = browser();
    let cases = [
        (
            Authz::new(&rp.id).set("prompt", "none login"),
            "invalid_request",
        ),
        (
            Authz::new(&rp.id).set("prompt", "login none"),
            "invalid_request",
        ),
        (Authz::new(&rp.id).set("prompt", "bogus"), "invalid_request"),
        (Authz::new(&rp.id).set("max_age", "-1"), "invalid_request"),
        (Authz::new(&rp.id).set("max_age", "ten"), "invalid_request"),
        (Authz::new(&rp.id).set("max_age", "1.5"), "invalid_request"),
        (
            Authz::new(&rp.id).set("request", "eyJhbGciOiJub25lIn0.e30."),
            "request_not_supported",
        ),
        (
            Authz::new(&rp.id).set("request_uri", "https://rp.example/req.jwt"),
            "request_uri_not_supported",
        ),
        (
            Authz::new(&rp.id).set("id_token_hint", "not.a.token"),
            "invalid_request",
        ),
        (
            Authz::new(&rp.id).set("response_mode", "fragment"),
            "invalid_request",
        ),
    ];
    for (request, error) in cases {
        let response = b.get(request.url(&app)).send().await.unwrap();
        let params = assert_to_client(&app, &response);
        assert_eq!(
            params.get("error").map(String::as_str),
            Some(error),
            "{}: {params:?}",
            request.query()
        );
    }
    // An ID token signed by someone else (here: unsigned) is not a hint from this provider.
    let forged = format!(
        "{}.{}.",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#),
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!(
            r#"{{"iss":"{}","sub":"x","aud":"{}"}}"#,
            app.base, rp.id
        ))
    );
    let response = b
        .get(Authz::new(&rp.id).set("id_token_hint", &forged).url(&app))
        .send()
        .await
        .unwrap();
    assert_client_error(&app, &response, "invalid_request");
}

async fn post_works_like_get(backend: Backend) {
    let (app, rp) = setup(backend).await;
    let b = browser();
    let form = |authz: &Authz| {
        b.post(app.url("/authorize"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(authz.query())
    };
    let response = form(&Authz::new(&rp.id)).send().await.unwrap();
    assert_eq!(response.status(), 303);
    let next = location(&response);
    assert!(next.starts_with("/login?req="), "got {next}");
    let page = b.get(app.url(&next)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let error = form(&Authz::new(&rp.id).set("response_type", "token"))
        .send()
        .await
        .unwrap();
    assert_client_error(&app, &error, "unsupported_response_type");
    let unknown = form(&Authz::new("no-such-client")).send().await.unwrap();
    assert_error_page(unknown, 400, "Неизвестный сервис (client_id)").await;
    // A whole sign-in started by POST completes with a code.
    let back = sign_in(
        &app,
        &b,
        &Authz::new(&rp.id).url(&app),
        LOGIN,
        PASSWORD,
        None,
    )
    .await;
    let code = assert_to_client(&app, &back)["code"].clone();
    assert_eq!(redeem(&app, &rp, &code, VERIFIER).await.status(), 200);
}

both_backends!(
    untrusted_client_gets_a_page,
    untrusted_redirect_uri_gets_a_page,
    response_type_errors_go_to_the_client,
    scope_errors_go_to_the_client,
    pkce_rules,
    repeated_parameters_are_invalid_request,
    oidc_parameter_errors,
    post_works_like_get,
);
